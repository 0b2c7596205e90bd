"""The op table: the one list of what the engine computes, read by every op-level test.

Rows are grouped by the Function they exercise (`of(Sigmoid, ...)`); a row is one way of
calling it. Each row says:

    name            what the test id shows (written like the call, e.g. "x.sum(axis)")
    function        the Function class under test (set by `of`); None for the rows that record
                    no node (comparisons, argmax) or are built from other rows' Functions (var)
    arity           how many float inputs it takes (each one gets a gradient)
    ours / theirs   the call on tinygrad_edu Tensors / on torch tensors (the twin), as
                    f(*inputs, **params); the two lambdas sit side by side so the difference
                    between the two APIs is visible in one line
    shapes          a hypothesis strategy that draws one shape per input
    values          the input domain: one sampler per input, e.g. POSITIVE for log
    params          extra arguments drawn for the shapes (an axis, an index, a kernel size)
    edges           fixed cases at the edges of the domain (log at -0.0 and below, sqrt at 0,
                    division by 1e-45, relu at exactly 0, ties): compared with torch there too,
                    NaN and inf included. A case whose `differs` says why ours does not give
                    torch's answer is an expected failure (strict: it fails once they agree)
    differentiable  False for ops with no gradient (argmax, comparisons)
    gradcheck       False where the samples sit on a kink on purpose (ties, x = 0)
    broadcasts      True for binary elementwise ops: the tests also run them in both
                    operand orders and on the hand-picked EDGE_PAIRS of shapes
    kernels         the fused GPU kernels (tinygrad_edu/kernels.py) that the row's Function asks for
    lectures        the course topics (markers lecture01 ... lecture10) the row belongs to
    rtol / atol     float32 tolerances against torch (float64 uses rtol64 / atol64)

What reads the table:
    tests/reference/test_ops_vs_torch.py   forward and backward against PyTorch 2.13, float32 and
                                           float64, broadcasting edge pairs, the domain edges
    tests/test_gradcheck_ops.py            backward against central differences (float64)
    tests/test_kernels.py                  on "cuda": the fused kernels against the plain code

To find what is checked for a Function, search this file for its name. To add a Function, add
its rows here: a test fails, naming it, while a Function of tinygrad_edu.functions has none.
The domains, shapes and params live in tests/reference/inputs.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import strategies as st

import tinygrad_edu
import tinygrad_edu.nn.functional as F
from tinygrad_edu import Tensor
from tinygrad_edu.functions import (ELU, GELU, Abs, Add, BinaryCrossEntropy, Cast, Cat, Clip, Conv2d,
                                    CrossEntropy, Div, Exp, Expand, GetItem, LeakyReLU, Linear, Log,
                                    LogSoftmax, LogSumExp, MatMul, Max, Maximum, MaxPool2d, Mean, Min,
                                    Minimum, Mul, Neg, Pad, Permute, Pow, ReLU, Reshape, Sigmoid, Softmax,
                                    Softplus, Softsign, Sqrt, Sub, Sum, Tanh, ToDevice, Where)

from .inputs import (ANY, AT_LEAST_1D, AT_LEAST_2D, AWAY_FROM_ZERO, CROSS_ENTROPY_SHAPES, DISTINCT,
                     EDGE_PAIRS, IMAGES, NEGATIVE, NONZERO, PAIR, POSITIVE, PROBABILITY, REAL, SMALL_INTS,
                     SPREAD, TIES, WIDE, Params, _like, a_binary_target, a_condition, a_conv_geometry,
                     a_mask, a_new_axis, a_new_shape, a_new_shape_as_ints, a_padding, a_pool_geometry,
                     a_row_mask, a_wider_shape, an_int, an_order, away_from, axes_over_two_or_more,
                     cat_axis, cat_shapes, conv_shapes, cross_entropy_target, distinct, linear_shapes,
                     matmul_shapes, no_params, none_and_ellipsis, one_axis, one_of, ours_getitem,
                     repeated_ints, repeated_ints_as_list, same_shapes, slice_then_ints, some_axes,
                     some_slices, stack_axis, start_and_end, theirs_getitem, two_axes, two_int_arrays)

__all__ = ["OPS", "OPS_BY_NAME", "EDGE_PAIRS", "Op", "Case"]


# ============================================================================ a fixed case

@dataclass(frozen=True)
class Case:
    """One fixed input of a row: the arrays (float64, one per input) and the params.
    `differs`, when set, says why ours does not give torch's answer here."""
    arrays: tuple
    params: dict = field(default_factory=dict)
    differs: str = ""


INF = np.inf
TINY = 1e-45            # the smallest float32 denormal (about 1.4e-45 once rounded to float32)


def at(*values: float, differs: str = "", **params) -> Case:
    """A one-input case: the values as a vector."""
    return Case((np.array(values, dtype=np.float64),), params, differs)


def grid(xs: tuple, ys: tuple, differs: str = "", **params) -> Case:
    """A two-input case with every pair: x as a column (n, 1), y as a row (1, m)."""
    return Case((np.array(xs, dtype=np.float64)[:, None], np.array(ys, dtype=np.float64)[None, :]), params, differs)


def matrix(*rows: tuple, differs: str = "", **params) -> Case:
    """A one-input case: a matrix, one tuple per row (for the reductions and the softmax family)."""
    return Case((np.array(rows, dtype=np.float64),), params, differs)


def drawn(shapes: tuple, seed: int = 0, values: Callable = None, differs: str = "", **params) -> Case:
    """A case of standard normal inputs of the given shapes (for the layers' edge geometries)."""
    rng = np.random.default_rng(seed)
    draw = values or (lambda rng, s: rng.standard_normal(s))
    return Case(tuple(np.asarray(draw(rng, s), dtype=np.float64) for s in shapes), params, differs)


# ============================================================================ the row

@dataclass(frozen=True, repr=False)
class Op:
    name: str
    arity: int
    ours: Callable[..., Tensor]
    theirs: Callable[..., torch.Tensor]
    shapes: st.SearchStrategy
    values: tuple = (REAL,)
    params: Params = no_params
    edges: tuple = ()
    differentiable: bool = True
    gradcheck: bool = True
    broadcasts: bool = False
    function: type | None = None
    kernels: tuple = ()
    lectures: tuple = ()
    rtol: float = 1e-5
    atol: float = 1e-6
    rtol64: float = 1e-10
    atol64: float = 1e-12

    def sample(self, rng: np.random.Generator, shapes: tuple) -> tuple[list, dict]:
        """The inputs (float64 NumPy arrays, one per shape) and the params of one case."""
        assert len(shapes) == self.arity == len(self.values), f"{self.name}: arity, shapes and values disagree"
        arrays = [np.asarray(sampler(rng, s), dtype=np.float64).reshape(s) for sampler, s in zip(self.values, shapes)]
        return arrays, self.params(rng, shapes)

    def marks(self) -> list:
        """The row's lecture markers, for pytest.param(..., marks=op.marks())."""
        return [getattr(pytest.mark, lecture) for lecture in self.lectures]

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"Op({self.name!r})"


def unary(name, ours, theirs, values=REAL, shapes=ANY, edges=(), **options) -> Op:
    return Op(name, 1, ours, theirs, shapes, (values,), edges=tuple(edges), **options)


def binary(name, ours, theirs, values=(REAL, REAL), edges=(), **options) -> Op:
    """A binary elementwise op with NumPy broadcasting."""
    return Op(name, 2, ours, theirs, PAIR, values, edges=tuple(edges), broadcasts=True, **options)


def of(function: type, *rows: Op, kernels: tuple = (), lectures: tuple = ()) -> list:
    """The rows of one Function: each row gets its name, its kernels (unless the row names its
    own) and its lectures."""
    return [replace(row, function=function, kernels=row.kernels or kernels,
                    lectures=tuple(dict.fromkeys(row.lectures + lectures))) for row in rows]


def others(*rows: Op, lectures: tuple = ()) -> list:
    """Rows with no Function of their own: they record no node, or use other rows' Functions."""
    return [replace(row, lectures=tuple(dict.fromkeys(row.lectures + lectures))) for row in rows]


def _reversed_axes(x: torch.Tensor) -> torch.Tensor:
    """What .T means for any rank; torch's own x.T is deprecated for ndim != 2."""
    return x.permute(tuple(range(x.ndim - 1, -1, -1)))


F64 = "float64"
F32 = "float32"

# The edges every arithmetic op meets: infinities, signed zeros, a denormal, ordinary numbers.
SIGNED = (-INF, -1.0, -0.0, 0.0, TINY, 1e-30, 1.0, INF)
# Far out on both sides: where exp() overflows or underflows, and the activations saturate.
SATURATING = (-INF, -1e4, -100.0, -20.0, -1.0, -0.0, 0.0, 1.0, 20.0, 100.0, 1e4, INF)
# Around a kink at 0: relu, leaky_relu, elu, abs.
AROUND_ZERO = (-INF, -1e4, -1.0, -TINY, -0.0, 0.0, TINY, 1.0, 1e4, INF)
# Rows a reduction or a softmax meets: ties, signed zeros, infinities, all -inf, huge logits.
ROWS_WITH_TIES = matrix((1.0, 1.0, 0.0), (-0.0, 0.0, -1.0), (-INF, -INF, -INF), (-INF, 0.0, 1.0),
                        (1000.0, -1000.0, 0.0), (1e4, 1e4, 1e4), axis=1)
SOFTMAX_ROWS = matrix((1.0, 1.0, 0.0), (-INF, 0.0, 1.0), (-INF, -INF, -INF), (1000.0, -1000.0, 0.0),
                      (1e4, 1e4, 1e4), axis=1)

# ============================================================================ THE TABLE

