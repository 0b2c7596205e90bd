"""tinygrad_edu.gradcheck itself: it must pass correct gradients, catch wrong ones element by
element, explain what it found, refuse float32, and leave the inputs as it found them."""
import re

import numpy as np
import pytest

from tinygrad_edu import Function, GradcheckError, Tensor, gradcheck

pytestmark = [pytest.mark.lecture07]   # central differences against backward()


def float64_leaf(values, requires_grad=True):
    return Tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


class CubeWithWrongBackward(Function):
    """y = x^3, but backward claims dy/dx = 2x (the derivative of x^2): a typical slip."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 2 * grad * x


def cube_wrong_at(flat_index):
    """A Function for y = x^3 whose backward is right everywhere except at one element."""

    class CubeWrongAtOneElement(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            g = 3 * grad * x ** 2
            g.reshape(-1)[flat_index] += 1.0
            return g

    return CubeWrongAtOneElement


class ScaleByConstant(Function):
    """y = x * c;  backward returns a deliberately wrong gradient for c, which never requires grad."""

    @staticmethod
    def forward(ctx, x, c):
        ctx.save_for_backward(x, c)
        return x * c

    @staticmethod
    def backward(ctx, grad):
        x, c = ctx.saved_tensors
        return grad * c, grad * 1e6


# ----------------------------------------------------------------------------- verdicts

def test_returns_true_for_correct_builtin_ops_in_float64():
    a = float64_leaf([[0.3, -1.2, 0.7], [2.0, -0.4, 1.1]])
    b = float64_leaf([0.5, -0.25, 1.5])
    assert gradcheck(lambda a, b: (a * b).tanh() + (a @ b).exp().sum(), a, b) is True


def test_returns_true_for_a_correct_user_function():
    class Cube(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 3 * grad * x ** 2

    assert gradcheck(Cube.apply, float64_leaf([0.5, -1.0, 2.0])) is True


def test_catches_a_wrong_backward_with_a_gradcheck_error():
    x = float64_leaf([0.5, -1.0, 2.0])
    with pytest.raises(GradcheckError):
        gradcheck(CubeWithWrongBackward.apply, x)


def test_gradcheck_error_is_a_runtime_error():
    assert issubclass(GradcheckError, RuntimeError)


def test_failure_message_is_a_table_of_index_analytic_numeric_and_difference():
    x = float64_leaf([0.5, -1.0, 2.0])
    with pytest.raises(GradcheckError) as info:
        gradcheck(CubeWithWrongBackward.apply, x)
    message = str(info.value).lower()
    for word in ("index", "analytic", "numeric", "difference"):
        assert word in message, f"{word!r} missing from:\n{info.value}"


def test_failure_message_names_the_offending_index():
    x = float64_leaf([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
    with pytest.raises(GradcheckError) as info:
        gradcheck(cube_wrong_at(5).apply, x)          # element (1, 2)
    message = str(info.value)
    assert re.search(r"[(\[]\s*1\s*,\s*2\s*[)\]]", message), message
    assert not re.search(r"[(\[]\s*0\s*,\s*0\s*[)\]]", message), message   # correct elements are not listed


@pytest.mark.parametrize("flat_index", range(6))
def test_checks_every_element_so_one_wrong_element_is_caught(flat_index):
    x = float64_leaf([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
    with pytest.raises(GradcheckError):
        gradcheck(cube_wrong_at(flat_index).apply, x)


def test_checks_every_input_that_requires_grad():
    class WrongForSecondInput(Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        def backward(ctx, grad):
            a, b = ctx.saved_tensors
            return grad * b, grad * a * 1.5

    with pytest.raises(GradcheckError):
        gradcheck(WrongForSecondInput.apply, float64_leaf([1.0, 2.0]), float64_leaf([3.0, -4.0]))


# ----------------------------------------------------------------------------- float64 only

def test_refuses_float32_inputs_and_explains_why_float64_is_needed():
    x = Tensor([0.5, -1.0, 2.0], requires_grad=True)
    assert x.dtype == np.float32
    with pytest.raises(TypeError) as info:
        gradcheck(lambda t: t * t, x)
    message = str(info.value)
    assert "float64" in message
    assert re.search(r"nearly equal|precision|digits|cancel", message), message


# ----------------------------------------------------------------------------- inputs left as they were

def test_inputs_that_do_not_require_grad_are_neither_checked_nor_perturbed():
    x = float64_leaf([0.5, -1.0, 2.0])
    c = float64_leaf([3.0, 4.0, 5.0], requires_grad=False)
    seen = []

    def fn(x, c):
        seen.append(c.numpy().copy())
        return ScaleByConstant.apply(x, c)

    assert gradcheck(fn, x, c) is True
    assert len(seen) > 1
    for values in seen:
        np.testing.assert_array_equal(values, [3.0, 4.0, 5.0])
    assert c.grad is None


def test_a_float32_input_that_does_not_require_grad_is_accepted():
    x = float64_leaf([0.5, -1.0, 2.0])
    c = Tensor([3.0, 4.0, 5.0])
    assert gradcheck(lambda x, c: x * c.astype("float64"), x, c) is True


def test_inputs_data_are_restored_after_a_passing_check():
    x = float64_leaf([[0.1, 0.2], [0.3, 0.4]])
    before = x.detach().numpy().copy()
    gradcheck(lambda t: (t * t).sum(), x)
    np.testing.assert_array_equal(x.detach().numpy(), before)


def test_inputs_data_are_restored_after_a_failing_check():
    x = float64_leaf([0.5, -1.0, 2.0])
    before = x.detach().numpy().copy()
    with pytest.raises(GradcheckError):
        gradcheck(CubeWithWrongBackward.apply, x)
    np.testing.assert_array_equal(x.detach().numpy(), before)
