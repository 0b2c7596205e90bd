"""The backward pass explained one Function at a time: the chain rule with the numbers.

    from visualize import explain_backward, backward_steps
    explain_backward(loss)                # prints the chain rule with numbers, node by node
    explain_backward(loss, render_dir="steps")   # and a picture per step: steps/step_01_Pow.png, ...
    for step in backward_steps(loss): ... # the same, as objects; step.draw() is its picture

The walk replays the engine's own backward pass, step by step, through the functions
autograd exposes for it (seed_gradient, call_backward, fit_gradient): the same rules and
the same error messages as loss.backward(), none of them copied here. The names of the
tensors (L, z1, z2, ..., t1, ...) are the ones draw_graph writes on the boxes of the same
graph (visualize/walk.py has the rule).
"""
from __future__ import annotations

import inspect
import os
import re
from dataclasses import dataclass, field
from typing import Any, Iterator, TextIO

import numpy as np

from tinygrad_edu import autograd, backend
from tinygrad_edu.autograd import Function
from tinygrad_edu.tensor import Tensor

from .graph import _draw
from .render import render
from .text import _constant_text, _doc_line, _short
from .walk import _collect, _tensor_names

__all__ = ["explain_backward", "backward_steps", "BackwardStep", "InputGradient"]


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
    """The backward pass replayed on the side, through the engine's own steps: the same order
    (autograd.topological_order), the same seed (autograd.seed_gradient), the same checked call
    of each Function.backward (autograd.call_backward) and the same fitting of each gradient to
    its input (autograd.fit_gradient). Only where the gradients go differs: they stay here, so
    nothing in the graph changes (no `.grad` is written, no saved array is released)."""

    def __init__(self, root: Tensor, grad: Any, params: Any, max_elems: int):
        if not isinstance(root, Tensor):
            raise TypeError(f"explain_backward: root must be a Tensor, got {type(root).__name__}")
        self.root, self.params, self.max_elems = root, params, max_elems
        self.seed = autograd.seed_gradient(root, grad, caller="explain_backward")   # dL/dL
        self.graph = _collect(root)
        self.names = _tensor_names(self.graph, params)
        self.loss_name = self.names[id(root)]
        self.history: dict = {id(root): [(0, backend.to_numpy(self.seed))]}   # id -> [(step, dL/dt so far)]
        self.leaf_flows: dict = {}        # id(leaf) -> (leaf, [contributions], chain or None)

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
            index += 1
            grad = parts[0]
            for part in parts[1:]:
                grad = grad + part
            outputs = self.graph.outputs.get(id(node), [])
            out_name = self.names[id(outputs[0])] if outputs else "y"
            raw = autograd.call_backward(node, grad)
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
                fitted = autograd.fit_gradient(node, parent, g)
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
            ones = autograd.call_backward(node, xp.ones_like(grad))
            probe = np.random.default_rng(0).standard_normal(grad.shape).astype(grad.dtype)
            probe = backend.to_device(probe, backend.device_of(grad))
            probed = autograd.call_backward(node, probe)
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
