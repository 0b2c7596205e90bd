"""The computation graph, drawn; and the backward pass, explained one Function at a time.

    from visualize import draw_graph, explain_backward
    dot = draw_graph(loss, params=dict(model.named_parameters()))   # a graphviz.Digraph
    dot                                   # in Jupyter: the picture, inline (SVG)
    dot.render("graph", format="png")     # a file: graph.png
    draw_graph(loss, highlight=w)         # the backward path from loss down to w, in red
    draw_graph(loss, color_by="grad")     # arrows coloured by gradient size: see them vanish
    draw_graph(loss, cluster_modules=model)   # a dashed box around each layer's part
    explain_backward(loss)                # prints the chain rule with numbers, node by node
    for step in backward_steps(loss): ... # the same, as objects; step.draw() is its picture

What is drawn. The engine records, for every result `y` of an op, its creator `y.grad_fn`
(a Function node) and that node's inputs `y.grad_fn.parents`. Starting at the root we
follow those links backwards: a box per Tensor (the root, and every Tensor found among
some node's parents) with its name, a rounded blue node per Function named by its class
(`Mul`, `MatMul`, `ReLU`, or your own Function subclass), small grey labels for plain numbers
given to an op, and arrows in the direction of the forward pass: input -> Function -> output.
The walk uses an explicit stack and a visited set, so a graph of 10,000 nodes draws.
Names come from one rule (`_tensor_names`) that explain_backward uses too: your names
(`params=`, `Tensor.name`), else L for the root, z1, z2, ... for intermediates and t1, t2,
... for other leaves; "dL/dz2" in the text is the box labelled z2 in the picture.

Colours (the legend in each picture repeats this):
    orange   the root (the tensor you passed in, usually the loss)
    green    parameters (nn.Parameter, or a tensor named in `params`)
    yellow   other leaves that require grad
    grey     inputs that do not require grad (data, targets)
    white    intermediate results
    blue     Function nodes
A dashed arrow carries no gradient back (its input does not require grad).
"""
from __future__ import annotations

import html
import inspect
import math
import os
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Mapping, TextIO

import numpy as np

from tinygrad_edu import autograd, backend
from tinygrad_edu.autograd import Function
from tinygrad_edu.nn.parameter import Parameter
from tinygrad_edu.tensor import Tensor

from .render import new_digraph, render

FONT = "Courier"                       # monospace, and a font Graphviz knows the metrics of
HIGHLIGHT = "#d62728"                  # the backward path and the active node
HIGHLIGHT_FILL = "#ffd6d6"
NO_GRAD_EDGE = "#9e9e9e"
SPINE = "forward"                      # Graphviz group of the ops and their results: it keeps that chain straight
ROOT_NAMES = ("L", "loss", "L_")       # the root's name when it has none of its own: the first one not taken

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


# ----------------------------------------------------------------------------- walking the graph

@dataclass
class _Graph:
    """What the walk from the root found. Lists are in discovery order (root first)."""

    root: Tensor
    tensors: list = field(default_factory=list)      # every Tensor box
    functions: list = field(default_factory=list)    # every Function node
    outputs: dict = field(default_factory=dict)      # id(node) -> the Tensors it produced


def _collect(root: Tensor) -> _Graph:
    """Visit every Tensor and Function reachable from `root` exactly once, without recursion."""
    graph = _Graph(root)
    seen_tensors: set = set()
    seen_functions: set = set()
    stack = [root]
    while stack:
        tensor = stack.pop()
        if id(tensor) in seen_tensors:
            continue
        seen_tensors.add(id(tensor))
        graph.tensors.append(tensor)
        node = tensor.grad_fn
        if node is None:
            continue
        graph.outputs.setdefault(id(node), []).append(tensor)
        if id(node) in seen_functions:
            continue
        seen_functions.add(id(node))
        graph.functions.append(node)
        for parent in reversed(node.parents):      # reversed: the first input is visited first
            if isinstance(parent, Tensor) and id(parent) not in seen_tensors:
                stack.append(parent)
    return graph


