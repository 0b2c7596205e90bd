"""Random computation graphs, built step by step in tinygrad_edu and in PyTorch side by side.

A hypothesis state machine keeps a bundle of nodes, each a pair (ours, torch's) computed
the same way. Rules add leaves, apply unary, binary, reduction and movement ops, and
reuse nodes freely: the same node may feed both operands of an op, and the diamond rule
sends one node down two branches that rejoin. Every new node's values are compared when
it is made; at the end all nodes are folded into one scalar loss, both libraries run
backward, and every leaf's gradient must agree (float64, rtol 1e-4).

All shapes come from SHAPES, whose dimensions are 1 or 3, so any two nodes broadcast
together and every result lands in SHAPES again.
"""
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, multiple, rule

from tinygrad_edu import Tensor

pytestmark = [pytest.mark.lecture06]   # random graphs with reuse and diamonds, against torch

SHAPES = [(), (1,), (3,), (1, 1), (1, 3), (3, 1), (3, 3)]
LEAF_SHAPES = SHAPES + [(3, 3), (3, 3)]     # full matrices more often: transposes matter there
SAME_SIZE = {size: [s for s in SHAPES if int(np.prod(s)) == size] for size in (1, 3, 9)}
LARGEST = 1e3            # nodes with larger values are dropped, so products cannot overflow
RTOL, ATOL = 1e-4, 1e-9

UNARY = {
    "neg": (lambda x: -x, lambda t: -t),
    "tanh": (lambda x: x.tanh(), torch.tanh),
    "sigmoid": (lambda x: x.sigmoid(), torch.sigmoid),
    "exp_of_clipped": (lambda x: x.clip(-4.0, 4.0).exp(), lambda t: torch.clamp(t, -4.0, 4.0).exp()),
    "log_of_positive": (lambda x: (x * x + 1.0).log(), lambda t: (t * t + 1.0).log()),
    "sqrt_of_positive": (lambda x: (x * x + 0.5).sqrt(), lambda t: (t * t + 0.5).sqrt()),
    "square_by_reuse": (lambda x: x * x, lambda t: t * t),
    "double_by_reuse": (lambda x: x + x, lambda t: t + t),
}
SCALAR_OPS = {
    "mul": (lambda x, c: x * c, lambda t, c: t * c),
    "rmul": (lambda x, c: c * x, lambda t, c: c * t),
    "add": (lambda x, c: x + c, lambda t, c: t + c),
    "rsub": (lambda x, c: c - x, lambda t, c: c - t),
    "div": (lambda x, c: x / c, lambda t, c: t / c),
}
BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "div_safe": (lambda a, b: a / (b * b + 1.0), lambda a, b: a / (b * b + 1.0)),
    "maximum_shifted": (lambda a, b: a.maximum(b + 0.25), lambda a, b: torch.maximum(a, b + 0.25)),
}


class Node:
    """One value of the graph, in both libraries."""

    def __init__(self, ours, theirs):
        self.ours, self.theirs = ours, theirs

    def __repr__(self):
        return f"Node(shape={self.ours.shape}, requires_grad={self.ours.requires_grad})"


