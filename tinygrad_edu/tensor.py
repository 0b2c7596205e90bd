"""Tensor: an array (NumPy or CuPy) plus its place in the computation graph.

Every operator and method below checks its arguments, then calls one Function from
`functions/` (or a few of them, for composites such as var or stack). The Function does
the arithmetic; the Tensor only records who made it (`grad_fn`) so that `backward()`
can walk the graph back to the leaves.
"""
from __future__ import annotations

import warnings
import weakref
from typing import Any, Iterable, Sequence

import numpy as np

from . import autograd, backend
from .functions import elementwise as E
from .functions import linalg as L
from .functions import movement as M
from .functions import nn as N
from .functions import reduce as R

ArrayLike = Any
DEFAULT_FLOAT = np.dtype(np.float32)


# ----------------------------------------------------------------------------- argument helpers

def _int_tuple(values: tuple, op: str, what: str = "a shape") -> tuple:
    """Accept ints given separately (2, 3) or as one tuple/list ((2, 3),)."""
    if len(values) == 1 and isinstance(values[0], (tuple, list)):
        values = tuple(values[0])
    for v in values:
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool):
            raise TypeError(f"{op}: {what} must be ints, got {values!r}")
    return tuple(int(v) for v in values)


def _shape_arg(shape: tuple, op: str, allow_minus_one: bool = False) -> tuple:
    """A shape given as separate ints (2, 3) or as one tuple ((2, 3),); sizes must be >= 0."""
    shape = _int_tuple(shape, op)
    for s in shape:
        if s < 0 and not (allow_minus_one and s == -1):
            raise ValueError(f"{op}: sizes cannot be negative, got shape {shape!r}")
    return tuple(int(s) for s in shape)


def _int_arg(value: Any, name: str, op: str) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
        raise TypeError(f"{op}: {name} must be an int, got {type(value).__name__} {value!r}")
    if value < 0:
        raise ValueError(f"{op}: {name} cannot be negative, got {value}")
    return int(value)


def _wrap(data: Any) -> "Tensor":
    """A Tensor (outside the graph) around a result that NumPy may have turned into a scalar."""
    return Tensor._from_op(backend.ensure_array(data), None)


def _pick(value: Any, alias: Any, name: str, alias_name: str, default: Any) -> Any:
    """NumPy's keyword (axis, keepdims) with PyTorch's alias (dim, keepdim) accepted too."""
    if alias is not None:
        if value is not None:
            raise TypeError(f"give either {name}= or {alias_name}=, not both")
        return alias
    return default if value is None else value


def _axes(axis: Any, ndim: int, op: str) -> Any:
    """Check an axis argument (None, int or sequence of ints) against ndim; negatives allowed."""
    if axis is None:
        return None
    many = isinstance(axis, (tuple, list))
    axes = tuple(axis) if many else (axis,)
    lo, hi = -max(ndim, 1), max(ndim, 1) - 1
    for a in axes:
        if not isinstance(a, (int, np.integer)) or isinstance(a, bool):
            raise TypeError(f"{op}: axis must be an int or a tuple of ints, got {axis!r}")
        if not lo <= a <= hi:
            raise IndexError(f"{op}: axis {a} is out of range for a tensor with {ndim} dimension(s) "
                             f"(expected an axis in [{lo}, {hi}])")
    if ndim == 0:
        return None
    normalised = tuple(int(a) % ndim for a in axes)
    if len(set(normalised)) != len(normalised):
        raise ValueError(f"{op}: axis {axis!r} repeats an axis")
    return normalised if many else normalised[0]


def _to_dtype(dtype: Any) -> np.dtype:
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"unknown dtype {dtype!r}: use e.g. 'float32', 'float64' or 'int64'") from None


def _as_array(data: Any, dtype: Any, device: str | None) -> Any:
    """Turn user data into an array of the right dtype on the right device (always a copy)."""
    if isinstance(data, Tensor):
        array = data.data
    elif isinstance(data, np.ndarray) or backend.is_device_array(data):
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
    target = backend.parse_device(device) if device is not None else (
        backend.device_of(array) if isinstance(data, (Tensor, np.ndarray)) or backend.is_device_array(data)
        else backend.get_default_device())
    if dtype is not None:
        array = array.astype(_to_dtype(dtype))
    if backend.device_of(array) != target:
        return backend.to_device(array, target)
    if isinstance(array, np.ndarray):
        return np.array(array, subok=False)     # a copy, and a plain ndarray (not a memmap or matrix)
    return array.copy()


def _check_float(dtype: np.dtype, op: str) -> None:
    if dtype.kind not in "fc":
        raise TypeError(f"{op}: only tensors of a floating point dtype can require gradients, "
                        f"got {dtype}; convert first with .astype('float32')")


# ----------------------------------------------------------------------------- Tensor

