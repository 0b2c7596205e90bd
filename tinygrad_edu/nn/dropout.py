"""Dropout and Dropout2d, the layers of torch/nn/modules/dropout.py: regularisers that zero random
inputs (single values, or whole channels) while training."""
from __future__ import annotations

from .. import arguments
from ..tensor import Tensor
from . import functional as F
from .module import Module


class _DropoutNd(Module):
    """The options both dropout layers share: p, and inplace (accepted for PyTorch's signature;
    the output is a new tensor either way, the input is left as it was)."""

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        name = type(self).__name__
        arguments.number(p, "p", name)
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{name}: probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = arguments.flag(inplace, "inplace", name)

    def extra_repr(self) -> str:
        """p and inplace, shown in the printed module."""
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Zeroes each input with probability p while training (scaling the rest by 1/(1-p));
    the identity in eval mode."""

    def forward(self, x: Tensor) -> Tensor:
        """Training: zero each element with probability p, scale the rest by 1/(1-p). Eval: y = x."""
        return F.dropout(x, self.p, self.training)


class Dropout2d(_DropoutNd):
    """Zeroes each channel x[n, c] of (N, C, H, W) as a whole with probability p while training
    (scaling the kept channels by 1/(1-p)); the identity in eval mode. Neighbouring pixels of a
    feature map are strongly correlated, so zeroing single pixels would hardly regularise."""

    def forward(self, x: Tensor) -> Tensor:
        """Training: zero each (n, c) channel with probability p, scale the rest by 1/(1-p). Eval: y = x."""
        return F.dropout2d(x, self.p, self.training)
