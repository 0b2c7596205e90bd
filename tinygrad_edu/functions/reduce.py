"""Reductions over axes: Sum, Mean, Max, Min.

Each takes `axis` (None for all axes, an int or a tuple) and `keepdims`. Their backward
spreads the incoming gradient back over the reduced axes: the Sum <-> Expand pair.
"""
from __future__ import annotations

from .. import backend
from ..autograd import Function

xp = backend.xp


def _restore_axes(grad, shape, axis, keepdims):
    """Put back the reduced axes of `grad` as size-1 axes so it broadcasts against `shape`."""
    if axis is None or keepdims:
        return grad if grad.ndim == len(shape) else grad.reshape((1,) * len(shape))
    return xp(grad).expand_dims(grad, axis)


class Sum(Function):
    """y = Σ a over `axis`;  dy/da = 1 for every element that was summed."""

    @staticmethod
    def forward(ctx, a, axis=None, keepdims=False):
        ctx.shape, ctx.axis, ctx.keepdims = a.shape, axis, keepdims
        return a.sum(axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        grad = _restore_axes(grad, ctx.shape, ctx.axis, ctx.keepdims)
        return xp(grad).broadcast_to(grad, ctx.shape)


class Mean(Function):
    """y = (1/n) Σ a over `axis`;  dy/da = 1/n.  (A primitive rather than sum * (1/n): one node.)"""

    @staticmethod
    def forward(ctx, a, axis=None, keepdims=False):
        ctx.shape, ctx.axis, ctx.keepdims = a.shape, axis, keepdims
        y = a.mean(axis=axis, keepdims=keepdims)
        ctx.count = a.size // max(y.size, 1) if a.size else 0
        return y

    @staticmethod
    def backward(ctx, grad):
        grad = _restore_axes(grad, ctx.shape, ctx.axis, ctx.keepdims)
        return xp(grad).broadcast_to(grad / ctx.count, ctx.shape)


class Max(Function):
    """y = max of a over `axis`;  dy/da = 1 at the maximum, 0 elsewhere.

    Ties, as in PyTorch: over all elements (axis=None) or several axes the gradient is split
    equally among the tied maxima; over one axis it all goes to the first maximal index.
    """

    @staticmethod
    def forward(ctx, a, axis=None, keepdims=False):
        y = a.max(axis=axis, keepdims=True)
        ctx.save_for_backward(a, y)
        ctx.axis, ctx.keepdims = axis, keepdims
        return y if keepdims else (y.reshape(()) if axis is None else y.squeeze(axis))

    @staticmethod
    def backward(ctx, grad):
        a, y = ctx.saved_tensors
        m = xp(a)
        axis = ctx.axis
        grad = _restore_axes(grad, a.shape, axis, ctx.keepdims)
        if isinstance(axis, int):
            first = m.argmax(a, axis=axis)                       # one winner per slice
            positions = m.arange(a.shape[axis]).reshape((-1,) + (1,) * (a.ndim - axis % a.ndim - 1))
            winner = positions == m.expand_dims(first, axis)
            return grad * winner
        winner = a == y
        return grad * winner / winner.sum(axis=axis, keepdims=True)


class Min(Max):
    """y = min of a over `axis` = -max(-a);  the gradient goes to the minimum (ties as in Max)."""

    @staticmethod
    def forward(ctx, a, axis=None, keepdims=False):
        return -Max.forward(ctx, -a, axis=axis, keepdims=keepdims)
