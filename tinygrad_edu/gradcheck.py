"""Numerical gradient check (lecture 7): compare backward() with central differences.

    dL/dw ≈ (L(w + ε) - L(w - ε)) / 2ε

L is a random projection of fn's output, sum(fn(*inputs) * v), so every output element
takes part. The difference quotient subtracts two nearly equal numbers; in float32 that
loses most of the digits (about 7 significant digits, minus those cancelled), so the check
only accepts float64 inputs.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from . import backend
from .autograd import no_grad
from .tensor import Tensor


class GradcheckError(RuntimeError):
    """The analytic and numerical gradients disagree."""


def gradcheck(fn: Callable[..., Tensor], *inputs: Tensor, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, seed: int = 0) -> bool:
    """Check backward() of `fn` at `inputs` against central differences in float64.

    Every element of every input with requires_grad=True is perturbed by ±eps. Returns True,
    or raises GradcheckError with a table of the worst elements.
    """
    checked = [(i, t) for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad; create them with requires_grad=True")
    for i, t in enumerate(inputs):
        if isinstance(t, Tensor) and t.requires_grad and t.dtype != np.float64:
            raise TypeError(
                f"gradcheck: input {i} is {t.dtype}, but the check needs float64. Central differences "
                "subtract two nearly equal numbers, (L(w+eps) - L(w-eps)), and in float32 that leaves "
                "too few correct digits. Convert with .astype('float64') (or Tensor(..., dtype='float64')).")

    out = fn(*inputs)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    rng = np.random.default_rng(seed)
    projection = rng.standard_normal(out.shape)
    v = Tensor(backend.to_device(projection, out.device), dtype=out.dtype)

    for _, t in checked:
        t.grad = None
    (out * v).sum().backward()
    analytic = [np.zeros(t.shape) if t.grad is None else t.grad.numpy().astype(np.float64) for _, t in checked]

    def loss() -> float:
        return float((fn(*inputs) * v).sum().item())

    rows = []
    with no_grad():
        for k, (position, t) in enumerate(checked):
            flat = t.data.reshape(-1)            # a view: writing into it perturbs t
            for j in range(flat.size):
                original = flat[j].item()
                flat[j] = original + eps
                plus = loss()
                flat[j] = original - eps
                minus = loss()
                flat[j] = original
                numeric = (plus - minus) / (2 * eps)
                a = float(analytic[k].reshape(-1)[j])
                error = abs(a - numeric)
                if not error <= atol + rtol * abs(numeric):   # also catches nan
                    index = np.unravel_index(j, t.shape) if t.shape else ()
                    rows.append((error, position, tuple(int(i) for i in index), a, numeric))
    if rows:
        rows.sort(key=lambda r: -r[0] if r[0] == r[0] else -np.inf)
        lines = [f"{'input':>5}  {'index':<14} {'analytic':>14} {'numeric':>14} {'difference':>12}"]
        for error, which, index, a, numeric in rows[:8]:
            lines.append(f"{which:>5}  {str(index):<14} {a:>14.6g} {numeric:>14.6g} {error:>12.3g}")
        raise GradcheckError(
            f"gradcheck failed: {len(rows)} gradient element(s) differ by more than "
            f"atol={atol} + rtol={rtol}*|numeric| (eps={eps}). Worst first:\n" + "\n".join(lines))
    return True
