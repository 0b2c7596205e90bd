"""tinygrad_edu.distributions as a specification, against torch.distributions 2.13.

Normal, Categorical and Bernoulli: log_prob, entropy and the moments, and their gradients w.r.t. the
parameters (and the value), on drawn shapes that broadcast; rsample's gradient through the sample
with a fixed eps (the formula, and torch given the same eps); the statistics of samples under a fixed
seed; kl_divergence of the three pairs; torch's default validation with messages that name the
distribution and the argument; both devices, with no host sync on "cuda".
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_edu as tg
from tinygrad_edu import Tensor, backend, distributions
from tinygrad_edu.distributions import Bernoulli, Categorical, Normal, kl_divergence, register_kl

from .conftest import assert_close, upstream_gradient

torch = pytest.importorskip("torch")
td = torch.distributions

pytestmark = [pytest.mark.lecture_generative]

PROPERTIES = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
F64 = dict(rtol=1e-9, atol=1e-12)                 # float64 through two libraries: rounding only
TWO_SHAPES = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3)
THREE_SHAPES = hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=3)
SAMPLE_SHAPES = st.sampled_from([(), (1,), (4,), (2, 3)])


def _pair(values, requires_grad=True, device="cpu"):
    """The same float64 values as a leaf of ours and a leaf of torch's."""
    values = np.asarray(values, dtype=np.float64)
    ours = Tensor(values, requires_grad=requires_grad, device=device)
    theirs = torch.tensor(values, requires_grad=requires_grad)
    return ours, theirs


def _normal(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape)


def _positive(shape, seed):
    return np.random.default_rng(seed).uniform(0.3, 2.0, shape)


def _grads_match(ours, theirs, what):
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert_close(a.grad, b.grad, f"{what}: gradient of input {i}", **F64)


# ============================================================================ Normal

@PROPERTIES
@given(shapes=THREE_SHAPES, seed=st.integers(0, 2**16))
def test_normal_log_prob_entropy_and_moments_match_torch_with_their_gradients(shapes, seed):
    (loc_shape, scale_shape, value_shape), _ = shapes
    batch = np.broadcast_shapes(loc_shape, scale_shape)
    loc, loc_t = _pair(_normal(loc_shape, seed))
    scale, scale_t = _pair(_positive(scale_shape, seed + 1))
    value, value_t = _pair(_normal(value_shape, seed + 2) * 2)
    ours, theirs = Normal(loc, scale), td.Normal(loc_t, scale_t)
    assert ours.batch_shape == tuple(theirs.batch_shape) == batch
    for name in ("mean", "mode", "stddev", "variance"):
        assert_close(getattr(ours, name), getattr(theirs, name), f"Normal.{name}", **F64)
    lp, lp_t = ours.log_prob(value), theirs.log_prob(value_t)
    assert_close(lp, lp_t, "Normal.log_prob", **F64)
    g = upstream_gradient(lp.shape, np.float64, seed)
    (lp * Tensor(g)).sum().backward()
    (lp_t * torch.tensor(g)).sum().backward()
    _grads_match((loc, scale, value), (loc_t, scale_t, value_t), "Normal.log_prob")
    loc.grad = scale.grad = scale_t.grad = None
    h, h_t = ours.entropy(), theirs.entropy()
    assert_close(h, h_t, "Normal.entropy", **F64)
    h.sum().backward()
    h_t.sum().backward()
    assert_close(scale.grad, scale_t.grad, "Normal.entropy: gradient of scale", **F64)


def test_normal_takes_numbers_and_gives_them_the_dtype_of_the_tensors():
    d = Normal(0.0, 1.0)
    assert d.batch_shape == () and d.loc.dtype == np.float32 and d.scale.dtype == np.float32
    assert_close(d.log_prob(Tensor(0.5)), td.Normal(0.0, 1.0).log_prob(torch.tensor(0.5)))
    wide = Normal(Tensor(np.zeros(3)), 2.0)
    assert wide.batch_shape == (3,) and wide.scale.dtype == np.float64
    assert_close(wide.entropy(), td.Normal(torch.zeros(3, dtype=torch.float64), 2.0).entropy(), **F64)


def test_normal_float32_log_prob_matches_torch():
    rng = np.random.default_rng(5)
    loc, scale, value = (rng.standard_normal(6).astype(np.float32), rng.uniform(0.5, 2, 6).astype(np.float32),
                         rng.standard_normal((2, 6)).astype(np.float32))
    ours = Normal(Tensor(loc), Tensor(scale)).log_prob(Tensor(value))
    theirs = td.Normal(torch.tensor(loc), torch.tensor(scale)).log_prob(torch.tensor(value))
    assert ours.dtype == np.float32
    assert_close(ours, theirs)


