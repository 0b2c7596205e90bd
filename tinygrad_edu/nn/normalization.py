"""BatchNorm1d and BatchNorm2d: batch normalisation over the channel axis 1; LayerNorm over the
last axes of each position.

PyTorch keeps the first two in torch/nn/modules/batchnorm.py; here normalization.py (torch's
home of LayerNorm) holds the normalisation layers together. The BatchNorms are one class,
_BatchNorm, that differs only in the shapes it accepts: (N, C) or (N, C, L) for BatchNorm1d,
(N, C, H, W) for BatchNorm2d. The work is one BatchNorm node (F.batch_norm), or one LayerNorm
node (F.layer_norm). Parameters (weight, bias) and buffers (running_mean, running_var,
num_batches_tracked) have PyTorch's names, so state_dicts move across unchanged.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import arguments
from ..tensor import Tensor
from . import functional as F
from .module import Module
from .parameter import Parameter


class _BatchNorm(Module):
    """y = (x - mean) / √(var + eps) · γ + β per channel c = axis 1, the mean and variance taken
    over every other axis (the batch and the positions).

    Training uses the batch's statistics and updates the running ones as PyTorch does:
    running = (1 - momentum) running + momentum batch, with the unbiased variance;
    momentum=None makes it the cumulative average, momentum = 1 / num_batches_tracked.
    Eval mode uses the running statistics (the batch's when track_running_stats=False).
    """

    _shapes = ""           # the input shapes the subclass takes, for its error message
    _ndims: tuple = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device: str | None = None, dtype: Any = None, *,
                 bias: bool = True):
        super().__init__()
        name = type(self).__name__
        self.num_features = arguments.positive_int(num_features, "num_features", name)
        self.eps = arguments.number(eps, "eps", name, minimum=0.0)
        self.momentum = None if momentum is None else arguments.number(momentum, "momentum", name)
        self.affine = arguments.flag(affine, "affine", name)
        self.track_running_stats = arguments.flag(track_running_stats, "track_running_stats", name)
        use_bias = arguments.flag(bias, "bias", name)
        dtype = dtype or np.float32
        if self.affine:
            self.weight = Parameter(Tensor.ones(num_features, device=device, dtype=dtype))
        else:
            self.register_parameter("weight", None)
        if self.affine and use_bias:
            self.bias = Parameter(Tensor.zeros(num_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        if self.track_running_stats:
            self.register_buffer("running_mean", Tensor.zeros(num_features, device=device, dtype=dtype))
            self.register_buffer("running_var", Tensor.ones(num_features, device=device, dtype=dtype))
            self.register_buffer("num_batches_tracked", Tensor(0, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def forward(self, x: Tensor) -> Tensor:
        """y = (x - mean) / √(var + eps) · γ + β per channel (axis 1).

        Training: the batch's mean and biased variance, and the running statistics are updated.
        Eval: the running statistics (the batch's when track_running_stats=False).
        """
        if x.ndim not in self._ndims or x.shape[1] != self.num_features:
            raise ValueError(f"{type(self).__name__}({self.num_features}): expected input of shape "
                             f"{self._shapes.format(C=self.num_features)}, got {x.shape}")
        track = self.training and self.track_running_stats
        momentum = 0.0 if self.momentum is None else self.momentum
        if track and self.momentum is None:             # the cumulative average, as in PyTorch
            momentum = 1.0 / (self.num_batches_tracked.data + 1)    # stays on the device: no wait
        use_batch = self.training or self.running_mean is None
        keep = not self.training or self.track_running_stats       # updated only when tracked
        y = F.batch_norm(x, self.running_mean if keep else None, self.running_var if keep else None,
                         self.weight, self.bias, use_batch, momentum, self.eps)
        if track:                                       # counted once the batch passed F's checks
            self.num_batches_tracked.data += 1
        return y

    def extra_repr(self) -> str:
        """The options, shown in the printed module (PyTorch's order)."""
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L): per feature, over the batch (and the length)."""

    _shapes = "(N, {C}) or (N, {C}, L)"
    _ndims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of images (N, C, H, W): per channel, over the batch and every pixel."""

    _shapes = "(N, {C}, H, W)"
    _ndims = (4,)


class LayerNorm(Module):
    """y = (x - mean) / √(var + eps) · γ + β over the last axes, normalized_shape, of each position on
    its own (a token's features, say), with the biased variance, as torch.nn.LayerNorm.

    Unlike BatchNorm nothing is taken over the batch, so there are no running statistics and
    training and eval mode compute the same thing. weight γ (ones) and bias β (zeros) have the shape
    normalized_shape; elementwise_affine=False leaves both out, bias=False only β. The work is one
    LayerNorm node (F.layer_norm).
    """

    def __init__(self, normalized_shape: Any, eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True,
                 device: str | None = None, dtype: Any = None):
        super().__init__()
        name = "LayerNorm"
        self.normalized_shape = arguments.int_tuple((normalized_shape,), name, "normalized_shape")
        for size in self.normalized_shape:
            arguments.positive_int(size, "normalized_shape", name)
        self.eps = arguments.number(eps, "eps", name, minimum=0.0)
        self.elementwise_affine = arguments.flag(elementwise_affine, "elementwise_affine", name)
        use_bias = arguments.flag(bias, "bias", name)
        dtype = dtype or np.float32
        if self.elementwise_affine:
            self.weight = Parameter(Tensor.ones(self.normalized_shape, device=device, dtype=dtype))
        else:
            self.register_parameter("weight", None)
        if self.elementwise_affine and use_bias:
            self.bias = Parameter(Tensor.zeros(self.normalized_shape, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)

    def forward(self, x: Tensor) -> Tensor:
        """y = (x - mean) / √(var + eps) · γ + β over the last len(normalized_shape) axes."""
        return F._layer_norm(f"LayerNorm({self.normalized_shape})", x, self.normalized_shape, self.weight, self.bias,
                             self.eps)

    def extra_repr(self) -> str:
        """The shape and options, shown in the printed module (torch's form)."""
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")
