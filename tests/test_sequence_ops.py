"""The tools of the sequence lectures, as specifications and against torch 2.13.

sin, cos, tril, triu, masked_fill, cumsum and topk are in the op table (tests/reference/op_table.py:
forward and backward against torch, float64 gradchecks); here are their math as properties, their
dtypes and their errors. multinomial is checked by its statistics under a fixed seed; nn.ModuleDict
and nn.utils.clip_grad_norm_ / clip_grad_value_ against torch.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_edu as tg
from tinygrad_edu import Tensor, nn

from .conftest import assert_close

torch = pytest.importorskip("torch")

pytestmark = [pytest.mark.lecture_rnn]

PROPERTIES = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
SHAPES = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)
MATRICES = hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=4)


def _values(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape)


# ============================================================================ the math, as properties

@PROPERTIES
@given(shape=SHAPES, seed=st.integers(0, 2**16))
def test_sin_squared_plus_cos_squared_is_one(shape, seed):
    x = Tensor(_values(shape, seed))
    assert_close((x.sin() ** 2 + x.cos() ** 2).numpy(), np.ones(shape))


@PROPERTIES
@given(shape=MATRICES, diagonal=st.integers(-5, 5), seed=st.integers(0, 2**16))
def test_tril_and_the_rest_of_triu_add_up_to_the_matrix(shape, diagonal, seed):
    x = Tensor(_values(shape, seed))
    assert_close((x.tril(diagonal) + x.triu(diagonal + 1)).numpy(), x.numpy())
    assert not (x.tril(diagonal) * x.triu(diagonal + 1)).numpy().any()      # they do not overlap


@PROPERTIES
@given(shape=SHAPES, data=st.data())
def test_the_last_partial_sum_is_the_sum_and_differences_give_the_input_back(shape, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1), label="axis")
    x = Tensor(_values(shape, data.draw(st.integers(0, 2**16), label="seed")), dtype="float64")
    c = x.cumsum(axis).numpy()
    assert_close(np.take(c, -1, axis=axis), x.sum(axis).numpy(), rtol=1e-12, atol=1e-12)
    assert_close(np.diff(c, axis=axis, prepend=0), x.numpy(), rtol=1e-12, atol=1e-12)


@PROPERTIES
@given(shape=SHAPES, data=st.data())
def test_topk_gives_the_k_largest_in_order_and_indices_that_read_them_back(shape, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1), label="axis")
    k = data.draw(st.integers(0, shape[axis]), label="k")
    largest = data.draw(st.booleans(), label="largest")
    x = _values(shape, data.draw(st.integers(0, 2**16), label="seed"))
    values, indices = Tensor(x).topk(k, axis=axis, largest=largest)
    ordered = np.sort(x, axis=axis)
    expected = np.flip(ordered, axis) if largest else ordered
    assert_close(values.numpy(), np.take(expected, np.arange(k), axis=axis))
    assert indices.dtype == np.int64
    assert_close(np.take_along_axis(x, indices.numpy(), axis=axis), values.numpy())


def test_topk_returns_a_named_pair_like_torch():
    result = Tensor([3.0, 1.0, 2.0]).topk(2)
    values, indices = result
    assert result.values is values and result.indices is indices
    assert values.tolist() == [3.0, 2.0] and indices.tolist() == [0, 2]


def test_topk_sends_the_gradient_to_the_chosen_positions_only():
    x = Tensor([[1.0, 5.0, 3.0], [4.0, 0.0, 6.0]], requires_grad=True)
    values, _ = x.topk(2, dim=1)
    values.backward(Tensor([[10.0, 20.0], [30.0, 40.0]]))
    assert x.grad.tolist() == [[0.0, 10.0, 20.0], [40.0, 0.0, 30.0]]


def test_topk_breaks_ties_by_the_lower_index_and_counts_nan_as_the_largest():
    x = Tensor([1.0, 3.0, 3.0, float("nan"), 3.0])
    assert x.topk(3).indices.tolist() == [3, 1, 2]
    assert x.topk(2, largest=False).indices.tolist() == [0, 1]


def test_topk_with_sorted_false_gives_the_values_torch_gives():
    x = _values((4, 6), 0)
    ours = Tensor(x, dtype="float32").topk(3, axis=1, sorted=False).values.numpy()
    theirs = torch.tensor(x, dtype=torch.float32).topk(3, dim=1, sorted=False).values.numpy()
    assert_close(np.sort(ours, axis=1), np.sort(theirs, axis=1))


def test_topk_of_k_zero_and_of_a_number():
    values, indices = Tensor(_values((2, 3), 0)).topk(0)
    assert values.shape == indices.shape == (2, 0)
    values, indices = Tensor(2.5, requires_grad=True).topk(1)
    assert values.shape == () and indices.item() == 0
    values.backward()


# ============================================================================ dtypes, as in torch

@pytest.mark.parametrize("data", [[1, 2, 3], [True, False, True]], ids=["int64", "bool"])
def test_cumsum_of_integers_and_bools_is_int64_like_torch(data):
    ours = Tensor(data).cumsum(0)
    theirs = torch.tensor(data).cumsum(0)
    assert ours.dtype == np.int64 and ours.tolist() == theirs.tolist()


def test_cumsum_keeps_float64():
    assert Tensor(np.ones(3)).cumsum(0).dtype == np.float64


@pytest.mark.parametrize("op", ["tril", "triu"])
@pytest.mark.parametrize("data", [[[1, 2], [3, 4]], [[True, True], [True, True]]], ids=["int64", "bool"])
def test_tril_and_triu_keep_the_dtype_like_torch(op, data):
    ours = getattr(Tensor(data), op)()
    theirs = getattr(torch.tensor(data), op)()
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "") and ours.tolist() == theirs.tolist()


def test_masked_fill_casts_the_value_to_the_tensors_dtype_like_torch():
    mask = [True, False, True]
    assert Tensor([1, 2, 3]).masked_fill(Tensor(mask), 2.7).tolist() == \
        torch.tensor([1, 2, 3]).masked_fill(torch.tensor(mask), 2.7).tolist()
    assert Tensor([1.0, 2.0]).masked_fill(Tensor([True, False]), 7).dtype == np.float32


def test_masked_fill_hides_a_causal_future_from_softmax():
    scores = Tensor(_values((3, 3), 0), requires_grad=True)
    future = Tensor(np.ones((3, 3), dtype=bool)).triu(1)
    weights = scores.masked_fill(future, float("-inf")).softmax(axis=-1)
    assert np.allclose(weights.detach().numpy()[np.triu_indices(3, 1)], 0.0)
    weights.sum().backward()
    assert np.all(scores.grad.numpy()[np.triu_indices(3, 1)] == 0.0)


@pytest.mark.parametrize("op", ["sin", "cos"])
def test_sin_and_cos_of_integers_are_float32_like_torch(op):
    ours = getattr(Tensor([0, 1, 2]), op)()
    theirs = getattr(torch.tensor([0, 1, 2]), op)()
    assert ours.dtype == np.float32
    assert_close(ours, theirs)


def test_the_ops_are_torch_functions_at_the_top_level_too():
    x = Tensor(_values((3, 3), 0))
    assert_close(tg.tril(x, -1), x.tril(-1))
    assert_close(tg.topk(x, 2).values, x.topk(2).values)
    assert_close(tg.cumsum(x, dim=1), x.cumsum(1))
    assert_close(tg.sin(x), x.sin())


# ============================================================================ errors, before anything happens

@pytest.mark.parametrize("call, error, message", [
    (lambda x: x.cumsum(), TypeError, r"cumsum: give the axis"),
    (lambda x: x.cumsum((0, 1)), TypeError, r"cumsum: axis must be a single int"),
    (lambda x: x.cumsum(2), IndexError, r"cumsum: axis 2 is out of range"),
    (lambda x: x.topk(4), ValueError, r"topk: k=4 is out of range: axis 1 has 3 element\(s\)"),
    (lambda x: x.topk(-1), ValueError, r"topk: k=-1 is out of range"),
    (lambda x: x.topk(1.5), TypeError, r"topk: k must be an int"),
    (lambda x: x.topk(1, axis=(0, 1)), TypeError, r"topk: axis must be a single int"),
    (lambda x: x.topk(1, largest="yes"), TypeError, r"topk: largest must be True or False"),
    (lambda x: x[0].tril(), ValueError, r"tril: the tensor must have at least 2 dimensions .* got shape \(3,\)"),
    (lambda x: x.triu(0.5), TypeError, r"triu: diagonal must be an int"),
    (lambda x: x.masked_fill(Tensor([1.0, 0.0, 1.0]), 0.0), TypeError, r"masked_fill: the mask must be a bool "
                                                                        r"tensor .* got dtype float32"),
    (lambda x: x.masked_fill(True, 0.0), TypeError, r"masked_fill: the mask must be a bool tensor"),
    (lambda x: x.masked_fill(Tensor([True, False]), 0.0), ValueError, r"masked_fill: shapes \(2, 3\) and \(2,\) "
                                                                       r"cannot be broadcast"),
    (lambda x: x.masked_fill(x > 0, Tensor([1.0, 2.0])), ValueError, r"masked_fill: the value must be a number or "
                                                                      r"a 0-d tensor, got a tensor of shape \(2,\)"),
    (lambda x: x.masked_fill(x > 0, "big"), TypeError, r"masked_fill: the value must be a number"),
    (lambda x: x.long().masked_fill(x > 0, float("-inf")), ValueError, r"masked_fill: cannot fill a int64 tensor "
                                                                        r"with -inf"),
], ids=["cumsum-no-axis", "cumsum-tuple", "cumsum-axis-range", "topk-k-big", "topk-k-negative", "topk-k-float",
        "topk-axis-tuple", "topk-largest", "tril-1d", "triu-diagonal", "mask-float", "mask-number", "mask-shape",
        "value-shape", "value-type", "int-inf"])
def test_bad_arguments_raise_a_clear_error(call, error, message):
    x = Tensor(_values((2, 3), 0), requires_grad=True)
    with pytest.raises(error, match=message):
        call(x)
    assert x.grad is None


# ============================================================================ multinomial

def _frequencies(samples: np.ndarray, categories: int) -> np.ndarray:
    return np.bincount(samples.ravel(), minlength=categories) / samples.size


def test_multinomial_with_replacement_draws_each_category_as_often_as_its_probability(device):
    tg.manual_seed(0)
    p = np.array([0.1, 0.0, 0.6, 0.3])
    samples = tg.multinomial(Tensor(p * 5, device=device), 20000, replacement=True)   # weights need not sum to 1
    assert samples.dtype == np.int64 and samples.shape == (20000,) and samples.device == device
    counts = samples.numpy()
    assert not (counts == 1).any()                          # probability 0: never drawn
    sigma = np.sqrt(p * (1 - p) / counts.size)
    assert np.all(np.abs(_frequencies(counts, 4) - p) <= 5 * sigma + 1e-12)


def test_multinomial_without_replacement_never_repeats_and_draws_one_after_another(device):
    tg.manual_seed(1)
    p = np.array([0.5, 0.3, 0.2, 0.0])
    rows = 20000
    samples = Tensor(np.tile(p, (rows, 1)), device=device).multinomial(2).numpy()
    assert samples.shape == (rows, 2)
    assert np.all(samples[:, 0] != samples[:, 1]) and not (samples == 3).any()
    # P(first = i, second = j) = p_i p_j / (1 - p_i): sequential draws, renormalised each time
    pairs = np.zeros((3, 3))
    np.add.at(pairs, (samples[:, 0], samples[:, 1]), 1)
    expected = p[:3, None] * p[None, :3] / (1 - p[:3, None])
    np.fill_diagonal(expected, 0)
    sigma = np.sqrt(expected * (1 - expected) / rows)
    assert np.all(np.abs(pairs / rows - expected) <= 5 * sigma + 1e-12)


def test_multinomial_without_replacement_of_all_categories_is_a_permutation():
    samples = tg.multinomial(Tensor(np.full((5, 6), 1.0)), 6).numpy()
    assert np.all(np.sort(samples, axis=1) == np.arange(6))


def test_multinomial_is_reproducible_with_manual_seed_and_records_no_graph():
    probs = Tensor([[0.2, 0.8], [0.7, 0.3]], requires_grad=True)
    tg.manual_seed(7)
    first = tg.multinomial(probs, 5, replacement=True)
    tg.manual_seed(7)
    second = probs.multinomial(5, replacement=True)
    assert first.tolist() == second.tolist()
    assert not first.requires_grad and first.grad_fn is None


@pytest.mark.parametrize("probs, n, replacement, error, message", [
    (Tensor(1.0), 1, True, ValueError, r"multinomial: probs must be 1-D .* or 2-D .* got shape \(\)"),
    (Tensor(np.ones((2, 2, 2))), 1, True, ValueError, r"multinomial: probs must be 1-D"),
    (Tensor([1, 2]), 1, True, TypeError, r"multinomial: probs must be a float tensor, got int64"),
    (Tensor([0.5, 0.5]), 0, True, ValueError, r"multinomial: num_samples must be a positive int, got 0"),
    (Tensor([0.5, 0.5]), 1.0, True, TypeError, r"multinomial: num_samples must be a positive int"),
    (Tensor([0.5, 0.5]), 1, 1, TypeError, r"multinomial: replacement must be True or False"),
    (Tensor([0.5, 0.5]), 3, False, ValueError, r"cannot draw num_samples=3 > 2 categories without replacement"),
    (Tensor([0.5, -0.1]), 1, True, ValueError, r"multinomial: probs contains inf, nan or a negative number"),
    (Tensor([0.5, float("nan")]), 1, True, ValueError, r"multinomial: probs contains inf, nan"),
    (Tensor([0.5, float("inf")]), 1, True, ValueError, r"multinomial: probs contains inf, nan"),
    (Tensor([[0.5, 0.5], [0.0, 0.0]]), 1, True, ValueError, r"multinomial: a row of probs sums to 0"),
    ([0.5, 0.5], 1, True, TypeError, r"multinomial: probs must be a Tensor"),
])
def test_multinomial_refuses_what_torch_refuses(probs, n, replacement, error, message):
    with pytest.raises(error, match=message):
        tg.multinomial(probs, n, replacement=replacement)


def test_multinomial_errors_like_torch_for_the_same_inputs():
    for probs, n, replacement in [([0.5, -0.1], 1, True), ([0.0, 0.0], 1, True), ([0.5, 0.5], 3, False)]:
        with pytest.raises(RuntimeError):
            torch.multinomial(torch.tensor(probs), n, replacement=replacement)
        with pytest.raises(ValueError):
            tg.multinomial(Tensor(probs), n, replacement=replacement)


def test_without_replacement_the_categories_of_probability_zero_come_last_like_torch():
    probs = [0.5, 0.0, 0.0, 0.5, 0.0]
    ours = tg.multinomial(Tensor(probs), 5).tolist()
    theirs = torch.multinomial(torch.tensor(probs), 5).tolist()
    assert sorted(ours[:2]) == sorted(theirs[:2]) == [0, 3]
    assert sorted(ours[2:]) == sorted(theirs[2:]) == [1, 2, 4]


# ============================================================================ nn.ModuleDict

def _heads(torch_side: bool = False):
    space = torch.nn if torch_side else nn
    return space.ModuleDict({"cls": space.Linear(4, 3), "box": space.Linear(4, 2)})


def test_module_dict_names_its_parameters_key_dot_param_in_insertion_order_like_torch():
    ours, theirs = _heads(), _heads(torch_side=True)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == \
        ["cls.weight", "cls.bias", "box.weight", "box.bias"]
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]


def test_module_dict_loads_torchs_weights_and_computes_the_same():
    ours, theirs = _heads(), _heads(torch_side=True)
    ours.load_state_dict(theirs.state_dict())
    x = _values((5, 4), 0).astype(np.float32)
    for key in theirs:
        assert_close(ours[key](Tensor(x)).detach(), theirs[key](torch.tensor(x)), key)


def test_module_dict_is_a_dict_of_modules():
    heads = _heads()
    assert len(heads) == 2 and list(heads) == list(heads.keys()) == ["cls", "box"]
    assert "cls" in heads and "head" not in heads
    assert heads.cls is heads["cls"] and [m for _, m in heads.items()] == list(heads.values())
    replacement = nn.Linear(4, 3)
    heads["cls"] = replacement                          # replacing keeps the key's place
    assert list(heads) == ["cls", "box"] and heads["cls"] is replacement
    heads.update([("extra", nn.ReLU()), ("box", nn.Linear(4, 5))])
    assert list(heads) == ["cls", "box", "extra"] and heads["box"].out_features == 5
    heads.update(nn.ModuleDict({"last": nn.Tanh()}))
    del heads["extra"]
    assert list(heads) == ["cls", "box", "last"]
    assert isinstance(heads.pop("last"), nn.Tanh) and list(heads) == ["cls", "box"]
    model = nn.Module()
    model.heads = heads
    assert len(list(model.parameters())) == 4
    assert "(cls): Linear" in repr(heads)
    heads.clear()
    assert len(heads) == 0


@pytest.mark.parametrize("call, error, message", [
    (lambda d: d.__setitem__(1, nn.ReLU()), TypeError, r"ModuleDict: keys must be strings, got int 1"),
    (lambda d: d.__setitem__("a.b", nn.ReLU()), KeyError, r"the key 'a.b' cannot name a module"),
    (lambda d: d.__setitem__("", nn.ReLU()), KeyError, r"the key '' cannot name a module"),
    (lambda d: d.__setitem__("keys", nn.ReLU()), KeyError, r"would hide the attribute ModuleDict.keys"),
    (lambda d: d.__setitem__("relu", lambda x: x), TypeError, r"the value for 'relu' must be a Module, got function"),
    (lambda d: d["head"], KeyError, r"no module named 'head'; the keys are \['cls', 'box'\]"),
    (lambda d: d.__delitem__("head"), KeyError, r"no module named 'head'"),
    (lambda d: d.update([("new", nn.ReLU()), ("bad", 3)]), TypeError, r"the value for 'bad' must be a Module"),
    (lambda d: d.update([("new", nn.ReLU()), "pair"]), TypeError, r"element 1 must be a \(key, module\) pair"),
    (lambda d: d.update(nn.ReLU()), TypeError, r"ModuleDict.update: expected a dict or an iterable"),
], ids=["int-key", "dotted-key", "empty-key", "method-name", "not-a-module", "missing", "del-missing",
        "update-bad-value", "update-bad-pair", "update-module"])
def test_module_dict_refuses_bad_keys_and_values_without_changing(call, error, message):
    heads = _heads()
    with pytest.raises(error, match=message):
        call(heads)
    assert list(heads) == ["cls", "box"]                # update adds nothing when one pair is bad


# ============================================================================ nn.utils.clip_grad_*

def _twins(device: str = "cpu"):
    """The same small model on both sides, with gradients of the same loss."""
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    ours = tg.from_torch(theirs, device=device)
    x, y = _values((6, 3), 1), _values((6, 2), 2)
    x32, y32 = (Tensor(a, dtype="float32", device=device) for a in (x, y))
    ((ours(x32) - y32) ** 2).sum().backward()
    ((theirs(torch.tensor(x, dtype=torch.float32)) - torch.tensor(y, dtype=torch.float32)) ** 2).sum().backward()
    return ours, theirs


def _same_grads(ours, theirs, what):
    for (name, p), t in zip(ours.named_parameters(), theirs.parameters()):
        assert_close(p.grad, t.grad, f"{what}: {name}", rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1e6], ids=["clips", "leaves-alone"])
def test_clip_grad_norm_returns_torchs_norm_and_scales_the_grads_like_torch(norm_type, max_norm, device):
    ours, theirs = _twins(device)
    _same_grads(ours, theirs, "before")
    total = nn.utils.clip_grad_norm_(ours.parameters(), max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs.parameters(), max_norm, norm_type=norm_type)
    assert isinstance(total, Tensor) and total.shape == () and total.device == device
    assert_close(total, expected, "the total norm", rtol=1e-5, atol=1e-6)
    _same_grads(ours, theirs, "after")


def test_clip_grad_norm_takes_one_tensor_and_skips_parameters_without_grad():
    w, unused = nn.Parameter(Tensor([3.0, 4.0])), nn.Parameter(Tensor([1.0]))
    w.grad = Tensor([3.0, 4.0])
    assert nn.utils.clip_grad_norm_(w, 1.0).item() == pytest.approx(5.0)
    assert_close(w.grad, np.array([0.6, 0.8], dtype=np.float32), rtol=1e-5)
    assert nn.utils.clip_grad_norm_([unused], 1.0).item() == 0.0 and unused.grad is None


def test_clip_grad_norm_refuses_a_non_finite_norm_when_asked_and_leaves_the_grads():
    w = nn.Parameter(Tensor([1.0, 2.0]))
    w.grad = Tensor([float("nan"), 2.0])
    with pytest.raises(RuntimeError, match=r"clip_grad_norm_: the total norm of order 2.0 .* is non-finite"):
        nn.utils.clip_grad_norm_([w], 1.0, error_if_nonfinite=True)
    assert np.isnan(w.grad.numpy()[0]) and w.grad.numpy()[1] == 2.0


@pytest.mark.parametrize("clip_value", [0.1, 0.0, 100.0])
def test_clip_grad_value_clips_each_element_like_torch(clip_value, device):
    ours, theirs = _twins(device)
    assert nn.utils.clip_grad_value_(ours.parameters(), clip_value) is None
    torch.nn.utils.clip_grad_value_(theirs.parameters(), clip_value)
    _same_grads(ours, theirs, "after")


@pytest.mark.parametrize("call, error, message", [
    (lambda m: nn.utils.clip_grad_norm_(m.parameters(), -1.0), ValueError, r"clip_grad_norm_: max_norm must be >= 0"),
    (lambda m: nn.utils.clip_grad_norm_(m.parameters(), 1.0, norm_type=0), ValueError,
     r"clip_grad_norm_: norm_type must be positive .* or inf, got 0"),
    (lambda m: nn.utils.clip_grad_norm_(m.parameters(), "1"), TypeError, r"clip_grad_norm_: max_norm must be a number"),
    (lambda m: nn.utils.clip_grad_norm_(3, 1.0), TypeError, r"clip_grad_norm_: expected a Tensor or an iterable"),
    (lambda m: nn.utils.clip_grad_norm_([*m.parameters(), 2.0], 1.0), TypeError,
     r"clip_grad_norm_: expected Tensors \(model.parameters\(\)\), got a float"),
    (lambda m: nn.utils.clip_grad_value_(m.parameters(), -0.1), ValueError,
     r"clip_grad_value_: clip_value must be >= 0"),
], ids=["negative-max-norm", "zero-norm-type", "string-max-norm", "not-iterable", "not-a-tensor", "negative-clip"])
def test_bad_clip_arguments_raise_before_any_gradient_changes(call, error, message):
    ours, _ = _twins()
    before = [p.grad.numpy().copy() for p in ours.parameters()]
    with pytest.raises(error, match=message):
        call(ours)
    for b, p in zip(before, ours.parameters()):
        assert np.array_equal(b, p.grad.numpy())


def test_grads_on_two_devices_are_refused(device):
    if device == "cpu":
        pytest.skip("needs a second device")
    a, b = nn.Parameter(Tensor([1.0])), nn.Parameter(Tensor([1.0], device=device))
    a.grad, b.grad = Tensor([1.0]), Tensor([1.0], device=device)
    with pytest.raises(RuntimeError, match=r"clip_grad_norm_: expected all tensors to be on the same device"):
        nn.utils.clip_grad_norm_([a, b], 1.0)


@pytest.mark.gpu
def test_clipping_makes_no_host_copy(fake_cupy):
    ours, _ = _twins("cuda")
    fake_cupy._fake_reset_sync_count()
    total = nn.utils.clip_grad_norm_(ours.parameters(), 0.5)
    nn.utils.clip_grad_norm_(ours.parameters(), 0.5, norm_type=math.inf)
    nn.utils.clip_grad_value_(ours.parameters(), 0.01)
    assert fake_cupy._fake_sync_count == 0
    assert total.device == "cuda"


@pytest.mark.gpu
def test_multinomial_checks_its_probabilities_with_one_host_copy(fake_cupy):
    probs = Tensor(np.full((3, 4), 0.25), device="cuda")
    fake_cupy._fake_reset_sync_count()
    samples = tg.multinomial(probs, 2)
    assert fake_cupy._fake_sync_count == 1 and samples.device == "cuda"
