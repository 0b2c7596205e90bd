"""Flatten, the layer of torch/nn/modules/flatten.py: the step between convolutional and linear layers."""
from __future__ import annotations

from ..tensor import Tensor
from .module import Module


class Flatten(Module):
    """Merge the axes start_dim..end_dim into one: by default all but the batch axis,
    (N, C, H, W) -> (N, C·H·W), the step between convolutional and linear layers."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Tensor) -> Tensor:
        """x.flatten(start_dim, end_dim)."""
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        """start_dim and end_dim, shown in the printed module."""
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