OPS: list[Op] = [
    # ---------------------------------------------------------------- arithmetic, broadcasting
    *of(Add,
        binary("x+y", lambda x, y: x + y, lambda x, y: x + y, edges=[grid(SIGNED, SIGNED)]),
        unary("x+2", lambda x: x + 2, lambda x: x + 2),
        unary("2+x", lambda x: 2 + x, lambda x: 2 + x),
        lectures=("lecture06",)),
    *of(Sub,
        binary("x-y", lambda x, y: x - y, lambda x, y: x - y, edges=[grid(SIGNED, SIGNED)]),
        unary("x-2.5", lambda x: x - 2.5, lambda x: x - 2.5),
        unary("2.5-x", lambda x: 2.5 - x, lambda x: 2.5 - x),
        lectures=("lecture06",)),
    *of(Mul,
        binary("x*y", lambda x, y: x * y, lambda x, y: x * y, edges=[grid(SIGNED, SIGNED)]),
        unary("x*2", lambda x: x * 2, lambda x: x * 2),
        unary("2.5*x", lambda x: 2.5 * x, lambda x: 2.5 * x),
        lectures=("lecture06",)),
    *of(Div,
        # division by zeros of both signs, by a denormal and by 1e-30 (whose square underflows)
        binary("x/y", lambda x, y: x / y, lambda x, y: x / y, values=(REAL, NONZERO),
               edges=[grid(SIGNED, SIGNED)]),
        unary("x/2", lambda x: x / 2, lambda x: x / 2),
        unary("2/x", lambda x: 2 / x, lambda x: 2 / x, values=NONZERO,
              edges=[at(-INF, -1.0, -TINY, -0.0, 0.0, TINY, 1e-30, INF)]),
        lectures=("lecture06",)),
    *of(Neg,
        unary("-x", lambda x: -x, lambda x: -x, edges=[at(*SIGNED)]),
        lectures=("lecture06",)),
    *of(Pow,
        binary("x**y", lambda x, y: x ** y, lambda x, y: x ** y, values=(POSITIVE, REAL),
               edges=[grid((-2.0, -1.0, 0.5, 1.0, 2.0, INF), (-1.0, 0.0, 0.5, 1.0, 2.0, 3.0)),
                      grid((-0.0, 0.0), (0.0, 0.5, 1.0, 2.0, 3.0),
                           differs="Pow.backward gives nan at a base of 0 (0 * log 0, and b * 0^(b-1) "
                                   "at b = 0); torch masks both to 0")]),
        unary("x**2", lambda x: x ** 2, lambda x: x ** 2, edges=[at(*SIGNED)]),
        unary("x**3", lambda x: x ** 3, lambda x: x ** 3, edges=[at(*SIGNED)]),
        unary("x**0.5", lambda x: x ** 0.5, lambda x: x ** 0.5, values=POSITIVE,
              edges=[at(-1.0, 0.0, TINY, 1e-30, 4.0, INF),
                     at(-0.0, differs="d/dx x**0.5 at -0.0: ours +inf, torch -inf")]),
        unary("x**-1", lambda x: x ** -1, lambda x: x ** -1, values=NONZERO, edges=[at(*SIGNED)]),
        unary("2**x", lambda x: 2 ** x, lambda x: 2 ** x, edges=[at(*SATURATING)]),
        lectures=("lecture06",)),
    *of(Maximum,
        binary("x.maximum(y)", lambda x, y: x.maximum(y), torch.maximum, values=(DISTINCT, distinct(0.05)),
               edges=[grid(SIGNED, SIGNED)]),       # ties on the diagonal, and -0.0 against 0.0
        binary("x.maximum(y) with ties", lambda x, y: x.maximum(y), torch.maximum, values=(TIES, TIES),
               gradcheck=False),    # a tie splits the gradient in half, as torch does
        lectures=("lecture04",)),
    *of(Minimum,
        binary("x.minimum(y)", lambda x, y: x.minimum(y), torch.minimum, values=(DISTINCT, distinct(0.05)),
               edges=[grid(SIGNED, SIGNED)]),
        binary("x.minimum(y) with ties", lambda x, y: x.minimum(y), torch.minimum, values=(TIES, TIES),
               gradcheck=False),
        lectures=("lecture04",)),
    *of(Where,
        binary("where(cond,x,y)",
               lambda x, y, cond: tinygrad_edu.where(_like(x, cond), x, y),
               lambda x, y, cond: torch.where(torch.from_numpy(cond), x, y), params=a_condition),
        binary("x.where(cond,y)",
               lambda x, y, cond: x.where(_like(x, cond), y),
               lambda x, y, cond: x.where(torch.from_numpy(cond), y), params=a_condition),
        unary("x.where(cond,0.0)", lambda x, cond: x.where(_like(x, cond), 0.0),
              lambda x, cond: x.where(torch.from_numpy(cond), 0.0), params=a_condition),
        lectures=("lecture06",)),
    # comparisons: bool results, no gradient, no node (the Heaviside step of lecture 4 is x > 0)
    *others(
        binary("x<y", lambda x, y: x < y, lambda x, y: x < y, values=(TIES, TIES), differentiable=False),
        binary("x<=y", lambda x, y: x <= y, lambda x, y: x <= y, values=(TIES, TIES), differentiable=False),
        binary("x>y", lambda x, y: x > y, lambda x, y: x > y, values=(TIES, TIES), differentiable=False,
               edges=[grid(SIGNED, SIGNED)]),
        binary("x>=y", lambda x, y: x >= y, lambda x, y: x >= y, values=(TIES, TIES), differentiable=False),
        binary("x==y", lambda x, y: x == y, lambda x, y: x == y, values=(TIES, TIES), differentiable=False,
               edges=[grid(SIGNED, SIGNED)]),
        binary("x!=y", lambda x, y: x != y, lambda x, y: x != y, values=(TIES, TIES), differentiable=False),
        lectures=("lecture04",)),

    # ---------------------------------------------------------------- elementwise functions
    *of(Exp,
        unary("x.exp()", lambda x: x.exp(), torch.exp,
              edges=[at(-INF, -1e4, -104.0, -88.0, -0.0, 0.0, 88.0, 89.0, 710.0, INF)]),   # over/underflow
        lectures=("lecture06",)),
    *of(Log,
        unary("x.log()", lambda x: x.log(), torch.log, values=POSITIVE,
              edges=[at(-INF, -1.0, -TINY, -0.0, 0.0, TINY, 1e-30, 1.0, INF)]),
        lectures=("lecture06",)),
    *of(Sqrt,
        unary("x.sqrt()", lambda x: x.sqrt(), torch.sqrt, values=POSITIVE,
              edges=[at(-1.0, -0.0, 0.0, TINY, 1e-30, 4.0, INF)]),
        lectures=("lecture06",)),
    *of(Abs,
        unary("x.abs()", lambda x: x.abs(), torch.abs, values=AWAY_FROM_ZERO, edges=[at(*AROUND_ZERO)]),
        # exactly at the kink, torch's one-sided choice: |x|'(0) = 0
        unary("x.abs() at 0", lambda x: x.abs(), torch.abs, values=TIES, gradcheck=False),
        lectures=("lecture06",)),
    *of(Tanh,
        unary("x.tanh()", lambda x: x.tanh(), torch.tanh, edges=[at(*SATURATING)]),
        kernels=("tanh_backward",), lectures=("lecture04",)),
    *of(Sigmoid,
        unary("x.sigmoid()", lambda x: x.sigmoid(), torch.sigmoid, edges=[at(*SATURATING)]),
        unary("x.sigmoid() of large |x|", lambda x: x.sigmoid(), torch.sigmoid, values=WIDE),
        kernels=("sigmoid_forward", "sigmoid_backward"), lectures=("lecture04", "lecture01")),
    *of(ReLU,
        unary("x.relu()", lambda x: x.relu(), torch.relu, values=AWAY_FROM_ZERO, edges=[at(*AROUND_ZERO)]),
        unary("x.relu() at 0", lambda x: x.relu(), torch.relu, values=TIES, gradcheck=False),   # relu'(0) = 0
        kernels=("relu_backward",), lectures=("lecture04",)),
    *of(LeakyReLU,
        unary("x.leaky_relu()", lambda x: x.leaky_relu(), TF.leaky_relu, values=AWAY_FROM_ZERO),
        unary("x.leaky_relu(0.2)", lambda x: x.leaky_relu(negative_slope=0.2),
              lambda x: TF.leaky_relu(x, negative_slope=0.2), values=AWAY_FROM_ZERO, edges=[at(*AROUND_ZERO)]),
        unary("x.leaky_relu(0.2) at 0", lambda x: x.leaky_relu(negative_slope=0.2),   # slope at 0
              lambda x: TF.leaky_relu(x, negative_slope=0.2), values=TIES, gradcheck=False),
        kernels=("leaky_relu_forward", "leaky_relu_backward"), lectures=("lecture04",)),
    *of(ELU,
        unary("x.elu()", lambda x: x.elu(), TF.elu, values=AWAY_FROM_ZERO),
        unary("x.elu(0.5)", lambda x: x.elu(alpha=0.5), lambda x: TF.elu(x, alpha=0.5), values=AWAY_FROM_ZERO,
              edges=[at(*AROUND_ZERO)]),
        unary("x.elu(0.5) at 0", lambda x: x.elu(alpha=0.5), lambda x: TF.elu(x, alpha=0.5),   # alpha at 0
              values=TIES, gradcheck=False),
        kernels=("elu_forward", "elu_backward"), lectures=("lecture04",)),
    *of(GELU,
        # not at +inf or 3e38: torch's float32 GELU overflows there (inf - inf), ours gives x
        unary("x.gelu()", lambda x: x.gelu(), TF.gelu, kernels=("gelu_forward", "gelu_backward"),
              edges=[at(-INF, -1e4, -10.0, -1.0, -0.0, 0.0, 1.0, 10.0, 1e4)]),
        unary("x.gelu('tanh')", lambda x: x.gelu(approximate="tanh"), lambda x: TF.gelu(x, approximate="tanh"),
              kernels=("gelu_tanh_forward", "gelu_tanh_backward"), edges=[at(*SATURATING)]),
        lectures=("lecture04",)),
    *of(Softplus,
        unary("x.softplus()", lambda x: x.softplus(), TF.softplus,
              edges=[at(-INF, -1e4, -100.0, -20.0, -0.0, 0.0, 19.99, 20.0, 20.01, 100.0, 1e4, INF)]),
        unary("x.softplus() of large |x|", lambda x: x.softplus(), TF.softplus,
              values=away_from(20.0, low=-60.0, high=60.0)),    # torch returns x itself above 20
        unary("x.softplus(beta=2,threshold=5)", lambda x: x.softplus(beta=2.0, threshold=5.0),
              lambda x: TF.softplus(x, beta=2.0, threshold=5.0), values=away_from(2.5, low=-5.0, high=5.0),
              edges=[at(-INF, -100.0, -2.5, 0.0, 2.49, 2.5, 2.51, 100.0, INF)]),
        kernels=("softplus_forward", "softplus_backward"), lectures=("lecture04",)),
    *of(Softsign,
        # not at ±inf: ours gives the limit 0 for the gradient there, torch nan
        unary("x.softsign()", lambda x: x.softsign(), TF.softsign,
              edges=[at(-3e38, -1e4, -1.0, -0.0, 0.0, 1.0, 1e4, 3e38)]),
        lectures=("lecture04",)),
    *of(Clip,
        unary("x.clip(-0.5,0.5)", lambda x: x.clip(-0.5, 0.5), lambda x: torch.clamp(x, -0.5, 0.5),
              values=away_from(-0.5, 0.5), edges=[at(-INF, -0.5, -0.0, 0.0, 0.5, INF)]),
        unary("x.clip(min=0.3)", lambda x: x.clip(min=0.3), lambda x: torch.clamp(x, min=0.3),
              values=away_from(0.3)),
        unary("x.clip(max=-0.3)", lambda x: x.clip(max=-0.3), lambda x: torch.clamp(x, max=-0.3),
              values=away_from(-0.3)),
        # clamp passes the gradient at the bounds
        unary("x.clip(-0.5,0.5) at the bounds", lambda x: x.clip(-0.5, 0.5), lambda x: torch.clamp(x, -0.5, 0.5),
              values=one_of(-1.0, -0.5, 0.0, 0.5, 1.0), gradcheck=False),
        lectures=("lecture06",)),

    # ---------------------------------------------------------------- reductions
    # `axis` is an int or a tuple of ints (negative ones too); `keep` is keepdims.
    *of(Sum,
        unary("x.sum()", lambda x: x.sum(), lambda x: x.sum()),
        unary("x.sum(axis)", lambda x, axis, keep: x.sum(axis),
              lambda x, axis, keep: x.sum(dim=axis), params=some_axes),
        unary("x.sum(axis,keepdims=True)", lambda x, axis, keep: x.sum(axis=axis, keepdims=True),
              lambda x, axis, keep: x.sum(dim=axis, keepdim=True), params=some_axes),
        unary("x.sum(dim=,keepdim=)", lambda x, axis, keep: x.sum(dim=axis, keepdim=keep),
              lambda x, axis, keep: x.sum(dim=axis, keepdim=keep), params=some_axes),
        unary("x.sum(1)", lambda x, axis: x.sum(axis), lambda x, axis: x.sum(dim=axis), shapes=AT_LEAST_2D,
              params=lambda rng, shapes: {"axis": 1}, edges=[ROWS_WITH_TIES]),
        lectures=("lecture06",)),
    *of(Mean,
        unary("x.mean()", lambda x: x.mean(), lambda x: x.mean()),
        unary("x.mean(axis)", lambda x, axis, keep: x.mean(axis),
              lambda x, axis, keep: x.mean(dim=axis), params=some_axes),
        unary("x.mean(axis,keepdims=True)", lambda x, axis, keep: x.mean(axis=axis, keepdims=True),
              lambda x, axis, keep: x.mean(dim=axis, keepdim=True), params=some_axes),
        unary("x.mean(dim=,keepdim=)", lambda x, axis, keep: x.mean(dim=axis, keepdim=keep),
              lambda x, axis, keep: x.mean(dim=axis, keepdim=keep), params=some_axes),
        unary("x.mean(1)", lambda x, axis: x.mean(axis), lambda x, axis: x.mean(dim=axis), shapes=AT_LEAST_2D,
              params=lambda rng, shapes: {"axis": 1}, edges=[ROWS_WITH_TIES]),
        lectures=("lecture06",)),
    *of(Max,
        unary("x.max()", lambda x: x.max(), lambda x: x.max(), values=DISTINCT),
        unary("x.max(axis)", lambda x, axis, keep: x.max(axis),
              lambda x, axis, keep: x.max(dim=axis).values, values=DISTINCT, params=one_axis),
        unary("x.max(axis,keepdims=True)", lambda x, axis, keep: x.max(axis=axis, keepdims=True),
              lambda x, axis, keep: x.max(dim=axis, keepdim=True).values, values=DISTINCT, params=one_axis),
        unary("x.max(dim=,keepdim=)", lambda x, axis, keep: x.max(dim=axis, keepdim=keep),
              lambda x, axis, keep: x.max(dim=axis, keepdim=keep).values, values=DISTINCT, params=one_axis),
        unary("x.max(axes)", lambda x, axis, keep: x.max(axis=axis, keepdims=keep),
              lambda x, axis, keep: x.amax(dim=axis, keepdim=keep), values=DISTINCT, params=some_axes),
        # ties: max() over everything splits the gradient equally; max(axis) gives it to the first maximum
        unary("x.max() with ties", lambda x: x.max(), lambda x: x.max(), values=TIES, gradcheck=False,
              edges=[at(1.0, 1.0, 0.0), at(-0.0, 0.0, -1.0), at(-INF, -INF), at(INF, 1.0, INF)]),
        unary("x.max(axis) with ties", lambda x, axis, keep: x.max(axis),
              lambda x, axis, keep: x.max(dim=axis).values, values=TIES, params=one_axis, gradcheck=False,
              edges=[replace(ROWS_WITH_TIES, params={"axis": 1, "keep": False})]),
        lectures=("lecture06",)),
    *of(Min,
        unary("x.min()", lambda x: x.min(), lambda x: x.min(), values=DISTINCT),
        unary("x.min(axis)", lambda x, axis, keep: x.min(axis),
              lambda x, axis, keep: x.min(dim=axis).values, values=DISTINCT, params=one_axis),
        unary("x.min(axis,keepdims=True)", lambda x, axis, keep: x.min(axis=axis, keepdims=True),
              lambda x, axis, keep: x.min(dim=axis, keepdim=True).values, values=DISTINCT, params=one_axis),
        unary("x.min(dim=,keepdim=)", lambda x, axis, keep: x.min(dim=axis, keepdim=keep),
              lambda x, axis, keep: x.min(dim=axis, keepdim=keep).values, values=DISTINCT, params=one_axis),
        unary("x.min(axes)", lambda x, axis, keep: x.min(axis=axis, keepdims=keep),
              lambda x, axis, keep: x.amin(dim=axis, keepdim=keep), values=DISTINCT, params=some_axes),
        unary("x.min() with ties", lambda x: x.min(), lambda x: x.min(), values=TIES, gradcheck=False,
              edges=[at(-1.0, -1.0, 0.0), at(-0.0, 0.0, 1.0), at(INF, INF)]),
        unary("x.min(axis) with ties", lambda x, axis, keep: x.min(axis),
              lambda x, axis, keep: x.min(dim=axis).values, values=TIES, params=one_axis, gradcheck=False,
              edges=[replace(ROWS_WITH_TIES, params={"axis": 1, "keep": False})]),
        lectures=("lecture06",)),
    # var/std (built from Sub, Mean, Mul, Sum, Div, Sqrt): correction=1 (unbiased) by default, as in torch
    *others(
        unary("x.var()", lambda x: x.var(), lambda x: x.var(), shapes=SPREAD),
        unary("x.var(axis)", lambda x, axis, keep: x.var(axis),
              lambda x, axis, keep: x.var(dim=axis), shapes=SPREAD, params=axes_over_two_or_more,
              edges=[matrix((1.0, 1.0, 0.0), (-0.0, 0.0, -1.0), (1000.0, -1000.0, 0.0), (1e4, 1e4, 1e4),
                            (5.0, 5.0, 5.0), axis=1, keep=False)]),       # no infinities: inf - inf is nan
        unary("x.var(axis,correction=0)", lambda x, axis, keep: x.var(axis, correction=0),
              lambda x, axis, keep: x.var(dim=axis, correction=0), params=some_axes),
        unary("x.var(axis,correction=1,keepdims=True)",
              lambda x, axis, keep: x.var(axis=axis, correction=1, keepdims=True),
              lambda x, axis, keep: x.var(dim=axis, correction=1, keepdim=True),
              shapes=SPREAD, params=axes_over_two_or_more),
        unary("x.var(dim=,keepdim=,correction=0)", lambda x, axis, keep: x.var(dim=axis, keepdim=keep, correction=0),
              lambda x, axis, keep: x.var(dim=axis, keepdim=keep, correction=0), params=some_axes),
        unary("x.std()", lambda x: x.std(), lambda x: x.std(), values=DISTINCT, shapes=SPREAD,
              edges=[at(1.0, 1.0, 1.0, differs="the gradient of std at zero spread: ours nan (0 / 0), "
                                             "torch 0")]),
        unary("x.std(axis)", lambda x, axis, keep: x.std(axis),
              lambda x, axis, keep: x.std(dim=axis), values=DISTINCT, shapes=SPREAD, params=axes_over_two_or_more),
        unary("x.std(axis,correction=0)", lambda x, axis, keep: x.std(axis, correction=0),
              lambda x, axis, keep: x.std(dim=axis, correction=0),
              values=DISTINCT, shapes=SPREAD, params=axes_over_two_or_more),
        unary("x.std(dim=,keepdim=)", lambda x, axis, keep: x.std(dim=axis, keepdim=keep),
              lambda x, axis, keep: x.std(dim=axis, keepdim=keep),
              values=DISTINCT, shapes=SPREAD, params=axes_over_two_or_more),
        lectures=("lecture08",)),
    # argmax/argmin: int64 indices, no gradient, no node
    *others(
        unary("x.argmax()", lambda x: x.argmax(), lambda x: x.argmax(), values=DISTINCT, differentiable=False),
        unary("x.argmax(axis)", lambda x, axis, keep: x.argmax(axis),
              lambda x, axis, keep: x.argmax(dim=axis), values=DISTINCT, params=one_axis, differentiable=False),
        unary("x.argmax(axis,keepdims=True)", lambda x, axis, keep: x.argmax(axis=axis, keepdims=True),
              lambda x, axis, keep: x.argmax(dim=axis, keepdim=True), values=DISTINCT, params=one_axis,
              differentiable=False),
        unary("x.argmax(dim=,keepdim=)", lambda x, axis, keep: x.argmax(dim=axis, keepdim=keep),
              lambda x, axis, keep: x.argmax(dim=axis, keepdim=keep), values=DISTINCT, params=one_axis,
              differentiable=False),
        unary("x.argmin()", lambda x: x.argmin(), lambda x: x.argmin(), values=DISTINCT, differentiable=False),
        unary("x.argmin(axis)", lambda x, axis, keep: x.argmin(axis),
              lambda x, axis, keep: x.argmin(dim=axis), values=DISTINCT, params=one_axis, differentiable=False),
        unary("x.argmin(dim=,keepdim=)", lambda x, axis, keep: x.argmin(dim=axis, keepdim=keep),
              lambda x, axis, keep: x.argmin(dim=axis, keepdim=keep), values=DISTINCT, params=one_axis,
              differentiable=False),
        lectures=("lecture08",)),

    # ---------------------------------------------------------------- softmax family
    # +inf logits are left out of the edges: torch gives nan for the whole row, ours 0 where x is finite
    *of(Softmax,
        unary("x.softmax(axis)", lambda x, axis, keep: x.softmax(axis),
              lambda x, axis, keep: x.softmax(dim=axis), params=one_axis),
        unary("x.softmax(dim=)", lambda x, axis, keep: x.softmax(dim=axis),
              lambda x, axis, keep: x.softmax(dim=axis), params=one_axis,
              edges=[replace(SOFTMAX_ROWS, params={"axis": 1, "keep": False})]),
        lectures=("lecture05",)),
    *of(LogSoftmax,
        unary("x.log_softmax(axis)", lambda x, axis, keep: x.log_softmax(axis),
              lambda x, axis, keep: x.log_softmax(dim=axis), params=one_axis),
        unary("x.log_softmax(dim=)", lambda x, axis, keep: x.log_softmax(dim=axis),
              lambda x, axis, keep: x.log_softmax(dim=axis), params=one_axis,
              edges=[replace(SOFTMAX_ROWS, params={"axis": 1, "keep": False})]),
        unary("x.log_softmax(axis) of large |x|", lambda x, axis, keep: x.log_softmax(axis),
              lambda x, axis, keep: x.log_softmax(dim=axis), values=WIDE, params=one_axis, atol=1e-5),
        lectures=("lecture05",)),
    *of(LogSumExp,
        unary("x.logsumexp()", lambda x: x.logsumexp(), lambda x: torch.logsumexp(x.reshape(-1), dim=0)),
        unary("x.logsumexp(axis)", lambda x, axis, keep: x.logsumexp(axis),
              lambda x, axis, keep: torch.logsumexp(x, dim=axis), params=some_axes,
              edges=[replace(SOFTMAX_ROWS, params={"axis": 1, "keep": False})]),
        unary("x.logsumexp(axis,keepdims=True)", lambda x, axis, keep: x.logsumexp(axis=axis, keepdims=True),
              lambda x, axis, keep: torch.logsumexp(x, dim=axis, keepdim=True), params=some_axes),
        unary("x.logsumexp(dim=,keepdim=)", lambda x, axis, keep: x.logsumexp(dim=axis, keepdim=keep),
              lambda x, axis, keep: torch.logsumexp(x, dim=axis, keepdim=keep), params=some_axes),
        unary("x.logsumexp(axis) of large |x|", lambda x, axis, keep: x.logsumexp(axis),
              lambda x, axis, keep: torch.logsumexp(x, dim=axis), values=WIDE, params=some_axes),
        lectures=("lecture05",)),

    # ---------------------------------------------------------------- losses on logits and probabilities
    *of(CrossEntropy,       # logits (N, C), class indices (N,)
        Op("CrossEntropy(reduction='mean')", 1,
           lambda z, target: CrossEntropy.apply(z, _like(z, target), reduction="mean"),
           lambda z, target: TF.cross_entropy(z, torch.from_numpy(target), reduction="mean"),
           CROSS_ENTROPY_SHAPES, params=cross_entropy_target),
        Op("CrossEntropy(reduction='sum')", 1,
           lambda z, target: CrossEntropy.apply(z, _like(z, target), reduction="sum"),
           lambda z, target: TF.cross_entropy(z, torch.from_numpy(target), reduction="sum"),
           CROSS_ENTROPY_SHAPES, params=cross_entropy_target),
        Op("CrossEntropy(reduction='none')", 1,
           lambda z, target: CrossEntropy.apply(z, _like(z, target), reduction="none"),
           lambda z, target: TF.cross_entropy(z, torch.from_numpy(target), reduction="none"),
           CROSS_ENTROPY_SHAPES, params=cross_entropy_target,
           edges=[Case((np.array([[1000.0, -1000.0, 0.0], [-INF, 0.0, 1.0], [1e4, 1e4, 1e4], [0.0, 0.0, 0.0]]),),
                       {"target": np.array([1, 2, 0, 2])})]),
        Op("CrossEntropy of large logits", 1,
           lambda z, target: CrossEntropy.apply(z, _like(z, target), reduction="mean"),
           lambda z, target: TF.cross_entropy(z, torch.from_numpy(target), reduction="mean"),
           CROSS_ENTROPY_SHAPES, values=(WIDE,), params=cross_entropy_target, atol=1e-5),
        Op("F.cross_entropy(z,target)", 1,
           lambda z, target: F.cross_entropy(z, _like(z, target)),
           lambda z, target: TF.cross_entropy(z, torch.from_numpy(target)),
           CROSS_ENTROPY_SHAPES, params=cross_entropy_target),
        kernels=("cross_entropy_forward", "exp_shifted", "cross_entropy_backward"), lectures=("lecture05",)),
    *of(BinaryCrossEntropy,     # probabilities p, targets y: both get a gradient
        Op("BinaryCrossEntropy.apply(p,y)", 2, lambda p, y: BinaryCrossEntropy.apply(p, y),
           lambda p, y: TF.binary_cross_entropy(p, y, reduction="none"), same_shapes(2), (PROBABILITY, PROBABILITY),
           edges=[Case((np.array([1e-12, 0.5, 1 - 1e-7]), np.array([1.0, 0.5, 1.0]))),
                  Case((np.array([0.0, 1.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.0, 1.0])),
                       differs="dL/dy at p = 0 or 1: torch uses the unclamped logs (inf), ours the "
                               "clamped ones of the forward (log p >= -100)")],
           rtol64=1e-8),
        Op("F.binary_cross_entropy(p,target)", 1, lambda p, target: F.binary_cross_entropy(p, _like(p, target)),
           lambda p, target: TF.binary_cross_entropy(p, torch.from_numpy(target).to(p.dtype)),
           ANY, (PROBABILITY,), params=a_binary_target),
        Op("F.binary_cross_entropy(p,target,reduction='sum')", 1,
           lambda p, target: F.binary_cross_entropy(p, _like(p, target), reduction="sum"),
           lambda p, target: TF.binary_cross_entropy(p, torch.from_numpy(target).to(p.dtype), reduction="sum"),
           ANY, (PROBABILITY,), params=a_binary_target,
           edges=[Case((np.array([0.0, 1e-12, 0.5, 1 - 1e-7, 1.0, 0.0, 1.0]),),     # log(0) is clamped to -100
                       {"target": np.array([0.0, 1.0, 0.5, 1.0, 0.0, 1.0, 1.0])})],
           rtol64=1e-8),        # dL/dp = 1e12 at p = 1, y = 0: the two round its quotient differently
        lectures=("lecture05", "lecture01")),

    # ---------------------------------------------------------------- layers
    *of(Linear,             # x (..., in), weight (out, in), bias (out,)
        Op("F.linear(x,w,b)", 3, lambda x, w, b: F.linear(x, w, b), lambda x, w, b: TF.linear(x, w, b),
           linear_shapes(), (REAL, REAL, REAL)),
        Op("F.linear(x,w)", 2, lambda x, w: F.linear(x, w), lambda x, w: TF.linear(x, w),
           linear_shapes(bias=False), (REAL, REAL)),
        lectures=("lecture03",)),
    *of(Conv2d,             # x (N, C, H, W), weight (O, C, kh, kw), bias (O,)
        Op("F.conv2d(x,w,b,stride,padding,dilation)", 3,
           lambda x, w, b, **geometry: F.conv2d(x, w, b, **geometry),
           lambda x, w, b, **geometry: TF.conv2d(x, w, b, **geometry),
           conv_shapes(), (REAL, REAL, REAL), params=a_conv_geometry,
           edges=[drawn([(1, 2, 4, 5), (3, 2, 4, 5), (3,)]),                      # the kernel covers the input
                  drawn([(2, 1, 7, 7), (2, 1, 2, 2), (2,)], stride=3),             # stride > kernel: some inputs unseen
                  drawn([(1, 1, 3, 3), (1, 1, 3, 3), (1,)], padding=2),            # output larger than the input
                  drawn([(1, 2, 9, 8), (2, 2, 3, 2), (2,)], stride=(2, 1), padding=(1, 0), dilation=(3, 2)),
                  drawn([(1, 1, 5, 5), (1, 1, 1, 1), (1,)], stride=2)]),           # a 1x1 kernel
        Op("F.conv2d(x,w)", 2, lambda x, w, **geometry: F.conv2d(x, w, **geometry),
           lambda x, w, **geometry: TF.conv2d(x, w, **geometry),
           conv_shapes(bias=False), (REAL, REAL), params=a_conv_geometry),
        kernels=("im2col", "col2im")),
    *of(MaxPool2d,          # x (N, C, H, W)
        Op("F.max_pool2d(x,kernel_size,stride,padding,dilation)", 1,
           lambda x, **geometry: F.max_pool2d(x, **geometry), lambda x, **geometry: TF.max_pool2d(x, **geometry),
           IMAGES, (DISTINCT,), params=a_pool_geometry,
           edges=[drawn([(1, 2, 5, 5)], values=lambda rng, s: -rng.uniform(1, 2, s),   # padding is -inf, not 0
                        kernel_size=3, stride=2, padding=1),
                  drawn([(1, 1, 4, 6)], kernel_size=(4, 6)),                          # one window: the whole input
                  drawn([(1, 1, 7, 7)], kernel_size=2, stride=3),                     # stride > kernel
                  drawn([(1, 2, 6, 1)], kernel_size=2, stride=(1, 2), padding=(0, 1), dilation=2,
                        differs="a window entirely in the padding: both give -inf, torch sends its gradient "
                                "to an element outside the window, ours to none")]),
        # ties: the first maximal element of a window gets its gradient, as in torch
        Op("F.max_pool2d with ties", 1,
           lambda x, **geometry: F.max_pool2d(x, **geometry), lambda x, **geometry: TF.max_pool2d(x, **geometry),
           IMAGES, (SMALL_INTS,), params=a_pool_geometry, gradcheck=False,
           edges=[drawn([(2, 2, 7, 8)], values=lambda rng, s: rng.integers(0, 3, s).astype(float),
                        kernel_size=3, stride=1, padding=1),                          # overlapping windows
                  drawn([(1, 1, 4, 4)], values=lambda rng, s: np.zeros(s), kernel_size=2)]),
        Op("F.max_pool2d of negative inputs", 1,
           lambda x, **geometry: F.max_pool2d(x, **geometry), lambda x, **geometry: TF.max_pool2d(x, **geometry),
           IMAGES, (NEGATIVE,), params=a_pool_geometry, gradcheck=False),    # near-ties in [-2, -1]
        kernels=("max_pool_forward", "max_pool_backward")),

    # ---------------------------------------------------------------- movement
    *of(Reshape,
        unary("x.reshape(shape)", lambda x, shape: x.reshape(shape), lambda x, shape: x.reshape(shape),
              params=a_new_shape),
        unary("x.reshape(*shape)", lambda x, shape: x.reshape(*shape), lambda x, shape: x.reshape(*shape),
              params=a_new_shape_as_ints),
        unary("x.view(shape)", lambda x, shape: x.view(shape), lambda x, shape: x.view(shape), params=a_new_shape),
        unary("x.flatten()", lambda x: x.flatten(), lambda x: x.flatten()),
        unary("x.flatten(start_dim,end_dim)", lambda x, start, end: x.flatten(start, end),
              lambda x, start, end: x.flatten(start, end), shapes=AT_LEAST_1D, params=start_and_end),
        unary("x.squeeze()", lambda x: x.squeeze(), lambda x: x.squeeze()),
        unary("x.squeeze(dim)", lambda x, axis, keep: x.squeeze(axis), lambda x, axis, keep: x.squeeze(axis),
              params=one_axis),
        unary("x.unsqueeze(dim)", lambda x, dim: x.unsqueeze(dim), lambda x, dim: x.unsqueeze(dim),
              params=a_new_axis),
        lectures=("lecture06",)),
    *of(Permute,
        unary("x.transpose(dim0,dim1)", lambda x, dim0, dim1: x.transpose(dim0, dim1),
              lambda x, dim0, dim1: x.transpose(dim0, dim1), shapes=AT_LEAST_1D, params=two_axes),
        unary("x.permute(*dims)", lambda x, dims: x.permute(*dims), lambda x, dims: x.permute(*dims),
              shapes=AT_LEAST_1D, params=an_order),
        unary("x.permute(dims)", lambda x, dims: x.permute(dims), lambda x, dims: x.permute(dims),
              shapes=AT_LEAST_1D, params=an_order),
        unary("x.T", lambda x: x.T, _reversed_axes),
        lectures=("lecture06",)),
    *of(Expand,
        unary("x.expand(shape)", lambda x, shape: x.expand(shape), lambda x, shape: x.expand(shape),
              params=a_wider_shape),
        lectures=("lecture06",)),
    *of(Cat,
        Op("Tensor.cat([x,y],axis)", 2, lambda x, y, axis: Tensor.cat([x, y], axis=axis),
           lambda x, y, axis: torch.cat([x, y], dim=axis), cat_shapes(2), (REAL, REAL), params=cat_axis),
        Op("Tensor.cat([x,y,z],dim=)", 3, lambda x, y, z, axis: Tensor.cat((x, y, z), dim=axis),
           lambda x, y, z, axis: torch.cat((x, y, z), dim=axis), cat_shapes(3), (REAL, REAL, REAL),
           params=cat_axis),
        Op("Tensor.stack([x,y],axis)", 2, lambda x, y, axis: Tensor.stack([x, y], axis=axis),
           lambda x, y, axis: torch.stack([x, y], dim=axis), same_shapes(2), (REAL, REAL), params=stack_axis),
        Op("Tensor.stack([x,y,z],dim=)", 3, lambda x, y, z, axis: Tensor.stack([x, y, z], dim=axis),
           lambda x, y, z, axis: torch.stack([x, y, z], dim=axis), same_shapes(3), (REAL, REAL, REAL),
           params=stack_axis),
        lectures=("lecture06",)),
    *of(Pad,
        unary("x.pad(pad,value)", lambda x, pad, value: x.pad(pad, value=value),
              lambda x, pad, value: TF.pad(x, pad, value=value), shapes=AT_LEAST_1D, params=a_padding),
        lectures=("lecture06",)),
    *of(GetItem,
        unary("x[int]", ours_getitem, theirs_getitem, shapes=AT_LEAST_1D, params=an_int),
        unary("x[slices]", ours_getitem, theirs_getitem, shapes=AT_LEAST_1D, params=some_slices),
        unary("x[None,...]", ours_getitem, theirs_getitem, params=none_and_ellipsis),
        unary("x[int array with repeats]", ours_getitem, theirs_getitem, shapes=AT_LEAST_1D, params=repeated_ints),
        unary("x[list with repeats]", ours_getitem, theirs_getitem, shapes=AT_LEAST_1D,
              params=repeated_ints_as_list),
        unary("x[int array,int array]", ours_getitem, theirs_getitem, shapes=AT_LEAST_2D, params=two_int_arrays),
        unary("x[:,int array]", ours_getitem, theirs_getitem, shapes=AT_LEAST_2D, params=slice_then_ints),
        unary("x[bool mask]", ours_getitem, theirs_getitem, params=a_mask),
        unary("x[bool mask on axis 0]", ours_getitem, theirs_getitem, shapes=AT_LEAST_1D, params=a_row_mask),
        unary("x[x>0]", lambda x: x[x > 0], lambda x: x[x > 0], values=AWAY_FROM_ZERO),
        lectures=("lecture06",)),

    # ---------------------------------------------------------------- matmul
    *of(MatMul,
        Op("x@y (2-D @ 2-D)", 2, lambda x, y: x @ y, lambda x, y: x @ y, matmul_shapes("matrix", "matrix"),
           (REAL, REAL)),
        Op("x@y (1-D @ 2-D)", 2, lambda x, y: x @ y, lambda x, y: x @ y, matmul_shapes("vector", "matrix"),
           (REAL, REAL)),
        Op("x@y (2-D @ 1-D)", 2, lambda x, y: x @ y, lambda x, y: x @ y, matmul_shapes("matrix", "vector"),
           (REAL, REAL)),
        Op("x@y (1-D @ 1-D)", 2, lambda x, y: x @ y, lambda x, y: x @ y, matmul_shapes("vector", "vector"),
           (REAL, REAL)),
        Op("x@y (batched, broadcast)", 2, lambda x, y: x @ y, lambda x, y: x @ y,
           matmul_shapes("batch", "batch"), (REAL, REAL)),
        Op("x@y (batched @ 2-D)", 2, lambda x, y: x @ y, lambda x, y: x @ y,
           matmul_shapes("batch", "matrix"), (REAL, REAL)),
        Op("x@y (2-D @ batched)", 2, lambda x, y: x @ y, lambda x, y: x @ y,
           matmul_shapes("matrix", "batch"), (REAL, REAL)),
        Op("x@y (batched @ 1-D)", 2, lambda x, y: x @ y, lambda x, y: x @ y,
           matmul_shapes("batch", "vector"), (REAL, REAL)),
        Op("x@y (1-D @ batched)", 2, lambda x, y: x @ y, lambda x, y: x @ y,
           matmul_shapes("vector", "batch"), (REAL, REAL)),
        Op("x.matmul(y)", 2, lambda x, y: x.matmul(y), lambda x, y: x.matmul(y),
           matmul_shapes("batch", "batch"), (REAL, REAL)),
        Op("x.dot(y)", 2, lambda x, y: x.dot(y), lambda x, y: x.dot(y), matmul_shapes("vector", "vector"),
           (REAL, REAL)),
        lectures=("lecture03", "lecture06")),

    # ---------------------------------------------------------------- dtype and device
    *of(Cast,
        unary("x.astype('float64')", lambda x: x.astype(F64), lambda x: x.to(torch.float64)),
        # central differences need a float64 output: rounding to float32 hides the eps step
        unary("x.astype('float32')", lambda x: x.astype(F32), lambda x: x.to(torch.float32), gradcheck=False),
        lectures=("lecture09",)),
    *of(ToDevice,           # on "cuda" a copy to the host and the gradient back; on "cpu" a copy
        unary("ToDevice.apply(x,device='cpu')", lambda x: ToDevice.apply(x, device="cpu"), lambda x: x.to("cpu")),
        lectures=("lecture09",)),
]