@PROPERTIES
@given(shapes=TWO_SHAPES, sample_shape=SAMPLE_SHAPES, seed=st.integers(0, 2**16))
def test_rsample_is_loc_plus_scale_times_eps_and_its_gradient_goes_through_the_sample(
        shapes, sample_shape, seed, monkeypatch):
    (loc_shape, scale_shape), batch = shapes
    loc, loc_t = _pair(_normal(loc_shape, seed))
    scale, scale_t = _pair(_positive(scale_shape, seed + 1))
    shape = tuple(sample_shape) + tuple(batch)
    tg.manual_seed(seed)
    eps = backend.generator("cpu").standard_normal(shape, dtype=np.float64)     # the eps rsample will draw
    tg.manual_seed(seed)
    x = Normal(loc, scale).rsample(sample_shape)
    assert x.shape == shape and x.requires_grad
    assert_close(x, loc.detach().numpy() + scale.detach().numpy() * eps, "rsample = loc + scale * eps", **F64)
    g = upstream_gradient(shape, np.float64, seed)
    (x * Tensor(g)).sum().backward()
    # the formula: dx/dloc = 1, dx/dscale = eps, each summed back over the broadcast and sample axes
    assert_close(loc.grad, _sum_to(g, loc_shape), "d rsample / d loc", **F64)
    assert_close(scale.grad, _sum_to(g * eps, scale_shape), "d rsample / d scale", **F64)
    # torch's rsample given the same eps
    monkeypatch.setattr(td.normal, "_standard_normal", lambda s, dtype, device: torch.tensor(eps, dtype=dtype))
    x_t = td.Normal(loc_t, scale_t).rsample(sample_shape)
    assert_close(x, x_t, "rsample against torch", **F64)
    (x_t * torch.tensor(g)).sum().backward()
    _grads_match((loc, scale), (loc_t, scale_t), "Normal.rsample")


def _sum_to(g, shape):
    """g summed over the axes that broadcasting added or stretched, down to shape."""
    g = g.sum(axis=tuple(range(g.ndim - len(shape))))
    return g.sum(axis=tuple(i for i, s in enumerate(shape) if s == 1), keepdims=True).reshape(shape)


def test_rsample_sum_gradient_is_the_sample_count_for_loc_and_the_sum_of_eps_for_scale():
    loc, scale = Tensor([1.0, -2.0], requires_grad=True), Tensor(0.5, requires_grad=True)
    tg.manual_seed(7)
    x = Normal(loc, scale).rsample((100,))
    x.sum().backward()
    eps = (x.detach().numpy() - loc.detach().numpy()) / 0.5
    assert_close(loc.grad, [100.0, 100.0])
    assert_close(scale.grad, eps.sum(), rtol=1e-4, atol=1e-3)


def test_sample_has_no_gradient_and_the_shape_sample_shape_plus_batch_shape():
    loc = Tensor(np.zeros((2, 3)), requires_grad=True)
    d = Normal(loc, 1.0)
    for sample_shape, shape in [((), (2, 3)), ((5,), (5, 2, 3)), ([4, 1], (4, 1, 2, 3))]:
        x = d.sample(sample_shape)
        assert x.shape == shape and not x.requires_grad and x.grad_fn is None


def test_normal_samples_have_the_mean_and_standard_deviation_of_the_parameters():
    tg.manual_seed(0)
    n = 40_000
    x = Normal(Tensor([0.0, 3.0, -1.0]), Tensor([1.0, 0.5, 2.0])).sample((n,)).numpy()
    assert_close(x.mean(axis=0), [0.0, 3.0, -1.0], atol=4 * 2.0 / math.sqrt(n), rtol=0)
    assert_close(x.std(axis=0), [1.0, 0.5, 2.0], rtol=0.02, atol=0)


def test_samples_repeat_after_manual_seed_and_differ_without_it():
    d = Normal(Tensor([0.0, 1.0]), 2.0)
    tg.manual_seed(11)
    first, second = d.sample((3,)).numpy(), d.rsample((3,)).detach().numpy()
    tg.manual_seed(11)
    assert_close(d.sample((3,)), first)
    assert_close(d.rsample((3,)).detach(), second)
    assert not np.allclose(first, second)


# ============================================================================ Categorical

CATEGORICAL_SHAPES = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


