"""Plots of training with matplotlib: what the numbers of a training run look like.

    from visualize import plot_history, plot_decision_boundary, plot_activations
    plot_history({"loss": losses, "val_accuracy": accs})    # curves per epoch
    plot_decision_boundary(model, X, y)                       # the classes a 2-D classifier draws
    plot_activations()                                        # lecture 4's table: f, f' by autograd, f' by hand
    plot_grad_flow(model)                                     # gradient norm per parameter, after backward()
    plot_optimizer_paths()                                    # SGD, Momentum, Adagrad, RMSprop, Adam on Rosenbrock

Every function returns the matplotlib Figure (save it with fig.savefig("name.png")) and
takes an optional `ax=` to draw into an Axes of your own figure instead. Two helpers give
the numbers behind the pictures: `activation_curves(name, x)` and `optimizer_paths(...)`.

matplotlib is imported on first use, so `from visualize import draw_graph` works without it.
The engine never imports this module.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Iterable, Mapping, NamedTuple, Sequence

import numpy as np

__all__ = ["plot_history", "plot_decision_boundary", "plot_activations", "plot_grad_flow",
           "plot_optimizer_paths", "activation_curves", "ActivationCurves", "ACTIVATION_NAMES",
           "grad_norms", "optimizer_paths", "default_optimizers", "rosenbrock"]

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


# ============================================================================= plot_history

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


# ============================================================================= plot_decision_boundary

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


# ============================================================================= activations

class _Activation(NamedTuple):
    formula: str                                  # f(x), as mathtext for the title
    derivative: str                               # f'(x) from the lecture table, as mathtext
    apply: Callable[[Any], Any]                   # the engine's op on a Tensor
    closed_form: Callable[[np.ndarray], np.ndarray]   # f'(x) by hand, NumPy


_LEAKY_SLOPE = 0.1     # bigger than PyTorch's default 0.01 so that the slope is visible in the plot
_ELU_ALPHA = 1.0


def _sigmoid_exact(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _normal_cdf(x: np.ndarray) -> np.ndarray:
    """Φ(x) = (1 + erf(x / sqrt 2)) / 2, the standard normal CDF."""
    return 0.5 * (1.0 + np.vectorize(math.erf, otypes=[np.float64])(x / math.sqrt(2.0)))


_ACTIVATIONS: dict[str, _Activation] = {
    "sigmoid": _Activation(
        r"$\sigma(x) = 1\,/\,(1 + e^{-x})$", r"$\sigma(x)\,(1 - \sigma(x))$",
        lambda t: t.sigmoid(),
        lambda x: _sigmoid_exact(x) * (1.0 - _sigmoid_exact(x))),
    "tanh": _Activation(
        r"$\tanh(x) = (e^{x} - e^{-x})\,/\,(e^{x} + e^{-x})$", r"$1 - \tanh^2(x)$",
        lambda t: t.tanh(),
        lambda x: 1.0 - np.tanh(x) ** 2),
    "relu": _Activation(
        r"$\mathrm{ReLU}(x) = \max(0,\ x)$", r"$[x > 0]$  (a step)",
        lambda t: t.relu(),
        lambda x: (x > 0).astype(np.float64)),
    "leaky_relu": _Activation(
        rf"$x$ if $x > 0$, else ${_LEAKY_SLOPE:g}\,x$", rf"$1$ if $x > 0$, else ${_LEAKY_SLOPE:g}$",
        lambda t: t.leaky_relu(negative_slope=_LEAKY_SLOPE),
        lambda x: np.where(x > 0, 1.0, _LEAKY_SLOPE)),
    "elu": _Activation(
        r"$x$ if $x > 0$, else $\alpha\,(e^{x} - 1)$, $\alpha = 1$", r"$1$ if $x > 0$, else $\alpha\,e^{x}$",
        lambda t: t.elu(alpha=_ELU_ALPHA),
        lambda x: np.where(x > 0, 1.0, _ELU_ALPHA * np.exp(np.minimum(x, 0.0)))),
    "gelu": _Activation(
        r"$\mathrm{GELU}(x) = x\,\Phi(x)$", r"$\Phi(x) + x\,\varphi(x)$",
        lambda t: t.gelu(),
        lambda x: _normal_cdf(x) + x * np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)),
    "softplus": _Activation(
        r"$\mathrm{SoftPlus}(x) = \ln(1 + e^{x})$", r"$\sigma(x)$",
        lambda t: t.softplus(),
        _sigmoid_exact),
    "softsign": _Activation(
        r"$\mathrm{SoftSign}(x) = x\,/\,(1 + |x|)$", r"$1\,/\,(1 + |x|)^2$",
        lambda t: t.softsign(),
        lambda x: 1.0 / (1.0 + np.abs(x)) ** 2),
}

ACTIVATION_NAMES = tuple(_ACTIVATIONS)


class ActivationCurves(NamedTuple):
    """The numbers behind one panel of plot_activations (NumPy float64 arrays shaped like x)."""
    x: np.ndarray
    y: np.ndarray                 # f(x), computed by the engine
    autograd: np.ndarray          # f'(x) by backpropagation: x.grad after f(x).sum().backward()
    closed_form: np.ndarray       # f'(x) from the lecture's table, written by hand in NumPy


def activation_curves(name: str, x: Any = None) -> ActivationCurves:
    """f(x) and f'(x) of the activation `name`, the derivative computed twice: by the engine's
    autograd and by the lecture's formula. They agree to rounding error, which is the point.

    The autograd way: x becomes a float64 Tensor with requires_grad=True; since every f(x_i)
    depends on x_i alone, d(sum_i f(x_i))/dx_i = f'(x_i), so after f(x).sum().backward(),
    x.grad holds f' at every point. x defaults to 401 points in [-4, 4].
    """
    from tinygrad_edu import Tensor
    if name not in _ACTIVATIONS:
        raise ValueError(f"activation_curves: unknown activation {name!r}; choose from {list(_ACTIVATIONS)}")
    spec = _ACTIVATIONS[name]
    x = np.linspace(-4.0, 4.0, 401) if x is None else _to_numpy(x).astype(np.float64)
    t = Tensor(x, requires_grad=True)
    y = spec.apply(t)
    y.sum().backward()
    return ActivationCurves(x=x, y=y.detach().numpy().astype(np.float64), autograd=t.grad.numpy().astype(np.float64),
                            closed_form=np.asarray(spec.closed_form(x), dtype=np.float64))


def plot_activations(names: Sequence[str] = ACTIVATION_NAMES, x_range: tuple[float, float] = (-4, 4),
                     ax: Any = None, points: int = 401):
    """Lecture 4's table, drawn: each activation f, its derivative by autograd, and the
    derivative from the table as a dashed line on top of it (they coincide).

    One panel per name, titled with the formula; the label under each panel gives the largest
    difference between the two derivatives. names: any of ACTIVATION_NAMES. ax: one Axes for a
    single name, or a sequence of Axes, one per name. Returns the Figure.
    """
    if isinstance(names, str):
        names = (names,)
    names = list(names)
    unknown = [n for n in names if n not in _ACTIVATIONS]
    if unknown or not names:
        raise ValueError(f"plot_activations: unknown activation(s) {unknown}; choose from {list(_ACTIVATIONS)}")
    x = np.linspace(float(x_range[0]), float(x_range[1]), points)

    if ax is not None:
        axes = list(np.ravel(ax)) if isinstance(ax, (list, tuple, np.ndarray)) else [ax]
        if len(axes) != len(names):
            raise ValueError(f"plot_activations: got {len(axes)} Axes for {len(names)} activations")
        fig = axes[0].figure
    else:
        cols = min(4, len(names))
        rows = math.ceil(len(names) / cols)
        fig, grid = _pyplot().subplots(rows, cols, figsize=(4.1 * cols, 3.7 * rows + 0.6), layout="constrained",
                                       squeeze=False)
        axes = list(grid.ravel())
        for extra in axes[len(names):]:
            extra.set_visible(False)

    for name, panel in zip(names, axes):
        spec = _ACTIVATIONS[name]
        curves = activation_curves(name, x)
        gap = float(np.max(np.abs(curves.autograd - curves.closed_form)))
        panel.axhline(0, color="0.6", linewidth=0.8)
        panel.axvline(0, color="0.6", linewidth=0.8)
        panel.plot(x, curves.y, color=_COLORS[0], linewidth=2.2, label="$f(x)$")
        panel.plot(x, curves.autograd, color=_COLORS[3], linewidth=4.5, alpha=0.6,
                   label="$f'(x)$ by autograd (x.grad)")
        panel.plot(x, curves.closed_form, "--", color="black", linewidth=1.4,
                   label="$f'(x)$ from the lecture table")
        panel.set_title(f"{name}:  {spec.formula}\n$f'(x) = $ {spec.derivative}", fontsize=10.5)
        panel.set_xlabel(f"$x$        (largest |autograd − table| = {gap:.1e})", fontsize=9)
        panel.set_xlim(x[0], x[-1])
        panel.grid(True, alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    if ax is None:
        fig.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=10, frameon=False)
        fig.suptitle("Activation functions and their derivatives: autograd vs. the lecture's formulas",
                     fontweight="bold", fontsize=13)
    else:
        axes[0].legend(handles, labels, loc="lower right", fontsize=8)
    return fig


# ============================================================================= plot_grad_flow

def grad_norms(model: Any) -> dict[str, float | None]:
    """{parameter name: L2 norm of its .grad} in named_parameters order (None: no gradient).

    A tensor that backward() keeps no gradient for (an intermediate result without
    retain_grad()) counts as having none; its .grad is not read."""
    named = model.named_parameters() if hasattr(model, "named_parameters") else model
    norms: dict[str, float | None] = {}
    for name, p in named:
        grad = p.grad if (p.is_leaf or p.retains_grad) else None
        norms[name] = None if grad is None else float(np.linalg.norm(_to_numpy(grad).astype(np.float64)))
    return norms


def plot_grad_flow(model: Any, ax: Any = None, title: str | None = None):
    """A bar per parameter: the norm ||dL/dθ|| of its gradient after loss.backward(), log scale.

    Bars go from the input layer (left) to the output layer (right), as named_parameters lists
    them, weights and biases in two colours (other parameters in a third); the legend names
    the kinds that are drawn, so a plot of the weights alone has no "bias" entry. In a deep
    net of sigmoids the bars shrink towards the input: every σ' <= 1/4 multiplies the
    gradient on its way back (vanishing gradients).
    model: an nn.Module, or an iterable of (name, parameter) pairs. Returns the Figure.
    """
    norms = grad_norms(model)
    if not norms:
        raise ValueError("plot_grad_flow: the model has no parameters")
    if all(v is None for v in norms.values()):
        raise ValueError("plot_grad_flow: no parameter has a gradient yet; call loss.backward() first")
    names = list(norms)
    present = [v for v in norms.values() if v is not None and v > 0]
    floor = min(present) / 10 if present else 1e-12

    fig, ax = _figure_and_ax(ax, (max(6.0, 0.55 * len(names) + 2.5), 4.6))
    positions = np.arange(len(names))
    drawn = set()                                     # the kinds of bar in the picture: the legend names only these
    for i, name in enumerate(names):
        value = norms[name]
        if value is None or value == 0:
            ax.bar(i, floor, color="white", edgecolor="0.5", hatch="//", width=0.7)
            ax.text(i, floor, "no grad" if value is None else "0", ha="center", va="bottom", fontsize=8,
                    rotation=90, color="0.4")
            drawn.add("none")
            continue
        kind = _parameter_kind(name)
        ax.bar(i, value, color=_GRAD_FLOW_KINDS[kind][0], width=0.7)
        drawn.add(kind)
        if len(names) <= 16:
            ax.text(i, value * 1.15, f"{value:.1e}", ha="center", va="bottom", fontsize=8)
    ax.set_yscale("log")
    ax.set_xticks(positions, names, rotation=45 if len(names) > 4 else 0, ha="right" if len(names) > 4 else "center",
                  fontsize=9)
    ax.set_xlim(-0.6, len(names) - 0.4)
    top = max(present) if present else 1.0
    ax.set_ylim(floor / 2, top * 6)
    ax.set_ylabel(r"gradient norm $\|\partial L / \partial \theta\|_2$ (log scale)")
    ax.set_xlabel("parameter (input layer → output layer)")
    ax.set_title(title or "Gradient flow: how much gradient reaches each parameter")
    ax.grid(True, axis="y", which="major", alpha=0.3)
    from matplotlib.patches import Patch
    legend = [Patch(color=colour, label=words) for kind, (colour, words) in _GRAD_FLOW_KINDS.items()
              if kind in drawn and kind != "none"]
    if "none" in drawn:
        legend.append(Patch(facecolor="white", edgecolor="0.5", hatch="//", label="no gradient (or 0)"))
    ax.legend(handles=legend, loc="upper left", fontsize=9)
    return fig


# plot_grad_flow: the kinds of parameter, each with its colour and its words in the legend
_GRAD_FLOW_KINDS = {"weight": (_COLORS[0], "weight"), "bias": (_COLORS[3], "bias"),
                    "other": (_COLORS[2], "other parameter")}


def _parameter_kind(name: str) -> str:
    """'0.weight', 'weight_ih_l0', 'in_proj_weight' -> 'weight'; '0.bias', 'bias_hh_l0' -> 'bias'; else 'other'."""
    last = name.rsplit(".", 1)[-1]
    for kind in ("bias", "weight"):
        if last == kind or last.startswith(kind + "_") or last.endswith("_" + kind):
            return kind
    return "other"


# ============================================================================= optimizer paths

def rosenbrock(p: Any) -> Any:
    """Rosenbrock's banana: f(x, y) = (1 - x)^2 + 100 (y - x^2)^2, minimum 0 at (1, 1).

    The minimum lies in a long, curved, flat-bottomed valley: easy to find the valley, hard to
    follow it, which is what separates the optimizers. Works on a Tensor of shape (2,), or (2, n).
    """
    x, y = p[0], p[1]
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def default_optimizers() -> dict[str, Callable[[list], Any]]:
    """The lecture 8 update rules, with learning rates that suit the Rosenbrock surface."""
    from tinygrad_edu import optim
    return {
        "SGD (lr=0.001)": lambda params: optim.SGD(params, lr=1e-3),
        "Momentum 0.9 (lr=0.001)": lambda params: optim.SGD(params, lr=1e-3, momentum=0.9),
        "Adagrad (lr=0.5)": lambda params: optim.Adagrad(params, lr=0.5),
        "RMSprop (lr=0.02, alpha=0.9)": lambda params: optim.RMSprop(params, lr=0.02, alpha=0.9),
        "Adam (lr=0.1, betas=(0.9, 0.9))": lambda params: optim.Adam(params, lr=0.1, betas=(0.9, 0.9)),
    }


def optimizer_paths(fn: Callable[[Any], Any] | None = None, optimizers: Mapping[str, Callable] | None = None,
                    start: Sequence[float] = (-1.5, 2.0), steps: int = 200) -> dict[str, np.ndarray]:
    """Run each optimizer on fn from `start`; {label: array of shape (steps + 1, 2)}, the points visited.

    fn: a function of a Tensor of shape (2,) returning a scalar Tensor (default: rosenbrock).
    optimizers: {label: make}, where make(params) returns an optimizer, e.g.
    {"Adam": lambda params: optim.Adam(params, lr=0.1)} (an optimizer class works too, with its
    default options). Each step is the training loop of lecture 8 on one point:
    zero_grad -> f(p) -> backward -> step. A path that overflows stops at its last finite point.
    """
    import warnings

    from tinygrad_edu import Tensor
    fn = rosenbrock if fn is None else fn
    optimizers = default_optimizers() if optimizers is None else optimizers
    if not isinstance(optimizers, Mapping):
        optimizers = {getattr(o, "__name__", f"optimizer {i}"): o for i, o in enumerate(optimizers)}
    if int(steps) < 1:
        raise ValueError(f"optimizer_paths: steps must be >= 1, got {steps}")
    start_point = np.asarray(start, dtype=np.float64).reshape(-1)
    if start_point.shape != (2,):
        raise ValueError(f"optimizer_paths: start must be a point (x, y), got {start!r}")

    paths = {}
    for label, make in optimizers.items():
        point = Tensor(start_point.copy(), requires_grad=True)
        optimizer = make([point])
        visited = [start_point.copy()]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)      # overflow of a diverging path
            for _ in range(int(steps)):
                optimizer.zero_grad()
                value = fn(point)
                value.backward()
                optimizer.step()
                current = point.detach().numpy().astype(np.float64).copy()
                if not np.all(np.isfinite(current)):
                    break
                visited.append(current)
        paths[str(label)] = np.array(visited)
    return paths


def _surface(fn: Callable, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """fn on the grid xs x ys: in one call on a (2, n) Tensor when fn is elementwise, else point by point."""
    from tinygrad_edu import Tensor, no_grad
    gx, gy = np.meshgrid(xs, ys)
    with no_grad():
        try:
            values = _to_numpy(fn(Tensor(np.stack([gx.ravel(), gy.ravel()])))).astype(np.float64)
            if values.size == gx.size:
                return values.reshape(gx.shape)
        except Exception:                                   # fn works on one point only
            pass
        return np.array([[float(_to_numpy(fn(Tensor(np.array([a, b]))))) for a in xs] for b in ys])


def plot_optimizer_paths(fn: Callable[[Any], Any] | None = None, optimizers: Mapping[str, Callable] | None = None,
                         start: Sequence[float] = (-1.5, 2.0), steps: int = 200, ax: Any = None,
                         xlim: tuple[float, float] | None = None, ylim: tuple[float, float] | None = None,
                         minimum: Sequence[float] | None = None, zoom: Any = "auto", title: str | None = None):
    """The contour map of a 2-D function with the path each optimizer takes across it.

    fn: a function of a Tensor of shape (2,) returning a scalar Tensor (default: Rosenbrock,
    minimum at (1, 1), marked with a star). optimizers: {label: make(params) -> optimizer}
    (default: SGD, SGD with momentum 0.9, Adagrad, RMSprop and Adam from tinygrad_edu.optim).
    Gradients come from the engine's backward, as in training. Every path starts at `start`
    and takes `steps` steps. xlim/ylim: the window (default: around the paths); minimum: a
    point to mark. zoom: ((x0, x1), (y0, y1)), a window shown enlarged in an inset, or None;
    "auto" zooms on the start of Rosenbrock's default paths, where the slow ones stay.
    The legend gives each optimizer's final value of f. Returns the Figure.
    """
    from matplotlib.colors import BoundaryNorm
    is_rosenbrock = fn is None or fn is rosenbrock
    fn = rosenbrock if fn is None else fn
    if minimum is None and is_rosenbrock:
        minimum = (1.0, 1.0)
    start = tuple(float(v) for v in np.asarray(start, dtype=np.float64).reshape(-1))
    paths = optimizer_paths(fn, optimizers, start, steps)
    finals = {label: float(_to_numpy(fn(_tensor_point(path[-1])))) for label, path in paths.items()}

    if xlim is None or ylim is None:
        auto_x, auto_y = ((-2.0, 2.0), (-1.0, 3.0)) if is_rosenbrock else _window(paths, start, minimum)
        xlim = auto_x if xlim is None else xlim
        ylim = auto_y if ylim is None else ylim
    if isinstance(zoom, str):
        zoom = ((-1.62, -0.92), (1.15, 2.62)) if (is_rosenbrock and start == (-1.5, 2.0)) else None

    xs = np.linspace(xlim[0], xlim[1], 300)
    ys = np.linspace(ylim[0], ylim[1], 300)
    z = _surface(fn, xs, ys)
    levels = np.unique(np.quantile(z[np.isfinite(z)], np.linspace(0.0, 1.0, 26)))  # equal areas: any scale
    norm = BoundaryNorm(levels, 256)

    def draw(target, with_labels):
        target.contourf(xs, ys, z, levels=levels, cmap="Greys_r", norm=norm, alpha=0.55)
        target.contour(xs, ys, z, levels=levels, colors="0.35", linewidths=0.5, alpha=0.7)
        for i, (label, path) in enumerate(paths.items()):
            color = _COLORS[i % len(_COLORS)]
            width = 1.5 + 0.8 * (len(paths) - 1 - i)    # later paths thinner, on top: overlaps stay visible
            stopped = " (diverged)" if len(path) < int(steps) + 1 else ""
            target.plot(path[:, 0], path[:, 1], "-", color=color, linewidth=width, alpha=0.9,
                        label=f"{label}: f = {finals[label]:.3g}{stopped}" if with_labels else None)
            every = max(1, len(path) // 20)
            target.plot(path[::every, 0], path[::every, 1], "o", color=color, markersize=2 + 0.5 * width)
            target.plot(path[-1, 0], path[-1, 1], "X", color=color, markersize=10, markeredgecolor="black",
                        markeredgewidth=0.8, zorder=5)
        target.plot(*start, "o", color="white", markeredgecolor="black", markersize=10, zorder=6,
                    label=f"start ({start[0]:g}, {start[1]:g})" if with_labels else None)
        if minimum is not None:
            target.plot(*np.asarray(minimum, dtype=np.float64), "*", color="gold", markeredgecolor="black",
                        markersize=18, zorder=4,
                        label=f"minimum ({minimum[0]:g}, {minimum[1]:g})" if with_labels else None)

    fig, ax = _figure_and_ax(ax, (8.5, 6.8))
    draw(ax, with_labels=True)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xlabel("$x$")
    ax.set_ylabel("$y$")
    default_title = (r"Optimizers on Rosenbrock's $f(x, y) = (1 - x)^2 + 100\,(y - x^2)^2$"
                     if is_rosenbrock else "Optimizer paths")
    ax.set_title(title or f"{default_title}, {int(steps)} steps")
    ax.legend(loc="lower right", fontsize=9, framealpha=0.9)
    if zoom is not None:
        inset = ax.inset_axes([0.6, 0.6, 0.38, 0.38])
        draw(inset, with_labels=False)
        inset.set_xlim(*zoom[0])
        inset.set_ylim(*zoom[1])
        inset.tick_params(labelsize=7)
        ax.indicate_inset_zoom(inset, edgecolor="0.2")
    return fig


def _window(paths: Mapping[str, np.ndarray], start: Sequence[float], minimum: Any) -> tuple:
    """x and y limits around the paths (and the minimum), not stretched out by a diverging path."""
    points = list(paths.values()) + ([np.atleast_2d(np.asarray(minimum, dtype=np.float64))]
                                     if minimum is not None else [])
    points = np.concatenate(points)
    centre = np.asarray(start, dtype=np.float64)
    reach = np.minimum(np.abs(points - centre).max(axis=0), 10 * max(1.0, float(np.abs(centre).max())))
    low = np.maximum(points.min(axis=0), centre - reach)
    high = np.minimum(points.max(axis=0), centre + reach)
    pad = 0.15 * (high - low) + 0.25
    return (low[0] - pad[0], high[0] + pad[0]), (low[1] - pad[1], high[1] + pad[1])


def _tensor_point(point: np.ndarray):
    from tinygrad_edu import Tensor, no_grad
    with no_grad():
        return Tensor(np.asarray(point, dtype=np.float64))