# ============================================================================ the vision lectures (helper G2)
# BatchNorm (training and eval, with and without γ, β and running statistics), SiLU, and the
# class-index losses on (N, C) and per pixel (N, C, H, W), with weights, ignored targets and
# label smoothing. Class weights and running statistics are constants: they get no gradient.

from tinygrad_edu.functions import BatchNorm, NegativeLogLikelihood, SiLU  # noqa: E402

from .inputs import (CLASS_SCORES, PIXEL_SCORES, _stat, _torch_stat, a_batch_norm_eps,  # noqa: E402
                     batch_norm_shapes, class_probabilities, class_targets, running_statistics,
                     smoothed_targets, weighted_targets)


def _batch_norm(training: bool):
    """F.batch_norm with running statistics, γ and β on both sides (x's dtype for the constants)."""
    def ours(x, w, b, running_mean, running_var, momentum, eps):
        return F.batch_norm(x, _stat(x, running_mean), _stat(x, running_var), w, b, training=training,
                            momentum=momentum, eps=eps)

    def theirs(x, w, b, running_mean, running_var, momentum, eps):
        return TF.batch_norm(x, _torch_stat(x, running_mean), _torch_stat(x, running_var), w, b,
                             training=training, momentum=momentum, eps=eps)
    return ours, theirs


