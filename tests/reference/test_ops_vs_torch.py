"""Every row of the op table, run through tinygrad_edu and PyTorch 2.13 (CPU) on the same inputs.

For each case both libraries must agree on:
  * the forward values, the output shape and the output dtype;
  * after backward with the same random upstream gradient, every input's gradient
    (values, shape and dtype).
Shapes are drawn by hypothesis (0-d tensors, size-1 axes, different ranks); binary
elementwise ops run in both operand orders, and once more on hand-picked EDGE_PAIRS.
The main pass is float32 (the default dtype); a shorter pass repeats it in float64 with
tight tolerances, where the two libraries should agree to rounding. Each row's fixed edge
cases (infinities, signed zeros, denormals, ties, windows in the padding) run in both dtypes,
and there NaN must match NaN and inf an inf of the same sign.

The table itself is checked too: every Function of tinygrad_edu.functions has a row, each row
records the Function it names, and asks only for the kernels it names.
"""
from __future__ import annotations

import inspect
import pkgutil

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinygrad_edu.functions
from tinygrad_edu import Function, Tensor, kernels

from ..conftest import assert_close, kernel_requests
from .op_table import EDGE_PAIRS, OPS, Op

pytestmark = [pytest.mark.lecture06]

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


def rows(ops: list) -> list:
    """The rows as pytest params, each with its lecture markers."""
    return [pytest.param(op, id=op.name, marks=op.marks()) for op in ops]


def edge_cases(ops: list) -> list:
    """Every fixed case of every row; a case that `differs` from torch is a strict expected failure."""
    cases = []
    for op in ops:
        for k, case in enumerate(op.edges):
            marks = op.marks()
            if case.differs:
                marks.append(pytest.mark.xfail(reason=case.differs, strict=True))
            cases.append(pytest.param(op, case, id=f"{op.name}-edge{k}", marks=marks))
    return cases


def operand_orders(op: Op, shapes: tuple) -> list:
    """The drawn shapes, and for a binary elementwise op also the other way round."""
    return [shapes, shapes[::-1]] if op.broadcasts else [shapes]


def compare_with_torch(op: Op, arrays: list, params: dict, device: str, dtype: type, case: str,
                       rng: np.random.Generator) -> None:
    """Run `op` on the same inputs through both libraries and compare everything they return;
    `rng` draws the upstream gradient."""
    arrays = [a.astype(dtype) for a in arrays]
    rtol, atol = (op.rtol, op.atol) if dtype == np.float32 else (op.rtol64, op.atol64)

    ours_in = [Tensor(a, requires_grad=op.differentiable, device=device) for a in arrays]
    theirs_in = [torch.tensor(a, requires_grad=op.differentiable) for a in arrays]
    ours = op.ours(*ours_in, **params)
    theirs = op.theirs(*theirs_in, **params)

    assert isinstance(ours, Tensor), f"{case}: returned {type(ours).__name__}, not a Tensor"
    assert TORCH_DTYPE.get(ours.dtype) == theirs.dtype, f"{case}: dtype {ours.dtype}, torch has {theirs.dtype}"
    assert_close(ours, theirs, f"{case}: forward", rtol, atol)
    if not op.differentiable:
        return

    upstream = np.asarray(rng.standard_normal(tuple(theirs.shape))).astype(ours.dtype)
    ours.backward(Tensor(upstream, device=ours.device))
    theirs.backward(torch.from_numpy(upstream))
    for i, (x, t) in enumerate(zip(ours_in, theirs_in)):
        expected = np.zeros(t.shape, dtype=arrays[i].dtype) if t.grad is None else t.grad.numpy()
        got = np.zeros(x.shape, dtype=arrays[i].dtype) if x.grad is None else x.grad.numpy()
        assert got.dtype == expected.dtype, f"{case}: input {i} grad dtype {got.dtype}, torch has {expected.dtype}"
        assert_close(got, expected, f"{case}: gradient of input {i}", rtol, atol)


def check_against_torch(op: Op, shapes: tuple, seed: int, device: str, dtype: type) -> None:
    """One drawn case of `op`: inputs from its domain, params for the shapes."""
    rng = np.random.default_rng(seed)
    arrays, params = op.sample(rng, shapes)
    compare_with_torch(op, arrays, params, device, dtype, f"{op.name} on shapes {shapes} with {params}", rng)


@pytest.mark.parametrize("op", rows(OPS))
@FLOAT32_RUNS
@given(data=st.data())
def test_forward_and_backward_match_torch(op, device, data):
    shapes = data.draw(op.shapes, label="shapes")
    seed = data.draw(SEEDS, label="seed")
    for ordered in operand_orders(op, shapes):
        check_against_torch(op, ordered, seed, device, np.float32)


