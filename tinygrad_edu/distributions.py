"""Probability distributions with torch.distributions' names: Normal, Categorical, Bernoulli, kl_divergence.

A distribution is a batch of independent ones, one per element of its broadcast parameters
(batch_shape). Its parameters are Tensors, so what it computes from them is part of the graph:

    q = Normal(mu, sigma)                       # the encoder's output (a VAE)
    z = q.rsample()                             # mu + sigma * eps: gradients reach mu and sigma
    kl = kl_divergence(q, Normal(0.0, 1.0))     # the VAE's KL term, in closed form

    policy = Categorical(logits=net(obs))       # REINFORCE
    action = policy.sample()                    # int64, no gradient
    loss = -(policy.log_prob(action) * reward).sum()

Parameters are numbers or Tensors, broadcast against each other as in torch. sample(sample_shape)
returns sample_shape + batch_shape values; log_prob(value) and entropy() one number per
distribution of the batch. What a distribution computes once from its parameters (Categorical's
normalised probs, logits computed from probs) is shared by all it computes after, so, as in torch,
make a new distribution for each step: a second backward through the first one's graph would need
retain_graph=True.

Validation, as torch's default validate_args=True: a parameter outside its constraint (scale <= 0,
probs outside [0, 1]) and a value outside the support raise ValueError naming the distribution
and the argument. Reading the values is a host sync on the GPU: torch pays it at every
construction and every log_prob; here the checks run on the CPU only, and on "cuda" (or with
validate_args=False) a bad parameter or value gives NaN instead (the log of a negative scale, a
category that does not exist), without making the step wait. Shapes are checked everywhere.
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Callable

import numpy as np

from . import arguments, autograd, backend
from .tensor import Tensor, where

__all__ = ["Distribution", "Normal", "Categorical", "Bernoulli", "kl_divergence", "register_kl"]

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


class _lazy_property:
    """A parameter computed from the one that was given, on first use, then kept on the instance
    (torch.distributions.utils.lazy_property). It is computed with grad mode on, so that probs first
    read inside sample()'s no-grad work still carries the graph for a later log_prob."""

    def __init__(self, fn: Callable):
        self.fn = fn
        self.__doc__ = fn.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        with autograd.enable_grad():
            value = self.fn(instance)
        instance.__dict__[self.name] = value        # the next read finds the attribute itself
        return value


# ----------------------------------------------------------------------------- argument helpers

def _parameters(op: str, **given: Any) -> tuple:
    """torch's broadcast_all, checked: (the parameters as Tensors, their broadcast shape, their float dtype).

    Numbers become constants with the dtype and device of the Tensors (float32 and the default device
    when all are numbers); an integer Tensor becomes float32. Nothing is expanded or cast to the
    common dtype here: _broadcast does it at each read, so that no graph node is shared by two losses."""
    for name, value in given.items():
        if not isinstance(value, Tensor) and (isinstance(value, (bool, np.bool_))
                                              or not isinstance(value, numbers.Real)):
            raise TypeError(f"{op}: {name} must be a number or a Tensor, got {type(value).__name__}; "
                            "wrap an array or a list in Tensor(...)")
    tensors = {name: value for name, value in given.items() if isinstance(value, Tensor)}
    device = arguments.same_device(op, *tensors.values()) or backend.get_default_device()
    floats = [t.dtype for t in tensors.values() if t.dtype.kind == "f"]
    dtype = np.result_type(*floats) if floats else arguments.DEFAULT_FLOAT
    try:
        shape = np.broadcast_shapes(*[t.shape for t in tensors.values()])
    except ValueError:
        listed = ", ".join(f"{name} {t.shape}" for name, t in tensors.items())
        raise ValueError(f"{op}: the shapes of the parameters do not broadcast together: {listed}") from None
    m = backend.module_for(device)
    out = []
    for value in given.values():
        if not isinstance(value, Tensor):
            value = Tensor._from_op(m.asarray(value, dtype=dtype), None)
        elif value.dtype.kind != "f":
            value = value.astype(dtype)                           # no gradient to keep: an integer tensor
        out.append(value)
    return out, tuple(shape), np.dtype(dtype)


def _broadcast(t: Tensor, shape: tuple, dtype: Any) -> Tensor:
    """t as `dtype`, expanded to `shape`: a new view at each read (the gradient is summed back to t)."""
    t = t.astype(dtype)
    return t if t.shape == shape else t.expand(shape)


