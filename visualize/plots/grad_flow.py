"""plot_grad_flow: how much gradient reaches each parameter after loss.backward()
(grad_norms gives the numbers)."""
from __future__ import annotations

from typing import Any

import numpy as np

from .common import _COLORS, _figure_and_ax, _to_numpy


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
