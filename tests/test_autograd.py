"""The backward pass as a specification: how gradients flow, accumulate and are freed.

Each test states one rule of the engine (most of them PyTorch's rules) and checks it on
the smallest graph that shows it. Where a number is involved, PyTorch computes the
expected value on the same graph, in float64.
"""
import gc
import tracemalloc
import weakref

import numpy as np
import pytest
import torch

import tinygrad_edu
from tinygrad_edu import Function, Tensor, enable_grad, no_grad

pytestmark = [pytest.mark.lecture06]   # the backward pass: accumulation, retain_graph, hooks, grad()


def leaf(values, requires_grad=True):
    """A float64 leaf tensor of tinygrad_edu and the same values as a torch leaf."""
    array = np.asarray(values, dtype=np.float64)
    return (Tensor(array, requires_grad=requires_grad),
            torch.tensor(array, dtype=torch.float64, requires_grad=requires_grad))


def assert_close(ours, expected, rtol=1e-7, atol=1e-10):
    """Compare a Tensor (or array) with a torch tensor (or array) elementwise."""
    ours = ours.detach().numpy() if isinstance(ours, Tensor) else np.asarray(ours)
    if isinstance(expected, torch.Tensor):
        expected = expected.detach().numpy()
    elif isinstance(expected, Tensor):
        expected = expected.detach().numpy()
    np.testing.assert_allclose(ours, expected, rtol=rtol, atol=atol)


# ----------------------------------------------------------------------------- accumulation and sharing

def test_gradients_accumulate_into_leaves_over_two_backward_calls():
    x = Tensor([1.0, -2.0, 3.0], requires_grad=True, dtype="float64")
    (x * x).sum().backward()
    (x * 3.0).sum().backward()
    assert_close(x.grad, 2 * x.detach().numpy() + 3.0)


def test_diamond_where_one_tensor_feeds_two_branches_that_rejoin_matches_torch():
    x, tx = leaf([0.5, -1.0, 2.0])

    def diamond(a):                  # the same code runs on either library
        shared = a * 2.0
        left = shared.tanh()
        right = shared.exp()
        return (left * right).sum()

    diamond(x).backward()
    diamond(tx).backward()
    assert_close(x.grad, tx.grad)


def test_tensor_used_three_times_in_one_expression_gets_the_sum_of_its_paths():
    x, tx = leaf([0.5, -1.0, 2.0])
    (x * x * x).sum().backward()
    (tx * tx * tx).sum().backward()
    assert_close(x.grad, tx.grad)
    assert_close(x.grad, 3 * x.detach().numpy() ** 2)


def test_leaf_used_by_many_consumers_matches_torch():
    w, tw = leaf([[0.3, -0.7], [1.1, 0.2]])
    v, tv = leaf([0.5, -1.5])
    h, th = w @ v, tw @ tv
    ((h.tanh() * h).sum() + (w * w).sum() + (w @ h).sum()).backward()
    ((th.tanh() * th).sum() + (tw * tw).sum() + (tw @ th).sum()).backward()
    assert_close(w.grad, tw.grad)
    assert_close(v.grad, tv.grad)


# ----------------------------------------------------------------------------- backward(grad)

def test_backward_accepts_the_output_gradient_as_a_tensor():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * 2.0).backward(Tensor([1.0, 10.0, 100.0]))
    assert_close(x.grad, [2.0, 20.0, 200.0])


def test_backward_accepts_the_output_gradient_as_a_numpy_array():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * 2.0).backward(np.array([1.0, 10.0, 100.0], dtype=np.float32))
    assert_close(x.grad, [2.0, 20.0, 200.0])


def test_backward_does_not_modify_the_array_passed_as_gradient():
    x = Tensor([1.0, 2.0], requires_grad=True)
    g = np.array([1.0, 1.0], dtype=np.float32)
    (x * 1.0).backward(g)
    (x * 1.0).backward(g)
    np.testing.assert_array_equal(g, [1.0, 1.0])


@pytest.mark.parametrize("shape", [(), (1,), (1, 1)])
def test_backward_of_a_one_element_output_uses_an_implicit_gradient_of_one(shape):
    x = Tensor(np.full(shape, 3.0), requires_grad=True)
    (x * x).backward()
    assert_close(x.grad, np.full(shape, 6.0))


def test_backward_of_a_multi_element_output_needs_an_explicit_gradient():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="grad"):
        (x * 2.0).backward()


