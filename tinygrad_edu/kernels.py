"""Fused GPU kernels: one pass over memory where the plain array code makes several.

On the GPU every CuPy operation is its own kernel launch that reads and writes whole arrays.
The sigmoid's backward `grad * y * (1 - y)` is three launches and two temporary arrays; an
Adam update written with array operations is about ten launches per parameter. For the small
models of a course the launches, not the arithmetic, set the speed, so the chains that run in
every training step are written here once more as single CuPy ElementwiseKernels.

The plain array code stays in each caller, written first, and remains the definition: it
runs on the CPU, and on the GPU too when fusion is off (TINYGRAD_EDU_FUSED=0 or
`set_fused(False)`). The kernel comes second, with one comment saying what it saves. The tests
run both paths against PyTorch, and tests/test_kernel_names.py checks, without a GPU, that
every name a caller asks for is in SPECS below. A caller writes

    fused = kernels.get("sigmoid_backward", y)
    if fused is None:
        return grad * y * (1 - y)          # the lecture's line: three launches, two temporaries
    return fused(grad, y)                  # one launch, one pass over memory

How to read a kernel: `inputs` and `outputs` declare the arguments; `T` stands for the element
type of the arrays (float or double), and scalar arguments declared `T` are converted to it.
In `body` (CUDA C) an array argument's name means one element of it; outputs may also be read,
which is how the optimizer kernels update their arrays in place. Arrays broadcast as in NumPy.
An argument declared `raw` is the whole array instead: `x[k]` is its element k in C order, and
`i` is the flat index of the output element being computed (the convolution kernels gather
from their input this way, and so do the pooling kernels).
Scalars such as 1 - beta1 are computed in Python, in double precision, as PyTorch does, so
both paths round the same way.
"""
from __future__ import annotations

import os
from typing import Any

from . import backend

