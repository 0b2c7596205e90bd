"""MaxPool2d, the layer of torch/nn/modules/pooling.py: the maximum of each window.

The computation is the Function MaxPool2d in functions/conv.py.
"""
from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from . import functional as F
from .module import Module


class MaxPool2d(Module):
    """Max pooling of (N, C, H, W): each output is the maximum of one kernel_size window.

    stride defaults to kernel_size (windows side by side); padding counts as -inf.
    """

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1):
        super().__init__()
        self.kernel_size, self.stride, self.padding, self.dilation = kernel_size, stride, padding, dilation

    def forward(self, x: Tensor) -> Tensor:
        """The maximum of each window of x;  the gradient goes to each window's maximum (the first on ties)."""
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation)

    def extra_repr(self) -> str:
        """The window options as PyTorch prints them, shown in the printed module."""
        stride = self.kernel_size if self.stride is None else self.stride
        return (f"kernel_size={self.kernel_size}, stride={stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode=False")
