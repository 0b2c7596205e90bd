"""Numerical behaviour at the extremes and at the kinks, with PyTorch 2.13 as the referee.

Stability: the activations in stable form and the softmax family must give finite values and
finite gradients for logits of ±88, ±1000 and ±1e4, equal to PyTorch's.
Conventions: where a derivative is not defined (relu at 0, |x| at 0, ties in max/min,
the bounds of clip) the engine picks the same subgradient as PyTorch.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import tinygrad_edu
from tinygrad_edu import Tensor
from tinygrad_edu.functions import CrossEntropy

from .conftest import TOLERANCES

# stable forms of the activations and of softmax / cross-entropy
pytestmark = [pytest.mark.lecture04, pytest.mark.lecture05]

EXTREMES = [-1e4, -1000.0, -88.0, -20.0, -1.0, 0.0, 1.0, 20.0, 88.0, 1000.0, 1e4]
LOGIT_ROWS = [
    [1000.0, -1000.0, 0.0, 1.0],
    [88.0, -88.0, 1e4, -1e4],
    [-1000.0, -1000.0, -1000.0, -1000.0],
    [1e4, 1e4, -1e4, 0.5],
]


def pair(values, dtype="float64", requires_grad=True):
    """The same values as a tinygrad_edu leaf and a torch leaf."""
    array = np.asarray(values, dtype=dtype)
    return (Tensor(array, requires_grad=requires_grad),
            torch.tensor(array, requires_grad=requires_grad))


def upstream(shape, dtype):
    """A fixed, non-uniform output gradient (a plain sum would hide softmax's gradient: it is 0)."""
    return np.linspace(-1.0, 2.0, int(np.prod(shape))).reshape(shape).astype(dtype)


def run_both(ours_fn, torch_fn, values, dtype):
    """Forward and backward through both libraries; returns (ours, theirs) values and grads."""
    x, tx = pair(values, dtype)
    y, ty = ours_fn(x), torch_fn(tx)
    g = upstream(y.shape, dtype)
    y.backward(g)
    ty.backward(torch.from_numpy(g))
    return y.detach().numpy(), ty.detach().numpy(), x.grad.numpy(), tx.grad.numpy()


def assert_matches_torch_and_finite(result, dtype):
    y, ty, g, tg = result
    assert np.isfinite(y).all(), f"non-finite values: {y}"
    assert np.isfinite(g).all(), f"non-finite gradients: {g}"
    assert y.dtype == np.dtype(dtype) and g.dtype == np.dtype(dtype)
    np.testing.assert_allclose(y, ty, **TOLERANCES[dtype])
    np.testing.assert_allclose(g, tg, **TOLERANCES[dtype])


# ----------------------------------------------------------------------------- stability at the extremes

ELEMENTWISE = {
    "sigmoid": (lambda x: x.sigmoid(), torch.sigmoid),
    "softplus": (lambda x: x.softplus(), F.softplus),
    "tanh": (lambda x: x.tanh(), torch.tanh),
}
ROWWISE = {
    "log_softmax": (lambda x: x.log_softmax(axis=-1), lambda t: F.log_softmax(t, dim=-1)),
    "softmax": (lambda x: x.softmax(axis=-1), lambda t: F.softmax(t, dim=-1)),
    "log_softmax_axis0": (lambda x: x.log_softmax(axis=0), lambda t: F.log_softmax(t, dim=0)),
    "softmax_axis0": (lambda x: x.softmax(axis=0), lambda t: F.softmax(t, dim=0)),
    "logsumexp_rows": (lambda x: x.logsumexp(axis=1), lambda t: torch.logsumexp(t, dim=1)),
    "logsumexp_rows_keepdims": (lambda x: x.logsumexp(axis=1, keepdims=True),
                                lambda t: torch.logsumexp(t, dim=1, keepdim=True)),
    "logsumexp_all": (lambda x: x.logsumexp(), lambda t: torch.logsumexp(t, dim=(0, 1))),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_activation_is_finite_and_equals_torch_at_extreme_inputs(name, dtype):
    ours, theirs = ELEMENTWISE[name]
    assert_matches_torch_and_finite(run_both(ours, theirs, EXTREMES, dtype), dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(ROWWISE))
def test_softmax_family_is_finite_and_equals_torch_at_extreme_logits(name, dtype):
    ours, theirs = ROWWISE[name]
    assert_matches_torch_and_finite(run_both(ours, theirs, LOGIT_ROWS, dtype), dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("scale", [88.0, 1000.0, 1e4])
def test_cross_entropy_is_finite_and_equals_torch_at_extreme_logits(scale, dtype):
    logits = np.array([[1.0, -1.0, 0.5], [-1.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 1.0, -1.0]]) * scale
    target = np.array([0, 0, 2, 1])
    z, tz = pair(logits, dtype)
    loss = CrossEntropy.apply(z, Tensor(target))
    tloss = F.cross_entropy(tz, torch.from_numpy(target))
    loss.backward()
    tloss.backward()
    result = (loss.detach().numpy(), tloss.detach().numpy(), z.grad.numpy(), tz.grad.numpy())
    assert_matches_torch_and_finite(result, dtype)


def test_cross_entropy_target_is_int64():
    target = Tensor([0, 2])
    assert target.dtype == np.int64
    z = Tensor([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]], requires_grad=True)
    CrossEntropy.apply(z, target).backward()
    assert target.grad is None and z.grad.shape == (2, 3)


# ----------------------------------------------------------------------------- derivatives at kinks

def test_relu_derivative_at_zero_is_zero():
    result = run_both(lambda x: x.relu(), torch.relu, [-1.0, 0.0, 1.0], "float64")
    np.testing.assert_array_equal(result[2], [0.0, 0.0, 1.0 * upstream((3,), "float64")[2]])
    np.testing.assert_array_equal(result[2], result[3])


def test_abs_derivative_at_zero_is_zero():
    result = run_both(lambda x: x.abs(), torch.abs, [-2.0, 0.0, 3.0], "float64")
    g = upstream((3,), "float64")
    np.testing.assert_array_equal(result[2], [-g[0], 0.0, g[2]])
    np.testing.assert_array_equal(result[2], result[3])


@pytest.mark.parametrize("name", ["max", "min"])
def test_full_max_and_min_split_the_gradient_equally_among_ties(name):
    values = [1.0, 3.0, 3.0, 2.0, 3.0] if name == "max" else [1.0, 3.0, 1.0, 2.0, 1.0]
    x, tx = pair(values)
    getattr(x, name)().backward()
    getattr(tx, name)().backward()
    winners = np.array(values) == (max(values) if name == "max" else min(values))
    np.testing.assert_allclose(x.grad.numpy(), winners / 3.0)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())


def test_full_max_of_a_matrix_splits_the_gradient_among_ties():
    x, tx = pair([[5.0, 1.0], [5.0, 5.0]])
    (x.max() * 6.0).backward()
    (tx.max() * 6.0).backward()
    np.testing.assert_allclose(x.grad.numpy(), [[2.0, 0.0], [2.0, 2.0]])
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_and_min_over_an_axis_give_the_gradient_to_the_first_extreme_index(name, axis, keepdims):
    values = [[3.0, 1.0, 3.0], [2.0, 2.0, 0.0], [3.0, 2.0, 3.0]]
    if name == "min":
        values = (-np.array(values)).tolist()
    x, tx = pair(values)
    y = getattr(x, name)(axis=axis, keepdims=keepdims)
    ty = getattr(tx, name)(dim=axis, keepdim=keepdims).values
    np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    g = upstream(y.shape, "float64") + 3.0                  # no zeros: every slice's winner shows
    y.backward(g)
    ty.backward(torch.from_numpy(g))
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
    first = np.argmax(values if name == "max" else -np.array(values), axis=axis)
    expected = np.zeros((3, 3))
    g_flat = g.reshape(3)
    for k in range(3):
        position = (k, first[k]) if axis in (1, -1) else (first[k], k)
        expected[position] = g_flat[k]
    np.testing.assert_array_equal(x.grad.numpy(), expected)


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_and_minimum_split_ties_in_half(name):
    a, ta = pair([1.0, 2.0, 3.0])
    b, tb = pair([3.0, 2.0, 1.0])
    getattr(a, name)(b).sum().backward()
    getattr(torch, name)(ta, tb).sum().backward()
    if name == "maximum":
        expected_a, expected_b = [0.0, 0.5, 1.0], [1.0, 0.5, 0.0]
    else:
        expected_a, expected_b = [1.0, 0.5, 0.0], [0.0, 0.5, 1.0]
    np.testing.assert_array_equal(a.grad.numpy(), expected_a)
    np.testing.assert_array_equal(b.grad.numpy(), expected_b)
    np.testing.assert_array_equal(a.grad.numpy(), ta.grad.numpy())
    np.testing.assert_array_equal(b.grad.numpy(), tb.grad.numpy())


@pytest.mark.parametrize("bounds", [dict(min=0.0, max=1.0), dict(min=0.0), dict(max=1.0)])
def test_clip_gradient_at_the_bounds_equals_torch_clamp(bounds):
    values = [-1.0, 0.0, 0.5, 1.0, 2.0]
    x, tx = pair(values)
    y, ty = x.clip(**bounds), torch.clamp(tx, **bounds)
    np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    y.sum().backward()
    ty.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


def test_clip_passes_the_gradient_at_both_bounds():
    x = Tensor([-1.0, 0.0, 0.5, 1.0, 2.0], requires_grad=True)
    x.clip(0.0, 1.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0, 1.0, 1.0, 0.0])


