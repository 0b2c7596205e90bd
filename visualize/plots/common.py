"""What every plot here shares: matplotlib on first use, a figure with one Axes (or the
caller's `ax`), NumPy arrays from Tensors, and one colour per class or curve."""
from __future__ import annotations

from typing import Any

import numpy as np

# One colour per class (blue, red, green, ...) and per optimizer; colour-blind friendly enough.
_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
           "#7f7f7f", "#bcbd22"]


def _pyplot():
    """matplotlib.pyplot, imported on first use (with a hint when matplotlib is missing)."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - only without matplotlib
        raise ImportError('visualize.plots needs matplotlib: pip install matplotlib '
                          '(or install the project with its extras: pip install -e ".[viz]")') from exc
    return plt


def _figure_and_ax(ax: Any, figsize: tuple[float, float]):
    """The Axes to draw into and its Figure: the caller's `ax`, or a new figure with one Axes."""
    if ax is not None:
        return ax.figure, ax
    fig, ax = _pyplot().subplots(figsize=figsize, layout="constrained")
    return fig, ax


def _to_numpy(values: Any) -> np.ndarray:
    """A NumPy array from a Tensor (cpu or cuda), a NumPy array or a (nested) list."""
    if hasattr(values, "detach") and hasattr(values, "numpy"):     # a Tensor of ours or of torch
        return np.asarray(values.detach().numpy())
    if hasattr(values, "numpy") and callable(values.numpy):
        return np.asarray(values.numpy())
    return np.asarray(values)
