"""Conv2d, the layer of torch/nn/modules/conv.py.

The weight is (out_channels, in_channels, kh, kw) and the default initialisation is
PyTorch's, so state_dicts move across unchanged. The computation (im2col and one matrix
product) is the Function Conv2d in functions/conv.py.
"""
from __future__ import annotations

import math
from typing import Any

from .. import arguments
from ..tensor import Tensor
from . import functional as F
from . import init
from .linear import _empty
from .module import Module


class Conv2d(Module):
    """2-D convolution over (N, C, H, W). weight: (out_channels, in_channels, kh, kw)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, bias: bool = True, device: str | None = None,
                 dtype: Any = None):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = arguments.pair(kernel_size, "kernel_size", "Conv2d")
        self.stride = arguments.pair(stride, "stride", "Conv2d")
        self.padding = arguments.pair(padding, "padding", "Conv2d")
        self.dilation = arguments.pair(dilation, "dilation", "Conv2d")
        self.weight = _empty(out_channels, in_channels, *self.kernel_size, device=device, dtype=dtype)
        self.bias = _empty(out_channels, device=device, dtype=dtype) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw weight and bias again from PyTorch's default U(-1/√fan_in, 1/√fan_in), fan_in = C_in·kh·kw."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_channels * self.kernel_size[0] * self.kernel_size[1]
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Tensor) -> Tensor:
        """Y[n, o] = b[o] + Σ_c W[o, c] ⋆ X[n, c]: (N, in_channels, H, W) -> (N, out_channels, H', W').

        H' = (H + 2 padding - dilation (kh - 1) - 1) // stride + 1, and W' the same way.
        """
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation)

    def extra_repr(self) -> str:
        """The channels, kernel, stride and the options that differ from the defaults, shown when printed."""
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.bias is None:
            text += ", bias=False"
        return text