def _weights(shape, seed, zeros=False):
    rng = np.random.default_rng(seed)
    w = rng.uniform(0.1, 2.0, shape)
    if zeros and shape[-1] > 1:
        w[..., 0] = 0.0                                # a category that cannot happen
    return w


def _values_for(batch_shape, k, seed, data):
    """Category indices whose shape broadcasts with batch_shape (a suffix of it, with ones, or longer)."""
    shape = data.draw(hnp.broadcastable_shapes(tuple(batch_shape), max_dims=len(batch_shape) + 1, max_side=3),
                      label="value shape")
    return np.random.default_rng(seed).integers(0, k, shape)


@PROPERTIES
@given(shape=CATEGORICAL_SHAPES, seed=st.integers(0, 2**16), zeros=st.booleans(), data=st.data())
def test_categorical_from_probs_matches_torch_with_gradients_of_log_prob_and_entropy(shape, seed, zeros, data):
    probs, probs_t = _pair(_weights(shape, seed, zeros))
    ours, theirs = Categorical(probs=probs), td.Categorical(probs=probs_t)
    assert ours.batch_shape == tuple(theirs.batch_shape) == shape[:-1]
    assert_close(ours.probs, theirs.probs, "probs (normalised)", **F64)
    assert_close(ours.logits, theirs.logits, "logits (of clamped probs)", **F64)
    value = _values_for(shape[:-1], shape[-1], seed, data)
    lp, lp_t = ours.log_prob(Tensor(value)), theirs.log_prob(torch.tensor(value))
    assert_close(lp, lp_t, "Categorical.log_prob", **F64)
    h, h_t = ours.entropy(), theirs.entropy()
    assert_close(h, h_t, "Categorical.entropy", **F64)
    g = upstream_gradient(lp.shape, np.float64, seed)
    ((lp * Tensor(g)).sum() + h.sum()).backward()
    ((lp_t * torch.tensor(g)).sum() + h_t.sum()).backward()
    _grads_match((probs,), (probs_t,), "Categorical(probs): log_prob and entropy")


@PROPERTIES
@given(shape=CATEGORICAL_SHAPES, seed=st.integers(0, 2**16), data=st.data())
def test_categorical_from_logits_matches_torch_with_gradients_of_log_prob_and_entropy(shape, seed, data):
    logits, logits_t = _pair(_normal(shape, seed) * 3)
    ours, theirs = Categorical(logits=logits), td.Categorical(logits=logits_t)
    assert_close(ours.logits, theirs.logits, "logits (log-softmax)", **F64)
    assert_close(ours.probs, theirs.probs, "probs (softmax)", **F64)
    value = _values_for(shape[:-1], shape[-1], seed, data)
    lp, lp_t = ours.log_prob(Tensor(value)), theirs.log_prob(torch.tensor(value))
    assert_close(lp, lp_t, "Categorical.log_prob", **F64)
    h, h_t = ours.entropy(), theirs.entropy()
    assert_close(h, h_t, "Categorical.entropy", **F64)
    g = upstream_gradient(lp.shape, np.float64, seed)
    ((lp * Tensor(g)).sum() + h.sum()).backward()
    ((lp_t * torch.tensor(g)).sum() + h_t.sum()).backward()
    _grads_match((logits,), (logits_t,), "Categorical(logits): log_prob and entropy")


def test_the_score_function_is_onehot_minus_softmax():
    """REINFORCE's gradient: d log P(a) / d logits = onehot(a) - softmax(logits)."""
    logits = Tensor([0.5, -1.0, 2.0], requires_grad=True)
    Categorical(logits=logits).log_prob(Tensor(2)).backward()
    p = np.exp([0.5, -1.0, 2.0]) / np.exp([0.5, -1.0, 2.0]).sum()
    assert_close(logits.grad, np.array([0, 0, 1]) - p, rtol=1e-5, atol=1e-6)


def test_log_prob_keeps_its_gradient_when_probs_were_first_computed_inside_no_grad():
    logits = Tensor([[0.1, 0.2, 0.3]], requires_grad=True)
    d = Categorical(logits=logits)
    with tg.no_grad():
        action = d.sample()                # the lazily computed probs are first read here
    assert d.probs.requires_grad
    (d.log_prob(action).sum() + d.entropy().sum()).backward()
    assert logits.grad is not None


