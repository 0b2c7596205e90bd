"""The public surface of Tensor, as DESIGN.md specifies it.

Where PyTorch has the same thing, the same call runs through torch and the results are
compared (values, shape and dtype). Autograd itself is covered in depth elsewhere; here
only the API's promises about it (is_leaf, requires_grad, comparisons carry no grad,
no_grad) are checked.
"""
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import tinygrad_edu
from tinygrad_edu import Tensor, no_grad

pytestmark = [pytest.mark.lecture06, pytest.mark.lecture09]   # the Tensor API as PyTorch has it

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ----------------------------------------------------------------------------- helpers

def dtype_name(dtype) -> str:
    """'float32' for np.float32, np.dtype('float32') or torch.float32."""
    if isinstance(dtype, torch.dtype):
        return str(dtype).replace("torch.", "")
    return np.dtype(dtype).name


def assert_same(ours: Tensor, theirs: torch.Tensor, rtol: float = 1e-6, atol: float = 1e-6) -> None:
    """Same shape, same dtype, same values as the torch result."""
    assert isinstance(ours, Tensor)
    assert ours.shape == tuple(theirs.shape)
    assert dtype_name(ours.dtype) == dtype_name(theirs.dtype)
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=rtol, atol=atol)


def sample(*shape) -> np.ndarray:
    """A float32 array with distinct values of both signs (no ties for max/argmax)."""
    n = int(np.prod(shape))
    values = np.linspace(-1.0, 1.0, n, dtype=np.float32)
    return np.random.default_rng(1).permutation(values).reshape(shape)


# ----------------------------------------------------------------------------- construction

@pytest.mark.parametrize("data, dtype", [
    (2.5, "float32"), (3, "int64"), (True, "bool"),
    ([1.0, 2.0], "float32"), ([1, 2], "int64"), ([True, False], "bool"),
    ([1, 2.5], "float32"), ([[1, 2], [3, 4]], "int64"), ([[0.5], [1.5]], "float32"),
])
def test_python_data_gets_torch_default_dtype(data, dtype):
    ours = Tensor(data)
    assert dtype_name(ours.dtype) == dtype
    assert_same(ours, torch.tensor(data))


def test_nested_lists_give_their_shape():
    t = Tensor([[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]])
    assert t.shape == (1, 2, 3)
    assert t.tolist() == [[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]]


def test_python_scalar_gives_zero_dim_tensor():
    t = Tensor(4.0)
    assert t.shape == ()
    assert t.ndim == 0
    assert t.item() == 4.0


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16, np.int32, np.int64, np.uint8, np.bool_])
def test_numpy_array_keeps_its_dtype(dtype):
    array = np.array([[1, 0, 1], [0, 1, 1]]).astype(dtype)
    t = Tensor(array)
    assert t.dtype == np.dtype(dtype)
    assert_same(t, torch.tensor(array))


def test_numpy_scalar_keeps_its_dtype():
    t = Tensor(np.float64(1.5))
    assert t.dtype == np.float64
    assert t.shape == ()


def test_constructor_copies_numpy_input():
    source = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    t = Tensor(source)
    source[0] = 100.0
    assert t.tolist() == [1.0, 2.0, 3.0]


def test_constructor_from_tensor_keeps_values_and_dtype():
    original = Tensor(np.array([1.5, -2.0]))          # float64
    copy = Tensor(original)
    assert copy.dtype == np.float64
    assert copy.tolist() == [1.5, -2.0]


def test_constructor_from_tensor_copies_it():
    original = Tensor([1.0, 2.0])
    copy = Tensor(original)
    original.data[0] = 100.0
    assert copy.tolist() == [1.0, 2.0]


def test_constructor_from_tensor_makes_a_fresh_leaf():
    original = Tensor([1.0, 2.0], requires_grad=True) * 2
    copy = Tensor(original)
    assert copy.is_leaf
    assert copy.requires_grad is False


@pytest.mark.parametrize("dtype", ["float64", np.float64, tinygrad_edu.float64])
def test_dtype_argument_sets_the_dtype(dtype):
    t = Tensor([1, 2, 3], dtype=dtype)
    assert t.dtype == np.float64
    assert t.tolist() == [1.0, 2.0, 3.0]


def test_dtype_argument_converts_floats_to_int_like_torch():
    assert_same(Tensor([1.5, -2.5, 3.9], dtype="int64"),
                torch.tensor([1.5, -2.5, 3.9], dtype=torch.int64))