class RandomGraphs(RuleBasedStateMachine):
    nodes = Bundle("nodes")

    def __init__(self):
        super().__init__()
        self.leaves = []
        self.all_nodes = []

    # ------------------------------------------------------------------ bookkeeping

    def _keep(self, ours, theirs):
        """Check the new node against torch and add it, or drop it when its values grew too big."""
        theirs_values = theirs.detach().numpy()
        if not np.isfinite(theirs_values).all() or np.abs(theirs_values).max(initial=0.0) > LARGEST:
            return multiple()
        assert ours.shape == tuple(theirs.shape), (ours.shape, tuple(theirs.shape))
        assert ours.requires_grad == theirs.requires_grad
        np.testing.assert_allclose(ours.detach().numpy(), theirs_values, rtol=RTOL, atol=ATOL)
        node = Node(ours, theirs)
        self.all_nodes.append(node)
        return node

    def _leaf(self, values, requires_grad):
        ours = Tensor(values, requires_grad=requires_grad)
        theirs = torch.tensor(values, dtype=torch.float64, requires_grad=requires_grad)
        node = self._keep(ours, theirs)
        self.leaves.append(node)
        return node

    # ------------------------------------------------------------------ leaves

    @initialize(target=nodes, data=st.data())
    def first_leaf(self, data):
        shape = data.draw(st.sampled_from(LEAF_SHAPES), label="shape")
        values = data.draw(_values(shape), label="values")
        return self._leaf(values, requires_grad=True)

    @rule(target=nodes, data=st.data(), requires_grad=st.booleans())
    def new_leaf(self, data, requires_grad):
        shape = data.draw(st.sampled_from(LEAF_SHAPES), label="shape")
        values = data.draw(_values(shape), label="values")
        return self._leaf(values, requires_grad)

    # ------------------------------------------------------------------ elementwise

    @rule(target=nodes, node=nodes, op=st.sampled_from(sorted(UNARY)))
    def unary(self, node, op):
        ours, theirs = UNARY[op]
        return self._keep(ours(node.ours), theirs(node.theirs))

    @rule(target=nodes, node=nodes)
    def relu_away_from_zero(self, node):
        if np.abs(node.theirs.detach().numpy()).min(initial=1.0) < 1e-6:
            return multiple()                  # the kink: rounding could pick a different side
        return self._keep(node.ours.relu(), torch.relu(node.theirs))

    @rule(target=nodes, node=nodes, op=st.sampled_from(sorted(SCALAR_OPS)),
          c=st.sampled_from([-1.5, 0.5, 2.0, 3.0]))
    def with_constant(self, node, op, c):
        ours, theirs = SCALAR_OPS[op]
        return self._keep(ours(node.ours, c), theirs(node.theirs, c))

    @rule(target=nodes, a=nodes, b=nodes, op=st.sampled_from(sorted(BINARY)))
    def binary(self, a, b, op):
        ours, theirs = BINARY[op]
        return self._keep(ours(a.ours, b.ours), theirs(a.theirs, b.theirs))

    @rule(target=nodes, node=nodes, left=st.sampled_from(sorted(UNARY)),
          right=st.sampled_from(sorted(UNARY)), join=st.sampled_from(["add", "mul"]))
    def diamond(self, node, left, right, join):
        """node -> left branch, node -> right branch, then the branches meet again."""
        ours_l, theirs_l = UNARY[left]
        ours_r, theirs_r = UNARY[right]
        ours_j, theirs_j = BINARY[join]
        return self._keep(ours_j(ours_l(node.ours), ours_r(node.ours)),
                          theirs_j(theirs_l(node.theirs), theirs_r(node.theirs)))

    @rule(target=nodes, a=nodes, b=nodes)
    def matmul(self, a, b):
        if a.ours.ndim == 0 or b.ours.ndim == 0:
            return multiple()
        inner_b = b.ours.shape[0] if b.ours.ndim == 1 else b.ours.shape[-2]
        if a.ours.shape[-1] != inner_b:
            return multiple()
        return self._keep(a.ours @ b.ours, a.theirs @ b.theirs)

    # ------------------------------------------------------------------ reductions

    @rule(target=nodes, node=nodes, data=st.data(), kind=st.sampled_from(["sum", "mean"]))
    def reduce_one_axis_keepdims(self, node, data, kind):
        if node.ours.ndim == 0:
            return multiple()
        axis = data.draw(st.integers(-node.ours.ndim, node.ours.ndim - 1), label="axis")
        return self._keep(getattr(node.ours, kind)(axis=axis, keepdims=True),
                          getattr(node.theirs, kind)(dim=axis, keepdim=True))

    @rule(target=nodes, node=nodes, kind=st.sampled_from(["sum", "mean"]))
    def reduce_all(self, node, kind):
        return self._keep(getattr(node.ours, kind)(), getattr(node.theirs, kind)())

    # ------------------------------------------------------------------ movement

    @rule(target=nodes, node=nodes, data=st.data())
    def reshape(self, node, data):
        shape = data.draw(st.sampled_from(SAME_SIZE[int(np.prod(node.ours.shape))]), label="shape")
        return self._keep(node.ours.reshape(shape), node.theirs.reshape(shape))

    @rule(target=nodes, node=nodes)
    def transpose(self, node):
        if node.ours.ndim != 2:
            return multiple()
        return self._keep(node.ours.transpose(0, 1), node.theirs.transpose(0, 1))

    # ------------------------------------------------------------------ the final comparison

    def teardown(self):
        if not self.all_nodes:
            return
        ours_loss, theirs_loss = 0.0, 0.0
        for k, node in enumerate(self.all_nodes):
            weights = _weights(node.ours.shape, k)
            ours_loss = ours_loss + (node.ours * Tensor(weights)).sum()
            theirs_loss = theirs_loss + (node.theirs * torch.from_numpy(weights)).sum()
        np.testing.assert_allclose(ours_loss.detach().numpy(), theirs_loss.detach().numpy(), rtol=RTOL, atol=ATOL)
        ours_loss.backward()
        theirs_loss.backward()
        for node in self.leaves:
            if node.theirs.grad is None:
                assert node.ours.grad is None, node
                continue
            assert node.ours.grad is not None, node
            assert node.ours.grad.shape == node.ours.shape
            expected = node.theirs.grad.numpy()
            scale = max(1.0, float(np.abs(expected).max(initial=0.0)))
            np.testing.assert_allclose(node.ours.grad.numpy(), expected, rtol=RTOL, atol=ATOL * scale)


def _values(shape):
    """float64 leaf values in [-2, 2]."""
    return hnp.arrays(np.float64, shape, elements=st.floats(-2.0, 2.0, allow_nan=False, width=64))


def _weights(shape, k):
    """Distinct weights per element and per node, so no gradient hides behind a plain sum."""
    size = int(np.prod(shape))
    return (np.linspace(0.5, 1.5, size) * (1.0 + 0.1 * (k % 7))).reshape(shape)


RandomGraphs.TestCase.settings = settings(
    max_examples=30, stateful_step_count=15, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestRandomGraphs = RandomGraphs.TestCase
