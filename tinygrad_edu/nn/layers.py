"""The layers: Linear, Conv2d, MaxPool2d, BatchNorm1d, Dropout, Flatten, Identity, Maxout.

Parameter names, shapes and default initialisation follow torch.nn exactly
(Linear.weight is (out_features, in_features)), so state_dicts move across unchanged.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter


def _empty(*shape: int, device: str | None, dtype: Any) -> Parameter:
    return Parameter(Tensor.zeros(*shape, device=device, dtype=dtype or np.float32))


class Identity(Module):
    """y = x: a placeholder layer that returns its input unchanged."""

    def forward(self, x: Tensor) -> Tensor:
        """Return x unchanged."""
        return x


class Linear(Module):
    """y = x Wᵀ + b.  W: (out_features, in_features), both drawn from U(-1/√in, 1/√in) like PyTorch."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device: str | None = None,
                 dtype: Any = None):
        super().__init__()
        if in_features < 0 or out_features < 0:
            raise ValueError(f"Linear: sizes must be non-negative, got in={in_features}, out={out_features}")
        self.in_features, self.out_features = in_features, out_features
        self.weight = _empty(out_features, in_features, device=device, dtype=dtype)
        self.bias = _empty(out_features, device=device, dtype=dtype) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw weight and bias again from PyTorch's default U(-1/√in_features, 1/√in_features)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Tensor) -> Tensor:
        """y = x Wᵀ + b: (..., in_features) -> (..., out_features)."""
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        """The sizes and whether there is a bias, shown in the printed module."""
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Maxout(Module):
    """Maxout (lecture 4): y_j = max_k (x W_kᵀ + b_k)_j over `pieces` linear maps.
    A learned piecewise-linear activation; PyTorch has no built-in equivalent."""

    def __init__(self, in_features: int, out_features: int, pieces: int = 2):
        super().__init__()
        if pieces < 1:
            raise ValueError(f"Maxout: pieces must be >= 1, got {pieces}")
        self.in_features, self.out_features, self.pieces = in_features, out_features, pieces
        self.linear = Linear(in_features, out_features * pieces)

    def forward(self, x: Tensor) -> Tensor:
        """y_j = max_k z[k, j], where z = linear(x) is split into `pieces` blocks of out_features."""
        z = self.linear(x)
        return z.reshape(z.shape[:-1] + (self.pieces, self.out_features)).max(axis=-2)

    def extra_repr(self) -> str:
        """The sizes and the number of pieces, shown in the printed module."""
        return f"in_features={self.in_features}, out_features={self.out_features}, pieces={self.pieces}"


class Conv2d(Module):
    """2-D convolution over (N, C, H, W). weight: (out_channels, in_channels, kh, kw)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, bias: bool = True, device: str | None = None,
                 dtype: Any = None):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = F._pair(kernel_size, "kernel_size", "Conv2d")
        self.stride = F._pair(stride, "stride", "Conv2d")
        self.padding = F._pair(padding, "padding", "Conv2d")
        self.dilation = F._pair(dilation, "dilation", "Conv2d")
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


