"""tinygrad_edu.arguments: each convention of DESIGN.md as one check, with DESIGN's error type
and a message that names the operation."""
import numpy as np
import pytest

from tinygrad_edu import Tensor, arguments

pytestmark = [pytest.mark.lecture09]    # the framework's conventions, as PyTorch has them


# ----------------------------------------------------------------------------- numbers and flags

@pytest.mark.parametrize("value", [0, 3, -2, np.int64(5), np.int32(1)])
def test_is_int_accepts_python_and_numpy_ints(value):
    assert arguments.is_int(value)


@pytest.mark.parametrize("value", [True, np.bool_(True), 2.0, "2", None, [2]])
def test_is_int_refuses_bools_floats_and_others(value):
    assert not arguments.is_int(value)


def test_int_arg_returns_a_plain_int():
    out = arguments.int_arg(np.int64(4), "n", "eye")
    assert out == 4 and type(out) is int


def test_int_arg_of_a_float_is_a_type_error_naming_op_and_argument():
    with pytest.raises(TypeError, match=r"eye: n must be an int, got float 2\.5"):
        arguments.int_arg(2.5, "n", "eye")


def test_int_arg_below_zero_cannot_be_negative():
    with pytest.raises(ValueError, match=r"eye: n cannot be negative, got -1"):
        arguments.int_arg(-1, "n", "eye", minimum=0)


def test_int_arg_below_a_minimum_says_the_minimum():
    with pytest.raises(ValueError, match=r"StepLR: step_size must be >= 1, got 0"):
        arguments.int_arg(0, "step_size", "StepLR", minimum=1)


def test_int_arg_without_minimum_accepts_negatives():
    assert arguments.int_arg(-3, "k", "op") == -3


@pytest.mark.parametrize("value, error", [(0, ValueError), (-4, ValueError), (2.0, TypeError),
                                          (True, TypeError)])
def test_positive_int_refuses(value, error):
    with pytest.raises(error, match=r"DataLoader: batch_size must be a positive int"):
        arguments.positive_int(value, "batch_size", "DataLoader")


def test_positive_int_accepts_one():
    assert arguments.positive_int(np.int64(1), "batch_size", "DataLoader") == 1


def test_flag_accepts_only_true_and_false():
    assert arguments.flag(np.bool_(True), "shuffle", "DataLoader") is True
    assert arguments.flag(False, "shuffle", "DataLoader") is False
    with pytest.raises(TypeError, match=r"DataLoader: shuffle must be True or False, got int 1"):
        arguments.flag(1, "shuffle", "DataLoader")


def test_number_returns_a_float():
    out = arguments.number(np.float32(0.5), "gamma", "StepLR")
    assert out == 0.5 and type(out) is float


@pytest.mark.parametrize("value", [True, "0.1", None, 1j])
def test_number_refuses_non_numbers(value):
    with pytest.raises(TypeError, match=r"StepLR: gamma must be a number"):
        arguments.number(value, "gamma", "StepLR")


@pytest.mark.parametrize("value", [-0.1, float("nan")])
def test_number_below_minimum_or_nan_is_a_value_error(value):
    with pytest.raises(ValueError, match=r"make_moons: noise must be >= 0"):
        arguments.number(value, "noise", "make_moons", minimum=0)


@pytest.mark.parametrize("value", ["mean", "sum", "none"])
def test_reduction_accepts_the_three_names(value):
    assert arguments.reduction(value, "mse_loss") == value


def test_reduction_other_is_a_value_error():
    with pytest.raises(ValueError, match=r"mse_loss: reduction must be 'mean', 'sum' or 'none', got 'avg'"):
        arguments.reduction("avg", "mse_loss")


# ----------------------------------------------------------------------------- shapes and axes

@pytest.mark.parametrize("given", [(2, 3), ((2, 3),), ([2, 3],), (np.int64(2), 3)])
def test_shape_as_separate_ints_or_one_tuple(given):
    assert arguments.shape(given, "zeros") == (2, 3)


