"""Activation modules: the lecture-4 table as layers for nn.Sequential.

Each one calls the Tensor method of the same name; its Function in functions/ holds the
formula and its derivative. Maxout, the activation that is learned, ends the file: like
PyTorch's PReLU (also in torch/nn/modules/activation.py) it owns parameters, here one Linear
holding all its pieces. MultiheadAttention comes last, where torch keeps it too: attention
is a softmax over the keys, computed in nn/attention.py.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import arguments
from ..tensor import Tensor
from . import functional as F
from . import init
from .attention import additive_mask, attention, check_inputs
from .linear import Linear
from .module import Module
from .parameter import Parameter


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


# ----------------------------------------------------------------------------- attention (the sequence lectures)

class MultiheadAttention(Module):
    """Multi-head attention, as torch.nn.MultiheadAttention:

        Q = query W_qᵀ + b_q,    K = key W_kᵀ + b_k,    V = value W_vᵀ + b_v
        head_h = softmax(Q_h K_hᵀ / √d + mask) V_h      (Q_h: the h-th d columns, d = embed_dim / num_heads)
        output = concat(head_1, ..., head_H) W_oᵀ + b_o

    W_q, W_k, W_v are the three (embed_dim, embed_dim) blocks of rows of in_proj_weight
    (3·embed_dim, embed_dim), b_q, b_k, b_v those of in_proj_bias, and W_o, b_o the Linear out_proj.
    Inputs are (L, N, E), sequence first as in torch, (N, L, E) with batch_first=True, or (L, E)
    unbatched; key and value have S positions. key_padding_mask (N, S): True = that key is padding,
    ignored; attn_mask (L, S) or (N·num_heads, L, S): True = query i may not attend to key j. A float
    mask is added to the scores instead. dropout drops attention weights while training. Returns
    (output, weights), the weights averaged over the heads (N, L, S) (per head, (N, num_heads, L, S),
    with average_attn_weights=False), or None with need_weights=False. A query that may attend to no
    key gets weights 0 (torch gives NaN there when need_weights=True, 0 otherwise).
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device: str | None = None, dtype: Any = None):
        super().__init__()
        name = "MultiheadAttention"
        self.embed_dim = arguments.positive_int(embed_dim, "embed_dim", name)
        self.num_heads = arguments.positive_int(num_heads, "num_heads", name)
        if embed_dim % num_heads:
            raise ValueError(f"{name}: embed_dim must be divisible by num_heads (each head gets embed_dim / "
                             f"num_heads features), got embed_dim={embed_dim} and num_heads={num_heads}")
        self.head_dim = embed_dim // num_heads
        if not 0.0 <= arguments.number(dropout, "dropout", name) <= 1.0:
            raise ValueError(f"{name}: dropout probability has to be between 0 and 1, but got {dropout}")
        self.dropout = dropout
        self.batch_first = arguments.flag(batch_first, "batch_first", name)
        for flag, what in ((add_bias_kv, "add_bias_kv"), (add_zero_attn, "add_zero_attn")):
            if arguments.flag(flag, what, name):
                raise ValueError(f"{name}: {what}=True is not supported")
        for size, what in ((kdim, "kdim"), (vdim, "vdim")):
            if size is not None and size != embed_dim:
                raise ValueError(f"{name}: {what}={size} is not supported: keys and values must have "
                                 f"embed_dim={embed_dim} features")
        self.kdim = self.vdim = embed_dim
        self.add_zero_attn = False
        use_bias = arguments.flag(bias, "bias", name)
        dtype = dtype or np.float32
        self.in_proj_weight = Parameter(Tensor.zeros(3 * embed_dim, embed_dim, device=device, dtype=dtype))
        if use_bias:
            self.in_proj_bias = Parameter(Tensor.zeros(3 * embed_dim, device=device, dtype=dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=use_bias, device=device, dtype=dtype)
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        """torch's initialisation: in_proj_weight Xavier-uniform, the biases 0 (out_proj.weight: Linear's)."""
        init.xavier_uniform_(self.in_proj_weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)

    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Any = None,
                need_weights: bool = True, attn_mask: Any = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple:
        """(output, weights): each query attends to the keys in every head, then out_proj (see the class)."""
        name = f"MultiheadAttention({self.embed_dim}, num_heads={self.num_heads})"
        for flag, what in ((need_weights, "need_weights"), (average_attn_weights, "average_attn_weights"),
                           (is_causal, "is_causal")):
            arguments.flag(flag, what, name)
        query, key, value, batched = self._batch_first(name, query, key, value)
        if is_causal and attn_mask is None:
            raise ValueError(f"{name}: is_causal=True is only a hint that attn_mask is causal; give attn_mask too "
                             f"(bool (L, L), True above the diagonal)")
        mask = self._mask(name, attn_mask, key_padding_mask, batched, query.shape[:2], key.shape[1], query)
        n, length, e = query.shape
        w, b = self.in_proj_weight, self.in_proj_bias
        q = self._heads(F.linear(query, w[:e], None if b is None else b[:e]))              # (N, H, L, d)
        k = self._heads(F.linear(key, w[e:2 * e], None if b is None else b[e:2 * e]))      # (N, H, S, d)
        v = self._heads(F.linear(value, w[2 * e:], None if b is None else b[2 * e:]))      # (N, H, S, d)
        heads, weights = attention(q, k, v, mask, 1 / math.sqrt(self.head_dim), self.dropout if self.training else 0.0)
        output = self.out_proj(heads.transpose(1, 2).reshape(n, length, e))               # the heads side by side
        if not batched:
            output = output.squeeze(0)
        elif not self.batch_first:
            output = output.transpose(0, 1)
        if not need_weights:
            return output, None
        if average_attn_weights:
            weights = weights.mean(axis=1)
        return output, (weights if batched else weights.squeeze(0))

    def _batch_first(self, name: str, query: Any, key: Any, value: Any) -> tuple:
        """query, key, value as (N, L, E), (N, S, E), (N, S, E), checked, and whether they had a batch axis."""
        layout = "(N, L, E)" if self.batch_first else "(L, N, E)"
        for what, t in (("query", query), ("key", key), ("value", value)):
            if not isinstance(t, Tensor) or t.ndim not in (2, 3) or t.shape[-1] != self.embed_dim:
                got = t.shape if isinstance(t, Tensor) else type(t).__name__
                raise ValueError(f"{name}: {what} must be {layout} (or (L, E) unbatched) with E = "
                                 f"embed_dim = {self.embed_dim}, got {got}")
        if not query.ndim == key.ndim == value.ndim:
            raise ValueError(f"{name}: query, key and value must all be batched (3-D) or all unbatched (2-D), got "
                             f"shapes {query.shape}, {key.shape} and {value.shape}")
        batched = query.ndim == 3
        if not batched:
            query, key, value = query.unsqueeze(0), key.unsqueeze(0), value.unsqueeze(0)
        elif not self.batch_first:
            query, key, value = query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1)
        if not query.shape[0] == key.shape[0] == value.shape[0]:
            raise ValueError(f"{name}: query, key and value must have the same batch size N, got {query.shape[0]}, "
                             f"{key.shape[0]} and {value.shape[0]} (layout {layout})")
        check_inputs(name, query, key, value)
        return query, key, value, batched

    def _mask(self, name: str, attn_mask: Any, key_padding_mask: Any, batched: bool, batch_and_length: tuple,
              keys: int, like: Tensor) -> Tensor | None:
        """The two masks as one additive mask that broadcasts against the scores (N, H, L, S), or None."""
        (n, length), heads = batch_and_length, self.num_heads
        mask = None
        if key_padding_mask is not None:
            padding = additive_mask(name, "key_padding_mask", key_padding_mask, like, masked=True)
            expected = (n, keys) if batched else (keys,)
            if padding.shape != expected:
                raise ValueError(f"{name}: key_padding_mask of shape {padding.shape} does not fit: expected "
                                 f"{expected}, (N, S): one flag per key")
            mask = padding.reshape(n, 1, 1, keys)
        if attn_mask is not None:
            extra = additive_mask(name, "attn_mask", attn_mask, like, masked=True)
            if extra.shape == (n * heads, length, keys):
                extra = extra.reshape(n, heads, length, keys)
            elif extra.shape != (length, keys):
                raise ValueError(f"{name}: attn_mask of shape {extra.shape} does not fit: expected (L, S) = "
                                 f"{(length, keys)} or (N·num_heads, L, S) = {(n * heads, length, keys)}")
            mask = extra if mask is None else mask + extra
        return mask

    def _heads(self, x: Tensor) -> Tensor:
        """(N, L, E) -> (N, H, L, d): the E features split into num_heads blocks of head_dim."""
        return x.reshape(x.shape[0], x.shape[1], self.num_heads, self.head_dim).transpose(1, 2)