def test_a_logit_of_minus_inf_rules_a_category_out_with_finite_log_prob_and_entropy():
    logits = [[0.0, -math.inf, 1.0], [2.0, 0.5, -math.inf]]
    ours, theirs = Categorical(logits=Tensor(logits)), td.Categorical(logits=torch.tensor(logits))
    assert_close(ours.log_prob(Tensor([2, 0])), theirs.log_prob(torch.tensor([2, 0])))
    assert_close(ours.entropy(), theirs.entropy())
    assert np.isfinite(ours.entropy().numpy()).all()
    assert (ours.sample((2000,)).numpy() != np.array([1, 2])).all()


def test_integral_float_values_are_categories_and_probs_may_be_integer_counts():
    d = Categorical(probs=Tensor([1, 3]))
    assert d.probs.dtype == np.float32
    assert_close(d.log_prob(Tensor([1.0, 0.0])), np.log([0.75, 0.25]), rtol=1e-6)


def test_categorical_samples_are_int64_and_follow_the_probabilities():
    tg.manual_seed(1)
    n = 40_000
    probs = np.array([0.1, 0.2, 0.7, 0.0])
    x = Categorical(probs=Tensor(probs)).sample((n,))
    assert x.dtype == np.int64 and x.shape == (n,)
    frequencies = np.bincount(x.numpy(), minlength=4) / n
    assert frequencies[3] == 0.0                          # probability 0 never comes
    assert_close(frequencies, probs, atol=4 * math.sqrt(0.25 / n), rtol=0)


def test_a_batch_of_categoricals_samples_each_row_from_its_own_probabilities():
    tg.manual_seed(2)
    rows = Tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 5.0], [1.0, 1.0, 0.0]])
    x = Categorical(probs=rows).sample((3000, 2)).numpy()
    assert x.shape == (3000, 2, 3)
    assert (x[..., 0] == 0).all() and (x[..., 1] == 2).all()
    assert set(np.unique(x[..., 2])) == {0, 1}
    assert abs((x[..., 2] == 0).mean() - 0.5) < 0.03


def test_categorical_samples_repeat_after_manual_seed():
    d = Categorical(logits=Tensor(np.zeros((2, 5))))
    tg.manual_seed(3)
    first = d.sample((10,)).numpy()
    tg.manual_seed(3)
    assert_close(d.sample((10,)), first)
    assert d.sample().shape == (2,)


# ============================================================================ Bernoulli

@PROPERTIES
@given(shapes=TWO_SHAPES, seed=st.integers(0, 2**16), by_logits=st.booleans())
def test_bernoulli_matches_torch_with_gradients_of_log_prob_and_entropy(shapes, seed, by_logits):
    (param_shape, value_shape), _ = shapes
    rng = np.random.default_rng(seed)
    if by_logits:
        param, param_t = _pair(rng.standard_normal(param_shape) * 3)
        ours, theirs = Bernoulli(logits=param), td.Bernoulli(logits=param_t)
    else:
        param, param_t = _pair(rng.uniform(0.05, 0.95, param_shape))
        ours, theirs = Bernoulli(probs=param), td.Bernoulli(probs=param_t)
    for name in ("probs", "logits", "mean", "variance"):
        assert_close(getattr(ours, name), getattr(theirs, name), f"Bernoulli.{name}", **F64)
    value = rng.integers(0, 2, value_shape).astype(np.float64)
    lp, lp_t = ours.log_prob(Tensor(value)), theirs.log_prob(torch.tensor(value))
    assert_close(lp, lp_t, "Bernoulli.log_prob", **F64)
    h, h_t = ours.entropy(), theirs.entropy()
    assert_close(h, h_t, "Bernoulli.entropy", **F64)
    g = upstream_gradient(lp.shape, np.float64, seed)
    ((lp * Tensor(g)).sum() + h.sum()).backward()
    ((lp_t * torch.tensor(g)).sum() + h_t.sum()).backward()
    _grads_match((param,), (param_t,), "Bernoulli: log_prob and entropy")


def test_bernoulli_log_prob_with_large_logits_is_finite_and_matches_torch():
    logits = [-1000.0, -100.0, -20.0, 0.0, 20.0, 100.0, 1000.0]
    ours = Bernoulli(logits=Tensor(logits))
    theirs = td.Bernoulli(logits=torch.tensor(logits))
    for value in ([0.0] * 7, [1.0] * 7):
        lp = ours.log_prob(Tensor(value))
        assert not np.isnan(lp.numpy()).any()
        assert_close(lp, theirs.log_prob(torch.tensor(value)), rtol=1e-6, atol=1e-6)
    assert_close(ours.entropy(), theirs.entropy(), rtol=1e-6, atol=1e-6)


