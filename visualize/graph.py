"""The computation graph, drawn: draw_graph returns it as a graphviz.Digraph.

    from visualize import draw_graph
    dot = draw_graph(loss, params=dict(model.named_parameters()))   # a graphviz.Digraph
    dot                                   # in Jupyter: the picture, inline (SVG)
    dot.render("graph", format="png")     # a file: graph.png
    draw_graph(loss, highlight=w)         # the backward path from loss down to w, in red
    draw_graph(loss, color_by="grad")     # arrows coloured by gradient size: see them vanish
    draw_graph(loss, cluster_modules=model)   # a dashed box around each layer's part

What is drawn. The engine records, for every result `y` of an op, its creator `y.grad_fn`
(a Function node) and that node's inputs `y.grad_fn.parents`. Starting at the root we
follow those links backwards: a box per Tensor (the root, and every Tensor found among
some node's parents) with its name, a rounded blue node per Function named by its class
(`Mul`, `MatMul`, `ReLU`, or your own Function subclass), small grey labels for plain numbers
given to an op, and arrows in the direction of the forward pass: input -> Function -> output.
The walk (visualize/walk.py) uses an explicit stack and a visited set, so a graph of 10,000
nodes draws. Names come from one rule (`_tensor_names`, in walk.py) that explain_backward uses
too: your names (`params=`, `Tensor.name`), else L for the root, z1, z2, ... for intermediates
and t1, t2, ... for other leaves; "dL/dz2" in the text is the box labelled z2 in the picture.

Colours (the legend in each picture repeats this):
    orange   the root (the tensor you passed in, usually the loss)
    green    parameters (nn.Parameter, or a tensor named in `params`)
    yellow   other leaves that require grad
    grey     inputs that do not require grad (data, targets)
    white    intermediate results
    blue     Function nodes
A dashed arrow carries no gradient back (its input does not require grad).

The backward pass explained in words, step by step, is in visualize/explain.py
(explain_backward, backward_steps); the old path `from visualize.graph import
explain_backward` still works.
"""
from __future__ import annotations

import html
import math
from typing import Any

from tinygrad_edu import arguments, backend
from tinygrad_edu.autograd import Function
from tinygrad_edu.nn.parameter import Parameter
from tinygrad_edu.tensor import Tensor

from .render import new_digraph
from .text import _constant_text, _doc_line, _format_values, _shape_text
from .walk import ROOT_NAMES, _collect, _Graph, _named_pairs, _tensor_names   # noqa: F401  (ROOT_NAMES: old path)

FONT = "Courier"                       # monospace, and a font Graphviz knows the metrics of
HIGHLIGHT = "#d62728"                  # the backward path and the active node
HIGHLIGHT_FILL = "#ffd6d6"
NO_GRAD_EDGE = "#9e9e9e"
SPINE = "forward"                      # Graphviz group of the ops and their results: it keeps that chain straight

# role -> (fill colour, border colour, words for the legend)
ROLES = {
    "output":    ("#ffe0b2", "#e65100", "output (the root)"),
    "parameter": ("#dcedc8", "#33691e", "parameter"),
    "leaf":      ("#fff9c4", "#a08c00", "leaf, requires grad"),
    "input":     ("#eeeeee", "#757575", "input, no grad"),
    "tensor":    ("#ffffff", "#9e9e9e", "intermediate tensor"),
    "function":  ("#dbe9ff", "#1f4e9c", "Function (op)"),
}

# color_by="grad": mean |gradient| per element -> (below this, colour, pen width, legend words)
GRAD_SCALE = [
    (1e-6, "#a6bddb", 1.0, "< 1e-6 (vanishing)"),
    (1e-4, "#74a9cf", 1.4, "1e-6 .. 1e-4"),
    (1e-2, "#3690c0", 1.8, "1e-4 .. 1e-2"),
    (1e0, "#0570b0", 2.4, "1e-2 .. 1"),
    (1e2, "#023858", 3.0, "1 .. 1e2"),
    (math.inf, "#e6550d", 3.6, ">= 1e2 (exploding)"),
]
GRAD_UNKNOWN = ("#cccccc", "grad not stored")


