"""nn.functional: the stateless forms of the layers, activations and losses.

`import tinygrad_edu.nn.functional as F`, then F.relu(x), F.cross_entropy(logits, y), ...
as in PyTorch. Every loss takes reduction='mean' (the default), 'sum' or 'none'.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import arguments, backend, kernels
from ..functions.conv import Conv2d, MaxPool2d
from ..functions.elementwise import Mul
from ..functions.nn import BinaryCrossEntropy, CrossEntropy, Linear, _label_inside
from ..tensor import Tensor, where

# ----------------------------------------------------------------------------- activations


def relu(x: Tensor) -> Tensor:
    """y = max(x, 0), elementwise;  dy/dx = 1 where x > 0, else 0."""
    return x.relu()


def sigmoid(x: Tensor) -> Tensor:
    """y = 1 / (1 + exp(-x));  dy/dx = y * (1 - y)."""
    return x.sigmoid()


def tanh(x: Tensor) -> Tensor:
    """y = tanh(x);  dy/dx = 1 - y^2."""
    return x.tanh()


def softsign(x: Tensor) -> Tensor:
    """y = x / (1 + |x|);  dy/dx = 1 / (1 + |x|)^2."""
    return x.softsign()


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """y = x if x > 0 else negative_slope * x;  dy/dx = 1 if x > 0 else negative_slope."""
    return x.leaky_relu(negative_slope)


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """y = x if x > 0 else alpha (e^x - 1);  dy/dx = 1 if x > 0 else y + alpha."""
    return x.elu(alpha)


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """y = x Φ(x), Φ the standard normal CDF;  dy/dx = Φ(x) + x φ(x). approximate="tanh": the tanh form."""
    return x.gelu(approximate)


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """y = ln(1 + e^(beta x)) / beta (y = x where beta x > threshold);  dy/dx = sigmoid(beta x)."""
    return x.softplus(beta, threshold)


def softmax(x: Tensor, dim: int = -1) -> Tensor:
    """y_i = e^(x_i) / Σ_j e^(x_j) along dim;  dL/dx = y (g - Σ_j g_j y_j) for g = dL/dy."""
    return x.softmax(dim)


def log_softmax(x: Tensor, dim: int = -1) -> Tensor:
    """y_i = x_i - log Σ_j e^(x_j) along dim, computed stably;  dL/dx = g - softmax(x) Σ_j g_j, g = dL/dy."""
    return x.log_softmax(dim)


def heaviside_step(x: Tensor) -> Tensor:
    """The threshold neuron's step: 1 where x >= 0, else 0 (no useful gradient: it is 0 almost everywhere)."""
    return (x >= 0).astype(x.dtype if x.dtype.kind == "f" else np.float32)


# ----------------------------------------------------------------------------- layers

def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x Wᵀ + b with W of shape (out_features, in_features), as torch.nn.functional.linear."""
    if x.ndim == 0 or x.shape[-1] != weight.shape[-1]:
        raise ValueError(f"linear: input of shape {x.shape} does not fit a weight of shape {weight.shape}: "
                         f"the last axis must be {weight.shape[-1]}")
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(f"linear: bias of shape {bias.shape} does not fit weight of shape {weight.shape}")
    x = x.astype(weight.dtype) if x.dtype != weight.dtype else x
    return Linear.apply(x, weight, bias)


def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1-p) (inverted dropout);
    identity when not training."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    generator = backend.generator(x.device)
    fused = kernels.get("dropout_mask", x.data)
    if fused is None:
        keep = generator.random(x.shape) >= p
        mask = keep.astype(x.dtype) / x.dtype.type(1.0 - p)
    else:                                  # compare, cast and scale in one GPU kernel
        mask = fused(generator.random(x.shape, dtype=x.dtype), p, 1.0 - p)
    return Mul.apply(x, mask)


def conv2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1) -> Tensor:
    """2-D cross-correlation of x (N, C, H, W) with weight (O, C, kh, kw), as torch's conv2d."""
    stride, padding, dilation = (arguments.pair(stride, "stride", "conv2d"),
                                 arguments.pair(padding, "padding", "conv2d"),
                                 arguments.pair(dilation, "dilation", "conv2d"))
    if x.ndim != 4 or weight.ndim != 4 or x.shape[1] != weight.shape[1]:
        raise ValueError(f"conv2d: expected input (N, C, H, W) and weight (O, C, kh, kw) with the same C, "
                         f"got input {x.shape} and weight {weight.shape}")
    if min(stride) < 1 or min(dilation) < 1 or min(padding) < 0:
        raise ValueError(f"conv2d: stride and dilation must be >= 1 and padding >= 0, got stride={stride}, "
                         f"padding={padding}, dilation={dilation}")
    for axis, k in ((0, weight.shape[2]), (1, weight.shape[3])):
        if x.shape[2 + axis] + 2 * padding[axis] < dilation[axis] * (k - 1) + 1:
            raise ValueError(f"conv2d: the kernel {weight.shape[2:]} (dilation {dilation}) is larger than the "
                             f"padded input {x.shape[2:]} (padding {padding})")
    return Conv2d.apply(x, weight, bias, stride=stride, padding=padding, dilation=dilation)