def _weighted_loss(ours_fn, theirs_fn):
    """A class-index loss called with target, weight, ignore_index, reduction (and label_smoothing)."""
    def ours(z, target, weight, **options):
        return ours_fn(z, _like(z, target), weight=_stat(z, weight), **options)

    def theirs(z, target, weight, **options):
        return theirs_fn(z, torch.from_numpy(target), weight=_torch_stat(z, weight), **options)
    return ours, theirs


_BN_TRAIN, _BN_EVAL = _batch_norm(True), _batch_norm(False)
# training's dL/dx is a difference of terms of size γ g / σ that nearly cancel (with two values per
# channel it is almost 0): float32 rounding of those terms, not of the result, sets the tolerance.
# x is DISTINCT (values 0.1 apart): for a channel of two nearly equal values torch's float32
# gradient is off by 1e-3 (ours by 4e-6: tests/test_vision_losses_norms.py checks it in float64)
_BN_TOL = dict(rtol=1e-4, atol=2e-5, atol64=1e-10)
_CE_WEIGHTED = _weighted_loss(F.cross_entropy, TF.cross_entropy)
_NLL_WEIGHTED = _weighted_loss(F.nll_loss, TF.nll_loss)
_W3 = np.array([0.5, 2.0, 0.0])                 # a class of weight 0 among the edges


