"""The array backend: NumPy on "cpu", CuPy on "cuda".

This module is the one seam between the engine and the array libraries. Functions never
import numpy or cupy themselves: they ask `xp(array)` for the module that owns their input
and call it, so the same code runs on both devices.

The default device is "cpu"; `set_default_device("cuda")` or the environment variable
TINYGRAD_EDU_DEVICE=cuda changes it for every new tensor.
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np

DEVICES = ("cpu", "cuda")

_CUPY_HELP = (
    "CuPy with a working NVIDIA GPU is needed for device 'cuda'. "
    'Install the gpu extra: pip install -e ".[gpu]" (or pip install cupy-cuda12x / cupy-cuda13x '
    "to match your CUDA toolkit)."
)

_cupy: Any = None            # the cupy module once it has been imported and checked
_cupy_array: Any = None      # cupy.ndarray, kept for the fast type checks below
_cupy_error: str | None = None
_default_device: str | None = None   # None: read TINYGRAD_EDU_DEVICE on first use


def _load_cupy():
    """Import CuPy and check that it sees a GPU; raise RuntimeError saying what to install."""
    global _cupy, _cupy_array, _cupy_error
    if _cupy is not None:
        return _cupy
    if _cupy_error is None:
        try:
            import cupy
            if cupy.cuda.runtime.getDeviceCount() < 1:
                raise RuntimeError("no CUDA device found")
            _cupy, _cupy_array = cupy, cupy.ndarray
            return cupy
        except Exception as exc:  # ImportError, CUDARuntimeError, ...
            _cupy_error = f"{type(exc).__name__}: {exc}"
    raise RuntimeError(f"device 'cuda' is not available ({_cupy_error}). {_CUPY_HELP}")


def cuda_available() -> bool:
    """True when CuPy imports and sees at least one GPU."""
    try:
        _load_cupy()
        return True
    except RuntimeError:
        return False


def parse_device(device: Any) -> str:
    """Normalise a device name: None -> default device, "cuda:0" -> "cuda". Checks availability."""
    if device is None:
        return get_default_device()
    if not isinstance(device, str):
        device = str(device)  # e.g. a torch.device
    name = device.lower().split(":")[0]
    if name == "gpu":
        name = "cuda"
    if name not in DEVICES:
        raise ValueError(f"unknown device {device!r}: expected 'cpu' or 'cuda'")
    if name == "cuda":
        _load_cupy()
    return name


def get_default_device() -> str:
    """The device of new tensors without device=: set_default_device()'s, else $TINYGRAD_EDU_DEVICE, else "cpu"."""
    global _default_device
    if _default_device is None:
        _default_device = parse_device(os.environ.get("TINYGRAD_EDU_DEVICE", "cpu") or "cpu")
    return _default_device


def set_default_device(device: str) -> None:
    """Choose the device of every tensor created without an explicit device."""
    global _default_device
    _default_device = parse_device(device)


def xp(array: Any):
    """The array module (numpy or cupy) that owns `array`."""
    if _cupy_array is not None and isinstance(array, _cupy_array):
        return _cupy
    return np


def is_device_array(array: Any) -> bool:
    """True for a CuPy array (only possible once CuPy has been loaded)."""
    return _cupy_array is not None and isinstance(array, _cupy_array)


def is_array(value: Any) -> bool:
    """True for a NumPy or CuPy array (not for a NumPy scalar such as np.float32(1))."""
    return isinstance(value, np.ndarray) or is_device_array(value)


def ensure_array(value: Any, like: Any = None) -> Any:
    """An array for `value`: NumPy turns 0-d results into scalars (np.float32), and a backward
    may return a plain number; both become 0-d arrays on the device (and dtype) of `like`."""
    if type(value) is np.ndarray or is_device_array(value):
        return value
    if like is None:
        return np.asarray(value)
    return xp(like).asarray(value, dtype=like.dtype)


def module_for(device: str):
    """The array module of a parsed device name."""
    return np if device == "cpu" else _load_cupy()


def device_of(array: Any) -> str:
    """The device of a raw array: "cpu" for NumPy, "cuda" for anything else (CuPy)."""
    return "cpu" if isinstance(array, (np.ndarray, np.generic)) else "cuda"


def to_device(array: Any, device: str) -> Any:
    """Copy `array` to `device` ("cpu" or "cuda"); returns it unchanged when already there."""
    if device_of(array) == device:
        return array
    if device == "cpu":
        return array.get()
    return _load_cupy().asarray(array)


def to_numpy(array: Any) -> np.ndarray:
    """A NumPy array with the values of `array`, wherever it lives (CuPy needs an explicit copy)."""
    if isinstance(array, (np.ndarray, np.generic)):
        return np.asarray(array)
    return np.asarray(array.get())


# ----------------------------------------------------------------------------- random numbers

_seed: int | None = None
_generators: dict[str, Any] = {}


def manual_seed(seed: int) -> None:
    """Seed the random generators of every device, as torch.manual_seed does."""
    global _seed
    _seed = int(seed)
    _generators.clear()


def generator(device: str):
    """The seedable random generator (numpy or cupy Generator) of `device`."""
    gen = _generators.get(device)
    if gen is None:
        gen = _generators[device] = module_for(device).random.default_rng(_seed)
    return gen


# ----------------------------------------------------------------------------- special functions

def erf(x: Any) -> Any:
    """The error function, elementwise, on either device (for the exact GELU)."""
    if device_of(x) == "cuda":
        import cupyx.scipy.special
        return cupyx.scipy.special.erf(x)
    try:
        from scipy.special import erf as scipy_erf
    except ImportError:
        import math
        return np.vectorize(math.erf, otypes=[x.dtype])(x)
    return scipy_erf(x).astype(x.dtype, copy=False)


def scatter_add(target: Any, index: Any, values: Any) -> None:
    """target[index] += values, adding repeated indices up (np.add.at / cupyx.scatter_add).

    CuPy's atomic add has no int64: an int64 target is added to as uint64, the same bits
    (two's complement addition wraps identically), so counts work on both devices."""
    if device_of(target) == "cuda":
        import cupyx
        if target.dtype == np.int64:
            target, values = target.view(np.uint64), _load_cupy().asarray(values).astype(np.uint64)
        cupyx.scatter_add(target, index, values)
    else:
        np.add.at(target, index, values)
