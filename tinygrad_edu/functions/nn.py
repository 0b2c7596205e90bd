"""Functions for neural networks where one node is more stable or faster than a chain of ops:
LogSoftmax, Softmax, LogSumExp, CrossEntropy, BinaryCrossEntropy and Linear.

log_softmax and logsumexp are computed in a stable form, subtracting the maximum before
exponentiating, so logits of ±1000 give finite values and gradients; cross-entropy works on
logits for the same reason. Conv2d and MaxPool2d live in functions/conv.py (and are
re-exported here, their old home).
"""
from __future__ import annotations

import numpy as np

from .. import backend, kernels
from ..autograd import Function
from .conv import Conv2d, MaxPool2d  # noqa: F401  (their old home; they live in functions/conv.py)

xp = backend.xp


def _shifted(a, axis):
    """a - max(a, axis): the largest entry becomes 0, so exp() cannot overflow."""
    m = a.max(axis=axis, keepdims=True)
    m = xp(a).where(xp(a).isfinite(m), m, 0)   # a row of all -inf stays -inf, not nan
    return a - m, m


class LogSoftmax(Function):
    """y_i = a_i - log Σ_j e^{a_j};  dL/da = g - softmax(a) Σ_j g_j.

    Stable form: computed as s - log Σ e^s with s = a - max(a), so exp() cannot overflow.
    """

    @staticmethod
    def forward(ctx, a, axis=-1):
        m = xp(a)
        s, _ = _shifted(a, axis)
        y = s - m.log(m.exp(s).sum(axis=axis, keepdims=True))
        ctx.save_for_backward(y)
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad - xp(y).exp(y) * grad.sum(axis=ctx.axis, keepdims=True)


class Softmax(Function):
    """y_i = e^{a_i} / Σ_j e^{a_j};  dL/da = y (g - Σ_j g_j y_j).  Stable form: shifted by max(a)."""

    @staticmethod
    def forward(ctx, a, axis=-1):
        e = xp(a).exp(_shifted(a, axis)[0])
        y = e / e.sum(axis=axis, keepdims=True)
        ctx.save_for_backward(y)
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return y * (grad - (grad * y).sum(axis=ctx.axis, keepdims=True))


class LogSumExp(Function):
    """y = log Σ e^{a} over `axis`;  dy/da = softmax(a).  Stable form: max(a) + log Σ e^{a - max(a)}."""

    @staticmethod
    def forward(ctx, a, axis=None, keepdims=False):
        m = xp(a)
        s, shift = _shifted(a, axis)
        y = m.log(m.exp(s).sum(axis=axis, keepdims=True)) + shift
        ctx.save_for_backward(a, y)
        ctx.axis, ctx.keepdims = axis, keepdims
        if keepdims:
            return y
        return y.reshape(()) if axis is None else y.squeeze(axis)

    @staticmethod
    def backward(ctx, grad):
        a, y = ctx.saved_tensors
        if not ctx.keepdims:
            grad = grad.reshape(y.shape)
        return grad * xp(a).exp(a - y)


_column_cache: dict = {}


def _columns(n, like):
    """arange(n) on the device and in the dtype of `like`, made once: the fused cross-entropy
    kernels compare it with the target to find each row's class without a gather."""
    key = (n, like.dtype.str)
    columns = _column_cache.get(key)
    if columns is None:
        columns = _column_cache[key] = xp(like).arange(n, dtype=like.dtype)
    return columns


def _label_inside(target, classes):
    """True for each label in [0, classes). An array on the labels' device, never read back:
    reading it would make the GPU step wait (and CuPy would wrap a bad label around silently)."""
    return (target >= 0) & (target < classes)