def test_bernoulli_takes_a_number_and_probabilities_zero_and_one():
    d = Bernoulli(0.3)
    assert d.batch_shape == () and d.probs.dtype == np.float32
    assert_close(d.log_prob(Tensor(1.0)), math.log(0.3), rtol=1e-6)
    edge, edge_t = Bernoulli(probs=Tensor([0.0, 1.0])), td.Bernoulli(probs=torch.tensor([0.0, 1.0]))
    assert_close(edge.log_prob(Tensor([0.0, 1.0])), edge_t.log_prob(torch.tensor([0.0, 1.0])))
    assert_close(edge.entropy(), edge_t.entropy())


def test_bernoulli_samples_are_floats_of_zero_and_one_with_frequency_p():
    tg.manual_seed(4)
    n = 40_000
    x = Bernoulli(probs=Tensor([0.0, 0.25, 0.9, 1.0])).sample((n,))
    assert x.dtype == np.float32 and x.shape == (n, 4) and not x.requires_grad
    x = x.numpy()
    assert set(np.unique(x)) <= {0.0, 1.0}
    assert_close(x.mean(axis=0), [0.0, 0.25, 0.9, 1.0], atol=4 * math.sqrt(0.25 / n), rtol=0)
    tg.manual_seed(4)
    assert_close(Bernoulli(probs=Tensor([0.0, 0.25, 0.9, 1.0])).sample((n,)), x)


# ============================================================================ kl_divergence

@PROPERTIES
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=4, max_dims=3, max_side=3), seed=st.integers(0, 2**16))
def test_kl_of_two_normals_matches_torch_with_gradients_of_all_four_parameters(shapes, seed):
    (a, b, c, d), _ = shapes
    params = [_pair(_normal(a, seed)), _pair(_positive(b, seed + 1)), _pair(_normal(c, seed + 2)),
              _pair(_positive(d, seed + 3))]
    ours = kl_divergence(Normal(params[0][0], params[1][0]), Normal(params[2][0], params[3][0]))
    theirs = td.kl_divergence(td.Normal(params[0][1], params[1][1]), td.Normal(params[2][1], params[3][1]))
    assert_close(ours, theirs, "KL(Normal || Normal)", **F64)
    ours.sum().backward()
    theirs.sum().backward()
    _grads_match([p[0] for p in params], [p[1] for p in params], "KL(Normal || Normal)")


def test_kl_of_a_distribution_with_itself_is_zero_and_otherwise_the_expected_log_ratio():
    p, q = Normal(Tensor([0.0, 1.0]), Tensor([1.0, 0.5])), Normal(Tensor([0.5, 0.0]), Tensor([2.0, 1.0]))
    assert_close(kl_divergence(p, p), [0.0, 0.0], atol=1e-7)
    tg.manual_seed(5)
    x = p.sample((100_000,))
    monte_carlo = (p.log_prob(x) - q.log_prob(x)).mean(axis=0)
    assert_close(monte_carlo, kl_divergence(p, q), atol=0.02, rtol=0)


@PROPERTIES
@given(shape=CATEGORICAL_SHAPES, seed=st.integers(0, 2**16), zeros=st.booleans(), by_logits=st.booleans())
def test_kl_of_two_categoricals_matches_torch_with_gradients(shape, seed, zeros, by_logits):
    p, p_t = _pair(_weights(shape, seed, zeros))
    q, q_t = _pair(_weights(shape, seed + 1))
    key = "logits" if by_logits else "probs"
    if by_logits:
        p, p_t = _pair(np.log(np.maximum(p.detach().numpy(), 1e-3)))
    ours = kl_divergence(Categorical(**{key: p}), Categorical(**{key: q}))
    theirs = td.kl_divergence(td.Categorical(**{key: p_t}), td.Categorical(**{key: q_t}))
    assert_close(ours, theirs, "KL(Categorical || Categorical)", **F64)
    ours.sum().backward()
    theirs.sum().backward()
    _grads_match((p, q), (p_t, q_t), "KL(Categorical || Categorical)")


def test_kl_of_categoricals_is_inf_where_q_rules_out_what_p_allows_and_ignores_what_p_rules_out():
    p = Tensor([[0.5, 0.5, 0.0], [0.5, 0.5, 0.0]])
    q = Tensor([[0.5, 0.0, 0.5], [0.2, 0.3, 0.5]])
    ours = kl_divergence(Categorical(probs=p), Categorical(probs=q))
    theirs = td.kl_divergence(td.Categorical(probs=torch.tensor(p.numpy())),
                              td.Categorical(probs=torch.tensor(q.numpy())))
    assert_close(ours, theirs)
    assert ours.numpy()[0] == math.inf and np.isfinite(ours.numpy()[1])


