"""nn.Module's behaviour, with torch.nn 2.13 as the referee wherever PyTorch has the same thing.

Registration (parameters and children by attribute assignment, in order), traversal names,
state_dict names/order/shapes and load_state_dict's checks, attribute errors, repr text,
train/eval, zero_grad, the default initialisation and nn.init's distributions, seeding,
and two end-to-end checks: the lecture-9 model trains step for step like torch's, and a
small CNN runs an MNIST-sized batch in well under a second.
"""
from __future__ import annotations

import math
import time

import numpy as np
import pytest
import torch

import tinygrad_edu
import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F
from tinygrad_edu import Tensor

pytestmark = [pytest.mark.lecture09]   # nn.Module, Sequential, state_dict


@pytest.fixture(autouse=True)
def _seed_torch():
    torch.manual_seed(0)


# ----------------------------------------------------------------------------- models in both libraries

def our_parameter(array):
    return nn.Parameter(Tensor(array))


def torch_parameter(array):
    return torch.nn.Parameter(torch.tensor(array))


def nested_model(lib, parameter):
    """A custom model with its own parameter, a Sequential holding a custom block, a ModuleList
    and a head; lib is torch.nn or tinygrad_edu.nn, parameter makes that library's Parameter."""

    class Block(lib.Module):
        def __init__(self):
            super().__init__()
            self.fc = lib.Linear(4, 4)
            self.act = lib.ReLU()
            self.norm = lib.BatchNorm1d(4)

        def forward(self, x):
            return self.norm(self.act(self.fc(x)))

    class Net(lib.Module):
        def __init__(self):
            super().__init__()
            self.scale = parameter(np.ones(4, np.float32))
            self.encoder = lib.Sequential(lib.Linear(3, 4), lib.Tanh(), Block())
            self.blocks = lib.ModuleList([Block(), Block()])
            self.head = lib.Linear(4, 2, bias=False)

        def forward(self, x):
            h = self.encoder(x) * self.scale
            for block in self.blocks:
                h = block(h)
            return self.head(h)

    return Net()


def ours_and_torchs_nested():
    return nested_model(nn, our_parameter), nested_model(torch.nn, torch_parameter)


def sequential_model(lib):
    return lib.Sequential(lib.Linear(3, 5), lib.ReLU(), lib.Linear(5, 4), lib.BatchNorm1d(4), lib.Dropout(0.2),
                          lib.Linear(4, 2))


def lecture9_model(lib, **kwargs):
    return lib.Sequential(lib.Linear(3, 10, **kwargs), lib.ReLU(), lib.Linear(10, 20, **kwargs), lib.ReLU(),
                          lib.Linear(20, 3, **kwargs))


def names(pairs):
    return [name for name, _ in pairs]


def snapshot(model):
    """Copies of every state_dict value, to tell later whether anything changed."""
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


def assert_same_state(model, before):
    after = snapshot(model)
    assert list(after) == list(before)
    for key in before:
        np.testing.assert_array_equal(after[key], before[key], err_msg=f"{key} changed")


# ----------------------------------------------------------------------------- registration

class Ordered(nn.Module):
    def __init__(self):
        super().__init__()
        self.b = nn.Parameter(Tensor.zeros(2))
        self.a = nn.Parameter(Tensor.zeros(3))
        self.inner = nn.Linear(2, 2)
        self.c = nn.Parameter(Tensor.zeros(1))
        self.constant = Tensor.ones(5)                      # a plain Tensor: not a parameter
        self.note = "hello"


def test_parameters_are_registered_by_attribute_assignment_in_order():
    assert names(Ordered().named_parameters()) == ["b", "a", "c", "inner.weight", "inner.bias"]


def test_parameters_yields_the_registered_objects_themselves():
    model = Ordered()
    assert [id(p) for p in model.parameters()] == [id(model.b), id(model.a), id(model.c),
                                                  id(model.inner.weight), id(model.inner.bias)]


def test_plain_tensors_and_other_attributes_are_not_parameters():
    model = Ordered()
    assert all(p is not model.constant for p in model.parameters())
    assert model.note == "hello"
    assert "constant" not in model.state_dict()


