"""The operands of Tensor methods, made ready for a Function.

A user writes `x * 2`, `x + numpy_array`, `int_tensor / 3.0`, `x[x > 0]` or
`where(mask, x, 0.0)`; a Function's forward wants arrays that fit. This module holds the
conversions in between: Python numbers stay raw, arrays and lists become Tensors on the
first operand's device, an integer tensor meeting a float takes the float's dtype
(PyTorch's rule), and shapes and devices are checked so that the error names the operation.

These work on Tensors, so they find the Tensor class where Function.apply does:
`autograd.Tensor`, set by tensor.py (this module cannot import tensor.py, which imports it).
"""
from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np

from .. import arguments, autograd, backend


def operand(x: Any, other: Any, op: str) -> Any:
    """The other operand of a binary op on the Tensor x: a Tensor, or a Python number left raw.

    NumPy and CuPy arrays, lists and tuples become Tensors on x's device; a NumPy scalar
    becomes a Python number (so np.float64(2) * x keeps x's dtype).
    """
    if isinstance(other, (autograd.Tensor, int, float, bool)):
        return other
    if isinstance(other, np.generic):
        return other.item()
    if isinstance(other, (np.ndarray, list, tuple)) or backend.is_device_array(other):
        return autograd.Tensor(other, device=x.device)
    raise TypeError(f"{op}: unsupported operand type {type(other).__name__} (expected a Tensor, "
                    "a number or an array)")


def binary_operands(x: Any, other: Any, op: str, reverse: bool = False) -> tuple:
    """(a, b) for fn.apply(a, b), where a = x (b = x when reverse: other - x for __rsub__).

    Dtype rule (PyTorch's): an integer tensor meeting a float one takes the float's dtype;
    meeting a Python float it becomes float32; a Python number never widens a float tensor.
    """
    other = operand(x, other, op)
    is_tensor = isinstance(other, autograd.Tensor)
    if is_tensor and x.data.dtype.kind != other.data.dtype.kind:
        common = arguments.promote(x.data.dtype, other.data.dtype)
        if common is not None:
            x, other = x.astype(common), other.astype(common)
    elif isinstance(other, float) and x.data.dtype.kind != "f":
        x = x.astype(arguments.DEFAULT_FLOAT)
    a, b = (other, x) if reverse else (x, other)
    if is_tensor and a.data.shape != b.data.shape:
        arguments.broadcastable(op, a.data.shape, b.data.shape)
    return a, b


def matmul_operands(x: Any, other: Any) -> tuple:
    """(a, b) for MatMul.apply: other a Tensor (not a number), shapes that align, one float dtype."""
    other = operand(x, other, "matmul")
    if not isinstance(other, autograd.Tensor):
        raise TypeError("matmul: both operands must be tensors or arrays, not a Python number")
    arguments.matmul_shapes(x.shape, other.shape)
    common = arguments.matmul_dtype(x.dtype, other.dtype)
    return x.astype(common), other.astype(common)


def compared_value(x: Any, other: Any, op: str) -> Any:
    """The other side of a comparison (x < other), as a raw array or number that fits x."""
    other = operand(x, other, op)
    if isinstance(other, autograd.Tensor):
        arguments.same_device(op, x, other)
        arguments.broadcastable(op, x.shape, other.shape)
        return other.data
    return other


