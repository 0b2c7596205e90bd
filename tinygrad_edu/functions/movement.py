"""Movement Functions: they rearrange elements without doing arithmetic on them.

They come in pairs whose backwards are each other: Reshape <-> Reshape back,
Permute <-> the inverse Permute, Expand <-> Sum, Pad <-> slice, Cat <-> split,
GetItem <-> scatter into zeros. Cast and ToDevice move values between dtypes and devices.
ScatterAdd and IndexAdd add values at indexed positions (the one arithmetic here): their
backward is the gather of the gradient at those positions.
"""
from __future__ import annotations

import math

from .. import backend
from ..autograd import Function

xp = backend.xp


class Reshape(Function):
    """y = a viewed with a new shape (same elements, same order);  grad is reshaped back."""

    @staticmethod
    def forward(ctx, a, shape):
        ctx.in_shape = a.shape
        return a.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape)


class Permute(Function):
    """y = a with its axes reordered: y.shape[i] = a.shape[order[i]];  grad takes the inverse order."""

    @staticmethod
    def forward(ctx, a, order):
        ctx.order = order
        return a.transpose(order)

    @staticmethod
    def backward(ctx, grad):
        inverse = [0] * len(ctx.order)
        for i, axis in enumerate(ctx.order):
            inverse[axis] = i
        return grad.transpose(inverse)


class Expand(Function):
    """y = a broadcast to `shape` (a read-only view, no copy).

    Backward returns the gradient as it is: the engine's un-broadcasting step sums it back
    to a's shape, which is exactly the Expand <-> Sum pair.
    """

    @staticmethod
    def forward(ctx, a, shape):
        return xp(a).broadcast_to(a, shape)

    @staticmethod
    def backward(ctx, grad):
        return grad


class GetItem(Function):
    """y = a[index];  grad goes back to the positions it was read from (adding up repeats)."""

    @staticmethod
    def forward(ctx, a, index):
        ctx.shape, ctx.dtype = a.shape, a.dtype
        ctx.save_for_backward(index)
        return a[index]

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        out = xp(grad).zeros(ctx.shape, dtype=grad.dtype)
        if _is_basic(index):
            out[index] = grad                      # slices never repeat a position
        else:
            backend.scatter_add(out, index, grad)  # integer arrays may: x[[0, 0]]
        return out


