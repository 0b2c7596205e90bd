"""Attention: softmax(Q Kᵀ · scale + mask) V, and the masks that say which keys each query may see.

F.scaled_dot_product_attention (torch.nn.functional's name) and nn.MultiheadAttention both call
`attention` below. It is a chain of Tensor ops, the formula as it is written, so its graph
(draw_graph) shows every step, and it needs no backward of its own: matmul, softmax, where and the
additions know their gradients.

Masks come in two kinds, as in torch. A float mask is added to the scores: 0 keeps a score, -inf
removes it (softmax then gives that key the weight 0). A bool mask is turned into such a float
mask, and what True means depends on the caller, as in torch: True = may attend in
scaled_dot_product_attention, True = masked out in MultiheadAttention's attn_mask and
key_padding_mask (and so in the Transformer layers).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import arguments, backend
from ..tensor import Tensor, where
from .functional import _dropout, _dropout_arguments


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask: Any = None,
                                 dropout_p: float = 0.0, is_causal: bool = False,
                                 scale: float | None = None) -> Tensor:
    """Attention as torch's scaled_dot_product_attention:  softmax(Q Kᵀ · scale + mask) V,  scale = 1 / √E.

    query (..., L, E), key (..., S, E) and value (..., S, Ev) give (..., L, Ev): each of the L queries
    averages the S values, weighted by how well it matches each key. attn_mask broadcasts against the
    scores (..., L, S): a bool mask marks the keys each query may attend to (True = may attend), a
    float mask is added to the scores. is_causal=True lets query i attend to keys 0 ... i only (the
    lower triangle), as a language model must. A query that may attend to no key gets the output 0,
    as in torch. dropout_p zeroes attention weights at random whenever it is > 0 (the function has
    no training flag, as in torch: pass 0.0 in evaluation)."""
    op = "scaled_dot_product_attention"
    check_inputs(op, query, key, value)
    _dropout_arguments(op, dropout_p, True, False)
    length, keys = query.shape[-2], key.shape[-2]
    if arguments.flag(is_causal, "is_causal", op):
        if attn_mask is not None:
            raise ValueError(f"{op}: give attn_mask or is_causal=True, not both (is_causal makes its own mask)")
        attn_mask = causal_mask(length, keys, query.device)
    mask = None
    if attn_mask is not None:
        mask = additive_mask(op, "attn_mask", attn_mask, query, masked=False)
        scores = tuple(np.broadcast_shapes(query.shape[:-2], key.shape[:-2])) + (length, keys)
        if mask.ndim > len(scores) or any(m not in (1, s) for m, s in zip(mask.shape[::-1], scores[::-1])):
            raise ValueError(f"{op}: attn_mask of shape {mask.shape} does not fit the scores of shape {scores} "
                             f"(..., L, S): it must broadcast to them")
    scale = 1 / math.sqrt(query.shape[-1]) if scale is None else arguments.number(scale, "scale", op)
    return attention(query, key, value, mask, scale, dropout_p)[0]


def attention(query: Tensor, key: Tensor, value: Tensor, mask: Tensor | None, scale: float,
              dropout_p: float = 0.0) -> tuple[Tensor, Tensor]:
    """(softmax(Q Kᵀ · scale + mask) V, the weights softmax(Q Kᵀ · scale + mask)) for query (..., L, E),
    key (..., S, E), value (..., S, Ev) and an additive mask (0 where a query may attend to a key,
    -inf where not) or None. The weights are dropped out with probability dropout_p."""
    scores = query @ key.transpose(-2, -1) * scale            # (..., L, S): query i against key j
    blind = None
    if mask is not None:
        scores = scores + mask
        # a query that may attend to no key has only -inf scores, where softmax gives 0 / 0 = NaN: as in
        # torch its weights are 0 instead (its scores become 0 first, so no NaN reaches the gradient).
        # On the CPU the small mask tells whether any query is blind (a causal mask never has one);
        # on the GPU asking would wait for the device, so the two where()s always run there.
        if not isinstance(mask.data, np.ndarray) or (mask.data == -np.inf).all(axis=-1).any():
            blind = Tensor._from_op((scores.data == -np.inf).all(axis=-1, keepdims=True), None)
            scores = where(blind, 0.0, scores)
    weights = scores.softmax(-1)
    if blind is not None:
        weights = where(blind, 0.0, weights)
    weights = _dropout(weights, dropout_p, dropout_p > 0, weights.shape)
    return weights @ value, weights


def causal_mask(length: int, keys: int, device: str) -> Tensor:
    """The bool (length, keys) mask of a causal model: True where query i may attend to key j, j <= i."""
    return Tensor._from_op(backend.module_for(device).tri(length, keys, dtype=bool), None)


def additive_mask(op: str, name: str, mask: Any, like: Tensor, masked: bool) -> Tensor:
    """The float mask that is added to the scores, in like's dtype and on its device: a float mask as it
    is; a bool one as -inf where it equals `masked` and 0 elsewhere (masked=False: True = may attend,
    as in scaled_dot_product_attention; masked=True: True = masked out, as in MultiheadAttention)."""
    if not isinstance(mask, Tensor):
        mask = Tensor(mask, device=like.device)
    arguments.same_device(op, like, mask)
    if mask.dtype == np.bool_:
        m = backend.xp(mask.data)
        hidden = mask.data if masked else ~mask.data
        return Tensor._from_op(m.where(hidden, -np.inf, 0.0).astype(like.dtype), None)
    if mask.dtype.kind != "f":
        raise TypeError(f"{op}: {name} must be a bool or a float tensor, got {mask.dtype}; a bool mask says "
                        f"which keys are {'masked out' if masked else 'allowed'}, a float one is added to the scores")
    return mask if mask.dtype == like.dtype else mask.astype(like.dtype)


def check_inputs(op: str, query: Any, key: Any, value: Any) -> None:
    """query (..., L, E), key (..., S, E), value (..., S, Ev): float Tensors of one dtype, on one device,
    whose leading (batch) axes broadcast."""
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
        if t.ndim < 2:
            raise ValueError(f"{op}: {name} must have at least 2 dimensions (..., length, features), "
                             f"got shape {t.shape}")
        if t.dtype.kind != "f":
            raise TypeError(f"{op}: {name} must be a floating point tensor, got {t.dtype}")
    if not query.dtype == key.dtype == value.dtype:
        raise TypeError(f"{op}: query, key and value must have the same dtype, got {query.dtype}, {key.dtype} "
                        f"and {value.dtype}")
    arguments.same_device(op, query, key, value)
    if query.shape[-1] != key.shape[-1]:
        raise ValueError(f"{op}: query of shape {query.shape} and key of shape {key.shape} must have the same "
                         f"number of features E, their last axis")
    if key.shape[-2] != value.shape[-2]:
        raise ValueError(f"{op}: key of shape {key.shape} and value of shape {value.shape} must have the same "
                         f"length S, their second-to-last axis (one value per key)")
    arguments.broadcastable(op, query.shape[:-2], key.shape[:-2], value.shape[:-2])