def test_shape_of_floats_is_a_type_error():
    with pytest.raises(TypeError, match=r"zeros: a shape must be ints"):
        arguments.shape((2.0, 3), "zeros")


def test_shape_negative_is_a_value_error_unless_minus_one_is_allowed():
    with pytest.raises(ValueError, match=r"reshape: sizes cannot be negative"):
        arguments.shape((-1, 3), "reshape")
    assert arguments.shape((-1, 3), "reshape", allow_minus_one=True) == (-1, 3)
    with pytest.raises(ValueError, match=r"sizes cannot be negative"):
        arguments.shape((-2, 3), "reshape", allow_minus_one=True)


def test_int_tuple_names_what_it_expected():
    with pytest.raises(TypeError, match=r"permute: the axes must be ints"):
        arguments.int_tuple(("a",), "permute", "the axes")


@pytest.mark.parametrize("given, expected", [(3, (3, 3)), ((1, 2), (1, 2)), ([2, 4], (2, 4))])
def test_pair_of_an_int_or_two_ints(given, expected):
    assert arguments.pair(given, "stride", "conv2d") == expected


@pytest.mark.parametrize("given", [(1, 2, 3), 1.5, "2", (1.0, 2)])
def test_pair_refuses_other_values(given):
    with pytest.raises(TypeError, match=r"conv2d: stride must be an int or a pair of ints"):
        arguments.pair(given, "stride", "conv2d")


def test_axis_alias_picks_the_one_given_or_the_default():
    assert arguments.axis_alias(None, None, "axis", "dim", -1) == -1
    assert arguments.axis_alias(1, None, "axis", "dim", -1) == 1
    assert arguments.axis_alias(None, 0, "axis", "dim", -1) == 0


def test_axis_alias_with_both_is_a_type_error():
    with pytest.raises(TypeError, match=r"give either axis= or dim=, not both"):
        arguments.axis_alias(0, 1, "axis", "dim", None)


def test_axes_normalises_negatives_and_keeps_the_form():
    assert arguments.axes(-1, 3, "sum") == 2
    assert arguments.axes((0, -1), 3, "sum") == (0, 2)
    assert arguments.axes([1], 3, "sum") == (1,)
    assert arguments.axes(None, 3, "sum") is None
    assert arguments.axes(0, 0, "sum") is None           # a 0-d tensor: axis 0 or -1 means all


def test_axes_out_of_range_is_an_index_error():
    with pytest.raises(IndexError, match=r"sum: axis 3 is out of range for a tensor with 3 dimension\(s\)"):
        arguments.axes(3, 3, "sum")


def test_axes_repeated_is_a_value_error():
    with pytest.raises(ValueError, match=r"sum: axis \(0, -3\) repeats an axis"):
        arguments.axes((0, -3), 3, "sum")


def test_axes_of_a_float_is_a_type_error():
    with pytest.raises(TypeError, match=r"mean: axis must be an int or a tuple of ints"):
        arguments.axes(1.0, 3, "mean")


def test_axis_arg_and_keepdims_arg_take_pytorchs_aliases():
    assert arguments.axis_arg(None, 1, 2, "sum") == 1
    assert arguments.axis_arg(None, None, 2, "softmax", default=-1) == 1
    assert arguments.keepdims_arg(None, True) is True
    assert arguments.keepdims_arg(None, None) is False


def test_broadcastable_names_op_and_shapes():
    arguments.broadcastable("add", (3, 1), (4,))
    with pytest.raises(ValueError, match=r"add: shapes \(3, 4\) and \(5, 2\) cannot be broadcast together \(4 != 2\)"):
        arguments.broadcastable("add", (3, 4), (5, 2))