def test_backward_with_a_gradient_of_the_wrong_shape_raises_value_error():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"\(3,\)"):
        (x * 2.0).backward(np.ones(3))


def test_backward_of_a_tensor_that_does_not_require_grad_raises():
    with pytest.raises(RuntimeError):
        Tensor([1.0, 2.0]).sum().backward()


# ----------------------------------------------------------------------------- retain_graph

def test_retain_graph_allows_a_second_backward_and_the_gradients_add_up():
    x = Tensor([1.0, 2.0], requires_grad=True, dtype="float64")
    y = (x * x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert_close(x.grad, 2 * 3 * x.detach().numpy() ** 2)


def test_second_backward_through_a_freed_graph_raises_and_says_to_use_retain_graph():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError) as info:
        y.backward()
    message = str(info.value)
    assert "retain_graph" in message
    assert "freed" in message.lower() or "second time" in message.lower()


def test_second_backward_reaching_a_freed_part_of_the_graph_raises():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x.exp()
    h.sum().backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        (h * 2.0).sum().backward()


# ----------------------------------------------------------------------------- retain_grad and non-leaves

def test_non_leaf_tensors_have_no_grad_after_backward():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x * 2.0
    (h * h).sum().backward()
    with pytest.warns(UserWarning, match=r"not a leaf \(it was made by <Mul>\).*retain_grad\(\)"):
        assert h.grad is None
    assert x.grad is not None


def test_retain_grad_keeps_the_gradient_of_a_non_leaf():
    x, tx = leaf([1.0, -2.0])
    h, th = x * 2.0, tx * 2.0
    h.retain_grad()
    th.retain_grad()
    (h * h).sum().backward()
    (th * th).sum().backward()
    assert_close(h.grad, th.grad)


def test_retain_grad_on_a_reused_non_leaf_sums_all_its_uses():
    x, tx = leaf([1.0, -2.0])
    h, th = x.tanh(), tx.tanh()
    h.retain_grad()
    th.retain_grad()
    (h * h + h.exp()).sum().backward()
    (th * th + th.exp()).sum().backward()
    assert_close(h.grad, th.grad)
    assert_close(x.grad, tx.grad)


# ----------------------------------------------------------------------------- grad mode

def test_no_grad_context_records_no_graph():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with no_grad():
        y = x * 2.0 + 1.0
    assert y.requires_grad is False
    assert y.grad_fn is None


def test_no_grad_as_decorator_without_parentheses_records_no_graph():
    x = Tensor([1.0, 2.0], requires_grad=True)

    @no_grad
    def double(t):
        return t * 2.0

    y = double(x)
    assert y.requires_grad is False
    assert y.grad_fn is None
    assert tinygrad_edu.is_grad_enabled()


def test_no_grad_as_decorator_with_parentheses_records_no_graph():
    x = Tensor([1.0, 2.0], requires_grad=True)

    @no_grad()
    def double(t):
        return t * 2.0

    y = double(x)
    assert y.requires_grad is False
    assert y.grad_fn is None
    assert tinygrad_edu.is_grad_enabled()


def test_no_grad_decorator_can_be_called_many_times():
    x = Tensor([1.0], requires_grad=True)

    @no_grad
    def double(t):
        return t * 2.0

    assert [double(x).requires_grad for _ in range(3)] == [False, False, False]


def test_enable_grad_inside_no_grad_records_the_graph():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with no_grad():
        with enable_grad():
            y = x * 2.0
        z = x * 2.0
    assert y.requires_grad and type(y.grad_fn).__name__ == "Mul"
    assert z.grad_fn is None


def test_nested_no_grad_leaves_grad_mode_off_until_the_outer_block_ends():
    with no_grad():
        with no_grad():
            pass
        assert not tinygrad_edu.is_grad_enabled()
    assert tinygrad_edu.is_grad_enabled()


def test_grad_mode_is_restored_after_an_exception_inside_no_grad():
    with pytest.raises(ZeroDivisionError):
        with no_grad():
            1 / 0
    assert tinygrad_edu.is_grad_enabled()
    x = Tensor([1.0], requires_grad=True)
    assert (x * 2.0).grad_fn is not None


def test_grad_mode_is_restored_after_an_exception_in_a_no_grad_decorated_function():
    @no_grad
    def fails():
        raise KeyError("boom")

    with pytest.raises(KeyError):
        fails()
    assert tinygrad_edu.is_grad_enabled()