def test_reassigning_a_parameter_keeps_its_place_and_takes_the_new_value():
    model = Ordered()
    model.b = nn.Parameter(Tensor.ones(2))
    assert names(model.named_parameters())[0] == "b"
    np.testing.assert_array_equal(model.b.detach().numpy(), np.ones(2))


def test_assigning_before_super_init_raises_attribute_error():
    class Forgetful(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match="super"):
        Forgetful()


def test_registered_buffers_are_in_state_dict_but_not_in_parameters():
    model = nn.Module()
    model.register_buffer("stats", Tensor.zeros(3))
    model.register_buffer("scratch", Tensor.zeros(2), persistent=False)
    assert list(model.parameters()) == []
    assert list(model.state_dict()) == ["stats"]
    assert names(model.named_buffers()) == ["stats", "scratch"]


def test_calling_a_module_runs_forward():
    class Double(nn.Module):
        def forward(self, x):
            return x * 2

    np.testing.assert_array_equal(Double()(Tensor([1.0, 2.0])).numpy(), [2.0, 4.0])


# ----------------------------------------------------------------------------- traversal names = torch's

def test_named_parameters_of_a_nested_model_equal_torchs():
    ours, theirs = ours_and_torchs_nested()
    assert names(ours.named_parameters()) == names(theirs.named_parameters())


def test_named_modules_of_a_nested_model_equal_torchs():
    ours, theirs = ours_and_torchs_nested()
    assert names(ours.named_modules()) == names(theirs.named_modules())
    assert [type(m).__name__ for m in ours.modules()] == [type(m).__name__ for m in theirs.modules()]


def test_children_of_a_nested_model_equal_torchs():
    ours, theirs = ours_and_torchs_nested()
    assert names(ours.named_children()) == names(theirs.named_children())
    assert [type(m).__name__ for m in ours.children()] == [type(m).__name__ for m in theirs.children()]


def test_named_buffers_of_a_nested_model_equal_torchs():
    ours, theirs = ours_and_torchs_nested()
    assert names(ours.named_buffers()) == names(theirs.named_buffers())


def test_a_module_shared_twice_is_listed_once_like_in_torch():
    def build(lib):
        shared = lib.Linear(2, 2)
        return lib.Sequential(shared, lib.ReLU(), shared)

    ours, theirs = build(nn), build(torch.nn)
    assert names(ours.named_parameters()) == names(theirs.named_parameters()) == ["0.weight", "0.bias"]
    assert names(ours.named_modules()) == names(theirs.named_modules())


# ----------------------------------------------------------------------------- state_dict

def state_layout(state_dict):
    """(name, shape, dtype) of every entry, in order, written the same way for both libraries."""
    return [(k, tuple(v.shape), str(v.dtype).replace("torch.", "")) for k, v in state_dict.items()]


def test_state_dict_of_a_sequential_has_torchs_names_order_shapes_and_dtypes():
    assert state_layout(sequential_model(nn).state_dict()) == state_layout(sequential_model(torch.nn).state_dict())


def test_state_dict_of_a_custom_nested_module_has_torchs_names_order_shapes_and_dtypes():
    ours, theirs = ours_and_torchs_nested()
    assert state_layout(ours.state_dict()) == state_layout(theirs.state_dict())


def test_state_dict_holds_the_current_parameter_values():
    model = sequential_model(nn)
    np.testing.assert_array_equal(model.state_dict()["2.weight"].detach().numpy(), model[2].weight.detach().numpy())


def test_state_dict_loads_into_a_fresh_model_that_then_computes_the_same():
    source, target = sequential_model(nn).eval(), sequential_model(nn).eval()
    target.load_state_dict(source.state_dict())
    x = Tensor(np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32))
    np.testing.assert_array_equal(target(x).detach().numpy(), source(x).detach().numpy())


def altered_state(model):
    """Every entry of the model's state_dict, changed, so that a partial load would show."""
    return {k: v.numpy() + 1 for k, v in model.state_dict().items()}


