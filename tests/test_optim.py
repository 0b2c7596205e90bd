"""optim: every optimizer and option updates the weights exactly as torch.optim does.

The reference runs train the same small model in both libraries from the same float64
weights: a 3-5-2 MLP with tanh, MSE loss against fixed data, 100 steps of
zero_grad / forward / backward / step. The final weights must agree within 1e-5; fed
torch's own gradients, our update arithmetic must agree within 1e-12. Then: parameter groups, state_dict round trips (ours and PyTorch's), schedulers' lr
sequences, and the errors a student meets.
"""
import functools
import warnings

import numpy as np
import pytest
import torch

from tinygrad_edu import Tensor, optim
from tinygrad_edu.optim import lr_scheduler

pytestmark = [pytest.mark.lecture08]   # SGD, momentum, Adagrad, RMSprop, Adam, weight decay, schedulers

STEPS = 100
ATOL = 1e-5

_rng = np.random.default_rng(1234)
X = _rng.normal(size=(16, 3))
Y = _rng.normal(size=(16, 2))
WEIGHTS = [_rng.normal(size=(3, 5)) * 0.5, _rng.normal(size=5) * 0.1,
           _rng.normal(size=(5, 2)) * 0.5, _rng.normal(size=2) * 0.1]


# ----------------------------------------------------------------------------- the twin models

class Twin:
    """The same MLP written twice: with tinygrad_edu Tensors and with torch tensors."""

    def __init__(self, lib, dtype=np.float64, device="cpu"):
        self.lib, self.dtype = lib, dtype
        if lib == "ours":
            self.params = [Tensor(w.astype(dtype), requires_grad=True, device=device) for w in WEIGHTS]
            self.x, self.y = Tensor(X.astype(dtype), device=device), Tensor(Y.astype(dtype), device=device)
        else:
            self.params = [torch.tensor(w.astype(dtype), requires_grad=True) for w in WEIGHTS]
            self.x, self.y = torch.tensor(X.astype(dtype)), torch.tensor(Y.astype(dtype))

    def loss(self):
        w1, b1, w2, b2 = self.params
        out = (self.x @ w1 + b1).tanh() @ w2 + b2
        return ((out - self.y) ** 2).mean()

    def optimizer(self, name, *args, **kwargs):
        module = optim if self.lib == "ours" else torch.optim
        return getattr(module, name)(*args, **kwargs)

    def train(self, opt, steps):
        for _ in range(steps):
            opt.zero_grad()
            self.loss().backward()
            opt.step()

    def weights(self):
        if self.lib == "ours":
            return [p.detach().numpy() for p in self.params]
        return [p.detach().numpy() for p in self.params]


def assert_weights_close(ours, theirs, atol=ATOL):
    for i, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(a, b, rtol=0, atol=atol, err_msg=f"parameter {i}")


def torch_run(name, kwargs, steps=STEPS, dtype=np.float64):
    """torch's final weights, and the gradients it used at each step (cached: tests share runs)."""
    return _torch_run(name, tuple(sorted(kwargs.items())), steps, np.dtype(dtype))


@functools.lru_cache(maxsize=None)
def _torch_run(name, options, steps, dtype):
    twin = Twin("torch", dtype)
    opt = twin.optimizer(name, twin.params, **dict(options))
    grads = []
    for _ in range(steps):
        opt.zero_grad()
        twin.loss().backward()
        grads.append([p.grad.numpy().copy() for p in twin.params])
        opt.step()
    return grads, [w.copy() for w in twin.weights()]


def train_both(name, kwargs, steps=STEPS, dtype=np.float64, device="cpu"):
    mine = Twin("ours", dtype, device)
    arrays_before = [p.data for p in mine.params]
    mine.train(mine.optimizer(name, mine.params, **kwargs), steps)
    assert all(p.data is a for p, a in zip(mine.params, arrays_before)), "p.data must be updated in place"
    return mine.weights(), torch_run(name, kwargs, steps, dtype)[1]


# ----------------------------------------------------------------------------- every option vs torch

CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.5)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.1, weight_decay=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.2, weight_decay=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.05)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.5)),
    ("Adagrad", dict(lr=0.1, eps=1e-3)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.1, eps=1e-6)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.005, alpha=0.9)),
    ("RMSprop", dict(lr=0.01, eps=1e-3)),
    ("RMSprop", dict(lr=0.01, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.005, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, alpha=0.3, eps=0.1, centered=True)),   # lerp weight >= 0.5: the other formula
    ("RMSprop", dict(lr=0.005, alpha=0.95, eps=1e-6, weight_decay=0.1, momentum=0.5, centered=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99))),
    ("Adam", dict(lr=0.01, betas=(0.3, 0.9))),                # lerp weight >= 0.5
    ("Adam", dict(lr=0.01, eps=1e-3)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, betas=(0.85, 0.95), eps=1e-6, weight_decay=0.1, amsgrad=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.3)),
    ("AdamW", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
]


def _case_id(case):
    name, kwargs = case
    return name + "-" + "-".join(f"{k}={v}" for k, v in kwargs.items())


@pytest.mark.parametrize("name, kwargs", CASES, ids=[_case_id(c) for c in CASES])
def test_100_steps_match_torch_in_float64(name, kwargs):
    """End to end: our autograd computes the gradients, our optimizer applies them.

    Our gradients differ from torch's in the last bit (another summation order). Rules that
    divide by a running RMS of tiny gradients (RMSprop with small alpha and eps) can amplify
    that exponentially, so the options above keep the training out of that chaotic regime;
    the test below checks the update arithmetic itself, with identical gradients, tightly.
    """
    ours, theirs = train_both(name, kwargs)
    assert_weights_close(ours, theirs)
    assert not np.allclose(ours[0], WEIGHTS[0]), "the weights should have moved"


@pytest.mark.parametrize("name, kwargs", CASES, ids=[_case_id(c) for c in CASES])
def test_update_arithmetic_equals_torchs_given_the_same_gradients(name, kwargs):
    torch_grads, torch_weights = torch_run(name, kwargs)
    mine = Twin("ours")
    opt = mine.optimizer(name, mine.params, **kwargs)
    for grads in torch_grads:
        for p, g in zip(mine.params, grads):
            p.grad = Tensor(g)
        opt.step()
    assert_weights_close(mine.weights(), torch_weights, atol=1e-12)


FLOAT32_CASES = [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
                 ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.01)),
                 ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.01)),
                 ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.01)),
                 ("AdamW", dict(lr=0.01))]


@pytest.mark.parametrize("name, kwargs", FLOAT32_CASES, ids=[c[0] for c in FLOAT32_CASES])
def test_100_steps_match_torch_in_float32(name, kwargs):
    ours, theirs = train_both(name, kwargs, dtype=np.float32)
    assert all(w.dtype == np.float32 for w in ours)
    assert_weights_close(ours, theirs, atol=2e-5)              # about 100 float32 roundings


# SGD, Adam and AdamW have a fused kernel on the GPU (tinygrad_edu/kernels.py): every case of
# theirs runs on each device; the other rules run their case with every option combined
DEVICE_CASES = ([c for c in CASES if c[0] in ("SGD", "Adam", "AdamW")]
                + [[c for c in CASES if c[0] == name][-1] for name in ("Adagrad", "RMSprop")])


@pytest.mark.parametrize("name, kwargs", DEVICE_CASES, ids=[_case_id(c) for c in DEVICE_CASES])
def test_optimizers_on_each_device_match_torch(name, kwargs, device):
    ours, theirs = train_both(name, kwargs, device=device)
    assert_weights_close(ours, theirs)


def test_state_arrays_live_on_the_parameters_device(device):
    w = Tensor(np.ones((2, 3)), requires_grad=True, device=device)
    opt = optim.Adam([w], amsgrad=True)
    (w * w).sum().backward()
    opt.step()
    state = opt.state[w]
    for key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
        assert type(state[key]) is type(w.data) and state[key].dtype == w.dtype
    # the step counter stays a NumPy scalar array, as torch keeps it on the CPU: reading it for
    # the bias correction must not wait for the GPU
    assert isinstance(state["step"], np.ndarray) and state["step"].shape == () and float(state["step"]) == 1.0


