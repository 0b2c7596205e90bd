"""Conv2d and ConvTranspose2d, the layers of torch/nn/modules/conv.py.

The weights are Conv2d (out_channels, in_channels/groups, kh, kw) and ConvTranspose2d
(in_channels, out_channels/groups, kh, kw), with PyTorch's default initialisation, so
state_dicts move across unchanged. The computations (im2col and one matrix product; its
transpose) are the Functions Conv2d and ConvTranspose2d in functions/conv.py.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

from .. import arguments
from ..functions.conv import conv_transpose_size
from ..tensor import Tensor
from . import functional as F
from . import init
from .linear import _empty
from .module import Module


class _ConvNd(Module):
    """What Conv2d and ConvTranspose2d share: the hyper-parameters, the initialisation and the repr."""

    def __init__(self, name: str, in_channels: int, out_channels: int, kernel_size: Any, stride: Any, padding: Any,
                 dilation: Any, groups: int, bias: bool, padding_mode: str, output_padding: Any = 0):
        super().__init__()
        self.in_channels = arguments.positive_int(in_channels, "in_channels", name)
        self.out_channels = arguments.positive_int(out_channels, "out_channels", name)
        self.groups = arguments.positive_int(groups, "groups", name)
        if in_channels % groups:
            raise ValueError(f"{name}: in_channels must be divisible by groups, got {in_channels} and {groups}")
        if out_channels % groups:
            raise ValueError(f"{name}: out_channels must be divisible by groups, got {out_channels} and {groups}")
        if padding_mode != "zeros":
            raise ValueError(f"{name}: only padding_mode='zeros' is supported, got {padding_mode!r}")
        self.kernel_size = arguments.pair(kernel_size, "kernel_size", name)
        self.stride = arguments.pair(stride, "stride", name)
        self.padding = arguments.pair(padding, "padding", name)
        self.dilation = arguments.pair(dilation, "dilation", name)
        self.output_padding = arguments.pair(output_padding, "output_padding", name)
        self.padding_mode = padding_mode
        arguments.flag(bias, "bias", name)

    def reset_parameters(self) -> None:
        """Draw weight and bias again from PyTorch's default U(-1/√fan_in, 1/√fan_in), with
        fan_in = weight.shape[1]·kh·kw (Kaiming-uniform with a = √5 for the weight)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * self.kernel_size[0] * self.kernel_size[1]
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        """The channels, kernel, stride and the options that differ from the defaults, as PyTorch prints them."""
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.output_padding != (0, 0):
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text


class Conv2d(_ConvNd):
    """2-D convolution over (N, C, H, W). weight: (out_channels, in_channels/groups, kh, kw)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: str | None = None, dtype: Any = None):
        super().__init__("Conv2d", in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode)
        self.weight = _empty(out_channels, in_channels // groups, *self.kernel_size, device=device, dtype=dtype)
        self.bias = _empty(out_channels, device=device, dtype=dtype) if bias else None
        self.reset_parameters()

    def forward(self, x: Tensor) -> Tensor:
        """Y[n, o] = b[o] + Σ_c W[o, c] ⋆ X[n, c]: (N, in_channels, H, W) -> (N, out_channels, H', W').

        H' = (H + 2 padding - dilation (kh - 1) - 1) // stride + 1, and W' the same way.
        """
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class ConvTranspose2d(_ConvNd):
    """The transposed convolution over (N, C, H, W), the backward of Conv2d used as a layer: every
    input pixel adds a kh × kw stamp of the weights, `stride` apart, so the image grows.
    weight: (in_channels, out_channels/groups, kh, kw), the layout of the Conv2d it reverses."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, output_padding: Any = 0, groups: int = 1, bias: bool = True,
                 dilation: Any = 1, padding_mode: str = "zeros", device: str | None = None, dtype: Any = None):
        super().__init__("ConvTranspose2d", in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, output_padding)
        self.weight = _empty(in_channels, out_channels // groups, *self.kernel_size, device=device, dtype=dtype)
        self.bias = _empty(out_channels, device=device, dtype=dtype) if bias else None
        self.reset_parameters()

    def forward(self, input: Tensor, output_size: Sequence[int] | None = None) -> Tensor:
        """(N, in_channels, H, W) -> (N, out_channels, H', W'), H' = (H - 1) stride - 2 padding +
        dilation (kh - 1) + output_padding + 1. output_size (H', W'), or the full shape, picks the
        output_padding instead: any size from the smallest one up to stride - 1 more."""
        padding = self.output_padding if output_size is None else self._output_padding(input, output_size)
        return F.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding, padding, self.groups,
                                  self.dilation)

    def _output_padding(self, input: Tensor, output_size: Sequence[int]) -> tuple:
        """The output_padding that gives output_size, as PyTorch computes it."""
        size = tuple(output_size)[-2:] if len(output_size) in (2, 4) else None
        if input.ndim != 4 or size is None:
            raise ValueError(f"ConvTranspose2d: output_size must be (H, W) or (N, C, H, W) for an input (N, C, H, W), "
                             f"got output_size {tuple(output_size)} and input {input.shape}")
        smallest = tuple(conv_transpose_size(n, k, s, p, 0, d) for n, k, s, p, d in
                         zip(input.shape[2:], self.kernel_size, self.stride, self.padding, self.dilation))
        largest = tuple(n + s - 1 for n, s in zip(smallest, self.stride))
        if any(not lo <= n <= hi for n, lo, hi in zip(size, smallest, largest)):
            raise ValueError(f"ConvTranspose2d: requested an output size of {size}, but valid sizes range from "
                             f"{smallest} to {largest} (for an input of {input.shape[2:]})")
        return tuple(n - lo for n, lo in zip(size, smallest))
