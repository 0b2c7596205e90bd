"""The mistakes students make most often explain themselves.

Each one raises (or, for reading a non-leaf's .grad, warns) before anything changes, with a
message that names what was asked, what was wrong and what to do. The tests check the type,
the words that teach, and that the state is untouched.
"""
import warnings

import numpy as np
import pytest

from tinygrad_edu import Function, Tensor, nn
from tinygrad_edu.data import DataLoader, TensorDataset
import tinygrad_edu.nn.functional as F

pytestmark = [pytest.mark.lecture06, pytest.mark.lecture09]   # mistakes in a Function class; framework misuse


class Cube(Function):
    """y = x^3;  dy/dx = 3 x^2"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x ** 2


def leaf(values=(1.0, 2.0)):
    return Tensor(list(values), requires_grad=True)


# ----------------------------------------------------------------------------- your own Function

def test_a_forward_that_returns_a_tensor_is_a_type_error_that_says_to_return_an_array():
    class CubeOfTensors(Function):
        @staticmethod
        def forward(ctx, x):
            return Tensor(x) ** 3            # a Tensor made inside forward

        @staticmethod
        def backward(ctx, grad):
            return grad

    x = leaf()
    with pytest.raises(TypeError, match=r"CubeOfTensors\.forward returned a Tensor.*raw arrays.*return an array"):
        CubeOfTensors.apply(x)
    assert x.grad is None


def test_a_forward_that_returns_nothing_is_a_type_error():
    class Forgetful(Function):
        @staticmethod
        def forward(ctx, x):
            x ** 3

        @staticmethod
        def backward(ctx, grad):
            return grad

    with pytest.raises(TypeError, match=r"Forgetful\.forward returned None.*return"):
        Forgetful.apply(leaf())


def test_a_forward_that_returns_two_arrays_is_a_type_error():
    class TwoOutputs(Function):
        @staticmethod
        def forward(ctx, x):
            return x, x

        @staticmethod
        def backward(ctx, grad):
            return grad

    with pytest.raises(TypeError, match=r"TwoOutputs\.forward returned a tuple.*one output"):
        TwoOutputs.apply(leaf())


def test_a_backward_that_returns_none_names_the_function_and_the_forgotten_return():
    class NoReturn(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            grad * 3 * x ** 2                # the `return` is missing

    x = leaf()
    y = NoReturn.apply(x).sum()
    with pytest.raises(RuntimeError, match=r"NoReturn\.backward returned None.*forget `return`"):
        y.backward()
    assert x.grad is None


def test_the_same_function_with_its_return_gives_the_gradient():
    x = leaf()
    Cube.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 12.0])


@pytest.mark.parametrize("method", ["forward", "backward"])
def test_a_function_without_staticmethod_is_a_type_error_at_its_definition(method):
    with pytest.raises(TypeError, match=rf"NotStatic\.{method} must be a static method: put @staticmethod"):
        class NotStatic(Function):
            if method == "forward":
                def forward(ctx, x):
                    return x
            else:
                @staticmethod
                def forward(ctx, x):
                    return x

                def backward(ctx, grad):
                    return grad


def test_calling_a_function_object_is_a_type_error_that_points_to_apply():
    with pytest.raises(TypeError, match=r"Cube\(\.\.\.\): a Function is not called as an object.*Cube\.apply"):
        Cube()(leaf())


def test_calling_a_function_class_with_its_inputs_is_the_same_error():
    with pytest.raises(TypeError, match=r"Cube\.apply"):
        Cube(leaf())


# ----------------------------------------------------------------------------- cross_entropy

def test_cross_entropy_with_float_labels_says_class_indices_must_be_int64():
    logits = Tensor(np.zeros((4, 3), np.float32), requires_grad=True)
    labels = Tensor([0.0, 2.0, 1.0, 1.0])
    with pytest.raises(TypeError, match=r"class indices must be int64.*astype\('int64'\)"):
        F.cross_entropy(logits, labels)
    with pytest.raises(TypeError, match=r"float32 \(shape \(4,\)\)"):
        nn.CrossEntropyLoss()(logits, labels)


def test_cross_entropy_with_its_arguments_swapped_names_both_shapes():
    logits = Tensor(np.zeros((4, 3), np.float32), requires_grad=True)
    labels = Tensor([0, 2, 1, 1])
    with pytest.raises(TypeError, match=r"input is int64 of shape \(4,\) and target is float32 of shape "
                                        r"\(4, 3\).*swapped: call cross_entropy\(scores, labels\)"):
        F.cross_entropy(labels, logits)
    with pytest.raises(TypeError, match=r"swapped"):
        nn.CrossEntropyLoss()(labels, logits)


def test_nll_loss_with_its_arguments_swapped_names_both_shapes():
    log_probs = Tensor(np.zeros((4, 3), np.float32)).log_softmax(axis=1)
    labels = Tensor([0, 2, 1, 1])
    with pytest.raises(TypeError, match=r"nll_loss\(input, target\).*\(4,\).*\(4, 3\).*swapped"):
        F.nll_loss(labels, log_probs)


def test_nll_loss_with_float_labels_says_how_to_convert():
    log_probs = Tensor(np.zeros((4, 3), np.float32)).log_softmax(axis=1)
    with pytest.raises(TypeError, match=r"int64.*astype\('int64'\)"):
        F.nll_loss(log_probs, Tensor([0.0, 2.0, 1.0, 1.0]))


# ----------------------------------------------------------------------------- .numpy() and .grad

def test_numpy_of_a_tensor_that_requires_grad_says_to_detach_first():
    w = leaf()
    with pytest.raises(RuntimeError, match=r"numpy\(\) on a tensor that requires grad.*\.detach\(\)\.numpy\(\)"):
        w.numpy()
    with pytest.raises(RuntimeError, match="detach"):
        (w * 2).numpy()
    np.testing.assert_array_equal(w.detach().numpy(), [1.0, 2.0])


def test_item_tolist_and_repr_of_a_tensor_that_requires_grad_still_work():
    w = leaf()
    assert w.sum().item() == 3.0 and w.tolist() == [1.0, 2.0]
    assert "requires_grad=True" in repr(w)


def test_reading_grad_of_a_non_leaf_warns_and_says_retain_grad():
    x = leaf()
    h = x * 2.0
    (h * h).sum().backward()
    with pytest.warns(UserWarning, match=r"not a leaf.*<Mul>.*\.retain_grad\(\)"):
        assert h.grad is None


def test_reading_grad_of_leaves_and_retained_tensors_does_not_warn():
    x = leaf()
    h = (x * 2.0).retain_grad()
    (h * h).sum().backward()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert x.grad is not None and h.grad is not None and h.retains_grad
        assert Tensor([1.0]).grad is None


# ----------------------------------------------------------------------------- Parameter.data

def test_assigning_a_float64_array_to_a_parameter_is_a_type_error():
    layer = nn.Linear(3, 2)
    before = layer.weight.detach().numpy().copy()
    with pytest.raises(TypeError, match=r"dtype float64 to a parameter of dtype float32.*astype\(np\.float32\)"):
        layer.weight.data = np.zeros((2, 3))
    assert layer.weight.dtype == np.float32
    np.testing.assert_array_equal(layer.weight.detach().numpy(), before)


def test_assigning_an_array_of_another_shape_to_a_parameter_is_a_value_error():
    layer = nn.Linear(3, 2)
    with pytest.raises(ValueError, match=r"shape \(3, 2\) to a parameter of shape \(2, 3\).*\.T"):
        layer.weight.data = np.zeros((3, 2), np.float32)
    assert layer.weight.shape == (2, 3)


def test_assigning_a_tensor_to_parameter_data_says_to_assign_its_array():
    layer = nn.Linear(3, 2)
    with pytest.raises(TypeError, match=r"it is a Tensor: assign its array, p\.data = t\.data"):
        layer.weight.data = Tensor.zeros(2, 3)


def test_assigning_an_array_of_the_same_shape_and_dtype_works_and_moving_devices_still_does():
    layer = nn.Linear(3, 2)
    layer.weight.data = np.ones((2, 3), np.float32)
    np.testing.assert_array_equal(layer.weight.detach().numpy(), np.ones((2, 3)))
    layer.to("cpu")
    assert layer.weight.device == "cpu"


# ----------------------------------------------------------------------------- containers and loaders

def test_a_dataloader_over_a_tuple_of_arrays_says_to_use_tensordataset():
    X, y = np.zeros((10, 2), np.float32), np.zeros(10, np.int64)
    with pytest.raises(TypeError, match=r"tuple of 2 arrays of 10 samples.*TensorDataset\(X, y\)"):
        DataLoader((X, y), batch_size=4)
    with pytest.raises(TypeError, match="TensorDataset"):
        DataLoader([Tensor(X), Tensor(y)], batch_size=4)


def test_a_dataloader_over_a_list_of_samples_still_works():
    samples = [(np.float32(i), np.int64(i % 2)) for i in range(6)]
    images = [np.zeros((3, 3), np.float32) for _ in range(5)]
    assert len(list(DataLoader(samples, batch_size=4))) == 2
    assert len(DataLoader(images, batch_size=2)) == 3
    assert len(DataLoader(TensorDataset(Tensor(np.zeros((10, 2))), Tensor(np.zeros(10))), batch_size=4)) == 3


def test_sequential_of_a_list_says_to_unpack_it():
    layers = [nn.Linear(2, 3), nn.ReLU()]
    with pytest.raises(TypeError, match=r"Sequential: got a list of 2 items.*nn\.Sequential\(\*layers\)"):
        nn.Sequential(layers)
    assert len(nn.Sequential(*layers)) == 2
