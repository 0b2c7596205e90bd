"""The op table: one row per operation, read by the reference tests and the gradchecks.

Each row says, for one operation of the public API:

    name            what the test id shows (written like the call, e.g. "x.sum(axis)")
    arity           how many float inputs it takes (each one gets a gradient)
    ours / theirs   the call on tinygrad_edu Tensors / on torch tensors, as
                    f(*inputs, **params); the two lambdas sit side by side so the
                    difference between the two APIs is visible in one line
    shapes          a hypothesis strategy that draws one shape per input
    values          the input domain: one sampler per input, e.g. POSITIVE for log
    params          extra arguments drawn for the shapes (an axis, an index, a mask)
    differentiable  False for ops with no gradient (argmax, comparisons)
    gradcheck       False where the samples sit on a kink on purpose (ties, x = 0)
    broadcasts      True for binary elementwise ops: the tests also run them in both
                    operand orders and on the hand-picked EDGE_PAIRS of shapes
    rtol / atol     float32 tolerances against torch (float64 uses rtol64 / atol64)

To find what is checked for an op, search this file for its name. To add an op, add a
row: tests/reference/test_ops_vs_torch.py and tests/test_gradcheck_ops.py pick it up.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as TF
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_edu
from tinygrad_edu import Tensor
from tinygrad_edu.functions import CrossEntropy

Sampler = Callable[[np.random.Generator, tuple], np.ndarray]
Params = Callable[[np.random.Generator, tuple], dict]


# ============================================================================ input domains
# A sampler returns float64 values of the given shape; the tests cast them to the dtype
# under test. Domains keep every sample at least 0.1 away from the points where an op
# has no derivative, so gradients are well defined and central differences are exact
# enough; the "ties" and "at the kink" rows go there on purpose.

def uniform(low: float, high: float) -> Sampler:
    """Uniform on [low, high)."""
    return lambda rng, shape: np.asarray(rng.uniform(low, high, shape))


def away_from(*kinks: float, gap: float = 0.1, low: float = -2.0, high: float = 2.0) -> Sampler:
    """Uniform on [low, high), redrawn wherever a value falls within `gap` of a kink."""
    def sample(rng: np.random.Generator, shape: tuple) -> np.ndarray:
        x = np.asarray(rng.uniform(low, high, shape))
        while True:
            near = np.zeros(x.shape, dtype=bool)
            for k in kinks:
                near |= np.abs(x - k) < gap
            if not near.any():
                return x
            x[near] = rng.uniform(low, high, int(near.sum()))
    return sample


def distinct(offset: float = 0.0) -> Sampler:
    """Shuffled points of the grid 0.1·k + 0.025 + offset: no two values are equal (no ties
    for max/min/argmax), none is within 0.025 of zero. Offsets 0 and 0.05 give two inputs
    that never tie with each other either (for maximum/minimum)."""
    def sample(rng: np.random.Generator, shape: tuple) -> np.ndarray:
        n = math.prod(shape)
        half = max(n, 20)
        k = rng.choice(np.arange(-half, half), size=n, replace=False)
        return (k * 0.1 + 0.025 + offset).reshape(shape)
    return sample


def one_of(*choices: float) -> Sampler:
    """Values drawn from a few numbers: ties and exact kinks happen often."""
    return lambda rng, shape: np.asarray(rng.choice(np.array(choices, dtype=np.float64), size=shape))


REAL = uniform(-2.0, 2.0)
WIDE = uniform(-60.0, 60.0)             # far beyond where a naive exp() would over/underflow in float32
POSITIVE = uniform(0.5, 2.0)            # log, sqrt, the base of a power
NONZERO = away_from(0.0, gap=0.5)       # a divisor: |x| >= 0.5
AWAY_FROM_ZERO = away_from(0.0)         # relu, abs, leaky_relu, elu, x[x > 0]
DISTINCT = distinct()
TIES = one_of(-1.0, 0.0, 1.0)


# ============================================================================ shapes
# Shapes have up to 3 axes of size 1..3: 0-d tensors and size-1 axes come up often.

def shape(min_dims: int = 0, max_dims: int = 3, max_side: int = 3) -> st.SearchStrategy:
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=max_side)


ANY = st.tuples(shape())                              # one input, 0-d to 3-d
AT_LEAST_1D = st.tuples(shape(min_dims=1))
AT_LEAST_2D = st.tuples(shape(min_dims=2))
# var/std with correction=1 need two or more elements in what they reduce
SPREAD = st.tuples(shape(min_dims=1, max_side=4).filter(lambda s: max(s) >= 2))
# Two shapes that broadcast together: size-1 axes and different ranks (0-d included).
PAIR = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3).map(
    lambda drawn: drawn.input_shapes)

# Hand-picked broadcasting cases every binary op runs on, in both operand orders.
EDGE_PAIRS = [
    ((), ()),               # two 0-d tensors
    ((), (2, 3)),           # 0-d against a matrix
    ((1,), (3, 1, 2)),      # a size-1 vector against rank 3
    ((3, 1), (1, 4)),       # both sides grow
    ((2, 1, 3), (4, 1)),    # rank mismatch and size-1 axes on both sides
    ((1, 1), (1,)),         # nothing but size-1 axes
    ((2, 3, 4), (3, 1)),    # the smaller one is summed over two axes in backward
    ((3,), (3,)),           # equal shapes
]


@st.composite
def cat_shapes(draw, count: int) -> tuple:
    """`count` shapes equal except along one axis, where each has its own size."""
    base = draw(shape(min_dims=1))
    axis = draw(st.integers(0, len(base) - 1))
    return tuple(base[:axis] + (draw(st.integers(1, 3)),) + base[axis + 1:] for _ in range(count))


def same_shapes(count: int) -> st.SearchStrategy:
    return shape().map(lambda s: (s,) * count)


@st.composite
def matmul_shapes(draw, left: str, right: str) -> tuple:
    """Shapes for a @ b where each side is a "vector" (k,), a "matrix" (n, k) / (k, m), or a
    "batch" of matrices whose leading axes broadcast against the other side's."""
    n, k, m = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    batch_a, batch_b = draw(hnp.mutually_broadcastable_shapes(
        num_shapes=2, min_dims=1, max_dims=2, max_side=3)).input_shapes
    a = {"vector": (k,), "matrix": (n, k), "batch": batch_a + (n, k)}[left]
    b = {"vector": (k,), "matrix": (k, m), "batch": batch_b + (k, m)}[right]
    return a, b


