"""Model interpretation: which pixels a prediction rests on, and small changes that overturn it.

    saliency(model, images)                  |d score / d pixel|: one map per image
    grad_cam(model, model[3], images)        where a convolution layer found evidence for the class
    occlusion(model, images, window=4)       how much the probability falls when a patch is covered
    fgsm(model, images, labels, epsilon)     adversarial examples x + ε·sign(dL/dx)
    plot_maps(images, {"saliency": s})       the maps laid over their images
    plot_filters(model[0].weight)            the first layer's kernels

Everything goes through the public API: gradients with respect to the input come from
tinygrad_edu.autograd.grad (no parameter's .grad changes), a layer's activations from a forward
hook that is removed again, and the model is put in eval mode for the computation and then given
back its own train/eval state. The maps are NumPy arrays of shape (N, H, W).

A model here is an nn.Module (or any function) from images (N, C, H, W) to scores (N, classes):
the logits, before the softmax. The target class of each image is `target` (an int for all of
them, or one per image), or the class the model predicts when target is None.
"""
from __future__ import annotations

import contextlib
import math
from typing import Any, Iterator, Sequence

import numpy as np

from tinygrad_edu import Tensor, autograd, enable_grad, no_grad
import tinygrad_edu.nn.functional as F

from .plots.common import _pyplot, _to_numpy

__all__ = ["saliency", "grad_cam", "occlusion", "fgsm", "plot_maps", "plot_filters"]


# ----------------------------------------------------------------------------- shared checks

def _images(images: Any, op: str) -> Tensor:
    """The images as a floating Tensor of shape (N, C, H, W), cut off from any graph."""
    if isinstance(images, Tensor):
        images = images.detach()
    else:
        images = Tensor(np.asarray(images))
    if images.ndim != 4:
        hint = " (one image: add the batch axis with images[None])" if images.ndim == 3 else ""
        raise ValueError(f"{op}: images must have shape (N, C, H, W), got {images.shape}{hint}")
    if images.dtype.kind != "f":
        raise TypeError(f"{op}: images must be floating point, got {images.dtype}; "
                        "convert them with .astype(np.float32)")
    return images


def _scores(model: Any, x: Tensor, op: str) -> Tensor:
    """model(x), checked to be one row of class scores per image."""
    scores = model(x)
    if not isinstance(scores, Tensor) or scores.ndim != 2 or scores.shape[0] != x.shape[0]:
        shape = getattr(scores, "shape", type(scores).__name__)
        raise ValueError(f"{op}: the model must return scores of shape (N, classes) = ({x.shape[0]}, ...) "
                         f"for images {x.shape}, got {shape}")
    return scores


def _targets(target: Any, scores: Tensor, op: str, what: str = "target") -> np.ndarray:
    """One class index per image: the predicted class when target is None, else target
    (an int for every image, or a sequence of N ints), checked to lie in [0, classes)."""
    n, classes = scores.shape
    if target is None:
        return scores.detach().argmax(axis=1).numpy().astype(np.int64)
    values = _to_numpy(target)
    if values.dtype.kind not in "iu" or values.ndim > 1:
        raise TypeError(f"{op}: {what} must be an int or a sequence of N ints, got {values.dtype} "
                        f"of shape {values.shape}")
    values = np.broadcast_to(values.astype(np.int64), (n,)) if values.ndim == 0 else values.astype(np.int64)
    if values.shape != (n,):
        raise ValueError(f"{op}: {what} has {values.shape[0]} entries for {n} images; give one per image "
                         "(or a single int for all)")
    bad = values[(values < 0) | (values >= classes)]
    if bad.size:
        raise IndexError(f"{op}: {what} {int(bad[0])} is out of range: the model has {classes} classes, "
                         f"so a {what} lies in [0, {classes - 1}]")
    return values


def _one_hot(classes: np.ndarray, scores: Tensor) -> Tensor:
    """e_target for each row, shaped like scores: the grad_outputs that pick score[n, target_n]."""
    hot = np.zeros(scores.shape, dtype=scores.dtype)
    hot[np.arange(len(classes)), classes] = 1.0
    return Tensor(hot, device=scores.device)


@contextlib.contextmanager
def _evaluating(model: Any) -> Iterator[None]:
    """Eval mode while the maps are computed (Dropout off, BatchNorm's running statistics),
    then every sub-module gets back the train/eval state it had."""
    if not hasattr(model, "modules"):          # a plain function has no mode
        yield
        return
    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for module, training in modes:         # parents first, so each module's own call wins
            module.train(training)


# ----------------------------------------------------------------------------- gradient maps

