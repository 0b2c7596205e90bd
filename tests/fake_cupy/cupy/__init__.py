"""A strict stand-in for CuPy that runs on NumPy, for testing "cuda" code on a machine with no GPU.

It is a test double, not a GPU library: put tests/fake_cupy at the front of sys.path (the test
suite does it for `pytest --fake-gpu`) and `import cupy` finds this package. It aims to fail
wherever real CuPy fails on code that was only ever run with NumPy:

- only the names real CuPy has exist (cupy, cupy.ndarray, cupy.random.Generator, ...; the
  lists in _real_names.py come from a real install via ../generate_names.py);
- device arrays are not NumPy arrays: mixing a numpy.ndarray into a device operation raises
  TypeError, implicit conversion raises TypeError, and explicit copies to the host are counted
  (`cupy._fake_sync_count`, reset by `cupy._fake_reset_sync_count()`);
- `ElementwiseKernel` compiles its CUDA C operation as C++ with g++ and runs it on the CPU
  (and, with FAKE_CUPY_NVCC=1 and nvcc on PATH, also checks it compiles as CUDA).

What it does not model: streams and asynchrony, memory limits, real CuPy's random streams,
CuPy's exact error messages beyond the few copied here.
"""
from __future__ import annotations

import functools
import sys
import types

import numpy as np

from ._real_names import NAMES
from ._array import (_errstate, counters, ndarray, unwrap, unwrap_operand, unwrap_out, wrap,
                     count_sync)

__version__ = NAMES["version"] + "+fake"

_REAL = frozenset(NAMES["cupy"])
_UFUNC_ATTRS = frozenset(NAMES["ufunc"])


def _fake_reset_sync_count() -> None:
    """Set the counters of device-to-host (sync) and host-to-device (transfer) copies to 0."""
    counters["sync"] = 0
    counters["transfer"] = 0
    counters["launch"] = 0


def __getattr__(name):
    if name == "_fake_sync_count":
        return counters["sync"]
    if name == "_fake_transfer_count":
        return counters["transfer"]
    if name == "_fake_launch_count":
        return counters["launch"]
    if name in _REAL:
        raise AttributeError(f"fake cupy does not implement cupy.{name} (real CuPy has it: "
                             f"add it to tests/fake_cupy)")
    raise AttributeError(f"module 'cupy' has no attribute '{name}'")


# ---------------------------------------------------------------------- host <-> device

def _from_host(obj):
    """Unwrap fake arrays inside `obj` but accept NumPy arrays and lists (an explicit copy)."""
    t = type(obj)
    if t is ndarray:
        return obj._a
    if t is list or t is tuple:
        return [_from_host(v) for v in obj]
    return obj


def asarray(a, dtype=None, order=None, *, blocking=False):
    """A device array for `a`: the same object when it is one already (and no conversion is asked)."""
    if type(a) is ndarray:
        if (dtype is None or np.dtype(dtype) == a.dtype) and order in (None, "K", "A"):
            return a
        return wrap(np.asarray(a._a, dtype=dtype, order=order))
    if type(a) is np.ndarray or type(a) in (list, tuple):
        counters["transfer"] += 1
    return wrap(np.array(_from_host(a), dtype=dtype, order=order or "K", copy=True))


asanyarray = asarray


def array(obj, dtype=None, copy=True, order="K", subok=False, ndmin=0, *, blocking=False):
    if type(obj) is ndarray:
        return wrap(np.array(obj._a, dtype=dtype, copy=copy, order=order, ndmin=ndmin))
    if type(obj) is np.ndarray or type(obj) in (list, tuple):
        counters["transfer"] += 1
    return wrap(np.array(_from_host(obj), dtype=dtype, copy=True, order=order, ndmin=ndmin))


def asnumpy(a, stream=None, order="C", out=None, *, blocking=True):
    """A NumPy array for `a`: a device-to-host copy for a device array (counted as a sync)."""
    if type(a) is ndarray:
        return a.get(stream=stream, order=order, out=out)
    return np.asarray(a, order=order)


def get_array_module(*args):
    for arg in args:
        if type(arg) is ndarray:
            return _this
    return np


def is_available() -> bool:
    return True


def fuse(*args, **kwargs):
    """cupy.fuse: here the function itself (no fusion; the same results)."""
    if len(args) == 1 and callable(args[0]) and not kwargs:
        return args[0]
    return lambda func: func


class _NotSupported:
    def __init__(self, *args, **kwargs):
        raise NotImplementedError(f"fake cupy: {type(self).__name__} is not supported "
                                  "(only ElementwiseKernel runs on the CPU)")


