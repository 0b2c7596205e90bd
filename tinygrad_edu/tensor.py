"""Tensor: an array (NumPy or CuPy) plus its place in the computation graph.

Each operator and method below is a line or two: it checks its arguments (with the
shared checks of arguments.py) and calls one Function from functions/, or a few of them
for composites such as var or stack. The Function does the arithmetic; the Tensor only
records who made it (`grad_fn`) so that backward() can walk the graph back to the leaves."""
from __future__ import annotations

import math
import operator
import warnings
import weakref
from typing import Any, Sequence

import numpy as np

from . import arguments, autograd, backend, creation
from .arguments import DEFAULT_FLOAT
from .functions.elementwise import (ELU, GELU, Abs, Add, Clip, Div, Exp, LeakyReLU, Log, Maximum, Minimum,
                                    Mul, Neg, Pow, ReLU, Sigmoid, Softplus, Softsign, Sqrt, Sub, Tanh, Where)
from .functions.linalg import MatMul
from .functions.movement import Cast, Cat, Expand, GetItem, Pad, Permute, Reshape, ToDevice
from .functions.nn import LogSoftmax, LogSumExp, Softmax
from .functions.operands import (array_index, binary_operands, compared_value, describe_index, matmul_operands,
                                 operand, tensor_list, update_in_place, where_operands)
from .functions.reduce import Max, Mean, Min, Sum
from .functions.elementwise import Cos, MaskedFill, Sin, Tril, Triu
from .functions.operands import masked_fill_operands
from .functions.reduce import CumSum, TopK, TopKResult, top_indices
from .functions.movement import IndexAdd, ScatterAdd
from .functions.operands import index_add_operands, scatter_add_operands
from .random import multinomial

ArrayLike = Any


def _wrap(data: Any) -> "Tensor":
    """A Tensor (outside the graph) around a result that NumPy may have turned into a scalar."""
    return Tensor._from_op(backend.ensure_array(data), None)