def _named_pairs(params: Any) -> Iterable[tuple[str, Tensor]]:
    """`params` as (name, tensor) pairs: a dict, or pairs such as model.named_parameters()."""
    if params is None:
        return []
    items = params.items() if isinstance(params, Mapping) else params
    pairs = []
    for item in items:
        if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], Tensor)):
            raise TypeError("draw_graph: params must map names to Tensors, e.g. "
                            "dict(model.named_parameters())")
        pairs.append((str(item[0]), item[1]))
    return pairs


def _tensor_names(graph: _Graph, params: Any = None) -> dict:
    """id(tensor) -> its name, for every tensor of the graph: the one rule for the words and the picture.

    explain_backward writes these names in the chain rule ("dL/dz1 = ...") and draw_graph writes
    them on the boxes, so a student finds z1 of the text in the picture. In this order:
        1. the name given in `params` ({name: tensor}, or pairs such as model.named_parameters());
        2. the tensor's own `Tensor.name`;
        3. for the rest: L for the root (the loss), z1, z2, ... for intermediate results, in
           forward order (z1 is computed first), and t1, t2, ... for the other leaves (data,
           targets). A number that 1. or 2. already uses is skipped.
    """
    names = {}
    for name, tensor in _named_pairs(params):
        names.setdefault(id(tensor), name)
    for tensor in graph.tensors:
        if id(tensor) not in names and tensor.name:
            names[id(tensor)] = tensor.name
    taken = set(names.values())
    counters = {"z": 0, "t": 0, "L_": 0}

    def fresh(prefix: str) -> str:
        while True:
            counters[prefix] += 1
            candidate = f"{prefix}{counters[prefix]}"
            if candidate not in taken:
                taken.add(candidate)
                return candidate

    root = graph.root
    if id(root) not in names:
        free = [n for n in ROOT_NAMES if n not in taken]
        names[id(root)] = free[0] if free else fresh("L_")
        taken.add(names[id(root)])
    for tensor in reversed(graph.tensors):          # forward order: z1 is computed first
        if id(tensor) not in names:
            names[id(tensor)] = fresh("z") if tensor.grad_fn is not None else fresh("t")
    return names


# ----------------------------------------------------------------------------- numbers as text

def _number(value: Any) -> str:
    """One number, short: 4 significant digits for floats."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (complex, np.complexfloating)):
        return f"{value:.4g}"
    return f"{float(value) + 0.0:.4g}"          # + 0.0 turns -0.0 into 0


def _stats(array: Any) -> tuple[float, float, float]:
    """min, mean, max computed where the array lives (only three numbers leave the GPU)."""
    xp = backend.xp(array)
    values = array.astype(np.float64) if array.dtype.kind == "b" else array
    return float(xp.min(values)), float(xp.mean(values)), float(xp.max(values))


def _format_values(array: Any, max_elems: int = 6, one_line: bool = False) -> str:
    """All values when there are at most `max_elems`, else "min .. mean .. max"."""
    if array.size == 0:
        return f"[] shape {tuple(array.shape)}"
    if array.size <= max_elems:
        values = backend.to_numpy(array)
        if values.ndim == 0:
            return _number(values.item())
        text = np.array2string(values, separator=", ", max_line_width=10_000 if one_line else 60,
                               formatter={"float_kind": _number, "int_kind": _number})
        if one_line:
            return " ".join(text.split())
        if values.ndim == 2:                         # a matrix: one row per line, no outer brackets
            return "\n".join(line.strip().rstrip(",") for line in text[1:-1].split("\n"))
        # Leading spaces are dropped: some PNG renderers draw them wider than the font's other glyphs.
        return "\n".join(line.strip() for line in text.split("\n") if line.strip())
    low, mean, high = _stats(array)
    return f"min {_number(low)}  mean {_number(mean)}  max {_number(high)}"


def _short(array: Any, max_elems: int) -> str:
    """A value for the chain-rule text: the numbers when small, else shape and norm."""
    if array.size <= max_elems:
        return _format_values(array, max_elems, one_line=True)
    norm = float(backend.xp(array).linalg.norm(array.astype(np.float64).ravel()))
    return f"<{tuple(array.shape)} array, norm {_number(norm)}>"


def _shape_text(shape: tuple) -> str:
    return "scalar" if shape == () else str(tuple(shape))


def _constant_text(value: Any) -> str:
    """How a non-Tensor input of an op (a number, an array, an option) is shown."""
    if isinstance(value, (bool, int, float, complex, np.generic)):
        return _number(value)
    if isinstance(value, np.ndarray) or backend.is_device_array(value):
        return f"array {_shape_text(value.shape)}"
    text = repr(value)
    return text if len(text) <= 24 else type(value).__name__


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
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"draw_graph: rankdir must be 'LR', 'TB', 'RL' or 'BT', got {rankdir!r}")
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


# ----------------------------------------------------------------------------- explain_backward

def _doc_line(cls: type) -> str:
    """The math a Function's docstring states: its first paragraph, on one line."""
    doc = inspect.getdoc(cls) if cls.__doc__ else None
    if not doc or cls.__doc__ == Function.__doc__:
        return ""
    return re.sub(r"\s*\n\s*", " ", doc.split("\n\n")[0].strip())   # keeps the author's double spaces