def _is_basic(index) -> bool:
    """True when `index` only holds ints, slices, None and Ellipsis (no arrays)."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, slice)) for p in parts)


class Cat(Function):
    """y = the inputs joined along `axis`;  grad is split back into the pieces."""

    @staticmethod
    def forward(ctx, *arrays, axis=0):
        ctx.axis = axis
        ctx.sizes = [a.shape[axis] for a in arrays]
        return xp(arrays[0]).concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        pieces = []
        start = 0
        index = [slice(None)] * grad.ndim
        for size in ctx.sizes:
            index[ctx.axis] = slice(start, start + size)
            pieces.append(grad[tuple(index)])
            start += size
        return tuple(pieces)


class Pad(Function):
    """y = a with `widths` = ((before, after), ...) constant-filled cells around each axis;
    grad is the middle slice of the incoming gradient (the Pad <-> slice pair)."""

    @staticmethod
    def forward(ctx, a, widths, value=0.0):
        ctx.widths = widths
        return xp(a).pad(a, widths, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, grad):
        index = tuple(slice(before, grad.shape[i] - after) for i, (before, after) in enumerate(ctx.widths))
        return grad[index]


class Cast(Function):
    """y = a converted to `dtype`;  the gradient is cast back by the engine (it matches dtypes)."""

    @staticmethod
    def forward(ctx, a, dtype):
        return a.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad


class ToDevice(Function):
    """y = a copied to `device` ("cpu" or "cuda");  the gradient is copied back."""

    @staticmethod
    def forward(ctx, a, device):
        ctx.source = backend.device_of(a)
        return backend.to_device(a, device)

    @staticmethod
    def backward(ctx, grad):
        return backend.to_device(grad, ctx.source)


# ----------------------------------------------------------------------------- scatter-add (graph networks)

def _flat_positions(shape: tuple, index, axis: int, extent: tuple):
    """Where each entry p of an index of shape `extent` lands in a C-ordered array of `shape`, as one
    flat position: p itself with its coordinate on `axis` replaced by index[p]. `index` may be any
    array that broadcasts to `extent` (index_add's vector, laid along axis). One multiply-add per axis
    (no loop over the entries), so that a single 1-D scatter-add does all the work."""
    m = xp(index)
    strides = [math.prod(shape[d + 1:]) for d in range(len(shape))]
    offset = 0                          # the other axes' part of the position: small until the last add
    for d, size in enumerate(extent):
        if d != axis:
            coordinate = m.arange(size).reshape([size if e == d else 1 for e in range(len(extent))])
            offset = offset + coordinate * strides[d]
    return m.broadcast_to(index * strides[axis] + offset, extent)


def _dropped_outside(index, size: int, checked: bool):
    """(index, inside) where `inside` marks the entries in [0, size): None when the caller has checked
    them (the CPU: an IndexError before forward), else a mask, and those outside point at 0 (on "cuda",
    where reading the indices back would make every step wait: their values are added nowhere)."""
    if checked:
        return index, None
    inside = (index >= 0) & (index < size)
    return xp(index).where(inside, index, 0), inside


class ScatterAdd(Function):
    """y = a, then y[p with p[axis] = index[p]] += src[p] for every position p of index (torch's
    scatter_add: y[index[i][j]][j] += src[i][j] along axis 0); repeated indices add up.

        dL/da = g,    dL/dsrc[p] = g[p with p[axis] = index[p]]   (a gather; 0 where index has no p)

    index has as many axes as a and src, and no more entries than src along any axis (nor than a,
    except along axis). The GCN's message passing: the sum over each node's incoming edges.
    """

    @staticmethod
    def forward(ctx, a, src, index, axis, checked=True):
        m = xp(a)
        shape = a.shape or (1,)                                  # a 0-d tensor counts as 1-d, as in torch
        index = index.reshape(index.shape or (1,))
        index, inside = _dropped_outside(index, shape[axis], checked)
        values = src.reshape(src.shape or (1,))[tuple(slice(0, n) for n in index.shape)]
        if inside is not None:
            values = m.where(inside, values, 0)
        flat = _flat_positions(shape, index, axis, index.shape)
        out = a.copy()
        backend.scatter_add(out.reshape(-1), flat.reshape(-1), values.reshape(-1))
        ctx.save_for_backward(flat, inside)
        ctx.src_shape = src.shape
        return out

    @staticmethod
    def backward(ctx, grad):
        flat, inside = ctx.saved_tensors
        grad_src = None
        if ctx.needs_input_grad[1]:
            m = xp(grad)
            picked = grad.reshape(-1)[flat]                      # the gather: g at each p's target
            if inside is not None:
                picked = m.where(inside, picked, 0)
            shape = ctx.src_shape or (1,)
            if picked.shape != shape:                            # src entries that index does not reach
                grad_src = m.zeros(shape, dtype=grad.dtype)
                grad_src[tuple(slice(0, n) for n in picked.shape)] = picked
            else:
                grad_src = picked
            grad_src = grad_src.reshape(ctx.src_shape)
        return grad, grad_src


class IndexAdd(Function):
    """y = a, then y[..., index[i], ...] += alpha · source[..., i, ...] along axis, for every i
    (torch's index_add: whole slices of source added at the positions index names); repeats add up.

        dL/da = g,    dL/dsource = alpha · g[..., index, ...]   (an index_select of the gradient)
    """

    @staticmethod
    def forward(ctx, a, source, index, axis, alpha=1, checked=True):
        m = xp(a)
        shape = a.shape or (1,)                                  # a 0-d tensor counts as 1-d, as in torch
        values = source.reshape(source.shape or (1,))
        index, inside = _dropped_outside(index.reshape(-1), shape[axis], checked)
        along = [1] * len(shape)                                 # index laid along axis: (1, n, 1, ...)
        along[axis] = index.shape[0]
        if alpha != 1:
            values = values * values.dtype.type(alpha)
        if inside is not None:
            values = m.where(inside.reshape(along), values, 0)
        # index_add is the scatter_add whose index is the same along every other axis
        flat = _flat_positions(shape, index.reshape(along), axis, values.shape)
        out = a.copy()
        backend.scatter_add(out.reshape(-1), flat.reshape(-1), values.reshape(-1))
        ctx.save_for_backward(index, inside)
        ctx.axis, ctx.alpha, ctx.shape, ctx.source_shape, ctx.along = axis, alpha, shape, source.shape, along
        return out

    @staticmethod
    def backward(ctx, grad):
        index, inside = ctx.saved_tensors
        grad_source = None
        if ctx.needs_input_grad[1]:
            m = xp(grad)
            grad_source = m.take(grad.reshape(ctx.shape), index, axis=ctx.axis)    # the index_select
            if ctx.alpha != 1:
                grad_source = grad_source * grad.dtype.type(ctx.alpha)
            if inside is not None:
                grad_source = m.where(inside.reshape(ctx.along), grad_source, 0)
            grad_source = grad_source.reshape(ctx.source_shape)
        return grad, grad_source