def saliency(model: Any, images: Any, target: Any = None) -> np.ndarray:
    """The saliency map of Simonyan et al. (2014): how strongly each pixel moves the score.

        S[n, i, j] = max over channels c of | d s_t(x_n) / d x[n, c, i, j] |

    where s_t is the score (logit) of the target class t. The gradient is one vector-Jacobian
    product: autograd.grad(scores, x, grad_outputs=e_t) with e_t the one-hot row of each target,
    which gives every image its own d s_t / dx at once (the images do not interact in eval mode).
    No .grad is written. Returns a NumPy array (N, H, W).
    """
    op = "saliency"
    x = _images(images, op).requires_grad_()
    with _evaluating(model), enable_grad():
        scores = _scores(model, x, op)
        classes = _targets(target, scores, op)
        (dx,) = autograd.grad(scores, x, grad_outputs=_one_hot(classes, scores))
    return np.abs(dx.numpy()).max(axis=1)


def _is_submodule(model: Any, layer: Any) -> bool:
    return hasattr(model, "modules") and any(module is layer for module in model.modules())


def grad_cam(model: Any, layer: Any, images: Any, target: Any = None) -> np.ndarray:
    """Grad-CAM (Selvaraju et al., 2017): where the feature maps of `layer` hold evidence for the class.

    A forward hook on `layer` keeps its output A of shape (N, K, h, w); autograd.grad gives
    dS/dA for the target score S = s_t. Then, per image,

        α_k = mean over (i, j) of dS/dA_k[i, j]          (how much map k matters for the class)
        cam = ReLU( Σ_k α_k · A_k )                       (the maps, weighted; only positive evidence)

    upsampled bilinearly to the image size (F.interpolate) and divided by its maximum, so that it
    lies in [0, 1] (a map without any positive evidence stays 0). The hook is removed afterwards,
    also after an error. `layer` must be a sub-module of `model` whose output is (N, K, h, w),
    typically the last convolution (or its ReLU). Returns a NumPy array (N, H, W).
    """
    op = "grad_cam"
    if not _is_submodule(model, layer):
        names = [name for name, _ in model.named_modules() if name] if hasattr(model, "named_modules") else []
        raise ValueError(f"{op}: the layer {type(layer).__name__} is not a sub-module of the model; pass one of "
                         f"the model's own layers, e.g. model[3] (its sub-modules: {names})")
    x = _images(images, op).requires_grad_()
    kept = []
    handle = layer.register_forward_hook(lambda module, args, output: kept.append(output))
    with handle, _evaluating(model), enable_grad():          # the hook goes when the block ends
        scores = _scores(model, x, op)
        classes = _targets(target, scores, op)
        if not kept:
            raise RuntimeError(f"{op}: the layer {type(layer).__name__} was not called in the model's forward pass")
        activations = kept[-1]
        if not isinstance(activations, Tensor) or activations.ndim != 4:
            raise ValueError(f"{op}: the layer's output must be feature maps (N, K, h, w), got "
                             f"{getattr(activations, 'shape', type(activations).__name__)}; choose a "
                             "convolution layer (or the activation after it)")
        (grads,) = autograd.grad(scores, activations, grad_outputs=_one_hot(classes, scores))
    weights = grads.mean(axis=(2, 3), keepdims=True)                         # α: (N, K, 1, 1)
    cam = (weights * activations.detach()).sum(axis=1, keepdims=True).relu()  # (N, 1, h, w)
    cam = F.interpolate(cam, size=tuple(x.shape[2:]), mode="bilinear", align_corners=False).numpy()[:, 0]
    peak = cam.max(axis=(1, 2), keepdims=True)
    return np.divide(cam, peak, out=np.zeros_like(cam), where=peak > 0)


# ----------------------------------------------------------------------------- occlusion

def _window_starts(size: int, window: int, stride: int) -> list[int]:
    """Where a window starts along one axis: every stride, plus the last place it fits, so
    that every pixel is covered at least once."""
    starts = list(range(0, size - window + 1, stride))
    if starts[-1] != size - window:
        starts.append(size - window)
    return starts


def _pair(value: Any, name: str, op: str) -> tuple[int, int]:
    pair = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1
                                 for v in pair):
        raise ValueError(f"{op}: {name} must be a positive int or a pair of them, got {value!r}")
    return int(pair[0]), int(pair[1])


