"""How fast can an engine of this design be? W2 and W3 of bench_cpu.py on a bare engine.

    python benchmarks/bench_floor.py            # about two minutes
    python benchmarks/bench_floor.py --quick    # a few steps (a smoke test)

tinygrad_edu's design is one Python object per tensor and one per graph node, the node
holding its inputs (`grad_fn.parents`) and the arrays it saved, with NumPy doing the
arithmetic. `Bare` below is that design with everything else taken out: no argument
checks, no broadcasting rules, no dtypes, no hooks, no devices, only the seven ops W2 and
W3 use, and a backward pass that is a loop over the nodes sorted by when they were made.
No engine of this design can be much faster, so its time is the floor, and the table puts
tinygrad_edu and PyTorch beside it, measured in the same run with bench_cpu.py's `measure`
(torch imported, the garbage collector on and untuned, as in a student's notebook).

What the floor shows (the README's "Speed" says more): the part of an overhead-bound step that
no check or shortcut of ours can remove: NumPy's cost per call on tiny arrays, Python's per
object, and the cyclic garbage collector's full collections, which every object that stays
alive until backward brings nearer (here a tensor, a node and its tuple of inputs per op). The
last line prints what one full collection costs in this process, with torch imported.
"""
from __future__ import annotations

import argparse
import gc
import sys
import time
from itertools import count

import numpy as np

import bench_cpu as B  # noqa: E402  (benchmarks/bench_cpu.py: the same workloads and timing)

# ============================================================================ the bare engine

_made = count()


class Bare:
    """A tensor: its array, the node that made it (None for a leaf) and, for a leaf, its gradient."""

    __slots__ = ("data", "node", "grad")

    def __init__(self, data, node=None):
        self.data, self.node, self.grad = data, node, None

    def _make(self, kind, *inputs):
        """Record one op: the node keeps the input tensors (Lean overrides this)."""
        return _op(kind, *inputs)

    def __matmul__(self, other): return self._make(MatMul, self, other)
    def __add__(self, other): return self._make(Add, self, other)
    def __sub__(self, other): return self._make(Sub, self, other)
    def __mul__(self, other): return self._make(Mul, self, other)
    def __pow__(self, two): return self._make(Square, self)
    def tanh(self): return self._make(Tanh, self)
    def mean(self): return self._make(Mean, self)

    def backward(self):
        """Reverse-mode: every node after all of its consumers (made later = consumer)."""
        nodes, stack, seen = [], [self.node], set()
        while stack:
            node = stack.pop()
            if node is not None and node not in seen:
                seen.add(node)
                nodes.append(node)
                stack.extend(p.node for p in node.parents)
        nodes.sort(key=lambda n: n.made, reverse=True)
        self.node.grad = np.ones_like(self.data)
        for node in nodes:
            for parent, g in zip(node.parents, node.backward(node.grad)):
                if g.shape != parent.data.shape:        # a bias added to every row
                    g = g.sum(axis=0)
                target = parent if parent.node is None else parent.node
                target.grad = g if target.grad is None else target.grad + g
            node.grad = None


class Node:
    """A node of either engine: Bare's keeps its input tensors in `parents`; Lean's keeps the
    nodes of its inputs (or the leaf tensors) in `a` and `b`, and its output's shape."""

    __slots__ = ("parents", "a", "b", "shape", "saved", "grad", "made")


def _op(kind, *inputs):
    node = kind()
    node.parents, node.grad, node.made = inputs, None, next(_made)
    out = np.asarray(node.forward(*[t.data for t in inputs]))
    return Bare(out, node)


class Lean(Bare):
    """Bare with one object per op left until backward: the node links to the nodes of its
    inputs, not to the tensors, so an intermediate tensor dies as soon as the user drops it
    (the loop's `x = x * w + b` keeps nothing but the nodes), and no tuple of inputs is kept."""

    __slots__ = ()

    def _make(self, kind, *inputs):
        return _lean_op(kind, *inputs)

    def backward(self):
        nodes, stack, seen = [], [self.node], set()
        while stack:
            node = stack.pop()
            if type(node) is not Lean and node not in seen:    # a node (a leaf tensor ends the path)
                seen.add(node)
                nodes.append(node)
                stack.append(node.a)
                if node.b is not None:
                    stack.append(node.b)
        nodes.sort(key=lambda n: n.made, reverse=True)
        self.node.grad = np.ones_like(self.data)
        for node in nodes:
            inputs = (node.a,) if node.b is None else (node.a, node.b)
            for target, g in zip(inputs, node.backward(node.grad)):
                shape = target.data.shape if type(target) is Lean else target.shape
                if g.shape != shape:
                    g = g.sum(axis=0)
                target.grad = g if target.grad is None else target.grad + g
            node.grad = None


def _lean_op(kind, x, y=None):
    node = kind()
    node.grad, node.made = None, next(_made)
    node.a = x if x.node is None else x.node
    node.b = None if y is None else y if y.node is None else y.node
    out = np.asarray(node.forward(x.data) if y is None else node.forward(x.data, y.data))
    node.shape = out.shape
    return Lean(out, node)


class Add(Node):
    __slots__ = ()
    def forward(self, a, b): return a + b
    def backward(self, g): return g, g


class Sub(Node):
    __slots__ = ()
    def forward(self, a, b): return a - b
    def backward(self, g): return g, -g


class Mul(Node):
    __slots__ = ()
    def forward(self, a, b):
        self.saved = a, b
        return a * b
    def backward(self, g):
        a, b = self.saved
        return g * b, g * a


