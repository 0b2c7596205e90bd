"""Activation modules: the lecture-4 table as layers for nn.Sequential.

Each one calls the Tensor method of the same name; its Function in functions/ holds the
formula and its derivative. Maxout, the activation that is learned, ends the file: like
PyTorch's PReLU (also in torch/nn/modules/activation.py) it owns parameters, here one Linear
holding all its pieces.
"""
from __future__ import annotations

from .. import arguments
from ..tensor import Tensor
from . import functional as F
from .linear import Linear
from .module import Module


class ReLU(Module):
    """max(x, 0)"""
    def forward(self, x: Tensor) -> Tensor:
        """y = max(x, 0), elementwise."""
        return x.relu()


class Sigmoid(Module):
    """1 / (1 + e^-x)"""
    def forward(self, x: Tensor) -> Tensor:
        """y = 1 / (1 + e^-x), elementwise."""
        return x.sigmoid()


class SiLU(Module):
    """x σ(x) (the "swish"; inplace is accepted for PyTorch's signature, the output is a new tensor)"""
    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = arguments.flag(inplace, "inplace", "SiLU")

    def forward(self, x: Tensor) -> Tensor:
        """y = x σ(x), elementwise."""
        return F.silu(x)

    def extra_repr(self) -> str:
        """inplace=True, shown in the printed module only when set (as in PyTorch)."""
        return "inplace=True" if self.inplace else ""


class Tanh(Module):
    """tanh(x)"""
    def forward(self, x: Tensor) -> Tensor:
        """y = tanh(x), elementwise."""
        return x.tanh()


class Softsign(Module):
    """x / (1 + |x|)"""
    def forward(self, x: Tensor) -> Tensor:
        """y = x / (1 + |x|), elementwise."""
        return x.softsign()


class LeakyReLU(Module):
    """x if x > 0 else negative_slope * x"""
    def __init__(self, negative_slope: float = 0.01):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x: Tensor) -> Tensor:
        """y = x if x > 0 else negative_slope * x, elementwise."""
        return x.leaky_relu(self.negative_slope)

    def extra_repr(self) -> str:
        """negative_slope, shown in the printed module."""
        return f"negative_slope={self.negative_slope}"


class ELU(Module):
    """x if x > 0 else alpha (e^x - 1)"""
    def __init__(self, alpha: float = 1.0):
        super().__init__()
        self.alpha = alpha

    def forward(self, x: Tensor) -> Tensor:
        """y = x if x > 0 else alpha (e^x - 1), elementwise."""
        return x.elu(self.alpha)

    def extra_repr(self) -> str:
        """alpha, shown in the printed module."""
        return f"alpha={self.alpha}"


class GELU(Module):
    """x Φ(x) (approximate='tanh' for the tanh form)"""
    def __init__(self, approximate: str = "none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, x: Tensor) -> Tensor:
        """y = x Φ(x) (or its tanh approximation), elementwise."""
        return x.gelu(self.approximate)

    def extra_repr(self) -> str:
        """approximate, shown in the printed module."""
        return f"approximate={self.approximate!r}"


class Softplus(Module):
    """log(1 + e^(beta x)) / beta"""
    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, x: Tensor) -> Tensor:
        """y = ln(1 + e^(beta x)) / beta, elementwise (y = x where beta x > threshold)."""
        return x.softplus(self.beta, self.threshold)

    def extra_repr(self) -> str:
        """beta and threshold, shown in the printed module."""
        return f"beta={self.beta}, threshold={self.threshold}"


class Softmax(Module):
    """e^x_i / Σ_j e^x_j along dim"""
    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        """y_i = e^(x_i) / Σ_j e^(x_j) along dim."""
        return x.softmax(self.dim)

    def extra_repr(self) -> str:
        """dim, shown in the printed module."""
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """x_i - log Σ_j e^x_j along dim"""
    def forward(self, x: Tensor) -> Tensor:
        """y_i = x_i - log Σ_j e^(x_j) along dim, computed stably."""
        return x.log_softmax(self.dim)


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