def test_dtype_argument_overrides_numpy_dtype():
    t = Tensor(np.array([1, 2], dtype=np.int32), dtype="float32")
    assert t.dtype == np.float32


def test_requires_grad_argument_makes_a_leaf_that_requires_grad():
    t = Tensor([1.0, 2.0], requires_grad=True)
    assert t.requires_grad is True
    assert t.is_leaf
    assert t.grad is None


def test_tensors_do_not_require_grad_by_default():
    assert Tensor([1.0]).requires_grad is False


# ----------------------------------------------------------------------------- constructors

@pytest.mark.parametrize("name", ["zeros", "ones"])
def test_zeros_ones_accept_shape_as_tuple_or_ints(name):
    from_tuple = getattr(Tensor, name)((2, 3))
    from_ints = getattr(Tensor, name)(2, 3)
    expected = getattr(torch, name)(2, 3)
    assert_same(from_tuple, expected)
    assert_same(from_ints, expected)


@pytest.mark.parametrize("name", ["zeros", "ones", "rand", "randn", "uniform"])
def test_random_and_filled_constructors_accept_shape_as_tuple_or_ints(name):
    make = getattr(Tensor, name)
    assert make((2, 3, 4)).shape == (2, 3, 4)
    assert make(2, 3, 4).shape == (2, 3, 4)
    assert make(5).shape == (5,)


@pytest.mark.parametrize("make", [
    lambda **kw: Tensor.zeros(2, 3, **kw),
    lambda **kw: Tensor.ones(2, 3, **kw),
    lambda **kw: Tensor.full((2, 3), 0.5, **kw),
    lambda **kw: Tensor.rand(2, 3, **kw),
    lambda **kw: Tensor.randn(2, 3, **kw),
    lambda **kw: Tensor.uniform(2, 3, **kw),
    lambda **kw: Tensor.eye(3, **kw),
    lambda **kw: Tensor.arange(0.0, 3.0, **kw),
], ids=["zeros", "ones", "full", "rand", "randn", "uniform", "eye", "arange"])
def test_constructors_default_to_float32_leaves_without_grad(make):
    t = make()
    assert t.dtype == np.float32
    assert t.requires_grad is False
    assert t.is_leaf
    assert t.device == "cpu"


@pytest.mark.parametrize("make", [
    lambda **kw: Tensor.zeros(2, 3, **kw),
    lambda **kw: Tensor.ones(2, 3, **kw),
    lambda **kw: Tensor.full((2, 3), 0.5, **kw),
    lambda **kw: Tensor.rand(2, 3, **kw),
    lambda **kw: Tensor.randn(2, 3, **kw),
    lambda **kw: Tensor.uniform(2, 3, **kw),
    lambda **kw: Tensor.eye(3, **kw),
    lambda **kw: Tensor.arange(0.0, 3.0, **kw),
], ids=["zeros", "ones", "full", "rand", "randn", "uniform", "eye", "arange"])
def test_constructors_honour_requires_grad_and_dtype(make):
    t = make(requires_grad=True, dtype="float64")
    assert t.dtype == np.float64
    assert t.requires_grad is True
    assert t.is_leaf
    assert t.grad is None


@pytest.mark.parametrize("fill, dtype", [(0.5, "float32"), (7, "int64"), (True, "bool")])
def test_full_infers_dtype_from_fill_value_like_torch(fill, dtype):
    ours = Tensor.full((2, 3), fill)
    assert dtype_name(ours.dtype) == dtype
    assert_same(ours, torch.full((2, 3), fill))


def test_rand_is_in_unit_interval():
    values = Tensor.rand(1000).numpy()
    assert values.min() >= 0.0 and values.max() < 1.0
    assert values.std() > 0.1                                  # not constant


def test_randn_is_roughly_standard_normal():
    values = Tensor.randn(20000).numpy()
    assert abs(values.mean()) < 0.05
    assert abs(values.std() - 1.0) < 0.05


def test_uniform_respects_low_and_high():
    values = Tensor.uniform(1000, low=-2.0, high=3.0).numpy()
    assert values.min() >= -2.0 and values.max() < 3.0
    assert values.min() < -1.5 and values.max() > 2.5         # covers the interval