# ----------------------------------------------------------------------------- how step treats arrays

def test_step_never_writes_into_a_gradient_array():
    """The gradient is read, never written: weight decay must not add into it, even when two
    parameters share one gradient array."""
    a = Tensor(np.ones(3), requires_grad=True)
    b = Tensor(np.full(3, 2.0), requires_grad=True)
    ((a + b) * Tensor(np.array([1.0, 2.0, 3.0]))).sum().backward()
    b.grad = a.grad                                   # share one gradient array on purpose
    for opt in [optim.SGD([a, b], lr=0.1, momentum=0.9, weight_decay=0.5),
                optim.Adagrad([a, b], weight_decay=0.5),
                optim.RMSprop([a, b], weight_decay=0.5, centered=True),
                optim.Adam([a, b], weight_decay=0.5),
                optim.AdamW([a, b], weight_decay=0.5)]:
        opt.step()
        np.testing.assert_array_equal(a.grad.data, [1.0, 2.0, 3.0])


def test_parameters_without_gradient_are_skipped_like_torch():
    mine, ref = Twin("ours"), Twin("torch")
    for twin in (mine, ref):
        opt = twin.optimizer("Adam", twin.params, lr=0.01)
        for _ in range(5):
            opt.zero_grad()
            twin.loss().backward()
            twin.params[3].grad = None                # b2 gets no update and no state
            opt.step()
        assert twin.params[3] not in opt.state and all(p in opt.state for p in twin.params[:3])
    assert_weights_close(mine.weights(), ref.weights())
    np.testing.assert_array_equal(mine.weights()[3], WEIGHTS[3])


def test_zero_grad_sets_grad_to_none():
    w = Tensor(np.ones(3), requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    (w * w).sum().backward()
    opt.zero_grad()
    assert w.grad is None


def test_zero_grad_without_set_to_none_gives_new_zero_arrays():
    w = Tensor(np.ones(3), requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    (w * w).sum().backward()
    old = w.grad.data
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(w.grad.data, np.zeros(3))
    np.testing.assert_array_equal(old, [2.0, 2.0, 2.0])       # the old array is left alone


def test_step_with_closure_returns_the_loss():
    twin = Twin("ours")
    opt = optim.SGD(twin.params, lr=0.1)

    def closure():
        opt.zero_grad()
        loss = twin.loss()
        loss.backward()
        return loss

    first = opt.step(closure)
    assert isinstance(first, Tensor) and opt.step(closure).item() < first.item()


def test_a_module_trains_with_its_parameters_generator():
    """The lecture's loop: nn.Module.parameters() yields nn.Parameter, a Tensor subclass."""
    from tinygrad_edu import nn
    model = nn.Sequential(nn.Linear(3, 10), nn.ReLU(), nn.Linear(10, 3))
    opt = optim.SGD(model.parameters(), lr=0.1, weight_decay=0.05)
    x, y = Tensor(X.astype(np.float32)), Tensor(np.arange(16) % 3)
    losses = []
    for _ in range(20):
        opt.zero_grad()
        loss = nn.CrossEntropyLoss()(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert len(opt.param_groups[0]["params"]) == 4 and losses[-1] < losses[0]


def test_params_can_be_a_generator():
    twin = Twin("ours")
    opt = optim.SGD((p for p in twin.params), lr=0.1)
    assert len(opt.param_groups[0]["params"]) == 4


# ----------------------------------------------------------------------------- parameter groups

def _two_groups(twin, name):
    w1, b1, w2, b2 = twin.params
    groups = [{"params": [w1, b1]}, {"params": [w2, b2], "lr": 0.003, "weight_decay": 0.1}]
    return twin.optimizer(name, groups, lr=0.03)


@pytest.mark.parametrize("name", ["SGD", "Adagrad", "RMSprop", "Adam", "AdamW"])
def test_param_groups_with_their_own_options_match_torch(name):
    mine, ref = Twin("ours"), Twin("torch")
    mine.train(_two_groups(mine, name), STEPS)
    ref.train(_two_groups(ref, name), STEPS)
    assert_weights_close(mine.weights(), ref.weights())


def test_group_options_fall_back_to_the_defaults():
    twin = Twin("ours")
    opt = _two_groups(twin, "SGD")
    assert opt.param_groups[0]["lr"] == 0.03 and opt.param_groups[1]["lr"] == 0.003
    assert opt.param_groups[0]["weight_decay"] == 0 and opt.param_groups[1]["momentum"] == 0


def test_add_param_group_later_matches_torch():
    mine, ref = Twin("ours"), Twin("torch")
    for twin in (mine, ref):
        opt = twin.optimizer("Adam", twin.params[:2], lr=0.01)
        twin.train(opt, 10)
        opt.add_param_group({"params": twin.params[2:], "lr": 0.02})
        twin.train(opt, 10)
    assert_weights_close(mine.weights(), ref.weights())


def test_changing_lr_in_a_group_takes_effect():
    mine, ref = Twin("ours"), Twin("torch")
    for twin in (mine, ref):
        opt = twin.optimizer("SGD", twin.params, lr=0.1, momentum=0.9)
        twin.train(opt, 5)
        opt.param_groups[0]["lr"] = 0.01
        twin.train(opt, 5)
    assert_weights_close(mine.weights(), ref.weights())


# ----------------------------------------------------------------------------- state_dict

FULL_STATE_CASES = [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
                    ("Adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1)),
                    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True)),
                    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.01)),
                    ("AdamW", dict(lr=0.01, amsgrad=True))]


