"""Toy data sets for the lectures: make_xor, make_moons, make_circles, make_spirals, make_regression_1d.

Each returns NumPy arrays: X float32 of shape (n, 2) and y int64 class labels for the
classification sets; X and y float32 of shape (n, 1) for the regression set. The same
random_state gives the same arrays; random_state=None draws from tinygrad_edu's global
generator (reproducible after tinygrad_edu.manual_seed). `noise` is the standard deviation
of Gaussian noise added to every coordinate.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .. import arguments, backend


def _rng(random_state: Any, op: str) -> np.random.Generator:
    """A NumPy Generator from random_state: an int seed, a Generator, or None.

    None draws from tinygrad_edu's global generator, so `tinygrad_edu.manual_seed(n)` makes
    the result reproducible (and without a manual_seed it is fresh entropy).
    """
    if random_state is None:
        return backend.generator("cpu")
    if isinstance(random_state, np.random.Generator):
        return random_state
    if arguments.is_int(random_state):
        if random_state < 0:
            raise ValueError(f"{op}: random_state must be >= 0, got {random_state}")
        return np.random.default_rng(int(random_state))
    raise TypeError(f"{op}: random_state must be None, an int or a numpy.random.Generator, "
                    f"got {type(random_state).__name__} {random_state!r}")


def _finish(X: np.ndarray, y: np.ndarray, noise: float, rng: np.random.Generator,
            shuffle: bool) -> tuple[np.ndarray, np.ndarray]:
    """Add the noise, shuffle the rows if asked, and give the documented dtypes."""
    if noise > 0:
        X = X + rng.normal(0.0, noise, size=X.shape)
    if shuffle:
        order = rng.permutation(len(X))
        X, y = X[order], y[order]
    return X.astype(np.float32), y.astype(np.int64)


def make_xor(n_samples: int = 4, noise: float | None = None, random_state: Any = None,
             shuffle: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The XOR problem of lecture 2: the corners of the unit square, label = x1 XOR x2.

    Row i is the corner i % 4 of (0, 0) -> 0, (0, 1) -> 1, (1, 0) -> 1, (1, 1) -> 0, so the
    default n_samples=4 is the truth table itself; more samples repeat the corners (as
    evenly as possible), each moved by Gaussian noise of standard deviation `noise`;
    shuffle=True mixes the rows. No straight line separates the classes; one hidden layer does.
    """
    op = "make_xor"
    n = arguments.positive_int(n_samples, "n_samples", op)
    noise = 0.0 if noise is None else arguments.number(noise, "noise", op, minimum=0)
    shuffle = arguments.flag(shuffle, "shuffle", op)
    rng = _rng(random_state, op)
    corners = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    rows = np.arange(n) % 4
    X, y = corners[rows], (corners[rows, 0] != corners[rows, 1])
    return _finish(X, y, noise, rng, shuffle)


