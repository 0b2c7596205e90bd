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

One file per picture:
    history.py             plot_history
    decision_boundary.py   plot_decision_boundary
    activations.py         plot_activations, activation_curves, ActivationCurves, ACTIVATION_NAMES
    grad_flow.py           plot_grad_flow, grad_norms
    optimizer_paths.py     plot_optimizer_paths, optimizer_paths, default_optimizers, rosenbrock
    common.py              what they share: matplotlib on first use, the figure, the colours

matplotlib is imported on first use, so `from visualize import draw_graph` works without it.
The engine never imports this package.
"""
from .activations import ACTIVATION_NAMES, ActivationCurves, activation_curves, plot_activations
from .decision_boundary import plot_decision_boundary
from .grad_flow import grad_norms, plot_grad_flow
from .history import plot_history
from .optimizer_paths import default_optimizers, optimizer_paths, plot_optimizer_paths, rosenbrock

__all__ = ["plot_history", "plot_decision_boundary", "plot_activations", "plot_grad_flow",
           "plot_optimizer_paths", "activation_curves", "ActivationCurves", "ACTIVATION_NAMES",
           "grad_norms", "optimizer_paths", "default_optimizers", "rosenbrock"]