class RawKernel(_NotSupported):
    pass


class RawModule(_NotSupported):
    pass


class ReductionKernel(_NotSupported):
    pass


# ---------------------------------------------------------------------- ufuncs and functions

class ufunc:
    """A NumPy ufunc behind CuPy's rules: operands are device arrays or scalars only."""

    __slots__ = ("_u", "__name__", "name")

    def __init__(self, u):
        self._u = u
        self.__name__ = self.name = u.__name__

    nin = property(lambda self: self._u.nin)
    nout = property(lambda self: self._u.nout)
    nargs = property(lambda self: self._u.nargs)
    types = property(lambda self: self._u.types)

    def __repr__(self):
        return f"<ufunc '{self.__name__}'>"

    def __call__(self, *args, **kwargs):
        args = [unwrap_operand(a) for a in args]
        out = kwargs.get("out")
        if out is not None:
            kwargs["out"] = tuple(unwrap_out(o) for o in out) if type(out) is tuple else unwrap_out(out)
        with _errstate():
            result = self._u(*args, **kwargs)
        if out is not None:
            return out
        return wrap(result)

    def at(self, a, indices, b=None):
        if type(a) is not ndarray:
            raise TypeError(f"Unsupported type {type(a)}")
        from ._array import unwrap_index
        with _errstate():
            if b is None:
                self._u.at(a._a, unwrap_index(indices))
            else:
                self._u.at(a._a, unwrap_index(indices), unwrap_operand(b))

    def _method(name):
        def method(self, array, *args, **kwargs):
            out = kwargs.get("out")
            if out is not None:
                kwargs["out"] = unwrap_out(out)
            with _errstate():
                result = getattr(self._u, name)(unwrap_operand(array), *unwrap(args), **unwrap(kwargs))
            return out if out is not None else wrap(result)
        method.__name__ = name
        return method

    reduce = _method("reduce")
    accumulate = _method("accumulate")
    reduceat = _method("reduceat")
    del _method

    def outer(self, a, b, **kwargs):
        with _errstate():
            return wrap(self._u.outer(unwrap_operand(a), unwrap_operand(b), **kwargs))


def _wrap_function(func, name):
    """A NumPy function as a CuPy one: device arrays in (NumPy arrays refused), device arrays out."""

    @functools.wraps(func)
    def call(*args, **kwargs):
        out = kwargs.get("out")
        if args:
            args = unwrap(args)
        if kwargs:
            kwargs = unwrap(kwargs)
            if out is not None:
                kwargs["out"] = unwrap_out(out)
        with _errstate():
            result = func(*args, **kwargs)
        if out is not None:
            return out
        return wrap(result)
    call.__module__ = "cupy"
    return call


def wrap_module_functions(namespace: dict, source, names, module_name: str) -> None:
    """Fill `namespace` with the names (from real CuPy) that the NumPy module `source` has."""
    for name in names:
        if name.startswith("_") or name in namespace:
            continue
        value = getattr(source, name, None)
        if value is None or isinstance(value, types.ModuleType):
            continue
        if isinstance(value, np.ufunc):
            value = ufunc(value)
        elif isinstance(value, type) or not callable(value):
            pass                                    # dtypes, scalar types, exceptions, constants
        else:
            value = _wrap_function(value, name)
            value.__module__ = module_name
        namespace[name] = value


from . import cuda, lib, linalg, random  # noqa: E402  (they import the helpers above)
from ._kernel import ElementwiseKernel  # noqa: E402

get_default_memory_pool = cuda.get_default_memory_pool
get_default_pinned_memory_pool = cuda.get_default_pinned_memory_pool


def _strict_array_arg(name):
    """Functions whose first argument must be a device array in real CuPy (a cdef ndarray)."""
    numpy_func = getattr(np, name)

    @functools.wraps(numpy_func)
    def call(a, *args, **kwargs):
        if type(a) is not ndarray:
            raise TypeError(f"Argument 'a' has incorrect type (expected cupy._core.core._ndarray_base, "
                            f"got {type(a).__name__})")
        return _wrapped[name](a, *args, **kwargs)
    return call


_wrapped: dict = {}
wrap_module_functions(_wrapped, np, ["ascontiguousarray", "asfortranarray"], "cupy")
ascontiguousarray = _strict_array_arg("ascontiguousarray")
asfortranarray = _strict_array_arg("asfortranarray")

wrap_module_functions(globals(), np, NAMES["cupy"], "cupy")
ndarray.__module__ = "cupy"

_ufunc_names = frozenset(name for name, value in globals().items() if isinstance(value, ufunc))
_this = sys.modules[__name__]