def make_moons(n_samples: int = 100, noise: float | None = None, random_state: Any = None,
               shuffle: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (scikit-learn's make_moons).

    Class 0, ceil(n/2) points: (cos t, sin t), t evenly spaced in [0, pi] (the upper moon).
    Class 1, floor(n/2) points: (1 - cos t, 0.5 - sin t) (the lower moon, shifted into the
    gap of the first). Then Gaussian noise of standard deviation `noise`, then a shuffle.
    """
    op = "make_moons"
    n = arguments.positive_int(n_samples, "n_samples", op)
    noise = 0.0 if noise is None else arguments.number(noise, "noise", op, minimum=0)
    rng = _rng(random_state, op)
    n1 = n // 2
    n0 = n - n1
    t0, t1 = np.linspace(0.0, np.pi, n0), np.linspace(0.0, np.pi, n1)
    upper = np.stack([np.cos(t0), np.sin(t0)], axis=1)
    lower = np.stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)], axis=1)
    X = np.concatenate([upper, lower])
    y = np.concatenate([np.zeros(n0), np.ones(n1)])
    return _finish(X, y, noise, rng, arguments.flag(shuffle, "shuffle", op))


def make_circles(n_samples: int = 100, noise: float | None = None, factor: float = 0.8,
                 random_state: Any = None, shuffle: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Two concentric circles (scikit-learn's make_circles).

    Class 0, ceil(n/2) points: (cos t, sin t), the unit circle; class 1, floor(n/2) points:
    factor * (cos t, sin t), a smaller circle inside it; t evenly spaced in [0, 2 pi).
    Then Gaussian noise of standard deviation `noise`, then a shuffle. No line separates
    them, but the feature x1^2 + x2^2 does.
    """
    op = "make_circles"
    n = arguments.positive_int(n_samples, "n_samples", op)
    noise = 0.0 if noise is None else arguments.number(noise, "noise", op, minimum=0)
    factor = arguments.number(factor, "factor", op, minimum=0)
    if factor >= 1:
        raise ValueError(f"{op}: factor (the inner radius) must be in [0, 1), got {factor}")
    rng = _rng(random_state, op)
    n1 = n // 2
    n0 = n - n1
    t0 = np.linspace(0.0, 2 * np.pi, n0, endpoint=False)
    t1 = np.linspace(0.0, 2 * np.pi, n1, endpoint=False)
    outer = np.stack([np.cos(t0), np.sin(t0)], axis=1)
    inner = factor * np.stack([np.cos(t1), np.sin(t1)], axis=1)
    X = np.concatenate([outer, inner])
    y = np.concatenate([np.zeros(n0), np.ones(n1)])
    return _finish(X, y, noise, rng, arguments.flag(shuffle, "shuffle", op))


def make_spirals(n_samples: int = 300, n_classes: int = 3, noise: float | None = None,
                 turns: float = 1.0, random_state: Any = None,
                 shuffle: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """K spiral arms winding out of the centre, one class per arm.

    Arm k (k = 0 .. K-1) gets n/K points (the first n % K arms one more), at
        r = 0.1 + 0.9 t,   theta = 2 pi k / K + 2 pi turns t,   x = (r cos theta, r sin theta)
    with t evenly spaced in [0, 1]: the arms are the same curve rotated by 2 pi / K.
    Then Gaussian noise of standard deviation `noise`, then a shuffle. Hard for a linear
    model, easy for a small MLP: a classic picture of a curved decision boundary.
    """
    op = "make_spirals"
    n = arguments.positive_int(n_samples, "n_samples", op)
    k_arms = arguments.positive_int(n_classes, "n_classes", op)
    if k_arms < 2:
        raise ValueError(f"{op}: n_classes must be at least 2, got {k_arms}")
    noise = 0.0 if noise is None else arguments.number(noise, "noise", op, minimum=0)
    turns = arguments.number(turns, "turns", op, minimum=0)
    rng = _rng(random_state, op)
    points, labels = [], []
    for k in range(k_arms):
        m = n // k_arms + (1 if k < n % k_arms else 0)
        t = np.linspace(0.0, 1.0, m)
        r = 0.1 + 0.9 * t
        theta = 2 * np.pi * k / k_arms + 2 * np.pi * turns * t
        points.append(np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1))
        labels.append(np.full(m, k))
    return _finish(np.concatenate(points), np.concatenate(labels), noise, rng,
                   arguments.flag(shuffle, "shuffle", op))


_REGRESSION_FUNCTIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sin": lambda x: np.sin(np.pi * x),
    "square": lambda x: x * x,
    "abs": np.abs,
    "step": lambda x: (x >= 0).astype(np.float64),     # Heaviside H(x): not smooth, a hard case
}


def make_regression_1d(n_samples: int = 50, noise: float | None = 0.1, function: Any = "sin",
                       random_state: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """The toy fit of lecture 3 (universal approximation): N = 50 noisy points of f on [-1, 1].

    x is drawn uniformly from [-1, 1] and sorted (so that plt.plot(X, y) draws a line);
    y = f(x) + Gaussian noise of standard deviation `noise`. `function` is one of
    "sin" (sin(pi x), the default), "square" (x^2), "abs" (|x|), "step" (Heaviside H(x)),
    or any callable on a NumPy array. An MLP with 3 tanh hidden units fits each of them.
    Returns X and y, float32 of shape (n, 1).
    """
    op = "make_regression_1d"
    n = arguments.positive_int(n_samples, "n_samples", op)
    noise = 0.0 if noise is None else arguments.number(noise, "noise", op, minimum=0)
    if callable(function):
        f = function
    elif isinstance(function, str) and function in _REGRESSION_FUNCTIONS:
        f = _REGRESSION_FUNCTIONS[function]
    else:
        raise ValueError(f"{op}: function must be a callable or one of "
                         f"{', '.join(map(repr, _REGRESSION_FUNCTIONS))}, got {function!r}")
    rng = _rng(random_state, op)
    x = np.sort(rng.uniform(-1.0, 1.0, size=n))
    y = np.asarray(f(x), dtype=np.float64)
    if y.shape != x.shape:
        raise ValueError(f"{op}: function must map an array of shape {x.shape} to the same shape, "
                         f"got {y.shape}")
    if noise > 0:
        y = y + rng.normal(0.0, noise, size=n)
    return x.reshape(n, 1).astype(np.float32), y.reshape(n, 1).astype(np.float32)
