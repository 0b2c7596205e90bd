"""visualize: see what the engine does.

    from visualize import draw_graph
    draw_graph(loss, params=dict(model.named_parameters()))    # the computation graph (graphviz)
    explain_backward(loss)                                     # the chain rule, node by node, with numbers

and matplotlib plots of training: plot_history, plot_decision_boundary, plot_activations,
plot_grad_flow, plot_optimizer_paths; and the interpretation of a trained model (visualize.interpret):
saliency, grad_cam, occlusion, fgsm, with plot_maps and plot_filters to see them. The engine never
imports this package.
"""
from .explain import backward_steps, explain_backward
from .graph import draw_graph
from .interpret import fgsm, grad_cam, occlusion, plot_filters, plot_maps, saliency
from .plots import (plot_activations, plot_decision_boundary, plot_grad_flow, plot_history,
                    plot_optimizer_paths)
from .render import find_dot, render

__all__ = ["draw_graph", "explain_backward", "backward_steps", "render", "find_dot", "plot_history", "plot_decision_boundary",
           "plot_activations", "plot_grad_flow", "plot_optimizer_paths", "saliency", "grad_cam", "occlusion",
           "fgsm", "plot_maps", "plot_filters"]
