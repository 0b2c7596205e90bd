"""Upsample, UpsamplingNearest2d and UpsamplingBilinear2d, the layers of torch/nn/modules/upsampling.py.

They have no parameters: each calls F.interpolate, whose Functions (UpsampleNearest2d,
UpsampleBilinear2d) live in functions/sampling.py. In a U-Net, Upsample followed by a Conv2d
is the parameter-free alternative to a ConvTranspose2d.
"""
from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from . import functional as F
from .module import Module


class Upsample(Module):
    """Resize (N, C, H, W) images to `size` or by `scale_factor` (exactly one of them), with
    mode "nearest" (the default), "nearest-exact", "bilinear" (align_corners True or False) or
    "area", as F.interpolate; scale_factor is kept as a float (or a pair of floats), as in PyTorch."""

    def __init__(self, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                 align_corners: bool | None = None, recompute_scale_factor: bool | None = None):
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(factor) for factor in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode, self.align_corners, self.recompute_scale_factor = mode, align_corners, recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:
        """input resized by F.interpolate with this layer's options."""
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self) -> str:
        """The scale factor (or the size) and the mode, as PyTorch prints them."""
        info = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else f"size={self.size!r}"
        return info + f", mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """Upsample with mode="nearest" (PyTorch keeps this older name)."""

    def __init__(self, size: Any = None, scale_factor: Any = None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Upsample with mode="bilinear" and align_corners=True (PyTorch keeps this older name)."""

    def __init__(self, size: Any = None, scale_factor: Any = None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