# ----------------------------------------------------------------------------- detach, requires_grad_, zero_grad, is_leaf

def test_detach_shares_the_data():
    x = Tensor([1.0, 2.0], requires_grad=True)
    d = x.detach()
    assert np.shares_memory(d.data, x.data)
    np.testing.assert_array_equal(d.detach().numpy(), x.detach().numpy())


def test_detach_cuts_the_graph():
    x = Tensor([1.0, 2.0], requires_grad=True, dtype="float64")
    d = (x * 3.0).detach()
    assert d.requires_grad is False and d.grad_fn is None and d.is_leaf
    (d * x).sum().backward()
    assert_close(x.grad, 3.0 * x.detach().numpy())          # d counts as a constant


def test_requires_grad_underscore_turns_on_tracking_and_returns_the_tensor():
    x = Tensor([1.0, 2.0])
    assert x.requires_grad_() is x
    assert x.requires_grad
    (x * x).sum().backward()
    assert_close(x.grad, [2.0, 4.0])


def test_requires_grad_underscore_false_stops_tracking():
    x = Tensor([1.0, 2.0], requires_grad=True)
    x.requires_grad_(False)
    assert (x * 2.0).grad_fn is None


def test_requires_grad_underscore_on_a_non_leaf_raises():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError):
        (x * 2.0).requires_grad_(False)


def test_zero_grad_sets_grad_to_none():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    x.zero_grad()
    assert x.grad is None


def test_gradient_after_zero_grad_starts_from_scratch():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * 5.0).sum().backward()
    x.zero_grad()
    (x * 2.0).sum().backward()
    assert_close(x.grad, [2.0, 2.0])


def test_is_leaf_for_created_computed_detached_and_no_grad_tensors():
    x = Tensor([1.0, 2.0], requires_grad=True)
    c = Tensor([1.0, 2.0])
    with no_grad():
        under_no_grad = x * 2.0
    assert x.is_leaf and c.is_leaf
    assert not (x * 2.0).is_leaf
    assert (c * 2.0).is_leaf                      # nothing to differentiate: a leaf, as in PyTorch
    assert under_no_grad.is_leaf
    assert (x * 2.0).detach().is_leaf


# ----------------------------------------------------------------------------- grad_fn and the graph

_A = np.array([[0.5, -1.0], [2.0, 0.25]])
GRAD_FN_CASES = {
    "Add": lambda x, w: x + w,
    "Mul": lambda x, w: x * w,
    "MatMul": lambda x, w: x @ w,
    "Sigmoid": lambda x, w: x.sigmoid(),
    "ReLU": lambda x, w: x.relu(),
    "Log": lambda x, w: w.log(),
    "Exp": lambda x, w: x.exp(),
    "Tanh": lambda x, w: x.tanh(),
    "Sum": lambda x, w: x.sum(),
    "Reshape": lambda x, w: x.reshape(4),
}


@pytest.mark.parametrize("name", list(GRAD_FN_CASES))
def test_grad_fn_is_named_for_the_function_that_made_the_tensor(name):
    x = Tensor(_A, requires_grad=True)
    w = Tensor(np.abs(_A) + 1.0, requires_grad=True)
    out = GRAD_FN_CASES[name](x, w)
    assert type(out.grad_fn).__name__ == name
    assert f"grad_fn=<{name}>" in repr(out)


def test_leaf_tensors_have_no_grad_fn():
    assert Tensor([1.0], requires_grad=True).grad_fn is None


def test_each_node_knows_its_parents_in_input_order():
    x = Tensor([1.0, 2.0], requires_grad=True)
    w = Tensor([3.0, 4.0], requires_grad=True)
    y = x * w
    parents = y.grad_fn.parents
    assert len(parents) == 2
    assert parents[0] is x and parents[1] is w


def test_parents_lead_from_the_output_back_to_the_leaves():
    x = Tensor([1.0, 2.0], requires_grad=True)
    loss = (x.exp() * 2.0).sum()
    mul = loss.grad_fn.parents[0]
    assert type(loss.grad_fn).__name__ == "Sum"
    assert type(mul.grad_fn).__name__ == "Mul"
    exp_out = mul.grad_fn.parents[0]
    assert type(exp_out.grad_fn).__name__ == "Exp"
    assert exp_out.grad_fn.parents[0] is x