def test_reshape_target_infers_one_minus_one():
    assert arguments.reshape_target((-1, 4), (2, 6), 12) == (3, 4)
    with pytest.raises(ValueError, match=r"reshape: only one size can be -1"):
        arguments.reshape_target((-1, -1), (2, 6), 12)
    with pytest.raises(ValueError, match=r"reshape: cannot reshape a tensor of shape \(2, 6\) \(12 elements\)"):
        arguments.reshape_target((5, -1), (2, 6), 12)


def test_expand_target_keeps_minus_one_and_grows_size_one():
    assert arguments.expand_target((4, -1, 3), (2, 1)) == (4, 2, 3)
    with pytest.raises(ValueError, match=r"expand: cannot expand shape \(2, 1\) to \(3, 1\)"):
        arguments.expand_target((3, 1), (2, 1))


def test_permutation_must_order_every_axis():
    assert arguments.permutation((-1, 0), (2, 3)) == (1, 0)
    with pytest.raises(ValueError, match=r"permute: \(0, 0\) is not an ordering"):
        arguments.permutation((0, 0), (2, 3))


def test_pad_widths_last_axis_first():
    assert arguments.pad_widths((1, 2), (3, 4)) == ((0, 0), (1, 2))
    with pytest.raises(ValueError, match=r"pad: expected an even number"):
        arguments.pad_widths((1,), (3, 4))
    with pytest.raises(TypeError, match=r"pad: padding sizes must be ints"):
        arguments.pad_widths((1.0, 1), (3, 4))


def test_matmul_shapes():
    arguments.matmul_shapes((2, 3, 4), (4, 5))
    with pytest.raises(ValueError, match=r"matmul: shapes \(3, 4\) and \(5, 2\) do not align: 4 != 5"):
        arguments.matmul_shapes((3, 4), (5, 2))


# ----------------------------------------------------------------------------- dtypes

def test_dtype_from_a_name_or_a_type():
    assert arguments.dtype("float64") == np.float64
    assert arguments.dtype(np.int64) == np.int64


def test_dtype_unknown_is_a_type_error():
    with pytest.raises(TypeError, match=r"unknown dtype"):
        arguments.dtype(object())


def test_float_dtype_refuses_integer_tensors_for_grad():
    arguments.float_dtype(np.dtype(np.float32), "Tensor")
    with pytest.raises(TypeError, match=r"Tensor: only tensors of a floating point dtype can require gradients"):
        arguments.float_dtype(np.dtype(np.int64), "Tensor")


def test_promote_gives_the_float_dtype_to_an_integer_partner():
    f32, f64, i64 = np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.int64)
    assert arguments.promote(i64, f32) == f32            # PyTorch's rule: not NumPy's float64
    assert arguments.promote(f64, np.dtype(bool)) == f64
    assert arguments.promote(f32, f64) is None
    assert arguments.promote(i64, i64) is None


def test_as_array_follows_the_dtype_rule_and_copies():
    assert arguments.as_array(1.5, None, "cpu").dtype == np.float32
    assert arguments.as_array([1, 2], None, "cpu").dtype == np.int64
    source = np.zeros(3, dtype=np.float64)
    out = arguments.as_array(source, None, None)
    assert out.dtype == np.float64 and out is not source and not np.shares_memory(out, source)


def test_as_array_refuses_strings():
    with pytest.raises(TypeError, match=r"Tensor: cannot build a tensor from str"):
        arguments.as_array("abc", None, "cpu")


# ----------------------------------------------------------------------------- devices

def test_same_device_returns_the_device_and_ignores_numbers():
    assert arguments.same_device("add", Tensor([1.0]), 2.0, np.zeros(2), None) == "cpu"
    assert arguments.same_device("add", 1, [2]) is None


class _OnCuda:
    device = "cuda"           # duck typing: anything with a device string counts as a tensor


def test_same_device_mixed_is_a_runtime_error_naming_op_and_both_devices():
    with pytest.raises(RuntimeError, match=r"^add: expected all tensors to be on the same device, but found "
                                           r"tensors on cpu and cuda; move them with \.to\(device\)$"):
        arguments.same_device("add", _OnCuda(), Tensor([1.0]))