def test_load_state_dict_with_a_missing_key_raises_naming_it():
    model = sequential_model(nn)
    state = altered_state(model)
    del state["3.running_var"]
    with pytest.raises(RuntimeError, match=r"3\.running_var"):
        model.load_state_dict(state)


def test_load_state_dict_with_an_unexpected_key_raises_naming_it():
    model = sequential_model(nn)
    state = altered_state(model)
    state["6.weight"] = np.zeros((2, 2), np.float32)
    with pytest.raises(RuntimeError, match=r"6\.weight"):
        model.load_state_dict(state)


def test_load_state_dict_with_a_wrong_shape_raises_naming_the_key_and_both_shapes():
    model = sequential_model(nn)
    state = altered_state(model)
    state["5.weight"] = np.zeros((2, 6), np.float32)
    with pytest.raises(RuntimeError) as error:
        model.load_state_dict(state)
    message = str(error.value)
    assert "5.weight" in message and "(2, 6)" in message and "(2, 4)" in message, message


BROKEN_STATES = {
    "missing key": lambda state: state.pop("3.running_var"),
    "unexpected key": lambda state: state.update({"extra.weight": np.zeros(3, np.float32)}),
    "wrong shape": lambda state: state.update({"5.weight": np.zeros((2, 6), np.float32)}),
    "wrong shape of a buffer": lambda state: state.update({"3.running_mean": np.zeros(5, np.float32)}),
}


@pytest.mark.parametrize("problem", list(BROKEN_STATES))
def test_failed_load_state_dict_leaves_the_model_untouched(problem):
    model = sequential_model(nn)
    before = snapshot(model)
    state = altered_state(model)                # every other entry is valid and different
    BROKEN_STATES[problem](state)
    with pytest.raises(RuntimeError):
        model.load_state_dict(state)
    assert_same_state(model, before)


def test_load_state_dict_not_strict_returns_missing_and_unexpected_keys_like_torch():
    ours, theirs = sequential_model(nn), sequential_model(torch.nn)
    state = altered_state(ours)
    del state["3.running_var"], state["0.bias"]
    state["extra.weight"] = np.zeros(3, np.float32)
    ours_result = ours.load_state_dict(state, strict=False)
    theirs_result = theirs.load_state_dict({k: torch.tensor(v) for k, v in state.items()}, strict=False)
    assert ours_result.missing_keys == theirs_result.missing_keys == ["0.bias", "3.running_var"]
    assert ours_result.unexpected_keys == theirs_result.unexpected_keys == ["extra.weight"]


def test_load_state_dict_not_strict_loads_the_keys_that_match():
    model = sequential_model(nn)
    state = altered_state(model)
    del state["0.bias"]
    model.load_state_dict(state, strict=False)
    np.testing.assert_array_equal(model[0].weight.detach().numpy(), state["0.weight"])
    np.testing.assert_array_equal(model[5].bias.detach().numpy(), state["5.bias"])


def test_load_state_dict_not_strict_still_rejects_a_wrong_shape():
    model = sequential_model(nn)
    before = snapshot(model)
    with pytest.raises(RuntimeError, match=r"5\.weight"):
        model.load_state_dict({"5.weight": np.zeros((2, 6), np.float32)}, strict=False)
    assert_same_state(model, before)


def test_load_state_dict_copies_the_values_into_the_existing_parameters():
    model = nn.Linear(3, 2)
    weight = model.weight
    model.load_state_dict({"weight": np.full((2, 3), 7.0, np.float32), "bias": np.zeros(2, np.float32)})
    assert model.weight is weight
    np.testing.assert_array_equal(weight.detach().numpy(), np.full((2, 3), 7.0))


# ----------------------------------------------------------------------------- attribute errors

def test_misspelt_attribute_raises_attribute_error_naming_it():
    with pytest.raises(AttributeError, match="weihgt"):
        nn.Linear(2, 3).weihgt