def _input_symbols(cls: type, count: int) -> list:
    """The names forward() gives its inputs: (ctx, a, b) -> ["a", "b"]; *arrays -> arrays0, arrays1..."""
    try:
        parameters = list(inspect.signature(cls.forward).parameters.values())[1:]
    except (TypeError, ValueError):
        parameters = []
    symbols = []
    for p in parameters:
        if p.kind == p.VAR_POSITIONAL:
            symbols += [f"{p.name}{i}" for i in range(count - len(symbols))]
            break
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            symbols.append(p.name)
    return (symbols + [f"input{i}" for i in range(len(symbols), count)])[:count]


_NAME = r"(?<![A-Za-z0-9_])({})(?![A-Za-z0-9_])"
_END_OF_FORMULA = r"\s*=\s*(.+?)(?:[,;]|\.\s|\.$|\s\s|$)"
_MATH_LETTERS = {"e", "n", "i", "j", "k"}      # one-letter names a formula may use beyond its inputs


def _docstring_formula(cls: type, symbols: list, index: int, names: list, out_name: str, loss_name: str,
                       elementwise: bool) -> str | None:
    """A derivative as the Function's docstring writes it, in the names of this graph.

    Elementwise ops state the local derivative ("y = a * b;  dy/da = b"): returns "w".
    Others state the gradient ("dL/dA = dL/dY @ Bᵀ"): returns "dL/dz1 @ wᵀ".
    The docstring's symbols are forward()'s argument names (in either case) and the
    output's name before "="; a formula with a one-letter name we cannot translate
    (Linear's "G W") is not shown.
    """
    doc = _doc_line(cls)
    head = re.match(r"\s*([A-Za-z]\w*)", doc)
    if not head:
        return None
    out_symbol = head.group(1).split("_")[0]
    mapping = dict(zip(symbols, names))
    mapping[out_symbol] = out_name
    for symbol, name in list(mapping.items()):
        mapping.setdefault(symbol.upper(), name)
    symbol = symbols[index]
    wanted = f"(?:{re.escape(symbol)}|{re.escape(symbol.upper())})"
    lhs = rf"d{re.escape(out_symbol)}/d{wanted}" if elementwise else rf"dL/d{wanted}"
    found = re.search(lhs + _END_OF_FORMULA, doc)
    if not found or len(found.group(1).strip()) > 40:
        return None
    expression = found.group(1).strip()

    def gradient_of(match: re.Match) -> str:              # dL/dY -> dL/dz1
        return f"d{loss_name}/d{mapping.get(match.group(1), '?')}"
    expression = re.sub(r"dL/d([A-Za-z]\w*)", gradient_of, expression)
    if "/d?" in expression:
        return None
    plain = re.sub(r"d\S*/d\S*", " ", expression)        # the single letters outside dL/d...
    letters = set(re.findall(_NAME.format("[A-Za-z]"), plain))
    if letters - set(mapping) - _MATH_LETTERS:
        return None
    words = "|".join(re.escape(s) for s in sorted(mapping, key=len, reverse=True))
    parts = re.split(r"(d\S*/d\S*)", expression)          # keep dL/dz1 as it is
    return "".join(part if i % 2 else re.sub(_NAME.format(words), lambda m: mapping[m.group(1)], part)
                   for i, part in enumerate(parts))