def node_id(obj: Any) -> str:
    """The DOT name of a Tensor's box ("t...") or a Function's node ("f...") in draw_graph's output."""
    if isinstance(obj, Tensor):
        return f"t{id(obj)}"
    if isinstance(obj, Function):
        return f"f{id(obj)}"
    raise TypeError(f"node_id: expected a Tensor or a Function node, got {type(obj).__name__}")


# ----------------------------------------------------------------------------- drawing

def _escape(text: str) -> str:
    return html.escape(text, quote=True)


def _lines(text: str) -> str:
    """Multi-line text for an HTML-like label, each line left-aligned."""
    return '<BR ALIGN="LEFT"/>'.join(_escape(line) for line in text.split("\n")) + '<BR ALIGN="LEFT"/>'


def _tensor_label(tensor: Tensor, name: str | None, role: str, grad: Any, show_data: bool,
                  max_elems: int, highlighted: bool) -> str:
    """A box as a two-column table: name and role, then shape and dtype, data, grad."""
    fill, border, _ = ROLES[role]
    width = 3 if highlighted else (2 if role == "output" else 1)
    color = HIGHLIGHT if highlighted else border
    left = '<TD ALIGN="LEFT" VALIGN="TOP">{}</TD>'
    right = '<TD ALIGN="LEFT" BALIGN="LEFT">{}</TD>'
    rows = []
    tag = "" if role in ("tensor", "function") else role
    if name or tag:
        head = f"<B>{_escape(name)}</B>  " if name else ""
        head += f'<FONT POINT-SIZE="8" COLOR="#666666">{tag}</FONT>' if tag else ""
        rows.append(f'<TD ALIGN="LEFT" COLSPAN="2">{head}</TD>')
    rows.append(left.format("shape") + right.format(_escape(f"{_shape_text(tensor.shape)} {tensor.dtype}")))
    if show_data:
        rows.append(left.format("data") + right.format(_lines(_format_values(tensor.data, max_elems))))
    if grad is not None:
        values = _lines(_format_values(grad, max_elems))
        rows.append(left.format('<FONT COLOR="#b71c1c">grad</FONT>')
                    + right.format(f'<FONT COLOR="#b71c1c">{values}</FONT>'))
    cells = "".join(f"<TR>{row}</TR>" for row in rows)
    return (f'<<TABLE BORDER="{width}" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2" STYLE="rounded" '
            f'BGCOLOR="{fill}" COLOR="{color}">{cells}</TABLE>>')


def _grad_style(grad: Any) -> tuple[str, float, str]:
    """Colour, pen width and style of an arrow that carries a gradient of this size."""
    if grad is None or grad.size == 0:
        return GRAD_UNKNOWN[0], 1.0, "solid"
    magnitude = float(backend.xp(grad).mean(backend.xp(grad).abs(grad)))
    if not math.isfinite(magnitude):
        return GRAD_SCALE[-1][1], GRAD_SCALE[-1][2], "bold"
    for bound, colour, width, _ in GRAD_SCALE:
        if magnitude < bound:
            return colour, width, "dotted" if bound == GRAD_SCALE[0][0] else "solid"
    return GRAD_SCALE[-1][1], GRAD_SCALE[-1][2], "solid"


def _legend(roles: set, has_constants: bool, has_no_grad_edge: bool, highlight_text: str | None,
            color_by: str | None) -> str:
    cell = '<TD ALIGN="LEFT" BORDER="1" COLOR="{}" BGCOLOR="{}" STYLE="rounded">{}</TD>'
    rows = []
    for role in ("output", "parameter", "leaf", "input", "tensor", "function"):
        if role in roles:
            fill, border, words = ROLES[role]
            rows.append(cell.format(border, fill, _escape(words)))
    if has_constants:
        rows.append('<TD ALIGN="LEFT"><FONT COLOR="#666666">2.0</FONT>  a number given to an op</TD>')
    if has_no_grad_edge:
        rows.append(f'<TD ALIGN="LEFT"><FONT COLOR="{NO_GRAD_EDGE}">- - -&gt;</FONT>  no gradient flows back</TD>')
    if highlight_text:
        rows.append(f'<TD ALIGN="LEFT"><FONT COLOR="{HIGHLIGHT}"><B>==&gt;</B></FONT>  '
                    f'{_escape(highlight_text)}</TD>')
    if color_by == "grad":
        rows.append('<TD ALIGN="LEFT"><B>arrow colour: mean |grad|</B></TD>')
        for _, colour, _, words in GRAD_SCALE:
            rows.append(f'<TD ALIGN="LEFT"><FONT COLOR="{colour}"><B>---&gt;</B></FONT>  {_escape(words)}</TD>')
        rows.append(f'<TD ALIGN="LEFT"><FONT COLOR="{GRAD_UNKNOWN[0]}"><B>---&gt;</B></FONT>  '
                    f'{GRAD_UNKNOWN[1]} (retain_grad())</TD>')
    body = "".join(f"<TR>{row}</TR>" for row in rows)
    return f'<<TABLE BORDER="0" CELLSPACING="3" CELLPADDING="3">{body}</TABLE>>'


