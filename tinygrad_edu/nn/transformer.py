"""TransformerEncoderLayer, the layer of torch/nn/modules/transformer.py: self-attention and a
position-wise feed-forward network, each in a residual connection with a LayerNorm (Vaswani et al.
2017, "Attention is all you need"). Its sub-modules have torch's names (self_attn, linear1, dropout,
linear2, norm1, norm2, dropout1, dropout2), so state_dicts move across unchanged.
"""
from __future__ import annotations

from typing import Any, Callable

from .. import arguments
from ..tensor import Tensor
from . import functional as F
from .activation import MultiheadAttention
from .dropout import Dropout
from .linear import Linear
from .module import Module
from .normalization import LayerNorm

_ACTIVATIONS = {"relu": F.relu, "gelu": F.gelu}


class TransformerEncoderLayer(Module):
    """One layer of the Transformer's encoder, as torch.nn.TransformerEncoderLayer:

        SA(x) = dropout1(self_attn(x, x, x))                          (self-attention: x attends to itself)
        FF(x) = dropout2(linear2(dropout(activation(linear1(x)))))    (the same small MLP at every position)
        norm_first=False (the paper's post-norm):  x = norm1(x + SA(x)),   then x = norm2(x + FF(x))
        norm_first=True (pre-norm):                x = x + SA(norm1(x)),   then x = x + FF(norm2(x))

    src is (L, N, d_model), or (N, L, d_model) with batch_first=True, or (L, d_model) unbatched.
    src_mask (L, L) and src_key_padding_mask (N, L) are MultiheadAttention's attn_mask and
    key_padding_mask: True = may not attend (a float mask is added to the scores). activation is
    "relu", "gelu" or a function (or module) of one tensor. The output has the shape of src.
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: str | Callable[[Tensor], Tensor] = "relu", layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True, device: str | None = None,
                 dtype: Any = None):
        super().__init__()
        name = "TransformerEncoderLayer"
        arguments.positive_int(dim_feedforward, "dim_feedforward", name)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first,
                                            device=device, dtype=dtype)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, device=device, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, device=device, dtype=dtype)
        self.norm_first = arguments.flag(norm_first, "norm_first", name)
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, device=device, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, device=device, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        if isinstance(activation, str):
            if activation not in _ACTIVATIONS:
                raise ValueError(f"{name}: activation should be 'relu' or 'gelu' (or a function), not {activation!r}")
            activation = _ACTIVATIONS[activation]
        elif not callable(activation):
            raise TypeError(f"{name}: activation must be 'relu', 'gelu' or a function of a tensor, "
                            f"got {type(activation).__name__}")
        self.activation = activation

    def forward(self, src: Tensor, src_mask: Any = None, src_key_padding_mask: Any = None,
                is_causal: bool = False) -> Tensor:
        """The layer's output, of src's shape: attention, then the feed-forward network, each with its
        residual connection and LayerNorm (see the class). is_causal=True says that src_mask is causal."""
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _sa_block(self, x: Tensor, attn_mask: Any, key_padding_mask: Any, is_causal: bool) -> Tensor:
        """SA(x) = dropout1(self_attn(x, x, x)): self-attention, the weights not kept."""
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False,
                           is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x: Tensor) -> Tensor:
        """FF(x) = dropout2(linear2(dropout(activation(linear1(x))))): the position-wise MLP."""
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))
