"""nn.init: fill a tensor in place with the initialisations of lecture 8.

    Xavier (Glorot): Var(W) = 2 / (fan_in + fan_out)  — for tanh/sigmoid layers
    He (Kaiming):    Var(W) = 2 / fan_in               — for ReLU layers
Each function draws from the tensor's device generator (seeded by manual_seed) and
returns the tensor, as in torch.nn.init.
"""
from __future__ import annotations

import math

from .. import arguments, backend
from ..tensor import Tensor


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The factor that keeps the activations' variance: 1 for linear/sigmoid, 5/3 for tanh, √2 for relu."""
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "sigmoid", "identity"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _fans(tensor: Tensor) -> tuple[int, int]:
    """fan_in and fan_out of a weight: (out, in) for Linear, (out, in, kh, kw) for Conv2d."""
    if tensor.ndim < 2:
        raise ValueError(f"init: fan_in and fan_out need a tensor with at least 2 dimensions, got shape {tensor.shape}")
    receptive = 1
    for s in tensor.shape[2:]:
        receptive *= s
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fill(tensor: Tensor, values) -> Tensor:
    tensor.data[...] = values.astype(tensor.dtype, copy=False)
    return tensor


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    """Fill the tensor in place with draws from U(a, b); returns it."""
    return _fill(tensor, backend.generator(tensor.device).uniform(a, b, tensor.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """Fill the tensor in place with draws from N(mean, std²); returns it."""
    # standard_normal, not normal: CuPy's Generator has only the former (same numbers on NumPy)
    values = backend.generator(tensor.device).standard_normal(tensor.shape)
    return _fill(tensor, values * std + mean)


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill the tensor in place with val; returns it."""
    tensor.data[...] = val
    return tensor


def zeros_(tensor: Tensor) -> Tensor:
    """Fill the tensor in place with 0; returns it."""
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill the tensor in place with 1; returns it."""
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """U(-a, a) with a = gain √(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """N(0, std²) with std = gain √(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def _kaiming_std(tensor: Tensor, a: float, mode: str, nonlinearity: str) -> float:
    arguments.choice(mode, ("fan_in", "fan_out"), "mode", "kaiming init")
    fan_in, fan_out = _fans(tensor)
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu") -> Tensor:
    """U(-b, b) with b = gain √(3 / fan) (He); torch.nn.Linear uses a=√5, i.e. b = 1/√fan_in."""
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu") -> Tensor:
    """N(0, std²) with std = gain / √fan (He)."""
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity))