def _sample_shape(sample_shape: Any, op: str) -> tuple:
    """sample_shape as a tuple of sizes: a tuple or list of ints (torch.Size is a tuple), not an int."""
    if not isinstance(sample_shape, (tuple, list)):
        raise TypeError(f"{op}: sample_shape must be a tuple of ints such as (100,), got "
                        f"{type(sample_shape).__name__} {sample_shape!r}")
    return arguments.shape((tuple(sample_shape),), op)


def _require(ok: Any, values: Any, message: str) -> None:
    """Raise ValueError(message, and the values where ok is False): a NumPy check, on the CPU only."""
    ok = np.broadcast_to(ok, np.shape(values))
    if not ok.all():
        bad = np.asarray(values)[~ok].tolist()
        shown = ", ".join(f"{v:g}" for v in bad[:5]) + (", ..." if len(bad) > 5 else "")
        raise ValueError(f"{message}, but found invalid values: {shown}")


def _given(op: str, probs: Any, logits: Any) -> tuple:
    """("probs", probs) or ("logits", logits): exactly one must be given."""
    if (probs is None) == (logits is None):
        raise ValueError(f"{op}: give either probs or logits, but not both"
                         + (" (both were given)" if probs is not None else " (neither was given)"))
    return ("probs", probs) if probs is not None else ("logits", logits)


def _eps(dtype: Any) -> float:
    """The machine epsilon of dtype: probabilities are clamped to [eps, 1 - eps] before a log (torch's clamp_probs)."""
    return float(np.finfo(dtype).eps)


# ----------------------------------------------------------------------------- the base class

class Distribution:
    """The base of every distribution (torch.distributions.Distribution): a batch of batch_shape
    independent distributions, each over single numbers (event_shape is ())."""

    has_rsample = False
    _shown: tuple = ()                  # the parameters that repr shows (those that were given)

    def __init__(self, batch_shape: tuple, device: str, validate_args: bool | None = None):
        self._batch_shape = tuple(batch_shape)
        self._device = device
        self._checks = validate_args is not False and device == "cpu"   # None: torch's default, check
        self._numbers: dict | None = None     # the parameters when all were numbers: then it can move device

    @property
    def batch_shape(self) -> tuple:
        """The shape of the batch of distributions: that of the broadcast parameters."""
        return self._batch_shape

    @property
    def event_shape(self) -> tuple:
        """The shape of one draw of one distribution: () here, every draw is a single number."""
        return ()

    def sample(self, sample_shape: tuple = ()) -> Tensor:
        """sample_shape + batch_shape draws, without gradient."""
        raise NotImplementedError(f"{type(self).__name__}.sample is not implemented")

    def rsample(self, sample_shape: tuple = ()) -> Tensor:
        """A reparameterised sample, through which gradients reach the parameters (has_rsample)."""
        raise NotImplementedError(
            f"{type(self).__name__}.rsample: {type(self).__name__} has no reparameterised sample "
            "(has_rsample is False): its draws are discrete, so no gradient can flow through them; use "
            "sample() and log_prob() instead (REINFORCE: loss = -log_prob(action) * reward)")

    def log_prob(self, value: Tensor) -> Tensor:
        """log p(value), one number per distribution of the batch (broadcast with value)."""
        raise NotImplementedError(f"{type(self).__name__}.log_prob is not implemented")

    def entropy(self) -> Tensor:
        """H = -E[log p(x)], one number per distribution of the batch."""
        raise NotImplementedError(f"{type(self).__name__}.entropy is not implemented")

    def _extended_shape(self, sample_shape: Any, op: str) -> tuple:
        """sample_shape + batch_shape: the shape of sample(sample_shape)."""
        return _sample_shape(sample_shape, op) + self._batch_shape

    def _on(self, device: str) -> "Distribution":
        """This distribution on `device`: self, or, for one made from numbers alone (Normal(0.0, 1.0)), the
        same numbers there, as torch lets a CPU number meet a cuda tensor. Anything else stays put."""
        if device == self._device or self._numbers is None:
            return self
        return type(self)(**{k: Tensor(v, device=device) for k, v in self._numbers.items()}, validate_args=False)

    def _value(self, value: Any, op: str) -> tuple:
        """(the distribution to compute with, the value of log_prob): a Tensor on its device (see _on)
        whose shape broadcasts with batch_shape."""
        if not isinstance(value, Tensor):
            raise ValueError(f"{op}: the value argument must be a Tensor, got {type(value).__name__}; "
                             "wrap it: Tensor(value)")
        dist = self._on(value.device)
        if value.device != dist._device:
            raise RuntimeError(f"{op}: expected all tensors to be on the same device, but found tensors on "
                               f"{' and '.join(sorted((value.device, self._device)))}; move them with .to(device)")
        for v, b in zip(reversed(value.shape), reversed(self._batch_shape)):
            if v != b and v != 1 and b != 1:
                raise ValueError(f"{op}: value of shape {value.shape} is not broadcastable with "
                                 f"batch_shape {self._batch_shape}")
        return dist, value

    def __repr__(self) -> str:
        shown = []
        for name in self._shown:
            t = getattr(self, name)
            shown.append(f"{name}: {t.item() if t.data.size == 1 else t.shape}")
        return f"{type(self).__name__}({', '.join(shown)})"


