"""nn.functional: the stateless forms of the layers, activations and losses.

`import tinygrad_edu.nn.functional as F`, then F.relu(x), F.cross_entropy(logits, y), ...
as in PyTorch. Every loss takes reduction='mean' (the default), 'sum' or 'none'.
"""
from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np

from .. import arguments, backend, kernels
from ..functions.conv import Conv2d, MaxPool2d
from ..functions.conv import AvgPool2d, ConvTranspose2d, conv_arguments, pool_arguments  # window layers (G1)
from ..functions.sampling import AdaptiveAvgPool2d, UpsampleBilinear2d, UpsampleNearest2d, resampling_size
from ..functions.elementwise import Mul
from ..functions.nn import BinaryCrossEntropy, CrossEntropy, Linear
from ..functions.elementwise import SiLU  # the vision lectures (helper G2): SiLU, batch_norm, class-index losses
from ..functions.nn import BatchNorm, NegativeLogLikelihood
from ..functions.nn import Embedding, LayerNorm  # the sequence lectures: embedding, layer_norm, attention
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


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """y = x σ(x) (the "swish");  dy/dx = σ(x) (1 + x (1 - σ(x))). inplace is accepted for PyTorch's
    signature: the result is a new tensor either way."""
    arguments.flag(inplace, "inplace", "silu")
    if input.dtype.kind != "f":
        raise TypeError(f"silu: expected a floating point tensor, got {input.dtype}")
    return SiLU.apply(input)


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


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1-p) (inverted dropout);
    identity when not training. inplace is accepted for PyTorch's signature: the result is a new
    tensor either way."""
    _dropout_arguments("dropout", p, training, inplace)
    return _dropout(input, p, training, input.shape)


def _dropout_arguments(op: str, p: Any, training: Any, inplace: Any) -> None:
    arguments.number(p, "p", op)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: probability has to be between 0 and 1, but got {p}")
    arguments.flag(training, "training", op)
    arguments.flag(inplace, "inplace", op)


def _dropout(x: Tensor, p: float, training: bool, mask_shape: tuple) -> Tensor:
    """x times a random mask of `mask_shape` (broadcast over x): 0 with probability p, else 1/(1-p)."""
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    generator = backend.generator(x.device)
    fused = kernels.get("dropout_mask", x.data)
    if fused is None:
        keep = generator.random(mask_shape) >= p
        mask = keep.astype(x.dtype) / x.dtype.type(1.0 - p)
    else:                                  # compare, cast and scale in one GPU kernel
        mask = fused(generator.random(mask_shape, dtype=x.dtype), p, 1.0 - p)
    return Mul.apply(x, mask)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels: each input[n, c] (an H x W map) with probability p, scaling the kept ones
    by 1/(1-p); identity when not training. Input (N, C, H, W); a 3-D input is taken as (N, C, L),
    as PyTorch 2 still does (with a warning, since that meaning will change there)."""
    _dropout_arguments("dropout2d", p, training, inplace)
    if input.ndim not in (3, 4):
        raise ValueError(f"dropout2d: expected input of shape (N, C, H, W), got {input.shape}; "
                         f"for other shapes use dropout")
    if input.ndim == 3:
        warnings.warn("dropout2d: got a 3-D input; it is taken as (N, C, L) and whole channels of "
                      "length L are dropped, as PyTorch does (use dropout1d there to keep that meaning)",
                      stacklevel=2)
    return _dropout(input, p, training, input.shape[:2] + (1,) * (input.ndim - 2))


# ---- the window layers of the vision lectures (helper G1): conv2d with groups, conv_transpose2d,
# ---- max_pool2d with ceil_mode, avg_pool2d, adaptive_avg_pool2d, interpolate (checks: functions/conv.py)

