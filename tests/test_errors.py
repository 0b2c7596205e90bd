"""Every bad input raises the exception DESIGN.md names, with a message that names the
operation and the offending shapes, dtypes or devices, before any state changes.

    shapes that do not fit      -> ValueError
    wrong argument types        -> TypeError
    bad index                   -> IndexError
    device mismatch, unavailable device, second backward through a freed graph -> RuntimeError
"""
import numpy as np
import pytest

import tinygrad_edu
from tinygrad_edu import Tensor

# shape errors of matmul and broadcasting; errors of the backward pass
pytestmark = [pytest.mark.lecture03, pytest.mark.lecture06]

needs_no_gpu = pytest.mark.skipif(tinygrad_edu.cuda_available(),
                                  reason="CuPy and a GPU are present: 'cuda' is available")


# ----------------------------------------------------------------------------- ValueError: shapes

def test_add_with_shapes_that_do_not_broadcast_is_a_value_error():
    with pytest.raises(ValueError, match=r"add.*\(3, 4\).*\(5, 2\)"):
        Tensor.zeros(3, 4) + Tensor.zeros(5, 2)


def test_mul_with_shapes_that_do_not_broadcast_is_a_value_error():
    with pytest.raises(ValueError, match=r"mul.*\(2, 3\).*\(4,\)"):
        Tensor.zeros(2, 3) * Tensor.zeros(4)


def test_matmul_misaligned_is_a_value_error():
    with pytest.raises(ValueError, match=r"matmul: shapes \(3, 4\) and \(5, 2\) do not align"):
        Tensor.zeros(3, 4) @ Tensor.zeros(5, 2)


def test_add_of_int_and_float_tensors_that_do_not_broadcast_is_a_value_error():
    with pytest.raises(ValueError, match=r"add.*\(3, 4\).*\(5, 2\)"):
        Tensor.zeros(3, 4) + Tensor(np.ones((5, 2), dtype=np.int64))


@pytest.mark.parametrize("op, apply", [
    ("sub", lambda a, b: a - b),
    ("div", lambda a, b: a / b),
    ("pow", lambda a, b: a ** b),
    ("maximum", lambda a, b: a.maximum(b)),
    ("gt", lambda a, b: a > b),
], ids=["sub", "div", "pow", "maximum", "gt"])
def test_other_binary_ops_with_shapes_that_do_not_broadcast_are_value_errors(op, apply):
    with pytest.raises(ValueError, match=rf"{op}.*\(3,\).*\(2,\)"):
        apply(Tensor.zeros(3), Tensor.ones(2))


def test_batched_matmul_with_batch_shapes_that_do_not_broadcast_names_both_shapes():
    with pytest.raises(ValueError, match=r"matmul.*\(2, 3, 4\).*\(5, 4, 2\)"):
        Tensor.zeros(2, 3, 4) @ Tensor.zeros(5, 4, 2)


def test_matmul_method_misaligned_is_a_value_error():
    with pytest.raises(ValueError, match=r"matmul.*\(2, 3\).*\(2, 3\)"):
        Tensor.zeros(2, 3).matmul(Tensor.zeros(2, 3))


def test_reshape_to_a_wrong_size_is_a_value_error():
    with pytest.raises(ValueError, match=r"reshape.*\(2, 3\).*\(4, 2\)"):
        Tensor.zeros(2, 3).reshape(4, 2)


def test_reshape_with_an_unresolvable_minus_one_is_a_value_error():
    with pytest.raises(ValueError, match=r"reshape.*\(2, 3\).*\(4, -1\)"):
        Tensor.zeros(2, 3).reshape(4, -1)


def test_view_to_a_wrong_size_is_a_value_error():
    with pytest.raises(ValueError, match=r"(reshape|view).*\(2, 3\).*\(7,\)"):
        Tensor.zeros(2, 3).view(7)


def test_reshape_with_two_unknown_sizes_is_a_value_error():
    with pytest.raises(ValueError, match=r"reshape.*\(-1, -1\)"):
        Tensor.zeros(2, 3).reshape(-1, -1)


def test_negative_size_in_a_constructor_is_a_value_error():
    with pytest.raises(ValueError, match=r"zeros.*-1"):
        Tensor.zeros(2, -1)