# name: (inputs, outputs, body)
SPECS: dict[str, tuple[str, str, str]] = {
    # ----------------------------------------------------------------- activations
    "relu_backward": (
        "T g, T y", "T dx",
        "dx = y > T(0) ? g : T(0)"),
    "sigmoid_forward": (                       # stable for any x: e = exp(-|x|) <= 1
        "T x", "T y",
        "T e = exp(-fabs(x)); y = (x >= T(0) ? T(1) : e) / (T(1) + e)"),
    "sigmoid_backward": (
        "T g, T y", "T dx",
        "dx = g * y * (T(1) - y)"),
    "tanh_backward": (
        "T g, T y", "T dx",
        "dx = g * (T(1) - y * y)"),
    "leaky_relu_forward": (
        "T x, T slope", "T y",
        "y = x > T(0) ? x : x * slope"),
    "leaky_relu_backward": (
        "T g, T x, T slope", "T dx",
        "dx = x > T(0) ? g : g * slope"),
    "elu_forward": (
        "T x, T alpha", "T y",
        "y = x > T(0) ? x : alpha * expm1(x)"),
    "elu_backward": (
        "T g, T x, T y, T alpha", "T dx",
        "dx = x > T(0) ? g : g * (y + alpha)"),
    "gelu_forward": (                          # y = x Φ(x), Φ(x) = (1 + erf(x / √2)) / 2
        "T x", "T y, T cdf",
        "cdf = T(0.5) * (T(1) + erf(x * T(0.70710678118654752))); y = x * cdf"),
    "gelu_backward": (                         # dy/dx = Φ(x) + x φ(x)
        "T g, T x, T cdf", "T dx",
        "dx = g * (cdf + x * T(0.39894228040143268) * exp(T(-0.5) * x * x))"),
    "gelu_tanh_forward": (                     # t = tanh(√(2/π) (x + 0.044715 x³))
        "T x", "T y, T t",
        "t = tanh(T(0.79788456080286536) * (x + T(0.044715) * x * x * x)); y = T(0.5) * x * (T(1) + t)"),
    "gelu_tanh_backward": (
        "T g, T x, T t", "T dx",
        "T dt = T(0.79788456080286536) * (T(1) + T(3) * T(0.044715) * x * x);"
        "dx = g * (T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * dt)"),
    "softplus_forward": (                      # (max(z, 0) + log(1 + e^-|z|)) / beta, z = beta x
        "T x, T beta, T threshold", "T y, T z",
        "z = x * beta;"
        "y = z > threshold ? x : (max(z, T(0)) + log1p(exp(-fabs(z)))) / beta"),
    "softplus_backward": (                     # sigmoid(z)
        "T g, T z, T threshold", "T dx",
        "T e = exp(-fabs(z));"
        "dx = z > threshold ? g : g * ((z >= T(0) ? T(1) : e) / (T(1) + e))"),

    "silu_forward": (                          # s = sigmoid(x) in the stable form, y = x s
        "T x", "T y, T s",
        "T e = exp(-fabs(x)); s = (x >= T(0) ? T(1) : e) / (T(1) + e); y = x * s"),
    "silu_backward": (                         # dy/dx = s (1 + x (1 - s))
        "T g, T x, T s", "T dx",
        "dx = g * s * (T(1) + x * (T(1) - s))"),

    "dropout_mask": (                          # keep with probability 1 - p, scaled by 1 / (1 - p)
        "T r, T p, T one_minus_p", "T mask",
        "mask = r >= p ? T(1) / one_minus_p : T(0)"),

    # ----------------------------------------------------------------- losses
    "exp_shifted": (                           # e^(z - max): a row of all -inf keeps shift 0
        "T z, T shift", "T e",
        "e = exp(z - (isfinite(shift) ? shift : T(0)))"),
    # A label outside [0, classes) makes its row NaN (loss and gradient): checking the range on
    # the host would wait for the GPU, and a gather with it would silently wrap around. A target
    # equal to `ignore` gives 0 (loss and gradient).
    "cross_entropy_forward": (                 # plane 0: w_i (-log softmax[target]), plane 1: w_i
        "T e, T total, T z, T shift, I target, I column, T weight, int32 plane, int32 classes, I ignore,"
        " T nan_value",
        "T out",
        "const bool at_target = column == target;"          # `weight` is the column's class weight
        "const T loss = target == ignore ? T(0) : target < 0 || target >= classes ? nan_value"
        " : at_target ? weight * (log(total) - (z - (isfinite(shift) ? shift : T(0)))) : T(0);"
        "out = plane == 0 ? loss : at_target && target != ignore ? weight : T(0)"),
    "cross_entropy_backward": (                # (softmax - onehot(target)) * w_i * scale
        "T e, T total, I target, I column, T weight, T scale, int32 classes, I ignore, T nan_value", "T dx",
        "const T p = e / total;"                             # `weight` is the row's weight w_i
        "dx = (column == target ? p - T(1) : p)"
        " * (target == ignore ? T(0) : target < 0 || target >= classes ? nan_value : weight * scale)"),

    # ----------------------------------------------------------------- normalisation
    "batch_norm_forward": (                    # x̂ = (x - mean) invstd, y = γ x̂ + β, per channel
        "T x, T mean, T invstd, T weight, T bias", "T xhat, T y",
        "xhat = (x - mean) * invstd; y = xhat * weight + bias"),
    "batch_norm_backward": (                   # dx = γ invstd / M (M g - Σ g - x̂ Σ g x̂)
        "T g, T xhat, T scale, T count, T sum_g, T sum_gx", "T dx",
        "dx = scale * (count * g - sum_g - xhat * sum_gx)"),

    # ----------------------------------------------------------------- optimizer updates
    "sgd": (
        "T g, T lr, T weight_decay", "T p",
        "p -= lr * (g + weight_decay * p)"),
    "sgd_momentum": (                          # first != 0: the buffer starts as the gradient
        "T g, T lr, T weight_decay, T momentum, T one_minus_dampening, int32 nesterov, int32 first",
        "T p, T buf",
        "T d = g + weight_decay * p;"
        "buf = first ? d : momentum * buf + one_minus_dampening * d;"
        "p -= lr * (nesterov ? d + momentum * buf : buf)"),
    "adam": (
        "T g, T decay, T weight_decay, T beta1, T one_minus_beta1, T beta2, T one_minus_beta2,"
        " T step_size, T bias_correction2_sqrt, T eps",
        "T p, T m, T v",
        "p *= decay;"                              # AdamW's decoupled decay (decay = 1 - lr wd)
        "T d = g + weight_decay * p;"              # Adam's L2 term (weight_decay = 0 for AdamW)
        "m = one_minus_beta1 < T(0.5) ? m + one_minus_beta1 * (d - m) : d - (d - m) * beta1;"  # torch's lerp
        "v = v * beta2 + one_minus_beta2 * d * d;"
        "p -= step_size * m / (sqrt(v) / bias_correction2_sqrt + eps)"),
    "adam_amsgrad": (
        "T g, T decay, T weight_decay, T beta1, T one_minus_beta1, T beta2, T one_minus_beta2,"
        " T step_size, T bias_correction2_sqrt, T eps",
        "T p, T m, T v, T v_max",
        "p *= decay;"
        "T d = g + weight_decay * p;"
        "m = one_minus_beta1 < T(0.5) ? m + one_minus_beta1 * (d - m) : d - (d - m) * beta1;"  # torch's lerp
        "v = v * beta2 + one_minus_beta2 * d * d;"
        "v_max = max(v_max, v);"
        "p -= step_size * m / (sqrt(v_max) / bias_correction2_sqrt + eps)"),

    # ----------------------------------------------------------------- convolution and pooling
    # One thread per element of the output; the input is `raw` (indexed by hand, C order, and
    # contiguous: the caller makes sure). Each kernel unravels `i` into its coordinates and
    # maps a kernel offset (ki, kj) at output position (oy, ox) to the input pixel
    #     row = oy * stride_h - pad_h + ki * dilation_h,   col = ox * stride_w - pad_w + kj * dilation_w
    # so the padding is never built: a pixel outside the input is 0 (conv) or skipped (max).
    # (No local is called `n`: older CuPy documents `n` and `i` as reserved names in a kernel.)
    "im2col": (                                # cols[c, ki, kj, sample, oy, ox] = x[sample, c, row, col]
        "raw T x, int32 batch, int32 channels, int32 height, int32 width, int32 out_h, int32 out_w,"
        " int32 kernel_h, int32 kernel_w, int32 stride_h, int32 stride_w, int32 pad_h, int32 pad_w,"
        " int32 dilation_h, int32 dilation_w",
        "T cols",
        "long long r = i;"                                           # i -> (c, ki, kj, sample, oy, ox)
        "const int ox = r % out_w; r /= out_w;"
        "const int oy = r % out_h; r /= out_h;"
        "const long long sample = r % batch; r /= batch;"
        "const int kj = r % kernel_w; r /= kernel_w;"
        "const int ki = r % kernel_h; const long long c = r / kernel_h;"
        "const int row = oy * stride_h - pad_h + ki * dilation_h;"
        "const int col = ox * stride_w - pad_w + kj * dilation_w;"
        "const bool inside = row >= 0 && row < height && col >= 0 && col < width;"
        "cols = inside ? x[((sample * channels + c) * height + row) * width + col] : T(0)"),
    "col2im": (                                # grad_x[n, c, row, col] = Σ grad_cols over the (ki, kj) that read it
        "raw T grad_cols, int32 batch, int32 channels, int32 height, int32 width, int32 out_h, int32 out_w,"
        " int32 kernel_h, int32 kernel_w, int32 stride_h, int32 stride_w, int32 pad_h, int32 pad_w,"
        " int32 dilation_h, int32 dilation_w",
        "T grad_x",
        "long long r = i;"                                           # i -> (sample, c, row, col)
        "const int col = r % width; r /= width;"
        "const int row = r % height; r /= height;"
        "const long long c = r % channels; const long long sample = r / channels;"
        "T sum = T(0);"
        "for (int ki = 0; ki < kernel_h; ++ki) {"
        "  const int dy = row + pad_h - ki * dilation_h;"            # offset ki reads row iff dy = oy * stride_h
        "  if (dy < 0 || dy % stride_h != 0 || dy / stride_h >= out_h) continue;"
        "  for (int kj = 0; kj < kernel_w; ++kj) {"
        "    const int dx = col + pad_w - kj * dilation_w;"
        "    if (dx < 0 || dx % stride_w != 0 || dx / stride_w >= out_w) continue;"
        "    sum += grad_cols[((((c * kernel_h + ki) * kernel_w + kj) * batch + sample) * out_h + dy / stride_h)"
        "                     * out_w + dx / stride_w];"
        "  }"
        "}"
        "grad_x = sum"),
    "max_pool_forward": (                      # y = max of the window, winner = its offset ki * kernel_w + kj
        "raw T x, T minus_inf, int32 height, int32 width, int32 out_h, int32 out_w,"
        " int32 kernel_h, int32 kernel_w, int32 stride_h, int32 stride_w, int32 pad_h, int32 pad_w,"
        " int32 dilation_h, int32 dilation_w",
        "T y, int32 winner",
        "long long r = i;"                                           # i -> (n, c, oy, ox)
        "const int ox = r % out_w; r /= out_w;"
        "const int oy = r % out_h; const long long plane = r / out_h;"   # plane = n * C + c
        "T best = minus_inf; int best_k = 0;"                         # -inf comes in as an argument: CUDA C has no portable literal
        "for (int ki = 0; ki < kernel_h; ++ki) {"
        "  const int row = oy * stride_h - pad_h + ki * dilation_h;"
        "  for (int kj = 0; kj < kernel_w; ++kj) {"
        "    const int col = ox * stride_w - pad_w + kj * dilation_w;"
        "    if (row < 0 || row >= height || col < 0 || col >= width) continue;"   # padding (-inf) never wins
        "    const T v = x[(plane * height + row) * width + col];"
        "    if (v > best) { best = v; best_k = ki * kernel_w + kj; }"          # strictly: ties keep the first offset
        "    else if (isnan(v)) { best = v; }"                                 # nan propagates, as in np.maximum
        "  }"
        "}"
        "y = best; winner = best_k"),
    "max_pool_backward": (                     # grad_x[n, c, row, col] = Σ grad over the windows it won
        "raw T grad, raw I winner, int32 height, int32 width, int32 out_h, int32 out_w,"
        " int32 kernel_h, int32 kernel_w, int32 stride_h, int32 stride_w, int32 pad_h, int32 pad_w,"
        " int32 dilation_h, int32 dilation_w",
        "T grad_x",
        "long long r = i;"                                           # i -> (n, c, row, col)
        "const int col = r % width; r /= width;"
        "const int row = r % height; const long long plane = r / height;"
        "T sum = T(0);"
        "for (int ki = 0; ki < kernel_h; ++ki) {"
        "  const int dy = row + pad_h - ki * dilation_h;"            # offset ki of window oy reads row iff dy = oy * stride_h
        "  if (dy < 0 || dy % stride_h != 0 || dy / stride_h >= out_h) continue;"
        "  for (int kj = 0; kj < kernel_w; ++kj) {"
        "    const int dx = col + pad_w - kj * dilation_w;"
        "    if (dx < 0 || dx % stride_w != 0 || dx / stride_w >= out_w) continue;"
        "    const long long k = (plane * out_h + dy / stride_h) * out_w + dx / stride_w;"
        "    if (winner[k] == ki * kernel_w + kj) sum += grad[k];"
        "  }"
        "}"
        "grad_x = sum"),
}