class MatMul(Node):
    __slots__ = ()
    def forward(self, a, b):
        self.saved = a, b
        return a @ b
    def backward(self, g):
        a, b = self.saved
        return g @ b.T, a.T @ g


class Tanh(Node):
    __slots__ = ()
    def forward(self, a):
        self.saved = np.tanh(a)
        return self.saved
    def backward(self, g): return (g * (1 - self.saved * self.saved),)


class Square(Node):
    __slots__ = ()
    def forward(self, a):
        self.saved = a
        return a * a
    def backward(self, g): return (2 * g * self.saved,)


class Mean(Node):
    __slots__ = ()
    def forward(self, a):
        self.saved = a.shape, a.size
        return a.mean()
    def backward(self, g):
        shape, size = self.saved
        return (np.full(shape, g / size, dtype=g.dtype),)


# ============================================================================ the workloads on it

def w2_bare(init, engine=Bare):
    params = [engine(a.copy()) for a in init.params]
    W1, b1, W2, b2, W3, b3 = params
    x, y = engine(init.x), engine(init.y)

    def forward_backward():
        h = (x @ W1 + b1).tanh()
        h = (h @ W2 + b2).tanh()
        loss = ((h @ W3 + b3 - y) ** 2).mean()
        loss.backward()
        return loss

    def step():
        forward_backward()
        for p in params:
            p.data -= B.LR * p.grad
            p.grad = None

    def check():
        loss = forward_backward()
        return float(loss.data), [p.grad for p in params]

    return B.SimpleNamespace(step=step, check=check)


def w3_bare(init, engine=Bare):
    leaves = [engine(np.asarray(v)) for v in (init.x0, init.w, init.b)]
    x0, w, b = leaves

    def forward_backward():
        for t in leaves:
            t.grad = None
        x = x0
        for _ in range(B.W3_ITERATIONS):
            x = x * w + b
        x.backward()
        return x

    def check():
        x = forward_backward()
        return float(x.data), [t.grad for t in leaves]

    return B.SimpleNamespace(step=forward_backward, check=check)


def w2_lean(init):
    return w2_bare(init, Lean)


def w3_lean(init):
    return w3_bare(init, Lean)


IMPLEMENTATIONS = ("bare", "lean", "edu", "torch")
TARGETS = {"W2": 0.40, "W3": 0.50}       # issue 11's targets for tinygrad_edu, x PyTorch's time


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few steps only (a smoke test)")
    args = parser.parse_args(argv)
    w2_steps, w3_steps = (5, 3) if args.quick else (300, 30)
    if args.quick:
        B.W3_ITERATIONS = 1_000          # a shorter chain: the smoke test checks the script, not the speed
    rows = []
    for workload, makers, steps, warmup in (
        ("W2 MLP 2-16-16-1, .data update", (w2_bare, w2_lean, B.w2_edu, B.w2_torch), w2_steps, 20),
        ("W3 x*w+b chain, 20k ops", (w3_bare, w3_lean, B.w3_edu, B.w3_torch), w3_steps, 2),
    ):
        init = B.w2_init() if workload.startswith("W2") else B.w3_init()
        runs = [make(init) for make in makers]
        reference = runs[-1].check()
        for run in runs[:-1]:           # the same loss and gradients as PyTorch's
            value, grads = run.check()
            assert abs(value - reference[0]) <= 1e-4 * max(1.0, abs(reference[0])), (workload, value, reference[0])
            for g, r in zip(grads, reference[1]):
                assert np.allclose(np.asarray(g.numpy() if hasattr(g, "numpy") else g), r, rtol=1e-3, atol=1e-5)
        for label, frozen in (("", False), (", gc.freeze()", True)):
            if frozen:
                gc.collect()
                gc.freeze()
            times = B.measure(dict(zip(IMPLEMENTATIONS, (r.step for r in runs))), warmup, steps)
            if frozen:
                gc.unfreeze()
            quantiles = (50, 90) if workload.startswith("W3") else (50,)
            for q in quantiles:
                name = f"{workload} ({'median' if q == 50 else 'p90'}){label}"
                rows.append((name, workload[:2], {k: B.percentile(v, q) for k, v in times.items()}))
    print(f"\nfloor of the design: {B.cpu_model()}, {B.ARGS.threads} threads, torch {B.torch.__version__}, "
          f"Python {sys.version.split()[0]}; bare: a tensor, a node and a tuple of inputs per op; "
          f"lean: a node per op\n")
    print(f"{'workload':52s} {'bare':>10s} {'lean':>10s} {'tinygrad_edu':>13s} {'PyTorch':>10s} "
          f"{'bare/torch':>11s} {'lean/torch':>11s} {'edu/torch':>10s} {'target':>7s}")
    for name, key, t in rows:
        unit, scale = ("us", 1e6) if t["torch"] < 1e-2 else ("ms", 1e3)
        shown = " ".join(f"{t[k] * scale:{13 if k == 'edu' else 10}.1f}" for k in IMPLEMENTATIONS)
        ratios = " ".join(f"{t[k] / t['torch']:10.2f}x" for k in ("bare", "lean", "edu"))
        target = f"<={TARGETS[key]:.2f}x" if "freeze" not in name else "-"
        print(f"{name:52s} {shown} {ratios} {target:>7s}   ({unit})")
    start = time.perf_counter()
    gc.collect()
    print(f"\none full garbage collection in this process ({len(gc.get_objects()):,} objects): "
          f"{(time.perf_counter() - start) * 1e3:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
