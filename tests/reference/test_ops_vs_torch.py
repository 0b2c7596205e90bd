"""Every row of the op table, run through tinygrad_edu and PyTorch 2.13 (CPU) on the same inputs.

For each case both libraries must agree on:
  * the forward values, the output shape and the output dtype;
  * after backward with the same random upstream gradient, every input's gradient
    (values, shape and dtype).
Shapes are drawn by hypothesis (0-d tensors, size-1 axes, different ranks); binary
elementwise ops run in both operand orders, and once more on hand-picked EDGE_PAIRS.
The main pass is float32 (the default dtype); a shorter pass repeats it in float64 with
tight tolerances, where the two libraries should agree to rounding.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinygrad_edu import Tensor

from .op_table import EDGE_PAIRS, OPS, Op

TORCH_DTYPE = {
    np.dtype(np.float32): torch.float32,
    np.dtype(np.float64): torch.float64,
    np.dtype(np.int64): torch.int64,
    np.dtype(np.bool_): torch.bool,
}

_hypothesis = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
FLOAT32_RUNS = settings(max_examples=25, **_hypothesis)
FLOAT64_RUNS = settings(max_examples=8, **_hypothesis)

SEEDS = st.integers(0, 2**32 - 1)
BROADCASTING = [op for op in OPS if op.broadcasts]


def operand_orders(op: Op, shapes: tuple) -> list:
    """The drawn shapes, and for a binary elementwise op also the other way round."""
    return [shapes, shapes[::-1]] if op.broadcasts else [shapes]


def assert_same_array(ours: np.ndarray, theirs: np.ndarray, rtol: float, atol: float, what: str) -> None:
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape}, torch has {theirs.shape}"
    if ours.dtype.kind in "biu":
        np.testing.assert_array_equal(ours, theirs, err_msg=what)
    else:
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol, equal_nan=True, err_msg=what)


def check_against_torch(op: Op, shapes: tuple, seed: int, device: str, dtype: type) -> None:
    """Run one case of `op` through both libraries and compare everything they return."""
    rng = np.random.default_rng(seed)
    arrays, params = op.sample(rng, shapes)
    arrays = [a.astype(dtype) for a in arrays]
    rtol, atol = (op.rtol, op.atol) if dtype == np.float32 else (op.rtol64, op.atol64)
    case = f"{op.name} on shapes {shapes} with {params}"

    ours_in = [Tensor(a, requires_grad=op.differentiable, device=device) for a in arrays]
    theirs_in = [torch.tensor(a, requires_grad=op.differentiable) for a in arrays]
    ours = op.ours(*ours_in, **params)
    theirs = op.theirs(*theirs_in, **params)

    assert isinstance(ours, Tensor), f"{case}: returned {type(ours).__name__}, not a Tensor"
    assert TORCH_DTYPE.get(ours.dtype) == theirs.dtype, f"{case}: dtype {ours.dtype}, torch has {theirs.dtype}"
    assert_same_array(ours.detach().numpy(), theirs.detach().numpy(), rtol, atol, f"{case}: forward")
    if not op.differentiable:
        return

    upstream = np.asarray(rng.standard_normal(tuple(theirs.shape))).astype(ours.dtype)
    ours.backward(Tensor(upstream, device=device))
    theirs.backward(torch.from_numpy(upstream))
    for i, (x, t) in enumerate(zip(ours_in, theirs_in)):
        expected = np.zeros(t.shape, dtype=arrays[i].dtype) if t.grad is None else t.grad.numpy()
        got = np.zeros(x.shape, dtype=arrays[i].dtype) if x.grad is None else x.grad.numpy()
        assert got.dtype == expected.dtype, f"{case}: input {i} grad dtype {got.dtype}, torch has {expected.dtype}"
        assert_same_array(got, expected, rtol, atol, f"{case}: gradient of input {i}")


@pytest.mark.parametrize("op", OPS, ids=str)
@FLOAT32_RUNS
@given(data=st.data())
def test_forward_and_backward_match_torch(op, device, data):
    shapes = data.draw(op.shapes, label="shapes")
    seed = data.draw(SEEDS, label="seed")
    for ordered in operand_orders(op, shapes):
        check_against_torch(op, ordered, seed, device, np.float32)


@pytest.mark.parametrize("op", OPS, ids=str)
@FLOAT64_RUNS
@given(data=st.data())
def test_forward_and_backward_match_torch_in_float64(op, device, data):
    shapes = data.draw(op.shapes, label="shapes")
    seed = data.draw(SEEDS, label="seed")
    for ordered in operand_orders(op, shapes):
        check_against_torch(op, ordered, seed, device, np.float64)


@pytest.mark.parametrize("pair", EDGE_PAIRS, ids=lambda p: f"{p[0]}&{p[1]}".replace(" ", ""))
@pytest.mark.parametrize("op", BROADCASTING, ids=str)
def test_binary_op_broadcasts_like_torch(op, pair, device):
    for ordered in (pair, pair[::-1]):
        check_against_torch(op, ordered, seed=0, device=device, dtype=np.float32)


def test_every_row_has_a_unique_name():
    names = [op.name for op in OPS]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


def test_every_row_has_one_domain_per_input():
    for op in OPS:
        assert len(op.values) == op.arity, op.name