def test_ragged_nested_lists_are_a_value_error():
    with pytest.raises(ValueError, match=r"Tensor.*ragged"):
        Tensor([[1, 2], [3]])


def test_expand_to_an_incompatible_shape_is_a_value_error():
    with pytest.raises(ValueError, match=r"expand.*\(3, 2\).*\(3, 4\)"):
        Tensor.zeros(3, 2).expand(3, 4)


def test_expand_to_fewer_dimensions_is_a_value_error():
    with pytest.raises(ValueError, match=r"expand.*\(4,\).*\(2, 3\)"):
        Tensor.zeros(2, 3).expand(4)


def test_cat_with_mismatched_shapes_is_a_value_error():
    with pytest.raises(ValueError, match=r"cat.*\(2, 3\).*\(2, 4\)"):
        Tensor.cat([Tensor.zeros(2, 3), Tensor.zeros(2, 4)], axis=0)


def test_cat_with_different_ranks_is_a_value_error():
    with pytest.raises(ValueError, match=r"cat.*\(2, 3\).*\(3,\)"):
        Tensor.cat([Tensor.zeros(2, 3), Tensor.zeros(3)])


def test_stack_with_different_shapes_is_a_value_error():
    with pytest.raises(ValueError, match=r"stack.*\(2, 3\).*\(3, 2\)"):
        Tensor.stack([Tensor.zeros(2, 3), Tensor.zeros(3, 2)])


def test_backward_with_a_wrong_shaped_grad_is_a_value_error():
    x = Tensor.ones(2, 3, requires_grad=True)
    y = x * 2
    with pytest.raises(ValueError, match=r"backward.*\(3, 2\).*\(2, 3\)"):
        y.backward(Tensor.ones(3, 2))


def test_backward_with_a_wrong_shaped_array_grad_is_a_value_error():
    x = Tensor.ones(2, 3, requires_grad=True)
    y = x * 2
    with pytest.raises(ValueError, match=r"backward.*\(3,\).*\(2, 3\)"):
        y.backward(np.ones(3, dtype=np.float32))


def test_where_with_condition_that_does_not_broadcast_is_a_value_error():
    cond = Tensor([True, False, True])
    with pytest.raises(ValueError, match=r"where.*\(3,\).*\(4,\)"):
        tinygrad_edu.where(cond, Tensor.zeros(4), Tensor.ones(4))


def test_where_with_values_that_do_not_broadcast_is_a_value_error():
    cond = Tensor([True])
    with pytest.raises(ValueError, match=r"where.*\(3,\).*\(4,\)"):
        Tensor.zeros(3).where(cond, Tensor.ones(4))


@pytest.mark.parametrize("pad", [(1,), (1, 2, 3)])
def test_pad_with_an_odd_length_is_a_value_error(pad):
    shown = r"\(" + r", ".join(str(p) for p in pad) + r",?\)"
    with pytest.raises(ValueError, match=r"pad.*\(2, 3\).*" + shown):
        Tensor.zeros(2, 3).pad(pad)


def test_pad_with_more_pairs_than_axes_is_a_value_error():
    with pytest.raises(ValueError, match=r"pad.*\(3,\).*\(1, 1, 1, 1\)"):
        Tensor.zeros(3).pad((1, 1, 1, 1))


# ----------------------------------------------------------------------------- TypeError: argument types

def test_tensor_from_a_string_is_a_type_error():
    with pytest.raises(TypeError, match=r"Tensor.*str"):
        Tensor("abc")


def test_tensor_from_none_is_a_type_error():
    with pytest.raises(TypeError, match=r"Tensor.*None"):
        Tensor(None)


def test_tensor_from_a_list_of_strings_is_a_type_error():
    with pytest.raises(TypeError, match=r"Tensor"):
        Tensor(["a", "b"])


@pytest.mark.parametrize("op, apply", [
    ("add", lambda t: t + "abc"),
    ("add", lambda t: "abc" + t),
    ("mul", lambda t: t * "abc"),
    ("sub", lambda t: t - "abc"),
], ids=["add", "radd", "mul", "sub"])
def test_arithmetic_with_a_string_is_a_type_error(op, apply):
    with pytest.raises(TypeError, match=rf"{op}.*str"):
        apply(Tensor([1.0, 2.0]))


