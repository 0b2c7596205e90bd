"""The graph as the pictures and the text of visualize see it, and the names they give it.

`_collect(root)` finds every Tensor and Function reachable from `root` (each once, with an
explicit stack, so a graph of 10,000 nodes is fine); `_tensor_names` gives each Tensor the
name that draw_graph writes on its box and explain_backward writes in the chain rule: the
one naming rule of both, so "dL/dz2" in the text is the box labelled z2 in the picture.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from tinygrad_edu.tensor import Tensor

ROOT_NAMES = ("L", "loss", "L_")       # the root's name when it has none of its own: the first one not taken


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