@dataclass
class InputGradient:
    """What one step sends to one input: dL/d(input), and how it was computed."""

    name: str               # the input's name ("w", or "z1" for an unnamed intermediate)
    tensor: Tensor
    grad: np.ndarray        # dL/d(input), shaped like the input (as backward accumulates it)
    local: np.ndarray | None  # d(output)/d(input) elementwise, when the op is elementwise in this input
    formula: str | None     # the docstring's formula in this graph's names: d(output)/d(input)
                            # ("w") when elementwise, else dL/d(input) ("dL/dz1 @ wᵀ")
    summed: bool            # the gradient was summed over axes broadcasting had added


@dataclass
class BackwardStep:
    """One Function of the backward pass: dL/d(output) in, dL/d(input) out, for each input.

    str(step) is the chain rule with numbers; step.draw() is the graph with this node and
    the path to it highlighted and the gradients known so far written on the boxes.
    """

    index: int                      # 1, 2, ... in the order backward visits the nodes
    node: Function
    op: str                         # the Function's class name
    math: str                       # the first paragraph of its docstring
    output_name: str
    call: str                       # "z1 = Mul(x, w)"
    grad_output: np.ndarray         # dL/d(output), the sum of `contributions`
    contributions: list             # one array per use of the output
    inputs: list                    # InputGradient for every input that needs a gradient
    loss_name: str = "L"
    max_elems: int = 6
    seed_is_one: bool = True
    _walk: Any = field(default=None, repr=False)

    def __str__(self) -> str:
        L, y = self.loss_name, self.output_name
        short = lambda a: _short(a, self.max_elems)                     # noqa: E731
        lines = [f"step {self.index}  {self.op}: {self.call}"]
        if self.math:
            lines.append(f"        {self.math}")
        total = short(self.grad_output)
        if len(self.contributions) > 1:
            total = " + ".join(short(c) for c in self.contributions) + f" = {total}"
        lines.append(f"    d{L}/d{y} = {total}")
        for item in self.inputs:
            target = f"d{L}/d{item.name}"
            if item.local is None:                 # not elementwise: the docstring's formula, or backward
                how = item.formula or f"{self.op}.backward(d{L}/d{y})"
                lines.append(f"    {target} = {how} = {short(item.grad)}")
                continue
            factor = f"d{y}/d{item.name}"
            if y == L and self.seed_is_one:       # the root's own node: dL/dL = 1 drops out
                expression, numbers = factor, short(item.local)
            else:
                expression = f"d{L}/d{y} * {factor}"
                numbers = f"{short(self.grad_output)} * {short(item.local)}"
            if item.summed:
                expression, numbers = f"sum({expression})", f"sum({numbers})"
            line = f"    {target} = {expression} = {numbers} = {short(item.grad)}"
            if expression == factor and numbers == short(item.grad):
                line = f"    {target} = {numbers}"
            if item.formula and item.formula != short(item.local):
                line += f"      ({factor} = {item.formula})"
            lines.append(line)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<BackwardStep {self.index}: {self.op}>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))

    def draw(self, **kwargs: Any) -> "graphviz.Digraph":
        """The graph at this step: the active node and the path to it in red, the gradients
        computed so far on the boxes, this step's text underneath. Keywords go to draw_graph."""
        walk = self._walk
        grads = walk.grads_at(self.index)
        options = dict(show_data=True, show_grad=True, rankdir="LR", max_elems=self.max_elems)
        options.update(kwargs)
        dot = _draw(walk.root, walk.params, options.pop("show_data"), options.pop("show_grad"),
                    options.pop("rankdir"), options.pop("max_elems"), highlight=self.node,
                    names=walk.names, grads=grads, **options)
        caption = str(self).replace("\\", "\\\\").split("\n")
        dot.attr(label="\\l".join(caption) + "\\l", labelloc="b", labeljust="l", fontsize="11")
        return dot


