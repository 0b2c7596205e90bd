"""plot_decision_boundary: the regions a classifier of 2-D points gives each class, with the
data on top."""
from __future__ import annotations

from typing import Any

import numpy as np

from .common import _COLORS, _figure_and_ax, _to_numpy


def _model_device(model: Any, device: str | None) -> str | None:
    if device is not None:
        return device
    for p in model.parameters():
        return p.device
    return None


def _predict_network(model: Any, points: np.ndarray, device: str | None) -> np.ndarray:
    """Raw outputs of an nn.Module (or any callable on Tensors) for `points`, in eval mode, without a graph."""
    from tinygrad_edu import Tensor, no_grad
    training = getattr(model, "training", None)
    if training is not None:
        model.eval()
    try:
        outputs = []
        with no_grad():
            for start in range(0, len(points), 8192):
                out = model(Tensor(points[start:start + 8192].astype(np.float32), device=device))
                outputs.append(_to_numpy(out).astype(np.float64))
    finally:
        if training is not None:
            model.train(training)
    return np.concatenate(outputs)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))              # = 1 / (1 + e^-z), without overflow


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))       # shifted: exp never overflows
    return e / e.sum(axis=1, keepdims=True)


def _classify(model: Any, points: np.ndarray, classes: np.ndarray, device: str | None):
    """(class index per point, class probabilities (n, K) or None) for a network or an estimator.

    Networks: several outputs -> argmax of the logits (probabilities: their softmax, or the
    outputs themselves when they are probabilities already); one output -> a probability
    thresholded at 0.5 when every output lies in [0, 1], otherwise a logit thresholded at 0
    (its sign). Estimators: predict(), and predict_proba() when there is one.
    """
    from tinygrad_edu import nn
    if isinstance(model, nn.Module) or (callable(model) and not hasattr(model, "predict")):
        if isinstance(model, nn.Module):
            device = _model_device(model, device)
        out = _predict_network(model, points, device)
        out = out.reshape(len(points), -1)
        if out.shape[1] > 1:
            is_proba = out.min() >= 0 and out.max() <= 1 and np.allclose(out.sum(axis=1), 1, atol=1e-4)
            return out.argmax(axis=1), (out if is_proba else _softmax(out))
        z = out[:, 0]
        p = z if (z.min() >= 0 and z.max() <= 1) else _sigmoid(z)
        return (p >= 0.5).astype(np.int64), np.column_stack([1 - p, p])
    if not hasattr(model, "predict"):
        raise TypeError(f"plot_decision_boundary: model must be an nn.Module, a callable on Tensors or an "
                        f"estimator with predict(), got {type(model).__name__}")
    labels = np.asarray(model.predict(points)).reshape(-1)
    position = {label: k for k, label in enumerate(np.asarray(getattr(model, "classes_", classes)).tolist())}
    index = np.array([position.get(label, -1) for label in labels.tolist()], dtype=np.int64)
    proba = np.asarray(model.predict_proba(points)) if hasattr(model, "predict_proba") else None
    return index, proba


def plot_decision_boundary(model: Any, X: Any, y: Any, device: str | None = None, resolution: int = 200,
                           ax: Any = None, title: str | None = None):
    """The regions a classifier of 2-D points assigns to each class, with the data on top.

    model: an nn.Module (run in eval mode under no_grad; several outputs -> argmax of the
    logits, one output -> probability >= 0.5, or logit >= 0 when it is not in [0, 1]), or a
    scikit-learn-style estimator with predict() (MLPClassifier). X: (n, 2) points, y: their labels
    (NumPy arrays, lists or Tensors). For two classes the background shows the probability of
    the second class, fading to white at the boundary p = 0.5 (the black line); for more classes
    each region has its class's colour. Circled points are misclassified. resolution: grid points
    per axis. device: where to evaluate the network (default: where its parameters are).
    Returns the Figure.
    """
    from matplotlib.colors import LinearSegmentedColormap, ListedColormap
    X = _to_numpy(X).astype(np.float64)
    y = _to_numpy(y).reshape(-1)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary: X must have shape (n, 2) (two features to draw), "
                         f"got {X.shape}")
    if len(y) != len(X):
        raise ValueError(f"plot_decision_boundary: X has {len(X)} rows but y has {len(y)} labels")
    if resolution < 2:
        raise ValueError(f"plot_decision_boundary: resolution must be >= 2, got {resolution}")

    classes = np.unique(y)
    margin = 0.1 * (X.max(axis=0) - X.min(axis=0)) + 0.25
    lo, hi = X.min(axis=0) - margin, X.max(axis=0) + margin
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    grid_index, grid_proba = _classify(model, grid, classes, device)
    data_index, _ = _classify(model, X, classes, device)
    true_index = np.searchsorted(classes, y)
    n_classes = max(len(classes), int(grid_index.max()) + 1, 0 if grid_proba is None else grid_proba.shape[1])
    palette = [_COLORS[k % len(_COLORS)] for k in range(n_classes)]

    fig, ax = _figure_and_ax(ax, (7.0, 5.8))
    if grid_proba is not None and n_classes == 2:
        p1 = grid_proba[:, 1].reshape(gx.shape)
        cmap = LinearSegmentedColormap.from_list("proba", ["#a9cbee", "#ffffff", "#f3aeae"])
        shading = ax.contourf(gx, gy, p1, levels=np.linspace(0, 1, 21), cmap=cmap, vmin=0, vmax=1)
        second = classes[1] if len(classes) > 1 else 1
        fig.colorbar(shading, ax=ax, label=f"P(class {second})", ticks=np.linspace(0, 1, 6))
        ax.contour(gx, gy, p1, levels=[0.5], colors="black", linewidths=2)
    else:
        regions = grid_index.reshape(gx.shape)
        ax.imshow(regions, origin="lower", extent=(lo[0], hi[0], lo[1], hi[1]), aspect="auto",
                  cmap=ListedColormap(palette), vmin=-0.5, vmax=n_classes - 0.5, alpha=0.3,
                  interpolation="nearest")
        if grid_proba is not None:           # smooth borders: where class k stops beating the best other class
            for k in range(n_classes):
                others = np.delete(grid_proba, k, axis=1).max(axis=1)
                margin_k = (grid_proba[:, k] - others).reshape(gx.shape)
                if margin_k.min() < 0 < margin_k.max():
                    ax.contour(gx, gy, margin_k, levels=[0.0], colors="black", linewidths=1.5)

    for k, label in enumerate(classes):
        rows = true_index == k
        ax.scatter(X[rows, 0], X[rows, 1], s=22, color=palette[k], edgecolors="white", linewidths=0.6,
                   label=f"class {label}", zorder=3)
    wrong = data_index != true_index
    if wrong.any():
        ax.scatter(X[wrong, 0], X[wrong, 1], s=70, facecolors="none", edgecolors="black", linewidths=1.2,
                   label=f"misclassified ({int(wrong.sum())})", zorder=4)
    accuracy = float(np.mean(~wrong))
    ax.set_title(title or f"Decision boundary (accuracy {100 * accuracy:.1f}% on these points)")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.legend(loc="best", fontsize=9, framealpha=0.85)
    return fig
