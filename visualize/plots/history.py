"""plot_history: the curves of a training run, loss per epoch and the other metrics."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

import numpy as np

from .common import _COLORS, _pyplot, _to_numpy


def _history_series(history: Any) -> dict[str, list[float]]:
    """Normalise what plot_history accepts into {name: values per epoch}."""
    if hasattr(history, "loss_curve_"):                 # a fitted estimator (MLPRegressor, ...)
        history = history.loss_curve_
    elif hasattr(history, "history") and isinstance(history.history, Mapping):   # a Keras-style History
        history = history.history
    if isinstance(history, Mapping):
        series = {}
        for name, values in history.items():
            if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
                continue                                # e.g. {"epochs": 20}: not a curve
            values = [float(_to_numpy(v)) for v in values]
            if values:
                series[str(name)] = values
        if not series:
            raise ValueError("plot_history: the history has no non-empty lists of numbers, got keys "
                             f"{list(history)}")
        return series
    values = [float(_to_numpy(v)) for v in _to_numpy(history).reshape(-1)]
    if not values:
        raise ValueError("plot_history: the list of losses is empty")
    return {"loss": values}


def _split_name(name: str) -> tuple[str, str]:
    """'val_accuracy' -> ('val', 'accuracy'); 'loss' -> ('train', 'loss')."""
    for prefix in ("train_", "val_", "valid_", "validation_", "test_"):
        if name.startswith(prefix):
            return prefix[:-1], name[len(prefix):]
    return "train", name


def plot_history(history: Any, ax: Any = None, logy: bool = False, title: str | None = None):
    """Curves of a training run: the losses on one plot, the other metrics (accuracy, ...) on a second.

    history: a dict of lists, e.g. {"loss": [...], "val_loss": [...], "val_accuracy": [...]},
    or a plain list of losses (an estimator's `loss_curve_`; the estimator itself works too).
    A name with the prefix val_/test_ is drawn dashed in the colour of the matching train curve,
    so "loss" and "val_loss" are easy to compare (over-fitting: the two curves part ways).
    logy=True puts the losses on a log scale. With `ax` everything goes on that Axes (the
    metrics on a twin y axis). Returns the Figure.
    """
    series = _history_series(history)
    losses = {k: v for k, v in series.items() if "loss" in _split_name(k)[1].lower()}
    metrics = {k: v for k, v in series.items() if k not in losses}

    if ax is not None:
        fig = ax.figure
        loss_ax = ax
        metric_ax = ax.twinx() if (losses and metrics) else ax
        if not losses:
            loss_ax = None
    else:
        panels = int(bool(losses)) + int(bool(metrics))
        fig, axes = _pyplot().subplots(1, panels, figsize=(6.0 * panels, 4.2), layout="constrained",
                                       squeeze=False)
        axes = list(axes[0])
        loss_ax = axes.pop(0) if losses else None
        metric_ax = axes.pop(0) if metrics else None

    bases = []                                          # one colour per base name ("loss", "accuracy")
    for name in series:
        base = _split_name(name)[1]
        if base not in bases:
            bases.append(base)

    def draw(target, group):
        for name, values in group.items():
            split, base = _split_name(name)
            epochs = np.arange(1, len(values) + 1)
            color = _COLORS[bases.index(base) % len(_COLORS)]
            style = "-" if split == "train" else "--"
            marker = "o" if len(values) <= 30 else None
            target.plot(epochs, values, style, color=color, marker=marker, markersize=3.5, linewidth=2,
                        label=f"{name} (last {values[-1]:.4g})")

    if loss_ax is not None:
        draw(loss_ax, losses)
        loss_ax.set_ylabel("loss")
        if logy:
            loss_ax.set_yscale("log")
        if ax is None:
            loss_ax.set_title("Loss per epoch")
    if metric_ax is not None and metrics:
        draw(metric_ax, metrics)
        metric_ax.set_ylabel(", ".join(dict.fromkeys(_split_name(k)[1] for k in metrics)))
        if all(0.0 <= v <= 1.0 for values in metrics.values() for v in values):
            metric_ax.set_ylim(min(min(v) for v in metrics.values()) - 0.05, 1.02)
        if ax is None:
            metric_ax.set_title("Metrics per epoch")
    if ax is not None:
        ax.set_title(title or "Training history")
        handles, labels = [], []
        for target in {id(a): a for a in (loss_ax, metric_ax) if a is not None}.values():
            h, lab = target.get_legend_handles_labels()
            handles += h
            labels += lab
        ax.legend(handles, labels, loc="best", fontsize=9)
        ax.set_xlabel("epoch")
        ax.grid(True, alpha=0.3)
    else:
        for target in (loss_ax, metric_ax):
            if target is not None:
                target.set_xlabel("epoch")
                target.grid(True, alpha=0.3)
                target.legend(loc="best", fontsize=9)
        if title:
            fig.suptitle(title, fontweight="bold")
    for target in (loss_ax, metric_ax):
        if target is not None:
            _whole_number_ticks(target.xaxis)
    return fig


def _whole_number_ticks(axis: Any) -> None:
    """Ticks at whole numbers only (epochs 1, 2, 5, 10, ... never 2.5), even when there is just one.

    matplotlib's default picks steps such as 2.5 (1..20 epochs: 2.5, 5.0, 7.5, ...), and
    MaxNLocator(integer=True) alone gives up on integers when fewer than two fall in the view
    (one epoch: 0.945, 0.96, 0.975, ...); min_n_ticks=1 keeps it to the one tick at 1.
    """
    from matplotlib.ticker import MaxNLocator
    axis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10], min_n_ticks=1))