def _module_owners(model: Any) -> dict:
    """id(parameter) -> (cluster name, label) for the module that holds it directly."""
    if not hasattr(model, "named_modules"):
        raise TypeError(f"draw_graph: cluster_modules must be an nn.Module, got {type(model).__name__}")
    owners = {}
    for index, (path, module) in enumerate(model.named_modules()):
        label = f"{path} ({type(module).__name__})" if path else type(module).__name__
        for _, param in module.named_parameters(recurse=False):
            owners.setdefault(id(param), (f"cluster_module_{index}", label))
    return owners


def draw_graph(root: Tensor, params: Any = None, show_data: bool = True, show_grad: bool = True,
               rankdir: str = "LR", max_elems: int = 6, *, highlight: Tensor | Function | None = None,
               color_by: str | None = None, cluster_modules: Any = None,
               legend: bool = True) -> "graphviz.Digraph":
    """Draw the computation graph that produced `root`; returns a graphviz.Digraph.

    root:       the Tensor to start from (usually the loss).
    params:     names for tensors: a dict {name: Tensor} or pairs such as
                model.named_parameters(). Named leaves are drawn as parameters. Tensors
                not named here show their `Tensor.name` when it is set, and the rest the
                names explain_backward gives them: L (the root), z1, z2, ... (intermediate
                results, in forward order), t1, t2, ... (other leaves), so the picture and
                the text of the same loss use the same names.
    show_data:  show the values (all of them for tensors with at most `max_elems`
                elements, else min / mean / max).
    show_grad:  show `.grad` where it is stored (leaves and retain_grad() tensors,
                after backward; nothing before).
    rankdir:    "LR" (left to right, default), "TB", "RL" or "BT".
    highlight:  a Tensor (or Function node) of the graph: the backward path from the
                root down to it is drawn in red, every path if there are several.
    color_by:   "grad" colours each arrow by the mean |gradient| of the tensor it
                carries (faint = vanishing, orange = exploding). Only stored gradients
                are known: those of leaves, and of tensors that called retain_grad()
                before backward; other arrows stay light grey.
    cluster_modules: an nn.Module. Each op that takes one of the module's parameters
                (a Linear layer's Linear node, with its weight, bias and output) is
                boxed with the innermost sub-module that owns that parameter, labelled
                by its path ("0 (Linear)"). Modules without parameters (ReLU) are not boxed.
    legend:     add a legend box explaining colours and arrows.

    Without a Graphviz executable the result still has the DOT text in `.source`;
    rendering then raises a RuntimeError that says what to install.
    """
    return _draw(root, params, show_data, show_grad, rankdir, max_elems, highlight=highlight,
                 color_by=color_by, cluster_modules=cluster_modules, legend=legend)


def _check_arguments(root: Any, rankdir: str, color_by: Any, max_elems: Any, highlight: Any) -> None:
    if not isinstance(root, Tensor):
        raise TypeError(f"draw_graph: root must be a Tensor, got {type(root).__name__}")
    arguments.choice(rankdir, ("LR", "TB", "RL", "BT"), "rankdir", "draw_graph")
    if color_by not in (None, "grad"):
        raise ValueError(f"draw_graph: color_by must be None or 'grad', got {color_by!r}")
    if not isinstance(max_elems, int) or max_elems < 0:
        raise ValueError(f"draw_graph: max_elems must be a non-negative int, got {max_elems!r}")
    if highlight is not None and not isinstance(highlight, (Tensor, Function)):
        raise TypeError(f"draw_graph: highlight must be a Tensor or a Function node of the graph, "
                        f"got {type(highlight).__name__}")