_enabled = os.environ.get("TINYGRAD_EDU_FUSED", "1").strip().lower() not in ("0", "false", "no", "off")
_built: dict[str, Any] = {}


def set_fused(enabled: bool) -> None:
    """Turn the fused GPU kernels on (the default) or off (every op takes the plain path)."""
    global _enabled
    _enabled = bool(enabled)


def fused_enabled() -> bool:
    """True when the fused GPU kernels are on (set_fused, TINYGRAD_EDU_FUSED)."""
    return _enabled


def get(name: str, array: Any):
    """The fused kernel `name` when `array` is on the GPU and fusion is on, else None.

    A name that is not in SPECS is a KeyError on every device, so a misspelt name shows on the
    CPU too. Kernels are built on first use; CuPy compiles each one at its first call and keeps
    the binary in its on-disk cache, so later runs start fast.
    """
    if name not in SPECS:
        raise KeyError(f"kernels.get: there is no kernel named {name!r}; the kernels are "
                       f"{', '.join(sorted(SPECS))}")
    if not _enabled or not backend.is_device_array(array):
        return None
    kernel = _built.get(name)
    if kernel is None:
        inputs, outputs, body = SPECS[name]
        kernel = _built[name] = backend.module_for("cuda").ElementwiseKernel(
            inputs, outputs, body, f"tinygrad_edu_{name}")
    return kernel
