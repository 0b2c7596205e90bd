"""plot_optimizer_paths: the path each optimizer takes across a 2-D function (Rosenbrock's
banana by default); optimizer_paths gives the points."""
from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import numpy as np

from .common import _COLORS, _figure_and_ax, _to_numpy


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