def test_misspelt_submodule_of_a_custom_model_raises_attribute_error_naming_it():
    ours, _ = ours_and_torchs_nested()
    with pytest.raises(AttributeError, match="encodr"):
        ours.encodr


def test_hasattr_and_getattr_with_a_default_work_for_missing_attributes():
    layer = nn.Linear(2, 3)
    assert not hasattr(layer, "weihgt")
    assert getattr(layer, "weihgt", None) is None
    assert hasattr(layer, "weight") and hasattr(layer, "bias")


# ----------------------------------------------------------------------------- repr = torch's text

LAYERS_FOR_REPR = {
    "Linear": lambda lib: lib.Linear(3, 10),
    "Linear(bias=False)": lambda lib: lib.Linear(3, 10, bias=False),
    "ReLU": lambda lib: lib.ReLU(),
    "Conv2d": lambda lib: lib.Conv2d(1, 8, 3),
    "Conv2d(all options)": lambda lib: lib.Conv2d(1, 8, (3, 5), stride=2, padding=1, dilation=2, bias=False),
    "Conv2d(pairs)": lambda lib: lib.Conv2d(3, 6, (2, 3), stride=(1, 2), padding=(0, 1)),
    "MaxPool2d": lambda lib: lib.MaxPool2d(2),
    "MaxPool2d(all options)": lambda lib: lib.MaxPool2d((2, 3), stride=1, padding=1, dilation=2),
    "BatchNorm1d": lambda lib: lib.BatchNorm1d(4),
    "BatchNorm1d(options)": lambda lib: lib.BatchNorm1d(4, eps=1e-3, momentum=None, affine=False),
    "Dropout": lambda lib: lib.Dropout(),
    "Dropout(0.2)": lambda lib: lib.Dropout(0.2),
    "Flatten": lambda lib: lib.Flatten(),
    "Flatten(0, 2)": lambda lib: lib.Flatten(0, 2),
    "Sigmoid": lambda lib: lib.Sigmoid(),
    "Tanh": lambda lib: lib.Tanh(),
    "LeakyReLU": lambda lib: lib.LeakyReLU(0.2),
    "ELU": lambda lib: lib.ELU(),
    "GELU": lambda lib: lib.GELU("tanh"),
    "Softplus": lambda lib: lib.Softplus(),
    "Softmax": lambda lib: lib.Softmax(dim=1),
    "LogSoftmax": lambda lib: lib.LogSoftmax(dim=1),
    "Identity": lambda lib: lib.Identity(),
    "MSELoss": lambda lib: lib.MSELoss(),
    "CrossEntropyLoss": lambda lib: lib.CrossEntropyLoss(),
}


@pytest.mark.parametrize("name", list(LAYERS_FOR_REPR))
def test_repr_of_a_layer_equals_torchs(name):
    build = LAYERS_FOR_REPR[name]
    assert repr(build(nn)) == repr(build(torch.nn))


def test_repr_of_a_nested_sequential_equals_torchs():
    def build(lib):
        features = lib.Sequential(lib.Conv2d(1, 8, 3), lib.ReLU(), lib.MaxPool2d(2), lib.Flatten())
        return lib.Sequential(features, lib.Dropout(0.25), lib.Linear(1352, 10))

    assert repr(build(nn)) == repr(build(torch.nn))


def test_repr_of_the_lecture9_model_equals_torchs():
    assert repr(lecture9_model(nn)) == repr(lecture9_model(torch.nn))


def custom_tree(lib):
    """A custom module holding a custom module and a Sequential (no BatchNorm1d or ModuleList,
    whose own formats are checked by the tests above and below)."""

    class Stem(lib.Module):
        def __init__(self):
            super().__init__()
            self.conv = lib.Conv2d(3, 4, 3, padding=1)
            self.pool = lib.MaxPool2d(2)

    class Classifier(lib.Module):
        def __init__(self):
            super().__init__()
            self.stem = Stem()
            self.head = lib.Sequential(lib.Flatten(), lib.Dropout(0.1), lib.Linear(64, 10), lib.LogSoftmax(dim=1))

    return Classifier()