@pytest.mark.parametrize("args", [(3,), (2, 4), (4, 2)])
def test_eye_matches_torch(args):
    assert_same(Tensor.eye(*args), torch.eye(*args))


@pytest.mark.parametrize("args", [(5,), (2, 7), (1, 10, 3), (-3, 3)])
def test_arange_of_ints_is_int64_like_torch(args):
    ours = Tensor.arange(*args)
    assert ours.dtype == np.int64
    assert_same(ours, torch.arange(*args))


@pytest.mark.parametrize("args", [(2.5,), (0.0, 1.0, 0.25), (0, 2, 0.5), (-1.0, 1)])
def test_arange_of_floats_is_float32_like_torch(args):
    ours = Tensor.arange(*args)
    assert ours.dtype == np.float32
    assert_same(ours, torch.arange(*args))


@pytest.mark.parametrize("like", [Tensor.zeros_like, tinygrad_edu.zeros_like])
def test_zeros_like_copies_shape_and_dtype(like):
    source = Tensor(np.ones((2, 3), dtype=np.float64))
    t = like(source)
    assert_same(t, torch.zeros_like(torch.ones(2, 3, dtype=torch.float64)))


@pytest.mark.parametrize("like", [Tensor.ones_like, tinygrad_edu.ones_like])
def test_ones_like_copies_shape_and_dtype(like):
    source = Tensor([[1, 2], [3, 4]])
    assert_same(like(source), torch.ones_like(torch.tensor([[1, 2], [3, 4]])))


def test_zeros_like_does_not_inherit_requires_grad():
    source = Tensor([1.0, 2.0], requires_grad=True)
    assert tinygrad_edu.zeros_like(source).requires_grad is False


def test_zeros_like_accepts_requires_grad():
    t = Tensor.zeros_like(Tensor([1.0, 2.0]), requires_grad=True)
    assert t.requires_grad is True
    assert t.is_leaf


@pytest.mark.parametrize("name", ["rand", "randn", "uniform"])
def test_manual_seed_makes_random_tensors_reproducible(name):
    make = getattr(Tensor, name)
    tinygrad_edu.manual_seed(123)
    first = make(3, 4).numpy()
    tinygrad_edu.manual_seed(123)
    second = make(3, 4).numpy()
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("name", ["rand", "randn", "uniform"])
def test_different_seeds_give_different_random_tensors(name):
    make = getattr(Tensor, name)
    tinygrad_edu.manual_seed(1)
    first = make(3, 4).numpy()
    tinygrad_edu.manual_seed(2)
    second = make(3, 4).numpy()
    assert not np.array_equal(first, second)


def test_successive_random_tensors_differ():
    tinygrad_edu.manual_seed(5)
    assert not np.array_equal(Tensor.rand(8).numpy(), Tensor.rand(8).numpy())


# ----------------------------------------------------------------------------- dtypes of results

def test_argmax_over_an_axis_gives_int64_like_torch():
    data = sample(3, 4)
    assert_same(Tensor(data).argmax(axis=1), torch.tensor(data).argmax(dim=1))


def test_argmax_over_all_elements_gives_a_zero_dim_int64_like_torch():
    data = sample(3, 4)
    ours = Tensor(data).argmax()
    assert isinstance(ours.numpy(), np.ndarray)
    assert_same(ours, torch.tensor(data).argmax())


@pytest.mark.parametrize("op", ["lt", "le", "gt", "ge", "eq", "ne"])
def test_comparisons_give_bool_like_torch(op):
    a, b = [1.0, 2.0, 3.0], [3.0, 2.0, 1.0]
    ours = getattr(Tensor(a), f"__{op}__")(Tensor(b))
    assert ours.dtype == np.bool_
    assert_same(ours, getattr(torch.tensor(a), f"__{op}__")(torch.tensor(b)))


@pytest.mark.parametrize("op", ["lt", "le", "gt", "ge", "eq", "ne"])
def test_comparison_with_a_number_gives_bool(op):
    ours = getattr(Tensor([1.0, 2.0, 3.0]), f"__{op}__")(2.0)
    assert_same(ours, getattr(torch.tensor([1.0, 2.0, 3.0]), f"__{op}__")(2.0))


@pytest.mark.parametrize("compare", [
    lambda x: x > 0, lambda x: x < 0, lambda x: x >= x, lambda x: x == 1.0, lambda x: x != x * 2,
], ids=["gt", "lt", "ge_self", "eq", "ne_result"])
def test_comparisons_never_require_grad(compare):
    x = Tensor([-1.0, 0.0, 1.0], requires_grad=True)
    result = compare(x)
    assert result.requires_grad is False
    assert result.grad_fn is None
    assert result.is_leaf