@pytest.mark.parametrize("op", rows(OPS))
@FLOAT64_RUNS
@given(data=st.data())
def test_forward_and_backward_match_torch_in_float64(op, device, data):
    shapes = data.draw(op.shapes, label="shapes")
    seed = data.draw(SEEDS, label="seed")
    for ordered in operand_orders(op, shapes):
        check_against_torch(op, ordered, seed, device, np.float64)


@pytest.mark.parametrize("pair", EDGE_PAIRS, ids=lambda p: f"{p[0]}&{p[1]}".replace(" ", ""))
@pytest.mark.parametrize("op", rows(BROADCASTING))
def test_binary_op_broadcasts_like_torch(op, pair, device):
    for ordered in (pair, pair[::-1]):
        check_against_torch(op, ordered, seed=0, device=device, dtype=np.float32)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")      # log(0), 0 / 0 and friends, on purpose
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("op, case", edge_cases(OPS))
def test_domain_edges_match_torch(op, case, dtype, device):
    arrays = [np.array(a) for a in case.arrays]
    shapes = [a.shape for a in arrays]
    compare_with_torch(op, arrays, dict(case.params), device, dtype, f"{op.name} at the edge {case.arrays} "
                       f"(shapes {shapes}, {case.params})", np.random.default_rng(0))


# ----------------------------------------------------------------------------- the table itself

def every_function_class() -> set:
    """The Function subclasses defined in tinygrad_edu.functions and its modules."""
    found = set()
    package = tinygrad_edu.functions
    modules = [package] + [__import__(f"{package.__name__}.{m.name}", fromlist=["_"])
                           for m in pkgutil.iter_modules(package.__path__)]
    for module in modules:
        for name, value in vars(module).items():
            if (inspect.isclass(value) and issubclass(value, Function) and value is not Function
                    and value.__module__.startswith(package.__name__) and not name.startswith("_")):
                found.add(value)
    return found


def test_every_function_has_a_row():
    covered = {op.function for op in OPS}
    missing = sorted(f.__name__ for f in every_function_class() - covered)
    assert not missing, (f"Functions without a row in tests/reference/op_table.py: {', '.join(missing)}; "
                         f"add one with of(TheFunction, unary(...)) or Op(...)")


def functions_in_graph(out: Tensor) -> set:
    """The classes of every node behind `out`."""
    seen, todo, found = set(), [out.grad_fn], set()
    while todo:
        node = todo.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        found.add(type(node))
        todo.extend(getattr(p, "grad_fn", None) for p in node.parents)
    return found


@pytest.mark.parametrize("op", rows([op for op in OPS if op.function is not None]))
@settings(max_examples=1, **_hypothesis)
@given(data=st.data())
def test_each_row_records_its_function_and_asks_only_for_its_kernels(op, device, data):
    shapes = data.draw(op.shapes, label="shapes")
    arrays, params = op.sample(np.random.default_rng(data.draw(SEEDS, label="seed")), shapes)
    recorded = set()
    for dtype in (np.float32, np.float64):      # astype('float32') of float32 records no node
        inputs = [Tensor(a.astype(dtype), requires_grad=True, device=device) for a in arrays]
        with kernel_requests() as asked:
            out = op.ours(*inputs, **params)
            if any(out is x for x in inputs):       # a no-op (x.squeeze() of a 0-d x): no node to find
                recorded.add(op.function)
                continue
            recorded |= functions_in_graph(out)
            out.backward(Tensor(np.ones(out.shape, dtype=out.dtype), device=out.device))
        assert set(asked) <= set(op.kernels), \
            f"{op.name} asked for kernels {sorted(set(asked))}, the row names {op.kernels}"
        assert not op.kernels or asked, f"{op.name} names kernels {op.kernels} but asked for none"
    assert op.function in recorded, f"{op.name}: no {op.function.__name__} node in its graph ({recorded})"


def test_every_named_kernel_exists():
    for op in OPS:
        unknown = set(op.kernels) - set(kernels.SPECS)
        assert not unknown, f"{op.name} names kernels that tinygrad_edu/kernels.py does not define: {unknown}"


def test_every_row_has_a_unique_name():
    names = [op.name for op in OPS]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


def test_every_row_has_one_domain_per_input():
    for op in OPS:
        assert len(op.values) == op.arity, op.name
        for case in op.edges:
            assert len(case.arrays) == op.arity, f"{op.name}: an edge case has {len(case.arrays)} inputs"
