"""DESIGN's argument conventions, each written once as a small check.

Every function here takes a value a user passed, checks it, and returns it in the form
the engine works with (a plain int, a tuple of ints, a NumPy dtype, ...). A bad value
raises the error type the DESIGN asks for (wrong type -> TypeError, a value that does
not fit -> ValueError, an axis out of range -> IndexError, mixed devices -> RuntimeError),
with a message that starts with the operation's name.

tensor.py, functions/, nn/, data/ and optim/ all use these, so that a student sees the
same rule and the same wording wherever the argument is given. This module imports
no part of the engine except the array backend: a Tensor is recognised by duck typing
(it has a `device` string).
"""
from __future__ import annotations

import numbers
from typing import Any, Sequence

import numpy as np

from . import backend

DEFAULT_FLOAT = np.dtype(np.float32)
REDUCTIONS = ("mean", "sum", "none")


# ----------------------------------------------------------------------------- numbers and flags

def is_int(value: Any) -> bool:
    """True for a Python or NumPy integer; False for a bool (True is not a size)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def int_arg(value: Any, name: str, op: str, minimum: int | None = None) -> int:
    """An int (bools refused); with `minimum`, one that is at least that large."""
    if not is_int(value):
        raise TypeError(f"{op}: {name} must be an int, got {type(value).__name__} {value!r}")
    if minimum is not None and value < minimum:
        if minimum == 0:
            raise ValueError(f"{op}: {name} cannot be negative, got {value}")
        raise ValueError(f"{op}: {name} must be >= {minimum}, got {value}")
    return int(value)


def positive_int(value: Any, name: str, op: str) -> int:
    """An int >= 1: a count, a batch size, a number of samples."""
    if not is_int(value):
        raise TypeError(f"{op}: {name} must be a positive int, got {type(value).__name__} {value!r}")
    if value < 1:
        raise ValueError(f"{op}: {name} must be a positive int, got {value}")
    return int(value)


def flag(value: Any, name: str, op: str) -> bool:
    """True or False, and nothing else (1 and "yes" are refused: they hide a mistake)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{op}: {name} must be True or False, got {type(value).__name__} {value!r}")
    return bool(value)


def number(value: Any, name: str, op: str, minimum: float | None = None) -> float:
    """A real number as a float (bools refused); with `minimum`, one >= minimum (NaN refused)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{op}: {name} must be a number, got {type(value).__name__} {value!r}")
    if minimum is not None and not value >= minimum:      # `not >=` also refuses NaN
        raise ValueError(f"{op}: {name} must be >= {minimum}, got {value}")
    return float(value)


def choice(value: Any, options: Sequence, name: str, op: str) -> Any:
    """One of a few named options: gelu's approximate ('none' or 'tanh'), a pooling mode, ..."""
    if value not in options:
        names = [repr(o) for o in options]
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
        raise ValueError(f"{op}: {name} must be {listed}, got {value!r}")
    return value


def reduction(value: Any, op: str) -> str:
    """A loss's reduction: 'mean', 'sum' or 'none'."""
    return choice(value, REDUCTIONS, "reduction", op)


# ----------------------------------------------------------------------------- shapes and axes

def int_tuple(values: Sequence, op: str, what: str = "a shape") -> tuple:
    """Ints given separately (2, 3) or as one tuple or list ((2, 3),), as a tuple of ints."""
    if len(values) == 1 and isinstance(values[0], (tuple, list)):
        values = tuple(values[0])
    for v in values:
        if not is_int(v):
            raise TypeError(f"{op}: {what} must be ints, got {values!r}")
    return tuple(int(v) for v in values)


def shape(values: Sequence, op: str, allow_minus_one: bool = False) -> tuple:
    """A shape given as separate ints or one tuple; sizes >= 0 (-1, "infer it", where allowed)."""
    sizes = int_tuple(values, op)
    for s in sizes:
        if s < 0 and not (allow_minus_one and s == -1):
            raise ValueError(f"{op}: sizes cannot be negative, got shape {sizes!r}")
    return sizes


def pair(value: Any, name: str, op: str) -> tuple:
    """A 2-D window argument (kernel size, stride, padding): one int for both axes, or two ints."""
    if is_int(value):
        return (int(value), int(value))
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(is_int(v) for v in value):
        return (int(value[0]), int(value[1]))
    raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")


def axis_alias(value: Any, alias: Any, name: str, alias_name: str, default: Any) -> Any:
    """NumPy's keyword (axis, keepdims) with PyTorch's alias (dim, keepdim) accepted too."""
    if alias is not None:
        if value is not None:
            raise TypeError(f"give either {name}= or {alias_name}=, not both")
        return alias
    return default if value is None else value