# ----------------------------------------------------------------------------- properties

def test_shape_is_a_tuple_of_ints():
    t = Tensor.zeros(2, 3, 4)
    assert t.shape == (2, 3, 4)
    assert isinstance(t.shape, tuple)


@pytest.mark.parametrize("shape", [(), (5,), (2, 3), (1, 2, 3, 4)])
def test_ndim_counts_axes(shape):
    assert Tensor.zeros(shape).ndim == len(shape)


def test_dtype_compares_equal_to_numpy_dtype():
    assert Tensor([1.0]).dtype == np.float32
    assert Tensor([1]).dtype == np.int64


def test_dtype_compares_equal_to_module_dtype_names():
    assert Tensor([1.0]).dtype == tinygrad_edu.float32
    assert Tensor([1]).dtype == tinygrad_edu.int64
    assert Tensor(np.array([1.0])).dtype == tinygrad_edu.float64


def test_device_is_cpu():
    assert Tensor([1.0]).device == "cpu"
    assert Tensor.zeros(2).device == "cpu"


def test_result_of_an_op_is_not_a_leaf():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    assert y.is_leaf is False
    assert y.requires_grad is True


def test_result_of_an_op_on_constants_is_a_leaf_without_grad():
    y = Tensor([1.0, 2.0]) * 2
    assert y.is_leaf
    assert y.requires_grad is False


def test_numpy_returns_a_numpy_array_with_values_and_dtype():
    t = Tensor([[1, 2], [3, 4]])
    array = t.numpy()
    assert isinstance(array, np.ndarray)
    assert array.dtype == np.int64
    np.testing.assert_array_equal(array, [[1, 2], [3, 4]])


def test_numpy_of_a_zero_dim_tensor_is_an_array():
    array = Tensor(2.0).numpy()
    assert isinstance(array, np.ndarray)
    assert array.shape == ()


@pytest.mark.parametrize("data, expected_type", [(2.5, float), (7, int), (True, bool), ([[3.0]], float)])
def test_item_returns_a_python_number(data, expected_type):
    value = Tensor(data).item()
    assert type(value) is expected_type
    assert value == torch.tensor(data).item()


@pytest.mark.parametrize("data", [[[1.0, 2.0], [3.0, 4.0]], [1, 2, 3], 5.0, [[True], [False]]])
def test_tolist_matches_torch(data):
    ours = Tensor(data).tolist()
    assert ours == torch.tensor(data).tolist()
    assert type(ours) is type(torch.tensor(data).tolist())


def test_len_is_the_first_axis():
    assert len(Tensor.zeros(4, 2)) == 4
    assert len(Tensor([1, 2, 3])) == 3


def test_len_of_a_zero_dim_tensor_is_a_type_error_like_torch():
    with pytest.raises(TypeError):
        len(torch.tensor(1.0))
    with pytest.raises(TypeError):
        len(Tensor(1.0))


# ----------------------------------------------------------------------------- repr

def test_repr_of_a_plain_float_tensor():
    assert repr(Tensor([1.0, 2.0])) == "Tensor([1., 2.])"


def test_repr_shows_requires_grad():
    assert repr(Tensor([1.0, 2.0], requires_grad=True)) == "Tensor([1., 2.], requires_grad=True)"


def test_repr_shows_grad_fn_of_a_result():
    x = Tensor([1.0, 2.0], requires_grad=True)
    assert repr(x * x) == "Tensor([1., 4.], grad_fn=<Mul>)"


def test_repr_shows_a_non_default_dtype():
    assert repr(Tensor(np.array([1.0, 2.0]))) == "Tensor([1., 2.], dtype=float64)"
    assert repr(Tensor([1, 2], dtype="int32")) == "Tensor([1, 2], dtype=int32)"


@pytest.mark.parametrize("data", [
    [1, 2], [True, False], [[1.0, 2.0], [3.0, 4.0]], [[1, 2, 3]], 2.0, 3, [-1.0, 2.0], [[-1, 20], [3, 4]],
])
def test_repr_matches_torch_for_default_dtypes(data):
    assert repr(Tensor(data)) == repr(torch.tensor(data)).replace("tensor(", "Tensor(")


