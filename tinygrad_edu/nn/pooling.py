"""MaxPool2d, AvgPool2d and AdaptiveAvgPool2d, the layers of torch/nn/modules/pooling.py.

None of them has parameters. The computations are the Functions MaxPool2d and AvgPool2d in
functions/conv.py (a window sliding over the image) and AdaptiveAvgPool2d in
functions/sampling.py (windows chosen to give a fixed output size).
"""
from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from . import functional as F
from .module import Module


class MaxPool2d(Module):
    """Max pooling of (N, C, H, W): each output is the maximum of one kernel_size window.

    stride defaults to kernel_size (windows side by side); padding counts as -inf; ceil_mode
    keeps a last, partial window. return_indices=True is not supported.
    """

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                 return_indices: bool = False, ceil_mode: bool = False):
        super().__init__()
        if return_indices:
            raise ValueError("MaxPool2d: return_indices=True is not supported")
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, x: Tensor) -> Tensor:
        """The maximum of each window of x;  the gradient goes to each window's maximum (the first on ties)."""
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode)

    def extra_repr(self) -> str:
        """The window options as PyTorch prints them, shown in the printed module."""
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """Average pooling of (N, C, H, W): each output is the mean of one kernel_size window.

    stride defaults to kernel_size; padding counts as zeros. The divisor is the window's size
    (count_include_pad=True, the default), the number of its pixels inside the image
    (count_include_pad=False), or divisor_override; ceil_mode keeps a last, partial window.
    """

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input: Tensor) -> Tensor:
        """The mean of each window of input;  the gradient of an output is shared equally by its window."""
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        """The window options as PyTorch prints them."""
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling of (N, C, H, W) to a fixed output_size (H', W'), whatever H and W are: output i
    averages rows ⌊i H / H'⌋ to ⌈(i + 1) H / H'⌉ - 1. output_size: an int, a pair, None for "keep".
    AdaptiveAvgPool2d(1) is global average pooling, the last layer of a ResNet before its Linear."""

    def __init__(self, output_size: Any):
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        """The mean over each of the output_size windows of input."""
        return F.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        """The output size, as PyTorch prints it."""
        return f"output_size={self.output_size}"