class CrossEntropy(Function):
    """L = -log softmax(z)[target], averaged ('mean'), summed ('sum') or per row ('none').

    z: logits of shape (N, C); target: class indices of shape (N,).
    dL/dz = softmax(z) - onehot(target)  (divided by N for 'mean').
    Stable form: works on logits through a shifted log-softmax, so it is finite for any logits.
    One node for speed: its backward is the line above, not a chain through exp, sum and log.

    A label outside [0, C) gives its row a NaN loss and a NaN gradient, so the mean is NaN too:
    on "cuda" a NaN loss means a label outside [0, C). The range is not checked on the host,
    which would make every GPU step wait (F.cross_entropy checks it on the CPU: IndexError).
    """

    @staticmethod
    def forward(ctx, z, target, reduction="mean"):
        m = xp(z)
        fused = kernels.get("cross_entropy_forward", z)
        if fused is None:
            s, _ = _shifted(z, 1)
            e = m.exp(s)
            total = e.sum(axis=1, keepdims=True)
            inside = _label_inside(target, z.shape[1])
            rows = m.arange(z.shape[0])
            losses = m.log(total[:, 0]) - s[rows, m.where(inside, target, 0)]
            losses = m.where(inside, losses, z.dtype.type("nan"))
            p = e / total
        else:                                  # the same steps in 5 GPU launches instead of 16
            shift = z.max(axis=1, keepdims=True)
            e = kernels.get("exp_shifted", z)(z, shift)
            total = e.sum(axis=1, keepdims=True)
            p, picked = fused(e, total, z, shift, target[:, None], _columns(z.shape[1], target),
                              z.shape[1], m.nan)
            losses = picked.sum(axis=1)        # one nonzero entry per row (NaN for a bad label)
        ctx.save_for_backward(p, target)
        ctx.reduction = reduction
        if reduction == "mean":
            return losses.mean()
        if reduction == "sum":
            return losses.sum()
        return losses

    @staticmethod
    def backward(ctx, grad):
        p, target = ctx.saved_tensors
        m = xp(p)
        if ctx.reduction == "none":
            scale = grad[:, None]
        else:
            scale = grad / p.shape[0] if ctx.reduction == "mean" else grad
        fused = kernels.get("cross_entropy_backward", p)
        if fused is None:
            inside = _label_inside(target, p.shape[1])
            g = p.copy()
            g[m.arange(p.shape[0]), m.where(inside, target, 0)] -= 1
            return m.where(inside[:, None], g * scale, p.dtype.type("nan")), None
        # one kernel instead of 11 launches: the copy, the one-hot subtraction, the scaling, the NaN rows
        return fused(p, target[:, None], _columns(p.shape[1], target), scale, p.shape[1], m.nan), None


# ----------------------------------------------------------------------------- layers

class Linear(Function):
    """Y = X Wᵀ + b, W of shape (out, in) as in torch.nn.Linear;
    dL/dX = G W,  dL/dW = Gᵀ X,  dL/db = Σ_rows G.

    One node for speed: instead of Permute, MatMul and Add. X may have leading axes.
    """

    @staticmethod
    def forward(ctx, x, weight, bias=None):
        ctx.save_for_backward(x, weight)
        y = x @ weight.T
        if bias is not None:
            y += bias                      # y is a fresh array: adding in place is safe
        return y

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        need_x, need_w = ctx.needs_input_grad[:2]
        rows = grad.reshape(-1, grad.shape[-1])
        grad_x = grad @ weight if need_x else None
        grad_w = rows.T @ x.reshape(-1, x.shape[-1]) if need_w else None
        grad_b = rows.sum(axis=0) if len(ctx.needs_input_grad) > 2 and ctx.needs_input_grad[2] else None
        return grad_x, grad_w, grad_b


class BinaryCrossEntropy(Function):
    """L = -(y log p + (1 - y) log(1 - p)) per element, each log clamped at -100 as in PyTorch;
    dL/dp = (p - y) / (p (1 - p)), with the denominator kept >= 1e-12 so p = 0 or 1 stays finite;
    dL/dy = log(1 - p) - log(p)."""

    @staticmethod
    def forward(ctx, p, y):
        m = xp(p)
        with np.errstate(divide="ignore"):
            log_p = m.maximum(m.log(p), -100)
            log_q = m.maximum(m.log1p(-p), -100)
        ctx.save_for_backward(p, y, log_p, log_q)
        return -(y * log_p + (1 - y) * log_q)

    @staticmethod
    def backward(ctx, grad):
        p, y, log_p, log_q = ctx.saved_tensors
        need_p, need_y = ctx.needs_input_grad
        grad_p = grad * (p - y) / xp(p).maximum(p * (1 - p), 1e-12) if need_p else None
        grad_y = grad * (log_q - log_p) if need_y else None
        return grad_p, grad_y
