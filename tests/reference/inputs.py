"""The op table's inputs: value domains, shapes and extra arguments, each drawn from a seed.

A domain (a "sampler") returns float64 values of a given shape; the tests cast them to the
dtype under test. A shape strategy (hypothesis) draws one shape per input. A params
function draws the extra arguments of one case (an axis, an index, a kernel size) from
the same seeded generator as the values, after the shapes are known.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import torch
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_edu import Tensor

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
PROBABILITY = uniform(0.05, 0.95)       # the input of binary cross-entropy (and a soft target)
SMALL_INTS = one_of(-2.0, -1.0, 0.0)    # max pooling with many tied maxima, all <= 0
NEGATIVE = uniform(-2.0, -1.0)          # max pooling: padding must count as -inf, not 0


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


CROSS_ENTROPY_SHAPES = st.tuples(st.integers(1, 6), st.integers(1, 5)).map(lambda nc: (nc,))  # (N, C), one class too


@st.composite
def linear_shapes(draw, bias: bool = True) -> tuple:
    """x (..., in), weight (out, in) and bias (out,): up to two leading axes, as nn.Linear takes."""
    leading = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    n_in, n_out = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    shapes = (leading + (n_in,), (n_out, n_in))
    return shapes + ((n_out,),) if bias else shapes


@st.composite
def conv_shapes(draw, bias: bool = True) -> tuple:
    """x (N, C, H, W), weight (O, C, kh, kw) and bias (O,); small, so that gradcheck stays quick."""
    n, c, o = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 3))
    h, w, kh, kw = draw(st.integers(1, 6)), draw(st.integers(1, 6)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    shapes = ((n, c, h, w), (o, c, kh, kw))
    return shapes + ((o,),) if bias else shapes


IMAGES = st.tuples(st.tuples(st.integers(1, 2), st.integers(1, 2), st.integers(1, 7), st.integers(1, 7)))


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


def _pair_or_int(rng: np.random.Generator, pair: tuple) -> Any:
    """(a, b), or the int a when both are equal half of the time: conv2d takes either."""
    return pair[0] if pair[0] == pair[1] and rng.random() < 0.5 else tuple(pair)


def a_conv_geometry(rng, shapes) -> dict:
    """stride, padding and dilation that leave at least one output pixel on each axis."""
    (_, _, *size), (_, _, *kernel) = shapes[0], shapes[1]
    stride, padding, dilation = [], [], []
    for n, k in zip(size, kernel):
        p = int(rng.integers(0, 3))
        while n + 2 * p < k:
            p += 1
        fits = [d for d in (1, 2, 3) if d * (k - 1) + 1 <= n + 2 * p]
        stride.append(int(rng.integers(1, 4)))
        padding.append(p)
        dilation.append(int(rng.choice(fits)))
    return {"stride": _pair_or_int(rng, stride), "padding": _pair_or_int(rng, padding),
            "dilation": _pair_or_int(rng, dilation)}


def a_pool_geometry(rng, shapes) -> dict:
    """kernel_size, stride (None: the kernel size), padding (at most half the kernel, as torch
    requires) and dilation that leave at least one output pixel on each axis."""
    _, _, *size = shapes[0]
    while True:
        kernel, padding, dilation, stride = [], [], [], []
        for n in size:
            while True:
                k = int(rng.integers(1, 4))
                p = int(rng.integers(0, k // 2 + 1))
                fits = [d for d in (1, 2) if d * (k - 1) + 1 <= n + 2 * p]
                if fits:
                    break
            kernel.append(k)
            padding.append(p)
            dilation.append(int(rng.choice(fits)))
        default_stride = rng.random() < 0.3
        stride = list(kernel) if default_stride else [int(s) for s in rng.integers(1, 4, size=2)]
        if all(_every_window_sees_the_input(*axis) for axis in zip(size, kernel, stride, padding, dilation)):
            break
    return {"kernel_size": _pair_or_int(rng, kernel), "stride": None if default_stride else _pair_or_int(rng, stride),
            "padding": _pair_or_int(rng, padding), "dilation": _pair_or_int(rng, dilation)}


def _every_window_sees_the_input(n: int, k: int, s: int, p: int, d: int) -> bool:
    """False when some pooling window lies entirely in the padding (its maximum is -inf; torch
    then sends the gradient to an element outside the window)."""
    outputs = (n + 2 * p - d * (k - 1) - 1) // s + 1
    return all(any(0 <= o * s - p + d * j < n for j in range(k)) for o in range(outputs))


def a_binary_target(rng, shapes) -> dict:
    """Targets for binary cross-entropy: hard (0 or 1) half of the time, else soft in [0, 1]."""
    s = shapes[0]
    target = rng.integers(0, 2, size=s) if rng.random() < 0.5 else rng.uniform(0, 1, size=s)
    return {"target": np.asarray(target, dtype=np.float64)}


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


# ============================================================================ the vision lectures (helper G2)
# Batch normalisation over the channel axis, and the class-index losses on (N, C) and per pixel
# (N, C, d1, d2): their shapes, their running statistics, targets with ignored entries, weights.

@st.composite
def batch_norm_shapes(draw, affine: bool = True) -> tuple:
    """x (N, C), (N, C, L) or (N, C, H, W), with at least 3 values per channel, and weight and
    bias (C,). Training needs 2; with exactly 2, x̂ = ±1 and dL/dx is almost 0, a difference of
    large terms that float32 rounding dominates (the op table's edges hold one such case)."""
    n, c = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    rest = tuple(draw(st.lists(st.integers(1, 4), max_size=2)))
    if n * math.prod(rest) < 3:
        n = 3
    x = (n, c) + rest
    return (x, (c,), (c,)) if affine else (x,)


def running_statistics(rng, shapes) -> dict:
    """running_mean, running_var (> 0) of the channels, a momentum and an eps."""
    c = shapes[0][1]
    return {"running_mean": rng.standard_normal(c), "running_var": rng.uniform(0.5, 2.0, c),
            "momentum": float(rng.choice([0.1, 0.5])), "eps": float(rng.choice([1e-5, 1e-3]))}


def a_batch_norm_eps(rng, shapes) -> dict:
    return {"eps": float(rng.choice([1e-5, 1e-3]))}


def _stat(x: Tensor, array: np.ndarray) -> Tensor:
    """A per-channel constant (a running statistic, a class weight) in x's dtype, on x's device."""
    return Tensor(np.asarray(array).astype(x.dtype), device=x.device)


def _torch_stat(x: torch.Tensor, array: np.ndarray) -> torch.Tensor:
    return torch.tensor(np.asarray(array), dtype=x.dtype)


# Scores (N, C) or (N, C, d1) or (N, C, d1, d2): the class axis is 1, the targets (N, d1, d2).
CLASS_SCORES = st.tuples(st.tuples(st.integers(1, 4), st.integers(1, 4)).flatmap(
    lambda nc: st.lists(st.integers(1, 4), max_size=2).map(lambda rest: nc + tuple(rest))))
PIXEL_SCORES = st.tuples(st.tuples(st.integers(1, 2), st.integers(1, 4), st.integers(1, 5), st.integers(1, 5)))


def _class_indices(rng: np.random.Generator, scores: tuple, ignore_index: int | None = None) -> np.ndarray:
    """Class indices for scores (N, C, d...): shape (N, d...); with ignore_index, about a third of
    them ignored, but never all (the mean would be 0 / 0)."""
    n, c, *rest = scores
    target = rng.integers(0, c, size=(n, *rest))
    if ignore_index is not None:
        target[rng.random(target.shape) < 0.3] = ignore_index
        target.flat[0] = (ignore_index + 1) % c if 0 <= ignore_index < c else rng.integers(0, c)
    return target.astype(np.int64)


def class_targets(rng, shapes) -> dict:
    return {"target": _class_indices(rng, shapes[0])}


def weighted_targets(rng, shapes) -> dict:
    """Targets with ignored entries (ignore_index -100, -1 or a class itself), a weight per class
    and a reduction."""
    c = shapes[0][1]
    ignore = int(rng.choice([-100, -1] + ([int(rng.integers(0, c))] if c > 1 else [])))
    return {"target": _class_indices(rng, shapes[0], ignore), "weight": rng.uniform(0.2, 2.0, c),
            "ignore_index": ignore, "reduction": str(rng.choice(["mean", "sum", "none"]))}


def smoothed_targets(rng, shapes) -> dict:
    """weighted_targets with a label_smoothing in [0, 1]."""
    return {**weighted_targets(rng, shapes), "label_smoothing": float(rng.choice([0.05, 0.3, 1.0]))}


def class_probabilities(rng, shapes) -> dict:
    """Soft targets of the scores' shape (each position sums to 1 over axis 1) and a weight per class."""
    q = np.exp(rng.standard_normal(shapes[0]))
    return {"target": q / q.sum(axis=1, keepdims=True), "weight": rng.uniform(0.2, 2.0, shapes[0][1]),
            "label_smoothing": float(rng.choice([0.0, 0.2]))}


# ============================================================================ the window layers (helper G1)
# Transposed and grouped convolutions, pooling with ceil_mode, adaptive pooling and interpolation:
# geometries with strides, paddings, dilations and output paddings, and sizes that do not divide.

@st.composite
def conv_transpose_shapes(draw, bias: bool = True) -> tuple:
    """x (N, C_in, H, W), weight (C_in, C_out, kh, kw) and bias (C_out,)."""
    n, c_in, c_out = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 3))
    h, w, kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    shapes = ((n, c_in, h, w), (c_in, c_out, kh, kw))
    return shapes + ((c_out,),) if bias else shapes


