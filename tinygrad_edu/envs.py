"""Small environments for the reinforcement-learning lecture, with gymnasium's API.

    env = CartPole()
    obs, info = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())

An agent sees an observation, picks an action, and gets a reward and the next observation,
until the episode ends: `terminated` (the task is over: the pole fell) or `truncated` (time is
up: 500 steps). The environments are plain NumPy; observations are NumPy float32 arrays, as in
gymnasium, so `Tensor(obs)` gives a policy its input.
"""
from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from . import arguments

__all__ = ["CartPole", "Discrete", "Box"]


# ----------------------------------------------------------------------------- spaces

class Discrete:
    """The actions 0, 1, ..., n - 1 (gymnasium.spaces.Discrete(n)): `n`, `sample()`, `contains(a)`."""

    def __init__(self, n: int, seed: int | None = None):
        self.n = arguments.positive_int(n, "n", "Discrete")
        self.shape, self.dtype = (), np.dtype(np.int64)
        self.seed(seed)

    def seed(self, seed: int | None = None) -> None:
        """Restart sample()'s random numbers from `seed` (from fresh entropy when None)."""
        self.np_random = np.random.default_rng(_seed(seed, "Discrete.seed"))

    def sample(self) -> np.int64:
        """One action, uniformly at random."""
        return np.int64(self.np_random.integers(self.n))

    def contains(self, action: Any) -> bool:
        """True for an integer (not a bool, not a float) in [0, n)."""
        return _as_action(action, self.n) is not None

    def __repr__(self) -> str:
        return f"Discrete({self.n})"


class Box:
    """Real vectors between `low` and `high` (gymnasium.spaces.Box): `shape`, `low`, `high`,
    `sample()`, `contains(x)`. sample() draws uniformly on a bounded axis, from N(0, 1) on an
    unbounded one."""

    def __init__(self, low: Any, high: Any, dtype: Any = np.float32, seed: int | None = None):
        self.dtype = np.dtype(dtype)
        self.low, self.high = np.asarray(low, dtype=self.dtype), np.asarray(high, dtype=self.dtype)
        if self.low.shape != self.high.shape:
            raise ValueError(f"Box: low {self.low.shape} and high {self.high.shape} must have one shape")
        self.shape = self.low.shape
        self.seed(seed)

    def seed(self, seed: int | None = None) -> None:
        """Restart sample()'s random numbers from `seed` (from fresh entropy when None)."""
        self.np_random = np.random.default_rng(_seed(seed, "Box.seed"))

    def sample(self) -> np.ndarray:
        """One point of the box (see the class docstring for unbounded axes)."""
        bounded = np.isfinite(self.low) & np.isfinite(self.high)
        uniform = self.np_random.uniform(np.where(bounded, self.low, 0), np.where(bounded, self.high, 1))
        normal = self.np_random.standard_normal(self.shape)
        return np.where(bounded, uniform, normal).astype(self.dtype)

    def contains(self, x: Any) -> bool:
        """True for an array of this shape with every value in [low, high]."""
        x = np.asarray(x)
        return x.shape == self.shape and bool(np.all((x >= self.low) & (x <= self.high)))

    def __repr__(self) -> str:
        return f"Box({self.low}, {self.high}, {self.shape}, {self.dtype})"


def _seed(seed: Any, op: str) -> int | None:
    """A seed for numpy's default_rng: None, or an int >= 0 (gymnasium's rule)."""
    return None if seed is None else arguments.int_arg(seed, "seed", op, minimum=0)


def _as_action(action: Any, n: int) -> int | None:
    """The action as an int in [0, n), from an int, a NumPy integer, or a one-element integer array
    or Tensor (what sample() and argmax() give); None for anything else (a bool, a float, ...)."""
    if isinstance(action, (bool, np.bool_)):
        return None
    if hasattr(action, "dtype") and hasattr(action, "shape"):          # an array or a Tensor
        if getattr(action.dtype, "kind", None) not in ("i", "u") or math.prod(action.shape) != 1:
            return None
        action = action.item()
    if not arguments.is_int(action) or not 0 <= action < n:
        return None
    return int(action)


# ----------------------------------------------------------------------------- CartPole