def conv2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """2-D cross-correlation of x (N, C, H, W) with weight (O, C/groups, kh, kw), as torch's conv2d;
    groups splits the channels into that many independent convolutions."""
    stride, padding, dilation, groups = conv_arguments("conv2d", x.shape, weight.shape, _shape(bias), stride,
                                                       padding, dilation, groups)
    return Conv2d.apply(x, weight, bias, stride=stride, padding=padding, dilation=dilation, groups=groups)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:
    """The transposed convolution of input (N, C_in, H, W) with weight (C_in, C_out/groups, kh, kw), as
    torch's conv_transpose2d: the backward of conv2d with respect to its input, so it upsamples.
    Output (N, C_out, H', W'), H' = (H - 1) stride - 2 padding + dilation (kh - 1) + output_padding + 1."""
    stride, padding, output_padding, dilation, groups = conv_arguments(
        "conv_transpose2d", input.shape, weight.shape, _shape(bias), stride, padding, dilation, groups, output_padding)
    return ConvTranspose2d.apply(input, weight, bias, stride=stride, padding=padding, output_padding=output_padding,
                                 dilation=dilation, groups=groups)


def _shape(t: Tensor | None) -> tuple | None:
    return None if t is None else t.shape


def _floating(op: str, input: Tensor) -> None:
    """Averages and interpolations are computed in the input's float dtype (PyTorch refuses integers too)."""
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point input, got {input.dtype}; convert it with "
                        f".astype('float32')")


def max_pool2d(x: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Tensor:
    """The maximum of every kernel window of x (N, C, H, W); stride defaults to kernel_size. ceil_mode
    keeps a last partial window; return_indices=True is not supported."""
    if arguments.flag(return_indices, "return_indices", "max_pool2d"):
        raise ValueError("max_pool2d: return_indices=True is not supported")
    kernel, stride, padding, dilation, ceil_mode = pool_arguments("max_pool2d", x.shape, kernel_size, stride,
                                                                  padding, dilation, ceil_mode)
    return MaxPool2d.apply(x, kernel_size=kernel, stride=stride, padding=padding, dilation=dilation,
                           ceil_mode=ceil_mode)


def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """The mean of every kernel window of input (N, C, H, W), as torch's avg_pool2d: stride defaults to
    kernel_size, padding counts as zeros; the divisor is the window's size (count_include_pad), the
    number of its input pixels (count_include_pad=False), or divisor_override."""
    op = "avg_pool2d"
    _floating(op, input)
    kernel, stride, padding, _, ceil_mode = pool_arguments(op, input.shape, kernel_size, stride, padding, 1,
                                                           ceil_mode)
    arguments.flag(count_include_pad, "count_include_pad", op)
    if divisor_override is not None:
        arguments.positive_int(divisor_override, "divisor_override", op)
    return AvgPool2d.apply(input, kernel_size=kernel, stride=stride, padding=padding, ceil_mode=ceil_mode,
                           count_include_pad=count_include_pad, divisor_override=divisor_override)


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:
    """The mean over output_size windows of input (N, C, H, W), as torch's adaptive_avg_pool2d: output i
    averages rows ⌊i H / H'⌋ to ⌈(i + 1) H / H'⌉ - 1. output_size: an int, a pair, None for "keep"."""
    op = "adaptive_avg_pool2d"
    _floating(op, input)
    if input.ndim != 4:
        raise ValueError(f"{op}: expected input of shape (N, C, H, W), got {input.shape}")
    sizes = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size, output_size)
    if len(sizes) != 2:
        raise ValueError(f"{op}: output_size must be an int or a pair, got {output_size!r}")
    sizes = tuple(n if s is None else arguments.positive_int(s, "output_size", op)
                  for s, n in zip(sizes, input.shape[2:]))
    return AdaptiveAvgPool2d.apply(input, output_size=sizes)