@st.composite
def grouped_conv_shapes(draw, transposed: bool) -> tuple:
    """Shapes of a convolution with 2 or 3 groups, each of 1 or 2 input and output channels:
    conv2d's weight (C_out, C_in/g, kh, kw), conv_transpose2d's (C_in, C_out/g, kh, kw), bias (C_out,)."""
    g, a, b = draw(st.integers(2, 3)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    n, h, w = draw(st.integers(1, 2)), draw(st.integers(2, 5)), draw(st.integers(2, 5))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    if transposed:
        return (n, g * a, h, w), (g * a, b, kh, kw), (g * b,)
    return (n, g * a, h + 2, w + 2), (g * b, a, kh, kw), (g * b,)


def a_conv_transpose_geometry(rng, shapes) -> dict:
    """stride, padding, output_padding (< max(stride, dilation)) and dilation with an output of at least
    one pixel on each axis."""
    (_, _, *size), (_, _, *kernel) = shapes[0], shapes[1]
    stride, padding, output_padding, dilation = [], [], [], []
    for n, k in zip(size, kernel):
        s, d = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        op = int(rng.integers(0, max(s, d)))
        p = int(rng.integers(0, 3))
        while p and (n - 1) * s - 2 * p + d * (k - 1) + op + 1 < 1:
            p -= 1
        stride.append(s), padding.append(p), output_padding.append(op), dilation.append(d)
    return {"stride": _pair_or_int(rng, stride), "padding": _pair_or_int(rng, padding),
            "output_padding": _pair_or_int(rng, output_padding), "dilation": _pair_or_int(rng, dilation)}


def a_grouped_conv_geometry(rng, shapes) -> dict:
    """conv2d's geometry and its groups, read back from the shapes (C_in / weight's second axis)."""
    return {**a_conv_geometry(rng, shapes), "groups": shapes[0][1] // shapes[1][1]}


def a_grouped_conv_transpose_geometry(rng, shapes) -> dict:
    """conv_transpose2d's geometry and its groups, read back from the shapes (C_out / weight's second axis)."""
    return {**a_conv_transpose_geometry(rng, shapes), "groups": shapes[2][0] // shapes[1][1]}


def _ceil_out(n: int, k: int, s: int, p: int, d: int) -> int:
    """PyTorch's pooling output size with ceil_mode: the last window must start inside the image
    or its left padding."""
    out = -(-(n + 2 * p - d * (k - 1) - 1) // s) + 1
    return out - 1 if (out - 1) * s >= n + p else out


def _windows_see_the_input(n: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> bool:
    """False when some window (a ceil_mode one included) holds no pixel of the input."""
    outputs = _ceil_out(n, k, s, p, d) if ceil_mode else (n + 2 * p - d * (k - 1) - 1) // s + 1
    return outputs >= 1 and all(any(0 <= o * s - p + d * j < n for j in range(k)) for o in range(outputs))


def a_ceil_mode_pool_geometry(rng, shapes) -> dict:
    """a_pool_geometry with ceil_mode=True, redrawn until every window sees the input."""
    _, _, *size = shapes[0]
    while True:
        params = a_pool_geometry(rng, shapes)
        pairs = [v if isinstance(v, tuple) else (v, v) for v in
                 (params["kernel_size"], params["stride"] or params["kernel_size"], params["padding"],
                  params["dilation"])]
        if all(_windows_see_the_input(n, *axis, True) for n, *axis in zip(size, *pairs)):
            return {**params, "ceil_mode": True}


def an_avg_pool_geometry(rng, shapes) -> dict:
    """kernel_size, stride (None: the kernel size), padding (at most half the kernel), ceil_mode,
    count_include_pad and now and then a divisor_override, leaving one output pixel or more."""
    _, _, *size = shapes[0]
    kernel, padding = [], []
    for n in size:
        k = int(rng.integers(1, min(n + 2, 4) + 1))
        p = int(rng.integers(0, k // 2 + 1))
        while n + 2 * p < k:
            p += 1
        kernel.append(k), padding.append(p)
    default_stride = rng.random() < 0.3
    stride = list(kernel) if default_stride else [int(s) for s in rng.integers(1, 4, size=2)]
    return {"kernel_size": _pair_or_int(rng, kernel), "stride": None if default_stride else _pair_or_int(rng, stride),
            "padding": _pair_or_int(rng, padding), "ceil_mode": bool(rng.random() < 0.5),
            "count_include_pad": bool(rng.random() < 0.5),
            "divisor_override": int(rng.integers(1, 6)) if rng.random() < 0.2 else None}


def an_adaptive_output_size(rng, shapes) -> dict:
    """An output size from 1 to 2 pixels more than the input (sizes that do not divide, and
    windows that overlap), None now and then ("keep"), as an int or a pair."""
    _, _, h, w = shapes[0]
    if rng.random() < 0.2:
        return {"output_size": int(rng.integers(1, min(h, w) + 3))}
    sizes = tuple(None if rng.random() < 0.15 else int(rng.integers(1, n + 3)) for n in (h, w))
    return {"output_size": sizes}


def a_resize(rng, shapes) -> dict:
    """interpolate's size (an int or a pair) or scale_factor (a number or a pair; non-integer ones
    included, and recompute_scale_factor now and then), giving at least one pixel per axis."""
    _, _, h, w = shapes[0]
    if rng.random() < 0.4:
        size = tuple(int(rng.integers(1, 2 * n + 3)) for n in (h, w))
        return {"size": size[0] if size[0] == size[1] and rng.random() < 0.5 else size, "scale_factor": None,
                "recompute_scale_factor": None}
    choices = np.array([0.5, 0.7, 1.0, 1.3, 1.5, 2.0, 2.5, 3.0])
    scale = []
    for n in (h, w):
        s = float(rng.choice(choices)) if rng.random() < 0.6 else float(np.round(rng.uniform(0.3, 3.2), 3))
        scale.append(s if int(n * s) >= 1 else 1.0)
    scale_factor = scale[0] if scale[0] == scale[1] else tuple(scale)
    return {"size": None, "scale_factor": scale_factor,
            "recompute_scale_factor": True if rng.random() < 0.2 else None}


# ============================================================================ the sequence lectures (helper S)
# tril/triu's diagonal, masked_fill's mask and value, cumsum's axis, topk's k, axis and direction.

def a_diagonal(rng, shapes) -> dict:
    """tril/triu's diagonal: from below the last row to beyond the last column (all or nothing kept)."""
    rows, cols = shapes[0][-2:]
    return {"diagonal": int(rng.integers(-rows - 1, cols + 2))}


def a_fill_mask(rng, shapes) -> dict:
    """A bool mask that broadcasts against x (now and then growing the result), and a fill value."""
    return {"mask": _bools(rng, _partner(rng, shapes[0])), "value": float(rng.choice([0.0, 1.5, -2.0]))}


def a_fill_mask_of_minus_inf(rng, shapes) -> dict:
    """A mask as in a_fill_mask, filled with -inf: the value of an attention mask."""
    return {**a_fill_mask(rng, shapes), "value": -np.inf}


def a_fill_mask_only(rng, shapes) -> dict:
    """A bool mask that broadcasts against x (the value is a 0-d tensor input of its own)."""
    return {"mask": _bools(rng, _partner(rng, shapes[0]))}


def an_axis(rng, shapes) -> dict:
    return {"axis": _axis(rng, len(shapes[0]))}


def a_top_k(rng, shapes) -> dict:
    """topk's axis, k from 0 to that axis' size, and largest (True more often, as it is the default)."""
    s = shapes[0]
    axis = _axis(rng, len(s))
    size = s[axis] if s else 1
    return {"k": int(rng.integers(0, size + 1)), "axis": axis, "largest": bool(rng.random() < 0.7)}


VALUE_AND_SCALAR = st.tuples(shape(), st.just(()))      # x and a 0-d tensor (masked_fill's value)