# ----------------------------------------------------------------------------- axis / keepdims aliases

REDUCTIONS = ["sum", "mean", "max", "min", "var", "std", "argmax", "logsumexp"]


def torch_reduce(name: str, t: torch.Tensor, dim: int, keepdim: bool) -> torch.Tensor:
    out = getattr(t, name)(dim=dim, keepdim=keepdim)
    return out.values if name in ("max", "min") else out


@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.parametrize("keep", [False, True])
def test_reduction_axis_keepdims_match_torch(name, keep):
    data = sample(3, 4, 5)
    ours = getattr(Tensor(data), name)(axis=1, keepdims=keep)
    assert_same(ours, torch_reduce(name, torch.tensor(data), 1, keep), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.parametrize("keep", [False, True])
def test_reduction_accepts_dim_keepdim_aliases(name, keep):
    x = Tensor(sample(3, 4, 5))
    by_alias = getattr(x, name)(dim=-1, keepdim=keep)
    by_numpy_name = getattr(x, name)(axis=-1, keepdims=keep)
    assert by_alias.shape == by_numpy_name.shape
    np.testing.assert_array_equal(by_alias.numpy(), by_numpy_name.numpy())


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "argmax", "logsumexp", "var", "std"])
def test_reduction_takes_axis_positionally(name):
    x = Tensor(sample(3, 4))
    np.testing.assert_array_equal(getattr(x, name)(0).numpy(), getattr(x, name)(axis=0).numpy())


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "var", "std"])
def test_full_reduction_matches_torch(name):
    data = sample(3, 4)
    assert_same(getattr(Tensor(data), name)(), getattr(torch.tensor(data), name)(), rtol=1e-5)


def test_logsumexp_over_all_axes_is_a_scalar():
    data = sample(3, 4)
    ours = Tensor(data).logsumexp()
    assert_same(ours, torch.tensor(data).logsumexp(dim=(0, 1)), rtol=1e-5)


def test_sum_over_a_tuple_of_axes_matches_torch():
    data = sample(2, 3, 4)
    assert_same(Tensor(data).sum(axis=(0, 2)), torch.tensor(data).sum(dim=(0, 2)), rtol=1e-5)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_softmax_axis_matches_torch(name, axis):
    data = sample(3, 4)
    expected = getattr(torch.tensor(data), name)(dim=axis)
    assert_same(getattr(Tensor(data), name)(axis=axis), expected, rtol=1e-5)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_softmax_accepts_dim_alias(name, axis):
    data = sample(3, 4)
    expected = getattr(torch.tensor(data), name)(dim=axis)
    assert_same(getattr(Tensor(data), name)(dim=axis), expected, rtol=1e-5)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_defaults_to_the_last_axis(name):
    data = sample(3, 4)
    assert_same(getattr(Tensor(data), name)(), getattr(torch.tensor(data), name)(dim=-1), rtol=1e-5)


# ----------------------------------------------------------------------------- var / std

@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std_are_unbiased_by_default_like_torch(name):
    data = [1.0, 2.0, 4.0, 7.0]
    ours = getattr(Tensor(data), name)()
    assert_same(ours, getattr(torch.tensor(data), name)(), rtol=1e-6)
    assert ours.item() != pytest.approx(getattr(np, name)(data))        # numpy's ddof=0 differs


@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("correction", [0, 1, 2])
def test_var_std_correction_matches_torch(name, correction):
    data = sample(4, 5)
    ours = getattr(Tensor(data), name)(axis=1, correction=correction)
    assert_same(ours, getattr(torch.tensor(data), name)(dim=1, correction=correction), rtol=1e-5)


# ----------------------------------------------------------------------------- movement

@pytest.mark.parametrize("name", ["reshape", "view"])
@pytest.mark.parametrize("shape", [(3, 4), (2, 6), (12,), (2, -1), (-1, 3, 2)])
def test_reshape_view_accept_tuple_or_ints_like_torch(name, shape):
    data = sample(4, 3)
    expected = getattr(torch.tensor(data), name)(*shape)
    assert_same(getattr(Tensor(data), name)(shape), expected)
    assert_same(getattr(Tensor(data), name)(*shape), expected)