def test_reshape_with_a_float_size_is_a_type_error():
    with pytest.raises(TypeError, match=r"reshape.*2\.0"):
        Tensor.zeros(2, 3).reshape(2.0, 3)


def test_zeros_with_a_float_size_is_a_type_error():
    with pytest.raises(TypeError, match=r"zeros.*1\.5"):
        Tensor.zeros(1.5, 2)


def test_eye_with_a_float_size_is_a_type_error():
    with pytest.raises(TypeError, match=r"eye.*2\.5"):
        Tensor.eye(2.5)


def test_pad_with_float_sizes_is_a_type_error():
    with pytest.raises(TypeError, match=r"pad.*1\.5"):
        Tensor.zeros(2, 3).pad((1.5, 1))


def test_backward_with_a_string_grad_is_a_type_error():
    y = Tensor.ones(2, requires_grad=True) * 2
    with pytest.raises(TypeError, match=r"backward.*str"):
        y.backward("ab")


@pytest.mark.parametrize("name", ["cat", "stack"])
def test_cat_stack_of_a_single_tensor_instead_of_a_sequence_is_a_type_error(name):
    with pytest.raises(TypeError, match=rf"{name}.*Tensor"):
        getattr(Tensor, name)(Tensor.zeros(2, 3))


def test_tensor_from_an_arbitrary_object_is_a_type_error():
    with pytest.raises(TypeError, match=r"Tensor.*object"):
        Tensor(object())


@pytest.mark.parametrize("make", [
    lambda: Tensor([1, 2], requires_grad=True),
    lambda: Tensor(np.array([1, 2], dtype=np.int32), requires_grad=True),
    lambda: Tensor.arange(3, requires_grad=True),
    lambda: Tensor.zeros(2, dtype="int64", requires_grad=True),
    lambda: Tensor([True, False], requires_grad=True),
], ids=["list", "numpy_int32", "arange", "zeros", "bool"])
def test_requires_grad_on_a_non_float_tensor_is_a_type_error(make):
    with pytest.raises(TypeError, match=r"int(64|32)|bool"):
        make()


def test_requires_grad_underscore_on_an_integer_tensor_is_a_type_error():
    with pytest.raises(TypeError, match=r"requires_grad_.*int64"):
        Tensor([1, 2]).requires_grad_()


@pytest.mark.parametrize("make", [
    lambda: Tensor([1.0], dtype="float17"),
    lambda: Tensor.zeros(2, dtype="float17"),
    lambda: Tensor([1.0]).astype("float17"),
], ids=["Tensor", "zeros", "astype"])
def test_unknown_dtype_is_a_type_error(make):
    with pytest.raises(TypeError, match=r"float17"):
        make()


# ----------------------------------------------------------------------------- IndexError: bad index

def test_out_of_range_int_index_is_an_index_error():
    with pytest.raises(IndexError, match=r"5.*\(3, 4\)"):
        Tensor.zeros(3, 4)[5]


def test_out_of_range_int_on_second_axis_is_an_index_error():
    with pytest.raises(IndexError, match=r"7.*\(3, 4\)"):
        Tensor.zeros(3, 4)[0, 7]


def test_out_of_range_negative_index_is_an_index_error():
    with pytest.raises(IndexError, match=r"-4.*\(3,\)"):
        Tensor.zeros(3)[-4]


def test_out_of_range_integer_array_index_is_an_index_error():
    with pytest.raises(IndexError, match=r"\(3,\)"):
        Tensor.zeros(3)[[0, 3]]


def test_too_many_indices_is_an_index_error():
    with pytest.raises(IndexError, match=r"\(3,\)"):
        Tensor.zeros(3)[0, 0]


def test_float_index_is_an_index_error():
    with pytest.raises(IndexError, match=r"1\.5"):
        Tensor.zeros(3)[1.5]


def test_float_tensor_index_is_an_index_error():
    with pytest.raises(IndexError, match=r"float32"):
        Tensor.zeros(3)[Tensor([0.0, 1.0])]