CROSS_ENTROPY_SHAPES = st.tuples(st.integers(1, 4), st.integers(2, 4)).map(lambda nc: (nc,))  # (N, C)


# ============================================================================ params
# Drawn from the same seeded generator as the values, after the shapes are known.

def no_params(rng: np.random.Generator, shapes: tuple) -> dict:
    return {}


def _axis(rng: np.random.Generator, ndim: int) -> int:
    """One valid axis of an ndim-d tensor, negative half of the time (0 or -1 for 0-d)."""
    n = max(ndim, 1)
    a = int(rng.integers(0, n))
    return a - n if rng.random() < 0.5 else a


def _axes(rng: np.random.Generator, ndim: int) -> Any:
    """An int axis, or a tuple of one or more distinct axes."""
    if rng.random() < 0.5:
        return _axis(rng, ndim)
    n = max(ndim, 1)
    chosen = rng.choice(n, size=int(rng.integers(1, n + 1)), replace=False)
    return tuple(int(a) - n if rng.random() < 0.5 else int(a) for a in chosen)


def one_axis(rng, shapes) -> dict:
    return {"axis": _axis(rng, len(shapes[0])), "keep": bool(rng.random() < 0.5)}


def some_axes(rng, shapes) -> dict:
    return {"axis": _axes(rng, len(shapes[0])), "keep": bool(rng.random() < 0.5)}


def axes_over_two_or_more(rng, shapes) -> dict:
    """Axes whose sizes multiply to 2 or more, so that var/std with correction=1 are finite."""
    s = shapes[0]
    while True:
        params = some_axes(rng, shapes)
        axes = params["axis"] if isinstance(params["axis"], tuple) else (params["axis"],)
        if math.prod(s[a] for a in axes) >= 2:
            return params