def where_operands(condition: Any, x: Any, y: Any) -> tuple:
    """(cond, x, y) for Where.apply: cond a bool array, x and y Tensors or numbers that fit it.

    A condition that is not bool counts nonzero as true; a float and another dtype meet in
    NumPy's common dtype.
    """
    Tensor = autograd.Tensor
    cond = condition.data if isinstance(condition, Tensor) else condition
    if isinstance(condition, Tensor) and condition.dtype != np.bool_:
        cond = cond != 0
    ref = x if isinstance(x, Tensor) else y
    if not isinstance(ref, Tensor):
        ref = x = Tensor(x)
    x, y = operand(ref, x, "where"), operand(ref, y, "where")
    if not hasattr(cond, "shape"):
        cond = backend.xp(ref.data).asarray(cond, dtype=bool)
    if isinstance(condition, Tensor):
        arguments.same_device("where", condition, ref)
    both = isinstance(x, Tensor) and isinstance(y, Tensor)
    arguments.broadcastable("where", cond.shape, *[v.shape for v in (x, y) if isinstance(v, Tensor)])
    if both and x.dtype != y.dtype and "f" in (x.dtype.kind, y.dtype.kind):
        common = np.result_type(x.dtype, y.dtype)
        x, y = x.astype(common), y.astype(common)
    return cond, x, y


def masked_fill_operands(x: Any, mask: Any, value: Any) -> tuple:
    """(mask, value) for x.masked_fill: a bool Tensor on x's device that broadcasts against x,
    and a Python number, or a 0-d Tensor in x's dtype (it then gets a gradient, as in torch)."""
    Tensor = autograd.Tensor
    if isinstance(mask, (bool, int, float)) or mask is None:
        raise TypeError(f"masked_fill: the mask must be a bool tensor (e.g. x > 0), got {type(mask).__name__}")
    mask = operand(x, mask, "masked_fill")
    if mask.dtype != np.bool_:
        raise TypeError(f"masked_fill: the mask must be a bool tensor (e.g. x > 0), got dtype {mask.dtype}; "
                        "convert it with mask.astype(bool) or compare, e.g. mask != 0")
    arguments.same_device("masked_fill", x, mask)
    arguments.broadcastable("masked_fill", x.shape, mask.shape)
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise ValueError(f"masked_fill: the value must be a number or a 0-d tensor, got a tensor of shape "
                             f"{value.shape}")
        arguments.same_device("masked_fill", x, value)
        return mask, value.astype(x.dtype)
    if isinstance(value, np.generic):
        value = value.item()
    if not isinstance(value, (bool, int, float)):
        raise TypeError(f"masked_fill: the value must be a number or a 0-d tensor, got {type(value).__name__}")
    if x.dtype.kind in "biu" and not math.isfinite(value):
        raise ValueError(f"masked_fill: cannot fill a {x.dtype} tensor with {value}; convert it with .float() first")
    return mask, value


def tensor_list(tensors: Any, op: str) -> list:
    """A non-empty list of Tensors on one device (for cat and stack), from Tensors or arrays."""
    Tensor = autograd.Tensor
    if isinstance(tensors, Tensor) or not isinstance(tensors, Iterable):
        raise TypeError(f"{op}: expected a list or tuple of tensors, got {type(tensors).__name__}")
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not tensors:
        raise ValueError(f"{op}: expected a non-empty list of tensors")
    arguments.same_device(op, *tensors)
    return tensors


def array_index(index: Any, like: Any) -> Any:
    """getitem's index with each Tensor and list in it turned into an array on the device of
    the array `like`; Tensors used as indices hold integers or bools (a mask such as x > 0)."""
    parts = index if isinstance(index, tuple) else (index,)
    out = []
    for p in parts:
        if isinstance(p, autograd.Tensor):
            if p.dtype.kind not in "iub":
                raise IndexError(f"getitem: tensors used as indices must be integer or bool, got {p.dtype}")
            arguments.same_device("getitem", like, p)
            p = p.data
        elif isinstance(p, list):
            p = backend.xp(like).asarray(p)
            if p.size == 0:
                p = p.astype(np.int64)
        elif isinstance(p, np.ndarray) and backend.device_of(like) != "cpu":
            p = backend.to_device(p, backend.device_of(like))
        elif isinstance(p, (float, np.floating)):
            raise IndexError(f"getitem: only integers, slices, None, ..., and integer or bool arrays are "
                             f"valid indices, got the float {p!r}")
        out.append(p)
    return tuple(out) if isinstance(index, tuple) else out[0]