def _ce_case(z, target, differs="", **options) -> Case:
    """An edge of the weighted cross-entropy rows: logits, class indices and the options."""
    options = {"weight": np.ones(np.shape(z)[1]), "ignore_index": -100, "reduction": "mean", **options}
    return Case((np.array(z, dtype=np.float64),), {"target": np.array(target, dtype=np.int64), **options}, differs)


_EXTREME = [[1000.0, -1000.0, 0.0], [-INF, 0.0, 1.0], [1e4, 1e4, 1e4], [0.0, 0.0, 0.0]]
CE_EDGES = [
    _ce_case(_EXTREME, [-100, -100, -100, -100]),                      # all ignored: 0 / 0 = NaN, gradient 0
    _ce_case(_EXTREME, [-100, -100, -100, -100], reduction="sum"),     # all ignored: 0
    _ce_case(_EXTREME, [1, 2, 0, 1], ignore_index=1, weight=_W3),      # ignore_index is a class
    _ce_case(_EXTREME, [0, 2, 2, 1], weight=_W3, reduction="none"),    # weight 0 on class 2
    _ce_case(np.zeros((2, 1, 3, 2)), np.zeros((2, 3, 2))),             # one class, per pixel
]

VISION_ROWS: list[Op] = [
    *of(BatchNorm,          # x (N, C, ...), weight and bias (C,)
        Op("F.batch_norm(x,rm,rv,w,b,training=True)", 3, *_BN_TRAIN, batch_norm_shapes(), (DISTINCT, REAL, REAL),
           params=running_statistics, kernels=("batch_norm_forward", "batch_norm_backward"), **_BN_TOL,
           edges=[drawn([(2, 3), (3,), (3,)], running_mean=np.zeros(3), running_var=np.ones(3), momentum=0.1,
                        eps=1e-5),                                                # two values per channel
                  drawn([(3, 2, 2, 2), (2,), (2,)], values=lambda rng, s: np.full(s, 7.0) if len(s) > 1
                        else rng.standard_normal(s), running_mean=np.zeros(2), running_var=np.ones(2),
                        momentum=0.1, eps=1e-5),                                  # a constant channel: var 0
                  drawn([(4, 2, 5), (2,), (2,)], values=lambda rng, s: 100 * (len(s) > 1) + rng.standard_normal(s),
                        running_mean=np.zeros(2), running_var=np.ones(2), momentum=0.5, eps=1e-3)]),
        Op("F.batch_norm(x,None,None,training=True)", 1,
           lambda x, eps: F.batch_norm(x, None, None, training=True, eps=eps),
           lambda x, eps: TF.batch_norm(x, None, None, training=True, eps=eps),
           batch_norm_shapes(affine=False), (DISTINCT,), params=a_batch_norm_eps,
           kernels=("batch_norm_forward", "batch_norm_backward"), **_BN_TOL),
        Op("F.batch_norm(x,rm,rv,w,b) in eval mode", 3, *_BN_EVAL, batch_norm_shapes(), (REAL, REAL, REAL),
           params=running_statistics, kernels=("batch_norm_forward",)),
        lectures=("lecture08", "lecture09")),
    *of(SiLU,
        unary("F.silu(x)", lambda x: F.silu(x), TF.silu, edges=[at(*SATURATING)]),
        kernels=("silu_forward", "silu_backward"), lectures=("lecture04",)),
    *of(CrossEntropy,       # scores with the classes on axis 1: (N, C) and per pixel (N, C, d1, d2)
        Op("F.cross_entropy(z,target) per position", 1,
           lambda z, target: F.cross_entropy(z, _like(z, target)),
           lambda z, target: TF.cross_entropy(z, torch.from_numpy(target)), CLASS_SCORES, params=class_targets),
        Op("F.cross_entropy(z,target,weight,ignore_index,reduction)", 1, *_CE_WEIGHTED, CLASS_SCORES,
           params=weighted_targets, edges=CE_EDGES),
        Op("F.cross_entropy of an image (N,C,H,W)", 1, *_CE_WEIGHTED, PIXEL_SCORES, params=weighted_targets),
        Op("F.cross_entropy(...,label_smoothing)", 1, *_CE_WEIGHTED, CLASS_SCORES, params=smoothed_targets,
           edges=[replace(case, params={**case.params, "label_smoothing": 0.2}) for case in CE_EDGES[2:]]),
        kernels=("cross_entropy_forward", "exp_shifted", "cross_entropy_backward"), lectures=("lecture05",)),
    *of(NegativeLogLikelihood,
        Op("F.nll_loss(a,target)", 1, lambda a, target: F.nll_loss(a, _like(a, target)),
           lambda a, target: TF.nll_loss(a, torch.from_numpy(target)), CLASS_SCORES, params=class_targets),
        Op("F.nll_loss(a,target,weight,ignore_index,reduction)", 1, *_NLL_WEIGHTED, CLASS_SCORES,
           params=weighted_targets,
           edges=[replace(case, arrays=(np.where(np.isinf(case.arrays[0]), -1e4, case.arrays[0]),))
                  for case in CE_EDGES]),
        lectures=("lecture05",)),
    # probability targets: a chain (log_softmax, Mul, Sum), with a weight per class and smoothing
    *others(
        Op("F.cross_entropy(z,probabilities,weight,label_smoothing)", 1,
           lambda z, target, weight, label_smoothing: F.cross_entropy(
               z, _stat(z, target), weight=_stat(z, weight), label_smoothing=label_smoothing),
           lambda z, target, weight, label_smoothing: TF.cross_entropy(
               z, _torch_stat(z, target), weight=_torch_stat(z, weight), label_smoothing=label_smoothing),
           CLASS_SCORES, params=class_probabilities),
        lectures=("lecture05",)),
]
OPS.extend(VISION_ROWS)