@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 4), (-1, 4), (2, -1, 4)])
def test_expand_accepts_tuple_or_ints_like_torch(shape):
    data = sample(3, 1)
    expected = torch.tensor(data).expand(*shape)
    assert_same(Tensor(data).expand(shape), expected)
    assert_same(Tensor(data).expand(*shape), expected)


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 0, 1), (1, 2, 0), (-1, 0, 1)])
def test_permute_accepts_tuple_or_ints_like_torch(order):
    data = sample(2, 3, 4)
    expected = torch.tensor(data).permute(*order)
    assert_same(Tensor(data).permute(order), expected)
    assert_same(Tensor(data).permute(*order), expected)


@pytest.mark.parametrize("args", [(), (1,), (1, 2), (0, 1), (-2, -1), (2, 2)])
def test_flatten_matches_torch(args):
    data = sample(2, 3, 4, 5)
    assert_same(Tensor(data).flatten(*args), torch.tensor(data).flatten(*args))


def test_flatten_of_a_zero_dim_tensor_gives_one_element_like_torch():
    assert_same(Tensor(2.0).flatten(), torch.tensor(2.0).flatten())


def test_flatten_takes_start_dim_end_dim_keywords():
    assert Tensor.zeros(2, 3, 4).flatten(start_dim=0, end_dim=1).shape == (6, 4)


@pytest.mark.parametrize("args", [(), (0,), (2,), (-1,), (1,)])
def test_squeeze_matches_torch(args):
    data = sample(1, 3, 1, 1)
    assert_same(Tensor(data).squeeze(*args), torch.tensor(data).squeeze(*args))


def test_squeeze_of_an_axis_that_is_not_one_keeps_the_shape():
    assert Tensor.zeros(2, 3).squeeze(0).shape == (2, 3)


@pytest.mark.parametrize("dim", [0, 1, 2, -1, -3])
def test_unsqueeze_matches_torch(dim):
    data = sample(2, 3)
    assert_same(Tensor(data).unsqueeze(dim), torch.tensor(data).unsqueeze(dim))


@pytest.mark.parametrize("dims", [(0, 1), (0, 2), (2, 0), (-1, 1), (1, 1)])
def test_transpose_swaps_two_axes_like_torch(dims):
    data = sample(2, 3, 4)
    assert_same(Tensor(data).transpose(*dims), torch.tensor(data).transpose(*dims))


def test_T_of_a_matrix_matches_torch():
    data = sample(2, 3)
    assert_same(Tensor(data).T, torch.tensor(data).T)


def test_T_reverses_all_axes():
    data = sample(2, 3, 4)
    ours = Tensor(data).T
    assert ours.shape == (4, 3, 2)
    np.testing.assert_array_equal(ours.numpy(), data.transpose(2, 1, 0))


@pytest.mark.parametrize("name", ["cat", "stack"])
@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("sequence", [list, tuple])
def test_cat_stack_take_a_sequence_like_torch(name, axis, sequence):
    pieces = [sample(2, 3), sample(2, 3) + 1, sample(2, 3) * 2]
    expected = getattr(torch, name)([torch.tensor(p) for p in pieces], dim=axis)
    assert_same(getattr(Tensor, name)(sequence(Tensor(p) for p in pieces), axis=axis), expected)


@pytest.mark.parametrize("name", ["cat", "stack"])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_cat_stack_accept_dim_alias(name, axis):
    pieces = [sample(2, 3), sample(2, 3) + 1]
    expected = getattr(torch, name)([torch.tensor(p) for p in pieces], dim=axis)
    assert_same(getattr(Tensor, name)([Tensor(p) for p in pieces], dim=axis), expected)


@pytest.mark.parametrize("name", ["cat", "stack"])
def test_cat_stack_default_to_axis_zero(name):
    pieces = [sample(2, 3), sample(2, 3) + 1]
    expected = getattr(torch, name)([torch.tensor(p) for p in pieces])
    assert_same(getattr(Tensor, name)([Tensor(p) for p in pieces]), expected)


def test_cat_joins_tensors_of_different_lengths_along_the_axis():
    a, b = sample(2, 3), sample(4, 3)
    assert_same(Tensor.cat([Tensor(a), Tensor(b)]), torch.cat([torch.tensor(a), torch.tensor(b)]))


def test_cat_and_stack_are_also_module_functions():
    pieces = [Tensor([1.0, 2.0]), Tensor([3.0, 4.0])]
    assert tinygrad_edu.cat(pieces).tolist() == [1.0, 2.0, 3.0, 4.0]
    assert tinygrad_edu.stack(pieces).tolist() == [[1.0, 2.0], [3.0, 4.0]]


