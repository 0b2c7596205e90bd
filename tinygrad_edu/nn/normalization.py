"""BatchNorm1d, batch normalisation over (N, C) or (N, C, L).

PyTorch keeps it in torch/nn/modules/batchnorm.py; here normalization.py holds the
normalisation layers together. Parameters (weight, bias) and buffers (running_mean,
running_var, num_batches_tracked) have PyTorch's names, so state_dicts move across unchanged.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from .module import Module
from .parameter import Parameter


class BatchNorm1d(Module):
    """y = (x - mean) / √(var + eps) · γ + β over the batch (and length) axes of (N, C) or (N, C, L).

    Training uses the batch's statistics and updates the running ones as PyTorch does:
    running = (1 - momentum) running + momentum batch, with the unbiased variance.
    Eval mode uses the running statistics.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device: str | None = None, dtype: Any = None, *,
                 bias: bool = True):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.use_bias = affine and bias
        if affine:
            self.weight = Parameter(Tensor.ones(num_features, device=device, dtype=dtype or np.float32))
        else:
            self.register_parameter("weight", None)
        if self.use_bias:
            self.bias = Parameter(Tensor.zeros(num_features, device=device, dtype=dtype or np.float32))
        else:
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor.zeros(num_features, device=device, dtype=dtype or np.float32))
            self.register_buffer("running_var", Tensor.ones(num_features, device=device, dtype=dtype or np.float32))
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
        if x.ndim not in (2, 3) or x.shape[1] != self.num_features:
            raise ValueError(f"BatchNorm1d({self.num_features}): expected input of shape (N, {self.num_features}) "
                             f"or (N, {self.num_features}, L), got {x.shape}")
        axes = (0,) if x.ndim == 2 else (0, 2)
        shape = (1, self.num_features) + ((1,) if x.ndim == 3 else ())
        if self.training or not self.track_running_stats:
            count = x.numel() // self.num_features
            if count <= 1 and self.training:
                raise ValueError(f"BatchNorm1d: expected more than 1 value per channel when training, "
                                 f"got input of shape {x.shape}")
            mean = x.mean(axis=axes, keepdims=True)
            centred = x - mean
            var = (centred * centred).mean(axis=axes, keepdims=True)
            if self.training and self.track_running_stats:
                self._update_running_stats(mean.data, var.data, count)
        else:
            mean = self.running_mean.reshape(shape)
            var = self.running_var.reshape(shape)
            centred = x - mean
        y = centred / (var + self.eps).sqrt()
        if self.affine:
            y = y * self.weight.reshape(shape)
        if self.use_bias:
            y = y + self.bias.reshape(shape)
        return y

    def _update_running_stats(self, mean, var, count: int) -> None:
        m = self.momentum
        self.num_batches_tracked.data += 1
        if m is None:                                   # cumulative average, as in PyTorch
            m = 1.0 / float(self.num_batches_tracked.data)
        unbiased = var.reshape(-1) * (count / max(count - 1, 1))
        self.running_mean.data *= 1 - m
        self.running_mean.data += m * mean.reshape(-1)
        self.running_var.data *= 1 - m
        self.running_var.data += m * unbiased

    def extra_repr(self) -> str:
        """The options, shown in the printed module."""
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.use_bias}, track_running_stats={self.track_running_stats}")