class _BackwardWalk:
    """The backward pass replayed on the side: the same order and the same Function.backward
    calls as the engine, but the gradients stay here. Nothing in the graph changes: no
    `.grad` is written and no saved array is released."""

    def __init__(self, root: Tensor, grad: Any, params: Any, max_elems: int):
        if not isinstance(root, Tensor):
            raise TypeError(f"explain_backward: root must be a Tensor, got {type(root).__name__}")
        if not root.requires_grad:
            raise RuntimeError("explain_backward: this tensor does not require grad and has no grad_fn; "
                               "create the inputs with requires_grad=True")
        self.root, self.params, self.max_elems = root, params, max_elems
        self.seed = self._seed(root, grad)
        self.graph = _collect(root)
        self.names = _tensor_names(self.graph, params)
        self.loss_name = self.names[id(root)]
        self.history: dict = {id(root): [(0, backend.to_numpy(self.seed))]}   # id -> [(step, dL/dt so far)]
        self.leaf_flows: dict = {}        # id(leaf) -> (leaf, [contributions], chain or None)

    @staticmethod
    def _seed(root: Tensor, grad: Any) -> Any:
        xp = backend.xp(root.data)
        if grad is None:
            if root.data.size != 1:
                raise RuntimeError(f"explain_backward: grad can be created implicitly only for a one-element "
                                   f"output, but this tensor has shape {root.shape}; pass grad=")
            return xp.ones(root.shape, dtype=root.dtype)
        g = grad.data if isinstance(grad, Tensor) else grad
        if not isinstance(g, np.ndarray) and not backend.is_device_array(g):
            g = np.asarray(g)
        g = xp.array(backend.to_device(g, root.device), dtype=root.dtype)   # a copy on root's device
        if g.shape != root.shape:
            raise ValueError(f"explain_backward: grad of shape {tuple(g.shape)} does not match the "
                             f"tensor's shape {root.shape}")
        return g

    def grads_at(self, step: int) -> dict:
        """id(tensor) -> dL/dtensor as far as it was computed after `step` steps."""
        known = {}
        for key, entries in self.history.items():
            value = None
            for when, array in entries:
                if when <= step:
                    value = array
            if value is not None:
                known[key] = value
        return known

    def _record(self, tensor: Tensor, step: int, total: Any) -> None:
        self.history.setdefault(id(tensor), []).append((step, backend.to_numpy(total)))

    def steps(self) -> Iterator[BackwardStep]:
        root = self.root
        if root.grad_fn is None:
            return
        flows = {root.grad_fn: [self.seed]}          # node or leaf -> gradients flowing into it
        chains = {root.grad_fn: [] if self._seed_is_one() else [(f"d{self.loss_name}/d{self.loss_name}",
                                                                 backend.to_numpy(self.seed))]}
        index = 0
        for node in autograd.topological_order(root.grad_fn):
            parts = flows.pop(node, None)
            if parts is None:                      # nothing flows into this node (as in the engine)
                continue
            if node.saved_tensors is None:
                raise RuntimeError(
                    f"explain_backward: the arrays saved for backward at {type(node).__name__} were freed by "
                    "an earlier backward(). Call explain_backward before loss.backward(), or call "
                    "loss.backward(retain_graph=True).")
            index += 1
            grad = parts[0]
            for part in parts[1:]:
                grad = grad + part
            outputs = self.graph.outputs.get(id(node), [])
            out_name = self.names[id(outputs[0])] if outputs else "y"
            raw = self._backward(node, grad)
            local = self._local_derivatives(node, grad, raw)
            chain = chains.pop(node, None) if len(parts) == 1 else None
            parents = node.parents
            symbols = _input_symbols(type(node), len(parents))
            parent_names = [self.names.get(id(p), "?") if isinstance(p, Tensor) else _constant_text(p)
                            for p in parents]
            inputs = []
            for i, (parent, need, g) in enumerate(zip(parents, node.needs_input_grad, raw)):
                if not need or g is None:
                    continue
                fitted = self._fit(node, parent, g)
                summed = tuple(getattr(g, "shape", ())) != tuple(parent.shape)
                key = parent.grad_fn if parent.grad_fn is not None else parent
                first_use = key not in flows
                flows.setdefault(key, []).append(fitted)
                # The docstring's gradient formula (MatMul: dL/dB = Aᵀ @ dL/dY) is clearer than a
                # local derivative, even where the shapes make the op look elementwise.
                formula = _docstring_formula(type(node), symbols, i, parent_names, out_name, self.loss_name,
                                             elementwise=False)
                if formula:
                    local[i] = None
                elif local[i] is not None:
                    formula = _docstring_formula(type(node), symbols, i, parent_names, out_name,
                                                 self.loss_name, elementwise=True)
                link = None
                if local[i] is not None and chain is not None and not summed:
                    link = chain + [(f"d{out_name}/d{parent_names[i]}", local[i])]
                chains[key] = link if first_use else None
                total = flows[key][0]
                for part in flows[key][1:]:
                    total = total + part
                self._record(parent, index, total)
                if parent.grad_fn is None:
                    self.leaf_flows[id(parent)] = (parent, flows[key], chains[key])
                inputs.append(InputGradient(parent_names[i], parent, backend.to_numpy(fitted), local[i],
                                            formula, summed))
            call = f"{out_name} = {type(node).__name__}({', '.join(parent_names)})"
            yield BackwardStep(index, node, type(node).__name__, _doc_line(type(node)), out_name, call,
                               backend.to_numpy(grad), [backend.to_numpy(p) for p in parts], inputs,
                               self.loss_name, self.max_elems, self._seed_is_one(), self)

    def _seed_is_one(self) -> bool:
        return bool(self.seed.size == 1 and float(self.seed.reshape(())) == 1.0)

    @staticmethod
    def _backward(node: Function, grad: Any) -> tuple:
        grads = node.backward(node, grad)
        if type(grads) is not tuple:
            grads = tuple(grads) if isinstance(grads, list) else (grads,)
        if len(grads) != len(node.parents):
            raise RuntimeError(f"{type(node).__name__}.backward returned {len(grads)} gradient(s), but forward "
                               f"had {len(node.parents)} input(s): return one per input (None for no gradient)")
        return grads

    @staticmethod
    def _fit(node: Function, parent: Tensor, grad: Any) -> Any:
        """The engine's own step: sum over broadcast axes, match the input's dtype."""
        xp = backend.xp(parent.data)
        if type(grad) is not np.ndarray and not backend.is_device_array(grad):
            grad = xp.asarray(grad, dtype=parent.dtype)
        if grad.shape != parent.shape:
            fitted = autograd.unbroadcast(grad, parent.shape)
            if fitted is None:
                raise RuntimeError(f"{type(node).__name__}.backward returned a gradient of shape "
                                   f"{tuple(grad.shape)} for an input of shape {parent.shape}")
            grad = fitted
        return grad.astype(parent.dtype) if grad.dtype != parent.dtype else grad

    def _local_derivatives(self, node: Function, grad: Any, raw: tuple) -> list:
        """d(output)/d(input) per input, when backward is multiplication by it elementwise.

        For an elementwise op, backward(g) = g * dy/da; then backward(ones) is dy/da itself.
        We check that rule on the real gradient and on a random one; ops that mix elements
        (MatMul, Softmax, Reshape) fail it and are shown as Function.backward(dL/dy) instead.
        """
        xp = backend.xp(grad)
        result = [None] * len(raw)
        if grad.dtype.kind not in "fc":
            return result
        try:
            ones = self._backward(node, xp.ones_like(grad))
            probe = np.random.default_rng(0).standard_normal(grad.shape).astype(grad.dtype)
            probe = backend.to_device(probe, backend.device_of(grad))
            probed = self._backward(node, probe)
        except Exception:                       # a custom backward that cannot take other gradients
            return result
        for i, (g, d, p) in enumerate(zip(raw, ones, probed)):
            if g is None or d is None or p is None:
                continue
            d, g, p = xp.asarray(d), xp.asarray(g), xp.asarray(p)
            try:
                expected, expected_probe = grad * d, probe * d
            except ValueError:                  # shapes that do not broadcast: not elementwise
                continue
            if expected.shape != g.shape or expected_probe.shape != p.shape:
                continue
            if _close(expected, g) and _close(expected_probe, p):
                result[i] = backend.to_numpy(d)
        return result

    def leaf_summary(self) -> list:
        """One line per leaf that requires grad: its gradient, with the whole chain when it is one."""
        lines = []
        L = self.loss_name
        for leaf, parts, chain in self.leaf_flows.values():
            total = parts[0]
            for part in parts[1:]:
                total = total + part
            name = self.names[id(leaf)]
            value = _short(backend.to_numpy(total), self.max_elems)
            line = f"    d{L}/d{name} = {value}"
            if chain and len(chain) >= 2:
                factors = " * ".join(label for label, _ in chain)
                numbers = " * ".join(_short(v, self.max_elems) for _, v in chain)
                line = f"    d{L}/d{name} = {factors} = {numbers} = {value}"
            elif len(parts) > 1:
                line = (f"    d{L}/d{name} = " + " + ".join(_short(backend.to_numpy(p), self.max_elems)
                                                      for p in parts) + f" = {value}")
            lines.append(line + f"      -> {name}.grad")
        return lines