def test_repr_of_a_custom_nested_module_equals_torchs():
    assert repr(custom_tree(nn)) == repr(custom_tree(torch.nn))


def test_repr_of_a_module_list_groups_repeated_modules_like_torch():
    """torch prints consecutive identical entries once: "(0-1): 2 x Linear(...)"."""
    def build(lib):
        return lib.ModuleList([lib.Linear(2, 2), lib.Linear(2, 2), lib.ReLU()])

    assert repr(build(nn)) == repr(build(torch.nn))


# ----------------------------------------------------------------------------- modes and gradients

def test_eval_switches_every_submodule_to_eval_mode_and_returns_the_model():
    model, _ = ours_and_torchs_nested()
    assert model.eval() is model
    assert [m.training for m in model.modules()] == [False] * len(list(model.modules()))


def test_train_switches_every_submodule_back_to_training_mode():
    model, _ = ours_and_torchs_nested()
    model.eval()
    assert model.train() is model
    assert all(m.training for m in model.modules())


def test_train_false_is_eval():
    model, _ = ours_and_torchs_nested()
    model.train(False)
    assert not any(m.training for m in model.modules())


def test_train_on_a_submodule_changes_only_its_subtree_like_torch():
    ours, theirs = ours_and_torchs_nested()
    for model in (ours, theirs):
        model.eval()
        model.blocks[1].train()
    assert [m.training for m in ours.modules()] == [m.training for m in theirs.modules()]


def test_eval_makes_a_dropout_deep_inside_the_identity():
    model = nn.Sequential(nn.Sequential(nn.Dropout(0.9)), nn.Identity()).eval()
    x = Tensor(np.random.default_rng(0).standard_normal((20, 20)).astype(np.float32))
    np.testing.assert_array_equal(model(x).numpy(), x.numpy())


def test_zero_grad_sets_every_parameter_grad_to_none():
    model, _ = ours_and_torchs_nested()
    x = Tensor(np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32))
    model(x).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_parameters_are_float32_leaves_that_require_grad():
    for p in sequential_model(nn).parameters():
        assert isinstance(p, nn.Parameter) and p.requires_grad and p.is_leaf and p.dtype == np.float32


# ----------------------------------------------------------------------------- default initialisation

def assert_uniform(values: np.ndarray, low: float, high: float, what: str) -> None:
    """Inside [low, high], reaching both ends, with the uniform distribution's mean and std."""
    values = np.asarray(values, dtype=np.float64).ravel()
    width = high - low
    assert values.min() >= low and values.max() <= high, f"{what}: outside [{low}, {high}]"
    assert values.min() < low + 0.01 * width and values.max() > high - 0.01 * width, \
        f"{what}: does not fill [{low}, {high}]"
    assert abs(values.mean() - (low + high) / 2) < 0.01 * width, f"{what}: mean {values.mean()}"
    np.testing.assert_allclose(values.std(), width / math.sqrt(12), rtol=0.05, err_msg=f"{what}: std")


def assert_normal(values: np.ndarray, mean: float, std: float, what: str) -> None:
    """Mean and std as asked, and normal tails: about 4.55% beyond two standard deviations."""
    values = np.asarray(values, dtype=np.float64).ravel()
    assert abs(values.mean() - mean) < 0.02 * std, f"{what}: mean {values.mean()}, expected {mean}"
    np.testing.assert_allclose(values.std(), std, rtol=0.02, err_msg=f"{what}: std")
    tails = np.mean(np.abs(values - mean) > 2 * std)
    assert abs(tails - 0.0455) < 0.006, f"{what}: {tails:.4f} beyond 2 std, a normal has 0.0455"


DEFAULT_INIT_LAYERS = {
    "Linear": (lambda lib: lib.Linear(256, 2048), 256),
    "Conv2d": (lambda lib: lib.Conv2d(8, 1024, (3, 5)), 8 * 3 * 5),
}