def interpolate(input: Tensor, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resize input (N, C, H, W) to `size` or by `scale_factor`, as torch's interpolate: mode "nearest"
    (PyTorch's legacy rule src = ⌊dst · H / H'⌋), "nearest-exact", "bilinear" (align_corners both
    ways) or "area" (adaptive_avg_pool2d). With scale_factor, H' = ⌊H · scale_factor⌋ and the
    interpolation uses 1 / scale_factor itself unless recompute_scale_factor=True."""
    op = "interpolate"
    arguments.choice(mode, ("nearest", "nearest-exact", "bilinear", "area"), "mode", op)
    if mode != "bilinear" and align_corners is not None:
        raise ValueError(f"{op}: align_corners option can only be set with the interpolating modes: "
                         f"linear | bilinear | bicubic | trilinear (got mode={mode!r})")
    align_corners = False if align_corners is None else arguments.flag(align_corners, "align_corners", op)
    if arguments.flag(antialias, "antialias", op):
        raise ValueError(f"{op}: antialias=True is not supported")
    if input.ndim != 4:
        raise ValueError(f"{op}: expected input of shape (N, C, H, W), got {input.shape} (2-D images only)")
    _floating(op, input)
    size, scales = resampling_size(op, input.shape, size, scale_factor, recompute_scale_factor)
    if mode == "area":
        return AdaptiveAvgPool2d.apply(input, output_size=size)
    if mode == "bilinear":
        return UpsampleBilinear2d.apply(input, size=size, align_corners=align_corners, scales=scales)
    return UpsampleNearest2d.apply(input, size=size, scales=scales, exact=mode == "nearest-exact")


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """(x - mean) / √(var + eps) · weight + bias per channel (axis 1) of input (N, C, ...), one
    BatchNorm node. training=True: the batch's mean and biased variance, and the running
    statistics (when given) are updated in place with `momentum` (the variance unbiased);
    training=False: the running statistics."""
    op = "batch_norm"
    arguments.flag(training, "training", op)
    arguments.number(eps, "eps", op, minimum=0.0)
    if input.ndim < 2:
        raise ValueError(f"{op}: expected input of shape (N, C) or (N, C, ...), got {input.shape}")
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point input, got {input.dtype}")
    channels = input.shape[1]
    if not training and (running_mean is None or running_var is None):
        raise ValueError(f"{op}: running_mean and running_var must be given when training=False "
                         f"(evaluation mode normalises with them)")
    if (running_mean is None) != (running_var is None):
        raise ValueError(f"{op}: give both running_mean and running_var, or neither")
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        if t is not None and t.shape != (channels,):
            raise ValueError(f"{op}: {name} of shape {t.shape} does not fit input of shape {input.shape}: "
                             f"expected ({channels},), one value per channel")
    arguments.same_device(op, input, running_mean, running_var, weight, bias)
    if training:
        if input.numel() // max(channels, 1) <= 1:
            raise ValueError(f"{op}: expected more than 1 value per channel when training, got input of "
                             f"shape {input.shape}")
        if momentum is None or not isinstance(momentum, numbers.Real) and not backend.is_array(momentum):
            raise TypeError(f"{op}: momentum must be a number, got {momentum!r}")
    stats = {} if running_mean is None else {"running_mean": running_mean.data, "running_var": running_var.data}
    return BatchNorm.apply(input, weight, bias, training=training, momentum=momentum, eps=eps, **stats)


def pad(x: Tensor, pad: Any, mode: str = "constant", value: float | None = None) -> Tensor:
    """Constant padding as torch's F.pad(input, pad, mode, value): pad = (left, right, top,
    bottom, ...), last axis first; value None means 0. Only mode="constant" is built."""
    if mode != "constant":
        raise NotImplementedError(f"F.pad: mode={mode!r} is not built here, only mode='constant' "
                                  "(a border of `value`); pad the array yourself, e.g. with np.pad")
    return x.pad(pad, 0.0 if value is None else value)


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


def cross_entropy(input: Tensor, target: Any, weight: Any = None, size_average: Any = None,
                  ignore_index: int = -100, reduce: Any = None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy on logits: -log softmax(input)[target] per position, then reduced.

    input (N, C), (N, C, d1, d2, ...) or one sample (C,); target holds class indices (N,) or
    (N, d1, d2, ...) as int64 (one CrossEntropy node, in stable form), or class probabilities of
    the input's shape. weight (C,) weighs each class; a target equal to ignore_index adds no loss
    and no gradient; 'mean' divides by the summed weight of the targets that count (with
    probability targets: by the number of positions). label_smoothing ε replaces each target by
    (1 - ε) target + ε / C. A class index outside [0, C) is an IndexError on the CPU; on "cuda"
    it is not checked, since reading the labels back would make every step wait for the GPU:
    that row's loss and gradient are NaN instead, so a NaN loss on cuda means a label outside [0, C).
    """
    op = "cross_entropy"
    ignore_index, label_smoothing = _class_loss_options(op, size_average, reduce, reduction, ignore_index,
                                                        label_smoothing)
    target = target if isinstance(target, Tensor) else Tensor(target, device=input.device)
    _check_logits(op, input, target)
    if input.ndim == 1:                        # one sample: logits (C,), a 0-d target
        loss = cross_entropy(input.unsqueeze(0), target.unsqueeze(0), weight, None, ignore_index, None,
                             reduction, label_smoothing)
        return loss.reshape(()) if reduction == "none" else loss
    weight = _class_weight(op, input, weight)
    if target.dtype.kind == "f":
        return _cross_entropy_of_probabilities(input, target, weight, reduction, label_smoothing)
    _check_labels(op, input, target, ignore_index)
    return CrossEntropy.apply(input, target.data, weight=weight, ignore_index=ignore_index, reduction=reduction,
                              label_smoothing=label_smoothing)