@pytest.mark.parametrize("name, bad, call", [
    ("sum", 5, lambda t: t.sum(axis=5)),
    ("sum", -3, lambda t: t.sum(dim=-3)),
    ("mean", 2, lambda t: t.mean(axis=2)),
    ("max", 5, lambda t: t.max(axis=5)),
    ("argmax", 5, lambda t: t.argmax(axis=5)),
    ("var", 5, lambda t: t.var(axis=5)),
    ("softmax", 5, lambda t: t.softmax(axis=5)),
    ("unsqueeze", 5, lambda t: t.unsqueeze(5)),
    ("transpose", 5, lambda t: t.transpose(0, 5)),
    ("flatten", 5, lambda t: t.flatten(5)),
], ids=["sum", "sum_dim_negative", "mean", "max", "argmax", "var", "softmax", "unsqueeze",
        "transpose", "flatten"])
def test_axis_out_of_range_is_an_index_error(name, bad, call):
    with pytest.raises(IndexError, match=rf"{name}.*axis {bad}\b"):
        call(Tensor.zeros(2, 3))


# ----------------------------------------------------------------------------- RuntimeError: devices

@needs_no_gpu
@pytest.mark.parametrize("make", [
    lambda: Tensor([1.0], device="cuda"),
    lambda: Tensor([1.0], device="cuda:0"),
    lambda: Tensor.zeros(2, device="cuda"),
    lambda: Tensor.randn(2, device="cuda"),
    lambda: Tensor.arange(3, device="cuda"),
    lambda: Tensor([1.0]).to("cuda"),
    lambda: Tensor([1.0]).cuda(),
    lambda: tinygrad_edu.set_default_device("cuda"),
], ids=["Tensor", "Tensor_cuda0", "zeros", "randn", "arange", "to", "cuda", "set_default_device"])
def test_cuda_without_cupy_is_a_runtime_error_with_install_hint(make):
    with pytest.raises(RuntimeError, match=r"(?s)cuda.*pip install.*\[gpu\]"):
        make()


@needs_no_gpu
def test_failed_set_default_device_cuda_keeps_the_default():
    with pytest.raises(RuntimeError):
        tinygrad_edu.set_default_device("cuda")
    assert tinygrad_edu.get_default_device() == "cpu"
    assert Tensor([1.0]).device == "cpu"


@pytest.mark.parametrize("make", [
    lambda: Tensor([1.0], device="tpu"),
    lambda: Tensor.zeros(2, device="tpu"),
    lambda: Tensor([1.0]).to("tpu"),
    lambda: tinygrad_edu.set_default_device("tpu"),
], ids=["Tensor", "zeros", "to", "set_default_device"])
def test_unknown_device_is_a_value_error(make):
    with pytest.raises(ValueError, match=r"tpu"):
        make()


def test_failed_set_default_device_tpu_keeps_the_default():
    with pytest.raises(ValueError):
        tinygrad_edu.set_default_device("tpu")
    assert tinygrad_edu.get_default_device() == "cpu"


@pytest.mark.parametrize("op, combine", [
    ("add", lambda a, b: a + b),
    ("mul", lambda a, b: b * a),
    ("matmul", lambda a, b: a.reshape(1, 2) @ b.reshape(2, 1)),
    ("cat", lambda a, b: Tensor.cat([a, b])),
    ("where", lambda a, b: tinygrad_edu.where(a > 0, a, b)),
    ("gt", lambda a, b: a > b),
], ids=["add", "mul", "matmul", "cat", "where", "gt"])
@pytest.mark.gpu
@pytest.mark.skipif(not tinygrad_edu.cuda_available(), reason="needs CuPy and an NVIDIA GPU")
def test_mixing_devices_is_a_runtime_error_naming_both(op, combine):
    on_cpu = Tensor([1.0, 2.0], device="cpu")
    on_cuda = Tensor([1.0, 2.0], device="cuda")
    with pytest.raises(RuntimeError, match=rf"(?i){op}") as info:
        combine(on_cpu, on_cuda)
    message = str(info.value)
    assert "cpu" in message and "cuda" in message


# ----------------------------------------------------------------------------- RuntimeError: backward

def test_second_backward_through_a_freed_graph_is_a_runtime_error():
    x = Tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match=r"second time.*retain_graph"):
        loss.backward()