# ----------------------------------------------------------------------------- Normal

class Normal(Distribution):
    """The normal (Gaussian) distribution N(loc, scale²), one per element of the broadcast loc and scale:

        p(x) = exp(-(x - loc)² / (2 scale²)) / (scale √(2π)),   mean loc, standard deviation scale > 0.

    rsample() is the reparameterisation trick of the VAE lecture: x = loc + scale * eps with
    eps ~ N(0, 1) drawn apart from the parameters, so x is differentiable w.r.t. loc and scale
    (dx/dloc = 1, dx/dscale = eps). sample() draws the same way without gradient."""

    has_rsample = True
    _shown = ("loc", "scale")

    def __init__(self, loc: Any, scale: Any, validate_args: bool | None = None):
        (self._loc, self._scale), shape, self._dtype = _parameters("Normal", loc=loc, scale=scale)
        super().__init__(shape, self._loc.device, validate_args)
        if not isinstance(loc, Tensor) and not isinstance(scale, Tensor):
            self._numbers = {"loc": loc, "scale": scale}
        if self._checks:
            _require(self._loc.data == self._loc.data, self._loc.data,
                     f"Normal: expected parameter loc (Tensor of shape {self._loc.shape}) to be a real number "
                     "(not NaN)")
            _require(self._scale.data > 0, self._scale.data,
                     f"Normal: expected parameter scale (Tensor of shape {self._scale.shape}) to be > 0 "
                     "(a standard deviation)")

    @property
    def loc(self) -> Tensor:
        """The mean μ, broadcast to batch_shape."""
        return _broadcast(self._loc, self._batch_shape, self._dtype)

    @property
    def scale(self) -> Tensor:
        """The standard deviation σ > 0, broadcast to batch_shape."""
        return _broadcast(self._scale, self._batch_shape, self._dtype)

    @property
    def mean(self) -> Tensor:
        """E[x] = loc."""
        return self.loc

    @property
    def mode(self) -> Tensor:
        """The most likely x: loc."""
        return self.loc

    @property
    def stddev(self) -> Tensor:
        """The standard deviation: scale."""
        return self.scale

    @property
    def variance(self) -> Tensor:
        """Var[x] = scale²."""
        return self.scale ** 2

    def _standard_normal(self, sample_shape: Any, op: str) -> Any:
        """eps ~ N(0, 1) of shape sample_shape + batch_shape, from the device's seedable generator."""
        shape = self._extended_shape(sample_shape, op)
        eps = backend.generator(self._device).standard_normal(shape, dtype=self._dtype)
        return backend.ensure_array(eps)

    def sample(self, sample_shape: tuple = ()) -> Tensor:
        """sample_shape + batch_shape draws loc + scale * eps, eps ~ N(0, 1), with no gradient (torch.normal)."""
        eps = self._standard_normal(sample_shape, "Normal.sample")
        return Tensor._from_op(backend.ensure_array(self._loc.data + self._scale.data * eps, eps), None)

    def rsample(self, sample_shape: tuple = ()) -> Tensor:
        """x = loc + scale * eps, eps ~ N(0, 1) of shape sample_shape + batch_shape: the reparameterisation trick.

        eps carries no gradient, so x is differentiable w.r.t. loc and scale: dx/dloc = 1, dx/dscale = eps
        (summed over the sample axes). This is how a VAE's loss reaches its encoder through the sample."""
        eps = Tensor._from_op(self._standard_normal(sample_shape, "Normal.rsample"), None)
        return self.loc + self.scale * eps

    def log_prob(self, value: Tensor) -> Tensor:
        """log p(value) = -(value - loc)² / (2 scale²) - log scale - log √(2π);  differentiable w.r.t.
        loc, scale and value (d/dvalue = -(value - loc) / scale²)."""
        dist, value = self._value(value, "Normal.log_prob")
        if dist is not self:
            return dist.log_prob(value)
        if self._checks:
            _require(value.data == value.data, value.data,
                     f"Normal.log_prob: expected value (Tensor of shape {value.shape}) to be within the "
                     "support (real numbers, not NaN) of Normal")
        loc, scale = self.loc, self.scale
        return -((value - loc) ** 2) / (2 * scale ** 2) - scale.log() - _LOG_SQRT_2PI

    def entropy(self) -> Tensor:
        """H = 1/2 + log √(2π) + log scale = log(scale √(2πe))."""
        return self.scale.log() + (0.5 + _LOG_SQRT_2PI)