@PROPERTIES
@given(shapes=TWO_SHAPES, seed=st.integers(0, 2**16), by_logits=st.booleans())
def test_kl_of_two_bernoullis_matches_torch_with_gradients(shapes, seed, by_logits):
    (a, b), _ = shapes
    rng = np.random.default_rng(seed)
    key = "logits" if by_logits else "probs"
    draw = (lambda s: rng.standard_normal(s) * 2) if by_logits else (lambda s: rng.uniform(0.05, 0.95, s))
    (p, p_t), (q, q_t) = _pair(draw(a)), _pair(draw(b))
    ours = kl_divergence(Bernoulli(**{key: p}), Bernoulli(**{key: q}))
    # torch's Bernoulli-Bernoulli KL indexes with masks that do not broadcast: give it both batches expanded
    shape = np.broadcast_shapes(a, b)
    theirs = td.kl_divergence(td.Bernoulli(**{key: p_t.expand(shape)}), td.Bernoulli(**{key: q_t.expand(shape)}))
    assert_close(ours, theirs, "KL(Bernoulli || Bernoulli)", **F64)
    ours.sum().backward()
    theirs.sum().backward()
    _grads_match((p, q), (p_t, q_t), "KL(Bernoulli || Bernoulli)")


def test_kl_of_bernoullis_with_probabilities_zero_and_one_matches_torch():
    p = [0.0, 1.0, 0.0, 1.0, 0.3, 0.3]
    q = [0.5, 0.5, 0.0, 1.0, 0.0, 1.0]
    ours = kl_divergence(Bernoulli(probs=Tensor(p)), Bernoulli(probs=Tensor(q)))
    theirs = td.kl_divergence(td.Bernoulli(probs=torch.tensor(p)), td.Bernoulli(probs=torch.tensor(q)))
    assert_close(ours, theirs)


def test_kl_of_an_unregistered_pair_is_a_not_implemented_error_naming_the_pair():
    with pytest.raises(NotImplementedError, match="p of type Normal and q of type Bernoulli.*register_kl"):
        kl_divergence(Normal(0.0, 1.0), Bernoulli(0.5))


def test_register_kl_adds_a_pair(monkeypatch):
    monkeypatch.setattr(distributions, "_KL", dict(distributions._KL))

    @register_kl(Bernoulli, Normal)
    def kl_bernoulli_normal(p, q):
        return p.probs * 0 + 42.0

    assert kl_divergence(Bernoulli(0.5), Normal(0.0, 1.0)).item() == 42.0


def test_kl_refuses_categoricals_of_different_sizes_and_batches_that_do_not_broadcast():
    with pytest.raises(ValueError, match=r"kl_divergence\(Categorical, Categorical\): p has 3 categories and q has 4"):
        kl_divergence(Categorical(logits=Tensor(np.zeros(3))), Categorical(logits=Tensor(np.zeros(4))))
    with pytest.raises(ValueError, match=r"kl_divergence\(Normal, Normal\): batch_shape \(2,\) of p and \(3,\) of q"):
        kl_divergence(Normal(Tensor([0.0, 1.0]), 1.0), Normal(Tensor([0.0, 1.0, 2.0]), 1.0))


# ============================================================================ validation and errors

