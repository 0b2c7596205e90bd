"""plot_activations: lecture 4's table of activation functions, each with its derivative
computed twice, by autograd and by the lecture's formula (activation_curves gives the numbers)."""
from __future__ import annotations

import math
from typing import Any, Callable, NamedTuple, Sequence

import numpy as np

from .common import _COLORS, _pyplot, _to_numpy


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
