"""Dropout, the layer of torch/nn/modules/dropout.py: a regulariser that zeroes random inputs while training."""
from __future__ import annotations

from ..tensor import Tensor
from . import functional as F
from .module import Module


class Dropout(Module):
    """Zeroes each input with probability p while training (scaling the rest by 1/(1-p));
    the identity in eval mode."""

    def __init__(self, p: float = 0.5):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: probability has to be between 0 and 1, but got {p}")
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        """Training: zero each element with probability p, scale the rest by 1/(1-p). Eval: y = x."""
        return F.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        """p, shown in the printed module."""
        return f"p={self.p}, inplace=False"
