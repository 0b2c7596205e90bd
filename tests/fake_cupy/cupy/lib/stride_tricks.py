"""cupy.lib.stride_tricks: as_strided and sliding_window_view on device arrays."""
import numpy as np

from .. import _wrap_function
from .._array import ndarray


def as_strided(x, shape=None, strides=None):
    if type(x) is not ndarray:
        raise TypeError(f"as_strided: expected cupy.ndarray, got {type(x)}")
    return _wrap_function(np.lib.stride_tricks.as_strided, "as_strided")(x, shape=shape, strides=strides)


sliding_window_view = _wrap_function(np.lib.stride_tricks.sliding_window_view, "sliding_window_view")