@pytest.mark.parametrize("name, kwargs", FULL_STATE_CASES, ids=[c[0] for c in FULL_STATE_CASES])
def test_state_dict_round_trip_continues_like_an_uninterrupted_run(name, kwargs, device):
    straight = Twin("ours", device=device)
    straight.train(straight.optimizer(name, straight.params, **kwargs), 20)

    resumed = Twin("ours", device=device)
    first = resumed.optimizer(name, resumed.params, **kwargs)
    resumed.train(first, 10)
    saved = first.state_dict()
    second = resumed.optimizer(name, resumed.params, **kwargs)
    second.load_state_dict(saved)
    resumed.train(second, 10)
    for a, b in zip(resumed.weights(), straight.weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name, kwargs", FULL_STATE_CASES, ids=[c[0] for c in FULL_STATE_CASES])
def test_state_dict_has_torchs_layout(name, kwargs):
    mine, ref = Twin("ours"), Twin("torch")
    opt_m = _two_groups(mine, name)
    opt_t = _two_groups(ref, name)
    for opt in (opt_m, opt_t):
        for group in opt.param_groups:
            group.update({k: v for k, v in kwargs.items() if k != "lr"})
    mine.train(opt_m, 3)
    ref.train(opt_t, 3)
    sd_m, sd_t = opt_m.state_dict(), opt_t.state_dict()
    assert sorted(sd_m) == ["param_groups", "state"]
    assert [g["params"] for g in sd_m["param_groups"]] == [[0, 1], [2, 3]]
    assert [g["params"] for g in sd_t["param_groups"]] == [[0, 1], [2, 3]]
    for g_m, g_t in zip(sd_m["param_groups"], sd_t["param_groups"]):
        assert set(g_m) <= set(g_t)
        assert all(g_m[k] == g_t[k] for k in g_m)
    assert sorted(sd_m["state"]) == sorted(sd_t["state"])
    for i, entry in sd_m["state"].items():
        assert sorted(entry) == sorted(sd_t["state"][i])
        for key, value in entry.items():
            assert isinstance(value, Tensor)
            np.testing.assert_allclose(value.numpy(), sd_t["state"][i][key].numpy(), rtol=0, atol=1e-12)


@pytest.mark.parametrize("name, kwargs", FULL_STATE_CASES, ids=[c[0] for c in FULL_STATE_CASES])
def test_a_torch_state_dict_loads_and_training_continues_like_torch(name, kwargs):
    mine, ref = Twin("ours"), Twin("torch")
    opt_t = ref.optimizer(name, ref.params, **kwargs)
    ref.train(opt_t, 10)
    with torch.no_grad():
        for p, q in zip(mine.params, ref.params):
            p.data[...] = q.numpy()
    opt_m = mine.optimizer(name, mine.params, **kwargs)
    opt_m.load_state_dict(opt_t.state_dict())
    mine.train(opt_m, 10)
    ref.train(opt_t, 10)
    assert_weights_close(mine.weights(), ref.weights(), atol=1e-12)


def test_state_dict_is_a_snapshot():
    twin = Twin("ours")
    opt = optim.Adam(twin.params, lr=0.01)
    twin.train(opt, 3)
    saved = opt.state_dict()
    before = saved["state"][0]["exp_avg"].numpy().copy()
    twin.train(opt, 3)
    np.testing.assert_array_equal(saved["state"][0]["exp_avg"].numpy(), before)
    assert float(saved["state"][0]["step"].item()) == 3.0


def test_load_state_dict_copies_the_arrays():
    twin = Twin("ours")
    opt = optim.SGD(twin.params, lr=0.1, momentum=0.9)
    twin.train(opt, 2)
    saved = opt.state_dict()
    opt.load_state_dict(saved)
    assert opt.state[twin.params[0]]["momentum_buffer"] is not saved["state"][0]["momentum_buffer"].data


def test_load_state_dict_accepts_plain_arrays():
    twin = Twin("ours")
    opt = optim.Adam(twin.params, lr=0.01)
    twin.train(opt, 2)
    saved = opt.state_dict()
    saved["state"] = {i: {k: v.numpy() for k, v in entry.items()} for i, entry in saved["state"].items()}
    fresh = optim.Adam(twin.params, lr=0.01)
    fresh.load_state_dict(saved)
    assert float(fresh.state[twin.params[0]]["step"]) == 2.0


def _trained_adam():
    twin = Twin("ours")
    opt = optim.Adam(twin.params, lr=0.01)
    twin.train(opt, 2)
    return twin, opt


def _assert_unchanged(opt, state_before, groups_before):
    assert opt.param_groups == groups_before
    for p, entry in state_before.items():
        for k, v in entry.items():
            np.testing.assert_array_equal(opt.state[p][k], v)


@pytest.mark.parametrize("corrupt, match", [
    (lambda sd: sd["param_groups"].append(dict(sd["param_groups"][0], params=[9])),
     r"2 parameter group\(s\)"),
    (lambda sd: sd["param_groups"][0]["params"].pop(), r"group 0.* 3 parameter\(s\).* has 4"),
    (lambda sd: sd["state"][2].__setitem__("exp_avg", Tensor(np.zeros((2, 5)))),
     r"'exp_avg' of parameter 2 has shape \(2, 5\).*\(5, 2\)"),
    (lambda sd: sd["state"].__setitem__(7, {}), r"parameter 7"),
    (lambda sd: sd["param_groups"][0].__setitem__("lr", -1.0), r"lr=-1.0"),
], ids=["group count", "parameter count", "state shape", "unknown index", "bad option"])
def test_load_state_dict_checks_everything_before_changing_anything(corrupt, match):
    twin, opt = _trained_adam()
    state_before = {p: {k: np.copy(v) for k, v in s.items()} for p, s in opt.state.items()}
    groups_before = [dict(g) for g in opt.param_groups]
    sd = opt.state_dict()
    sd["state"][0]["exp_avg"] = Tensor(np.full((3, 5), 7.0))    # a valid change that must not land
    corrupt(sd)
    with pytest.raises(ValueError, match=match):
        opt.load_state_dict(sd)
    _assert_unchanged(opt, state_before, groups_before)


def test_load_state_dict_rejects_something_that_is_not_a_state_dict():
    _, opt = _trained_adam()
    with pytest.raises(ValueError, match=r"Adam.load_state_dict: expected a dict with keys 'state' and "
                                         r"'param_groups'"):
        opt.load_state_dict({"weight": Tensor([1.0])})


def test_adamw_stays_decoupled_after_loading_an_adam_state_dict():
    twin, adam = _trained_adam()
    adamw = optim.AdamW(twin.params)
    adamw.load_state_dict(adam.state_dict())
    assert adamw.param_groups[0]["decoupled_weight_decay"] is True


# ----------------------------------------------------------------------------- errors for students

def _w():
    return Tensor(np.ones(3), requires_grad=True)


BAD_OPTIONS = [
    (lambda: optim.SGD([_w()], lr=-0.1), r"SGD: invalid learning rate lr=-0.1"),
    (lambda: optim.SGD([_w()], lr=0.1, momentum=-0.5), r"SGD: invalid momentum value momentum=-0.5"),
    (lambda: optim.SGD([_w()], lr=0.1, weight_decay=-1), r"SGD: invalid weight_decay value weight_decay=-1"),
    (lambda: optim.SGD([_w()], lr=0.1, nesterov=True), r"SGD: Nesterov momentum requires.*momentum=0"),
    (lambda: optim.SGD([_w()], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
     r"SGD: Nesterov.*dampening=0.1"),
    (lambda: optim.Adagrad([_w()], lr_decay=-0.1), r"Adagrad: invalid lr_decay value lr_decay=-0.1"),
    (lambda: optim.Adagrad([_w()], initial_accumulator_value=-1.0),
     r"Adagrad: .*initial_accumulator_value=-1.0"),
    (lambda: optim.Adagrad([_w()], eps=-1e-10), r"Adagrad: invalid epsilon value eps=-1e-10"),
    (lambda: optim.RMSprop([_w()], alpha=-0.5), r"RMSprop: invalid alpha value alpha=-0.5"),
    (lambda: optim.RMSprop([_w()], momentum=-0.9), r"RMSprop: invalid momentum value momentum=-0.9"),
    (lambda: optim.RMSprop([_w()], eps=-1.0), r"RMSprop: invalid epsilon value eps=-1.0"),
    (lambda: optim.Adam([_w()], lr=-1e-3), r"Adam: invalid learning rate lr=-0.001"),
    (lambda: optim.Adam([_w()], betas=(1.0, 0.999)),
     r"Adam: invalid beta parameter at index 0: betas=\(1.0, 0.999\)"),
    (lambda: optim.Adam([_w()], betas=(0.9, -0.1)), r"Adam: invalid beta parameter at index 1"),
    (lambda: optim.Adam([_w()], eps=-1e-8), r"Adam: invalid epsilon value eps=-1e-08"),
    (lambda: optim.AdamW([_w()], betas=(0.9, 1.5)), r"AdamW: invalid beta parameter at index 1"),
    (lambda: optim.AdamW([_w()], weight_decay=-0.01), r"AdamW: invalid weight_decay value"),
    (lambda: optim.SGD([{"params": [_w()], "lr": -1.0}], lr=0.1), r"SGD: invalid learning rate lr=-1.0"),
]


@pytest.mark.parametrize("make, match", BAD_OPTIONS, ids=[m for _, m in BAD_OPTIONS])
def test_options_out_of_range_are_value_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_an_option_that_is_not_a_number_is_a_type_error():
    with pytest.raises(TypeError, match=r"SGD: lr must be a number, got str '0.1'"):
        optim.SGD([_w()], lr="0.1")
    with pytest.raises(TypeError, match=r"Adam: betas must be a pair"):
        optim.Adam([_w()], betas=0.9)


BAD_PARAMS = [
    (lambda: optim.SGD(_w(), lr=0.1), TypeError,
     r"SGD: params must be an iterable.*single Tensor.*SGD\(\[w\]"),
    (lambda: optim.SGD([], lr=0.1), ValueError, r"SGD: optimizer got an empty parameter list"),
    (lambda: optim.Adam([1.0, 2.0]), TypeError,
     r"Adam: optimizer can only optimize Tensors, but one of the params is float"),
    (lambda: optim.Adam(np.ones(3)), TypeError, r"Adam: optimizer can only optimize Tensors"),
    (lambda: optim.Adam([("w", _w())]), TypeError, r"is tuple; pass model.parameters\(\), not model.named_parameters"),
    (lambda: optim.SGD({_w()}, lr=0.1), TypeError, r"not a set"),
    (lambda: optim.SGD(5, lr=0.1), TypeError, r"SGD: params must be an iterable.*got int"),
    (lambda: optim.SGD([_w() * 2], lr=0.1), ValueError, r"can't optimize a non-leaf Tensor"),
]


@pytest.mark.parametrize("make, error, match", BAD_PARAMS, ids=[m for _, _, m in BAD_PARAMS])
def test_bad_params_are_rejected(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_a_parameter_in_two_groups_is_a_value_error():
    w = _w()
    with pytest.raises(ValueError, match=r"SGD: some parameters appear in more than one parameter group"):
        optim.SGD([{"params": [w]}, {"params": [w, _w()]}], lr=0.1)


def test_a_parameter_listed_twice_is_a_value_error():
    w = _w()
    with pytest.raises(ValueError, match=r"lists the same parameter twice"):
        optim.SGD([w, w], lr=0.1)


def test_a_failed_add_param_group_changes_nothing():
    w = _w()
    opt = optim.SGD([w], lr=0.1)
    for bad in ({"params": [w]}, {"params": [_w()], "lr": -1.0}, {"params": []}, {"lr": 0.1}):
        with pytest.raises(ValueError):
            opt.add_param_group(bad)
    assert len(opt.param_groups) == 1


def test_a_gradient_of_the_wrong_shape_is_an_error_before_any_update():
    a, b = _w(), _w()
    opt = optim.SGD([a, b], lr=0.1)
    a.grad = Tensor(np.ones(3))
    b.grad = Tensor(np.ones(1))
    with pytest.raises(ValueError, match=r"SGD.step: a parameter of shape \(3,\) has a gradient of "
                                         r"shape \(1,\)"):
        opt.step()
    np.testing.assert_array_equal(a.data, np.ones(3))


def test_repr_lists_the_groups_and_their_options():
    text = repr(optim.SGD([_w()], lr=0.1, momentum=0.9))
    assert text.startswith("SGD (") and "Parameter Group 0" in text and "momentum: 0.9" in text


# ----------------------------------------------------------------------------- learning-rate schedules

def _lr_sequence(lib, scheduler, kwargs, steps=30, lrs=(0.1, 0.02)):
    if lib == "ours":
        groups = [{"params": [_w()], "lr": lr} for lr in lrs]
        opt = optim.SGD(groups, lr=lrs[0])
        sched = getattr(lr_scheduler, scheduler)(opt, **kwargs)
    else:
        groups = [{"params": [torch.ones(3, requires_grad=True)], "lr": lr} for lr in lrs]
        opt = torch.optim.SGD(groups, lr=lrs[0])
        sched = getattr(torch.optim.lr_scheduler, scheduler)(opt, **kwargs)
    seen = [sched.get_last_lr()]
    for _ in range(steps):
        opt.step()                                   # no gradients: nothing moves, order as in training
        sched.step()
        seen.append(sched.get_last_lr())
        assert seen[-1] == [g["lr"] for g in opt.param_groups]
    return seen, sched.last_epoch


SCHEDULES = [
    ("StepLR", dict(step_size=7)),
    ("StepLR", dict(step_size=3, gamma=0.5)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=30)),
    ("CosineAnnealingLR", dict(T_max=8, eta_min=0.001)),   # 30 steps pass the bottom twice
]


@pytest.mark.parametrize("scheduler, kwargs", SCHEDULES, ids=[f"{s}-{k}" for s, k in SCHEDULES])
def test_schedulers_give_torchs_lr_sequence(scheduler, kwargs):
    ours, epoch = _lr_sequence("ours", scheduler, kwargs)
    theirs, torch_epoch = _lr_sequence("torch", scheduler, kwargs)
    assert epoch == torch_epoch == 30
    np.testing.assert_allclose(np.array(ours), np.array(theirs), rtol=1e-12, atol=0)


def test_scheduler_with_training_matches_torch():
    mine, ref = Twin("ours"), Twin("torch")
    for twin in (mine, ref):
        opt = twin.optimizer("SGD", twin.params, lr=0.1, momentum=0.9)
        lib = lr_scheduler if twin.lib == "ours" else torch.optim.lr_scheduler
        sched = lib.CosineAnnealingLR(opt, T_max=10, eta_min=0.01)
        for _ in range(3):
            twin.train(opt, 5)
            sched.step()
    assert_weights_close(mine.weights(), ref.weights())


def test_scheduler_starts_at_epoch_zero_with_the_optimizers_lr():
    opt = optim.SGD([_w()], lr=0.5)
    sched = lr_scheduler.StepLR(opt, step_size=2, gamma=0.1)
    assert sched.last_epoch == 0 and sched.get_last_lr() == [0.5] and opt.param_groups[0]["initial_lr"] == 0.5


def test_scheduler_state_dict_round_trip():
    opt = optim.SGD([_w()], lr=1.0)
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=10)
    for _ in range(4):
        sched.step()
    saved, saved_opt = sched.state_dict(), opt.state_dict()
    assert "optimizer" not in saved and saved["last_epoch"] == 4
    expected = [sched.step() or sched.get_last_lr() for _ in range(3)]

    opt2 = optim.SGD([_w()], lr=1.0)
    sched2 = lr_scheduler.CosineAnnealingLR(opt2, T_max=10)
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved)
    assert [sched2.step() or sched2.get_last_lr() for _ in range(3)] == expected


