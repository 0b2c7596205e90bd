"""Movement Functions: they rearrange elements without doing arithmetic on them.

They come in pairs whose backwards are each other: Reshape <-> Reshape back,
Permute <-> the inverse Permute, Expand <-> Sum, Pad <-> slice, Cat <-> split,
GetItem <-> scatter into zeros. Cast and ToDevice move values between dtypes and devices.
"""
from __future__ import annotations

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
