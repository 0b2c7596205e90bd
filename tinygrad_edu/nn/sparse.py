"""Embedding, the layer of torch/nn/modules/sparse.py: a table of learned vectors, one per token id.

PyTorch calls the file sparse.py because the layer's gradient touches only the rows that the batch
picked (torch can return it as a sparse tensor, sparse=True); here it is always a dense table, the
size of the weight, that is zero outside those rows. The work is one Embedding node (F.embedding):
a gather forward, a scatter-add backward. The weight has PyTorch's name and shape, so state_dicts
move across unchanged.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import arguments
from ..autograd import no_grad
from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter


class Embedding(Module):
    """y = weight[input]: a lookup table of num_embeddings vectors of size embedding_dim, one per
    token id, so integer indices of any shape (N, L) give vectors (N, L, embedding_dim).

    weight (num_embeddings, embedding_dim) starts as N(0, 1), as in torch, with the row padding_idx
    (when given) zero; that row gets no gradient, so the padding token's vector stays as it is. An
    index outside [0, num_embeddings) is an IndexError (on "cuda" a row of NaN: see F.embedding).
    max_norm and sparse=True are not supported; the other arguments are torch's.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                 sparse: bool = False, _weight: Any = None, _freeze: bool = False, device: str | None = None,
                 dtype: Any = None):
        super().__init__()
        name = "Embedding"
        self.num_embeddings = arguments.positive_int(num_embeddings, "num_embeddings", name)
        self.embedding_dim = arguments.positive_int(embedding_dim, "embedding_dim", name)
        self.padding_idx = arguments.padding_index(padding_idx, self.num_embeddings, name)
        if max_norm is not None:
            raise ValueError(f"{name}: max_norm is not supported (it rescales rows of the table in place); "
                             f"leave it None")
        self.max_norm, self.norm_type = None, arguments.number(norm_type, "norm_type", name)
        self.scale_grad_by_freq = arguments.flag(scale_grad_by_freq, "scale_grad_by_freq", name)
        if arguments.flag(sparse, "sparse", name):
            raise ValueError(f"{name}: sparse=True (sparse gradients) is not supported; the gradient is a dense table")
        self.sparse = False
        shape = (self.num_embeddings, self.embedding_dim)
        if _weight is None:
            self.weight = Parameter(Tensor.zeros(*shape, device=device, dtype=dtype or np.float32))
            self.reset_parameters()
        else:
            weight = _weight if isinstance(_weight, Tensor) else Tensor(_weight)
            if weight.shape != shape:
                raise ValueError(f"{name}: _weight of shape {weight.shape} does not fit ({num_embeddings}, "
                                 f"{embedding_dim}), (num_embeddings, embedding_dim)")
            self.weight = Parameter(Tensor(weight.detach(), device=device or weight.device, dtype=dtype))
        self.weight.requires_grad_(not arguments.flag(_freeze, "_freeze", name))

    @classmethod
    def from_pretrained(cls, embeddings: Any, freeze: bool = True, padding_idx: int | None = None,
                        max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        sparse: bool = False) -> "Embedding":
        """An Embedding whose table is a copy of `embeddings` (num_embeddings, embedding_dim), e.g. word
        vectors trained elsewhere; freeze=True (the default, as in torch) keeps them fixed in training.
        Unlike a new layer, the row padding_idx keeps the values given."""
        embeddings = embeddings if isinstance(embeddings, Tensor) else Tensor(embeddings)
        if embeddings.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-D (num_embeddings, embedding_dim), "
                             f"got shape {embeddings.shape}")
        rows, cols = embeddings.shape
        return cls(rows, cols, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse, _weight=embeddings,
                   _freeze=freeze)

    def reset_parameters(self) -> None:
        """Draw the table again from N(0, 1) and zero the row padding_idx, as torch does."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight.data[self.padding_idx] = 0

    def forward(self, input: Tensor) -> Tensor:
        """y = weight[input]: integer indices (...) -> vectors (..., embedding_dim)."""
        return F._embedding(f"Embedding({self.num_embeddings}, {self.embedding_dim})", input, self.weight,
                            self.padding_idx, self.max_norm, self.norm_type, self.scale_grad_by_freq, self.sparse)

    def extra_repr(self) -> str:
        """The sizes and the options that differ from the defaults, shown in the printed module (torch's form)."""
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        if self.norm_type != 2:
            text += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            text += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        return text