def describe_index(index: Any) -> str:
    """An index as an error message shows it: arrays by their shape, the rest by repr."""
    parts = index if isinstance(index, tuple) else (index,)
    shown = [f"array{tuple(p.shape)}" if hasattr(p, "shape") and getattr(p, "ndim", 0) else repr(p) for p in parts]
    return "[" + ", ".join(shown) + "]"


def update_in_place(x: Any, value: Any, op: str, array_op: Any) -> None:
    """x.data op= value, outside the graph (w -= lr * w.grad under no_grad): the value must
    broadcast to x's shape, and keep x's dtype kind (no floats into an int tensor).

    `array_op` is the array's own in-place operator (operator.isub for -=): NumPy and CuPy
    update the array itself, casting with the "same_kind" rule."""
    data = x.data
    if isinstance(value, autograd.Tensor):
        if type(value.data) is not type(data):
            arguments.same_device(op, x, value)       # raises, naming both devices
        value = value.data
    shape = getattr(value, "shape", ())
    if shape != data.shape:
        arguments.inplace_shape(op, shape, data.shape)
    try:
        array_op(data, value)
    except TypeError as exc:     # e.g. adding floats to an int tensor in place
        raise TypeError(f"{op}: cannot update a {x.dtype} tensor in place with this value: {exc}") from None


def scatter_add_operands(x: Any, axis: Any, dim: Any, index: Any, src: Any) -> tuple:
    """(axis, index, src, checked) for x.scatter_add(axis, index, src): see _scatter_operands."""
    return _scatter_operands(x, axis, dim, index, src, "scatter_add", "src", arguments.scatter_shapes)


def index_add_operands(x: Any, axis: Any, dim: Any, index: Any, source: Any, alpha: Any) -> tuple:
    """(axis, index, source, alpha, checked) for x.index_add(axis, index, source, alpha=alpha): alpha a
    number (an int for an integer x, as in torch)."""
    alpha = arguments.number(alpha, "alpha", "index_add")
    if x.dtype.kind in "biu":
        alpha = arguments.int_arg(int(alpha) if alpha.is_integer() else alpha, "alpha", "index_add")
    axis, index, source, checked = _scatter_operands(x, axis, dim, index, source, "index_add", "source",
                                                     arguments.index_add_shapes)
    return axis, index, source, alpha, checked


def _scatter_operands(x: Any, axis: Any, dim: Any, index: Any, src: Any, op: str, name: str, fits: Any) -> tuple:
    """One axis of x (0 for a 0-d x), the index as an int64 array and src as a Tensor, both on x's
    device, src in x's dtype, their shapes checked by `fits`. On the CPU every index is checked to
    fall inside the axis (an IndexError); on "cuda" checked is False (see ScatterAdd)."""
    Tensor = autograd.Tensor
    axis = arguments.one_axis(axis, dim, x.ndim, op) or 0
    if index is None or src is None:
        raise TypeError(f"{op}: give the index and the {name}: x.{op}(axis, index, {name})")
    index, src = operand(x, index, op), operand(x, src, op)
    if not isinstance(index, Tensor) or not isinstance(src, Tensor):
        raise TypeError(f"{op}: the index and the {name} must be tensors (or arrays), not numbers")
    arguments.same_device(op, x, index, src)
    arguments.index_dtype(index.dtype, op)
    if src.dtype != x.dtype:
        raise TypeError(f"{op}: self ({x.dtype}) and {name} ({src.dtype}) must have the same dtype; "
                        f"convert one with .astype()")
    fits(x.shape, index.shape, src.shape, axis, op)
    checked = x.device == "cpu"
    if checked:
        arguments.indices_on_axis(index.data, (x.shape or (1,))[axis], axis, op)
    return axis, index.data.astype(np.int64, copy=False), src, checked