@pytest.mark.parametrize("name", list(DEFAULT_INIT_LAYERS))
def test_default_weight_is_uniform_within_torchs_kaiming_bound(name):
    """torch: kaiming_uniform_(a=√5), i.e. U(-1/√fan_in, 1/√fan_in). Checked on torch's layer too."""
    build, fan_in = DEFAULT_INIT_LAYERS[name]
    bound = 1 / math.sqrt(fan_in)
    assert_uniform(build(torch.nn).weight.detach().numpy(), -bound, bound, "torch's weight")
    assert_uniform(build(nn).weight.detach().numpy(), -bound, bound, "our weight")


@pytest.mark.parametrize("name", list(DEFAULT_INIT_LAYERS))
def test_default_bias_is_uniform_within_one_over_root_fan_in(name):
    build, fan_in = DEFAULT_INIT_LAYERS[name]
    bound = 1 / math.sqrt(fan_in)
    assert_uniform(build(torch.nn).bias.detach().numpy(), -bound, bound, "torch's bias")
    assert_uniform(build(nn).bias.detach().numpy(), -bound, bound, "our bias")


@pytest.mark.parametrize("name", ["Linear", "Conv2d", "BatchNorm1d"])
def test_parameter_names_and_shapes_equal_torchs(name):
    build = {"Linear": lambda lib: lib.Linear(5, 3), "Conv2d": lambda lib: lib.Conv2d(2, 4, (3, 5)),
             "BatchNorm1d": lambda lib: lib.BatchNorm1d(6)}[name]
    ours = [(n, p.shape) for n, p in build(nn).named_parameters()]
    theirs = [(n, tuple(p.shape)) for n, p in build(torch.nn).named_parameters()]
    assert ours == theirs


def test_default_batchnorm1d_state_equals_torchs():
    ours, theirs = nn.BatchNorm1d(5).state_dict(), torch.nn.BatchNorm1d(5).state_dict()
    assert list(ours) == list(theirs)
    for key in theirs:
        np.testing.assert_array_equal(ours[key].numpy(), theirs[key].numpy(), err_msg=key)


# ----------------------------------------------------------------------------- nn.init

MATRIX, KERNEL = (300, 500), (64, 32, 3, 3)           # fans (500, 300) and (288, 576)

# name: (shape, the call, which works on either library's init module, and the distribution)
INIT_CASES = {
    "xavier_uniform_": (MATRIX, lambda init, t: init.xavier_uniform_(t, gain=2.0),
                        ("uniform", 2.0 * math.sqrt(6 / 800))),
    "xavier_uniform_(conv)": (KERNEL, lambda init, t: init.xavier_uniform_(t), ("uniform", math.sqrt(6 / 864))),
    "xavier_normal_": (MATRIX, lambda init, t: init.xavier_normal_(t, gain=1.5), ("normal", 1.5 * math.sqrt(2 / 800))),
    "kaiming_uniform_": (MATRIX, lambda init, t: init.kaiming_uniform_(t), ("uniform", math.sqrt(6 / 500))),
    "kaiming_uniform_(a=sqrt5)": (KERNEL, lambda init, t: init.kaiming_uniform_(t, a=math.sqrt(5)),
                                  ("uniform", 1 / math.sqrt(288))),
    "kaiming_uniform_(fan_out,relu)": (KERNEL, lambda init, t: init.kaiming_uniform_(t, mode="fan_out",
                                                                                    nonlinearity="relu"),
                                       ("uniform", math.sqrt(6 / 576))),
    "kaiming_normal_": (MATRIX, lambda init, t: init.kaiming_normal_(t), ("normal", math.sqrt(2 / 500))),
    "kaiming_normal_(fan_out,relu)": (KERNEL, lambda init, t: init.kaiming_normal_(t, mode="fan_out",
                                                                                  nonlinearity="relu"),
                                      ("normal", math.sqrt(2 / 576))),
}


@pytest.mark.parametrize("name", list(INIT_CASES))
def test_init_function_draws_torchs_distribution(name):
    shape, call, (kind, scale) = INIT_CASES[name]
    theirs = call(torch.nn.init, torch.empty(shape)).numpy()
    ours = call(nn.init, Tensor.zeros(*shape)).numpy()
    check = (lambda v, who: assert_uniform(v, -scale, scale, who)) if kind == "uniform" else \
        (lambda v, who: assert_normal(v, 0.0, scale, who))
    check(theirs, f"torch's {name}")
    check(ours, f"our {name}")