# ----------------------------------------------------------------------------- Categorical

class Categorical(Distribution):
    """A choice among the categories 0, 1, ..., K-1, with P(k) = probs[..., k] (torch.distributions.Categorical).

    Give exactly one of probs (weights >= 0, each row divided by its sum over the last axis) or
    logits (log-weights, made log-probabilities: logits - logsumexp(logits), a log-softmax). The
    last axis holds the K categories; the axes before it are the batch_shape. log_prob is
    differentiable w.r.t. probs or logits: the score function of REINFORCE."""

    def __init__(self, probs: Tensor | None = None, logits: Tensor | None = None,
                 validate_args: bool | None = None):
        name, given = _given("Categorical", probs, logits)
        if not isinstance(given, Tensor):
            raise TypeError(f"Categorical: {name} must be a Tensor whose last axis holds the categories, got "
                            f"{type(given).__name__}; wrap it: Tensor(...)")
        if given.ndim < 1 or given.shape[-1] == 0:
            raise ValueError(f"Categorical: {name} must be at least one-dimensional with at least one category "
                             f"on its last axis, got shape {given.shape}")
        if given.dtype.kind != "f":
            given = given.astype(arguments.DEFAULT_FLOAT)
        super().__init__(given.shape[:-1], given.device, validate_args)
        self._num_events = given.shape[-1]
        self._shown = (name,)
        what = f"Categorical: expected parameter {name} (Tensor of shape {given.shape})"
        if name == "probs":
            if self._checks:
                p = given.data
                _require(np.isfinite(p) & (p >= 0), p, f"{what} to hold finite weights >= 0")
                _require(p.sum(axis=-1) > 0, p.sum(axis=-1),
                         f"{what} to have a positive sum over its last axis (each row is divided by its "
                         "sum; the values shown are row sums)")
            self.probs = given / given.sum(axis=-1, keepdims=True)
        else:
            if self._checks:
                _require((given.data == given.data) & (given.data < np.inf), given.data,
                         f"{what} to hold real numbers (no NaN, no +inf; -inf rules a category out)")
            self.logits = given - given.logsumexp(axis=-1, keepdims=True)

    @_lazy_property
    def probs(self) -> Tensor:
        """P(k) along the last axis, summing to 1: softmax(logits) when logits were given."""
        return self.logits.softmax(axis=-1)

    @_lazy_property
    def logits(self) -> Tensor:
        """log P(k) along the last axis: log(clamp(probs, eps, 1 - eps)) when probs were given
        (torch's probs_to_logits)."""
        eps = _eps(self.probs.dtype)
        return self.probs.clip(eps, 1 - eps).log()

    @property
    def mode(self) -> Tensor:
        """The most likely category (int64): argmax of probs over the last axis."""
        return self.probs.argmax(axis=-1)

    def sample(self, sample_shape: tuple = ()) -> Tensor:
        """sample_shape + batch_shape category indices (int64, no gradient), by the inverse CDF:
        with u uniform on [0, 1) and c_k = P(0) + ... + P(k), the index is the number of c_k <= u."""
        shape = self._extended_shape(sample_shape, "Categorical.sample")
        p = self.probs.data.astype("float64")
        m = backend.xp(p)
        cdf = m.cumsum(p, axis=-1)
        cdf = cdf / cdf[..., -1:]                                    # exactly 1 at the end
        u = backend.ensure_array(backend.generator(self._device).random(shape, dtype="float64"), p)
        index = (cdf <= u[..., None]).sum(axis=-1)                  # (sample..., batch..., K) -> (sample..., batch...)
        return Tensor._from_op(backend.ensure_array(index.astype("int64")), None)

    def log_prob(self, value: Tensor) -> Tensor:
        """log P(value) = logits[..., value], value (int64, or integral floats) broadcast with batch_shape;
        differentiable w.r.t. probs or logits. A category outside 0..K-1 gives NaN when not checked."""
        op, k = "Categorical.log_prob", self._num_events
        dist, value = self._value(value, op)
        if dist is not self:
            return dist.log_prob(value)
        v = value.data
        if self._checks:
            integral = v == np.floor(v) if v.dtype.kind == "f" else True
            _require(integral & (v >= 0) & (v <= k - 1), v,
                     f"{op}: expected value (Tensor of shape {value.shape}) to be within the support (the integers "
                     f"0 to {k - 1}) of Categorical with {k} categories")
        m = backend.xp(v)
        v = v.astype("int64")
        chosen = m.arange(k) == v[..., None]                        # one-hot: value.shape + (K,)
        picked = where(chosen, self.logits, 0.0).sum(axis=-1)       # where, not *: a -inf logit stays out of the rest
        if not self._checks:
            picked = where((v >= 0) & (v < k), picked, math.nan)
        return picked

    def entropy(self) -> Tensor:
        """H = -Σ_k P(k) log P(k) over the last axis (a logit of -inf, clamped to the smallest float, adds 0)."""
        logits = self.logits.clip(float(np.finfo(self.logits.dtype).min))
        return -(logits * self.probs).sum(axis=-1)


