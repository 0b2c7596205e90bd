"""The fake device array: a NumPy array behind a wall that only CuPy's own doors pass.

`ndarray` keeps its data in one attribute, `_a` (a numpy.ndarray). It is not a subclass of
numpy.ndarray, so `isinstance(x, numpy.ndarray)` is False as it is for a real CuPy array, and
every way in or out is checked the way CuPy checks it:

- NumPy arrays as operands are refused with TypeError (CuPy: "Unsupported type ...");
- implicit conversion (`numpy.asarray(x)`) raises TypeError with CuPy's message;
- explicit copies to the host (`.get()`, `.item()`, `float(x)`, ...) are counted in
  `cupy._fake_sync_count`, copies from the host in `cupy._fake_transfer_count`;
- results are never NumPy scalars: a reduction gives a 0-d array;
- only the attributes that real `cupy.ndarray` has exist (the list in _real_names.py).
"""
from __future__ import annotations

import numpy as np

from ._real_names import NAMES

_IMPLICIT = ("Implicit conversion to a NumPy array is not allowed. "
             "Please use `.get()` to construct a NumPy array explicitly.")

# counters, read and reset through cupy._fake_sync_count / cupy._fake_reset_sync_count()
# and `launch`: roughly how many kernels real CuPy would launch (every new array computed,
# every in-place update, every ElementwiseKernel call; views are free), for cupy._fake_launch_count
counters = {"sync": 0, "transfer": 0, "launch": 0}

def _errstate():
    """CuPy never warns about inf or nan: every operation runs with NumPy's warnings off."""
    return np.errstate(all="ignore")


def _unsupported(value):
    return TypeError(f"Unsupported type {type(value)}")


def unwrap(value):
    """A fake array -> its NumPy array; NumPy arrays are refused; lists/tuples are unwrapped."""
    t = type(value)
    if t is ndarray:
        return value._a
    if t is np.ndarray:
        raise TypeError(f"Unsupported type {t}: a numpy.ndarray cannot be an argument of a "
                        f"CuPy function or operator (copy it to the device with cupy.asarray)")
    if t is list or t is tuple:
        return t(unwrap(v) for v in value)
    if t is dict:
        return {k: unwrap(v) for k, v in value.items()}
    return value


def unwrap_operand(value):
    """An operand of an arithmetic operator or ufunc: a fake array or a scalar, nothing else."""
    t = type(value)
    if t is ndarray:
        return value._a
    if t in (int, float, bool, complex) or isinstance(value, np.generic):
        return value
    raise _unsupported(value)


def unwrap_index(index):
    """An index: fake arrays -> NumPy; NumPy index arrays are accepted, as CuPy accepts them."""
    t = type(index)
    if t is ndarray:
        return index._a
    if t is tuple:
        return tuple(unwrap_index(v) for v in index)
    if t is list:
        return [unwrap_index(v) for v in index]
    return index


def wrap(value):
    """A NumPy result -> a fake array (NumPy scalars become 0-d arrays); tuples elementwise."""
    t = type(value)
    if t is np.ndarray:
        return _new(value)
    if isinstance(value, np.generic):
        return _new(np.asarray(value))
    if t is tuple or t is list:
        return t(wrap(v) for v in value)
    return value


def _new(array):
    if array.base is None:          # computed into fresh memory: one kernel (views cost nothing)
        counters["launch"] += 1
    obj = object.__new__(ndarray)
    obj._a = array
    return obj


def count_sync():
    counters["sync"] += 1


_NDARRAY_NAMES = frozenset(NAMES["ndarray"])


