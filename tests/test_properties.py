"""The math itself, before autograd: identities every forward must satisfy, on random inputs.

Each test states one identity from the lecture notes (σ(x) + σ(−x) = 1, softmax sums to 1,
logsumexp lies between max and max + log n, ...) and hypothesis looks for an input that
breaks it: values of both signs up to ±50 (where a naive exp() is already far from 1), ties,
zeros, 0-d tensors and size-1 axes. The computation is float64 and records no graph, so a
failure here is a wrong formula, not a wrong gradient (the op table checks the gradients).
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_edu.nn.functional as F
from tinygrad_edu import Tensor, no_grad

# The identities belong to different lectures: each test carries its own marker.
lecture02, lecture03, lecture04, lecture05, lecture08 = (pytest.mark.lecture02, pytest.mark.lecture03,
                                                         pytest.mark.lecture04, pytest.mark.lecture05,
                                                         pytest.mark.lecture08)

EXAMPLES = settings(max_examples=25, deadline=None)
TIGHT = dict(rtol=1e-12, atol=1e-12)


def arrays(min_dims: int = 0, low: float = -50.0, high: float = 50.0, min_side: int = 1) -> st.SearchStrategy:
    """float64 arrays of up to 3 axes of size 1..4, finite values in [low, high] (zeros and ties included)."""
    return hnp.arrays(np.float64, hnp.array_shapes(min_dims=min_dims, max_dims=3, min_side=min_side, max_side=4),
                      elements=st.floats(low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False))


def t(values) -> Tensor:
    return Tensor(np.asarray(values, dtype=np.float64))


def v(tensor: Tensor) -> np.ndarray:
    return tensor.numpy()


@pytest.fixture(autouse=True)
def _no_graph():
    """The identities are about forward values: nothing here records a graph."""
    with no_grad():
        yield


# ----------------------------------------------------------------------------- activations (lecture 4)

@lecture04
@EXAMPLES
@given(x=arrays())
def test_sigmoid_of_x_plus_sigmoid_of_minus_x_is_one(x):
    np.testing.assert_allclose(v(t(x).sigmoid() + t(-x).sigmoid()), np.ones_like(x), **TIGHT)


@lecture04
@EXAMPLES
@given(x=arrays())
def test_sigmoid_lies_in_zero_one_and_is_one_half_at_zero(x):
    s = v(t(x).sigmoid())
    assert np.all((s >= 0) & (s <= 1))
    assert v(t(0.0).sigmoid()) == 0.5


@lecture04
@EXAMPLES
@given(x=arrays())
def test_tanh_is_two_sigmoid_of_two_x_minus_one(x):
    np.testing.assert_allclose(v(t(x).tanh()), v(2 * t(2 * x).sigmoid() - 1), rtol=1e-12, atol=1e-14)


@lecture04
@EXAMPLES
@given(x=arrays())
def test_tanh_is_odd(x):
    np.testing.assert_array_equal(v(t(-x).tanh()), -v(t(x).tanh()))


@lecture04
@EXAMPLES
@given(x=arrays())
def test_softplus_of_x_minus_softplus_of_minus_x_is_x(x):
    """log(1 + e^x) - log(1 + e^-x) = x. Above `threshold` softplus returns x itself, as torch does,
    dropping log(1 + e^-x) < log(1 + e^-20) ≈ 2.1e-9; with no threshold in reach the identity is exact."""
    exact = v(t(x).softplus(threshold=1e9) - t(-x).softplus(threshold=1e9))
    np.testing.assert_allclose(exact, x, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(v(t(x).softplus() - t(-x).softplus()), x, rtol=0, atol=math.log1p(math.exp(-20)))


@lecture04
@EXAMPLES
@given(x=arrays())
def test_softplus_lies_above_relu_and_below_relu_plus_log_two(x):
    sp, relu = v(t(x).softplus()), np.maximum(x, 0)
    assert np.all(sp >= relu) and np.all(sp <= relu + math.log(2) + 1e-15)


@lecture04
@EXAMPLES
@given(x=arrays())
def test_relu_of_x_minus_relu_of_minus_x_is_x(x):
    np.testing.assert_array_equal(v(t(x).relu() - t(-x).relu()), x)


@lecture04
@EXAMPLES
@given(x=arrays())
def test_relu_of_x_plus_relu_of_minus_x_is_abs_x(x):
    np.testing.assert_array_equal(v(t(x).relu() + t(-x).relu()), v(t(x).abs()))


@lecture04
@EXAMPLES
@given(x=arrays(), slope=st.floats(0.0, 1.0))
def test_leaky_relu_of_x_minus_leaky_relu_of_minus_x_is_one_plus_slope_times_x(x, slope):
    both = v(t(x).leaky_relu(slope) - t(-x).leaky_relu(slope))
    np.testing.assert_allclose(both, (1 + slope) * x, **TIGHT)


@lecture04
@EXAMPLES
@given(x=arrays(), alpha=st.floats(0.1, 2.0))
def test_elu_is_x_above_zero_and_above_minus_alpha_below(x, alpha):
    y = v(t(x).elu(alpha))
    np.testing.assert_array_equal(y[x > 0], x[x > 0])
    assert np.all(y[x <= 0] >= -alpha) and np.all(y[x <= 0] <= 0)


@lecture04
@EXAMPLES
@given(x=arrays(), approximate=st.sampled_from(["none", "tanh"]))
def test_gelu_of_x_minus_gelu_of_minus_x_is_x(x, approximate):
    """x Φ(x) - (-x) Φ(-x) = x (Φ(x) + Φ(-x)) = x; the tanh form keeps the symmetry."""
    both = v(t(x).gelu(approximate=approximate) - t(-x).gelu(approximate=approximate))
    np.testing.assert_allclose(both, x, rtol=1e-12, atol=1e-12)


@lecture04
@EXAMPLES
@given(x=arrays())
def test_softsign_is_odd_and_lies_in_minus_one_one(x):
    s = v(t(x).softsign())
    np.testing.assert_array_equal(v(t(-x).softsign()), -s)
    assert np.all(np.abs(s) < 1)


@lecture04
@EXAMPLES
@given(x=arrays(low=1e-3, high=1e3))
def test_exp_undoes_log_and_sqrt_squared_is_x(x):
    np.testing.assert_allclose(v(t(x).log().exp()), x, rtol=1e-13)
    np.testing.assert_allclose(v(t(x).sqrt() ** 2), x, rtol=1e-13)


# ----------------------------------------------------------------------------- softmax family (lecture 5)

@st.composite
def array_and_axis(draw, **options):
    x = draw(arrays(min_dims=1, **options))
    return x, draw(st.integers(-x.ndim, x.ndim - 1))


@lecture05
@EXAMPLES
@given(case=array_and_axis())
def test_softmax_is_positive_and_sums_to_one(case):
    x, axis = case
    p = v(t(x).softmax(axis))
    assert np.all(p >= 0)
    np.testing.assert_allclose(p.sum(axis=axis), 1.0, rtol=1e-12)


@lecture05
@EXAMPLES
@given(case=array_and_axis(), shift=st.floats(-100, 100))
def test_softmax_does_not_change_when_a_constant_is_added(case, shift):
    x, axis = case
    np.testing.assert_allclose(v(t(x + shift).softmax(axis)), v(t(x).softmax(axis)), rtol=1e-9, atol=1e-15)


@lecture05
@EXAMPLES
@given(case=array_and_axis())
def test_log_softmax_is_the_log_of_softmax_where_that_is_finite(case):
    x, axis = case
    log_p, p = v(t(x).log_softmax(axis)), v(t(x).softmax(axis))
    finite = p > 1e-300
    np.testing.assert_allclose(log_p[finite], np.log(p[finite]), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.exp(log_p), p, rtol=1e-10, atol=1e-300)


@lecture05
@EXAMPLES
@given(case=array_and_axis())
def test_log_softmax_is_x_minus_logsumexp(case):
    x, axis = case
    expected = x - v(t(x).logsumexp(axis, keepdims=True))
    np.testing.assert_allclose(v(t(x).log_softmax(axis)), expected, rtol=1e-12, atol=1e-12)


@lecture05
@EXAMPLES
@given(case=array_and_axis(low=-1000.0, high=1000.0))
def test_logsumexp_lies_between_max_and_max_plus_log_n(case):
    x, axis = case
    lse, m, n = v(t(x).logsumexp(axis)), x.max(axis=axis), x.shape[axis]
    assert np.all(lse >= m - 1e-12)
    assert np.all(lse <= m + math.log(n) + 1e-12)


@lecture05
@EXAMPLES
@given(case=array_and_axis(), shift=st.floats(-100, 100))
def test_logsumexp_of_x_plus_c_is_logsumexp_of_x_plus_c(case, shift):
    x, axis = case
    np.testing.assert_allclose(v(t(x + shift).logsumexp(axis)), v(t(x).logsumexp(axis)) + shift,
                               rtol=1e-12, atol=1e-11)


@st.composite
def logits_and_labels(draw):
    n, c = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    z = draw(hnp.arrays(np.float64, (n, c), elements=st.floats(-50, 50, allow_subnormal=False)))
    y = np.array(draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)), dtype=np.int64)
    return z, y


@lecture05
@EXAMPLES
@given(case=logits_and_labels())
def test_cross_entropy_is_logsumexp_minus_the_true_logit_and_not_negative(case):
    """-log softmax(z)[y] = log Σ e^z - z_y >= 0: the worked example of lecture 5, per object."""
    z, y = case
    loss = v(F.cross_entropy(t(z), Tensor(y), reduction="none"))
    expected = v(t(z).logsumexp(1)) - z[np.arange(len(y)), y]
    np.testing.assert_allclose(loss, expected, rtol=1e-12, atol=1e-12)
    assert np.all(loss >= 0)


@lecture05
@EXAMPLES
@given(z=arrays(low=-15.0, high=15.0), y=st.floats(0.0, 1.0))
def test_bce_with_logits_is_bce_of_the_sigmoid(z, y):
    """Up to |z| = 15, where 1 - σ(z) still keeps 9 digits in float64 (the reason for the stable form)."""
    target = np.full(z.shape, y)
    with_logits = v(F.binary_cross_entropy_with_logits(t(z), t(target), reduction="none"))
    of_sigmoid = v(F.binary_cross_entropy(t(z).sigmoid(), t(target), reduction="none"))
    np.testing.assert_allclose(with_logits, of_sigmoid, rtol=1e-8, atol=1e-12)
    assert np.all(with_logits >= 0)


@lecture05
@EXAMPLES
@given(p=arrays(low=0.01, high=0.99))
def test_bce_is_smallest_when_the_prediction_is_the_target(p):
    """-(y log p + (1-y) log(1-p)) over p is smallest at p = y (Gibbs' inequality)."""
    at_target = v(F.binary_cross_entropy(t(p), t(p), reduction="none"))
    elsewhere = v(F.binary_cross_entropy(t(np.clip(p + 0.01, 0, 1)), t(p), reduction="none"))
    assert np.all(at_target <= elsewhere + 1e-15)


@lecture05
@EXAMPLES
@given(x=arrays(), y=arrays())
def test_mse_is_zero_only_at_the_target_and_symmetric(x, y):
    if x.shape != y.shape:
        y = np.resize(y, x.shape)
    assert v(F.mse_loss(t(x), t(x))) == 0
    np.testing.assert_allclose(v(F.mse_loss(t(x), t(y))), v(F.mse_loss(t(y), t(x))), **TIGHT)
    assert v(F.mse_loss(t(x), t(y))) >= 0


# ----------------------------------------------------------------------------- statistics (lecture 8)

@lecture08
@EXAMPLES
@given(x=arrays(min_dims=1, min_side=2), shift=st.floats(-100, 100))
def test_var_is_not_negative_and_ignores_a_shift(x, shift):
    var = v(t(x).var())
    assert var >= 0
    np.testing.assert_allclose(v(t(x + shift).var()), var, rtol=1e-7, atol=1e-9)


@lecture08
@EXAMPLES
@given(x=arrays(min_dims=1, min_side=2), scale=st.floats(-10, 10))
def test_var_of_a_times_x_is_a_squared_var_of_x_and_std_is_its_root(x, scale):
    np.testing.assert_allclose(v(t(scale * x).var()), scale ** 2 * v(t(x).var()), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(v(t(x).std()) ** 2, v(t(x).var()), rtol=1e-12, atol=1e-12)


@lecture08
@EXAMPLES
@given(x=arrays(min_dims=1))
def test_mean_lies_between_min_and_max_and_centred_values_sum_to_zero(x):
    mean = v(t(x).mean())
    assert v(t(x).min()) - 1e-12 <= mean <= v(t(x).max()) + 1e-12
    np.testing.assert_allclose(v((t(x) - t(x).mean()).sum()), 0.0, atol=1e-10 * max(1.0, np.abs(x).sum()))


# ----------------------------------------------------------------------------- the perceptron (lecture 2)

CORNERS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR = np.array([0.0, 1.0, 1.0, 0.0])


def threshold_neuron(x: Tensor, w: Tensor, b: float) -> np.ndarray:
    """The step of x·w + b: 1 where it is positive, else 0."""
    return v(x @ w + b > 0).astype(np.float64)


@lecture02
def test_one_threshold_neuron_computes_and_or_and_not():
    x = t(CORNERS)
    np.testing.assert_array_equal(threshold_neuron(x, t([1.0, 1.0]), -1.5), [0, 0, 0, 1])     # AND
    np.testing.assert_array_equal(threshold_neuron(x, t([1.0, 1.0]), -0.5), [0, 1, 1, 1])     # OR
    np.testing.assert_array_equal(threshold_neuron(t([[0.0], [1.0]]), t([-1.0]), 0.5), [1, 0])  # NOT


@lecture02
@EXAMPLES
@given(w1=st.floats(-10, 10), w2=st.floats(-10, 10), b=st.floats(-10, 10))
def test_no_threshold_neuron_computes_xor(w1, w2, b):
    """XOR is not linearly separable: every line gets at least one of the four corners wrong."""
    assert np.any(threshold_neuron(t(CORNERS), t([w1, w2]), b) != XOR)


@lecture02
def test_one_hidden_layer_of_relus_computes_xor():
    """h = relu(x W1 + b1) with W1 = [[1, 1], [1, 1]], b1 = (0, -1); y = h · (1, -2)."""
    h = (t(CORNERS) @ t([[1.0, 1.0], [1.0, 1.0]]) + t([0.0, -1.0])).relu()
    np.testing.assert_array_equal(v(h @ t([1.0, -2.0])), XOR)


# ----------------------------------------------------------------------------- matrices (lecture 3)

@st.composite
def three_matrices(draw):
    n, k, m, p = (draw(st.integers(1, 4)) for _ in range(4))
    element = st.floats(-10, 10, allow_subnormal=False)
    return tuple(draw(hnp.arrays(np.float64, s, elements=element)) for s in [(n, k), (k, m), (m, p)])


@lecture03
@EXAMPLES
@given(abc=three_matrices())
def test_matmul_is_associative_and_its_transpose_reverses_the_order(abc):
    a, b, c = (t(m) for m in abc)
    np.testing.assert_allclose(v((a @ b) @ c), v(a @ (b @ c)), rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(v((a @ b).T), v(b.T @ a.T), **TIGHT)


@lecture03
@EXAMPLES
@given(abc=three_matrices())
def test_two_linear_layers_without_an_activation_are_one_linear_map(abc):
    """Lecture 3: without activations the layers collapse, (X W1 + b1) W2 + b2 = X (W1 W2) + (b1 W2 + b2)."""
    x, w1, w2 = (t(m) for m in abc)
    b1, b2 = t(np.linspace(-1, 1, w1.shape[1])), t(np.linspace(1, -1, w2.shape[1]))
    np.testing.assert_allclose(v((x @ w1 + b1) @ w2 + b2), v(x @ (w1 @ w2) + (b1 @ w2 + b2)),
                               rtol=1e-10, atol=1e-9)