# ----------------------------------------------------------------------------- Bernoulli

class Bernoulli(Distribution):
    """A coin that shows 1 with probability probs and 0 otherwise (torch.distributions.Bernoulli).

    Give exactly one of probs (in [0, 1]) or logits (log(p / (1 - p)), so p = sigmoid(logits)), a
    number or a Tensor. log_prob(x) = x logits - log(1 + e^logits), in the stable form of
    binary_cross_entropy_with_logits, so large logits give no inf and no NaN."""

    def __init__(self, probs: Any = None, logits: Any = None, validate_args: bool | None = None):
        name, given_value = _given("Bernoulli", probs, logits)
        (given,), shape, _ = _parameters("Bernoulli", **{name: given_value})
        super().__init__(shape, given.device, validate_args)
        self._shown = (name,)
        if not isinstance(given_value, Tensor):
            self._numbers = {name: given_value}
        what = f"Bernoulli: expected parameter {name} (Tensor of shape {given.shape})"
        if name == "probs":
            if self._checks:
                _require((given.data >= 0) & (given.data <= 1), given.data, f"{what} to be in [0, 1]")
            self.probs = given
        else:
            if self._checks:
                _require(given.data == given.data, given.data, f"{what} to be a real number (not NaN)")
            self.logits = given

    @_lazy_property
    def probs(self) -> Tensor:
        """P(1) = sigmoid(logits) when logits were given."""
        return self.logits.sigmoid()

    @_lazy_property
    def logits(self) -> Tensor:
        """log(p / (1 - p)) with p clamped to [eps, 1 - eps] when probs were given (torch's probs_to_logits)."""
        eps = _eps(self.probs.dtype)
        p = self.probs.clip(eps, 1 - eps)
        return p.log() - (1 - p).log()

    @property
    def mean(self) -> Tensor:
        """E[x] = p."""
        return self.probs

    @property
    def variance(self) -> Tensor:
        """Var[x] = p (1 - p)."""
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape: tuple = ()) -> Tensor:
        """sample_shape + batch_shape draws, 1.0 where u < p for u uniform on [0, 1), else 0.0
        (floats, as torch.bernoulli; no gradient)."""
        shape = self._extended_shape(sample_shape, "Bernoulli.sample")
        p = self.probs.data
        u = backend.ensure_array(backend.generator(self._device).random(shape, dtype=p.dtype), p)
        return Tensor._from_op(backend.ensure_array((u < p).astype(p.dtype), p), None)

    def log_prob(self, value: Tensor) -> Tensor:
        """log p(value) = value · logits - softplus(logits) = -binary_cross_entropy_with_logits(logits, value),
        for value 0 or 1 broadcast with batch_shape; differentiable w.r.t. probs or logits (and value)."""
        op = "Bernoulli.log_prob"
        dist, value = self._value(value, op)
        if dist is not self:
            return dist.log_prob(value)
        if self._checks:
            _require((value.data == 0) | (value.data == 1), value.data,
                     f"{op}: expected value (Tensor of shape {value.shape}) to be within the support "
                     "({0, 1}) of Bernoulli")
        logits = self.logits
        if value.dtype != logits.dtype:
            value = value.astype(logits.dtype)
        return value * logits - logits.softplus()

    def entropy(self) -> Tensor:
        """H = -p log p - (1 - p) log(1 - p) = softplus(logits) - p · logits (the stable form)."""
        return self.logits.softplus() - self.logits * self.probs