@pytest.mark.parametrize("make, match", [
    (lambda: Normal(0.0, 0.0),
     r"Normal: expected parameter scale \(Tensor of shape \(\)\) to be > 0.*invalid values: 0"),
    (lambda: Normal(Tensor([0.0, 1.0]), Tensor([1.0, -2.0])), r"Normal: expected parameter scale.*invalid values: -2"),
    (lambda: Normal(math.nan, 1.0), r"Normal: expected parameter loc .*not NaN"),
    (lambda: Categorical(probs=Tensor([0.5, -0.1, 0.6])), r"Categorical: expected parameter probs .*>= 0.*-0.1"),
    (lambda: Categorical(probs=Tensor([[0.0, 0.0], [1.0, 1.0]])),
     r"Categorical: expected parameter probs .*positive sum.*invalid values: 0$"),
    (lambda: Categorical(logits=Tensor([0.0, math.nan])), r"Categorical: expected parameter logits .*no NaN"),
    (lambda: Bernoulli(probs=Tensor([0.5, 1.5])), r"Bernoulli: expected parameter probs .*\[0, 1\].*1.5"),
    (lambda: Bernoulli(logits=math.nan), r"Bernoulli: expected parameter logits .*not NaN"),
    (lambda: Categorical(probs=Tensor([0.5]), logits=Tensor([0.0])), r"Categorical: give either probs or logits.*both"),
    (lambda: Bernoulli(), r"Bernoulli: give either probs or logits.*neither"),
    (lambda: Categorical(probs=Tensor(0.5)), r"Categorical: probs must be at least one-dimensional"),
    (lambda: Normal(Tensor([0.0, 1.0]), Tensor([1.0, 2.0, 3.0])),
     r"Normal: the shapes of the parameters do not broadcast together: loc \(2,\), scale \(3,\)"),
])
def test_a_bad_parameter_is_a_value_error_naming_the_distribution_and_the_argument(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("make, match", [
    (lambda: Normal([0.0, 1.0], 1.0), r"Normal: loc must be a number or a Tensor, got list"),
    (lambda: Bernoulli(probs=True), r"Bernoulli: probs must be a number or a Tensor, got bool"),
    (lambda: Categorical(probs=np.array([0.5, 0.5])), r"Categorical: probs must be a Tensor"),
    (lambda: Normal(0.0, 1.0).sample(5), r"Normal.sample: sample_shape must be a tuple of ints such as \(100,\)"),
])
def test_a_parameter_of_the_wrong_type_is_a_type_error(make, match):
    with pytest.raises(TypeError, match=match):
        make()


@pytest.mark.parametrize("dist, value, match", [
    (lambda: Normal(0.0, 1.0), Tensor(math.nan), r"Normal.log_prob: expected value .*support"),
    (lambda: Categorical(logits=Tensor(np.zeros(3))), Tensor([0, 3]),
     r"Categorical.log_prob: .*support \(the integers 0 to 2\).*invalid values: 3"),
    (lambda: Categorical(logits=Tensor(np.zeros(3))), Tensor([1.5]), r"Categorical.log_prob: .*invalid values: 1.5"),
    (lambda: Categorical(logits=Tensor(np.zeros(3))), Tensor([-1]), r"Categorical.log_prob: .*invalid values: -1"),
    (lambda: Bernoulli(0.5), Tensor([1.0, 0.5]), r"Bernoulli.log_prob: .*support \(\{0, 1\}\).*invalid values: 0.5"),
    (lambda: Normal(Tensor([0.0, 1.0]), 1.0), Tensor([0.0, 1.0, 2.0]),
     r"Normal.log_prob: value of shape \(3,\) is not broadcastable with batch_shape \(2,\)"),
    (lambda: Normal(0.0, 1.0), 0.5, r"Normal.log_prob: the value argument must be a Tensor, got float"),
])
def test_a_value_outside_the_support_is_a_value_error(dist, value, match):
    with pytest.raises(ValueError, match=match):
        dist().log_prob(value)


@pytest.mark.filterwarnings("ignore:invalid value encountered in log:RuntimeWarning")
def test_validate_args_false_skips_the_checks_and_gives_nan():
    assert np.isnan(Normal(0.0, -1.0, validate_args=False).log_prob(Tensor(0.0)).item())
    lp = Categorical(logits=Tensor(np.zeros(3)), validate_args=False).log_prob(Tensor([1, 3, -1])).numpy()
    assert_close(lp[0], -math.log(3), rtol=1e-6) and np.isnan(lp[1:]).all()


def test_discrete_distributions_have_no_rsample_and_say_what_to_use():
    assert Normal.has_rsample and not Categorical.has_rsample and not Bernoulli.has_rsample
    with pytest.raises(NotImplementedError, match="Categorical.rsample: .*log_prob"):
        Categorical(logits=Tensor([0.0, 0.0])).rsample()


def test_repr_names_the_distribution_and_the_given_parameters():
    assert repr(Normal(0.0, 1.0)) == "Normal(loc: 0.0, scale: 1.0)"
    assert repr(Categorical(logits=Tensor(np.zeros((2, 3))))) == "Categorical(logits: (2, 3))"
    assert repr(Bernoulli(0.25)) == "Bernoulli(probs: 0.25)"


def test_distributions_is_a_subpackage_attribute():
    import tinygrad_edu.distributions as D
    assert tg.distributions is D and tg.distributions.Normal is Normal and "distributions" in tg.__all__


# ============================================================================ devices

def test_every_distribution_gives_the_cpu_numbers_on_each_device(device):
    loc, scale = Tensor([0.5, -1.0], device=device, requires_grad=True), Tensor([[1.0], [2.0]], device=device)
    d = Normal(loc, scale)
    x = Tensor([[0.0, 1.0], [2.0, -1.0]], device=device)
    cpu = Normal(Tensor([0.5, -1.0]), Tensor([[1.0], [2.0]]))
    for ours, ref in [(d.log_prob(x), cpu.log_prob(x.cpu())), (d.entropy(), cpu.entropy()),
                      (kl_divergence(d, Normal(0.0, 1.0)), kl_divergence(cpu, Normal(0.0, 1.0)))]:
        assert ours.device == device
        assert_close(ours.cpu(), ref)
    r = d.rsample((3,))
    assert r.device == device and r.shape == (3, 2, 2)
    r.sum().backward()
    assert_close(loc.grad.cpu(), [6.0, 6.0])

    logits = Tensor([[0.0, 1.0, -1.0], [2.0, 0.0, 0.0]], device=device)
    c, c_cpu = Categorical(logits=logits), Categorical(logits=logits.cpu())
    a = Tensor([2, 0], device=device)
    assert_close(c.log_prob(a).cpu(), c_cpu.log_prob(a.cpu()))
    assert_close(c.entropy().cpu(), c_cpu.entropy())
    s = c.sample((50,))
    assert s.device == device and s.dtype == np.int64 and ((s.numpy() >= 0) & (s.numpy() < 3)).all()

    b, b_cpu = Bernoulli(logits=logits), Bernoulli(logits=logits.cpu())
    v = Tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]], device=device)
    assert_close(b.log_prob(v).cpu(), b_cpu.log_prob(v.cpu()))
    assert_close(kl_divergence(b, Bernoulli(0.5)).cpu(), kl_divergence(b_cpu, Bernoulli(0.5)))
    assert b.sample((4,)).device == device


