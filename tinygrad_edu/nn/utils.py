"""Gradient clipping, as torch.nn.utils: clip_grad_norm_ and clip_grad_value_.

A recurrent network multiplies its gradient by the same weights at every time step, so on
a long sequence the gradient can grow a thousandfold in one batch ("exploding gradients"),
and one optimizer step along it throws the training away. Clipping bounds that step:
call it between loss.backward() and optimizer.step().

    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    optimizer.step()

Both work in place on the `.grad` arrays, on either device; clip_grad_norm_ computes its
scale on the device and never copies to the host (unless error_if_nonfinite asks it to look).
"""
from __future__ import annotations

import math
from typing import Any, Iterable

from .. import arguments, backend
from ..tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _gradients(parameters: Any, op: str) -> list:
    """The .grad Tensors of the parameters (a Tensor or an iterable of them) that have one."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    elif not isinstance(parameters, Iterable):
        raise TypeError(f"{op}: expected a Tensor or an iterable of Tensors (model.parameters()), "
                        f"got {type(parameters).__name__}")
    parameters = list(parameters)
    for p in parameters:
        if not isinstance(p, Tensor):
            raise TypeError(f"{op}: expected Tensors (model.parameters()), got a {type(p).__name__}")
    grads = [p._grad for p in parameters if p._grad is not None]
    arguments.same_device(op, *grads)
    return grads


def _norm_type(norm_type: Any, op: str) -> float:
    """p of the p-norm: a positive number or inf (also the string 'inf', as torch accepts)."""
    if isinstance(norm_type, str) and norm_type.lower() == "inf":
        return math.inf
    p = arguments.number(norm_type, "norm_type", op)
    if not p > 0:
        raise ValueError(f"{op}: norm_type must be positive (2.0 for the Euclidean norm) or inf, got {norm_type}")
    return p


def clip_grad_norm_(parameters: Any, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach: bool | None = None) -> Tensor:
    """Scale all the gradients together so that their joint norm is at most max_norm; returns that
    norm as it was before clipping (a 0-d Tensor).

    The joint norm treats all gradients as one long vector:
        total = (Σ_i Σ |g_i|^p)^(1/p),  or max_i max |g_i| for p = inf,
    and every gradient becomes g_i * min(1, max_norm / (total + 1e-6)): the direction is kept,
    only the length shrinks. Parameters without a gradient are skipped. foreach is accepted for
    torch's signature and ignored."""
    op = "clip_grad_norm_"
    grads = _gradients(parameters, op)
    max_norm = arguments.number(max_norm, "max_norm", op, minimum=0)
    p = _norm_type(norm_type, op)
    error_if_nonfinite = arguments.flag(error_if_nonfinite, "error_if_nonfinite", op)
    if not grads:
        return Tensor(0.0)
    m = backend.xp(grads[0].data)
    arrays = [g.data for g in grads if g.data.size]          # an empty gradient adds nothing
    if not arrays:
        total = m.zeros((), dtype=grads[0].dtype)
    elif p == math.inf:
        total = m.stack([m.abs(a).max() for a in arrays]).max()
    elif p == 2:
        total = m.sqrt(m.stack([(a * a).sum() for a in arrays]).sum())
    else:
        total = m.stack([(m.abs(a) ** p).sum() for a in arrays]).sum() ** (1 / p)
    total = backend.ensure_array(total)                      # NumPy gives a scalar for a 0-d result
    if error_if_nonfinite and not bool(m.isfinite(total)):           # the only copy to the host
        raise RuntimeError(f"{op}: the total norm of order {norm_type} of the gradients is non-finite "
                           f"({total.item()}), so it cannot be clipped; set error_if_nonfinite=False to scale "
                           "them by it anyway")
    scale = m.minimum(max_norm / (total + 1e-6), 1.0)
    for g in grads:
        g.data *= scale.astype(g.dtype)
    return Tensor._from_op(total, None)


def clip_grad_value_(parameters: Any, clip_value: float, foreach: bool | None = None) -> None:
    """Clip every gradient element to [-clip_value, clip_value] in place (each element on its own,
    so the direction of the gradient may change; clip_grad_norm_ keeps it). foreach is ignored."""
    op = "clip_grad_value_"
    grads = _gradients(parameters, op)
    clip_value = arguments.number(clip_value, "clip_value", op, minimum=0)
    for g in grads:
        backend.xp(g.data).clip(g.data, -clip_value, clip_value, out=g.data)
