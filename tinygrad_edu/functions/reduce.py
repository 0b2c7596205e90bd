"""Reductions over axes: Sum, Mean, Max, Min; and along one axis: CumSum, TopK.

Each reduction takes `axis` (None for all axes, an int or a tuple) and `keepdims`. Their backward
spreads the incoming gradient back over the reduced axes: the Sum <-> Expand pair.
CumSum keeps every partial sum; TopK keeps the k largest values, and its gradient goes back to
the positions they came from (as Max's does to the one maximum).
"""
from __future__ import annotations

from typing import Any, NamedTuple

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


# ----------------------------------------------------------------------------- along one axis

class CumSum(Function):
    """y_i = Σ_{j <= i} a_j along `axis`;  dL/da_j = Σ_{i >= j} g_i: the cumulative sum of the
    gradient taken from the far end (flip, cumsum, flip back). Integers and bools sum as int64."""

    @staticmethod
    def forward(ctx, a, axis=0):
        ctx.axis = axis
        if a.ndim == 0:                         # one number: its own partial sum
            return a.astype(a.dtype if a.dtype.kind in "fc" else "int64")
        y = xp(a).cumsum(a, axis=axis)
        return y if a.dtype.kind in "fc" else y.astype("int64", copy=False)

    @staticmethod
    def backward(ctx, grad):
        if grad.ndim == 0:
            return grad
        m, axis = xp(grad), ctx.axis
        return m.flip(m.cumsum(m.flip(grad, axis), axis=axis), axis)


class TopKResult(NamedTuple):
    """What Tensor.topk returns, as torch.return_types.topk: `values, indices = x.topk(k)`."""

    values: Any
    indices: Any


def top_indices(a, k, axis, largest=True):
    """The int64 indices of the k largest (largest=False: smallest) values of `a` along `axis`,
    in order. Ties go to the lower index first; NaN counts as larger than any number (PyTorch's rule)."""
    m = xp(a)
    if a.ndim == 0:                             # one number: it is its own top 1
        return m.zeros((), dtype="int64")
    if largest:
        # a stable sort from the largest down: sort the reversed axis ascending (NaN goes last),
        # read that backwards, and turn positions in the reversed axis into positions in a
        order = m.flip(m.argsort(m.flip(a, axis), axis=axis, kind="stable"), axis)
        order = (a.shape[axis] - 1) - order
    else:
        order = m.argsort(a, axis=axis, kind="stable")
    first_k = (slice(None),) * axis + (slice(0, k),)
    return order[first_k].astype("int64", copy=False)


class TopK(Function):
    """y = a at the positions `index` along `axis` (the k largest or smallest, found by top_indices);
    dL/da = g put back at those positions, 0 everywhere else (like Max's, for k of them)."""

    @staticmethod
    def forward(ctx, a, index, axis=-1):
        ctx.shape, ctx.axis = a.shape, axis
        ctx.save_for_backward(index)
        if a.ndim == 0:
            return a.copy()
        return xp(a).take_along_axis(a, index, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        if grad.ndim == 0:
            return grad
        m = xp(grad)
        out = m.zeros(ctx.shape, dtype=grad.dtype)
        m.put_along_axis(out, index, grad, axis=ctx.axis)     # the k positions of a slice differ
        return out