# ----------------------------------------------------------------------------- where

def test_where_does_not_leak_nan_or_inf_from_the_branch_not_taken():
    x = Tensor([1.0, 2.0, -1.0, 3.0], requires_grad=True)
    y = Tensor([np.nan, np.inf, 5.0, -np.inf], requires_grad=True)
    out = tinygrad_edu.where(x > 0, x, y)
    np.testing.assert_array_equal(out.detach().numpy(), [1.0, 2.0, 5.0, 3.0])
    out.backward(np.array([10.0, 20.0, 30.0, 40.0]))
    assert np.isfinite(x.grad.numpy()).all()
    np.testing.assert_array_equal(x.grad.numpy(), [10.0, 20.0, 0.0, 40.0])
    np.testing.assert_array_equal(y.grad.numpy(), [0.0, 0.0, 30.0, 0.0])


def test_where_method_form_routes_the_gradient_like_the_function():
    x = Tensor([1.0, -2.0], requires_grad=True)
    y = Tensor([np.nan, 7.0], requires_grad=True)
    x.where(x > 0, y).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 0.0])
    np.testing.assert_array_equal(y.grad.numpy(), [0.0, 1.0])


WHERE_OF_UNSAFE = {
    "sqrt": (lambda x: x.sqrt(), torch.sqrt),
    "log": (lambda x: x.log(), torch.log),
    "reciprocal": (lambda x: 1.0 / x, lambda t: 1.0 / t),
}


