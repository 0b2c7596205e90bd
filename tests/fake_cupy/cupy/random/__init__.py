"""cupy.random on NumPy's generators, with CuPy's smaller API.

`default_rng(seed)` gives a Generator that has only the methods real cupy.random.Generator
has (no normal, permutation, choice, shuffle, ...), with CuPy's signatures (a `dtype`
argument on random / standard_normal / uniform). The numbers are NumPy's, not CuPy's.
"""
from __future__ import annotations

import numpy as np

from .._array import unwrap, unwrap_out, wrap
from .._real_names import NAMES

_REAL = frozenset(NAMES["random"])
_GENERATOR = frozenset(NAMES["Generator"])


def __getattr__(name):
    if name in _REAL:
        raise AttributeError(f"fake cupy does not implement cupy.random.{name}")
    raise AttributeError(f"module 'cupy.random' has no attribute '{name}'")


def _draw(method, args, kwargs, dtype):
    result = method(*unwrap(args), **unwrap(kwargs))
    result = np.asarray(result)
    if dtype is not None:
        result = result.astype(dtype, copy=False)
    return wrap(result)


class Generator:
    """cupy.random.Generator: only real CuPy's methods exist on it."""

    __slots__ = ("_g",)

    def __init__(self, bit_generator=None):
        self._g = np.random.default_rng(bit_generator)

    def __getattr__(self, name):
        raise AttributeError(f"'cupy.random._generator_api.Generator' object has no attribute '{name}'")

    def random(self, size=None, dtype=np.float64, out=None):
        return self._fill(self._g.random(size, dtype=np.dtype(dtype)), out)

    def standard_normal(self, size=None, dtype=np.float64, out=None):
        return self._fill(self._g.standard_normal(size, dtype=np.dtype(dtype)), out)

    def standard_exponential(self, size=None, dtype=np.float64, method="inv", out=None):
        return self._fill(self._g.standard_exponential(size, dtype=np.dtype(dtype)), out)

    def uniform(self, low=0.0, high=1.0, size=None, dtype=np.float64):
        return _draw(self._g.uniform, (low, high, size), {}, dtype)

    def integers(self, low, high=None, size=None, dtype=np.int64, endpoint=False):
        return _draw(self._g.integers, (low, high, size), {"dtype": dtype, "endpoint": endpoint}, None)

    @staticmethod
    def _fill(values, out):
        if out is None:
            return wrap(np.asarray(values))
        unwrap_out(out)[...] = values
        return out


def _generator_method(name):
    def method(self, *args, dtype=None, **kwargs):
        return _draw(getattr(self._g, name), args, kwargs, dtype)
    method.__name__ = name
    return method


for _name in _GENERATOR:
    if _name not in Generator.__dict__:
        setattr(Generator, _name, _generator_method(_name))


def default_rng(seed=None) -> Generator:
    if seed is not None and not isinstance(seed, (int, np.integer)):
        raise TypeError(f"fake cupy: default_rng(seed) takes an int or None, got {type(seed)}")
    return Generator(seed)


class RandomState:
    """cupy.random.RandomState (the legacy API) on numpy.random.RandomState."""

    def __init__(self, seed=None, method=None):
        self._rs = np.random.RandomState(seed)

    def seed(self, seed=None):
        self._rs.seed(seed)

    def __getattr__(self, name):
        if name.startswith("_") or name not in _REAL or not hasattr(self._rs, name):
            raise AttributeError(f"'cupy.random.RandomState' object has no attribute '{name}'")

        def method(*args, dtype=None, **kwargs):
            return _draw(getattr(self._rs, name), args, kwargs, dtype)
        return method

    def rand(self, *size, dtype=float):
        return wrap(np.asarray(self._rs.random_sample(size or None)).astype(dtype))

    def randn(self, *size, dtype=float):
        return wrap(np.asarray(self._rs.standard_normal(size or None)).astype(dtype))

    def shuffle(self, a):
        self._rs.shuffle(unwrap(a))

    def permutation(self, num):
        return wrap(self._rs.permutation(unwrap(num)))


_state = RandomState()


def get_random_state() -> RandomState:
    return _state


def set_random_state(rs: RandomState) -> None:
    global _state
    _state = rs


def reset_states() -> None:
    global _state
    _state = RandomState()


def seed(seed=None) -> None:
    _state.seed(seed)


def rand(*size, dtype=float):
    return _state.rand(*size, dtype=dtype)


def randn(*size, dtype=float):
    return _state.randn(*size, dtype=dtype)


def shuffle(a) -> None:
    _state.shuffle(a)


def permutation(num):
    return _state.permutation(num)


def _legacy(name):
    def function(*args, **kwargs):
        return getattr(_state, name)(*args, **kwargs)
    function.__name__ = name
    return function


for _name in _REAL:
    if _name not in globals() and not _name.startswith("_") and hasattr(np.random.RandomState, _name):
        globals()[_name] = _legacy(_name)
for _name in ("random", "random_sample", "ranf", "sample"):
    globals()[_name] = _legacy("random_sample")
del _name
