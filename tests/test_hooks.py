"""Hooks and autograd.grad against torch 2.13: Tensor.register_hook, Module forward hooks and
pre-hooks with removable handles, and tinygrad_edu.autograd.grad against torch.autograd.grad."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import Tensor, autograd, nn

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.lecture_interpretation


def _pair(shape, seed=0):
    a = np.random.default_rng(seed).standard_normal(shape)
    return Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


# ----------------------------------------------------------------------------- Tensor.register_hook

def test_a_hook_on_a_non_leaf_sees_its_whole_gradient_and_may_replace_it_like_torch():
    (x, tx) = _pair((3, 4))
    seen, tseen = [], []
    y = x * x
    ty = tx * tx
    y.register_hook(lambda g: seen.append(g.numpy().copy()) or g * 2)
    ty.register_hook(lambda g: tseen.append(g.numpy().copy()) or g * 2)
    z = (y * 3).sum() + y.sum()              # two consumers: the hook sees their sum, once
    tz = (ty * 3).sum() + ty.sum()
    z.backward()
    tz.backward()
    assert len(seen) == 1 == len(tseen)
    np.testing.assert_allclose(seen[0], tseen[0])
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())


def test_a_hook_on_a_leaf_runs_before_grad_is_written_and_hooks_chain_in_order():
    x, tx = _pair((5,))
    order = []
    x.register_hook(lambda g: order.append("first") or g + 1)
    x.register_hook(lambda g: order.append("second") or g * 10)
    tx.register_hook(lambda g: g + 1)
    tx.register_hook(lambda g: g * 10)
    (x * x).sum().backward()
    (tx * tx).sum().backward()
    assert order == ["first", "second"]
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())


def test_a_retained_gradient_is_the_one_after_the_hooks_as_in_torch():
    x, tx = _pair((4,))
    y, ty = x * 2, tx * 2
    y.retain_grad(); ty.retain_grad()
    y.register_hook(lambda g: g * 3)
    ty.register_hook(lambda g: g * 3)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), ty.grad.numpy())
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())


def test_a_removed_hook_is_not_called_and_remove_twice_is_fine():
    x = Tensor([1.0, 2.0], requires_grad=True)
    calls = []
    handle = x.register_hook(lambda g: calls.append(1))
    handle.remove()
    handle.remove()
    (x * x).sum().backward()
    assert calls == []
    with x.register_hook(lambda g: calls.append(2)):
        (x * x).sum().backward()
    (x * x).sum().backward()
    assert calls == [2]


def test_register_hook_refuses_a_tensor_without_grad_and_a_hook_that_is_not_a_function():
    with pytest.raises(RuntimeError, match="does not require grad.*requires_grad=True"):
        Tensor([1.0]).register_hook(lambda g: g)
    with pytest.raises(TypeError, match="must be a function hook\\(grad\\), got int"):
        Tensor([1.0], requires_grad=True).register_hook(3)


def test_a_hook_that_returns_a_wrong_shape_is_an_error_naming_both_shapes():
    x = Tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: Tensor([1.0, 2.0, 3.0]))
    with pytest.raises(RuntimeError, match=r"shape \(3,\) for a gradient of shape \(2,\)"):
        (x * x).sum().backward()
    assert x.grad is None


# ----------------------------------------------------------------------------- Module hooks

def _linear_pair():
    ours, theirs = nn.Linear(3, 2), torch.nn.Linear(3, 2)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight.detach().numpy()))
        theirs.bias.copy_(torch.tensor(ours.bias.detach().numpy()))
    return ours, theirs


def test_forward_hook_sees_input_and_output_and_may_replace_the_output_like_torch():
    ours, theirs = _linear_pair()
    kept = {}
    ours.register_forward_hook(lambda m, args, out: kept.update(mod=m, args=args, out=out))
    ours.register_forward_hook(lambda m, args, out: out * 2)
    theirs.register_forward_hook(lambda m, args, out: out * 2)
    x = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)
    y = ours(Tensor(x))
    ty = theirs(torch.tensor(x))
    assert kept["mod"] is ours and isinstance(kept["args"], tuple) and kept["args"][0].shape == (4, 3)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(kept["out"].detach().numpy() * 2, y.detach().numpy(), rtol=1e-6)


def test_forward_pre_hook_may_replace_the_inputs_like_torch():
    ours, theirs = _linear_pair()
    ours.register_forward_pre_hook(lambda m, args: args[0] + 1)           # one value: wrapped in a tuple
    theirs.register_forward_pre_hook(lambda m, args: (args[0] + 1,))
    x = np.ones((2, 3), np.float32)
    np.testing.assert_allclose(ours(Tensor(x)).detach().numpy(), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-6)


def test_module_hook_handles_remove_and_hooks_stay_out_of_the_state_dict():
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    calls = []
    handle = model[0].register_forward_hook(lambda m, a, o: calls.append(o.shape))
    model(Tensor(np.ones((3, 2), np.float32)))
    handle.remove()
    model(Tensor(np.ones((3, 2), np.float32)))
    assert calls == [(3, 2)]
    assert list(model.state_dict()) == ["0.weight", "0.bias"]
    with pytest.raises(TypeError, match="register_forward_hook: the hook must be a function"):
        model.register_forward_hook("not a function")


# ----------------------------------------------------------------------------- autograd.grad

@settings(max_examples=25, deadline=None)
@given(st.integers(1, 4), st.integers(1, 4), st.integers(0, 10_000))
def test_grad_matches_torch_for_leaves_and_non_leaves_and_leaves_grad_untouched(n, m, seed):
    x, tx = _pair((n, m), seed)
    w, tw = _pair((m,), seed + 1)
    h, th = (x * w).tanh(), (tx * tw).tanh()
    out, tout = (h * h).sum() + w.sum(), (th * th).sum() + tw.sum()
    gx, gw, gh = autograd.grad(out, [x, w, h])
    tgx, tgw, tgh = torch.autograd.grad(tout, [tx, tw, th])
    for ours, theirs in ((gx, tgx), (gw, tgw), (gh, tgh)):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10, atol=1e-12)
    assert x.grad is None and w.grad is None


def test_grad_of_several_outputs_with_grad_outputs_matches_torch():
    x, tx = _pair((3,))
    a, b = x * 2, x.exp()
    ta, tb = tx * 2, tx.exp()
    v = np.array([1.0, -1.0, 0.5])
    (g,) = autograd.grad([a, b], x, grad_outputs=[Tensor(v), Tensor(v * 2)])
    (tg_,) = torch.autograd.grad([ta, tb], tx, grad_outputs=[torch.tensor(v), torch.tensor(v * 2)])
    np.testing.assert_allclose(g.numpy(), tg_.numpy())


def test_grad_frees_the_graph_unless_retain_graph_as_torch():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    autograd.grad(y, x, retain_graph=True)
    autograd.grad(y, x)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        autograd.grad(y, x)


def test_grad_of_an_unused_input_is_an_error_or_none_with_allow_unused():
    x = Tensor([1.0], requires_grad=True)
    unused = Tensor([2.0], requires_grad=True)
    y = (x * 3).sum()
    with pytest.raises(RuntimeError, match="input 1 .* was not used.*allow_unused=True"):
        autograd.grad(y, [x, unused], retain_graph=True)
    gx, gu = autograd.grad(y, [x, unused], allow_unused=True)
    assert gu is None and gx.numpy().tolist() == [3.0]


def test_grad_checks_its_arguments():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="one-element output"):
        autograd.grad(y, x)
    with pytest.raises(TypeError, match="inputs must be Tensors, but item 0 is a ndarray"):
        autograd.grad(y.sum(), np.ones(2))
    with pytest.raises(RuntimeError, match="input 0 .* does not require grad"):
        autograd.grad(y.sum(), Tensor([1.0]))
    with pytest.raises(NotImplementedError, match="create_graph=True"):
        autograd.grad(y.sum(), x, create_graph=True)
    with pytest.raises(ValueError, match="1 output\\(s\\) but 2 grad_outputs"):
        autograd.grad(y.sum(), x, grad_outputs=[None, None])


def test_grad_runs_the_tensor_hooks_as_torch_does():
    x, tx = _pair((3,))
    y, ty = x * x, tx * tx
    y.register_hook(lambda g: g * 5)
    ty.register_hook(lambda g: g * 5)
    np.testing.assert_allclose(autograd.grad(y.sum(), x)[0].numpy(), torch.autograd.grad(ty.sum(), tx)[0].numpy())


def test_fgsm_input_gradient_through_a_small_network_matches_torch():
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    ours = tg.from_torch(theirs)
    x = np.random.default_rng(2).standard_normal((5, 4)).astype(np.float32)
    labels = np.array([0, 1, 2, 1, 0])
    xi = Tensor(x, requires_grad=True)
    txi = torch.tensor(x, requires_grad=True)
    loss = nn.functional.cross_entropy(ours(xi), Tensor(labels))
    tloss = torch.nn.functional.cross_entropy(theirs(txi), torch.tensor(labels))
    (g,) = autograd.grad(loss, xi)
    (tg_,) = torch.autograd.grad(tloss, txi)
    np.testing.assert_allclose(g.numpy(), tg_.numpy(), rtol=1e-5, atol=1e-7)
    assert all(p.grad is None for p in ours.parameters())