class ndarray:
    """cupy.ndarray on NumPy: ndarray(shape, dtype=float, ...) like CuPy's constructor."""

    __slots__ = ("_a",)
    __array_priority__ = 100
    __hash__ = None

    def __init__(self, shape, dtype=float, memptr=None, strides=None, order="C"):
        if memptr is not None or strides is not None:
            raise NotImplementedError("fake cupy.ndarray(): memptr/strides are not supported")
        self._a = np.empty(shape, dtype=dtype, order=order)

    # ------------------------------------------------------------------ attributes
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    itemsize = property(lambda self: self._a.itemsize)
    nbytes = property(lambda self: self._a.nbytes)
    strides = property(lambda self: self._a.strides)
    flags = property(lambda self: self._a.flags)
    T = property(lambda self: _new(self._a.T))
    mT = property(lambda self: _new(self._a.mT))
    real = property(lambda self: _new(self._a.real))
    imag = property(lambda self: _new(self._a.imag))

    @shape.setter
    def shape(self, value):
        self._a.shape = value

    @property
    def base(self):
        return None if self._a.base is None else _new(self._a.base)

    @property
    def device(self):
        from .cuda import Device
        return Device(0)

    @property
    def data(self):
        from .cuda import MemoryPointer
        return MemoryPointer(self._a.ctypes.data)

    @property
    def flat(self):
        raise NotImplementedError("fake cupy: ndarray.flat is not supported")

    def __getattr__(self, name):
        # only reached for names not defined on the class: a NumPy method CuPy lacks
        raise AttributeError(f"'cupy.ndarray' object has no attribute '{name}'")

    # ------------------------------------------------------------------ host copies
    def get(self, stream=None, order="C", out=None, blocking=True):
        """A NumPy copy (a device-to-host copy: counted as one synchronisation)."""
        count_sync()
        if out is not None:
            if type(out) is not np.ndarray:
                raise TypeError("out must be a numpy.ndarray")
            np.copyto(out, self._a)
            return out
        return np.array(self._a, order=order, copy=True)

    def set(self, arr, stream=None):
        if type(arr) is not np.ndarray:
            raise TypeError(f"Only numpy.ndarray can be set to cupy.ndarray, got {type(arr)}")
        if arr.shape != self._a.shape:
            raise ValueError(f"Shape mismatch. Old shape: {self._a.shape}, new shape: {arr.shape}")
        if arr.dtype != self._a.dtype:
            raise TypeError(f"{arr.dtype} array cannot be set to {self._a.dtype} array")
        counters["transfer"] += 1
        np.copyto(self._a, arr)

    def item(self, *args):
        count_sync()
        return self._a.item(*args)

    def tolist(self):
        count_sync()
        return self._a.tolist()

    def tobytes(self, order="C"):
        count_sync()
        return self._a.tobytes(order)

    def __float__(self):
        count_sync()
        return float(self._a)

    def __int__(self):
        count_sync()
        return int(self._a)

    def __complex__(self):
        count_sync()
        return complex(self._a)

    def __bool__(self):
        count_sync()
        return bool(self._a)

    def __format__(self, spec):
        count_sync()
        return format(self._a.item() if self._a.ndim == 0 else self._a, spec)

    def __array__(self, dtype=None, copy=None):
        raise TypeError(_IMPLICIT)

    def __repr__(self):
        return repr(self._a)

    def __str__(self):
        return str(self._a)

    def __len__(self):
        if self._a.ndim == 0:
            raise TypeError("len() of unsized object")
        return len(self._a)

    def __iter__(self):
        if self._a.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (_new(self._a[i]) if self._a.ndim > 1 else _new(self._a[i:i + 1].reshape(()))
                for i in range(len(self._a)))

    def __copy__(self):
        return _new(self._a.copy())

    def __deepcopy__(self, memo):
        return _new(self._a.copy())

    def __reduce__(self):
        from . import array
        count_sync()
        return (array, (self._a.copy(),))

    # ------------------------------------------------------------------ indexing
    def __getitem__(self, index):
        result = self._a[unwrap_index(index)]
        if type(result) is not np.ndarray:
            result = np.asarray(result)
        return _new(result)

    def __setitem__(self, index, value):
        t = type(value)
        if t is ndarray:
            value = value._a
        elif t is np.ndarray or t is list or t is tuple:
            counters["transfer"] += 1          # cupy_array[...] = host values: a host-to-device copy
        counters["launch"] += 1
        self._a[unwrap_index(index)] = value

    # ------------------------------------------------------------------ NumPy protocols
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """numpy.exp(x) and friends run on the fake device, as CuPy does; NumPy arrays are refused."""
        from . import _ufunc_names
        if ufunc.__name__ not in _ufunc_names:
            return NotImplemented
        args = tuple(unwrap_operand(v) for v in inputs)
        out = kwargs.get("out")
        if out is not None:
            kwargs["out"] = tuple(unwrap_out(o) for o in out)
        with _errstate():
            result = getattr(ufunc, method)(*args, **kwargs)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return wrap(result)

    def __array_function__(self, func, types, args, kwargs):
        import cupy
        name = func.__name__
        module = func.__module__ or "numpy"
        target = cupy
        for part in module.split(".")[1:]:
            if part.startswith("_"):
                continue
            target = getattr(target, part, None)
            if target is None:
                return NotImplemented
        impl = getattr(target, name, None)
        if impl is None:
            return NotImplemented
        return impl(*args, **kwargs)