def test_samples_on_each_device_repeat_after_manual_seed(device):
    d = Normal(Tensor([0.0, 1.0], device=device), 1.0)
    tg.manual_seed(8)
    first = d.sample((5,)).numpy()
    tg.manual_seed(8)
    assert_close(d.sample((5,)), first)


def test_a_distribution_of_numbers_alone_meets_a_tensor_on_its_device(device):
    """As torch lets a CPU number meet a cuda tensor: the prior Normal(0.0, 1.0) works with z anywhere."""
    z = Tensor([0.5, -1.0], device=device)
    for prior, value in [(Normal(0.0, 1.0), z), (Bernoulli(0.25), Tensor([1.0, 0.0], device=device))]:
        lp = prior.log_prob(value)
        assert lp.device == device
        assert_close(lp.cpu(), type(prior)(*prior._numbers.values()).log_prob(value.cpu()))
    q = Normal(z, 2.0)
    assert kl_divergence(Normal(0.0, 1.0), q).device == device


def test_a_value_on_another_device_is_a_runtime_error(cuda):
    with pytest.raises(RuntimeError, match="Normal.log_prob: expected all tensors to be on the same device"):
        Normal(Tensor([0.0], device=cuda), 1.0).log_prob(Tensor([0.0]))


def test_on_cuda_bad_parameters_and_values_give_nan_instead_of_a_host_sync(cuda):
    assert np.isnan(Normal(Tensor([0.0], device=cuda), -1.0).log_prob(Tensor([0.0], device=cuda)).numpy()).all()
    lp = Categorical(logits=Tensor(np.zeros(3), device=cuda)).log_prob(Tensor([0, 5], device=cuda)).numpy()
    assert np.isfinite(lp[0]) and np.isnan(lp[1])


def test_nothing_waits_for_the_gpu(fake_cupy):
    mu = Tensor(np.zeros((4, 2)), device="cuda", requires_grad=True)
    logits = Tensor(np.zeros((4, 3)), device="cuda", requires_grad=True)
    fake_cupy._fake_reset_sync_count()
    q = Normal(mu, Tensor(np.ones((4, 2)), device="cuda"))
    z = q.rsample()
    loss = -q.log_prob(z).sum() + kl_divergence(q, Normal(0.0, 1.0)).sum() + q.entropy().sum()
    policy = Categorical(logits=logits)
    action = policy.sample()
    loss = loss - policy.log_prob(action).sum() - policy.entropy().sum()
    coin = Bernoulli(logits=logits)
    loss = loss - coin.log_prob(coin.sample()).sum() + kl_divergence(coin, Bernoulli(0.5)).sum()
    loss = loss + kl_divergence(policy, Categorical(logits=Tensor(np.zeros(3), device="cuda"))).sum()
    assert fake_cupy._fake_sync_count == 0, f"{fake_cupy._fake_sync_count} host syncs"
    loss.backward()
    assert mu.grad is not None and logits.grad is not None