def max_pool2d(x: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1) -> Tensor:
    """The maximum of every kernel window of x (N, C, H, W); stride defaults to kernel_size."""
    kernel = arguments.pair(kernel_size, "kernel_size", "max_pool2d")
    stride = kernel if stride is None else arguments.pair(stride, "stride", "max_pool2d")
    padding = arguments.pair(padding, "padding", "max_pool2d")
    dilation = arguments.pair(dilation, "dilation", "max_pool2d")
    if x.ndim != 4:
        raise ValueError(f"max_pool2d: expected input of shape (N, C, H, W), got {x.shape}")
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise ValueError(f"max_pool2d: padding {padding} should be at most half of kernel_size {kernel}")
    for axis in (0, 1):
        if x.shape[2 + axis] + 2 * padding[axis] < dilation[axis] * (kernel[axis] - 1) + 1:
            raise ValueError(f"max_pool2d: kernel {kernel} is larger than the input {x.shape[2:]}")
    return MaxPool2d.apply(x, kernel_size=kernel, stride=stride, padding=padding, dilation=dilation)


def pad(x: Tensor, pad: Any, value: float = 0.0) -> Tensor:
    """Constant padding as torch's F.pad: pad = (left, right, top, bottom, ...), last axis first."""
    return x.pad(pad, value)


def one_hot(labels: Tensor, num_classes: int = -1) -> Tensor:
    """Integer labels (N,) -> a (N, num_classes) int64 matrix with a 1 in each row's label."""
    data = labels.data
    if labels.dtype.kind not in "iu":
        raise TypeError(f"one_hot: labels must be integers, got {labels.dtype}")
    k = int(data.max()) + 1 if num_classes < 0 else num_classes
    m = backend.xp(data)
    return Tensor._from_op((data[..., None] == m.arange(k)).astype(np.int64), None)


# ----------------------------------------------------------------------------- losses

def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _check_pair(op: str, input: Tensor, target: Any, reduction: str) -> Tensor:
    """Losses that compare two same-shaped tensors: check and convert the target."""
    arguments.reduction(reduction, op)
    if not isinstance(target, Tensor):
        target = Tensor(target, device=input.device)
    if target.shape != input.shape:
        raise ValueError(f"{op}: target shape {target.shape} differs from input shape {input.shape}; "
                         "reshape one of them (broadcasting them silently is a common bug)")
    if target.dtype != input.dtype:
        target = target.astype(input.dtype)
    return target


def mse_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """(input - target)^2, averaged."""
    target = _check_pair("mse_loss", input, target, reduction)
    diff = input - target
    return _reduce(diff * diff, reduction)


def l1_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """|input - target|, averaged (MAE)."""
    target = _check_pair("l1_loss", input, target, reduction)
    return _reduce((input - target).abs(), reduction)