def axes(axis: Any, ndim: int, op: str) -> Any:
    """An axis (None, an int or a sequence of ints) checked against ndim, negatives made positive.

    Returns None, an int or a tuple of ints, as it was given; a 0-d tensor has only axis None.
    """
    if axis is None:
        return None
    many = isinstance(axis, (tuple, list))
    given = tuple(axis) if many else (axis,)
    lo, hi = -max(ndim, 1), max(ndim, 1) - 1
    for a in given:
        if not is_int(a):
            raise TypeError(f"{op}: axis must be an int or a tuple of ints, got {axis!r}")
        if not lo <= a <= hi:
            raise IndexError(f"{op}: axis {a} is out of range for a tensor with {ndim} dimension(s) "
                             f"(expected an axis in [{lo}, {hi}])")
    if ndim == 0:
        return None
    normalised = tuple(int(a) % ndim for a in given)
    if len(set(normalised)) != len(normalised):
        raise ValueError(f"{op}: axis {axis!r} repeats an axis")
    return normalised if many else normalised[0]


def axis_arg(axis: Any, dim: Any, ndim: int, op: str, default: Any = None) -> Any:
    """axes() of `axis=` or its alias `dim=`, `default` when neither is given."""
    return axes(axis_alias(axis, dim, "axis", "dim", default), ndim, op)


def keepdims_arg(keepdims: Any, keepdim: Any) -> bool:
    """`keepdims=` or its alias `keepdim=`, False when neither is given."""
    return bool(axis_alias(keepdims, keepdim, "keepdims", "keepdim", False))


def broadcastable(op: str, *shapes: tuple) -> None:
    """Raise ValueError unless every two of the shapes broadcast (NumPy's rule, from the right)."""
    for i, a in enumerate(shapes):
        for b in shapes[i + 1:]:
            for x, y in zip(reversed(a), reversed(b)):
                if x != y and x != 1 and y != 1:
                    raise ValueError(f"{op}: shapes {tuple(a)} and {tuple(b)} cannot be broadcast together "
                                     f"({x} != {y})")


def same_shapes(op: str, shapes: Sequence[tuple]) -> tuple:
    """The one shape of all the tensors (stack needs them equal); ValueError naming two that differ."""
    for s in shapes[1:]:
        if s != shapes[0]:
            raise ValueError(f"{op}: all tensors must have the same shape, got {shapes[0]} and {s}")
    return shapes[0]


def inplace_shape(op: str, value: tuple, target: tuple) -> None:
    """Raise ValueError unless a value of shape `value` broadcasts to `target` without growing it."""
    if len(value) > len(target) or any(v not in (1, s) for v, s in zip(reversed(value), reversed(target))):
        raise ValueError(f"{op}: a value of shape {tuple(value)} cannot update a tensor of shape "
                         f"{target} in place")


