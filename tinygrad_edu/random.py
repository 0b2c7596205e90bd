"""Random sampling from the seedable generator of each device (tinygrad_edu.manual_seed).

multinomial draws category indices from rows of probabilities, as torch.multinomial does:
the next token of a language model, an action of a policy. Sampling has no gradient: the
result is a tensor of int64 indices outside the graph.
"""
from __future__ import annotations

from typing import Any

from . import arguments, autograd, backend

__all__ = ["multinomial"]


def multinomial(probs: Any, num_samples: int, replacement: bool = False) -> Any:
    """num_samples indices of categories drawn from each row of `probs` (int64, no gradient).

    probs is 1-D (one distribution over its categories) or 2-D (one per row), of any
    non-negative weights: each row is divided by its sum. The result has shape (num_samples,)
    or (rows, num_samples), on the device of probs.

    With replacement, each draw is independent: with u uniform on [0, 1) and the cumulative
    probabilities c_j = (p_0 + ... + p_j) / Σ p, the index is the first j with c_j > u.
    Without replacement no index repeats in a row, and the draws come in the order of one draw
    after another (with p renormalised each time over what is left): the indices of the
    num_samples smallest keys E_j / p_j, E_j exponential (Efraimidis and Spirakis' trick, all
    rows at once). Categories of probability 0 come only after all the others, as in torch 2.x."""
    op = "multinomial"
    Tensor = autograd.Tensor
    if not isinstance(probs, Tensor):
        raise TypeError(f"{op}: probs must be a Tensor, got {type(probs).__name__}")
    if probs.ndim not in (1, 2):
        raise ValueError(f"{op}: probs must be 1-D (one distribution) or 2-D (one per row), got shape {probs.shape}")
    if probs.dtype.kind != "f":
        raise TypeError(f"{op}: probs must be a float tensor, got {probs.dtype}; convert it with .float()")
    n = arguments.positive_int(num_samples, "num_samples", op)
    replacement = arguments.flag(replacement, "replacement", op)
    categories = probs.shape[-1]
    if categories == 0:
        raise ValueError(f"{op}: probs has no categories (shape {probs.shape})")
    if not replacement and n > categories:
        raise ValueError(f"{op}: cannot draw num_samples={n} > {categories} categories without replacement; "
                         "pass replacement=True, or draw fewer")
    p = probs.data if probs.ndim == 2 else probs.data[None]          # (rows, categories)
    _check_probabilities(p)
    m, generator = backend.xp(p), backend.generator(probs.device)
    p = p.astype("float64")
    if replacement:
        cdf = m.cumsum(p, axis=1)
        cdf = cdf / cdf[:, -1:]                                     # exactly 1 at the end
        u = generator.random((p.shape[0], n), dtype="float64")
        index = (cdf[:, None, :] <= u[:, :, None]).sum(axis=2)      # how many c_j <= u
    else:
        exponential = generator.standard_exponential(p.shape, dtype="float64")
        keys = m.where(p > 0, exponential / m.where(p > 0, p, 1.0), m.inf)    # p = 0: last
        index = m.argsort(keys, axis=1, kind="stable")[:, :n]
    index = index.astype("int64", copy=False)
    return Tensor._from_op(index if probs.ndim == 2 else index[0], None)


def _check_probabilities(p: Any) -> None:
    """Raise ValueError for rows that are no distribution (torch's checks), with one copy to the host."""
    m = backend.xp(p)
    problems = m.stack([(~m.isfinite(p) | (p < 0)).any(), (p.sum(axis=1) <= 0).any()])
    bad_values, empty_row = problems.tolist()                       # the one host sync
    if bad_values:
        raise ValueError("multinomial: probs contains inf, nan or a negative number; every entry must be a "
                         "finite weight >= 0")
    if empty_row:
        raise ValueError("multinomial: a row of probs sums to 0 (or less), so it is no distribution; "
                         "give every row at least one positive weight")
