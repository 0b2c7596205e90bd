"""Parameter: a Tensor that a Module owns and trains."""
from __future__ import annotations

from typing import Any

from ..tensor import Tensor


class Parameter(Tensor):
    """A leaf Tensor with requires_grad=True that a Module registers when it is assigned
    as an attribute (self.weight = Parameter(...)). Given a Tensor it shares its array."""

    def __init__(self, data: Any = None, requires_grad: bool = True):
        if data is None:
            data = Tensor.zeros(0)
        if isinstance(data, Tensor):
            super().__init__(0.0)
            self.data = data.data          # share, as torch.nn.Parameter does
            if requires_grad:
                self.requires_grad_(True)
        else:
            super().__init__(data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