def _bools(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    return np.asarray(rng.random(shape) < 0.5)


def _partner(rng: np.random.Generator, shape: tuple) -> tuple:
    """A shape that broadcasts against `shape`: leading axes dropped, some axes set to 1,
    and now and then one new leading axis, so the result is larger than either input."""
    dropped = int(rng.integers(0, len(shape) + 1))
    partner = tuple(1 if rng.random() < 0.3 else s for s in shape[dropped:])
    return ((2,) + partner) if dropped == 0 and rng.random() < 0.2 else partner


def a_condition(rng, shapes) -> dict:
    """A bool condition for where() that broadcasts against all the inputs."""
    return {"cond": _bools(rng, _partner(rng, np.broadcast_shapes(*shapes)))}


def _prime_factors(n: int) -> list:
    factors, p = [], 2
    while n > 1:
        while n % p == 0:
            factors.append(p)
            n //= p
        p += 1
    return factors


def a_new_shape(rng, shapes) -> dict:
    """A different shape with the same number of elements; sometimes with 1s and one -1."""
    factors = _prime_factors(math.prod(shapes[0]))
    rng.shuffle(factors)
    cuts = sorted(rng.choice(np.arange(1, len(factors)), size=int(rng.integers(0, len(factors))),
                             replace=False)) if len(factors) > 1 else []
    target = [math.prod(group) for group in np.split(np.array(factors, dtype=np.int64), cuts)
              if len(group)] if factors else []
    for _ in range(int(rng.integers(0, 3))):
        target.insert(int(rng.integers(0, len(target) + 1)), 1)
    if target and rng.random() < 0.3:
        target[int(rng.integers(0, len(target)))] = -1
    return {"shape": tuple(int(s) for s in target)}


def a_new_shape_as_ints(rng, shapes) -> dict:
    """Like a_new_shape, with at least one size: reshape(*shape) needs one argument or more."""
    target = a_new_shape(rng, shapes)["shape"]
    return {"shape": target or (1,)}


def a_wider_shape(rng, shapes) -> dict:
    """A shape to expand() to: size-1 axes grown, maybe one new leading axis, -1 for 'keep'."""
    lead = (int(rng.integers(1, 4)),) if rng.random() < 0.5 else ()
    body = tuple(int(rng.integers(1, 4)) if s == 1 else (-1 if rng.random() < 0.3 else s) for s in shapes[0])
    return {"shape": lead + body}


def two_axes(rng, shapes) -> dict:
    n = len(shapes[0])
    return {"dim0": _axis(rng, n), "dim1": _axis(rng, n)}


def an_order(rng, shapes) -> dict:
    n = len(shapes[0])
    return {"dims": tuple(int(d) - n if rng.random() < 0.3 else int(d) for d in rng.permutation(n))}


def a_new_axis(rng, shapes) -> dict:
    n = len(shapes[0]) + 1
    return {"dim": int(rng.integers(-n, n))}


def start_and_end(rng, shapes) -> dict:
    n = len(shapes[0])
    start = int(rng.integers(0, n))
    end = int(rng.integers(start, n))
    return {"start": start - n if rng.random() < 0.5 else start, "end": end - n if rng.random() < 0.5 else end}


def cat_axis(rng, shapes) -> dict:
    """An axis along which the drawn shapes can be joined (all other sizes agree)."""
    n = len(shapes[0])
    fits = [a for a in range(n) if all(s[:a] + s[a + 1:] == shapes[0][:a] + shapes[0][a + 1:] for s in shapes)]
    a = int(rng.choice(fits))
    return {"axis": a - n if rng.random() < 0.5 else a}


def stack_axis(rng, shapes) -> dict:
    n = len(shapes[0]) + 1
    return {"axis": int(rng.integers(-n, n))}


def a_padding(rng, shapes) -> dict:
    """PyTorch's flat pad tuple, last axis first: (left, right, top, bottom, ...)."""
    pairs = int(rng.integers(1, len(shapes[0]) + 1))
    return {"pad": tuple(int(p) for p in rng.integers(0, 3, size=2 * pairs)),
            "value": float(rng.choice([0.0, 1.5, -2.0]))}


def cross_entropy_target(rng, shapes) -> dict:
    n, c = shapes[0]
    return {"target": rng.integers(0, c, size=n).astype(np.int64)}


# ---- indices for __getitem__: `index` is what goes between the brackets. NumPy arrays in it
# become Tensors on our side (bool or int64) and torch tensors on torch's side.

def an_int(rng, shapes) -> dict:
    s = shapes[0][0]
    return {"index": int(rng.integers(-s, s))}


def _slice(rng: np.random.Generator, size: int) -> slice:
    def bound():
        return None if rng.random() < 0.3 else int(rng.integers(-size - 1, size + 2))
    return slice(bound(), bound(), int(rng.choice([1, 2])) if rng.random() < 0.5 else None)


def some_slices(rng, shapes) -> dict:
    s = shapes[0]
    return {"index": tuple(_slice(rng, size) for size in s[:int(rng.integers(1, len(s) + 1))])}


def none_and_ellipsis(rng, shapes) -> dict:
    s = shapes[0]
    patterns = [(None, Ellipsis), (Ellipsis, None), (None, Ellipsis, None)]
    if s:
        last = int(rng.integers(-s[-1], s[-1]))
        patterns += [(Ellipsis, last), (int(rng.integers(-s[0], s[0])), None, Ellipsis),
                     (None, slice(None, None, 2), Ellipsis, None)]
    return {"index": patterns[int(rng.integers(0, len(patterns)))]}


def _repeating(rng: np.random.Generator, size: int, count: int) -> np.ndarray:
    """`count` (>= 2) indices into an axis of `size`, negative ones included, the first one repeated."""
    idx = rng.integers(-size, size, size=count)
    idx[-1] = idx[0]
    return idx.astype(np.int64)


def repeated_ints(rng, shapes) -> dict:
    s0 = shapes[0][0]
    idx = _repeating(rng, s0, 4)
    return {"index": idx.reshape(2, 2) if rng.random() < 0.3 else idx}


def repeated_ints_as_list(rng, shapes) -> dict:
    return {"index": [int(i) for i in _repeating(rng, shapes[0][0], 3)]}


def two_int_arrays(rng, shapes) -> dict:
    s = shapes[0]
    return {"index": (_repeating(rng, s[0], 3), _repeating(rng, s[1], 3))}


def slice_then_ints(rng, shapes) -> dict:
    return {"index": (slice(None), _repeating(rng, shapes[0][1], 3))}


def a_mask(rng, shapes) -> dict:
    """A bool mask of the tensor's own shape."""
    return {"index": _bools(rng, shapes[0])}


def a_row_mask(rng, shapes) -> dict:
    """A bool mask over axis 0 only: picks whole rows."""
    return {"index": _bools(rng, shapes[0][:1])}


def _ours_index(x: Tensor, index: Any) -> Any:
    def convert(p):
        return Tensor(p, device=x.device) if isinstance(p, np.ndarray) else p
    return tuple(convert(p) for p in index) if isinstance(index, tuple) else convert(index)


def _torch_index(index: Any) -> Any:
    def convert(p):
        return torch.from_numpy(p) if isinstance(p, np.ndarray) else p
    return tuple(convert(p) for p in index) if isinstance(index, tuple) else convert(index)


def ours_getitem(x: Tensor, index: Any) -> Tensor:
    return x[_ours_index(x, index)]


def theirs_getitem(x: torch.Tensor, index: Any) -> torch.Tensor:
    return x[_torch_index(index)]


def _like(x: Tensor, array: np.ndarray) -> Tensor:
    """A constant (a condition, a target) on the same device as x."""
    return Tensor(array, device=x.device)


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
    differentiable: bool = True
    gradcheck: bool = True
    broadcasts: bool = False
    rtol: float = 1e-5
    atol: float = 1e-6
    rtol64: float = 1e-10
    atol64: float = 1e-12

    def sample(self, rng: np.random.Generator, shapes: tuple) -> tuple[list, dict]:
        """The inputs (float64 NumPy arrays, one per shape) and the params of one case."""
        assert len(shapes) == self.arity == len(self.values), f"{self.name}: arity, shapes and values disagree"
        arrays = [np.asarray(sampler(rng, s), dtype=np.float64).reshape(s) for sampler, s in zip(self.values, shapes)]
        return arrays, self.params(rng, shapes)

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"Op({self.name!r})"


def unary(name, ours, theirs, values=REAL, shapes=ANY, **options) -> Op:
    return Op(name, 1, ours, theirs, shapes, (values,), **options)


def binary(name, ours, theirs, values=(REAL, REAL), **options) -> Op:
    """A binary elementwise op with NumPy broadcasting."""
    return Op(name, 2, ours, theirs, PAIR, values, broadcasts=True, **options)


def _reversed_axes(x: torch.Tensor) -> torch.Tensor:
    """What .T means for any rank; torch's own x.T is deprecated for ndim != 2."""
    return x.permute(tuple(range(x.ndim - 1, -1, -1)))


F64 = "float64"
F32 = "float32"

# ============================================================================ THE TABLE

OPS: list[Op] = [
    # ---------------------------------------------------------------- arithmetic, broadcasting
    binary("x+y", lambda x, y: x + y, lambda x, y: x + y),
    binary("x-y", lambda x, y: x - y, lambda x, y: x - y),
    binary("x*y", lambda x, y: x * y, lambda x, y: x * y),
    binary("x/y", lambda x, y: x / y, lambda x, y: x / y, values=(REAL, NONZERO)),
    binary("x**y", lambda x, y: x ** y, lambda x, y: x ** y, values=(POSITIVE, REAL)),
    binary("x.maximum(y)", lambda x, y: x.maximum(y), torch.maximum, values=(DISTINCT, distinct(0.05))),
    binary("x.minimum(y)", lambda x, y: x.minimum(y), torch.minimum, values=(DISTINCT, distinct(0.05))),
    binary("x.maximum(y) with ties", lambda x, y: x.maximum(y), torch.maximum, values=(TIES, TIES),
           gradcheck=False),    # a tie splits the gradient in half, as torch does
    binary("x.minimum(y) with ties", lambda x, y: x.minimum(y), torch.minimum, values=(TIES, TIES),
           gradcheck=False),
    binary("where(cond,x,y)",
           lambda x, y, cond: tinygrad_edu.where(_like(x, cond), x, y),
           lambda x, y, cond: torch.where(torch.from_numpy(cond), x, y), params=a_condition),
    binary("x.where(cond,y)",
           lambda x, y, cond: x.where(_like(x, cond), y),
           lambda x, y, cond: x.where(torch.from_numpy(cond), y), params=a_condition),
    # comparisons: bool results, no gradient
    binary("x<y", lambda x, y: x < y, lambda x, y: x < y, values=(TIES, TIES), differentiable=False),
    binary("x<=y", lambda x, y: x <= y, lambda x, y: x <= y, values=(TIES, TIES), differentiable=False),
    binary("x>y", lambda x, y: x > y, lambda x, y: x > y, values=(TIES, TIES), differentiable=False),
    binary("x>=y", lambda x, y: x >= y, lambda x, y: x >= y, values=(TIES, TIES), differentiable=False),
    binary("x==y", lambda x, y: x == y, lambda x, y: x == y, values=(TIES, TIES), differentiable=False),
    binary("x!=y", lambda x, y: x != y, lambda x, y: x != y, values=(TIES, TIES), differentiable=False),

    # ---------------------------------------------------------------- with a Python number
    unary("x+2", lambda x: x + 2, lambda x: x + 2),
    unary("2+x", lambda x: 2 + x, lambda x: 2 + x),
    unary("x-2.5", lambda x: x - 2.5, lambda x: x - 2.5),
    unary("2.5-x", lambda x: 2.5 - x, lambda x: 2.5 - x),
    unary("x*2", lambda x: x * 2, lambda x: x * 2),
    unary("2.5*x", lambda x: 2.5 * x, lambda x: 2.5 * x),
    unary("x/2", lambda x: x / 2, lambda x: x / 2),
    unary("2/x", lambda x: 2 / x, lambda x: 2 / x, values=NONZERO),
    unary("x**2", lambda x: x ** 2, lambda x: x ** 2),
    unary("x**3", lambda x: x ** 3, lambda x: x ** 3),
    unary("x**0.5", lambda x: x ** 0.5, lambda x: x ** 0.5, values=POSITIVE),
    unary("x**-1", lambda x: x ** -1, lambda x: x ** -1, values=NONZERO),
    unary("2**x", lambda x: 2 ** x, lambda x: 2 ** x),
    unary("-x", lambda x: -x, lambda x: -x),
    unary("x.where(cond,0.0)", lambda x, cond: x.where(_like(x, cond), 0.0),
          lambda x, cond: x.where(torch.from_numpy(cond), 0.0), params=a_condition),

    # ---------------------------------------------------------------- elementwise functions
    unary("x.exp()", lambda x: x.exp(), torch.exp),
    unary("x.log()", lambda x: x.log(), torch.log, values=POSITIVE),
    unary("x.sqrt()", lambda x: x.sqrt(), torch.sqrt, values=POSITIVE),
    unary("x.abs()", lambda x: x.abs(), torch.abs, values=AWAY_FROM_ZERO),
    unary("x.tanh()", lambda x: x.tanh(), torch.tanh),
    unary("x.sigmoid()", lambda x: x.sigmoid(), torch.sigmoid),
    unary("x.sigmoid() of large |x|", lambda x: x.sigmoid(), torch.sigmoid, values=WIDE),
    unary("x.relu()", lambda x: x.relu(), torch.relu, values=AWAY_FROM_ZERO),
    unary("x.leaky_relu()", lambda x: x.leaky_relu(), TF.leaky_relu, values=AWAY_FROM_ZERO),
    unary("x.leaky_relu(0.2)", lambda x: x.leaky_relu(negative_slope=0.2),
          lambda x: TF.leaky_relu(x, negative_slope=0.2), values=AWAY_FROM_ZERO),
    unary("x.elu()", lambda x: x.elu(), TF.elu, values=AWAY_FROM_ZERO),
    unary("x.elu(0.5)", lambda x: x.elu(alpha=0.5), lambda x: TF.elu(x, alpha=0.5), values=AWAY_FROM_ZERO),
    unary("x.gelu()", lambda x: x.gelu(), TF.gelu),
    unary("x.gelu('tanh')", lambda x: x.gelu(approximate="tanh"), lambda x: TF.gelu(x, approximate="tanh")),
    unary("x.softplus()", lambda x: x.softplus(), TF.softplus),
    unary("x.softplus() of large |x|", lambda x: x.softplus(), TF.softplus,
          values=away_from(20.0, low=-60.0, high=60.0)),    # torch returns x itself above 20
    unary("x.softsign()", lambda x: x.softsign(), TF.softsign),
    unary("x.clip(-0.5,0.5)", lambda x: x.clip(-0.5, 0.5), lambda x: torch.clamp(x, -0.5, 0.5),
          values=away_from(-0.5, 0.5)),
    unary("x.clip(min=0.3)", lambda x: x.clip(min=0.3), lambda x: torch.clamp(x, min=0.3),
          values=away_from(0.3)),
    unary("x.clip(max=-0.3)", lambda x: x.clip(max=-0.3), lambda x: torch.clamp(x, max=-0.3),
          values=away_from(-0.3)),
    # exactly at the kink, torch's one-sided choices: relu'(0) = 0, |x|'(0) = 0,
    # leaky_relu'(0) = slope, elu'(0) = alpha, clamp passes the gradient at the bounds
    unary("x.relu() at 0", lambda x: x.relu(), torch.relu, values=TIES, gradcheck=False),
    unary("x.abs() at 0", lambda x: x.abs(), torch.abs, values=TIES, gradcheck=False),
    unary("x.leaky_relu(0.2) at 0", lambda x: x.leaky_relu(negative_slope=0.2),
          lambda x: TF.leaky_relu(x, negative_slope=0.2), values=TIES, gradcheck=False),
    unary("x.elu(0.5) at 0", lambda x: x.elu(alpha=0.5), lambda x: TF.elu(x, alpha=0.5),
          values=TIES, gradcheck=False),
    unary("x.clip(-0.5,0.5) at the bounds", lambda x: x.clip(-0.5, 0.5), lambda x: torch.clamp(x, -0.5, 0.5),
          values=one_of(-1.0, -0.5, 0.0, 0.5, 1.0), gradcheck=False),

    # ---------------------------------------------------------------- reductions
    # `axis` is an int or a tuple of ints (negative ones too); `keep` is keepdims.
    unary("x.sum()", lambda x: x.sum(), lambda x: x.sum()),
    unary("x.sum(axis)", lambda x, axis, keep: x.sum(axis),
          lambda x, axis, keep: x.sum(dim=axis), params=some_axes),
    unary("x.sum(axis,keepdims=True)", lambda x, axis, keep: x.sum(axis=axis, keepdims=True),
          lambda x, axis, keep: x.sum(dim=axis, keepdim=True), params=some_axes),
    unary("x.sum(dim=,keepdim=)", lambda x, axis, keep: x.sum(dim=axis, keepdim=keep),
          lambda x, axis, keep: x.sum(dim=axis, keepdim=keep), params=some_axes),
    unary("x.mean()", lambda x: x.mean(), lambda x: x.mean()),
    unary("x.mean(axis)", lambda x, axis, keep: x.mean(axis),
          lambda x, axis, keep: x.mean(dim=axis), params=some_axes),
    unary("x.mean(axis,keepdims=True)", lambda x, axis, keep: x.mean(axis=axis, keepdims=True),
          lambda x, axis, keep: x.mean(dim=axis, keepdim=True), params=some_axes),
    unary("x.mean(dim=,keepdim=)", lambda x, axis, keep: x.mean(dim=axis, keepdim=keep),
          lambda x, axis, keep: x.mean(dim=axis, keepdim=keep), params=some_axes),
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
    unary("x.max() with ties", lambda x: x.max(), lambda x: x.max(), values=TIES, gradcheck=False),
    unary("x.max(axis) with ties", lambda x, axis, keep: x.max(axis),
          lambda x, axis, keep: x.max(dim=axis).values, values=TIES, params=one_axis, gradcheck=False),
    unary("x.min()", lambda x: x.min(), lambda x: x.min(), values=DISTINCT),
    unary("x.min(axis)", lambda x, axis, keep: x.min(axis),
          lambda x, axis, keep: x.min(dim=axis).values, values=DISTINCT, params=one_axis),
    unary("x.min(axis,keepdims=True)", lambda x, axis, keep: x.min(axis=axis, keepdims=True),
          lambda x, axis, keep: x.min(dim=axis, keepdim=True).values, values=DISTINCT, params=one_axis),
    unary("x.min(dim=,keepdim=)", lambda x, axis, keep: x.min(dim=axis, keepdim=keep),
          lambda x, axis, keep: x.min(dim=axis, keepdim=keep).values, values=DISTINCT, params=one_axis),
    unary("x.min(axes)", lambda x, axis, keep: x.min(axis=axis, keepdims=keep),
          lambda x, axis, keep: x.amin(dim=axis, keepdim=keep), values=DISTINCT, params=some_axes),
    unary("x.min() with ties", lambda x: x.min(), lambda x: x.min(), values=TIES, gradcheck=False),
    unary("x.min(axis) with ties", lambda x, axis, keep: x.min(axis),
          lambda x, axis, keep: x.min(dim=axis).values, values=TIES, params=one_axis, gradcheck=False),
    # var/std: correction=1 (unbiased) by default, as in torch
    unary("x.var()", lambda x: x.var(), lambda x: x.var(), shapes=SPREAD),
    unary("x.var(axis)", lambda x, axis, keep: x.var(axis),
          lambda x, axis, keep: x.var(dim=axis), shapes=SPREAD, params=axes_over_two_or_more),
    unary("x.var(axis,correction=0)", lambda x, axis, keep: x.var(axis, correction=0),
          lambda x, axis, keep: x.var(dim=axis, correction=0), params=some_axes),
    unary("x.var(axis,correction=1,keepdims=True)",
          lambda x, axis, keep: x.var(axis=axis, correction=1, keepdims=True),
          lambda x, axis, keep: x.var(dim=axis, correction=1, keepdim=True),
          shapes=SPREAD, params=axes_over_two_or_more),
    unary("x.var(dim=,keepdim=,correction=0)", lambda x, axis, keep: x.var(dim=axis, keepdim=keep, correction=0),
          lambda x, axis, keep: x.var(dim=axis, keepdim=keep, correction=0), params=some_axes),
    unary("x.std()", lambda x: x.std(), lambda x: x.std(), values=DISTINCT, shapes=SPREAD),
    unary("x.std(axis)", lambda x, axis, keep: x.std(axis),
          lambda x, axis, keep: x.std(dim=axis), values=DISTINCT, shapes=SPREAD, params=axes_over_two_or_more),
    unary("x.std(axis,correction=0)", lambda x, axis, keep: x.std(axis, correction=0),
          lambda x, axis, keep: x.std(dim=axis, correction=0),
          values=DISTINCT, shapes=SPREAD, params=axes_over_two_or_more),
    unary("x.std(dim=,keepdim=)", lambda x, axis, keep: x.std(dim=axis, keepdim=keep),
          lambda x, axis, keep: x.std(dim=axis, keepdim=keep),
          values=DISTINCT, shapes=SPREAD, params=axes_over_two_or_more),
    # argmax/argmin: int64 indices, no gradient
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

    # ---------------------------------------------------------------- softmax family
    unary("x.softmax(axis)", lambda x, axis, keep: x.softmax(axis),
          lambda x, axis, keep: x.softmax(dim=axis), params=one_axis),
    unary("x.softmax(dim=)", lambda x, axis, keep: x.softmax(dim=axis),
          lambda x, axis, keep: x.softmax(dim=axis), params=one_axis),
    unary("x.log_softmax(axis)", lambda x, axis, keep: x.log_softmax(axis),
          lambda x, axis, keep: x.log_softmax(dim=axis), params=one_axis),
    unary("x.log_softmax(dim=)", lambda x, axis, keep: x.log_softmax(dim=axis),
          lambda x, axis, keep: x.log_softmax(dim=axis), params=one_axis),
    unary("x.log_softmax(axis) of large |x|", lambda x, axis, keep: x.log_softmax(axis),
          lambda x, axis, keep: x.log_softmax(dim=axis), values=WIDE, params=one_axis, atol=1e-5),
    unary("x.logsumexp()", lambda x: x.logsumexp(), lambda x: torch.logsumexp(x.reshape(-1), dim=0)),
    unary("x.logsumexp(axis)", lambda x, axis, keep: x.logsumexp(axis),
          lambda x, axis, keep: torch.logsumexp(x, dim=axis), params=some_axes),
    unary("x.logsumexp(axis,keepdims=True)", lambda x, axis, keep: x.logsumexp(axis=axis, keepdims=True),
          lambda x, axis, keep: torch.logsumexp(x, dim=axis, keepdim=True), params=some_axes),
    unary("x.logsumexp(dim=,keepdim=)", lambda x, axis, keep: x.logsumexp(dim=axis, keepdim=keep),
          lambda x, axis, keep: torch.logsumexp(x, dim=axis, keepdim=keep), params=some_axes),
    unary("x.logsumexp(axis) of large |x|", lambda x, axis, keep: x.logsumexp(axis),
          lambda x, axis, keep: torch.logsumexp(x, dim=axis), values=WIDE, params=some_axes),

    # ---------------------------------------------------------------- cross-entropy on logits (N, C)
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
       CROSS_ENTROPY_SHAPES, params=cross_entropy_target),
    Op("CrossEntropy of large logits", 1,
       lambda z, target: CrossEntropy.apply(z, _like(z, target), reduction="mean"),
       lambda z, target: TF.cross_entropy(z, torch.from_numpy(target), reduction="mean"),
       CROSS_ENTROPY_SHAPES, values=(WIDE,), params=cross_entropy_target, atol=1e-5),

    # ---------------------------------------------------------------- movement
    unary("x.reshape(shape)", lambda x, shape: x.reshape(shape), lambda x, shape: x.reshape(shape),
          params=a_new_shape),
    unary("x.reshape(*shape)", lambda x, shape: x.reshape(*shape), lambda x, shape: x.reshape(*shape),
          params=a_new_shape_as_ints),
    unary("x.view(shape)", lambda x, shape: x.view(shape), lambda x, shape: x.view(shape), params=a_new_shape),
    unary("x.flatten()", lambda x: x.flatten(), lambda x: x.flatten()),
    unary("x.flatten(start_dim,end_dim)", lambda x, start, end: x.flatten(start, end),
          lambda x, start, end: x.flatten(start, end), shapes=AT_LEAST_1D, params=start_and_end),
    unary("x.transpose(dim0,dim1)", lambda x, dim0, dim1: x.transpose(dim0, dim1),
          lambda x, dim0, dim1: x.transpose(dim0, dim1), shapes=AT_LEAST_1D, params=two_axes),
    unary("x.permute(*dims)", lambda x, dims: x.permute(*dims), lambda x, dims: x.permute(*dims),
          shapes=AT_LEAST_1D, params=an_order),
    unary("x.permute(dims)", lambda x, dims: x.permute(dims), lambda x, dims: x.permute(dims),
          shapes=AT_LEAST_1D, params=an_order),
    unary("x.T", lambda x: x.T, _reversed_axes),
    unary("x.squeeze()", lambda x: x.squeeze(), lambda x: x.squeeze()),
    unary("x.squeeze(dim)", lambda x, axis, keep: x.squeeze(axis), lambda x, axis, keep: x.squeeze(axis),
          params=one_axis),
    unary("x.unsqueeze(dim)", lambda x, dim: x.unsqueeze(dim), lambda x, dim: x.unsqueeze(dim), params=a_new_axis),
    unary("x.expand(shape)", lambda x, shape: x.expand(shape), lambda x, shape: x.expand(shape),
          params=a_wider_shape),
    Op("Tensor.cat([x,y],axis)", 2, lambda x, y, axis: Tensor.cat([x, y], axis=axis),
       lambda x, y, axis: torch.cat([x, y], dim=axis), cat_shapes(2), (REAL, REAL), params=cat_axis),
    Op("Tensor.cat([x,y,z],dim=)", 3, lambda x, y, z, axis: Tensor.cat((x, y, z), dim=axis),
       lambda x, y, z, axis: torch.cat((x, y, z), dim=axis), cat_shapes(3), (REAL, REAL, REAL), params=cat_axis),
    Op("Tensor.stack([x,y],axis)", 2, lambda x, y, axis: Tensor.stack([x, y], axis=axis),
       lambda x, y, axis: torch.stack([x, y], dim=axis), same_shapes(2), (REAL, REAL), params=stack_axis),
    Op("Tensor.stack([x,y,z],dim=)", 3, lambda x, y, z, axis: Tensor.stack([x, y, z], dim=axis),
       lambda x, y, z, axis: torch.stack([x, y, z], dim=axis), same_shapes(3), (REAL, REAL, REAL),
       params=stack_axis),
    unary("x.pad(pad,value)", lambda x, pad, value: x.pad(pad, value=value),
          lambda x, pad, value: TF.pad(x, pad, value=value), shapes=AT_LEAST_1D, params=a_padding),

    # ---------------------------------------------------------------- indexing
    unary("x[int]", ours_getitem, theirs_getitem, shapes=AT_LEAST_1D, params=an_int),
    unary("x[slices]", ours_getitem, theirs_getitem, shapes=AT_LEAST_1D, params=some_slices),
    unary("x[None,...]", ours_getitem, theirs_getitem, params=none_and_ellipsis),
    unary("x[int array with repeats]", ours_getitem, theirs_getitem, shapes=AT_LEAST_1D, params=repeated_ints),
    unary("x[list with repeats]", ours_getitem, theirs_getitem, shapes=AT_LEAST_1D, params=repeated_ints_as_list),
    unary("x[int array,int array]", ours_getitem, theirs_getitem, shapes=AT_LEAST_2D, params=two_int_arrays),
    unary("x[:,int array]", ours_getitem, theirs_getitem, shapes=AT_LEAST_2D, params=slice_then_ints),
    unary("x[bool mask]", ours_getitem, theirs_getitem, params=a_mask),
    unary("x[bool mask on axis 0]", ours_getitem, theirs_getitem, shapes=AT_LEAST_1D, params=a_row_mask),
    unary("x[x>0]", lambda x: x[x > 0], lambda x: x[x > 0], values=AWAY_FROM_ZERO),

    # ---------------------------------------------------------------- matmul
    Op("x@y (2-D @ 2-D)", 2, lambda x, y: x @ y, lambda x, y: x @ y, matmul_shapes("matrix", "matrix"), (REAL, REAL)),
    Op("x@y (1-D @ 2-D)", 2, lambda x, y: x @ y, lambda x, y: x @ y, matmul_shapes("vector", "matrix"), (REAL, REAL)),
    Op("x@y (2-D @ 1-D)", 2, lambda x, y: x @ y, lambda x, y: x @ y, matmul_shapes("matrix", "vector"), (REAL, REAL)),
    Op("x@y (1-D @ 1-D)", 2, lambda x, y: x @ y, lambda x, y: x @ y, matmul_shapes("vector", "vector"), (REAL, REAL)),
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
    Op("x.dot(y)", 2, lambda x, y: x.dot(y), lambda x, y: x.dot(y), matmul_shapes("vector", "vector"), (REAL, REAL)),

    # ---------------------------------------------------------------- dtype conversion
    unary("x.astype('float64')", lambda x: x.astype(F64), lambda x: x.to(torch.float64)),
    # central differences need a float64 output: rounding to float32 hides the eps step
    unary("x.astype('float32')", lambda x: x.astype(F32), lambda x: x.to(torch.float32), gradcheck=False),
]

OPS_BY_NAME = {op.name: op for op in OPS}