@pytest.mark.parametrize("pad", [(1, 2), (0, 0), (1, 0, 0, 2), (2, 1, 1, 0, 1, 1)])
def test_pad_takes_pytorch_flat_tuple_last_axis_first(pad):
    data = sample(2, 3, 4)
    expected = torch.nn.functional.pad(torch.tensor(data), pad)
    assert_same(Tensor(data).pad(pad), expected)


def test_pad_fills_with_value():
    data = sample(2, 3)
    expected = torch.nn.functional.pad(torch.tensor(data), (1, 1, 2, 0), value=-5.0)
    assert_same(Tensor(data).pad((1, 1, 2, 0), value=-5.0), expected)


def test_functional_pad_takes_torchs_arguments_by_position_and_by_name():
    import tinygrad_edu.nn.functional as F
    data = sample(2, 3)
    for args, kwargs in [(((1, 1),), {}), (((1, 1), "constant", -2.0), {}), (((0, 2, 1, 0),), {"value": 3.0}),
                         (((1, 1), "constant"), {"value": None})]:
        expected = torch.nn.functional.pad(torch.tensor(data), *args, **kwargs)
        assert_same(F.pad(Tensor(data), *args, **kwargs), expected)
    with pytest.raises(NotImplementedError, match=r"F.pad: mode='reflect' is not built here, only mode='constant'"):
        F.pad(Tensor(data), (1, 1), "reflect")


# ----------------------------------------------------------------------------- indexing

INDEXES = {
    "int": lambda lib: 1,
    "negative_int": lambda lib: -1,
    "two_ints": lambda lib: (1, 2),
    "slice": lambda lib: slice(1, 3),
    "step_slice": lambda lib: (slice(None), slice(None, None, 2)),
    "none": lambda lib: None,
    "none_in_middle": lambda lib: (slice(None), None, 0),
    "ellipsis": lambda lib: (Ellipsis, 1),
    "ellipsis_none": lambda lib: (0, Ellipsis, None),
    "int_list": lambda lib: [0, 2, 2],
    "bool_list": lambda lib: [True, False, True],
    "int_list_second_axis": lambda lib: (slice(None), [3, 0]),
    "numpy_int_array": lambda lib: np.array([2, 0]) if lib == "ours" else torch.tensor([2, 0]),
    "int_tensor": lambda lib: Tensor([2, 1]) if lib == "ours" else torch.tensor([2, 1]),
    "paired_int_arrays": lambda lib: ([0, 1, 2], [3, 2, 1]),
    "bool_mask_rows": lambda lib: (np.array([True, False, True]) if lib == "ours"
                                   else torch.tensor([True, False, True])),
    "bool_tensor_mask": lambda lib: (Tensor(np.array([[True, False, True, False]] * 3)) if lib == "ours"
                                     else torch.tensor([[True, False, True, False]] * 3)),
}


@pytest.mark.parametrize("name", list(INDEXES))
def test_getitem_matches_torch(name):
    data = sample(3, 4)
    index = INDEXES[name]
    assert_same(Tensor(data)[index("ours")], torch.tensor(data)[index("torch")])


def test_getitem_with_a_comparison_mask_selects_matching_elements():
    data = sample(3, 4)
    x = Tensor(data)
    selected = x[x > 0]
    expected = torch.tensor(data)[torch.tensor(data) > 0]
    assert_same(selected, expected)
    assert (selected.numpy() > 0).all()


def test_getitem_keeps_the_dtype():
    assert Tensor([1, 2, 3])[1:].dtype == np.int64


def test_getitem_of_a_requires_grad_tensor_records_the_graph():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x[x > 1.5]
    assert y.requires_grad is True
    assert not y.is_leaf


# ----------------------------------------------------------------------------- where

def test_where_function_matches_torch():
    cond = [True, False, True]
    a, b = [1.0, 2.0, 3.0], [-1.0, -2.0, -3.0]
    expected = torch.where(torch.tensor(cond), torch.tensor(a), torch.tensor(b))
    assert_same(tinygrad_edu.where(Tensor(cond), Tensor(a), Tensor(b)), expected)


