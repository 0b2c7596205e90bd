"""Identity and Linear, the layers of torch/nn/modules/linear.py (y = x Wᵀ + b).

Parameter names, shapes and default initialisation follow torch.nn exactly
(Linear.weight is (out_features, in_features)), so state_dicts move across unchanged.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter


def _empty(*shape: int, device: str | None, dtype: Any) -> Parameter:
    """A Parameter of `shape` (float32 unless dtype says otherwise) that reset_parameters fills."""
    return Parameter(Tensor.zeros(*shape, device=device, dtype=dtype or np.float32))


class Identity(Module):
    """y = x: a placeholder layer that returns its input unchanged."""

    def forward(self, x: Tensor) -> Tensor:
        """Return x unchanged."""
        return x


class Linear(Module):
    """y = x Wᵀ + b.  W: (out_features, in_features), both drawn from U(-1/√in, 1/√in) like PyTorch."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device: str | None = None,
                 dtype: Any = None):
        super().__init__()
        if in_features < 0 or out_features < 0:
            raise ValueError(f"Linear: sizes must be non-negative, got in={in_features}, out={out_features}")
        self.in_features, self.out_features = in_features, out_features
        self.weight = _empty(out_features, in_features, device=device, dtype=dtype)
        self.bias = _empty(out_features, device=device, dtype=dtype) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw weight and bias again from PyTorch's default U(-1/√in_features, 1/√in_features)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Tensor) -> Tensor:
        """y = x Wᵀ + b: (..., in_features) -> (..., out_features)."""
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        """The sizes and whether there is a bias, shown in the printed module."""
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