class Tensor:
    """An n-dimensional array that can record the operations applied to it.

    Tensor(data, requires_grad=False, device=None, dtype=None): data is a number, a nested
    list, a NumPy or CuPy array or another Tensor (always copied). Python floats become
    float32, Python ints int64; NumPy arrays keep their dtype.
    """

    __slots__ = ("data", "_grad", "requires_grad", "grad_fn", "name", "__weakref__")
    __array_priority__ = 1000          # numpy_array + tensor calls Tensor.__radd__

    def __init__(self, data: ArrayLike, requires_grad: bool = False, device: str | None = None,
                 dtype: Any = None, name: str | None = None):
        self.data = _as_array(data, dtype, device)
        if requires_grad:
            _check_float(self.data.dtype, "Tensor")
        self.requires_grad = bool(requires_grad)
        self._grad: Tensor | None = None
        self.grad_fn: autograd.Function | None = None
        self.name = name

    @staticmethod
    def _from_op(data: Any, grad_fn: Any) -> "Tensor":
        """Wrap an array that an op produced (no copy, no checks: the fast internal path)."""
        t = object.__new__(Tensor)
        t.data = data
        t._grad = None
        t.grad_fn = grad_fn
        t.requires_grad = grad_fn is not None
        t.name = None
        return t

    # ------------------------------------------------------------------ properties

    @property
    def shape(self) -> tuple:
        """The size of each axis, a tuple of ints: (2, 3) for a 2 x 3 matrix."""
        return self.data.shape

    @property
    def ndim(self) -> int:
        """The number of axes, len(shape); 0 for a single number."""
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        """The element type, a NumPy dtype: float32, float64, int64, bool, ..."""
        return self.data.dtype

    @property
    def device(self) -> str:
        """Where the values live: "cpu" (a NumPy array) or "cuda" (a CuPy array)."""
        return "cpu" if isinstance(self.data, np.ndarray) else "cuda"

    @property
    def is_leaf(self) -> bool:
        """True for a tensor made by the user (not by an op): backward() fills only leaves' .grad."""
        return self.grad_fn is None

    @property
    def retains_grad(self) -> bool:
        """True for a non-leaf tensor that called retain_grad(), so backward() keeps its .grad."""
        return self.grad_fn is not None and self.grad_fn._retained is not None

    @property
    def grad(self) -> "Tensor | None":
        """dL/dself after backward(): kept for leaves that require grad and after retain_grad()."""
        grad = self._grad
        if grad is None and self.grad_fn is not None and self.grad_fn._retained is None:
            warnings.warn(
                f"reading .grad of a tensor that is not a leaf (it was made by <{type(self.grad_fn).__name__}>): "
                "backward() does not keep the gradients of intermediate tensors, so .grad is None. "
                "Call .retain_grad() on this tensor before backward() to keep it.",
                UserWarning, stacklevel=2)
        return grad

    @grad.setter
    def grad(self, value: "Tensor | None") -> None:
        self._grad = value

    @property
    def T(self) -> "Tensor":
        """All axes in reverse order, the transpose of a matrix: x.T[i, j] = x[j, i]."""
        return self.permute(tuple(range(self.ndim - 1, -1, -1)))

    def size(self, dim: int | None = None):
        """The shape (as in PyTorch), or the length of one axis."""
        return self.shape if dim is None else self.shape[_axes(dim, self.ndim, "size")]

    def numel(self) -> int:
        """The number of elements, the product of the shape."""
        return int(self.data.size)

    def numpy(self) -> np.ndarray:
        """The values as a NumPy array (copied from the GPU when the tensor lives there).

        As in PyTorch, a tensor that requires grad must be detached first: the array cannot
        carry the graph, so `w.detach().numpy()` says that the gradient stops there."""
        if self.requires_grad:
            raise RuntimeError(
                "numpy: can't call numpy() on a tensor that requires grad, because the NumPy array "
                "would leave the computation graph; use tensor.detach().numpy() instead "
                "(or compute the tensor inside `with no_grad():`)")
        return backend.to_numpy(self.data)

    def item(self) -> Any:
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item: only a tensor with one element can be converted to a Python "
                             f"number, this one has shape {self.shape} ({self.data.size} elements)")
        return backend.to_numpy(self.data).reshape(()).item()

    def tolist(self) -> Any:
        """The values as a Python number or (nested) lists of numbers."""
        return backend.to_numpy(self.data).tolist()

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} is ambiguous; "
                             "use .any() or .all()")
        return bool(self.item())

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.dtype.kind not in "iu" or self.data.size != 1:
            raise TypeError(f"only one-element integer tensors can be used as an index, got {self.dtype} "
                            f"of shape {self.shape}")
        return int(self.item())

    __hash__ = object.__hash__         # == is elementwise, so hash by identity

    def __repr__(self) -> str:
        values = backend.to_numpy(self.data)
        fixed = values.dtype.kind == "f" and values.size and not np.all(values == np.round(values))
        body = np.array2string(values, separator=", ", prefix="Tensor(", precision=4, threshold=1000,
                               edgeitems=3, floatmode="fixed" if fixed else "maxprec")
        extras = []
        if self.device != "cpu":
            extras.append(f"device='{self.device}'")
        if self.dtype not in (DEFAULT_FLOAT, np.dtype(np.int64), np.dtype(bool)):
            extras.append(f"dtype={self.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{type(self.grad_fn).__name__}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "Tensor(" + ", ".join([body] + extras) + ")"

    # ------------------------------------------------------------------ autograd

    def backward(self, grad: Any = None, retain_graph: bool = False) -> None:
        """Compute the gradient of this tensor with respect to every leaf that requires grad.

        `grad` (dL/dself) defaults to 1 for a one-element tensor; for any other shape it is
        required. Gradients accumulate into `.grad`; call zero_grad() between steps.
        """
        if not self.requires_grad:
            raise RuntimeError("backward: this tensor does not require grad and has no grad_fn; "
                               "create the inputs with requires_grad=True")
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(f"backward: grad can be created implicitly only for a one-element "
                                   f"output, but this tensor has shape {self.shape}; pass backward(grad)")
            g = backend.xp(self.data).ones(self.shape, dtype=self.dtype)
        else:
            g = grad.data if isinstance(grad, Tensor) else grad
            if isinstance(g, (str, bytes, dict, set)) or g is None:
                raise TypeError(f"backward: grad must be a Tensor or an array, got {type(g).__name__}")
            if backend.device_of(g) != self.device:
                if isinstance(g, np.ndarray) or backend.is_device_array(g):
                    raise RuntimeError(f"backward: grad is on {backend.device_of(g)} but the tensor "
                                       f"is on {self.device}")
            g = backend.xp(self.data).array(g, dtype=self.dtype)   # a copy: never alias the caller's array
            if g.shape != self.shape:
                raise ValueError(f"backward: grad of shape {tuple(g.shape)} does not match the "
                                 f"tensor's shape {self.shape}")
        autograd.backward(self, g, retain_graph=retain_graph)

    def detach(self) -> "Tensor":
        """The same values (shared, not copied), cut off from the graph."""
        return Tensor._from_op(self.data, None)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Switch requires_grad of this leaf tensor in place (float dtypes only); returns self."""
        if not self.is_leaf:
            raise RuntimeError("requires_grad_: can only change requires_grad of a leaf tensor; "
                               "use .detach() to get a leaf")
        if requires_grad:
            _check_float(self.dtype, "requires_grad_")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> "Tensor":
        """Keep .grad of this non-leaf tensor after backward (leaves keep theirs anyway)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad: this tensor does not require grad")
        if self.grad_fn is not None:
            self.grad_fn._retained = weakref.ref(self)
        return self

    def zero_grad(self) -> None:
        """Forget the gradient: .grad becomes None."""
        self.grad = None

    # ------------------------------------------------------------------ devices and dtypes

    def to(self, device: str | None = None, dtype: Any = None) -> "Tensor":
        """A copy on `device` (and/or with `dtype`); gradients flow back to this tensor."""
        out = self
        if device is not None:
            device = backend.parse_device(device)
            if device != self.device:
                out = M.ToDevice.apply(out, device=device)
        if dtype is not None:
            out = out.astype(dtype)
        return out

    def cpu(self) -> "Tensor":
        """This tensor on the CPU (itself when it is there already); gradients flow back."""
        return self.to("cpu")

    def cuda(self) -> "Tensor":
        """This tensor on the GPU (itself when it is there already); needs CuPy."""
        return self.to("cuda")

    def astype(self, dtype: Any) -> "Tensor":
        """The values converted to `dtype` (itself when it has that dtype already).

        Gradients flow back through a float result; an integer result is cut off from the graph.
        """
        dtype = _to_dtype(dtype)
        if dtype == self.dtype:
            return self
        if self.requires_grad and dtype.kind not in "fc":
            return Tensor._from_op(self.data.astype(dtype), None)    # an integer result has no gradient
        return M.Cast.apply(self, dtype=dtype)

    float = lambda self: self.astype(np.float32)     # noqa: E731  (PyTorch's .float(), .double(), .long())
    double = lambda self: self.astype(np.float64)    # noqa: E731
    long = lambda self: self.astype(np.int64)        # noqa: E731
    float.__doc__ = "The values as float32, astype('float32') (PyTorch's .float())."
    double.__doc__ = "The values as float64, astype('float64') (PyTorch's .double())."
    long.__doc__ = "The values as int64, astype('int64') (PyTorch's .long()); no gradient flows back."

    # ------------------------------------------------------------------ arithmetic

    def _operand(self, other: Any, op: str) -> Any:
        """Prepare the other operand of a binary op: a Tensor, or a Python number left raw.

        Dtype rule (PyTorch's): an integer tensor meeting a float becomes float32 (or the
        other tensor's float dtype); a Python number never widens a float tensor.
        """
        if isinstance(other, Tensor):
            return other
        if isinstance(other, (int, float, bool)):
            return other
        if isinstance(other, (np.ndarray, np.generic, list, tuple)) or backend.is_device_array(other):
            return Tensor(other, device=self.device) if not isinstance(other, np.generic) else other.item()
        raise TypeError(f"{op}: unsupported operand type {type(other).__name__} (expected a Tensor, "
                        "a number or an array)")

    def _binary(self, fn: type, other: Any, op: str, reverse: bool = False) -> "Tensor":
        if isinstance(other, Tensor):
            a, b = self.data, other.data
            if a.dtype is b.dtype and a.shape == b.shape:          # the common case: nothing to check
                return fn.apply(other, self) if reverse else fn.apply(self, other)
        elif type(other) is float or type(other) is int:
            if self.data.dtype.kind == "f":                     # x * 2.0: the number stays raw
                return fn.apply(other, self) if reverse else fn.apply(self, other)
        return self._binary_checked(fn, other, op, reverse)

    def _binary_checked(self, fn: type, other: Any, op: str, reverse: bool) -> "Tensor":
        """A binary op whose operands need a conversion, a dtype promotion or a shape check."""
        other = self._operand(other, op)
        a, b = (other, self) if reverse else (self, other)
        if isinstance(a, Tensor) and isinstance(b, Tensor):
            ka, kb = a.data.dtype.kind, b.data.dtype.kind
            if ka != kb and "f" in (ka, kb):      # int/bool with float: use the float's dtype
                if ka != "f":
                    a = a.astype(b.dtype)
                else:
                    b = b.astype(a.dtype)
            if a.data.shape != b.data.shape:
                _check_broadcast(op, a.shape, b.shape)
        elif isinstance(other, float) and self.dtype.kind != "f":
            if reverse:
                b = b.astype(DEFAULT_FLOAT)
            else:
                a = a.astype(DEFAULT_FLOAT)
        return fn.apply(a, b)

    def __add__(self, other):  return self._binary(E.Add, other, "add")
    def __radd__(self, other): return self._binary(E.Add, other, "add", reverse=True)
    def __sub__(self, other):  return self._binary(E.Sub, other, "sub")
    def __rsub__(self, other): return self._binary(E.Sub, other, "sub", reverse=True)
    def __mul__(self, other):  return self._binary(E.Mul, other, "mul")
    def __rmul__(self, other): return self._binary(E.Mul, other, "mul", reverse=True)
    def __truediv__(self, other):  return self._div(other, reverse=False)
    def __rtruediv__(self, other): return self._div(other, reverse=True)
    def __pow__(self, other):  return self._binary(E.Pow, other, "pow")
    def __rpow__(self, other): return self._binary(E.Pow, other, "pow", reverse=True)
    def __matmul__(self, other):  return self.matmul(other)
    def __rmatmul__(self, other): return self._operand(other, "matmul").matmul(self)
    def __neg__(self): return E.Neg.apply(self)
    def __pos__(self): return self

    def _div(self, other: Any, reverse: bool) -> "Tensor":
        """True division: integer tensors are divided as float32 (as in PyTorch)."""
        x = self if self.dtype.kind == "f" else self.astype(DEFAULT_FLOAT)
        return x._binary(E.Div, other, "div", reverse=reverse)

    # in-place updates (w -= lr * w.grad under no_grad, as in PyTorch)
    def _inplace(self, other: Any, op: str, out_of_place) -> "Tensor":
        if autograd.is_grad_enabled() and self.requires_grad:
            if self.is_leaf:
                raise RuntimeError(f"{op}: a leaf tensor that requires grad cannot be changed in place while "
                                   "the graph is recorded; update parameters inside `with no_grad():`")
            return out_of_place(self, other)        # a non-leaf: record an ordinary op instead
        value = other.data if isinstance(other, Tensor) else other
        if isinstance(other, Tensor) and other.device != self.device:
            raise RuntimeError(f"{op}: the tensors are on {self.device} and {other.device}")
        shape = getattr(value, "shape", ())
        if len(shape) > self.ndim or any(v not in (1, s) for v, s in zip(reversed(shape), reversed(self.shape))):
            raise ValueError(f"{op}: a value of shape {tuple(shape)} cannot update a tensor of shape "
                             f"{self.shape} in place")
        try:
            out_of_place.ufunc(self.data, value, out=self.data, casting="same_kind")
        except TypeError as exc:     # e.g. adding floats to an int tensor in place
            raise TypeError(f"{op}: cannot update a {self.dtype} tensor in place with this value: {exc}") from None
        return self

    def __iadd__(self, other): return self._inplace(other, "+=", _ADD)
    def __isub__(self, other): return self._inplace(other, "-=", _SUB)
    def __imul__(self, other): return self._inplace(other, "*=", _MUL)
    def __itruediv__(self, other): return self._inplace(other, "/=", _DIV)

    def zero_(self) -> "Tensor":
        """Set every element to 0 in place (as w.grad.zero_() in PyTorch)."""
        return self.fill_(0)

    def fill_(self, value: float) -> "Tensor":
        """Set every element to `value` in place, outside the graph; returns self."""
        if autograd.is_grad_enabled() and self.requires_grad and self.is_leaf:
            raise RuntimeError("fill_: a leaf tensor that requires grad cannot be changed in place while "
                               "the graph is recorded; use `with no_grad():`")
        self.data[...] = value
        return self

    def add(self, other):
        """self + other, elementwise with broadcasting (the + operator);  dy/dself = dy/dother = 1."""
        return self + other

    def sub(self, other):
        """self - other, elementwise with broadcasting (the - operator);  dy/dself = 1, dy/dother = -1."""
        return self - other

    def mul(self, other):
        """self * other, elementwise (matmul is the matrix product);  dy/dself = other, dy/dother = self."""
        return self * other

    def div(self, other):
        """self / other, true division (integers become float32);  dy/dself = 1 / other, dy/dother = -self / other^2."""
        return self / other

    def pow(self, other):
        """self ** other, elementwise;  dy/dself = other * self^(other - 1),  dy/dother = y * ln(self)."""
        return self ** other

    def neg(self):
        """-self;  dy/dself = -1."""
        return -self

    # comparisons: elementwise, bool results, never part of the graph
    def _compare(self, other: Any, op: str, compare) -> "Tensor":
        other = self._operand(other, op)
        b = other.data if isinstance(other, Tensor) else other
        if isinstance(other, Tensor):
            if other.device != self.device:
                raise RuntimeError(f"{op}: expected both tensors on the same device, found {self.device} "
                                   f"and {other.device}")
            _check_broadcast(op, self.shape, other.shape)
        return _wrap(compare(self.data, b))

    def __lt__(self, other): return self._compare(other, "lt", lambda a, b: a < b)
    def __le__(self, other): return self._compare(other, "le", lambda a, b: a <= b)
    def __gt__(self, other): return self._compare(other, "gt", lambda a, b: a > b)
    def __ge__(self, other): return self._compare(other, "ge", lambda a, b: a >= b)
    def __eq__(self, other): return self._compare(other, "eq", lambda a, b: a == b)
    def __ne__(self, other): return self._compare(other, "ne", lambda a, b: a != b)

    def __invert__(self) -> "Tensor":
        if self.dtype != np.bool_:
            raise TypeError(f"~ (logical not) needs a bool tensor, got {self.dtype}")
        return Tensor._from_op(~self.data, None)

    def __and__(self, other): return self._compare(other, "and", lambda a, b: a & b)
    def __or__(self, other):  return self._compare(other, "or", lambda a, b: a | b)

    def any(self) -> "Tensor":
        """True if any element is nonzero: a 0-d bool tensor, outside the graph."""
        return _wrap(self.data.any())

    def all(self) -> "Tensor":
        """True if every element is nonzero: a 0-d bool tensor, outside the graph."""
        return _wrap(self.data.all())

    # ------------------------------------------------------------------ elementwise functions

    def exp(self):
        """y = e^x, elementwise;  dy/dx = y."""
        return E.Exp.apply(self._floating("exp"))

    def log(self):
        """y = ln(x), the natural logarithm, elementwise;  dy/dx = 1 / x."""
        return E.Log.apply(self._floating("log"))

    def sqrt(self):
        """y = √x, elementwise;  dy/dx = 1 / (2 y)."""
        return E.Sqrt.apply(self._floating("sqrt"))

    def abs(self):
        """y = |x|, elementwise;  dy/dx = sign(x), which is 0 at x = 0."""
        return E.Abs.apply(self)

    def tanh(self):
        """y = tanh(x), elementwise;  dy/dx = 1 - y^2."""
        return E.Tanh.apply(self._floating("tanh"))

    def sigmoid(self):
        """y = 1 / (1 + exp(-x));  dy/dx = y * (1 - y)."""
        return E.Sigmoid.apply(self._floating("sigmoid"))

    def relu(self):
        """y = max(x, 0);  dy/dx = 1 where x > 0, else 0."""
        return E.ReLU.apply(self)

    def softsign(self):
        """y = x / (1 + |x|);  dy/dx = 1 / (1 + |x|)^2."""
        return E.Softsign.apply(self._floating("softsign"))

    def leaky_relu(self, negative_slope: float = 0.01):
        """y = x if x > 0 else negative_slope * x;  dy/dx = 1 if x > 0 else negative_slope."""
        return E.LeakyReLU.apply(self._floating("leaky_relu"), negative_slope=negative_slope)

    def elu(self, alpha: float = 1.0):
        """y = x if x > 0 else alpha * (e^x - 1);  dy/dx = 1 if x > 0 else y + alpha."""
        return E.ELU.apply(self._floating("elu"), alpha=alpha)

    def gelu(self, approximate: str = "none"):
        """y = x Φ(x), Φ the standard normal CDF;  dy/dx = Φ(x) + x φ(x).

        approximate="tanh": y = x/2 (1 + tanh(√(2/π) (x + 0.044715 x^3))).
        """
        if approximate not in ("none", "tanh"):
            raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
        return E.GELU.apply(self._floating("gelu"), approximate=approximate)

    def softplus(self, beta: float = 1.0, threshold: float = 20.0):
        """y = ln(1 + e^(beta x)) / beta, a smooth relu;  dy/dx = sigmoid(beta x).

        Where beta x > threshold, y = x (as in PyTorch: there the two agree to float precision).
        """
        return E.Softplus.apply(self._floating("softplus"), beta=beta, threshold=threshold)

    def square(self):
        """y = x * x;  dy/dx = 2x."""
        return self * self

    def clip(self, min: float | None = None, max: float | None = None):
        """Limit every element to [min, max] (one bound may be None); clamp is the same.

        dy/dx = 1 where min <= x <= max, else 0.
        """
        if min is None and max is None:
            raise ValueError("clip: give at least one of min and max")
        return E.Clip.apply(self, min=min, max=max)

    clamp = clip

    def maximum(self, other):
        """Elementwise max(self, other);  the gradient goes to the larger one, half to each on a tie."""
        return self._binary(E.Maximum, other, "maximum")

    def minimum(self, other):
        """Elementwise min(self, other);  the gradient goes to the smaller one, half to each on a tie."""
        return self._binary(E.Minimum, other, "minimum")

    def where(self, condition: Any, other: Any) -> "Tensor":
        """self where condition is true, else other (PyTorch's x.where(cond, y))."""
        return where(condition, self, other)

    def _floating(self, op: str) -> "Tensor":
        """Integer inputs to a float-valued function are converted to float32 first."""
        return self if self.dtype.kind == "f" else self.astype(DEFAULT_FLOAT)

    # ------------------------------------------------------------------ reductions

    def _reduce(self, fn: type, op: str, axis, keepdims, dim, keepdim) -> "Tensor":
        axis = _axes(_pick(axis, dim, "axis", "dim", None), self.ndim, op)
        keepdims = bool(_pick(keepdims, keepdim, "keepdims", "keepdim", False))
        return fn.apply(self, axis=axis, keepdims=keepdims)

    def sum(self, axis=None, keepdims=None, *, dim=None, keepdim=None) -> "Tensor":
        """Sum over axis (all axes when None); keepdims keeps them as size 1;  dy/dx = 1.

        axis may be an int or a tuple; dim and keepdim are PyTorch's names for axis and keepdims.
        """
        return self._reduce(R.Sum, "sum", axis, keepdims, dim, keepdim)

    def mean(self, axis=None, keepdims=None, *, dim=None, keepdim=None) -> "Tensor":
        """Mean over axis (all axes when None); keepdims keeps them as size 1;  dy/dx = 1/n."""
        return self._floating("mean")._reduce(R.Mean, "mean", axis, keepdims, dim, keepdim)

    def max(self, axis=None, keepdims=None, *, dim=None, keepdim=None) -> "Tensor":
        """The largest value over axis (all axes when None), values only: argmax gives the index.

        dy/dx = 1 at the maximum, 0 elsewhere. Ties: over one axis the first maximal index
        gets the gradient; over all (or several) axes the tied maxima share it equally.
        """
        self._check_nonempty("max")
        return self._reduce(R.Max, "max", axis, keepdims, dim, keepdim)

    def min(self, axis=None, keepdims=None, *, dim=None, keepdim=None) -> "Tensor":
        """The smallest value over axis (all axes when None), values only; gradient and ties as in max."""
        self._check_nonempty("min")
        return self._reduce(R.Min, "min", axis, keepdims, dim, keepdim)

    def var(self, axis=None, correction: int = 1, keepdims=None, *, dim=None, keepdim=None,
            unbiased: bool | None = None) -> "Tensor":
        """Σ (x - mean)^2 / (n - correction); unbiased (correction=1) by default, as in PyTorch."""
        axis = _axes(_pick(axis, dim, "axis", "dim", None), self.ndim, "var")
        keepdims = bool(_pick(keepdims, keepdim, "keepdims", "keepdim", False))
        if unbiased is not None:
            correction = 1 if unbiased else 0
        x = self._floating("var")
        axes = range(self.ndim) if axis is None else (axis if isinstance(axis, tuple) else (axis,))
        n = 1
        for a in axes:
            n *= self.shape[a]
        centred = x - x.mean(axis=axis, keepdims=True)
        return (centred * centred).sum(axis=axis, keepdims=keepdims) / max(n - correction, 0)

    def std(self, axis=None, correction: int = 1, keepdims=None, *, dim=None, keepdim=None,
            unbiased: bool | None = None) -> "Tensor":
        """√var: the standard deviation over axis, unbiased (correction=1) by default, as in PyTorch."""
        return self.var(axis, correction, keepdims, dim=dim, keepdim=keepdim, unbiased=unbiased).sqrt()

    def argmax(self, axis=None, keepdims=None, *, dim=None, keepdim=None) -> "Tensor":
        """The index (int64) of the largest value over axis (flattened when None); the first on ties; no grad."""
        return self._arg(backend.xp(self.data).argmax, "argmax", axis, keepdims, dim, keepdim)

    def argmin(self, axis=None, keepdims=None, *, dim=None, keepdim=None) -> "Tensor":
        """The index (int64) of the smallest value over axis (flattened when None); the first on ties; no grad."""
        return self._arg(backend.xp(self.data).argmin, "argmin", axis, keepdims, dim, keepdim)

    def _arg(self, func, op, axis, keepdims, dim, keepdim) -> "Tensor":
        self._check_nonempty(op)
        axis = _axes(_pick(axis, dim, "axis", "dim", None), self.ndim, op)
        if isinstance(axis, tuple):
            raise TypeError(f"{op}: axis must be a single int or None")
        keepdims = bool(_pick(keepdims, keepdim, "keepdims", "keepdim", False))
        return _wrap(func(self.data, axis=axis, keepdims=keepdims).astype(np.int64))

    def _check_nonempty(self, op: str) -> None:
        if self.data.size == 0:
            raise ValueError(f"{op}: cannot reduce an empty tensor of shape {self.shape}")

    def softmax(self, axis=None, *, dim=None) -> "Tensor":
        """y_i = e^(x_i) / Σ_j e^(x_j) along axis (default -1), so each slice sums to 1.

        dL/dx = y (g - Σ_j g_j y_j) for the incoming gradient g. Computed from x - max(x), which
        gives the same y and cannot overflow.
        """
        axis = _axes(_pick(axis, dim, "axis", "dim", -1), self.ndim, "softmax")
        return N.Softmax.apply(self._floating("softmax"), axis=axis)

    def log_softmax(self, axis=None, *, dim=None) -> "Tensor":
        """y_i = x_i - log Σ_j e^(x_j) along axis (default -1): log(softmax(x)), computed stably.

        dL/dx = g - softmax(x) Σ_j g_j for the incoming gradient g.
        """
        axis = _axes(_pick(axis, dim, "axis", "dim", -1), self.ndim, "log_softmax")
        return N.LogSoftmax.apply(self._floating("log_softmax"), axis=axis)

    def logsumexp(self, axis=None, keepdims=None, *, dim=None, keepdim=None) -> "Tensor":
        """y = log Σ e^x over axis (all axes when None);  dy/dx = softmax(x).

        Computed as max(x) + log Σ e^(x - max(x)), which cannot overflow.
        """
        return self._floating("logsumexp")._reduce(N.LogSumExp, "logsumexp", axis, keepdims, dim, keepdim)

    # ------------------------------------------------------------------ movement

    def reshape(self, *shape) -> "Tensor":
        """The same elements in C order with a new shape; one size may be -1 (inferred). view is the same.

        The gradient is reshaped back to the old shape.
        """
        shape = _shape_arg(shape, "reshape", allow_minus_one=True)
        known = 1
        unknown = [i for i, s in enumerate(shape) if s == -1]
        for s in shape:
            if s != -1:
                if s < 0:
                    raise ValueError(f"reshape: invalid size {s} in shape {shape}")
                known *= s
        size = self.data.size
        if len(unknown) > 1:
            raise ValueError(f"reshape: only one size can be -1, got shape {shape}")
        if unknown and known and size % known == 0:
            shape = tuple(size // known if s == -1 else s for s in shape)
            known = size
        if known != size or (unknown and -1 in shape):
            raise ValueError(f"reshape: cannot reshape a tensor of shape {self.shape} ({size} elements) "
                             f"into shape {shape}")
        if shape == self.shape:
            return self
        return M.Reshape.apply(self, shape=shape)

    view = reshape

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> "Tensor":
        """Merge the axes start_dim..end_dim into one: (2, 3, 4) -> (24,), or (2, 12) with start_dim=1."""
        if self.ndim == 0:
            return self.reshape(1)
        start = _axes(start_dim, self.ndim, "flatten")
        end = _axes(end_dim, self.ndim, "flatten")
        if start > end:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
        return self.reshape(self.shape[:start] + (-1,) + self.shape[end + 1:])

    def squeeze(self, dim: int | None = None) -> "Tensor":
        """Remove axes of size 1: all of them, or only those in dim (an int or a tuple)."""
        if dim is None:
            return self.reshape(tuple(s for s in self.shape if s != 1))
        dims = _axes(dim, self.ndim, "squeeze")
        dims = dims if isinstance(dims, tuple) else (() if dims is None else (dims,))
        return self.reshape(tuple(s for i, s in enumerate(self.shape) if not (i in dims and s == 1)))

    def unsqueeze(self, dim: int) -> "Tensor":
        """Insert an axis of size 1 at position dim: shape (3,) becomes (1, 3) with dim=0, (3, 1) with dim=1."""
        axis = _axes(dim, self.ndim + 1, "unsqueeze")
        return self.reshape(self.shape[:axis] + (1,) + self.shape[axis:])

    def permute(self, *dims) -> "Tensor":
        """Reorder the axes: y.shape[i] = x.shape[dims[i]];  the gradient takes the inverse order."""
        dims = _int_tuple(dims, "permute", "the axes")
        if len(dims) != self.ndim or sorted(d % max(self.ndim, 1) for d in dims) != list(range(self.ndim)):
            raise ValueError(f"permute: {dims} is not an ordering of the {self.ndim} axes of a tensor "
                             f"of shape {self.shape}")
        dims = tuple(d % self.ndim for d in dims)
        if dims == tuple(range(self.ndim)):
            return self
        return M.Permute.apply(self, order=dims)

    def transpose(self, dim0: int, dim1: int) -> "Tensor":
        """Swap the axes dim0 and dim1 (a permute);  the gradient is swapped back."""
        order = list(range(self.ndim))
        a, b = _axes(dim0, self.ndim, "transpose"), _axes(dim1, self.ndim, "transpose")
        if self.ndim < 2:
            return self
        order[a], order[b] = order[b], order[a]
        return self.permute(tuple(order))

    def expand(self, *shape) -> "Tensor":
        """Broadcast size-1 axes (and new leading ones) to a larger shape without copying; -1 keeps a size.

        The gradient is summed over the expanded axes.
        """
        shape = _shape_arg(shape, "expand", allow_minus_one=True)
        if len(shape) < self.ndim:
            raise ValueError(f"expand: the target shape {shape} has fewer dimensions than the "
                             f"tensor's shape {self.shape}")
        lead = len(shape) - self.ndim
        target = list(shape)
        for i, s in enumerate(self.shape):
            want = shape[lead + i]
            if want == -1:
                target[lead + i] = s
            elif s != want and s != 1:
                raise ValueError(f"expand: cannot expand shape {self.shape} to {shape}: axis {i} has "
                                 f"size {s}, which is not 1")
        target = tuple(target)
        if target == self.shape:
            return self
        return M.Expand.apply(self, shape=target)

    def pad(self, pad: Sequence[int], value: float = 0.0) -> "Tensor":
        """PyTorch's F.pad: a flat tuple (left, right, top, bottom, ...), last axis first."""
        pad = tuple(pad)
        if len(pad) % 2 or len(pad) // 2 > self.ndim:
            raise ValueError(f"pad: expected an even number of values, two per axis and at most "
                             f"{2 * self.ndim} for a tensor of shape {self.shape}, got {pad}")
        if any(not isinstance(p, (int, np.integer)) or isinstance(p, bool) for p in pad):
            raise TypeError(f"pad: padding sizes must be ints, got {pad}")
        if any(p < 0 for p in pad):
            raise ValueError(f"pad: padding sizes cannot be negative, got {pad}")
        widths = [(0, 0)] * self.ndim
        for i in range(len(pad) // 2):
            widths[self.ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
        return M.Pad.apply(self, widths=tuple(widths), value=value)

    def __getitem__(self, index: Any) -> "Tensor":
        index = _convert_index(index, self)
        try:
            return M.GetItem.apply(self, index=index)
        except IndexError as exc:
            raise IndexError(f"getitem: index {_describe_index(index)} does not fit a tensor of shape "
                             f"{self.shape}: {exc}") from None

    # ------------------------------------------------------------------ linear algebra

    def matmul(self, other: Any) -> "Tensor":
        """The matrix product self @ other;  dL/dA = G Bᵀ,  dL/dB = Aᵀ G for Y = A B.

        NumPy's rules: leading (batch) axes broadcast, a 1-D operand is a vector. dot is the same.
        """
        if isinstance(other, Tensor):              # the common case: two matrices that fit
            a, b = self.data, other.data
            if a.ndim == 2 and b.ndim == 2 and a.shape[1] == b.shape[0] and a.dtype is b.dtype:
                return L.MatMul.apply(self, other)
        other = self._operand(other, "matmul")
        if not isinstance(other, Tensor):
            raise TypeError("matmul: both operands must be tensors or arrays, not a Python number")
        a, b = self.shape, other.shape
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
        if self.dtype != other.dtype:
            if self.dtype.kind == "f" and other.dtype.kind == "f":
                common = np.promote_types(self.dtype, other.dtype)
                return L.MatMul.apply(self.astype(common), other.astype(common))
            raise TypeError(f"matmul: dtypes {self.dtype} and {other.dtype} differ; convert one with .astype()")
        return L.MatMul.apply(self, other)

    dot = matmul

    # ------------------------------------------------------------------ constructors

    @staticmethod
    def _make_new(array: Any, requires_grad: bool, dtype: Any, op: str) -> "Tensor":
        if dtype is not None:
            array = array.astype(_to_dtype(dtype), copy=False)
        if requires_grad:
            _check_float(array.dtype, op)
        t = Tensor._from_op(array, None)
        t.requires_grad = bool(requires_grad)
        return t

    @staticmethod
    def zeros(*shape, requires_grad: bool = False, device: str | None = None, dtype: Any = None) -> "Tensor":
        """A tensor of zeros; the shape as separate ints or one tuple; float32 unless dtype is given."""
        xp = backend.module_for(backend.parse_device(device))
        return Tensor._make_new(xp.zeros(_shape_arg(shape, "zeros"), dtype=_to_dtype(dtype or np.float32)),
                                requires_grad, None, "zeros")

    @staticmethod
    def ones(*shape, requires_grad: bool = False, device: str | None = None, dtype: Any = None) -> "Tensor":
        """A tensor of ones; the shape as separate ints or one tuple; float32 unless dtype is given."""
        xp = backend.module_for(backend.parse_device(device))
        return Tensor._make_new(xp.ones(_shape_arg(shape, "ones"), dtype=_to_dtype(dtype or np.float32)),
                                requires_grad, None, "ones")

    @staticmethod
    def full(shape, fill_value: float, requires_grad: bool = False, device: str | None = None,
             dtype: Any = None) -> "Tensor":
        """A tensor of `shape` filled with fill_value: float32 for a float, int64 for an int, bool for a bool."""
        xp = backend.module_for(backend.parse_device(device))
        shape = _shape_arg((shape,) if isinstance(shape, (tuple, list)) else (shape,), "full")
        if dtype is None:
            dtype = np.float32 if isinstance(fill_value, float) else (
                np.bool_ if isinstance(fill_value, bool) else np.int64)
        return Tensor._make_new(xp.full(shape, fill_value, dtype=_to_dtype(dtype)), requires_grad, None, "full")

    @staticmethod
    def rand(*shape, requires_grad: bool = False, device: str | None = None, dtype: Any = None) -> "Tensor":
        """Uniform on [0, 1), from the seedable generator of the device (manual_seed)."""
        device = backend.parse_device(device)
        dtype = _to_dtype(dtype or np.float32)
        array = backend.generator(device).random(_shape_arg(shape, "rand"), dtype=dtype)
        return Tensor._make_new(array, requires_grad, None, "rand")

    @staticmethod
    def randn(*shape, requires_grad: bool = False, device: str | None = None, dtype: Any = None) -> "Tensor":
        """Standard normal, from the seedable generator of the device (manual_seed)."""
        device = backend.parse_device(device)
        dtype = _to_dtype(dtype or np.float32)
        array = backend.generator(device).standard_normal(_shape_arg(shape, "randn"), dtype=dtype)
        return Tensor._make_new(array, requires_grad, None, "randn")

    @staticmethod
    def uniform(*shape, low: float = 0.0, high: float = 1.0, requires_grad: bool = False,
                device: str | None = None, dtype: Any = None) -> "Tensor":
        """Uniform on [low, high)."""
        device = backend.parse_device(device)
        dtype = _to_dtype(dtype or np.float32)
        array = backend.generator(device).uniform(low, high, _shape_arg(shape, "uniform")).astype(dtype)
        return Tensor._make_new(array, requires_grad, None, "uniform")

    @staticmethod
    def arange(start: float, stop: float | None = None, step: float = 1, requires_grad: bool = False,
               device: str | None = None, dtype: Any = None) -> "Tensor":
        """Like range(); int64 for int arguments, float32 otherwise."""
        if stop is None:
            start, stop = 0, start
        if dtype is None:
            ints = all(isinstance(v, (int, np.integer)) for v in (start, stop, step))
            dtype = np.int64 if ints else np.float32
        xp = backend.module_for(backend.parse_device(device))
        return Tensor._make_new(xp.arange(start, stop, step, dtype=_to_dtype(dtype)), requires_grad, None, "arange")

    @staticmethod
    def eye(n: int, m: int | None = None, requires_grad: bool = False, device: str | None = None,
            dtype: Any = None) -> "Tensor":
        """The n x m identity matrix (m = n by default): ones on the diagonal, zeros elsewhere."""
        n = _int_arg(n, "n", "eye")
        m = None if m is None else _int_arg(m, "m", "eye")
        xp = backend.module_for(backend.parse_device(device))
        return Tensor._make_new(xp.eye(n, m, dtype=_to_dtype(dtype or np.float32)), requires_grad, None, "eye")

    @staticmethod
    def zeros_like(t: "Tensor", requires_grad: bool = False, dtype: Any = None) -> "Tensor":
        """Zeros with the shape, device and dtype of t (another dtype if given)."""
        return Tensor.zeros(t.shape, requires_grad=requires_grad, device=t.device, dtype=dtype or t.dtype)

    @staticmethod
    def ones_like(t: "Tensor", requires_grad: bool = False, dtype: Any = None) -> "Tensor":
        """Ones with the shape, device and dtype of t (another dtype if given)."""
        return Tensor.ones(t.shape, requires_grad=requires_grad, device=t.device, dtype=dtype or t.dtype)

    @staticmethod
    def cat(tensors: Sequence["Tensor"], axis: int | None = None, *, dim: int | None = None) -> "Tensor":
        """Join tensors along an existing axis; all other axes must match."""
        tensors = _tensor_list(tensors, "cat")
        first = tensors[0]
        axis = _axes(_pick(axis, dim, "axis", "dim", 0), first.ndim, "cat")
        if first.ndim == 0:
            raise ValueError("cat: zero-dimensional tensors cannot be concatenated; use stack")
        for t in tensors[1:]:
            if t.ndim != first.ndim or any(s != o for i, (s, o) in enumerate(zip(t.shape, first.shape)) if i != axis):
                raise ValueError(f"cat: shapes {first.shape} and {t.shape} differ outside axis {axis}")
        kinds = {t.dtype for t in tensors}
        if len(kinds) > 1:
            common = np.result_type(*kinds)
            tensors = [t.astype(common) for t in tensors]
        return M.Cat.apply(*tensors, axis=axis)

    @staticmethod
    def stack(tensors: Sequence["Tensor"], axis: int | None = None, *, dim: int | None = None) -> "Tensor":
        """Join same-shaped tensors along a new axis (unsqueeze each, then cat)."""
        tensors = _tensor_list(tensors, "stack")
        shape = tensors[0].shape
        for t in tensors[1:]:
            if t.shape != shape:
                raise ValueError(f"stack: all tensors must have the same shape, got {shape} and {t.shape}")
        axis = _axes(_pick(axis, dim, "axis", "dim", 0), len(shape) + 1, "stack")
        return Tensor.cat([t.unsqueeze(axis) for t in tensors], axis=axis)


class _InPlace:
    """An out-of-place operator paired with the NumPy/CuPy ufunc that does it in place."""

    def __init__(self, operator, name: str):
        self.operator, self.name = operator, name

    def __call__(self, a, b):
        return self.operator(a, b)

    def ufunc(self, target, value, out, casting):
        getattr(backend.xp(target), self.name)(target, value, out=out, casting=casting)


_ADD = _InPlace(lambda a, b: a + b, "add")
_SUB = _InPlace(lambda a, b: a - b, "subtract")
_MUL = _InPlace(lambda a, b: a * b, "multiply")
_DIV = _InPlace(lambda a, b: a / b, "divide")


# ----------------------------------------------------------------------------- module-level helpers

def _check_broadcast(op: str, a: tuple, b: tuple) -> None:
    """Raise ValueError when shapes a and b do not broadcast (NumPy's rule, from the right)."""
    for x, y in zip(reversed(a), reversed(b)):
        if x != y and x != 1 and y != 1:
            raise ValueError(f"{op}: shapes {tuple(a)} and {tuple(b)} cannot be broadcast together "
                             f"({x} != {y})")


def _tensor_list(tensors: Any, op: str) -> list:
    if isinstance(tensors, Tensor) or not isinstance(tensors, Iterable):
        raise TypeError(f"{op}: expected a list or tuple of tensors, got {type(tensors).__name__}")
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not tensors:
        raise ValueError(f"{op}: expected a non-empty list of tensors")
    devices = {t.device for t in tensors}
    if len(devices) > 1:
        raise RuntimeError(f"{op}: expected all tensors on the same device, found {' and '.join(sorted(devices))}")
    return tensors


def _convert_index(index: Any, t: Tensor) -> Any:
    """Turn Tensors and lists inside an index into raw arrays on the tensor's device."""
    parts = index if isinstance(index, tuple) else (index,)
    out = []
    for p in parts:
        if isinstance(p, Tensor):
            if p.dtype.kind not in "iub":
                raise IndexError(f"getitem: tensors used as indices must be integer or bool, got {p.dtype}")
            if p.device != t.device:
                raise RuntimeError(f"getitem: the index is on {p.device} but the tensor is on {t.device}")
            p = p.data
        elif isinstance(p, list):
            p = backend.xp(t.data).asarray(p)
            if p.size == 0:
                p = p.astype(np.int64)
        elif isinstance(p, np.ndarray) and t.device != "cpu":
            p = backend.to_device(p, t.device)
        elif isinstance(p, (float, np.floating)):
            raise IndexError(f"getitem: only integers, slices, None, ..., and integer or bool arrays are "
                             f"valid indices, got the float {p!r}")
        out.append(p)
    return tuple(out) if isinstance(index, tuple) else out[0]


def _describe_index(index: Any) -> str:
    parts = index if isinstance(index, tuple) else (index,)
    shown = [f"array{tuple(p.shape)}" if hasattr(p, "shape") and getattr(p, "ndim", 0) else repr(p) for p in parts]
    return "[" + ", ".join(shown) + "]"


def where(condition: Any, x: Any, y: Any) -> Tensor:
    """Elementwise x where condition is true, else y; gradients flow to x and y only where chosen."""
    cond = condition.data if isinstance(condition, Tensor) else condition
    if isinstance(condition, Tensor) and condition.dtype != np.bool_:
        cond = cond != 0
    ref = x if isinstance(x, Tensor) else y
    if not isinstance(ref, Tensor):
        ref = Tensor(x)
        x = ref
    x = ref._operand(x, "where")
    y = ref._operand(y, "where")
    if not hasattr(cond, "shape"):
        cond = backend.xp(ref.data).asarray(cond, dtype=bool)
    tensors = [v for v in (x, y) if isinstance(v, Tensor)]
    if isinstance(condition, Tensor) and condition.device != ref.device:
        raise RuntimeError(f"where: condition is on {condition.device} but the values are on {ref.device}")
    shapes = [cond.shape] + [v.shape for v in tensors]
    for s in shapes[1:]:
        _check_broadcast("where", shapes[0], s)
    if len(tensors) == 2:
        _check_broadcast("where", tensors[0].shape, tensors[1].shape)
        if tensors[0].dtype != tensors[1].dtype and "f" in (tensors[0].dtype.kind, tensors[1].dtype.kind):
            common = np.result_type(tensors[0].dtype, tensors[1].dtype)
            x, y = x.astype(common), y.astype(common)
    return E.Where.apply(cond, x, y)


def zeros_like(t: Tensor, **kwargs) -> Tensor:
    """Zeros with the shape, device and dtype of t; keywords as Tensor.zeros_like."""
    return Tensor.zeros_like(t, **kwargs)


def ones_like(t: Tensor, **kwargs) -> Tensor:
    """Ones with the shape, device and dtype of t; keywords as Tensor.ones_like."""
    return Tensor.ones_like(t, **kwargs)


autograd.Tensor = Tensor   # Function.apply wraps its results in this class