def _cross_entropy_of_probabilities(input: Tensor, target: Tensor, weight: Any, reduction: str,
                                    label_smoothing: float) -> Tensor:
    """-Σ_c weight_c target_c log softmax(input)_c per position (a chain of ops); 'mean' over positions."""
    if target.shape == _label_shape(input):
        raise TypeError(
            f"cross_entropy: target holds class labels as {target.dtype} (shape {target.shape}), but "
            f"class indices must be int64: convert them with target.astype('int64') (or build them "
            f"with Tensor(y, dtype='int64')). A float target means class probabilities, of the "
            f"input's shape {input.shape}.")
    if target.shape != input.shape:
        raise ValueError(f"cross_entropy: probability targets must have the input's shape {input.shape}, "
                         f"got {target.shape}")
    arguments.same_device("cross_entropy", input, target)
    if label_smoothing:
        target = target * (1 - label_smoothing) + label_smoothing / input.shape[1]
    log_p = input.log_softmax(1)
    if weight is not None:
        log_p = log_p * Tensor._from_op(weight.reshape((input.shape[1],) + (1,) * (input.ndim - 2)), None)
    return _reduce(-(target * log_p).sum(axis=1), reduction)


def nll_loss(input: Tensor, target: Any, weight: Any = None, size_average: Any = None, ignore_index: int = -100,
             reduce: Any = None, reduction: str = "mean") -> Tensor:
    """-input[i, target_i] for log-probabilities (N, C) or (N, C, d1, ...) (the output of
    log_softmax) and class indices (N,) or (N, d1, ...), weighted by weight[target_i], then reduced;
    weight, ignore_index and 'mean' as in cross_entropy (one NegativeLogLikelihood node).

    A class index outside [0, C) is an IndexError on the CPU; on "cuda" that row's loss and
    gradient are NaN instead (as in cross_entropy: a NaN loss on cuda means a label outside [0, C)).
    """
    op = "nll_loss"
    ignore_index, _ = _class_loss_options(op, size_average, reduce, reduction, ignore_index)
    target = target if isinstance(target, Tensor) else Tensor(target, device=input.device)
    _check_logits(op, input, target)
    if input.ndim == 1:                        # one sample: log-probabilities (C,), a 0-d target
        loss = nll_loss(input.unsqueeze(0), target.unsqueeze(0), weight, None, ignore_index, None, reduction)
        return loss.reshape(()) if reduction == "none" else loss
    weight = _class_weight(op, input, weight)
    _check_labels(op, input, target, ignore_index)
    return NegativeLogLikelihood.apply(input, target.data, weight=weight, ignore_index=ignore_index,
                                       reduction=reduction)