def unwrap_out(value):
    if type(value) is not ndarray:
        raise TypeError(f"out must be a cupy.ndarray, got {type(value)}")
    return value._a


# ---------------------------------------------------------------------- operators

def _binary(name):
    op = getattr(np.ndarray, name)

    def method(self, other):
        t = type(other)
        if t is ndarray:
            other = other._a
        elif not (t is int or t is float or t is bool or t is complex or isinstance(other, np.generic)):
            raise _unsupported(other)
        with _errstate():
            result = op(self._a, other)
        if result is NotImplemented:
            return result
        return _new(result) if type(result) is np.ndarray else wrap(result)
    method.__name__ = name
    return method


def _inplace(name):
    op = getattr(np.ndarray, name)

    def method(self, other):
        t = type(other)
        if t is ndarray:
            other = other._a
        elif not (t is int or t is float or t is bool or t is complex or isinstance(other, np.generic)):
            raise _unsupported(other)
        with _errstate():
            op(self._a, other)
        counters["launch"] += 1
        return self
    method.__name__ = name
    return method


def _unary(name):
    op = getattr(np.ndarray, name)

    def method(self):
        with _errstate():
            return _new(np.asarray(op(self._a)))
    method.__name__ = name
    return method


_BINARY = ["add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor",
           "lshift", "rshift", "divmod"]
for _n in _BINARY:
    for _form in (f"__{_n}__", f"__r{_n}__"):
        if _form in _NDARRAY_NAMES:
            setattr(ndarray, _form, _binary(_form))
    if f"__i{_n}__" in _NDARRAY_NAMES:
        setattr(ndarray, f"__i{_n}__", _inplace(f"__i{_n}__"))
for _n in ("__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"):
    setattr(ndarray, _n, _binary(_n))
for _n in ("__neg__", "__pos__", "__abs__", "__invert__"):
    setattr(ndarray, _n, _unary(_n))


def _rdivmod(self, other):
    return wrap(divmod(unwrap_operand(other), self._a))


ndarray.__rdivmod__ = _rdivmod


# ---------------------------------------------------------------------- methods

_HOST_METHODS = {"dump", "dumps", "tofile"}            # write to the host: count a sync
_SPECIAL = {"scatter_add", "scatter_max", "scatter_min", "toDlpack", "cstruct", "reduced_view",
            "mdspan"}


def _method(name):
    def method(self, *args, **kwargs):
        if args:
            args = unwrap(args)
        if kwargs:
            out = kwargs.get("out")
            kwargs = unwrap(kwargs)
            if out is not None:
                kwargs["out"] = unwrap_out(out)
                with _errstate():
                    getattr(self._a, name)(*args, **kwargs)
                return out
        with _errstate():
            result = getattr(self._a, name)(*args, **kwargs)
        if result is None:
            return None
        if result is self._a:                  # e.g. astype(same dtype, copy=False): the same array
            return self
        if type(result) is np.ndarray:
            return _new(result)
        return wrap(result)
    method.__name__ = name
    return method


def _host_method(name):
    def method(self, *args, **kwargs):
        count_sync()
        return getattr(self._a, name)(*args, **kwargs)
    method.__name__ = name
    return method


def _scatter(ufunc):
    def method(self, slices, value):
        with _errstate():
            ufunc.at(self._a, unwrap_index(slices), unwrap_operand(value) if type(value) is not list
                     else unwrap(value))
    return method


def _not_supported(name):
    def method(self, *args, **kwargs):
        raise NotImplementedError(f"fake cupy: ndarray.{name} is not supported")
    return method


for _n in NAMES["ndarray"]:
    if _n.startswith("_") or _n in ndarray.__dict__:
        continue
    if _n in _HOST_METHODS:
        setattr(ndarray, _n, _host_method(_n))
    elif _n in _SPECIAL:
        setattr(ndarray, _n, _not_supported(_n))
    elif hasattr(np.ndarray, _n):
        setattr(ndarray, _n, _method(_n))
    else:
        setattr(ndarray, _n, _not_supported(_n))

ndarray.scatter_add = _scatter(np.add)
ndarray.scatter_max = _scatter(np.maximum)
ndarray.scatter_min = _scatter(np.minimum)

del _n