def huber_loss(input: Tensor, target: Any, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta): quadratic near 0, linear far away."""
    target = _check_pair("huber_loss", input, target, reduction)
    d = input - target
    a = d.abs()
    return _reduce(where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta)), reduction)


def binary_cross_entropy(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """-(y log p + (1 - y) log(1 - p)) for probabilities p; each log is clamped at -100 as in PyTorch."""
    target = _check_pair("binary_cross_entropy", input, target, reduction)
    data = input.data
    # the range check reads the values back, so it runs on the CPU only: on the GPU it would make
    # every training step wait for the device (PyTorch checks there inside the kernel instead)
    if data.size and input.device == "cpu" and (float(data.min()) < 0 or float(data.max()) > 1):
        raise ValueError("binary_cross_entropy: all input values must be probabilities in [0, 1]; "
                         "for raw scores use binary_cross_entropy_with_logits")
    return _reduce(BinaryCrossEntropy.apply(input, target), reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Any, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """BCE on logits z: softplus(z) - y z, which is stable for any z (no log of 0)."""
    target = _check_pair("binary_cross_entropy_with_logits", input, target, reduction)
    if pos_weight is None:
        return _reduce(input.softplus() - target * input, reduction)
    # y log σ(z) weighted by pos_weight:  (1 - y) z + (1 + (w - 1) y) softplus(-z)
    weight = 1 + (pos_weight - 1) * target
    return _reduce((1 - target) * input + weight * (-input).softplus(), reduction)


def cross_entropy(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Softmax cross-entropy on logits (N, C): -log softmax(input)[target], averaged.

    target holds class indices (N,) (one CrossEntropy node, in stable form) or class
    probabilities (N, C). A class index outside [0, C) is an IndexError on the CPU; on "cuda"
    it is not checked, since reading the labels back would make every step wait for the GPU:
    that row's loss and gradient are NaN instead, so a NaN loss on cuda means a label outside [0, C).
    """
    arguments.reduction(reduction, "cross_entropy")
    if not isinstance(target, Tensor):
        target = Tensor(target, device=input.device)
    _check_logits("cross_entropy", input, target)
    if input.ndim == 1:
        input, target = input.unsqueeze(0), target.unsqueeze(0)
        loss = cross_entropy(input, target, reduction)
        return loss.reshape(()) if reduction == "none" else loss
    if input.ndim != 2:
        raise ValueError(f"cross_entropy: expected logits of shape (N, C), got {input.shape}")
    if target.dtype.kind == "f":
        if target.shape == (input.shape[0],):
            raise TypeError(
                f"cross_entropy: target holds class labels as {target.dtype} (shape {target.shape}), but "
                f"class indices must be int64: convert them with target.astype('int64') (or build them "
                f"with Tensor(y, dtype='int64')). A float target means class probabilities, of the "
                f"input's shape {input.shape}.")
        if target.shape != input.shape:
            raise ValueError(f"cross_entropy: probability targets must have the input's shape {input.shape}, "
                             f"got {target.shape}")
        return _reduce(-(target * input.log_softmax(1)).sum(axis=1), reduction)
    _check_labels("cross_entropy", input, target)
    return CrossEntropy.apply(input, target.data, reduction=reduction)


def nll_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """-input[i, target_i] for log-probabilities (N, C) (the output of log_softmax), averaged.

    A class index outside [0, C) is an IndexError on the CPU; on "cuda" that row's loss and
    gradient are NaN instead (as in cross_entropy: a NaN loss on cuda means a label outside [0, C)).
    """
    arguments.reduction(reduction, "nll_loss")
    if not isinstance(target, Tensor):
        target = Tensor(target, device=input.device)
    _check_logits("nll_loss", input, target)
    if input.ndim != 2:
        raise ValueError(f"nll_loss: expected log-probabilities of shape (N, C), got {input.shape}")
    _check_labels("nll_loss", input, target)
    m = backend.xp(target.data)
    rows = Tensor._from_op(m.arange(input.shape[0]), None)
    if target.device == "cpu":                 # the labels were checked above
        return _reduce(-input[rows, target], reduction)
    # on the GPU a gather with a bad label would wrap around: gather at 0 and make the row NaN
    inside = _label_inside(target.data, input.shape[1])
    safe = Tensor._from_op(m.where(inside, target.data, 0), None)
    nan_rows = Tensor._from_op(m.where(inside, 1.0, m.nan).astype(input.dtype), None)
    return _reduce(-(input[rows, safe] * nan_rows), reduction)


def _check_logits(op: str, input: Tensor, target: Tensor) -> None:
    """The first argument must be the model's float scores; integer input means swapped arguments."""
    if input.dtype.kind == "f":
        return
    swapped = target.dtype.kind == "f" and target.ndim == input.ndim + 1
    raise TypeError(
        f"{op}(input, target): input must be the float scores of shape (N, C) and target the class "
        f"indices of shape (N,), but input is {input.dtype} of shape {input.shape} and target is "
        f"{target.dtype} of shape {target.shape}"
        + (f"; the arguments look swapped: call {op}(scores, labels)" if swapped else ""))


def _check_labels(op: str, input: Tensor, target: Tensor) -> None:
    if target.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must hold integer class indices (int64), got {target.dtype}; "
                        f"convert them with target.astype('int64')")
    if target.shape != (input.shape[0],):
        raise ValueError(f"{op}: target of shape {target.shape} does not fit input of shape {input.shape}: "
                         f"expected ({input.shape[0]},)")
    arguments.same_device(op, input, target)
    data = target.data
    # the range check reads the labels back, so it runs on the CPU only: on the GPU it would make
    # every training step wait for the device, and a bad label's row becomes NaN there instead
    if data.size and target.device == "cpu":
        low, high = int(data.min()), int(data.max())
        if low < 0 or high >= input.shape[1]:
            raise IndexError(f"{op}: target holds class {low if low < 0 else high}, outside "
                             f"[0, {input.shape[1] - 1}] for {input.shape[1]} classes (on \"cuda\" the "
                             f"labels are not checked, so as not to wait for the GPU: a NaN loss there "
                             f"means a label outside [0, C))")
