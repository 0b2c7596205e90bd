"""cupyx on NumPy: scatter_add / scatter_max / scatter_min, rsqrt, errstate and scipy.special."""
from __future__ import annotations

import numpy as np

from cupy._array import _errstate, ndarray, unwrap_index, unwrap_operand
from cupy._real_names import NAMES

_REAL = frozenset(NAMES["cupyx"])


def __getattr__(name):
    if name in _REAL:
        raise AttributeError(f"fake cupy does not implement cupyx.{name}")
    raise AttributeError(f"module 'cupyx' has no attribute '{name}'")


def _scatter(ufunc, a, slices, value):
    if type(a) is not ndarray:
        raise TypeError(f"Unsupported type {type(a)}")
    with _errstate():
        ufunc.at(a._a, unwrap_index(slices), unwrap_operand(value))


# CuPy's atomicAdd-based scatter_add refuses every other dtype (int64 included) with a TypeError
_SCATTER_ADD_DTYPES = frozenset(np.dtype(t) for t in (np.int32, np.float16, np.float32, np.float64,
                                                       np.uint32, np.uint64))


def scatter_add(a, slices, value) -> None:
    """a[slices] += value, adding repeated indices up (numpy.add.at); with an integer index array,
    only the dtypes CuPy's atomic add supports, as in CuPy."""
    parts = slices if isinstance(slices, tuple) else (slices,)
    indexed = any(isinstance(p, (ndarray, np.ndarray, list)) and np.asarray(unwrap_index(p)).dtype.kind in "iu"
                  for p in parts)
    if indexed and type(a) is ndarray and a.dtype not in _SCATTER_ADD_DTYPES:
        raise TypeError("cupy.add.at only supports int32, float16, float32, float64, uint32, uint64, "
                        "as data type")
    _scatter(np.add, a, slices, value)


def scatter_max(a, slices, value) -> None:
    _scatter(np.maximum, a, slices, value)


def scatter_min(a, slices, value) -> None:
    _scatter(np.minimum, a, slices, value)


def rsqrt(x, out=None):
    import cupy
    return cupy.reciprocal(cupy.sqrt(x), out=out)


errstate = np.errstate
geterr = np.geterr
seterr = np.seterr

from . import scipy  # noqa: E402,F401