@pytest.mark.parametrize("scheduler, kwargs", SCHEDULES, ids=[f"{s}-{k}" for s, k in SCHEDULES])
def test_step_with_an_epoch_uses_the_closed_form(scheduler, kwargs):
    opt = optim.SGD([_w()], lr=0.1)
    sched = getattr(lr_scheduler, scheduler)(opt, **kwargs)
    recursive, _ = _lr_sequence("ours", scheduler, kwargs, steps=12, lrs=(0.1,))
    sched.step(12)
    assert sched.last_epoch == 12
    np.testing.assert_allclose(sched.get_last_lr(), recursive[12], rtol=1e-12)


def test_scheduler_errors():
    opt = optim.SGD([_w()], lr=0.1)
    with pytest.raises(TypeError, match=r"StepLR: expected an Optimizer"):
        lr_scheduler.StepLR(torch.optim.SGD([torch.ones(1, requires_grad=True)]), step_size=2)
    with pytest.raises(ValueError, match=r"StepLR: step_size must be >= 1, got 0"):
        lr_scheduler.StepLR(opt, step_size=0)
    with pytest.raises(TypeError, match=r"StepLR: step_size must be an int"):
        lr_scheduler.StepLR(opt, step_size=2.5)
    with pytest.raises(ValueError, match=r"CosineAnnealingLR: T_max .* must be > 0, got 0"):
        lr_scheduler.CosineAnnealingLR(opt, T_max=0)
    with pytest.raises(KeyError, match=r"initial_lr"):
        lr_scheduler.ExponentialLR(opt, gamma=0.9, last_epoch=3)


def test_torch_schedulers_do_not_warn_in_these_tests():
    """The lr-sequence helper calls optimizer.step() before scheduler.step(), as torch asks."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _lr_sequence("torch", "StepLR", dict(step_size=2), steps=3)


def test_a_frozen_parameter_is_accepted_and_left_unchanged_as_in_torch():
    frozen = Tensor(np.ones(3))
    trained = Tensor(np.ones(3), requires_grad=True)
    opt = optim.SGD([frozen, trained], lr=0.1)
    (frozen * trained).sum().backward()
    opt.step()
    np.testing.assert_array_equal(frozen.numpy(), np.ones(3))
    np.testing.assert_allclose(trained.detach().numpy(), np.full(3, 0.9))