def occlusion(model: Any, images: Any, target: Any = None, window: Any = 4, stride: Any = 2,
              baseline: float = 0.0, batch_size: int = 512) -> np.ndarray:
    """Occlusion sensitivity (Zeiler & Fergus, 2014): cover a patch, see how much the class suffers.

    For each position of a window × window patch (every `stride` pixels, and the last place it
    fits, so every pixel is covered), the patch of every channel is set to `baseline` and

        drop = p_t(x) - p_t(x with the patch covered),      p = softmax(model(x))

    is computed for the target class t. A pixel's value in the map is the mean drop over the
    windows that cover it: large where the evidence for the class lies, negative where covering
    helps the class. The covered copies of all images go through the model in batches of
    `batch_size` under no_grad (one forward pass per batch, not per window or pixel), made one
    batch at a time so that memory stays small. Returns a NumPy array (N, H, W).
    """
    op = "occlusion"
    x = _images(images, op)
    n, _, height, width = x.shape
    (wh, ww), (sh, sw) = _pair(window, "window", op), _pair(stride, "stride", op)
    if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"{op}: batch_size must be a positive int, got {batch_size!r}")
    if wh > height or ww > width:
        raise ValueError(f"{op}: the window {(wh, ww)} is larger than the images {(height, width)}")
    pixels = x.numpy()
    with _evaluating(model), no_grad():
        scores = _scores(model, x, op)
        classes = _targets(target, scores, op)
        rows = np.arange(n)
        p_clean = scores.softmax(axis=1).numpy()[rows, classes]
        patches = [(i, j) for i in _window_starts(height, wh, sh) for j in _window_starts(width, ww, sw)]
        probs = []                              # copy k: image k % n with patch k // n covered
        for start in range(0, len(patches) * n, batch_size):
            copies = np.arange(start, min(start + batch_size, len(patches) * n))
            batch = pixels[copies % n]                  # fancy indexing: already a copy
            for row, k in enumerate(copies):
                i, j = patches[k // n]
                batch[row, :, i:i + wh, j:j + ww] = baseline
            probs.append(_scores(model, Tensor(batch, device=x.device), op).softmax(axis=1).numpy())
    probs = np.concatenate(probs).reshape(len(patches), n, -1)[:, rows, classes]   # (P, N)
    total = np.zeros((n, height, width))
    count = np.zeros((height, width))
    for p, (i, j) in enumerate(patches):
        total[:, i:i + wh, j:j + ww] += (p_clean - probs[p])[:, None, None]
        count[i:i + wh, j:j + ww] += 1
    return (total / count).astype(pixels.dtype)


# ----------------------------------------------------------------------------- adversarial examples

def fgsm(model: Any, images: Any, labels: Any, epsilon: float,
         data_range: tuple[float, float] | None = None) -> Tensor:
    """The fast gradient sign method (Goodfellow et al., 2015): an adversarial example in one step.

        x_adv = x + ε · sign(dL/dx),      L = Σ_n cross_entropy(model(x_n), label_n)

    Each pixel moves by exactly ε in the direction that increases the loss of the true label
    (the sum over the batch gives each image the gradient of its own loss). With data_range =
    (low, high) the result is clipped to it, e.g. (0, 1) for pixels. The gradient comes from
    autograd.grad, so no .grad changes. Returns the adversarial images as a Tensor (no graph).
    """
    op = "fgsm"
    if not isinstance(epsilon, (int, float, np.floating, np.integer)) or isinstance(epsilon, bool) \
            or not math.isfinite(epsilon) or epsilon < 0:
        raise ValueError(f"{op}: epsilon must be a number >= 0 (the step per pixel), got {epsilon!r}")
    x = _images(images, op).requires_grad_()
    with _evaluating(model), enable_grad():
        scores = _scores(model, x, op)
        classes = _targets(labels, scores, op, what="label")
        loss = F.cross_entropy(scores, Tensor(classes, device=scores.device), reduction="sum")
        (dx,) = autograd.grad(loss, x)
    sign = (dx > 0).astype(x.dtype) - (dx < 0).astype(x.dtype)        # sign(g) = [g > 0] - [g < 0]
    adversarial = x.detach() + sign * float(epsilon)
    if data_range is not None:
        low, high = data_range
        adversarial = adversarial.clip(low, high)
    return adversarial


# ----------------------------------------------------------------------------- pictures

def _displayable(images: Any, op: str) -> np.ndarray:
    """Images as (N, H, W) gray or (N, H, W, 3) colour, for imshow."""
    pixels = _to_numpy(images).astype(np.float64)
    if pixels.ndim == 3:
        return pixels
    if pixels.ndim != 4 or pixels.shape[1] not in (1, 3):
        raise ValueError(f"{op}: images must have shape (N, C, H, W) with 1 or 3 channels (or (N, H, W)), "
                         f"got {pixels.shape}")
    return pixels[:, 0] if pixels.shape[1] == 1 else np.clip(pixels.transpose(0, 2, 3, 1), 0.0, 1.0)


def plot_maps(images: Any, maps: Any, titles: Sequence[str] | None = None, alpha: float = 0.5,
              cmap: str = "jet", show_images: bool = True):
    """Lay each map over its image: one column per image, one row per kind of map.

    images: (N, C, H, W) (or (N, H, W)); maps: one array (N, H, W), or a dict {row name: (N, H, W)}
    to compare several methods on the same images. The first row shows the images alone (unless
    show_images=False); in the other rows the map is drawn with `cmap` and transparency `alpha`
    on top of the gray image. The panels of a row share one colour scale, shown by the colour bar
    at the row's end, so that the images of a row can be compared. titles: one per image, above
    its column. Returns the Figure.
    """
    op = "plot_maps"
    pictures = _displayable(images, op)
    rows = dict(maps) if isinstance(maps, dict) else {"map": maps}
    rows = {name: _to_numpy(values).astype(np.float64) for name, values in rows.items()}
    n = len(pictures)
    for name, values in rows.items():
        if values.shape != (n,) + pictures.shape[1:3]:
            raise ValueError(f"{op}: the maps {name!r} have shape {values.shape}, but the images need "
                             f"{(n,) + pictures.shape[1:3]} (one H×W map per image)")
    if titles is not None and len(titles) != n:
        raise ValueError(f"{op}: {len(titles)} titles for {n} images; give one per image")
    names = (["image"] if show_images else []) + list(rows)
    plt = _pyplot()
    fig, grid = plt.subplots(len(names), n, figsize=(1.5 * n + 1.2, 1.5 * len(names) + 0.4),
                             layout="constrained", squeeze=False)
    gray = "gray_r" if pictures.ndim == 3 else None
    for r, name in enumerate(names):
        for k in range(n):
            ax = grid[r, k]
            ax.imshow(pictures[k], cmap=gray)
            if name != "image":
                low, high = rows[name].min(), rows[name].max()
                shown = ax.imshow(rows[name][k], cmap=cmap, alpha=alpha, vmin=low, vmax=high)
            ax.set_xticks([])
            ax.set_yticks([])
            if k == 0:
                ax.set_ylabel(name)
            if r == 0 and titles is not None:
                ax.set_title(titles[k], fontsize=10)
        if name != "image":
            fig.colorbar(shown, ax=grid[r, :].tolist(), fraction=0.02, pad=0.01)
    return fig


def plot_filters(weight: Any, cmap: str = "RdBu_r", ncols: int = 8):
    """The kernels of a convolution layer, weight (out, in, kh, kw), as small pictures.

    With one input channel (gray images) each kernel is one panel; with 3 it is shown as a
    colour picture (scaled to [0, 1]); otherwise each output channel is a row with one panel per
    input channel. Gray panels share one colour scale centred on 0: red is a positive weight,
    blue a negative one, white zero. Returns the Figure.
    """
    op = "plot_filters"
    w = _to_numpy(weight).astype(np.float64)
    if w.ndim != 4:
        raise ValueError(f"{op}: expected a convolution weight of shape (out, in, kh, kw), got {w.shape}")
    out, inputs = w.shape[:2]
    plt = _pyplot()
    if inputs == 3:
        low, high = w.min(), w.max()
        panels = [((w[o] - low) / (high - low or 1.0)).transpose(1, 2, 0) for o in range(out)]
        labels = [f"filter {o}" for o in range(out)]
        cols = min(ncols, out)
    elif inputs == 1:
        panels, labels, cols = list(w[:, 0]), [f"filter {o}" for o in range(out)], min(ncols, out)
    else:
        panels = [w[o, c] for o in range(out) for c in range(inputs)]
        labels = [f"{o}←{c}" for o in range(out) for c in range(inputs)]
        cols = inputs
    rows = math.ceil(len(panels) / cols)
    limit = float(np.abs(w).max()) or 1.0
    fig, grid = plt.subplots(rows, cols, figsize=(1.3 * cols + 0.9, 1.4 * rows + 0.2),
                             layout="constrained", squeeze=False)
    shown = None
    for ax, panel, label in zip(grid.ravel(), panels, labels):
        if panel.ndim == 3:
            ax.imshow(panel)
        else:
            shown = ax.imshow(panel, cmap=cmap, vmin=-limit, vmax=limit)
        ax.set_title(label, fontsize=9)
    for ax in grid.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in grid.ravel()[len(panels):]:
        ax.set_visible(False)
    if shown is not None:
        fig.colorbar(shown, ax=grid.ravel().tolist(), fraction=0.03, pad=0.02, label="weight")
    return fig