# ============================================================================ the window layers (helper G1)
# ConvTranspose2d (the backward of Conv2d), grouped convolutions, max pooling with ceil_mode,
# AvgPool2d, AdaptiveAvgPool2d and interpolation (nearest, nearest-exact, bilinear both ways, area).

from tinygrad_edu.functions import (AdaptiveAvgPool2d, AvgPool2d, ConvTranspose2d,  # noqa: E402
                                    UpsampleBilinear2d, UpsampleNearest2d)

from .inputs import (a_ceil_mode_pool_geometry, a_conv_transpose_geometry, a_grouped_conv_geometry,  # noqa: E402
                     a_grouped_conv_transpose_geometry, a_resize, an_adaptive_output_size, an_avg_pool_geometry,
                     conv_transpose_shapes, grouped_conv_shapes)


def _interpolate(mode: str, **fixed) -> tuple:
    """F.interpolate and torch's, called with a drawn size or scale_factor and the fixed options."""
    def ours(x, **resize):
        return F.interpolate(x, mode=mode, **resize, **fixed)

    def theirs(x, **resize):
        return TF.interpolate(x, mode=mode, **resize, **fixed)
    return ours, theirs


def _resized(shape: tuple, **resize) -> Case:
    """An edge of the interpolate rows: one input of `shape`, a size or a scale_factor."""
    return drawn([shape], **{"size": None, "scale_factor": None, "recompute_scale_factor": None, **resize})


RESIZE_EDGES = [
    _resized((2, 2, 3, 4), scale_factor=2),                 # x2: PyTorch's special case for nearest
    _resized((1, 1, 3, 3), size=(5, 7)),                    # sizes that do not divide
    _resized((1, 2, 4, 5), scale_factor=1.7),               # the formulas use 1 / 1.7, not 4 / 6
    _resized((1, 1, 4, 2), scale_factor=(0.5, 3)),          # down on one axis, up on the other
    _resized((1, 1, 7, 5), size=(2, 3)),                    # shrinking by sizes that do not divide
    _resized((1, 1, 3, 5), scale_factor=1.3),               # 3 -> 3 rows: the identity there
    _resized((1, 1, 1, 1), size=3),                         # one input pixel
    _resized((1, 1, 5, 4), scale_factor=2.5, recompute_scale_factor=True),
]
_NEAREST, _NEAREST_EXACT = _interpolate("nearest"), _interpolate("nearest-exact")
_BILINEAR, _BILINEAR_CORNERS = _interpolate("bilinear"), _interpolate("bilinear", align_corners=True)
_CONV_T = (lambda x, w, b, **geometry: F.conv_transpose2d(x, w, b, **geometry),
           lambda x, w, b, **geometry: TF.conv_transpose2d(x, w, b, **geometry))
_POOL_MAX = (lambda x, **geometry: F.max_pool2d(x, **geometry), lambda x, **geometry: TF.max_pool2d(x, **geometry))
_POOL_AVG = (lambda x, **geometry: F.avg_pool2d(x, **geometry), lambda x, **geometry: TF.avg_pool2d(x, **geometry))
_ADAPTIVE = (lambda x, output_size: F.adaptive_avg_pool2d(x, output_size),
             lambda x, output_size: TF.adaptive_avg_pool2d(x, output_size))
_RESAMPLED = dict(atol=1e-5)        # float32: each gradient sums several products of upstream and weight
_SUMMED = dict(atol=1e-5)           # float32: the bias gradient sums N·H'·W' upstream values, in another order