def _close(a: Any, b: Any) -> bool:
    xp = backend.xp(a)
    scale = float(xp.max(xp.abs(b))) if b.size else 0.0
    return bool(xp.allclose(a, b, rtol=1e-4, atol=1e-6 * max(scale, 1e-30)))


def backward_steps(root: Tensor, grad: Any = None, *, params: Any = None,
                   max_elems: int = 6) -> Iterator[BackwardStep]:
    """The backward pass of `root`, one BackwardStep per Function node, in the order the
    engine visits them. Nothing is changed: call it before backward(), or after
    backward(retain_graph=True). `grad` is dL/droot (default 1 for a one-element root)."""
    return _BackwardWalk(root, grad, params, max_elems).steps()


def explain_backward(root: Tensor, grad: Any = None, *, params: Any = None, max_elems: int = 6,
                     render_dir: str | os.PathLike | None = None, file: TextIO | None = None) -> None:
    """Print the backward pass of `root` as the lecture writes it: the chain rule with numbers.

    For each Function node, in backward order:

        step 2  Mul: z1 = Mul(x, w)
                y = a * b;  dy/da = b, dy/db = a.
            dL/dz1 = 1
            dL/dx = dL/dz1 * dz1/dx = 1 * 2 = 2      (dz1/dx = w)

    then, for each leaf, its gradient, as one chain dL/dw = dL/dy * dy/dz * dz/dw where
    there is a single path. Elementwise ops show their local derivative; ops that mix
    elements (MatMul, Softmax, ...) show the result of their backward. Big tensors are
    summarised by shape and norm. Names come from `params`, then Tensor.name; the rest
    are called L (the root), z1, z2, ... (intermediates) and t1, t2, ... (other leaves),
    the names draw_graph writes on the boxes of the same graph.

    Nothing in the graph changes (no .grad is written, no saved array is freed): call it
    before loss.backward(), or after loss.backward(retain_graph=True).
    With `render_dir`, one PNG per step is written there (step_01_Add.png, ...): the graph
    with the active node in red and the gradients known at that step.
    For the steps as objects, use `backward_steps(root)`; `step.draw()` is the picture.
    """
    walk = _BackwardWalk(root, grad, params, max_elems)
    if root.grad_fn is None:
        print(f"{walk.loss_name} is a leaf: no Function to backpropagate through", file=file)
    for step in walk.steps():
        print(step, file=file)
        if render_dir is not None:
            path = os.path.join(os.fspath(render_dir), f"step_{step.index:02d}_{step.op}.png")
            print(f"    graph: {render(step.draw(), path)}", file=file)
        print(file=file)
    summary = walk.leaf_summary()
    if summary:
        print("gradients of the leaves (what backward() accumulates into .grad):", file=file)
        print("\n".join(summary), file=file)