def _class_loss_options(op: str, size_average: Any, reduce: Any, reduction: str, ignore_index: Any,
                        label_smoothing: Any = 0.0) -> tuple:
    """Check the options of cross_entropy and nll_loss; returns ignore_index and label_smoothing."""
    if size_average is not None or reduce is not None:
        raise TypeError(f"{op}: size_average= and reduce= are deprecated in PyTorch and not supported "
                        f"here; use reduction='mean', 'sum' or 'none'")
    arguments.reduction(reduction, op)
    ignore_index = arguments.int_arg(ignore_index, "ignore_index", op)
    label_smoothing = arguments.number(label_smoothing, "label_smoothing", op, minimum=0.0)
    if label_smoothing > 1.0:
        raise ValueError(f"{op}: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
    return ignore_index, label_smoothing


def _label_shape(input: Tensor) -> tuple:
    """The shape of class-index targets for input (N, C, d1, ...): (N, d1, ...)."""
    return (input.shape[0],) + input.shape[2:]


def _class_weight(op: str, input: Tensor, weight: Any) -> Any:
    """The weight of each class, checked, as a raw array (C,) in the input's dtype; None stays None."""
    if weight is None:
        return None
    if not isinstance(weight, Tensor):
        weight = Tensor(weight, device=input.device)
    if weight.shape != (input.shape[1],):
        raise ValueError(f"{op}: weight of shape {weight.shape} does not fit input of shape {input.shape}: "
                         f"expected ({input.shape[1]},), one weight per class")
    if weight.dtype.kind != "f":
        raise TypeError(f"{op}: weight must be a float tensor, got {weight.dtype}")
    arguments.same_device(op, input, weight)
    return weight.data.astype(input.dtype, copy=False)


def _check_logits(op: str, input: Tensor, target: Tensor) -> None:
    """The first argument must be the model's float scores; integer input means swapped arguments."""
    if input.dtype.kind == "f":
        if input.ndim == 0:
            raise ValueError(f"{op}: expected input of shape (N, C) or (N, C, d1, ...), got a 0-d tensor")
        return
    swapped = target.dtype.kind == "f" and target.ndim == input.ndim + 1
    raise TypeError(
        f"{op}(input, target): input must be the float scores of shape (N, C) and target the class "
        f"indices of shape (N,), but input is {input.dtype} of shape {input.shape} and target is "
        f"{target.dtype} of shape {target.shape}"
        + (f"; the arguments look swapped: call {op}(scores, labels)" if swapped else ""))


def _check_labels(op: str, input: Tensor, target: Tensor, ignore_index: int) -> None:
    if target.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must hold integer class indices (int64), got {target.dtype}; "
                        f"convert them with target.astype('int64')")
    if target.shape != _label_shape(input):
        raise ValueError(f"{op}: target of shape {target.shape} does not fit input of shape {input.shape}: "
                         f"expected {_label_shape(input)}")
    arguments.same_device(op, input, target)
    data, classes = target.data, input.shape[1]
    # the range check reads the labels back, so it runs on the CPU only: on the GPU it would make
    # every training step wait for the device, and a bad label's row becomes NaN there instead
    if not data.size or target.device != "cpu":
        return
    low, high = int(data.min()), int(data.max())
    if (low < 0 or high >= classes) and (low == ignore_index or high == ignore_index):
        counted = data[data != ignore_index]           # ignored targets may lie outside [0, C)
        low, high = (int(counted.min()), int(counted.max())) if counted.size else (0, 0)
    if low < 0 or high >= classes:
        raise IndexError(f"{op}: target holds class {low if low < 0 else high}, outside "
                         f"[0, {classes - 1}] for {classes} classes (on \"cuda\" the "
                         f"labels are not checked, so as not to wait for the GPU: a NaN loss there "
                         f"means a label outside [0, C))")


# ----------------------------------------------------------------------------- the sequence lectures
# embedding and layer_norm are one node each (functions/nn.py); scaled_dot_product_attention is a
# chain of Tensor ops, the formula as it is written, in nn/attention.py (imported at the end).