WINDOW_ROWS: list[Op] = [
    *of(ConvTranspose2d,    # x (N, C_in, H, W), weight (C_in, C_out/groups, kh, kw), bias (C_out,)
        Op("F.conv_transpose2d(x,w,b,stride,padding,output_padding,dilation)", 3, *_CONV_T,
           conv_transpose_shapes(), (REAL, REAL, REAL), params=a_conv_transpose_geometry, **_SUMMED,
           edges=[drawn([(2, 4, 3, 3), (4, 2, 2, 2), (2,)], stride=2),            # the U-Net's x2: stamps side by side
                  drawn([(1, 2, 3, 2), (2, 3, 3, 3), (3,)], stride=2, padding=1, output_padding=1),
                  drawn([(1, 1, 3, 3), (1, 2, 2, 2), (2,)], dilation=3, output_padding=2),  # output_padding >= stride
                  drawn([(1, 1, 2, 3), (1, 1, 1, 1), (1,)], stride=3),             # gaps between the stamps: bias only
                  drawn([(1, 2, 4, 4), (2, 1, 3, 3), (1,)], padding=2),            # padding crops the output
                  drawn([(1, 1, 1, 1), (1, 1, 1, 1), (1,)])]),
        Op("F.conv_transpose2d(x,w)", 2, lambda x, w, **geometry: F.conv_transpose2d(x, w, **geometry),
           lambda x, w, **geometry: TF.conv_transpose2d(x, w, **geometry), conv_transpose_shapes(bias=False),
           (REAL, REAL), params=a_conv_transpose_geometry, **_SUMMED),
        Op("F.conv_transpose2d(x,w,b,groups)", 3, *_CONV_T, grouped_conv_shapes(transposed=True), (REAL, REAL, REAL),
           params=a_grouped_conv_transpose_geometry, **_SUMMED,
           edges=[drawn([(1, 4, 3, 3), (4, 1, 2, 2), (2,)], stride=2, groups=2)]),
        kernels=("im2col", "col2im"), lectures=("lecture09",)),
    *of(Conv2d,
        Op("F.conv2d(x,w,b,groups)", 3, lambda x, w, b, **geometry: F.conv2d(x, w, b, **geometry),
           lambda x, w, b, **geometry: TF.conv2d(x, w, b, **geometry), grouped_conv_shapes(transposed=False),
           (REAL, REAL, REAL), params=a_grouped_conv_geometry, **_SUMMED,
           edges=[drawn([(1, 3, 5, 5), (3, 1, 3, 3), (3,)], padding=1, groups=3)]),   # depthwise
        kernels=("im2col", "col2im"), lectures=("lecture09",)),
    *of(MaxPool2d,
        Op("F.max_pool2d(...,ceil_mode=True)", 1, *_POOL_MAX, IMAGES, (DISTINCT,), params=a_ceil_mode_pool_geometry,
           edges=[drawn([(1, 2, 5, 5)], kernel_size=2, ceil_mode=True),            # a last half window
                  drawn([(1, 1, 6, 7)], kernel_size=3, stride=2, padding=1, ceil_mode=True),
                  drawn([(1, 1, 5, 5)], kernel_size=2, stride=2, padding=1, ceil_mode=True)]),  # last one dropped
        kernels=("max_pool_forward", "max_pool_backward"), lectures=("lecture09",)),
    *of(AvgPool2d,          # x (N, C, H, W)
        Op("F.avg_pool2d(x,kernel_size,stride,padding,ceil_mode,count_include_pad,divisor_override)", 1,
           *_POOL_AVG, IMAGES, params=an_avg_pool_geometry,
           edges=[drawn([(2, 3, 6, 8)], kernel_size=2),                           # windows tile the image
                  drawn([(1, 2, 7, 5)], kernel_size=3),                           # ... and leave a remainder
                  drawn([(1, 1, 7, 5)], kernel_size=3, ceil_mode=True),           # partial windows
                  drawn([(1, 1, 5, 6)], kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
                  drawn([(1, 1, 4, 4)], kernel_size=3, stride=1, padding=1, divisor_override=2),
                  drawn([(1, 1, 5, 5)], kernel_size=2, stride=2, padding=1, ceil_mode=True)]),  # last one dropped
        lectures=("lecture09",)),
    *of(AdaptiveAvgPool2d,
        Op("F.adaptive_avg_pool2d(x,output_size)", 1, *_ADAPTIVE, IMAGES, params=an_adaptive_output_size,
           edges=[drawn([(2, 3, 6, 4)], output_size=1),                           # global average pooling
                  drawn([(1, 2, 6, 8)], output_size=(3, 4)),                      # equal blocks
                  drawn([(1, 1, 5, 7)], output_size=(3, 4)),                      # windows that overlap
                  drawn([(1, 1, 2, 3)], output_size=(5, 7)),                      # larger than the input
                  drawn([(1, 1, 5, 4)], output_size=(None, 3))]),                 # None keeps H
        Op("F.interpolate(x,mode='area')", 1, *_interpolate("area"), IMAGES, params=a_resize, **_RESAMPLED),
        lectures=("lecture09",)),
    *of(UpsampleNearest2d,
        Op("F.interpolate(x,size|scale_factor,mode='nearest')", 1, *_NEAREST, IMAGES, params=a_resize,
           edges=RESIZE_EDGES, **_RESAMPLED),
        Op("F.interpolate(x,size|scale_factor,mode='nearest-exact')", 1, *_NEAREST_EXACT, IMAGES, params=a_resize,
           edges=RESIZE_EDGES, **_RESAMPLED),
        lectures=("lecture09",)),
    *of(UpsampleBilinear2d,
        Op("F.interpolate(x,size|scale_factor,mode='bilinear')", 1, *_BILINEAR, IMAGES, params=a_resize,
           edges=RESIZE_EDGES, **_RESAMPLED),
        Op("F.interpolate(x,size|scale_factor,mode='bilinear',align_corners=True)", 1, *_BILINEAR_CORNERS, IMAGES,
           params=a_resize, edges=RESIZE_EDGES + [_resized((1, 1, 4, 3), size=(1, 5))], **_RESAMPLED),
        lectures=("lecture09",)),
]
OPS.extend(WINDOW_ROWS)

# ============================================================================ the sequence lectures (helper S)
# sin and cos (positional encodings), tril/triu and masked_fill (causal and padding masks), cumsum,
# and topk (the values get the gradient; the indices are compared as integers).

from tinygrad_edu.functions import Cos, CumSum, MaskedFill, Sin, TopK, Tril, Triu  # noqa: E402

from .inputs import (VALUE_AND_SCALAR, a_diagonal, a_fill_mask, a_fill_mask_of_minus_inf,  # noqa: E402
                     a_fill_mask_only, a_top_k, an_axis)

_PERIODIC = (-INF, -100.0, -np.pi, -1.0, -0.0, 0.0, TINY, np.pi / 2, 100.0, INF)
_ABOVE_INF = matrix((1.0, INF, -INF), (-INF, 2.0, INF), (3.0, 4.0, 5.0), diagonal=0)   # inf * 0 must not be nan
_TOPK = (lambda x, k, axis, largest: x.topk(k, axis, largest=largest),
         lambda x, k, axis, largest: x.topk(k, dim=axis, largest=largest))


def _masked(mask_value: bool) -> tuple:
    """x.masked_fill(mask, value) on both sides: the value a number, or (mask_value) a 0-d tensor input."""
    if mask_value:
        return (lambda x, v, mask: x.masked_fill(_like(x, mask), v),
                lambda x, v, mask: x.masked_fill(torch.from_numpy(mask), v))
    return (lambda x, mask, value: x.masked_fill(_like(x, mask), value),
            lambda x, mask, value: x.masked_fill(torch.from_numpy(mask), value))


SEQUENCE_ROWS: list[Op] = [
    *of(Sin,
        unary("x.sin()", lambda x: x.sin(), torch.sin, edges=[at(*_PERIODIC)]),
        lectures=("lecture_rnn",)),
    *of(Cos,
        unary("x.cos()", lambda x: x.cos(), torch.cos, edges=[at(*_PERIODIC)]),
        lectures=("lecture_rnn",)),
    *of(Tril,
        unary("x.tril(diagonal)", lambda x, diagonal: x.tril(diagonal), lambda x, diagonal: x.tril(diagonal),
              shapes=AT_LEAST_2D, params=a_diagonal, edges=[_ABOVE_INF, replace(_ABOVE_INF, params={"diagonal": -1})]),
        unary("x.tril()", lambda x: x.tril(), lambda x: x.tril(), shapes=AT_LEAST_2D),
        lectures=("lecture_rnn",)),
    *of(Triu,
        unary("x.triu(diagonal)", lambda x, diagonal: x.triu(diagonal), lambda x, diagonal: x.triu(diagonal),
              shapes=AT_LEAST_2D, params=a_diagonal, edges=[_ABOVE_INF, replace(_ABOVE_INF, params={"diagonal": 1})]),
        unary("x.triu()", lambda x: x.triu(), lambda x: x.triu(), shapes=AT_LEAST_2D),
        lectures=("lecture_rnn",)),
    *of(MaskedFill,
        unary("x.masked_fill(mask,value)", *_masked(False), params=a_fill_mask,
              edges=[Case((np.array([[1.0, INF], [-INF, np.nan]]),),
                          {"mask": np.array([[True, False], [False, True]]), "value": -INF}),
                     Case((np.array([1.0, 2.0]),), {"mask": np.array([[True], [False]]), "value": 0.0})]),
        # central differences of an output holding -inf are nan: compared with torch only
        unary("x.masked_fill(mask,-inf)", *_masked(False), params=a_fill_mask_of_minus_inf, gradcheck=False),
        lectures=("lecture_rnn",)),
    *of(Where,          # a 0-d tensor as the value: it gets the gradient of every masked position
        Op("x.masked_fill(mask,0-d tensor)", 2, *_masked(True), VALUE_AND_SCALAR, (REAL, REAL),
           params=a_fill_mask_only),
        lectures=("lecture_rnn",)),
    *of(CumSum,
        unary("x.cumsum(axis)", lambda x, axis: x.cumsum(axis), lambda x, axis: x.cumsum(axis), params=an_axis,
              edges=[at(1.0, INF, -INF, 2.0, axis=0), matrix((-0.0, 0.0, 1.0), (1.0, -1.0, 1.0), axis=1)]),
        unary("x.cumsum(dim=)", lambda x, axis: x.cumsum(dim=axis), lambda x, axis: x.cumsum(dim=axis),
              params=an_axis),
        lectures=("lecture_rnn",)),
    *of(TopK,           # distinct values: torch leaves the order of ties unspecified
        unary("x.topk(k,axis,largest).values", lambda *a, **p: _TOPK[0](*a, **p).values,
              lambda *a, **p: _TOPK[1](*a, **p).values, values=DISTINCT, params=a_top_k,
              edges=[at(1.0, np.nan, 3.0, -INF, INF, k=3, axis=0, largest=True),      # NaN counts as the largest
                     at(1.0, np.nan, 3.0, -INF, INF, k=2, axis=0, largest=False),
                     matrix((1.0, 2.0), (4.0, 3.0), k=2, axis=0, largest=True)]),
        unary("x.topk(k,dim=)", lambda x, k, axis, largest: x.topk(k, dim=axis, largest=largest).values,
              lambda x, k, axis, largest: x.topk(k, dim=axis, largest=largest).values, values=DISTINCT,
              params=a_top_k),
        lectures=("lecture_rnn",)),
    *others(
        unary("x.topk(k,axis,largest).indices", lambda *a, **p: _TOPK[0](*a, **p).indices,
              lambda *a, **p: _TOPK[1](*a, **p).indices, values=DISTINCT, params=a_top_k, differentiable=False,
              edges=[at(1.0, np.nan, 3.0, -INF, INF, k=3, axis=0, largest=True),
                     at(1.0, np.nan, 3.0, -INF, INF, k=2, axis=0, largest=False)]),
        lectures=("lecture_rnn",)),
]
OPS.extend(SEQUENCE_ROWS)


# ============================================================================ the sequence lectures (helper NLP)
# Embedding (indices of any shape, with repeats, padding_idx and scale_grad_by_freq), LayerNorm over
# the last one or two axes (with and without γ and β), and scaled_dot_product_attention, a chain of
# ops with no Function of its own, with bool and float masks, is_causal and scale.

from tinygrad_edu.functions import Embedding, LayerNorm  # noqa: E402

TABLES = st.tuples(st.tuples(st.integers(1, 6), st.integers(1, 4)))    # weight (num_embeddings, embedding_dim)


def _table_indices(rng, shapes) -> dict:
    """int64 indices of 0 to 2 axes into the table, with repeats (their gradients add up)."""
    shape = tuple(int(n) for n in rng.integers(1, 5, size=int(rng.integers(0, 3))))
    return {"indices": rng.integers(0, shapes[0][0], size=shape).astype(np.int64)}


def _table_indices_and_options(rng, shapes) -> dict:
    """_table_indices with a padding_idx (a row, or -1: counted from the end) and scale_grad_by_freq."""
    padding = [int(rng.integers(0, shapes[0][0])), -1][int(rng.integers(0, 2))]
    return {**_table_indices(rng, shapes), "padding_idx": padding, "scale_grad_by_freq": bool(rng.random() < 0.5)}


def _lookup(indices, **options) -> dict:
    return {"indices": np.array(indices, dtype=np.int64), **options}


_EMBEDDING = (lambda w, indices, **options: F.embedding(_like(w, indices), w, **options),
              lambda w, indices, **options: TF.embedding(torch.from_numpy(indices), w, **options))


@st.composite
def layer_norm_shapes(draw, affine: bool = True) -> tuple:
    """x (..., *normalized_shape) with one or two normalized axes of at least 3 values, and weight and
    bias of that shape. With fewer, x̂ is 0 or ±1 whatever x is, dL/dx is almost 0, a difference of
    large terms, and float32 rounding of those terms (g / √eps) decides the comparison with torch:
    the edges hold such cases."""
    normalized = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=2).filter(lambda s: np.prod(s) > 2)))
    x = tuple(draw(st.lists(st.integers(1, 3), max_size=2))) + normalized
    return (x, normalized, normalized) if affine else (x,)


def a_normalized_shape(rng, shapes) -> dict:
    """The last one or two axes of x, more where they hold fewer than 3 values (see layer_norm_shapes),
    and an eps."""
    x = shapes[0]
    k = int(rng.integers(1, min(2, len(x)) + 1))
    while k < len(x) and np.prod(x[-k:]) < 3:
        k += 1
    return {"normalized_shape": x[-k:], "eps": float(rng.choice([1e-5, 1e-3]))}


@st.composite
def attention_shapes(draw) -> tuple:
    """query (..., L, E), key (..., S, E), value (..., S, Ev), with 0 to 2 batch axes."""
    batch = tuple(draw(st.lists(st.integers(1, 2), max_size=2)))
    length, keys, features, value_features = (draw(st.integers(1, 4)) for _ in range(4))
    return (batch + (length, features), batch + (keys, features), batch + (keys, value_features))


def an_attention_mask(rng, shapes) -> dict:
    """No mask, a bool mask (True = may attend; every query may attend to some key) of shape (L, S)
    or the scores' own, a float mask (with -inf in places, never a whole row), or is_causal; a scale."""
    query, key, _ = shapes
    scores = tuple(query[:-2]) + (query[-2], key[-2])
    kind = int(rng.integers(0, 5))
    mask = None
    if kind in (1, 2):
        mask = rng.random(scores if kind == 2 else scores[-2:]) < 0.6
        mask[..., rng.integers(0, scores[-1])] = True
    elif kind == 3:
        mask = rng.standard_normal(scores[-2:])
        mask[rng.random(mask.shape) < 0.3] = -INF
        mask[:, 0] = 0.0
    return {"mask": mask, "is_causal": kind == 4, "scale": None if rng.random() < 0.6 else float(rng.uniform(0.1, 2))}


def _mask_of(x, mask, ours: bool):
    """The drawn mask on x's side: None, bool as it is, float in x's dtype."""
    if mask is None:
        return None
    if mask.dtype == np.bool_:
        return _like(x, mask) if ours else torch.from_numpy(mask)
    return _stat(x, mask) if ours else _torch_stat(x, mask)


_SDPA = (lambda q, k, v, mask, is_causal, scale: F.scaled_dot_product_attention(
             q, k, v, attn_mask=_mask_of(q, mask, True), is_causal=is_causal, scale=scale),
         lambda q, k, v, mask, is_causal, scale: TF.scaled_dot_product_attention(
             q, k, v, attn_mask=_mask_of(q, mask, False), is_causal=is_causal, scale=scale))


def _attention_case(length: int, keys: int, mask=None, is_causal=False, scale=None, values=None) -> Case:
    return drawn([(2, length, 3), (2, keys, 3), (2, keys, 2)], values=values, mask=mask, is_causal=is_causal,
                 scale=scale)


_NOBODY = np.array([[True, False, True], [False, False, False]])        # query 1 may attend to no key
_NOBODY_FLOAT = np.where(_NOBODY, 0.0, -INF)