def reshape_target(sizes: tuple, old: tuple, count: int) -> tuple:
    """The shape a reshape gives `count` elements of shape `old`, with one -1 inferred."""
    known = 1
    unknown = [i for i, s in enumerate(sizes) if s == -1]
    for s in sizes:
        if s != -1:
            if s < 0:
                raise ValueError(f"reshape: invalid size {s} in shape {sizes}")
            known *= s
    if len(unknown) > 1:
        raise ValueError(f"reshape: only one size can be -1, got shape {sizes}")
    if unknown and known and count % known == 0:
        sizes = tuple(count // known if s == -1 else s for s in sizes)
        known = count
    if known != count or (unknown and -1 in sizes):
        raise ValueError(f"reshape: cannot reshape a tensor of shape {old} ({count} elements) "
                         f"into shape {sizes}")
    return sizes


def expand_target(sizes: tuple, old: tuple) -> tuple:
    """The shape expand(sizes) gives a tensor of shape `old`: -1 keeps a size, only size 1 grows."""
    if len(sizes) < len(old):
        raise ValueError(f"expand: the target shape {sizes} has fewer dimensions than the "
                         f"tensor's shape {old}")
    lead = len(sizes) - len(old)
    target = list(sizes)
    for i, s in enumerate(old):
        want = sizes[lead + i]
        if want == -1:
            target[lead + i] = s
        elif s != want and s != 1:
            raise ValueError(f"expand: cannot expand shape {old} to {sizes}: axis {i} has "
                             f"size {s}, which is not 1")
    return tuple(target)


def permutation(dims: Sequence, old: tuple) -> tuple:
    """permute's axes: an ordering of all the axes of shape `old`, negatives made positive."""
    dims = int_tuple(dims, "permute", "the axes")
    ndim = len(old)
    if len(dims) != ndim or sorted(d % max(ndim, 1) for d in dims) != list(range(ndim)):
        raise ValueError(f"permute: {dims} is not an ordering of the {ndim} axes of a tensor "
                         f"of shape {old}")
    return tuple(d % ndim for d in dims)


def pad_widths(pad: Sequence, old: tuple) -> tuple:
    """PyTorch's flat pad tuple (left, right, top, bottom, ...), last axis first, as
    NumPy's ((before, after), ...) per axis, first axis first."""
    pad = tuple(pad)
    ndim = len(old)
    if len(pad) % 2 or len(pad) // 2 > ndim:
        raise ValueError(f"pad: expected an even number of values, two per axis and at most "
                         f"{2 * ndim} for a tensor of shape {old}, got {pad}")
    if not all(is_int(p) for p in pad):
        raise TypeError(f"pad: padding sizes must be ints, got {pad}")
    if any(p < 0 for p in pad):
        raise ValueError(f"pad: padding sizes cannot be negative, got {pad}")
    widths = [(0, 0)] * ndim
    for i in range(len(pad) // 2):
        widths[ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    return tuple(widths)


def matmul_shapes(a: tuple, b: tuple) -> None:
    """Raise ValueError unless a @ b fits: inner sizes agree, batch axes broadcast."""
    if len(a) == 0 or len(b) == 0:
        raise ValueError(f"matmul: both operands need at least one dimension, got shapes {a} and {b}")
    k_a = a[-1]
    k_b = b[0] if len(b) == 1 else b[-2]
    if k_a != k_b:
        raise ValueError(f"matmul: shapes {a} and {b} do not align: {k_a} != {k_b}")
    for x, y in zip(reversed(a[:-2]), reversed(b[:-2])):
        if x != y and x != 1 and y != 1:
            raise ValueError(f"matmul: the batch axes of shapes {a} and {b} cannot be broadcast "
                             f"together ({x} != {y})")


def matmul_dtype(a: np.dtype, b: np.dtype) -> np.dtype:
    """The dtype a @ b computes in: two floats promote (float32 @ float64 in float64); an
    integer matrix must be converted by the user."""
    if a == b:
        return a
    if a.kind != "f" or b.kind != "f":
        raise TypeError(f"matmul: dtypes {a} and {b} differ; convert one with .astype()")
    return np.promote_types(a, b)


def nonempty(count: int, shape: tuple, op: str) -> None:
    """Raise ValueError for a reduction (max, argmax, ...) of a tensor with no elements."""
    if count == 0:
        raise ValueError(f"{op}: cannot reduce an empty tensor of shape {shape}")


def reduced_axes(axis: Any, ndim: int) -> tuple:
    """The axes a checked `axis` (see axes()) reduces, as a tuple: all of them for None."""
    if axis is None:
        return tuple(range(ndim))
    return axis if isinstance(axis, tuple) else (axis,)


def cat_shapes(shapes: Sequence[tuple], axis: int) -> None:
    """Raise ValueError unless the shapes agree everywhere except along `axis`."""
    first = shapes[0]
    if len(first) == 0:
        raise ValueError("cat: zero-dimensional tensors cannot be concatenated; use stack")
    for s in shapes[1:]:
        if len(s) != len(first) or any(x != y for i, (x, y) in enumerate(zip(s, first)) if i != axis):
            raise ValueError(f"cat: shapes {first} and {s} differ outside axis {axis}")


def one_axis(axis: Any, dim: Any, ndim: int, op: str, default: Any = None) -> Any:
    """A single axis (not a tuple) given as `axis=` or `dim=`; `default` when neither is given,
    and a TypeError when there is no default (cumsum, as in torch, needs to be told the axis).
    None for a 0-d tensor, whose only axes are 0 and -1."""
    value = axis_alias(axis, dim, "axis", "dim", default)
    if value is None:
        raise TypeError(f"{op}: give the axis to work along, e.g. {op}(axis=0) (or dim=0, as in torch)")
    if isinstance(value, (tuple, list)):
        raise TypeError(f"{op}: axis must be a single int, got {value!r}")
    return axes(value, ndim, op)


def matrices(shape: tuple, op: str) -> None:
    """Raise ValueError unless the tensor has at least 2 dimensions (a matrix, or a stack of them)."""
    if len(shape) < 2:
        raise ValueError(f"{op}: the tensor must have at least 2 dimensions (it works on the last two), "
                         f"got shape {shape}")


def top_count(k: Any, size: int, axis: Any, op: str) -> int:
    """topk's k: an int from 0 to the size of the axis it selects along."""
    k = int_arg(k, "k", op)
    if not 0 <= k <= size:
        raise ValueError(f"{op}: k={k} is out of range: axis {0 if axis is None else axis} has {size} "
                         f"element(s), so k must be in [0, {size}]")
    return k


# ----------------------------------------------------------------------------- dtypes

def dtype(value: Any) -> np.dtype:
    """A NumPy dtype from a name ('float32'), a type (np.float64) or a dtype."""
    try:
        return np.dtype(value)
    except TypeError:
        raise TypeError(f"unknown dtype {value!r}: use e.g. 'float32', 'float64' or 'int64'") from None


def float_dtype(value: np.dtype, op: str) -> None:
    """Raise TypeError unless a tensor of this dtype may require gradients (a float dtype)."""
    if value.kind not in "fc":
        raise TypeError(f"{op}: only tensors of a floating point dtype can require gradients, "
                        f"got {value}; convert first with .astype('float32')")


def fill_dtype(value: Any) -> np.dtype:
    """The dtype of full(shape, value) without dtype=: bool for a bool, float32 for a float, else int64."""
    if isinstance(value, float):
        return DEFAULT_FLOAT
    return np.dtype(np.bool_) if isinstance(value, bool) else np.dtype(np.int64)


def arange_dtype(*values: Any) -> np.dtype:
    """The dtype of arange(start, stop, step) without dtype=: int64 when all are ints, else float32."""
    if all(isinstance(v, (int, np.integer)) for v in values):
        return np.dtype(np.int64)
    return DEFAULT_FLOAT


def promote(a: np.dtype, b: np.dtype) -> np.dtype | None:
    """PyTorch's rule for the two tensors of a binary op: an integer or bool tensor meeting a
    float one takes the float's dtype. None when neither needs converting."""
    if a.kind != b.kind and "f" in (a.kind, b.kind):
        return a if a.kind == "f" else b
    return None


def as_array(data: Any, want_dtype: Any, device: str | None) -> Any:
    """User data (a number, nested lists, a NumPy or CuPy array) as a new array on `device`.

    DESIGN's dtype rule: Python floats become float32, Python ints int64, arrays keep theirs.
    The result is always a copy, never a view of the caller's array.
    """
    if backend.is_array(data):
        array = data
    elif isinstance(data, np.generic):
        array = np.asarray(data)
    else:
        if isinstance(data, (str, bytes, dict, set)) or data is None:
            raise TypeError(f"Tensor: cannot build a tensor from {type(data).__name__} {data!r}")
        try:
            array = np.array(data)
        except ValueError as exc:
            raise ValueError(f"Tensor: cannot build a tensor from ragged nested lists ({exc})") from None
        if array.dtype == object or array.dtype.kind in "USV":
            raise TypeError(f"Tensor: cannot build a tensor from {type(data).__name__} holding "
                            f"{array.dtype} values; use numbers or nested lists of numbers")
        if array.dtype.kind == "f":
            array = array.astype(DEFAULT_FLOAT)            # Python floats become float32
        elif array.dtype.kind in "iu":
            array = array.astype(np.int64)                 # Python ints become int64
    if device is not None:
        target = backend.parse_device(device)
    elif backend.is_array(data):
        target = backend.device_of(array)                  # an array stays where it is
    else:
        target = backend.get_default_device()
    if want_dtype is not None:
        array = array.astype(dtype(want_dtype))
    if backend.device_of(array) != target:
        return backend.to_device(array, target)
    if isinstance(array, np.ndarray):
        return np.array(array, subok=False)     # a copy, and a plain ndarray (not a memmap or matrix)
    return array.copy()


def axis_range(start: Any, end: Any, ndim: int, op: str) -> tuple:
    """flatten's start_dim and end_dim as axes, start not after end."""
    first, last = axes(start, ndim, op), axes(end, ndim, op)
    if first > last:
        raise ValueError(f"{op}: start_dim {start} comes after end_dim {end}")
    return first, last


# ----------------------------------------------------------------------------- devices

def device_of(value: Any) -> str | None:
    """"cpu" or "cuda" for a Tensor or an array; None for anything else (a number, a list)."""
    if isinstance(value, np.ndarray):
        return "cpu"
    if backend.is_device_array(value):
        return "cuda"
    if isinstance(value, np.generic):
        return None                                    # a NumPy scalar is a number: CuPy takes it too
    device = getattr(value, "device", None)            # a Tensor: its device is a string
    return device if isinstance(device, str) else None


def same_device(op: str, *values: Any) -> str | None:
    """The one device of the Tensors and arrays among `values` (numbers are ignored);
    RuntimeError, naming both devices, when they are on different ones."""
    devices = {d for d in map(device_of, values) if d is not None}
    if len(devices) > 1:
        raise RuntimeError(f"{op}: expected all tensors to be on the same device, but found tensors on "
                           f"{' and '.join(sorted(devices))}; move them with .to(device)")
    return devices.pop() if devices else None


# ----------------------------------------------------------------------------- table indices (Embedding)

def indices_within(indices: Any, rows: int, op: str) -> None:
    """Raise IndexError unless every index picks a row of a table of `rows` rows: 0 <= i < rows.
    Reads the indices: call it on the CPU only (on the GPU it would make the step wait)."""
    if indices.size:
        low, high = int(indices.min()), int(indices.max())
        if low < 0 or high >= rows:
            raise IndexError(f"{op}: index {low if low < 0 else high} is out of range: the table has {rows} "
                             f"rows, so every index must be in [0, {rows}) (0 to {rows - 1})")


def padding_index(padding_idx: Any, rows: int, op: str) -> int | None:
    """padding_idx as a row of a table of `rows` rows: None, or an int in [-rows, rows), a negative one
    counted from the end (made positive, as torch stores it)."""
    if padding_idx is None:
        return None
    padding_idx = int_arg(padding_idx, "padding_idx", op)
    if not -rows <= padding_idx < rows:
        raise ValueError(f"{op}: padding_idx={padding_idx} must be within num_embeddings: in [-{rows}, {rows})")
    return padding_idx % rows


# ----------------------------------------------------------------------------- scatter_add, index_add (graph networks)

def index_dtype(value: np.dtype, op: str) -> None:
    """Raise TypeError unless an index tensor holds integers (int64, as torch's; int32 is taken too)."""
    if value.kind not in "iu":
        raise TypeError(f"{op}: the index must hold integers (int64), got {value}; convert it with .long()")


def _as_1d(shape: tuple) -> tuple:
    return tuple(shape) or (1,)          # torch counts a 0-d tensor as 1-d in scatter_add and index_add


def scatter_shapes(target: tuple, index: tuple, src: tuple, axis: int, op: str) -> None:
    """Raise ValueError unless scatter_add's shapes fit: index has as many axes as self and src, and no
    more entries than src along any axis, nor than self along the axes other than `axis`."""
    t, i, s = _as_1d(target), _as_1d(index), _as_1d(src)
    if not len(t) == len(i) == len(s):
        raise ValueError(f"{op}: self {target}, index {index} and src {src} must have the same number of "
                         f"dimensions")
    for d, (n_t, n_i, n_s) in enumerate(zip(t, i, s)):
        if n_i > n_s or (d != axis and n_i > n_t):
            raise ValueError(f"{op}: index of shape {index} is larger than src {src}, or than self {target} "
                             f"along axis {d} (only axis {axis} may be longer than self's)")


def index_add_shapes(target: tuple, index: tuple, source: tuple, axis: int, op: str) -> None:
    """Raise ValueError unless index_add's shapes fit: index is a vector, and source has self's shape
    except along `axis`, where it has one slice per index."""
    if len(index) > 1:
        raise ValueError(f"{op}: the index must be a vector (1-D), got shape {index}")
    t, s = _as_1d(target), _as_1d(source)
    count = index[0] if index else 1
    if len(t) != len(s) or any(a != b for d, (a, b) in enumerate(zip(t, s)) if d != axis):
        raise ValueError(f"{op}: source of shape {source} must have the shape of self {target} except along "
                         f"axis {axis}")
    if s[axis] != count:
        raise ValueError(f"{op}: index of shape {index} has {count} entries, but source of shape {source} "
                         f"has {s[axis]} along axis {axis}: one index per slice of source")


def indices_on_axis(indices: Any, size: int, axis: int, op: str) -> None:
    """Raise IndexError unless every index points into an axis of `size` entries: 0 <= i < size.
    Reads the indices: call it on the CPU only (on the GPU it would make the step wait)."""
    if indices.size:
        low, high = int(indices.min()), int(indices.max())
        if low < 0 or high >= size:
            where = f"(0 to {size - 1})" if size else "(the axis is empty: no index fits)"
            raise IndexError(f"{op}: index {low if low < 0 else high} is out of range for axis {axis} of size "
                             f"{size}: every index must be in [0, {size}) {where}")
