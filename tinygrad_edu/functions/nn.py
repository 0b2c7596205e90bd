"""Fused Functions for neural networks, where one node is more stable or faster than a chain.

log_softmax and logsumexp subtract the maximum before exponentiating, so logits of
±1000 give finite values and gradients; cross-entropy works on logits for the same reason.
"""
from __future__ import annotations

from .. import backend
from ..autograd import Function

xp = backend.xp


def _shifted(a, axis):
    """a - max(a, axis): the largest entry becomes 0, so exp() cannot overflow."""
    m = a.max(axis=axis, keepdims=True)
    m = xp(a).where(xp(a).isfinite(m), m, 0)   # a row of all -inf stays -inf, not nan
    return a - m, m


class LogSoftmax(Function):
    """y_i = a_i - log Σ_j e^{a_j};  dL/da = g - softmax(a) Σ_j g_j.

    Fused for stability: computed as s - log Σ e^s with s = a - max(a).
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
    """y_i = e^{a_i} / Σ_j e^{a_j};  dL/da = y (g - Σ_j g_j y_j).  Fused: shifted by max(a)."""

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
    """y = log Σ e^{a} over `axis`;  dy/da = softmax(a).  Fused: max(a) + log Σ e^{a - max(a)}."""

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


class CrossEntropy(Function):
    """L = -log softmax(z)[target], averaged ('mean'), summed ('sum') or per row ('none').

    z: logits of shape (N, C); target: class indices of shape (N,).
    dL/dz = softmax(z) - onehot(target)  (divided by N for 'mean').
    Fused: works on logits through a shifted log-softmax, so it is finite for any logits.
    """

    @staticmethod
    def forward(ctx, z, target, reduction="mean"):
        m = xp(z)
        s, _ = _shifted(z, 1)
        e = m.exp(s)
        total = e.sum(axis=1, keepdims=True)
        rows = m.arange(z.shape[0])
        losses = m.log(total[:, 0]) - s[rows, target]
        ctx.save_for_backward(e / total, target)
        ctx.reduction = reduction
        if reduction == "mean":
            return losses.mean()
        if reduction == "sum":
            return losses.sum()
        return losses

    @staticmethod
    def backward(ctx, grad):
        p, target = ctx.saved_tensors
        g = p.copy()
        g[xp(p).arange(p.shape[0]), target] -= 1
        if ctx.reduction == "none":
            return g * grad[:, None], None
        scale = grad / p.shape[0] if ctx.reduction == "mean" else grad
        return g * scale, None