def test_arguments_imports_no_part_of_the_engine_but_the_backend():
    import ast
    import pathlib
    tree = ast.parse(pathlib.Path(arguments.__file__).read_text())
    relative = [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level]
    names = [alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level
             for alias in node.names]
    assert relative == [None] and names == ["backend"]


def test_same_device_treats_numpy_scalars_as_numbers():
    assert arguments.same_device("backward", _OnCuda(), np.float32(1.0)) == "cuda"


def test_choice_lists_the_options():
    assert arguments.choice("tanh", ("none", "tanh"), "approximate", "gelu") == "tanh"
    with pytest.raises(ValueError, match=r"gelu: approximate must be 'none' or 'tanh', got 'fast'"):
        arguments.choice("fast", ("none", "tanh"), "approximate", "gelu")


def test_broadcastable_checks_every_pair_of_many_shapes():
    arguments.broadcastable("where", (2, 1), (3,), (1, 3))
    with pytest.raises(ValueError, match=r"where: shapes \(3,\) and \(4,\) cannot be broadcast"):
        arguments.broadcastable("where", (2, 1), (3,), (4,))


def test_same_shapes_names_two_that_differ():
    assert arguments.same_shapes("stack", [(2,), (2,)]) == (2,)
    with pytest.raises(ValueError, match=r"stack: all tensors must have the same shape, got \(2,\) and \(3,\)"):
        arguments.same_shapes("stack", [(2,), (3,)])


def test_inplace_shape_refuses_a_value_that_would_grow_the_tensor():
    arguments.inplace_shape("+=", (3,), (2, 3))
    with pytest.raises(ValueError, match=r"\+=: a value of shape \(2, 3\) cannot update a tensor of shape \(3,\)"):
        arguments.inplace_shape("+=", (2, 3), (3,))


def test_matmul_dtype_promotes_floats_and_refuses_integers():
    f32, f64, i64 = np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.int64)
    assert arguments.matmul_dtype(f32, f64) == f64
    assert arguments.matmul_dtype(i64, i64) == i64
    with pytest.raises(TypeError, match=r"matmul: dtypes int64 and float32 differ"):
        arguments.matmul_dtype(i64, f32)


def test_cat_shapes_may_differ_only_along_the_axis():
    arguments.cat_shapes([(2, 3), (5, 3)], 0)
    with pytest.raises(ValueError, match=r"cat: shapes \(2, 3\) and \(2, 4\) differ outside axis 0"):
        arguments.cat_shapes([(2, 3), (2, 4)], 0)
    with pytest.raises(ValueError, match=r"cat: zero-dimensional"):
        arguments.cat_shapes([(), ()], None)


def test_nonempty_and_reduced_axes():
    arguments.nonempty(1, (1,), "max")
    with pytest.raises(ValueError, match=r"max: cannot reduce an empty tensor of shape \(0, 2\)"):
        arguments.nonempty(0, (0, 2), "max")
    assert arguments.reduced_axes(None, 3) == (0, 1, 2)
    assert arguments.reduced_axes(1, 3) == (1,)
    assert arguments.reduced_axes((0, 2), 3) == (0, 2)


def test_axis_range_keeps_start_before_end():
    assert arguments.axis_range(1, -1, 3, "flatten") == (1, 2)
    with pytest.raises(ValueError, match=r"flatten: start_dim 2 comes after end_dim 0"):
        arguments.axis_range(2, 0, 3, "flatten")


def test_fill_and_arange_dtypes_follow_design():
    assert arguments.fill_dtype(1.5) == np.float32
    assert arguments.fill_dtype(True) == np.bool_
    assert arguments.fill_dtype(3) == np.int64
    assert arguments.arange_dtype(0, 5, 1) == np.int64
    assert arguments.arange_dtype(0, 5, 0.5) == np.float32