# ----------------------------------------------------------------------------- user-defined Functions

class Cube(Function):
    """y = a^3;  dy/da = 3 a^2."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a ** 3

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * 3 * a ** 2


class ScaledAdd(Function):
    """y = a + alpha * b;  dy/da = 1, dy/db = alpha. Records what backward was told."""

    @staticmethod
    def forward(ctx, a, b, alpha=1.0):
        ctx.alpha = alpha
        return a + alpha * b

    @staticmethod
    def backward(ctx, grad):
        ctx.seen_needs = tuple(ctx.needs_input_grad)
        grad_a = grad if ctx.needs_input_grad[0] else None
        grad_b = grad * ctx.alpha if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class OuterProduct(Function):
    """y = a * b with broadcasting; backward returns output-shaped gradients on purpose."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad * b, grad * a          # both shaped like the output: the engine sums them back


class SavesATemporary(Function):
    """y = a + 1, but backward uses a freshly allocated temporary (2a) saved in forward."""

    @staticmethod
    def forward(ctx, a):
        temporary = a * 2.0                      # a new array, owned only by ctx
        ctx.save_for_backward(temporary)
        ctx.temporary_ref = weakref.ref(temporary)
        return a + 1.0

    @staticmethod
    def backward(ctx, grad):
        (temporary,) = ctx.saved_tensors
        return grad * (temporary > -np.inf)


def test_user_function_matches_the_equivalent_builtin_expression():
    x = Tensor([0.5, -1.5, 2.0], requires_grad=True, dtype="float64")
    y = Tensor([0.5, -1.5, 2.0], requires_grad=True, dtype="float64")
    ours = Cube.apply(x)
    builtin = y * y * y
    assert_close(ours, builtin)
    ours.sum().backward()
    builtin.sum().backward()
    assert_close(x.grad, y.grad)


def test_user_function_output_has_the_user_class_as_grad_fn():
    x = Tensor([1.0], requires_grad=True)
    out = Cube.apply(x)
    assert type(out.grad_fn) is Cube
    assert "grad_fn=<Cube>" in repr(out)
    assert out.grad_fn.parents[0] is x


def test_saved_tensors_are_the_arrays_given_to_save_for_backward():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = SavesATemporary.apply(x)
    saved = y.grad_fn.saved_tensors
    assert len(saved) == 1
    assert saved[0] is y.grad_fn.temporary_ref()
    np.testing.assert_array_equal(saved[0], [2.0, 4.0])


def test_non_tensor_keyword_arguments_of_apply_reach_forward():
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([10.0, 20.0], requires_grad=True)
    out = ScaledAdd.apply(a, b, alpha=0.5)
    assert_close(out, [6.0, 12.0])
    out.sum().backward()
    assert_close(a.grad, [1.0, 1.0])
    assert_close(b.grad, [0.5, 0.5])


def test_needs_input_grad_tells_backward_which_inputs_need_a_gradient():
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([10.0, 20.0])
    out = ScaledAdd.apply(a, b, alpha=2.0)
    node = out.grad_fn
    assert tuple(node.needs_input_grad) == (True, False)
    out.sum().backward()
    assert node.seen_needs == (True, False)
    assert b.grad is None


def test_user_function_on_inputs_without_grad_records_no_node():
    out = Cube.apply(Tensor([1.0, 2.0]))
    assert out.grad_fn is None and not out.requires_grad


def test_user_function_gradients_are_unbroadcast_by_the_engine():
    a, ta = leaf([[1.0], [2.0], [3.0]])             # (3, 1)
    b, tb = leaf([[0.5, -1.0, 2.0, 4.0]])           # (1, 4)
    out = OuterProduct.apply(a, b)
    assert out.shape == (3, 4)
    weights = np.arange(12.0).reshape(3, 4)
    (out * Tensor(weights)).sum().backward()
    (ta * tb * torch.tensor(weights)).sum().backward()
    assert a.grad.shape == (3, 1) and b.grad.shape == (1, 4)
    assert_close(a.grad, ta.grad)
    assert_close(b.grad, tb.grad)


def test_user_function_gradient_for_a_lower_rank_input_is_unbroadcast():
    a, ta = leaf([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])   # (2, 3)
    b, tb = leaf([0.5, -1.0, 2.0])                     # (3,): broadcast along a new leading axis
    OuterProduct.apply(a, b).sum().backward()
    (ta * tb).sum().backward()
    assert b.grad.shape == (3,)
    assert_close(b.grad, tb.grad)