def test_init_normal_draws_the_given_mean_and_std():
    assert_normal(nn.init.normal_(Tensor.zeros(400, 400), mean=2.0, std=3.0).numpy(), 2.0, 3.0, "normal_")


def test_init_uniform_draws_from_the_given_interval():
    assert_uniform(nn.init.uniform_(Tensor.zeros(400, 400), a=-2.0, b=5.0).numpy(), -2.0, 5.0, "uniform_")


def test_init_zeros_and_ones_fill_the_tensor():
    np.testing.assert_array_equal(nn.init.zeros_(Tensor.ones(3, 4)).numpy(), np.zeros((3, 4)))
    np.testing.assert_array_equal(nn.init.ones_(Tensor.zeros(3, 4)).numpy(), np.ones((3, 4)))


@pytest.mark.parametrize("name", ["xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
                                  "normal_", "uniform_", "zeros_", "ones_"])
def test_init_function_fills_a_parameter_in_place_and_returns_it(name):
    layer = nn.Linear(4, 3)
    weight, array = layer.weight, layer.weight.data
    assert getattr(nn.init, name)(layer.weight) is weight
    assert layer.weight is weight and layer.weight.data is array and weight.shape == (3, 4)


# ----------------------------------------------------------------------------- seeding

def test_manual_seed_makes_model_initialisation_reproducible():
    tinygrad_edu.manual_seed(123)
    first = snapshot(sequential_model(nn))
    tinygrad_edu.manual_seed(123)
    assert_same_state(sequential_model(nn), first)


def test_a_different_seed_gives_a_different_initialisation():
    tinygrad_edu.manual_seed(123)
    first = sequential_model(nn)[0].weight.detach().numpy().copy()
    tinygrad_edu.manual_seed(124)
    assert not np.array_equal(sequential_model(nn)[0].weight.detach().numpy(), first)


def test_manual_seed_makes_dropout_masks_reproducible():
    x = Tensor.ones(30, 30)
    tinygrad_edu.manual_seed(5)
    first = nn.Dropout(0.5)(x).numpy()
    tinygrad_edu.manual_seed(5)
    np.testing.assert_array_equal(nn.Dropout(0.5)(x).numpy(), first)


# ----------------------------------------------------------------------------- training

class TwoLayerNet(nn.Module):
    """Lecture 9's custom module: layers in __init__, F.relu in forward."""

    def __init__(self, d_in: int, hidden: int, d_out: int):
        super().__init__()
        self.fc1 = nn.Linear(d_in, hidden)
        self.fc2 = nn.Linear(hidden, d_out)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(F.relu(self.fc1(x)))


def sgd_step(model: nn.Module, lr: float) -> None:
    """The hand-written update of lecture 9: p ← p - lr·∂L/∂p, then forget the gradient."""
    for p in model.parameters():
        p.data -= lr * p.grad.data
    model.zero_grad()


def blobs(rng, n_per_class=50):
    centres = np.array([[0.0, 3.0], [3.0, -2.0], [-3.0, -2.0]])
    x = np.concatenate([c + rng.standard_normal((n_per_class, 2)) for c in centres]).astype(np.float32)
    return x, np.repeat(np.arange(3), n_per_class).astype(np.int64)


def test_a_custom_module_with_functional_relu_learns_to_classify_blobs():
    x, y = blobs(np.random.default_rng(0))
    model, loss_fn = TwoLayerNet(2, 16, 3), nn.CrossEntropyLoss()
    first = None
    for _ in range(150):
        loss = loss_fn(model(Tensor(x)), Tensor(y))
        first = loss.item() if first is None else first
        loss.backward()
        sgd_step(model, lr=0.2)
    accuracy = (model(Tensor(x)).detach().numpy().argmax(axis=1) == y).mean()
    assert loss.item() < 0.25 * first, f"loss went from {first:.3f} only to {loss.item():.3f}"
    assert accuracy > 0.95