def test_where_method_matches_torch():
    cond = [True, False, True]
    a, b = [1.0, 2.0, 3.0], [-1.0, -2.0, -3.0]
    expected = torch.tensor(a).where(torch.tensor(cond), torch.tensor(b))
    assert_same(Tensor(a).where(Tensor(cond), Tensor(b)), expected)


def test_where_with_a_comparison_condition_and_a_number():
    data = sample(3, 4)
    x = Tensor(data)
    expected = torch.tensor(data).where(torch.tensor(data) > 0, 0.0)
    assert_same(x.where(x > 0, 0.0), expected)


def test_where_broadcasts_like_torch():
    cond = np.array([[True], [False]])
    a, b = sample(2, 3), sample(3)
    expected = torch.where(torch.tensor(cond), torch.tensor(a), torch.tensor(b))
    assert_same(tinygrad_edu.where(Tensor(cond), Tensor(a), Tensor(b)), expected)


# ----------------------------------------------------------------------------- dtype and device moves

@pytest.mark.parametrize("dtype", ["float64", np.float64, "int64", np.int32, "bool"])
def test_astype_matches_torch_to_dtype(dtype):
    data = [-1.5, 0.0, 2.7]
    torch_dtype = getattr(torch, np.dtype(dtype).name)
    assert_same(Tensor(data).astype(dtype), torch.tensor(data).to(torch_dtype))


def test_astype_to_the_same_dtype_keeps_values():
    t = Tensor([1.0, 2.0])
    assert t.astype("float32").tolist() == [1.0, 2.0]


@pytest.mark.parametrize("move", [lambda t: t.to("cpu"), lambda t: t.cpu()], ids=["to_cpu", "cpu"])
def test_moving_to_cpu_keeps_values_dtype_and_device(move):
    t = Tensor(np.array([1.0, 2.0]))
    moved = move(t)
    assert moved.device == "cpu"
    assert moved.dtype == np.float64
    assert moved.tolist() == [1.0, 2.0]


def test_to_with_a_dtype_converts_like_torch():
    assert_same(Tensor([1.5, 2.0]).to(dtype="float64"), torch.tensor([1.5, 2.0]).to(dtype=torch.float64))


def test_to_cpu_keeps_the_graph():
    x = Tensor([1.0, 2.0], requires_grad=True)
    assert x.to("cpu").requires_grad is True


# ----------------------------------------------------------------------------- default device

def test_default_device_is_cpu():
    assert tinygrad_edu.get_default_device() == "cpu"


def test_set_default_device_cpu_works():
    tinygrad_edu.set_default_device("cpu")
    assert tinygrad_edu.get_default_device() == "cpu"
    assert Tensor([1.0]).device == "cpu"
    assert Tensor.zeros(2).device == "cpu"


@pytest.mark.skipif(tinygrad_edu.cuda_available(), reason="CuPy and a GPU are present")
def test_cuda_from_environment_without_cupy_raises_with_install_hint():
    script = (
        "import sys\n"
        "try:\n"
        "    import tinygrad_edu\n"
        "    tinygrad_edu.Tensor([1.0])\n"
        "except RuntimeError as exc:\n"
        "    print('RuntimeError:', exc)\n"
        "    sys.exit(0)\n"
        "print('no error')\n"
        "sys.exit(1)\n"
    )
    env = dict(os.environ, TINYGRAD_EDU_DEVICE="cuda")
    result = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "RuntimeError" in result.stdout
    assert "cuda" in result.stdout
    assert "[gpu]" in result.stdout                     # how to install the gpu extra


# ----------------------------------------------------------------------------- no_grad

def test_no_grad_context_records_no_graph():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with no_grad():
        y = x * 2
    assert y.requires_grad is False
    assert y.grad_fn is None
    assert tinygrad_edu.is_grad_enabled()


def test_no_grad_decorator_records_no_graph():
    @no_grad
    def double(t):
        return t * 2

    y = double(Tensor([1.0], requires_grad=True))
    assert y.requires_grad is False
    assert tinygrad_edu.is_grad_enabled()


def test_no_grad_called_decorator_records_no_graph():
    @no_grad()
    def double(t):
        return t * 2

    y = double(Tensor([1.0], requires_grad=True))
    assert y.requires_grad is False
    assert tinygrad_edu.is_grad_enabled()


def test_no_grad_restores_grad_mode_after_an_exception():
    with pytest.raises(KeyError):
        with no_grad():
            raise KeyError("boom")
    assert tinygrad_edu.is_grad_enabled()
