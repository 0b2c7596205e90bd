"""StandardScaler: standardisation x' = (x - mean) / sigma per feature, scikit-learn's API (lecture 8)."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import arguments
from ..tensor import Tensor


class StandardScaler:
    """Standardisation of lecture 8: x' = (x - mean) / sigma, per feature (scikit-learn's API).

    fit(X) learns mean_ and scale_ over the samples (axis 0): the mean and the population
    standard deviation sigma = sqrt(mean((x - mean)^2)) (ddof=0, as scikit-learn); a feature
    that is constant gets scale 1, so it becomes 0 instead of a division by zero.
    transform / inverse_transform take NumPy arrays or Tensors and return the same kind
    (a Tensor on its own device, built from Tensor ops, so gradients flow through it).
    Learn the statistics on the training set only, then transform train and test with them.
    """

    def __init__(self, with_mean: bool = True, with_std: bool = True):
        self.with_mean = arguments.flag(with_mean, "with_mean", "StandardScaler")
        self.with_std = arguments.flag(with_std, "with_std", "StandardScaler")
        self.mean_: np.ndarray | None = None
        self.var_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None
        self.n_samples_seen_: int | None = None
        self._shape: tuple | None = None

    def fit(self, X: Any, y: Any = None) -> "StandardScaler":
        """Learn mean_, var_ and scale_ (float64, one per feature) from X of shape (n, ...)."""
        data = _as_numpy(X, "StandardScaler.fit")
        if data.ndim == 0 or len(data) == 0:
            raise ValueError(f"StandardScaler.fit: X needs at least one sample along axis 0, "
                             f"got shape {data.shape}")
        data = data.astype(np.float64)
        mean = data.mean(axis=0)
        var = ((data - mean) ** 2).mean(axis=0)
        constant = np.ptp(data, axis=0) == 0
        self.n_samples_seen_, self._shape = len(data), data.shape[1:]
        self.mean_ = mean if self.with_mean else None
        self.var_ = np.where(constant, 0.0, var) if self.with_std else None
        self.scale_ = np.where(constant, 1.0, np.sqrt(var)) if self.with_std else None
        return self

    def transform(self, X: Any) -> Any:
        """x' = (x - mean_) / scale_."""
        X = _floating(X)
        mean, scale = self._statistics(X, "transform")
        out = X
        if mean is not None:
            out = out - mean
        if scale is not None:
            out = out / scale
        return out

    def inverse_transform(self, X: Any) -> Any:
        """x = x' * scale_ + mean_ (undoes transform)."""
        X = _floating(X)
        mean, scale = self._statistics(X, "inverse_transform")
        out = X
        if scale is not None:
            out = out * scale
        if mean is not None:
            out = out + mean
        return out

    def fit_transform(self, X: Any, y: Any = None) -> Any:
        """fit(X), then transform(X): x' = (x - mean_) / scale_."""
        return self.fit(X).transform(X)

    def _statistics(self, X: Any, op: str) -> tuple[Any, Any]:
        """Check X against the fit; return mean_ and scale_ in X's kind, dtype and device."""
        name = f"StandardScaler.{op}"
        if self._shape is None:
            raise RuntimeError(f"{name}: this StandardScaler is not fitted yet; call fit(X_train) first")
        if not isinstance(X, (Tensor, np.ndarray)):
            raise TypeError(f"{name}: X must be a NumPy array or a Tensor, got {type(X).__name__}")
        if X.shape[1:] != self._shape:
            raise ValueError(f"{name}: X has shape {X.shape}, but the scaler was fitted on samples "
                             f"of shape {self._shape}")
        stats = [self.mean_, self.scale_]
        if isinstance(X, Tensor):
            return tuple(None if s is None else Tensor(s.astype(X.dtype), device=X.device) for s in stats)
        return tuple(None if s is None else s.astype(X.dtype) for s in stats)

    def __repr__(self) -> str:
        return f"StandardScaler(with_mean={self.with_mean}, with_std={self.with_std})"


def _floating(X: Any) -> Any:
    """Integer (or bool) data becomes float32 before scaling; float data keeps its dtype."""
    if isinstance(X, (Tensor, np.ndarray)) and X.dtype.kind != "f":
        return X.astype(np.float32)
    return X


def _as_numpy(X: Any, op: str) -> np.ndarray:
    if isinstance(X, Tensor):
        return X.detach().numpy()
    if isinstance(X, np.ndarray):
        return X
    raise TypeError(f"{op}: X must be a NumPy array or a Tensor, got {type(X).__name__}")