# ----------------------------------------------------------------------------- KL divergence

_KL: dict = {}          # (type of p, type of q) -> the function computing KL(p || q)


def register_kl(type_p: type, type_q: type) -> Callable:
    """A decorator that makes fn(p, q) the kl_divergence of the pair (torch.distributions.register_kl):

        @register_kl(Normal, Normal)
        def kl_normal_normal(p, q): ..."""
    def decorator(fn: Callable) -> Callable:
        _KL[(type_p, type_q)] = fn
        return fn
    return decorator


def kl_divergence(p: Distribution, q: Distribution) -> Tensor:
    """KL(p || q) = E_p[log p(x) - log q(x)] >= 0, in closed form, one number per distribution of
    the broadcast batches; differentiable w.r.t. the parameters of both. A distribution made from
    numbers alone (the prior Normal(0.0, 1.0)) meets the other on its device."""
    for name, d in (("p", p), ("q", q)):
        if not isinstance(d, Distribution):
            raise TypeError(f"kl_divergence: {name} must be a distribution, got {type(d).__name__}")
    q = q._on(p._device)
    p = p._on(q._device)
    for type_p in type(p).__mro__:
        for type_q in type(q).__mro__:
            fn = _KL.get((type_p, type_q))
            if fn is not None:
                return fn(p, q)
    pairs = ", ".join(f"{a.__name__}-{b.__name__}" for a, b in _KL)
    raise NotImplementedError(f"kl_divergence: no KL(p || q) is implemented for p of type {type(p).__name__} "
                              f"and q of type {type(q).__name__}; implemented pairs: {pairs} "
                              "(add one with @register_kl(P, Q))")


def _pair(p: Distribution, q: Distribution) -> str:
    """Check that p and q can be compared: one device, broadcastable batches. Returns the op name."""
    op = f"kl_divergence({type(p).__name__}, {type(q).__name__})"
    if p._device != q._device:
        raise RuntimeError(f"{op}: expected all tensors to be on the same device, but found tensors on "
                           f"{' and '.join(sorted((p._device, q._device)))}; move them with .to(device)")
    try:
        np.broadcast_shapes(p.batch_shape, q.batch_shape)
    except ValueError:
        raise ValueError(f"{op}: batch_shape {p.batch_shape} of p and {q.batch_shape} of q do not broadcast "
                         "together") from None
    return op


@register_kl(Normal, Normal)
def _kl_normal_normal(p: Normal, q: Normal) -> Tensor:
    """KL = log(σ_q / σ_p) + (σ_p² + (μ_p - μ_q)²) / (2 σ_q²) - 1/2, written with r = (σ_p / σ_q)²
    as torch does: (r + ((μ_p - μ_q) / σ_q)² - 1 - log r) / 2."""
    _pair(p, q)
    var_ratio = (p.scale / q.scale) ** 2
    t1 = ((p.loc - q.loc) / q.scale) ** 2
    return 0.5 * (var_ratio + t1 - 1 - var_ratio.log())


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p: Categorical, q: Categorical) -> Tensor:
    """KL = Σ_k P(k) (log P(k) - log Q(k)): inf where Q(k) = 0 < P(k); a term with P(k) = 0 adds 0."""
    op = _pair(p, q)
    if p._num_events != q._num_events:
        raise ValueError(f"{op}: p has {p._num_events} categories and q has {q._num_events}; they must match")
    t = p.probs * (p.logits - q.logits)
    t = where(q.probs == 0, math.inf, t)
    t = where(p.probs == 0, 0.0, t)
    return t.sum(axis=-1)


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p: Bernoulli, q: Bernoulli) -> Tensor:
    """KL = p log(p / q) + (1 - p) log((1 - p) / (1 - q)), each log-ratio from logits with softplus
    (log p = -softplus(-logits), log(1 - p) = -softplus(logits)); inf where q excludes what p allows."""
    _pair(p, q)
    t1 = p.probs * ((-q.logits).softplus() - (-p.logits).softplus())
    t1 = where(p.probs == 0, 0.0, where(q.probs == 0, math.inf, t1))
    t2 = (1 - p.probs) * (q.logits.softplus() - p.logits.softplus())
    t2 = where(p.probs == 1, 0.0, where(q.probs == 1, math.inf, t2))
    return t1 + t2
