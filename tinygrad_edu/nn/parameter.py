"""Parameter: a Tensor that a Module owns and trains."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import backend
from ..tensor import Tensor

_array_slot = Tensor.data               # the storage of Tensor.data, which Parameter guards


class Parameter(Tensor):
    """A leaf Tensor with requires_grad=True that a Module registers when it is assigned
    as an attribute (self.weight = Parameter(...)). Given a Tensor it shares its array."""

    def __init__(self, data: Any = None, requires_grad: bool = True):
        if data is None:
            data = Tensor.zeros(0)
        if isinstance(data, Tensor):
            super().__init__(0.0)
            _array_slot.__set__(self, data.data)       # share, as torch.nn.Parameter does
            if requires_grad:
                self.requires_grad_(True)
        else:
            super().__init__(data, requires_grad=requires_grad)

    def _set_data(self, array: Any) -> None:
        try:
            current = _array_slot.__get__(self)
        except AttributeError:                          # Tensor.__init__ setting it the first time
            _array_slot.__set__(self, array)
            return
        if not (isinstance(array, np.ndarray) or backend.is_device_array(array)):
            hint = ("it is a Tensor: assign its array, p.data = t.data" if isinstance(array, Tensor)
                    else "convert it with np.asarray(..., dtype=np.float32)")
            raise TypeError(f"Parameter.data: expected a NumPy or CuPy array, got {type(array).__name__}; {hint}")
        if tuple(array.shape) != current.shape:
            raise ValueError(
                f"Parameter.data: cannot assign an array of shape {tuple(array.shape)} to a parameter of "
                f"shape {current.shape}; a parameter keeps its shape (use .T for a transposed layout, or "
                f"make a new Parameter for a layer of another size)")
        if array.dtype != current.dtype:
            raise TypeError(
                f"Parameter.data: cannot assign an array of dtype {array.dtype} to a parameter of dtype "
                f"{current.dtype}; it would silently change the model's dtype. Convert it first, "
                f"p.data = array.astype(np.{current.dtype}), or copy the values in: p.data[...] = array")
        _array_slot.__set__(self, array)

    # Reading p.data is the slot's own C getter (the engine reads it at every op and every
    # backward step); only assigning goes through the checks of _set_data.
    data = property(_array_slot.__get__, _set_data, doc=(
        "The raw array (NumPy or CuPy). Assigning to it may move it to another device, but "
        "must keep its shape and dtype: a float64 array would silently turn the model float64."))

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