def _edges(graph: _Graph) -> tuple[list, list]:
    """The arrows, in the forward direction: (source, target, tensor carried, does a gradient
    flow back along it?), and the constants: (node name, text, target)."""
    edges, constants = [], []
    for node in graph.functions:
        fid = node_id(node)
        needs = node.needs_input_grad
        for i, parent in enumerate(node.parents):
            if isinstance(parent, Tensor):
                edges.append((node_id(parent), fid, parent, i < len(needs) and needs[i]))
            elif parent is not None:
                constants.append((f"c{id(node)}_{i}", _constant_text(parent), fid))
        for out in graph.outputs[id(node)]:
            edges.append((fid, node_id(out), out, True))
    return edges, constants


def _path_from(start: str, edges: list) -> set:
    """Every node on a forward path from `start` to the root: the backward path root -> start."""
    consumers: dict = {}
    for source, target, _, _ in edges:
        consumers.setdefault(source, []).append(target)
    on_path = {start}
    frontier = [start]
    while frontier:
        for target in consumers.get(frontier.pop(), ()):
            if target not in on_path:
                on_path.add(target)
                frontier.append(target)
    return on_path


def _clusters(graph: _Graph, model: Any) -> tuple[dict, dict]:
    """cluster_modules: node name -> cluster, and cluster -> label.

    A parameter goes to the module that holds it; a Function that takes a parameter goes
    there too, with the tensors it produced.
    """
    owners = _module_owners(model)
    cluster_of, labels = {}, {}
    for node in graph.functions:
        owned = [p for p in node.parents if isinstance(p, Tensor) and id(p) in owners]
        if owned:
            key, labels[key] = owners[id(owned[0])]
            for name in [node_id(node)] + [node_id(out) for out in graph.outputs[id(node)]]:
                cluster_of.setdefault(name, key)
    for tensor in graph.tensors:
        if id(tensor) in owners:
            key, labels[key] = owners[id(tensor)]
            cluster_of[node_id(tensor)] = key
    return cluster_of, labels