NLP_ROWS: list[Op] = [
    *of(Embedding,          # weight (num_embeddings, embedding_dim); the indices are params
        Op("F.embedding(indices,weight)", 1, *_EMBEDDING, TABLES, params=_table_indices,
           edges=[drawn([(4, 3)], **_lookup([2, 2, 2, 2, 2])),                         # one row, picked 5 times
                  drawn([(4, 3)], **_lookup(np.zeros(0))),                              # no index at all
                  drawn([(4, 3)], **_lookup(1))]),                                      # a 0-d index
        # no gradient for the padding row, and each row's gradient divided by its count: conventions,
        # not the forward's derivative, so no gradcheck
        Op("F.embedding(indices,weight,padding_idx,scale_grad_by_freq)", 1, *_EMBEDDING, TABLES,
           params=_table_indices_and_options, gradcheck=False,
           edges=[drawn([(4, 3)], **_lookup([2, 2, 2, 2, 2], padding_idx=0, scale_grad_by_freq=True)),
                  drawn([(5, 2)], **_lookup([[0, 1], [0, 4]], padding_idx=0, scale_grad_by_freq=True)),
                  drawn([(1, 1)], **_lookup([[0], [0]], padding_idx=-1, scale_grad_by_freq=False))]),   # padding only
        lectures=("lecture_nlp",)),
    *of(LayerNorm,          # x (..., *normalized_shape), weight and bias of normalized_shape
        Op("F.layer_norm(x,normalized_shape,w,b,eps)", 3,
           lambda x, w, b, eps: F.layer_norm(x, w.shape, w, b, eps),
           lambda x, w, b, eps: TF.layer_norm(x, w.shape, w, b, eps),
           layer_norm_shapes(), (DISTINCT, REAL, REAL), params=a_batch_norm_eps, atol=1e-5,
           edges=[drawn([(3, 4), (4,), (4,)], values=lambda rng, s: np.full(s, 7.0) if len(s) > 1 and s[0] == 3
                        else rng.standard_normal(s), eps=1e-5),                          # constant rows: var 0
                  drawn([(2, 5), (5,), (5,)], values=lambda rng, s: 10 * (s == (2, 5)) + rng.standard_normal(s),
                        eps=1e-5),              # away from 0 (far away, torch's float32 is off)
                  drawn([(2, 1), (1,), (1,)], eps=1e-5)]),                              # one value per row
        Op("F.layer_norm(x,normalized_shape)", 1,
           lambda x, normalized_shape, eps: F.layer_norm(x, normalized_shape, eps=eps),
           lambda x, normalized_shape, eps: TF.layer_norm(x, normalized_shape, eps=eps),
           layer_norm_shapes(affine=False), (DISTINCT,), params=a_normalized_shape, atol=1e-5),
        lectures=("lecture_nlp",)),
    *others(
        Op("F.scaled_dot_product_attention(q,k,v,attn_mask,is_causal,scale)", 3, *_SDPA, attention_shapes(),
           (REAL, REAL, REAL), params=an_attention_mask, atol=1e-5,
           edges=[_attention_case(2, 3, mask=_NOBODY),                  # a query that sees no key: 0, as torch
                  _attention_case(2, 3, mask=_NOBODY_FLOAT),
                  _attention_case(4, 2, is_causal=True),                # more queries than keys
                  _attention_case(2, 4, is_causal=True, scale=0.5),     # fewer queries than keys
                  _attention_case(3, 3, values=lambda rng, s: 30 * rng.standard_normal(s))]),   # saturated softmax
        lectures=("lecture_nlp",)),
]
OPS.extend(NLP_ROWS)


# ============================================================================ the recurrent lectures
# The one-node steps and layers of functions/rnn.py against torch's own cells (torch.lstm_cell,
# torch.gru_cell), a layer as the cell looped over time in either direction.

from tinygrad_edu.functions import GRUSequence, GRUStep, LSTMSequence, LSTMStep  # noqa: E402


@st.composite
def recurrent_shapes(draw, gates: int, states: int, sequence: bool = False) -> tuple:
    """x (N, in) or (T, N, in), the states (N, H), w_ih (gates H, in), w_hh (gates H, H), b_ih, b_hh."""
    n, inputs, hidden, steps = (draw(st.integers(1, 3)) for _ in range(4))
    x = (steps, n, inputs) if sequence else (n, inputs)
    return (x, *[(n, hidden)] * states, (gates * hidden, inputs), (gates * hidden, hidden),
            (gates * hidden,), (gates * hidden,))


def a_direction(rng, shapes) -> dict:
    return {"reverse": bool(rng.random() < 0.5)}


def _torch_lstm_sequence(x, h, c, w_ih, w_hh, b_ih, b_hh, reverse):
    outputs = [None] * x.shape[0]
    for t in (reversed(range(x.shape[0])) if reverse else range(x.shape[0])):
        h, c = torch.lstm_cell(x[t], (h, c), w_ih, w_hh, b_ih, b_hh)
        outputs[t] = h
    return torch.stack(outputs + [c])           # h at every step, then the last c, as LSTMSequence packs them


def _torch_gru_sequence(x, h, w_ih, w_hh, b_ih, b_hh, reverse):
    outputs = [None] * x.shape[0]
    for t in (reversed(range(x.shape[0])) if reverse else range(x.shape[0])):
        h = torch.gru_cell(x[t], h, w_ih, w_hh, b_ih, b_hh)
        outputs[t] = h
    return torch.stack(outputs)


RECURRENT_ROWS: list[Op] = [
    *of(LSTMStep,
        Op("LSTMStep(x,h,c,w_ih,w_hh,b_ih,b_hh)", 7, LSTMStep.apply,
           lambda x, h, c, *w: torch.cat(torch.lstm_cell(x, (h, c), *w), dim=-1),
           recurrent_shapes(4, 2), (REAL,) * 7, atol=1e-5), lectures=("lecture_rnn",)),
    *of(LSTMSequence,
        Op("LSTMSequence(x,h0,c0,w_ih,w_hh,b_ih,b_hh,reverse)", 7, LSTMSequence.apply, _torch_lstm_sequence,
           recurrent_shapes(4, 2, sequence=True), (REAL,) * 7, params=a_direction, atol=1e-5),
        lectures=("lecture_rnn",)),
    *of(GRUStep,
        Op("GRUStep(x,h,w_ih,w_hh,b_ih,b_hh)", 6, GRUStep.apply, torch.gru_cell,
           recurrent_shapes(3, 1), (REAL,) * 6, atol=1e-5), lectures=("lecture_rnn",)),
    *of(GRUSequence,
        Op("GRUSequence(x,h0,w_ih,w_hh,b_ih,b_hh,reverse)", 6, GRUSequence.apply, _torch_gru_sequence,
           recurrent_shapes(3, 1, sequence=True), (REAL,) * 6, params=a_direction, atol=1e-5),
        lectures=("lecture_rnn",)),
]
OPS.extend(RECURRENT_ROWS)


# ============================================================================ the graph lectures
# scatter_add and index_add, the sums over a node's incoming edges in a GCN's message passing:
# indices with repeats (their values add up), along every axis, and an axis longer than self's.

from tinygrad_edu.functions import IndexAdd, ScatterAdd  # noqa: E402


@st.composite
def scatter_shapes(draw) -> tuple:
    """self (1 to 3 axes of 1..4) and src, which may be longer than self along one axis (the one
    the index scatters along) and is no longer along the others."""
    target = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    axis = draw(st.integers(0, len(target) - 1))
    return target, tuple(draw(st.integers(1, 5) if d == axis else st.integers(1, n)) for d, n in enumerate(target))


@st.composite
def index_add_shapes(draw) -> tuple:
    """self (1 to 3 axes of 1..4) and source, self's shape with one axis of 1..5 slices."""
    target = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    axis = draw(st.integers(0, len(target) - 1))
    return target, tuple(draw(st.integers(1, 5)) if d == axis else n for d, n in enumerate(target))


def _an_axis_that_fits(rng, target: tuple, src: tuple, fits) -> int:
    axes = [d for d in range(len(target)) if all(fits(target[e], src[e]) for e in range(len(target)) if e != d)]
    return int(rng.choice(axes))


def a_scatter_index(rng, shapes) -> dict:
    """An axis along which src fits, and an int64 index of src's shape into self's axis (repeats likely:
    torch's backward needs the index to have src's shape; smaller ones are in test_scatter_envs.py)."""
    target, src = shapes
    axis = _an_axis_that_fits(rng, target, src, lambda t, s: s <= t)
    return {"axis": axis, "index": rng.integers(0, target[axis], size=src).astype(np.int64)}


def an_index_vector(rng, shapes) -> dict:
    """An axis along which source has self's shape elsewhere, one int64 index per slice, and an alpha."""
    target, source = shapes
    axis = _an_axis_that_fits(rng, target, source, lambda t, s: s == t)
    return {"axis": axis, "index": rng.integers(0, target[axis], size=source[axis]).astype(np.int64),
            "alpha": float(rng.choice([1.0, 2.5, -0.5]))}


def _scattered(shapes: tuple, axis: int, index, **params) -> Case:
    return drawn(shapes, axis=axis, index=np.array(index, dtype=np.int64), **params)


_SCATTER_ADD = (lambda x, src, axis, index: x.scatter_add(axis, _like(x, index), src),
                lambda x, src, axis, index: x.scatter_add(axis, torch.from_numpy(index), src))
_INDEX_ADD = (lambda x, source, axis, index, alpha: x.index_add(axis, _like(x, index), source, alpha=alpha),
              lambda x, source, axis, index, alpha: x.index_add(axis, torch.from_numpy(index), source, alpha=alpha))

GRAPH_ROWS: list[Op] = [
    *of(ScatterAdd,         # self, src; the index (src's shape) is a param
        Op("x.scatter_add(axis,index,src)", 2, *_SCATTER_ADD, scatter_shapes(), params=a_scatter_index,
           values=(REAL, REAL),
           edges=[_scattered([(3, 4), (2, 4)], 0, [[0, 0, 0, 0], [0, 0, 0, 0]]),        # every value into row 0
                  _scattered([(2, 3), (2, 5)], 1, [[0, 0, 2, 2, 2], [1, 1, 1, 1, 1]]),  # longer than self's axis
                  _scattered([(2, 2), (0, 2)], 0, np.zeros((0, 2))),                    # no index at all
                  Case((np.array(2.0), np.array(3.0)), {"axis": 0, "index": np.array(0)}),   # 0-d, as torch
                  Case((np.array([-INF, 0.0, 1.0]), np.array([INF, 1.0, -INF, TINY])),
                       {"axis": 0, "index": np.array([0, 1, 1, 2])})]),                  # inf - inf is nan
        Op("x.scatter_add(dim=,index=,src=)", 2,
           lambda x, src, axis, index: x.scatter_add(dim=axis, index=_like(x, index), src=src),
           lambda x, src, axis, index: x.scatter_add(dim=axis, index=torch.from_numpy(index), src=src),
           scatter_shapes(), params=a_scatter_index, values=(REAL, REAL)),
        lectures=("lecture_graphs",)),
    *of(IndexAdd,           # self, source; the index (a vector) and alpha are params
        Op("x.index_add(axis,index,source,alpha)", 2, *_INDEX_ADD, index_add_shapes(), params=an_index_vector,
           values=(REAL, REAL),
           edges=[_scattered([(3, 2), (5, 2)], 0, [2, 2, 0, 2, 2], alpha=1.0),           # repeats add up
                  _scattered([(2, 3), (2, 4)], 1, [1, 1, 1, 1], alpha=-2.0),
                  _scattered([(3, 2), (1, 2)], 0, 1, alpha=1.0),                        # a 0-d index
                  _scattered([(3, 2), (0, 2)], 0, np.zeros(0), alpha=1.0),              # no index at all
                  Case((np.array([[-INF], [0.0]]), np.array([[INF], [INF], [-1.0]])),
                       {"axis": 0, "index": np.array([0, 1, 1]), "alpha": 1.0})]),
        Op("x.index_add(dim=,index=,source=)", 2,
           lambda x, source, axis, index, alpha: x.index_add(dim=axis, index=_like(x, index), source=source),
           lambda x, source, axis, index, alpha: x.index_add(dim=axis, index=torch.from_numpy(index), source=source),
           index_add_shapes(), params=an_index_vector, values=(REAL, REAL)),
        lectures=("lecture_graphs",)),
]
OPS.extend(GRAPH_ROWS)

OPS_BY_NAME = {op.name: op for op in OPS}