@pytest.mark.parametrize("name", list(WHERE_OF_UNSAFE))
def test_where_over_an_unsafe_branch_matches_torch_exactly_including_nan(name):
    """The classic trap: where(x > 0, sqrt(x), 0) still has nan in the gradient of the
    branch not taken in PyTorch; the engine must agree value for value, nan for nan."""
    ours, theirs = WHERE_OF_UNSAFE[name]
    x, tx = pair([-1.0, 0.0, 4.0])
    with np.errstate(all="ignore"):
        y = tinygrad_edu.where(x > 0, ours(x), 0.0)
        y.sum().backward()
    ty = torch.where(tx > 0, theirs(tx), 0.0)
    ty.sum().backward()
    np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())   # nan == nan here


# ----------------------------------------------------------------------------- gelu

@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_matches_torch_in_both_forms(approximate, dtype):
    values = np.linspace(-8.0, 8.0, 41)
    result = run_both(lambda x: x.gelu(approximate=approximate),
                      lambda t: F.gelu(t, approximate=approximate), values, dtype)
    assert_matches_torch_and_finite(result, dtype)


def test_gelu_default_is_the_exact_form_not_the_tanh_approximation():
    x = Tensor(np.linspace(-3.0, 3.0, 13), dtype="float64")
    exact = F.gelu(torch.from_numpy(x.numpy()), approximate="none").numpy()
    np.testing.assert_allclose(x.gelu().numpy(), exact, rtol=1e-12, atol=1e-14)
    assert np.abs(x.gelu(approximate="tanh").numpy() - exact).max() > 1e-5


# ----------------------------------------------------------------------------- dtype rules

DTYPE_CASES = {
    "float32 * float": (np.float32, lambda t: t * 2.5),
    "float * float32": (np.float32, lambda t: 2.5 * t),
    "float32 + int": (np.float32, lambda t: t + 3),
    "float32 / int": (np.float32, lambda t: t / 3),
    "float32 ** int": (np.float32, lambda t: t ** 2),
    "float32 ** float": (np.float32, lambda t: t ** 0.5),
    "float - float32": (np.float32, lambda t: 1.5 - t),
    "float64 * float": (np.float64, lambda t: t * 2.5),
    "int64 * float": (np.int64, lambda t: t * 2.5),
    "float * int64": (np.int64, lambda t: 2.5 * t),
    "int64 + float": (np.int64, lambda t: t + 0.5),
    "int64 * int": (np.int64, lambda t: t * 2),
    "int64 / int": (np.int64, lambda t: t / 2),
}


@pytest.mark.parametrize("case", list(DTYPE_CASES))
def test_result_dtype_follows_torch_with_python_scalars(case):
    dtype, op = DTYPE_CASES[case]
    values = np.array([1, 2, 4], dtype=dtype)
    ours = op(Tensor(values))
    theirs = op(torch.from_numpy(values))
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_float32_zero_dim_tensor_stays_float32_with_python_scalars():
    assert (Tensor(2.0) * 3.0 + 1).dtype == np.float32


def test_gradient_of_a_float32_leaf_is_float32_after_scalar_ops():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * 2.5 + 1).sum().backward()
    assert x.grad.dtype == np.float32


def test_python_floats_become_float32_and_ints_int64():
    assert Tensor([1.5, 2.0]).dtype == np.float32
    assert Tensor(2.0).dtype == np.float32
    assert Tensor([1, 2]).dtype == np.int64