def _draw(root: Tensor, params: Any, show_data: bool, show_grad: bool, rankdir: str, max_elems: int, *,
          highlight: Any = None, color_by: str | None = None, cluster_modules: Any = None,
          legend: bool = True, names: dict | None = None, grads: dict | None = None):
    """draw_graph, plus what explain_backward needs: `names` (id(tensor) -> name), the names of
    its text, and `grads` (id(tensor) -> array) used instead of `.grad`."""
    _check_arguments(root, rankdir, color_by, max_elems, highlight)
    graph = _collect(root)
    if params is None and cluster_modules is not None:
        params = cluster_modules.named_parameters()
    pairs = _named_pairs(params)
    param_ids = {id(tensor) for _, tensor in pairs}
    if names is None:
        names = _tensor_names(graph, pairs)

    def role_of(tensor: Tensor) -> str:
        if tensor is root:
            return "output"
        if tensor.grad_fn is not None:
            return "tensor"
        if tensor.requires_grad and (isinstance(tensor, Parameter) or id(tensor) in param_ids):
            return "parameter"
        return "leaf" if tensor.requires_grad else "input"

    def grad_of(tensor: Tensor) -> Any:
        if grads is not None:
            return grads.get(id(tensor))
        if not (tensor.is_leaf or tensor.retains_grad):     # backward keeps no .grad here
            return None
        return tensor.grad.data if tensor.grad is not None else None

    edges, constants = _edges(graph)
    on_path: set = set()
    highlight_text = None
    if highlight is not None:
        start = node_id(highlight)
        if not any(node_id(t) == start for t in graph.tensors) and not any(f is highlight for f in graph.functions):
            raise ValueError("draw_graph: the highlight tensor is not part of the graph of root "
                             "(pass a tensor that the root was computed from)")
        on_path = _path_from(start, edges)
        what = names.get(id(highlight), "the highlighted tensor")
        if isinstance(highlight, Function):
            what = f"the {type(highlight).__name__} node"
        highlight_text = f"backward path to {what}"
    cluster_of, cluster_labels = _clusters(graph, cluster_modules) if cluster_modules is not None else ({}, {})

    dot = new_digraph(name="computation_graph")
    dot.attr(rankdir=rankdir, fontname=FONT, fontsize="11", bgcolor="white", nodesep="0.25", ranksep="0.35")
    dot.attr("node", fontname=FONT, fontsize="10")
    dot.attr("edge", arrowsize="0.7", color="#555555")

    statements: dict = {}                                 # cluster (None: top level) -> [(name, attrs)]
    roles_seen = set()
    for tensor in graph.tensors:                          # discovery order keeps inputs in order
        tid, role = node_id(tensor), role_of(tensor)
        roles_seen.add(role)
        name = names[id(tensor)]
        grad = grad_of(tensor) if show_grad else None
        attrs = {"label": _tensor_label(tensor, name, role, grad, show_data, max_elems, tid in on_path),
                 "shape": "plain", "class": f"tensor {role}" + (" highlight" if tid in on_path else "")}
        if tensor.grad_fn is not None:
            attrs["group"] = SPINE
        statements.setdefault(cluster_of.get(tid), []).append((tid, attrs))
    fill, border, _ = ROLES["function"]
    for node in graph.functions:
        fid = node_id(node)
        roles_seen.add("function")
        attrs = {"label": f"<<B>{_escape(type(node).__name__)}</B>>", "shape": "box",
                 "style": "rounded,filled", "fillcolor": fill, "color": border,
                 "tooltip": _doc_line(type(node)) or type(node).__name__, "class": "function", "group": SPINE}
        if fid in on_path:
            attrs.update({"color": HIGHLIGHT, "penwidth": "3", "class": "function highlight"})
        if node is highlight:
            attrs.update({"fillcolor": HIGHLIGHT_FILL, "class": "function highlight active"})
        statements.setdefault(cluster_of.get(fid), []).append((fid, attrs))
    for cid, text, target in constants:
        attrs = {"label": text, "shape": "plaintext", "fontsize": "9", "fontcolor": "#666666", "class": "constant"}
        statements.setdefault(cluster_of.get(target), []).append((cid, attrs))

    for key, items in statements.items():
        if key is None:
            for name, attrs in items:
                dot.node(name, **attrs)
            continue
        with dot.subgraph(name=key) as box:
            box.attr(label=cluster_labels[key], style="rounded,dashed", color="#7e57c2", fontcolor="#4527a0",
                     fontname=FONT, fontsize="10", labeljust="l")
            for name, attrs in items:
                box.node(name, **attrs)

    for source, target, tensor, flows in edges:
        attrs = {}
        if not flows:
            attrs = {"style": "dashed", "color": NO_GRAD_EDGE, "class": "nograd"}
        elif color_by == "grad":
            colour, width, style = _grad_style(grad_of(tensor))
            attrs = {"color": colour, "penwidth": f"{width:g}", "style": style, "class": "grad"}
        if source in on_path:                   # then its target is on the path too
            attrs = {"color": HIGHLIGHT, "penwidth": "2.5", "class": "highlight"}
        dot.edge(source, target, **attrs)
    for cid, _, target in constants:
        dot.edge(cid, target, style="dotted", color=NO_GRAD_EDGE, arrowsize="0.5", **{"class": "constant"})

    if legend:
        has_no_grad_edge = not all(flows for *_, flows in edges)
        with dot.subgraph(name="cluster_legend") as box:
            box.attr(label="legend", style="rounded", color="#bdbdbd", fontname=FONT, fontsize="10")
            box.node("legend", label=_legend(roles_seen, bool(constants), has_no_grad_edge, highlight_text,
                                             color_by), shape="plain", fontsize="9")
    return dot



# explain_backward and its classes lived here before visualize/explain.py; explain.py imports
# this module, so the old import path is served on first use instead of by an import loop.
_MOVED_TO_EXPLAIN = ("explain_backward", "backward_steps", "BackwardStep", "InputGradient")


def __getattr__(name: str) -> Any:
    """`from visualize.graph import explain_backward` (the old path) gets it from visualize.explain."""
    if name in _MOVED_TO_EXPLAIN:
        from . import explain
        return getattr(explain, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