class Tensor:
    """An n-dimensional array that can record the operations applied to it.

    Tensor(data, requires_grad=False, device=None, dtype=None): data is a number, a nested
    list, a NumPy or CuPy array or another Tensor (always copied). Python floats become
    float32, Python ints int64; NumPy arrays keep their dtype."""

    __slots__ = ("data", "_grad", "requires_grad", "grad_fn", "name", "_hooks", "__weakref__")
    __array_priority__ = 1000          # numpy_array + tensor calls Tensor.__radd__

    def __init__(self, data: ArrayLike, requires_grad: bool = False, device: str | None = None,
                 dtype: Any = None, name: str | None = None):
        self.data = arguments.as_array(data.data if isinstance(data, Tensor) else data, dtype, device)
        if requires_grad:
            arguments.float_dtype(self.data.dtype, "Tensor")
        self.requires_grad = bool(requires_grad)
        self._grad: Tensor | None = None
        self.grad_fn: autograd.Function | None = None
        self.name = name
        self._hooks = None                  # a leaf's register_hook functions

    @staticmethod
    def _from_op(data: Any, grad_fn: Any) -> "Tensor":
        """Wrap an array that an op produced (no copy, no checks: the fast internal path)."""
        t = object.__new__(Tensor)
        t.data = data
        t._grad = None
        t.grad_fn = grad_fn
        t.requires_grad = grad_fn is not None
        t.name = None
        t._hooks = None
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
        return self.shape if dim is None else self.shape[arguments.axes(dim, self.ndim, "size")]

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

    def __float__(self) -> float: return float(self.item())
    def __int__(self) -> int: return int(self.item())

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
        required. Gradients accumulate into `.grad`; call zero_grad() between steps."""
        autograd.backward(self, grad, retain_graph=retain_graph)

    def detach(self) -> "Tensor":
        """The same values (shared, not copied), cut off from the graph."""
        return Tensor._from_op(self.data, None)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Switch requires_grad of this leaf tensor in place (float dtypes only); returns self."""
        if not self.is_leaf:
            raise RuntimeError("requires_grad_: can only change requires_grad of a leaf tensor; "
                               "use .detach() to get a leaf")
        if requires_grad:
            arguments.float_dtype(self.dtype, "requires_grad_")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> "Tensor":
        """Keep .grad of this non-leaf tensor after backward (leaves keep theirs anyway)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad: this tensor does not require grad")
        if self.grad_fn is not None:
            self.grad_fn._retained = weakref.ref(self)
        return self

    def register_hook(self, hook) -> "autograd.RemovableHandle":
        """Call hook(grad) with dL/dself during every backward; it may return a new gradient."""
        return autograd.register_hook(self, hook)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradient: .grad becomes None, or with set_to_none=False a new array of zeros
        (the old array is never zeroed in place: another tensor may share it)."""
        if set_to_none or self._grad is None:
            self.grad = None
        else:
            self.grad = Tensor._from_op(backend.xp(self.data).zeros_like(self._grad.data), None)

    # ------------------------------------------------------------------ devices and dtypes

    def to(self, device: str | None = None, dtype: Any = None) -> "Tensor":
        """A copy on `device` (and/or with `dtype`); gradients flow back to this tensor."""
        out = self
        if device is not None:
            device = backend.parse_device(device)
            if device != self.device:
                out = ToDevice.apply(out, device=device)
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

        Gradients flow back through a float result; an integer result is cut off from the graph."""
        dtype = arguments.dtype(dtype)
        if dtype == self.dtype:
            return self
        if self.requires_grad and dtype.kind not in "fc":
            return Tensor._from_op(self.data.astype(dtype), None)    # an integer result has no gradient
        return Cast.apply(self, dtype=dtype)

    float = lambda self: self.astype(np.float32)     # noqa: E731  (PyTorch's .float(), .double(), .long())
    double = lambda self: self.astype(np.float64)    # noqa: E731
    long = lambda self: self.astype(np.int64)        # noqa: E731
    float.__doc__ = "The values as float32, astype('float32') (PyTorch's .float())."
    double.__doc__ = "The values as float64, astype('float64') (PyTorch's .double())."
    long.__doc__ = "The values as int64, astype('int64') (PyTorch's .long()); no gradient flows back."

    # ------------------------------------------------------------------ arithmetic

    def _binary(self, fn: type, other: Any, op: str, reverse: bool = False) -> "Tensor":
        if isinstance(other, Tensor):
            a, b = self.data, other.data
            # the common cases, nothing to check: one dtype, and other's shape is the end of
            # self's, the same shape or a bias added to every row ((16,) and (64, 16))
            if a.dtype is b.dtype and (a.shape == b.shape or a.shape[a.ndim - b.ndim:] == b.shape):
                return fn.apply(other, self) if reverse else fn.apply(self, other)
        elif type(other) is float or type(other) is int:
            if self.data.dtype.kind == "f":                     # x * 2.0: the number stays raw
                return fn.apply(other, self) if reverse else fn.apply(self, other)
        a, b = binary_operands(self, other, op, reverse)    # conversions, promotion, shape check
        return fn.apply(a, b)

    def __add__(self, other):  return self._binary(Add, other, "add")
    def __radd__(self, other): return self._binary(Add, other, "add", reverse=True)
    def __sub__(self, other):  return self._binary(Sub, other, "sub")
    def __rsub__(self, other): return self._binary(Sub, other, "sub", reverse=True)
    def __mul__(self, other):  return self._binary(Mul, other, "mul")
    def __rmul__(self, other): return self._binary(Mul, other, "mul", reverse=True)
    def __truediv__(self, other):  return self._div(other, reverse=False)
    def __rtruediv__(self, other): return self._div(other, reverse=True)
    def __pow__(self, other):  return self._binary(Pow, other, "pow")
    def __rpow__(self, other): return self._binary(Pow, other, "pow", reverse=True)
    def __matmul__(self, other):  return self.matmul(other)
    def __rmatmul__(self, other): return operand(self, other, "matmul").matmul(self)
    def __neg__(self): return Neg.apply(self)
    def __pos__(self): return self

    def _div(self, other: Any, reverse: bool) -> "Tensor":
        """True division: integer tensors are divided as float32 (as in PyTorch)."""
        return self._floating("div")._binary(Div, other, "div", reverse=reverse)

    # in-place updates (w -= lr * w.grad under no_grad, as in PyTorch)
    def _inplace(self, other: Any, op: str, array_op, out_of_place) -> "Tensor":
        if autograd.is_grad_enabled() and self.requires_grad:
            if self.grad_fn is None:
                raise RuntimeError(f"{op}: a leaf tensor that requires grad cannot be changed in place while "
                                   "the graph is recorded; update parameters inside `with no_grad():`")
            return out_of_place(self, other)        # a non-leaf: record an ordinary op instead
        update_in_place(self, other, op, array_op)
        return self

    def __iadd__(self, other): return self._inplace(other, "+=", operator.iadd, Tensor.__add__)
    def __isub__(self, other): return self._inplace(other, "-=", operator.isub, Tensor.__sub__)
    def __imul__(self, other): return self._inplace(other, "*=", operator.imul, Tensor.__mul__)
    def __itruediv__(self, other): return self._inplace(other, "/=", operator.itruediv, Tensor.__truediv__)

    def zero_(self) -> "Tensor":
        """Set every element to 0 in place (as w.grad.zero_() in PyTorch)."""
        return self.fill_(0)

    def fill_(self, value: float) -> "Tensor":
        """Set every element to the number `value` in place, outside the graph; returns self."""
        if autograd.is_grad_enabled() and self.requires_grad and self.grad_fn is None:
            raise RuntimeError("fill_: a leaf tensor that requires grad cannot be changed in place while "
                               "the graph is recorded; use `with no_grad():`")
        self.data.fill(value)
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
        return _wrap(compare(self.data, compared_value(self, other, op)))

    def __lt__(self, other): return self._compare(other, "lt", lambda a, b: a < b)
    def __le__(self, other): return self._compare(other, "le", lambda a, b: a <= b)
    def __gt__(self, other): return self._compare(other, "gt", lambda a, b: a > b)
    def __ge__(self, other): return self._compare(other, "ge", lambda a, b: a >= b)
    def __eq__(self, other): return self._compare(other, "eq", lambda a, b: a == b)
    def __ne__(self, other): return self._compare(other, "ne", lambda a, b: a != b)
    def __and__(self, other): return self._compare(other, "and", lambda a, b: a & b)
    def __or__(self, other):  return self._compare(other, "or", lambda a, b: a | b)

    def __invert__(self) -> "Tensor":
        if self.dtype != np.bool_:
            raise TypeError(f"~ (logical not) needs a bool tensor, got {self.dtype}")
        return Tensor._from_op(~self.data, None)

    def any(self) -> "Tensor":
        """True if any element is nonzero: a 0-d bool tensor, outside the graph."""
        return _wrap(self.data.any())

    def all(self) -> "Tensor":
        """True if every element is nonzero: a 0-d bool tensor, outside the graph."""
        return _wrap(self.data.all())

    # ------------------------------------------------------------------ elementwise functions

    def exp(self):
        """y = e^x, elementwise;  dy/dx = y."""
        return Exp.apply(self._floating("exp"))

    def log(self):
        """y = ln(x), the natural logarithm, elementwise;  dy/dx = 1 / x."""
        return Log.apply(self._floating("log"))

    def sqrt(self):
        """y = √x, elementwise;  dy/dx = 1 / (2 y)."""
        return Sqrt.apply(self._floating("sqrt"))

    def abs(self):
        """y = |x|, elementwise;  dy/dx = sign(x), which is 0 at x = 0."""
        return Abs.apply(self)

    def sin(self):
        """y = sin(x), elementwise (x in radians);  dy/dx = cos(x)."""
        return Sin.apply(self._floating("sin"))

    def cos(self):
        """y = cos(x), elementwise (x in radians);  dy/dx = -sin(x)."""
        return Cos.apply(self._floating("cos"))

    def tanh(self):
        """y = tanh(x), elementwise;  dy/dx = 1 - y^2."""
        return Tanh.apply(self._floating("tanh"))

    def sigmoid(self):
        """y = 1 / (1 + exp(-x));  dy/dx = y * (1 - y)."""
        return Sigmoid.apply(self._floating("sigmoid"))

    def relu(self):
        """y = max(x, 0);  dy/dx = 1 where x > 0, else 0."""
        return ReLU.apply(self)

    def softsign(self):
        """y = x / (1 + |x|);  dy/dx = 1 / (1 + |x|)^2."""
        return Softsign.apply(self._floating("softsign"))

    def leaky_relu(self, negative_slope: float = 0.01):
        """y = x if x > 0 else negative_slope * x;  dy/dx = 1 if x > 0 else negative_slope."""
        return LeakyReLU.apply(self._floating("leaky_relu"), negative_slope=negative_slope)

    def elu(self, alpha: float = 1.0):
        """y = x if x > 0 else alpha * (e^x - 1);  dy/dx = 1 if x > 0 else y + alpha."""
        return ELU.apply(self._floating("elu"), alpha=alpha)

    def gelu(self, approximate: str = "none"):
        """y = x Φ(x), Φ the standard normal CDF;  dy/dx = Φ(x) + x φ(x).

        approximate="tanh": y = x/2 (1 + tanh(√(2/π) (x + 0.044715 x^3)))."""
        arguments.choice(approximate, ("none", "tanh"), "approximate", "gelu")
        return GELU.apply(self._floating("gelu"), approximate=approximate)

    def softplus(self, beta: float = 1.0, threshold: float = 20.0):
        """y = ln(1 + e^(beta x)) / beta, a smooth relu;  dy/dx = sigmoid(beta x).

        Where beta x > threshold, y = x (as in PyTorch: there the two agree to float precision)."""
        return Softplus.apply(self._floating("softplus"), beta=beta, threshold=threshold)

    def square(self):
        """y = x * x;  dy/dx = 2x."""
        return self * self

    def clip(self, min: float | None = None, max: float | None = None):
        """Limit every element to [min, max] (one bound may be None); clamp is the same.

        dy/dx = 1 where min <= x <= max, else 0."""
        if min is None and max is None:
            raise ValueError("clip: give at least one of min and max")
        return Clip.apply(self, min=min, max=max)

    clamp = clip

    def maximum(self, other):
        """Elementwise max(self, other);  the gradient goes to the larger one, half to each on a tie."""
        return self._binary(Maximum, other, "maximum")

    def minimum(self, other):
        """Elementwise min(self, other);  the gradient goes to the smaller one, half to each on a tie."""
        return self._binary(Minimum, other, "minimum")

    def where(self, condition: Any, other: Any) -> "Tensor":
        """self where condition is true, else other (PyTorch's x.where(cond, y))."""
        return where(condition, self, other)

    def masked_fill(self, mask: Any, value: Any) -> "Tensor":
        """value where the bool mask (broadcast against self) is True, else self;  dy/dx = 0 where masked.

        value is a number (cast to self's dtype), or a 0-d tensor, which then gets the gradient."""
        mask, value = masked_fill_operands(self, mask, value)
        if isinstance(value, Tensor):
            return where(mask, value, self)
        return MaskedFill.apply(self, mask, value=value)

    def _floating(self, op: str) -> "Tensor":
        """Integer inputs to a float-valued function are converted to float32 first."""
        return self if self.data.dtype.kind == "f" else self.astype(DEFAULT_FLOAT)

    # ------------------------------------------------------------------ reductions

    def _reduce(self, fn: type, op: str, axis, keepdims, dim, keepdim) -> "Tensor":
        if axis is None and dim is None and keepdims is None and keepdim is None:
            return fn.apply(self, axis=None, keepdims=False)        # x.sum(), x.mean(): nothing to check
        axis = arguments.axis_arg(axis, dim, self.data.ndim, op)
        return fn.apply(self, axis=axis, keepdims=arguments.keepdims_arg(keepdims, keepdim))

    def sum(self, axis=None, keepdims=None, *, dim=None, keepdim=None) -> "Tensor":
        """Sum over axis (all axes when None); keepdims keeps them as size 1;  dy/dx = 1.

        axis may be an int or a tuple; dim and keepdim are PyTorch's names for axis and keepdims."""
        return self._reduce(Sum, "sum", axis, keepdims, dim, keepdim)

    def mean(self, axis=None, keepdims=None, *, dim=None, keepdim=None) -> "Tensor":
        """Mean over axis (all axes when None); keepdims keeps them as size 1;  dy/dx = 1/n."""
        return self._floating("mean")._reduce(Mean, "mean", axis, keepdims, dim, keepdim)

    def max(self, axis=None, keepdims=None, *, dim=None, keepdim=None) -> "Tensor":
        """The largest value over axis (all axes when None), values only: argmax gives the index.

        dy/dx = 1 at the maximum, 0 elsewhere. Ties: over one axis the first maximal index
        gets the gradient; over all (or several) axes the tied maxima share it equally."""
        arguments.nonempty(self.data.size, self.shape, "max")
        return self._reduce(Max, "max", axis, keepdims, dim, keepdim)

    def min(self, axis=None, keepdims=None, *, dim=None, keepdim=None) -> "Tensor":
        """The smallest value over axis (all axes when None), values only; gradient and ties as in max."""
        arguments.nonempty(self.data.size, self.shape, "min")
        return self._reduce(Min, "min", axis, keepdims, dim, keepdim)

    def var(self, axis=None, correction: int = 1, keepdims=None, *, dim=None, keepdim=None,
            unbiased: bool | None = None) -> "Tensor":
        """Σ (x - mean)^2 / (n - correction); unbiased (correction=1) by default, as in PyTorch."""
        axis = arguments.axis_arg(axis, dim, self.ndim, "var")
        keepdims = arguments.keepdims_arg(keepdims, keepdim)
        if unbiased is not None:
            correction = 1 if unbiased else 0
        n = math.prod(self.shape[a] for a in arguments.reduced_axes(axis, self.ndim))
        x = self._floating("var")
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
        arguments.nonempty(self.data.size, self.shape, op)
        axis = arguments.axis_arg(axis, dim, self.ndim, op)
        if isinstance(axis, tuple):
            raise TypeError(f"{op}: axis must be a single int or None")
        keepdims = arguments.keepdims_arg(keepdims, keepdim)
        return _wrap(func(self.data, axis=axis, keepdims=keepdims).astype(np.int64))

    def cumsum(self, axis=None, *, dim=None) -> "Tensor":
        """y_i = x_0 + x_1 + ... + x_i along axis (which, as in torch, must be given);
        dL/dx_j = Σ_{i >= j} g_i, the cumulative sum of the gradient from the other end."""
        return CumSum.apply(self, axis=arguments.one_axis(axis, dim, self.ndim, "cumsum"))

    def topk(self, k: int, axis=None, largest: bool = True, sorted: bool = True, *, dim=None) -> TopKResult:
        """The k largest values along axis (default -1), largest first, and their int64 indices,
        as (values, indices); largest=False gives the k smallest, smallest first. Ties: the lower
        index first; NaN counts as the largest. dL/dx = g at the chosen positions, 0 elsewhere."""
        axis = arguments.one_axis(axis, dim, self.ndim, "topk", default=-1)
        k = arguments.top_count(k, self.shape[axis] if self.ndim else 1, axis, "topk")
        arguments.flag(sorted, "sorted", "topk")            # the values always come sorted
        index = top_indices(self.data, k, axis, arguments.flag(largest, "largest", "topk"))
        return TopKResult(TopK.apply(self, index=index, axis=axis), _wrap(index.copy()))

    def multinomial(self, num_samples: int, replacement: bool = False) -> "Tensor":
        """num_samples category indices (int64) drawn from each row of probabilities: tinygrad_edu.multinomial."""
        return multinomial(self, num_samples, replacement)

    def softmax(self, axis=None, *, dim=None) -> "Tensor":
        """y_i = e^(x_i) / Σ_j e^(x_j) along axis (default -1), so each slice sums to 1.

        dL/dx = y (g - Σ_j g_j y_j) for the incoming gradient g. Computed from x - max(x), which
        gives the same y and cannot overflow."""
        axis = arguments.axis_arg(axis, dim, self.ndim, "softmax", default=-1)
        return Softmax.apply(self._floating("softmax"), axis=axis)

    def log_softmax(self, axis=None, *, dim=None) -> "Tensor":
        """y_i = x_i - log Σ_j e^(x_j) along axis (default -1): log(softmax(x)), computed stably.

        dL/dx = g - softmax(x) Σ_j g_j for the incoming gradient g."""
        axis = arguments.axis_arg(axis, dim, self.ndim, "log_softmax", default=-1)
        return LogSoftmax.apply(self._floating("log_softmax"), axis=axis)

    def logsumexp(self, axis=None, keepdims=None, *, dim=None, keepdim=None) -> "Tensor":
        """y = log Σ e^x over axis (all axes when None);  dy/dx = softmax(x).

        Computed as max(x) + log Σ e^(x - max(x)), which cannot overflow."""
        return self._floating("logsumexp")._reduce(LogSumExp, "logsumexp", axis, keepdims, dim, keepdim)

    # ------------------------------------------------------------------ movement

    def reshape(self, *shape) -> "Tensor":
        """The same elements in C order with a new shape; one size may be -1 (inferred). view is the same.

        The gradient is reshaped back to the old shape."""
        shape = arguments.shape(shape, "reshape", allow_minus_one=True)
        shape = arguments.reshape_target(shape, self.shape, self.data.size)
        return self if shape == self.shape else Reshape.apply(self, shape=shape)

    view = reshape

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> "Tensor":
        """Merge the axes start_dim..end_dim into one: (2, 3, 4) -> (24,), or (2, 12) with start_dim=1."""
        if self.ndim == 0:
            return self.reshape(1)
        start, end = arguments.axis_range(start_dim, end_dim, self.ndim, "flatten")
        return self.reshape(self.shape[:start] + (-1,) + self.shape[end + 1:])

    def squeeze(self, dim: int | None = None) -> "Tensor":
        """Remove axes of size 1: all of them, or only those in dim (an int or a tuple)."""
        if dim is None:
            return self.reshape(tuple(s for s in self.shape if s != 1))
        dims = arguments.reduced_axes(arguments.axes(dim, self.ndim, "squeeze"), self.ndim)
        return self.reshape(tuple(s for i, s in enumerate(self.shape) if not (i in dims and s == 1)))

    def unsqueeze(self, dim: int) -> "Tensor":
        """Insert an axis of size 1 at position dim: shape (3,) becomes (1, 3) with dim=0, (3, 1) with dim=1."""
        axis = arguments.axes(dim, self.ndim + 1, "unsqueeze")
        return self.reshape(self.shape[:axis] + (1,) + self.shape[axis:])

    def permute(self, *dims) -> "Tensor":
        """Reorder the axes: y.shape[i] = x.shape[dims[i]];  the gradient takes the inverse order."""
        order = arguments.permutation(dims, self.shape)
        return self if order == tuple(range(self.ndim)) else Permute.apply(self, order=order)

    def transpose(self, dim0: int, dim1: int) -> "Tensor":
        """Swap the axes dim0 and dim1 (a permute);  the gradient is swapped back."""
        order = list(range(self.ndim))
        a, b = arguments.axes(dim0, self.ndim, "transpose"), arguments.axes(dim1, self.ndim, "transpose")
        if self.ndim < 2:
            return self
        order[a], order[b] = order[b], order[a]
        return self.permute(tuple(order))

    def expand(self, *shape) -> "Tensor":
        """Broadcast size-1 axes (and new leading ones) to a larger shape without copying; -1 keeps a size.

        The gradient is summed over the expanded axes."""
        shape = arguments.expand_target(arguments.shape(shape, "expand", allow_minus_one=True), self.shape)
        return self if shape == self.shape else Expand.apply(self, shape=shape)

    def pad(self, pad: Sequence[int], value: float = 0.0) -> "Tensor":
        """PyTorch's F.pad: a flat tuple (left, right, top, bottom, ...), last axis first."""
        return Pad.apply(self, widths=arguments.pad_widths(pad, self.shape), value=value)

    def tril(self, diagonal: int = 0) -> "Tensor":
        """The lower triangle of each matrix (the last two axes): x[..., i, j] where j - i <= diagonal,
        else 0; diagonal=-1 drops the main diagonal too. The gradient is masked the same way."""
        arguments.matrices(self.shape, "tril")
        return Tril.apply(self, diagonal=arguments.int_arg(diagonal, "diagonal", "tril"))

    def triu(self, diagonal: int = 0) -> "Tensor":
        """The upper triangle of each matrix: x[..., i, j] where j - i >= diagonal, else 0
        (triu(1) keeps what a causal mask hides). The gradient is masked the same way."""
        arguments.matrices(self.shape, "triu")
        return Triu.apply(self, diagonal=arguments.int_arg(diagonal, "diagonal", "triu"))

    def __getitem__(self, index: Any) -> "Tensor":
        index = array_index(index, self.data)
        try:
            return GetItem.apply(self, index=index)
        except IndexError as exc:
            raise IndexError(f"getitem: index {describe_index(index)} does not fit a tensor of shape "
                             f"{self.shape}: {exc}") from None

    def scatter_add(self, axis=None, index=None, src=None, *, dim=None) -> "Tensor":
        """self, plus src[p] added at p with p[axis] = index[p] (torch's); dL/dsrc = g gathered at index."""
        axis, index, src, checked = scatter_add_operands(self, axis, dim, index, src)
        return ScatterAdd.apply(self, src, index=index, axis=axis, checked=checked)

    def index_add(self, axis=None, index=None, source=None, *, dim=None, alpha=1) -> "Tensor":
        """self, plus alpha · source's slices i added at index[i] along axis; dL/dsource = alpha · g[index]."""
        axis, index, source, alpha, checked = index_add_operands(self, axis, dim, index, source, alpha)
        return IndexAdd.apply(self, source, index=index, axis=axis, alpha=alpha, checked=checked)

    # ------------------------------------------------------------------ linear algebra

    def matmul(self, other: Any) -> "Tensor":
        """The matrix product self @ other;  dL/dA = G Bᵀ,  dL/dB = Aᵀ G for Y = A B.

        NumPy's rules: leading (batch) axes broadcast, a 1-D operand is a vector. dot is the same."""
        if isinstance(other, Tensor):              # the common case: two matrices that fit
            a, b = self.data, other.data
            if a.ndim == 2 and b.ndim == 2 and a.shape[1] == b.shape[0] and a.dtype is b.dtype:
                return MatMul.apply(self, other)
        a, b = matmul_operands(self, other)       # conversions, shape and dtype checks
        return MatMul.apply(a, b)

    dot = matmul

    # ------------------------------------------------------------------ constructors (creation.py)

    zeros = staticmethod(creation.zeros)
    ones = staticmethod(creation.ones)
    full = staticmethod(creation.full)
    rand = staticmethod(creation.rand)
    randn = staticmethod(creation.randn)
    uniform = staticmethod(creation.uniform)
    arange = staticmethod(creation.arange)
    eye = staticmethod(creation.eye)
    zeros_like = staticmethod(creation.zeros_like)
    ones_like = staticmethod(creation.ones_like)

    @staticmethod
    def cat(tensors: Sequence["Tensor"], axis: int | None = None, *, dim: int | None = None) -> "Tensor":
        """Join tensors along an existing axis; all other axes must match."""
        tensors = tensor_list(tensors, "cat")
        axis = arguments.axis_arg(axis, dim, tensors[0].ndim, "cat", default=0)
        arguments.cat_shapes([t.shape for t in tensors], axis)
        common = np.result_type(*{t.dtype for t in tensors})
        return Cat.apply(*[t.astype(common) for t in tensors], axis=axis)

    @staticmethod
    def stack(tensors: Sequence["Tensor"], axis: int | None = None, *, dim: int | None = None) -> "Tensor":
        """Join same-shaped tensors along a new axis (unsqueeze each, then cat)."""
        tensors = tensor_list(tensors, "stack")
        shape = arguments.same_shapes("stack", [t.shape for t in tensors])
        axis = arguments.axis_arg(axis, dim, len(shape) + 1, "stack", default=0)
        return Tensor.cat([t.unsqueeze(axis) for t in tensors], axis=axis)


# ----------------------------------------------------------------------------- module-level functions

def where(condition: Any, x: Any, y: Any) -> Tensor:
    """Elementwise x where condition is true, else y; gradients flow to x and y only where chosen."""
    cond, x, y = where_operands(condition, x, y)
    return Where.apply(cond, x, y)


zeros_like = Tensor.zeros_like
ones_like = Tensor.ones_like


autograd.Tensor = Tensor   # Function.apply wraps its results in this class