def test_second_backward_after_retain_graph_works():
    x = Tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    assert x.grad.tolist() == [4.0, 8.0]


def test_backward_on_a_tensor_that_does_not_require_grad_is_a_runtime_error():
    y = Tensor([1.0, 2.0]).sum()
    with pytest.raises(RuntimeError, match=r"backward.*require"):
        y.backward()


def test_implicit_grad_on_a_non_scalar_output_is_a_runtime_error():
    x = Tensor.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"backward.*\(2, 3\)"):
        (x * 2).backward()


# ----------------------------------------------------------------------------- before any state changes

def leaf_with_grad(values) -> Tensor:
    """A leaf that requires grad and already holds a gradient from an earlier backward."""
    t = Tensor(values, requires_grad=True)
    (t * 3).sum().backward()
    return t


def snapshot(t: Tensor) -> tuple:
    return (t.detach().numpy().copy(), None if t.grad is None else t.grad.numpy().copy(), t.requires_grad, t.grad)


def assert_unchanged(t: Tensor, before: tuple) -> None:
    data, grad, requires_grad, grad_object = before
    np.testing.assert_array_equal(t.detach().numpy(), data)
    assert t.requires_grad == requires_grad
    if grad is None:
        assert t.grad is None
    else:
        assert t.grad is grad_object
        np.testing.assert_array_equal(t.grad.numpy(), grad)


def test_failed_matmul_leaves_inputs_unchanged():
    a = leaf_with_grad(np.arange(12.0, dtype=np.float32).reshape(3, 4))
    b = leaf_with_grad(np.ones((5, 2), dtype=np.float32))
    before_a, before_b = snapshot(a), snapshot(b)
    with pytest.raises(ValueError):
        a @ b
    assert_unchanged(a, before_a)
    assert_unchanged(b, before_b)


def test_failed_add_leaves_inputs_unchanged():
    a = leaf_with_grad(np.ones((3, 4), dtype=np.float32))
    b = Tensor.zeros(5, 2)
    before_a, before_b = snapshot(a), snapshot(b)
    with pytest.raises(ValueError):
        a + b
    assert_unchanged(a, before_a)
    assert_unchanged(b, before_b)


def test_failed_reshape_leaves_input_unchanged():
    a = leaf_with_grad(np.ones((2, 3), dtype=np.float32))
    before = snapshot(a)
    with pytest.raises(ValueError):
        a.reshape(4, 2)
    assert_unchanged(a, before)


def test_failed_requires_grad_underscore_leaves_flag_unchanged():
    t = Tensor([1, 2])
    with pytest.raises(TypeError):
        t.requires_grad_()
    assert t.requires_grad is False


def test_failed_backward_with_wrong_shaped_grad_leaves_every_leaf_grad_unchanged():
    a = leaf_with_grad(np.ones((2, 3), dtype=np.float32))
    b = Tensor.ones(2, 3, requires_grad=True)          # no grad yet
    y = a * b + a
    before_a, before_b = snapshot(a), snapshot(b)
    with pytest.raises(ValueError):
        y.backward(Tensor.ones(3, 2))
    assert_unchanged(a, before_a)
    assert_unchanged(b, before_b)


def test_failed_backward_leaves_the_graph_usable():
    x = Tensor.ones(2, 3, requires_grad=True)
    y = x * 2
    with pytest.raises(ValueError):
        y.backward(Tensor.ones(3, 2))
    y.backward(Tensor.ones(2, 3))
    assert x.grad.tolist() == [[2.0] * 3] * 2


def test_failed_implicit_backward_leaves_every_leaf_grad_unchanged():
    a = leaf_with_grad(np.ones((2, 3), dtype=np.float32))
    before = snapshot(a)
    with pytest.raises(RuntimeError):
        (a * 2).backward()
    assert_unchanged(a, before)


def test_failed_second_backward_leaves_every_leaf_grad_unchanged():
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([3.0, 4.0], requires_grad=True)
    y = a * b
    y.sum().backward()                                   # frees y's node
    before_a, before_b = snapshot(a), snapshot(b)
    with pytest.raises(RuntimeError, match=r"second time"):
        (y * a).sum().backward()                         # reaches a directly, then the freed node
    assert_unchanged(a, before_a)
    assert_unchanged(b, before_b)