class CartPole:
    """A pole hinged on a cart that moves along a track (Barto, Sutton and Anderson, 1983), as
    gymnasium's CartPole-v1. Push the cart left (action 0) or right (action 1) with force 10 N
    and keep the pole up: reward 1 for every step, including the one where it falls.

    Observation (float32): [x, ẋ, θ, θ̇], the cart's position and velocity, the pole's angle from
    upright (radians) and its angular velocity. reset() draws all four uniformly in ±0.05.
    The episode is terminated when |x| > 2.4 or |θ| > 12° (0.2095 rad), truncated after
    `max_episode_steps` (500) steps.

    Physics, with the pole's half-length l, masses m_p and m_c, M = m_p + m_c, force F:
        t  = (F + m_p l θ̇² sin θ) / M
        θ̈ = (g sin θ - cos θ · t) / (l (4/3 - m_p cos² θ / M))
        ẍ  = t - m_p l θ̈ cos θ / M
    then one Euler step of tau = 0.02 s: x += tau ẋ, ẋ += tau ẍ, θ += tau θ̇, θ̇ += tau θ̈
    (every update uses the old values).
    """

    gravity = 9.8
    masscart = 1.0
    masspole = 0.1
    length = 0.5                       # half the pole's length
    force_mag = 10.0
    tau = 0.02                         # seconds between two steps
    theta_threshold_radians = 12 * 2 * math.pi / 360
    x_threshold = 2.4

    def __init__(self, max_episode_steps: int = 500):
        self.max_episode_steps = arguments.positive_int(max_episode_steps, "max_episode_steps", "CartPole")
        high = np.array([self.x_threshold * 2, np.inf, self.theta_threshold_radians * 2, np.inf], dtype=np.float32)
        self.action_space = Discrete(2)
        self.observation_space = Box(-high, high, dtype=np.float32)
        self.np_random = None          # the Generator of reset(), made by the first reset()
        self.state = None              # [x, ẋ, θ, θ̇] in float64; None until reset()
        self.elapsed_steps = 0         # steps since reset()
        self._steps_beyond_terminated = None

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        """Start an episode: the state uniform in [low, high] = [-0.05, 0.05] (options may give
        "low" and "high"). A seed restarts the random numbers (np.random.default_rng(seed), so the
        same seed gives gymnasium's start); without one they go on from the last reset."""
        if seed is not None or self.np_random is None:
            self.np_random = np.random.default_rng(_seed(seed, "CartPole.reset"))
        options = options or {}
        low, high = options.get("low", -0.05), options.get("high", 0.05)
        if not low <= high:
            raise ValueError(f"CartPole.reset: low ({low}) must not be larger than high ({high})")
        self.state = self.np_random.uniform(low=low, high=high, size=(4,))
        self.elapsed_steps, self._steps_beyond_terminated = 0, None
        return self.state.astype(np.float32), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        """Push left (0) or right (1) for tau seconds: (observation, reward, terminated, truncated, info)."""
        push = _as_action(action, 2)
        if push is None:
            raise ValueError(f"CartPole.step: the action must be 0 (push left) or 1 (push right), got {action!r}")
        if self.state is None:
            raise RuntimeError("CartPole.step: call reset() before the first step")
        self.state = self.next_state(self.state, push)
        self.elapsed_steps += 1
        x, _, theta, _ = self.state
        terminated = bool(abs(x) > self.x_threshold or abs(theta) > self.theta_threshold_radians)
        reward = 1.0
        if terminated:
            if self._steps_beyond_terminated is None:
                self._steps_beyond_terminated = 0            # the pole has just fallen: that step still counts
            else:
                if self._steps_beyond_terminated == 0:
                    warnings.warn("CartPole.step: the episode has already terminated (terminated=True); call "
                                  "reset() to start a new one. The steps after it get reward 0.",
                                  RuntimeWarning, stacklevel=2)
                self._steps_beyond_terminated += 1
                reward = 0.0
        truncated = self.elapsed_steps >= self.max_episode_steps
        return self.state.astype(np.float32), reward, terminated, truncated, {}

    def next_state(self, state: np.ndarray, action: int) -> np.ndarray:
        """The state tau seconds after pushing with `action` from `state` (the class docstring's equations)."""
        x, x_dot, theta, theta_dot = np.asarray(state, dtype=np.float64)
        force = self.force_mag if action == 1 else -self.force_mag
        total_mass = self.masspole + self.masscart
        polemass_length = self.masspole * self.length
        cos, sin = np.cos(theta), np.sin(theta)          # NumPy's, as gymnasium (math.cos may differ in the last bit)
        temp = (force + polemass_length * np.square(theta_dot) * sin) / total_mass
        theta_acc = (self.gravity * sin - cos * temp) / (
            self.length * (4.0 / 3.0 - self.masspole * np.square(cos) / total_mass))
        x_acc = temp - polemass_length * theta_acc * cos / total_mass
        return np.array([x + self.tau * x_dot, x_dot + self.tau * x_acc,
                         theta + self.tau * theta_dot, theta_dot + self.tau * theta_acc], dtype=np.float64)

    def close(self) -> None:
        """Nothing to release (gymnasium's API has it)."""

    def __repr__(self) -> str:
        return f"CartPole(max_episode_steps={self.max_episode_steps})"