def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """y = weight[input]: the row of the table weight (num_embeddings, embedding_dim) for each index of
    input (integers of any shape), so y has the shape input.shape + (embedding_dim,). The row
    padding_idx gets no gradient; scale_grad_by_freq divides each row's gradient by the number of times
    the batch picks it. An index outside [0, num_embeddings) is an IndexError on the CPU; on "cuda" it is
    not checked (reading the indices back would make every step wait for the GPU): its row is NaN."""
    return _embedding("embedding", input, weight, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse)


def _embedding(op: str, input: Any, weight: Tensor, padding_idx: Any, max_norm: Any, norm_type: Any,
               scale_grad_by_freq: Any, sparse: Any) -> Tensor:
    """F.embedding, its errors naming `op` (nn.Embedding passes its own name)."""
    if not isinstance(weight, Tensor):
        raise TypeError(f"{op}: weight must be a Tensor, the table (num_embeddings, embedding_dim), "
                        f"got {type(weight).__name__}")
    input = input if isinstance(input, Tensor) else Tensor(input, device=weight.device)
    if input.dtype.kind not in "iu":
        hint = ("the arguments look swapped: call embedding(indices, weight)" if weight.dtype.kind in "iu"
                else "convert them with .astype('int64')")
        raise TypeError(f"{op}: the indices must be integers (int64), got {input.dtype}; {hint}")
    if weight.ndim != 2:
        raise ValueError(f"{op}: weight must be a 2-D table (num_embeddings, embedding_dim), got {weight.shape}")
    padding_idx = arguments.padding_index(padding_idx, weight.shape[0], op)
    if max_norm is not None:
        raise ValueError(f"{op}: max_norm is not supported (it rescales rows of the table in place); leave it None")
    arguments.flag(scale_grad_by_freq, "scale_grad_by_freq", op)
    if arguments.flag(sparse, "sparse", op):
        raise ValueError(f"{op}: sparse=True (sparse gradients) is not supported; the gradient is a dense table")
    arguments.same_device(op, input, weight)
    checked = input.device == "cpu"        # on "cuda" a bad index's row is NaN instead (see Embedding)
    if checked:
        arguments.indices_within(input.data, weight.shape[0], op)
    return Embedding.apply(weight, input.data, padding_idx=padding_idx, scale_grad_by_freq=scale_grad_by_freq,
                           checked=checked)


def layer_norm(input: Tensor, normalized_shape: Any, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """(x - mean) / √(var + eps) · weight + bias over the last len(normalized_shape) axes of input, for
    each position of the other axes on its own (the biased variance), as torch's layer_norm: one
    LayerNorm node. weight and bias, when given, have the shape normalized_shape."""
    return _layer_norm("layer_norm", input, normalized_shape, weight, bias, eps)


def _layer_norm(op: str, input: Tensor, normalized_shape: Any, weight: Tensor | None, bias: Tensor | None,
                eps: Any) -> Tensor:
    """F.layer_norm, its errors naming `op` (nn.LayerNorm passes its own name)."""
    shape = arguments.int_tuple((normalized_shape,), op, "normalized_shape")
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point input, got {input.dtype}; convert it with .astype('float32')")
    if input.ndim < len(shape) or input.shape[input.ndim - len(shape):] != shape:
        raise ValueError(f"{op}: given normalized_shape={shape}, expected input with shape "
                         f"(*, {', '.join(map(str, shape))}), but got input of shape {input.shape}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.shape != shape:
            raise ValueError(f"{op}: {name} of shape {t.shape} does not fit normalized_shape={shape}: "
                             f"it must have that shape")
    arguments.number(eps, "eps", op, minimum=0.0)
    arguments.same_device(op, input, weight, bias)
    affine = weight if weight is not None else bias
    if affine is not None and input.dtype != affine.dtype:
        input = input.astype(affine.dtype)
    return LayerNorm.apply(input, weight, bias, normalized_ndim=len(shape), eps=eps)


from .attention import scaled_dot_product_attention  # noqa: E402  (it uses _dropout above)