def test_backward_returning_the_wrong_number_of_gradients_names_the_function():
    class OneGradientTooFew(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, grad):
            return grad

    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([3.0, 4.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="OneGradientTooFew"):
        OneGradientTooFew.apply(a, b).sum().backward()


def test_backward_returning_a_gradient_of_the_wrong_shape_names_the_function():
    class WrongShape(Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, grad):
            return grad[:2]

    a = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises((RuntimeError, ValueError), match="WrongShape"):
        WrongShape.apply(a).sum().backward()


# ----------------------------------------------------------------------------- deep graphs

def test_a_chain_deeper_than_the_recursion_limit_backpropagates():
    x = Tensor(1.0, requires_grad=True, dtype="float64")
    y = x
    for _ in range(5_000):
        y = y * 1.001
    y.backward()
    assert_close(x.grad, 1.001 ** 5_000, rtol=1e-9)


@pytest.mark.slow
def test_a_chain_of_a_million_scalar_ops_backpropagates_without_recursion():
    x = Tensor(1.0, requires_grad=True, dtype="float64")
    y = x
    for _ in range(1_000_000):
        y = y * 1.0000001
    y.backward()
    assert_close(x.grad, 1.0000001 ** 1_000_000, rtol=1e-9)


# ----------------------------------------------------------------------------- memory

def test_backward_frees_the_arrays_saved_for_backward():
    x = Tensor(np.ones(1000), requires_grad=True)
    y = SavesATemporary.apply(x)
    ref = y.grad_fn.temporary_ref
    assert ref() is not None
    y.sum().backward()
    assert y.grad_fn is not None                 # the output and its node are still alive ...
    assert ref() is None                         # ... but the saved array is gone


def test_backward_with_retain_graph_keeps_the_saved_arrays():
    x = Tensor(np.ones(10), requires_grad=True)
    y = SavesATemporary.apply(x)
    y.sum().backward(retain_graph=True)
    assert y.grad_fn.temporary_ref() is not None


def test_saved_tensors_is_none_after_backward():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = Cube.apply(x)
    y.sum().backward()
    assert y.grad_fn.saved_tensors is None


def _train_xor_mlp(steps, on_step):
    """A 2-8-1 tanh MLP trained with MSE and a hand-written SGD step; calls on_step(step).

    Returns the first and the last loss (kept as two numbers, so the loop itself holds
    no growing list that the memory checks would see).
    """
    rng = np.random.default_rng(0)
    inputs = Tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    targets = Tensor([[0.0], [1.0], [1.0], [0.0]])
    params = [Tensor(rng.normal(0, 0.5, (2, 8)), requires_grad=True, dtype="float32"),
              Tensor(np.zeros(8), requires_grad=True, dtype="float32"),
              Tensor(rng.normal(0, 0.5, (8, 1)), requires_grad=True, dtype="float32"),
              Tensor(np.zeros(1), requires_grad=True, dtype="float32")]
    w1, b1, w2, b2 = params
    first = last = None
    for step in range(1, steps + 1):
        hidden = (inputs @ w1 + b1).tanh()
        error = hidden @ w2 + b2 - targets
        loss = (error * error).mean()
        for p in params:
            p.zero_grad()
        loss.backward()
        with no_grad():
            for p in params:
                p.data = (p - 0.1 * p.grad).data
        last = loss.item()
        first = last if first is None else first
        del hidden, error, loss
        on_step(step)
    return first, last


def _live_tensors():
    gc.collect()
    return sum(1 for obj in gc.get_objects() if issubclass(type(obj), Tensor))


def test_training_loop_does_not_grow_the_number_of_live_tensors():
    counts = {}

    def on_step(step):
        if step in (100, 1000):
            counts[step] = _live_tensors()

    first_loss, last_loss = _train_xor_mlp(1000, on_step)
    assert last_loss < first_loss                # it did train
    assert counts[1000] <= counts[100]


def test_training_loop_does_not_grow_traced_memory():
    current = {}

    def on_step(step):
        if step in (100, 1000):
            gc.collect()
            current[step] = tracemalloc.get_traced_memory()[0]

    tracemalloc.start()
    try:
        _train_xor_mlp(1000, on_step)
    finally:
        tracemalloc.stop()
    assert current[1000] - current[100] < 32 * 1024


# ----------------------------------------------------------------------------- in-place updates

def test_in_place_update_under_no_grad_keeps_the_parameter_like_torch():
    import torch
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    tw = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    (w * w).sum().backward()
    (tw * tw).sum().backward()
    same = w
    with no_grad():
        w -= 0.1 * w.grad
    with torch.no_grad():
        tw -= 0.1 * tw.grad
    assert w is same and w.requires_grad and w.is_leaf
    np.testing.assert_allclose(w.detach().numpy(), tw.detach().numpy())


def test_in_place_update_of_a_leaf_while_recording_is_refused():
    w = Tensor([1.0, 2.0], requires_grad=True)
    before = w.detach().numpy().copy()
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad.*no_grad"):
        w -= 1.0
    np.testing.assert_array_equal(w.detach().numpy(), before)


def test_in_place_update_with_a_wrong_shape_is_refused():
    w = Tensor([1.0, 2.0])
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        w += Tensor([1.0, 2.0, 3.0])


def test_every_leaf_gets_its_own_gradient_array():
    u = Tensor([1.0, 2.0], requires_grad=True)
    v = Tensor([3.0, 4.0], requires_grad=True)
    (u + v).sum().backward()                 # Add hands one array to both inputs
    assert u.grad.data is not v.grad.data
    u.grad.zero_()
    np.testing.assert_array_equal(v.grad.numpy(), [1.0, 1.0])


def test_two_leaves_of_one_add_get_separate_gradient_arrays_even_when_add_gets_a_fresh_array():
    """(u + v) * w: Mul hands Add a fresh array (not a view, as Sum's is), and Add passes that one
    array to both u and v; backward must copy it for one of them, or changing u.grad in place
    (zero_(), an optimizer's update) would change v.grad too."""
    u = Tensor([1.0, 2.0], requires_grad=True)
    v = Tensor([3.0, 4.0], requires_grad=True)
    w = Tensor([5.0, 6.0])
    ((u + v) * w).sum().backward()
    u.grad.data[...] = 0.0                   # in place, as zero_() and the optimizers do
    np.testing.assert_array_equal(v.grad.numpy(), [5.0, 6.0])
    np.testing.assert_array_equal(u.grad.numpy(), [0.0, 0.0])


def test_a_0d_leaf_accumulates_over_two_backward_calls():
    a = Tensor(3.0, requires_grad=True)
    (a * a).backward()
    (a * a).backward()
    assert a.grad.item() == 12.0
    assert "12." in repr(a.grad)


# ----------------------------------------------------------------------------- the backward pass step by step

from tinygrad_edu import autograd                                      # noqa: E402


class _Twice(Function):
    """y = 2 x;  dy/dx = 2"""

    @staticmethod
    def forward(ctx, x):
        return 2 * x

    @staticmethod
    def backward(ctx, grad):
        return 2 * grad


def test_seed_gradient_is_one_for_a_one_element_root():
    loss = (Tensor([3.0], requires_grad=True) * 2.0).sum()
    seed = autograd.seed_gradient(loss)
    assert seed.shape == () and seed.dtype == loss.dtype and float(seed) == 1.0


def test_seed_gradient_copies_the_given_gradient_in_the_roots_dtype():
    y = Tensor([1.0, 2.0], requires_grad=True, dtype="float64") * 2.0
    given = np.array([1, 2])
    seed = autograd.seed_gradient(y, given)
    assert seed.dtype == np.float64 and seed is not given
    seed[0] = 5.0
    assert given[0] == 1                                 # the caller's array is never written


@pytest.mark.parametrize("grad, error, words", [
    (None, RuntimeError, "implicitly only for a one-element output"),
    (np.ones(3), ValueError, r"grad of shape \(3,\) does not match the tensor's shape \(2,\)"),
    ("ones", TypeError, "grad must be a Tensor or an array, got str"),
])
def test_seed_gradient_errors_start_with_the_callers_name(grad, error, words):
    y = Tensor([1.0, 2.0], requires_grad=True) * 2.0
    with pytest.raises(error, match=f"^explain_backward: .*{words}"):
        autograd.seed_gradient(y, grad, caller="explain_backward")
    with pytest.raises(error, match=f"^backward: .*{words}"):
        y.backward(grad)                                 # Tensor.backward seeds through the same rule


def test_seed_gradient_refuses_a_tensor_that_does_not_require_grad():
    with pytest.raises(RuntimeError, match="does not require grad and has no grad_fn"):
        autograd.seed_gradient(Tensor(1.0))


def test_call_backward_returns_one_gradient_per_input_as_a_tuple():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = _Twice.apply(x)
    grads = autograd.call_backward(y.grad_fn, np.ones(2, dtype=np.float32))
    assert type(grads) is tuple and len(grads) == 1          # a one-input backward may skip the tuple
    np.testing.assert_array_equal(grads[0], [2.0, 2.0])
    z = x * Tensor([3.0, 4.0])
    assert len(autograd.call_backward(z.grad_fn, np.ones(2, dtype=np.float32))) == 2


def test_call_backward_refuses_a_node_whose_saved_arrays_were_freed():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    node = y.grad_fn
    y.backward()
    assert node.saved_tensors is None                        # released by Context.release()
    with pytest.raises(RuntimeError, match=r"second time \(at Sum\).*retain_graph=True"):
        autograd.call_backward(node, np.ones((), dtype=np.float32))


def test_call_backward_counts_the_gradients_against_the_inputs():
    class TwoForOne(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad, grad

    node = TwoForOne.apply(Tensor([1.0], requires_grad=True)).grad_fn
    with pytest.raises(RuntimeError, match=r"TwoForOne.backward returned 2 gradient\(s\), but forward had 1"):
        autograd.call_backward(node, np.ones(1, dtype=np.float32))


def test_fit_gradient_sums_a_broadcast_gradient_back_to_the_input():
    b = Tensor([1.0, 2.0, 3.0], requires_grad=True, dtype="float64")
    y = Tensor(np.ones((4, 3))) + b
    fitted = autograd.fit_gradient(y.grad_fn, b, np.ones((4, 3), dtype=np.float32))
    assert fitted.shape == (3,) and fitted.dtype == np.float64
    np.testing.assert_array_equal(fitted, [4.0, 4.0, 4.0])
    scale = Tensor(2.0, requires_grad=True, dtype="float64")
    z = scale * Tensor([1.0, 2.0])
    number = autograd.fit_gradient(z.grad_fn, scale, 3.0)             # a number becomes an array
    assert number.shape == () and number.dtype == np.float64 and float(number) == 3.0


def test_fit_gradient_names_the_function_and_the_input_it_does_not_fit():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = _Twice.apply(x)
    with pytest.raises(RuntimeError, match=r"_Twice.backward returned a gradient of shape \(2,\) for input 0, "
                                           r"which has shape \(3,\)"):
        autograd.fit_gradient(y.grad_fn, x, np.ones(2, dtype=np.float32))


def test_backward_is_the_three_steps_in_a_loop(monkeypatch):
    calls = []
    for step in ("seed_gradient", "call_backward", "fit_gradient"):
        real = getattr(autograd, step)

        def spy(*args, _real=real, _step=step, **kwargs):
            calls.append(_step)
            return _real(*args, **kwargs)
        monkeypatch.setattr(autograd, step, spy)
    b = Tensor([1.0, 2.0], requires_grad=True)
    (Tensor(np.ones((3, 2))) * b).sum().backward()           # Mul's gradient for b is (3, 2): fitted
    assert calls == ["seed_gradient", "call_backward", "call_backward", "fit_gradient"]
    np.testing.assert_array_equal(b.grad.numpy(), [3.0, 3.0])


def test_each_backward_pass_message_is_written_once_in_the_tree():
    """The rules of the pass live in autograd.py; visualize replays them and copies none."""
    from pathlib import Path
    root = Path(autograd.__file__).resolve().parents[1]
    sources = {path: path.read_text(encoding="utf-8")
               for folder in ("tinygrad_edu", "visualize") for path in (root / folder).rglob("*.py")}
    messages = ["does not require grad and has no grad_fn", "grad can be created implicitly",
                "grad must be a Tensor or an array", "does not match the \"", "backward through the graph a second",
                "backward returned None: it must return", "gradient(s), \"", "returned a gradient of shape",
                "saved_tensors = None"]
    for message in messages:
        where = [f"{path.name} ({text.count(message)}x)" for path, text in sources.items() if message in text]
        assert where == ["autograd.py (1x)"], f"{message!r} is written in {where}"