def test_lecture9_model_trains_step_for_step_like_torch_in_float64():
    theirs = lecture9_model(torch.nn, dtype=torch.float64)
    ours = lecture9_model(nn, dtype=tinygrad_edu.float64)
    ours.load_state_dict({k: v.numpy().copy() for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((32, 3)), rng.integers(0, 3, 32)
    ours_loss_fn, theirs_loss_fn = nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()
    for step in range(8):
        ours_loss = ours_loss_fn(ours(Tensor(x)), Tensor(y))
        ours_loss.backward()
        sgd_step(ours, lr=0.5)
        theirs_loss = theirs_loss_fn(theirs(torch.tensor(x)), torch.tensor(y))
        theirs.zero_grad()
        theirs_loss.backward()
        with torch.no_grad():
            for p in theirs.parameters():
                p -= 0.5 * p.grad
        assert abs(ours_loss.item() - theirs_loss.item()) < 1e-5, f"step {step}"
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[key].numpy(), value.numpy(), atol=1e-5, rtol=0, err_msg=key)
    assert ours.state_dict()["0.weight"].dtype == np.float64


# ----------------------------------------------------------------------------- speed

def test_small_cnn_runs_an_mnist_batch_forward_and_backward_in_well_under_a_second():
    """Conv2d and MaxPool2d work on strided views and matmul, not Python loops over pixels."""
    model = nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 5 * 5, 10))
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((128, 1, 28, 28)).astype(np.float32))
    y = Tensor(rng.integers(0, 10, 128))
    loss_fn = nn.CrossEntropyLoss()
    loss_fn(model(Tensor(x.numpy()[:2])), Tensor(y.numpy()[:2])).backward()       # warm-up
    model.zero_grad()
    start = time.perf_counter()
    loss_fn(model(x), y).backward()
    elapsed = time.perf_counter() - start
    print(f"CNN forward+backward on (128, 1, 28, 28): {elapsed * 1000:.1f} ms")
    assert all(p.grad is not None for p in model.parameters())
    assert elapsed < 2.0, f"took {elapsed:.2f} s"


def test_zero_grad_without_set_to_none_gives_zeros_like_torch():
    model, torch_model = ours_and_torchs_nested()
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    model(Tensor(x)).sum().backward()
    torch_model(torch.from_numpy(x)).sum().backward()
    first = [p.grad for p in model.parameters()]
    model.zero_grad(set_to_none=False)
    torch_model.zero_grad(set_to_none=False)
    for p, q, before in zip(model.parameters(), torch_model.parameters(), first):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())          # zeros of the same shape
        assert p.grad is not before and np.abs(before.numpy()).sum() > 0        # the old gradient is left as it was
    model(Tensor(x)).sum().backward()                   # the next backward adds to zeros: the first gradient again
    for p, before in zip(model.parameters(), first):
        np.testing.assert_allclose(p.grad.numpy(), before.numpy(), rtol=1e-6)


def test_a_slice_of_a_module_list_is_a_module_list_of_the_same_modules_like_torch():
    layers = nn.ModuleList([nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 3)])
    torch_layers = torch.nn.ModuleList([torch.nn.Linear(2, 2), torch.nn.ReLU(), torch.nn.Linear(2, 3)])
    for index in (slice(1, None), slice(None, 2), slice(None, None, -1), slice(5, 9)):
        part, torch_part = layers[index], torch_layers[index]
        assert isinstance(part, nn.ModuleList) and isinstance(torch_part, torch.nn.ModuleList)
        assert [type(m).__name__ for m in part] == [type(m).__name__ for m in torch_part]
        assert all(any(m is n for n in layers) for m in part)                  # the same modules, not copies
    assert layers[-1] is list(layers)[-1]
    with pytest.raises(IndexError, match=r"ModuleList: index 3 is out of range for 3 modules"):
        layers[3]
    with pytest.raises(IndexError):
        torch_layers[3]
