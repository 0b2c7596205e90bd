"""Constructors: new leaf tensors made from a shape (zeros, ones, full, rand, randn, uniform,
arange, eye) or shaped like another tensor (zeros_like, ones_like).

Each is a function here, as torch.zeros is in PyTorch, and a static method of Tensor
(Tensor.zeros(2, 3)); tinygrad_edu.zeros is the same function. The shape is given as separate
ints or one tuple; the device and the seedable generator come from backend.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from . import arguments, autograd, backend

__all__ = ["zeros", "ones", "full", "rand", "randn", "uniform", "arange", "eye", "zeros_like", "ones_like"]


def _make_new(array: Any, requires_grad: bool, op: str) -> Any:
    """A new leaf around a freshly made array (no copy)."""
    if requires_grad:
        arguments.float_dtype(array.dtype, op)
    t = autograd.Tensor._from_op(array, None)
    t.requires_grad = bool(requires_grad)
    return t

def zeros(*shape, requires_grad: bool = False, device: str | None = None, dtype: Any = None) -> "Tensor":
    """A tensor of zeros; the shape as separate ints or one tuple; float32 unless dtype is given."""
    xp = backend.module_for(backend.parse_device(device))
    array = xp.zeros(arguments.shape(shape, "zeros"), dtype=arguments.dtype(dtype or np.float32))
    return _make_new(array, requires_grad, "zeros")

def ones(*shape, requires_grad: bool = False, device: str | None = None, dtype: Any = None) -> "Tensor":
    """A tensor of ones; the shape as separate ints or one tuple; float32 unless dtype is given."""
    xp = backend.module_for(backend.parse_device(device))
    array = xp.ones(arguments.shape(shape, "ones"), dtype=arguments.dtype(dtype or np.float32))
    return _make_new(array, requires_grad, "ones")

def full(shape, fill_value: float, requires_grad: bool = False, device: str | None = None,
         dtype: Any = None) -> "Tensor":
    """A tensor of `shape` filled with fill_value: float32 for a float, int64 for an int, bool for a bool."""
    xp = backend.module_for(backend.parse_device(device))
    shape = arguments.shape((shape,), "full")
    dtype = arguments.fill_dtype(fill_value) if dtype is None else arguments.dtype(dtype)
    return _make_new(xp.full(shape, fill_value, dtype=dtype), requires_grad, "full")

def rand(*shape, requires_grad: bool = False, device: str | None = None, dtype: Any = None) -> "Tensor":
    """Uniform on [0, 1), from the seedable generator of the device (manual_seed)."""
    generator = backend.generator(backend.parse_device(device))
    array = generator.random(arguments.shape(shape, "rand"), dtype=arguments.dtype(dtype or np.float32))
    return _make_new(array, requires_grad, "rand")

def randn(*shape, requires_grad: bool = False, device: str | None = None, dtype: Any = None) -> "Tensor":
    """Standard normal, from the seedable generator of the device (manual_seed)."""
    generator = backend.generator(backend.parse_device(device))
    array = generator.standard_normal(arguments.shape(shape, "randn"), dtype=arguments.dtype(dtype or np.float32))
    return _make_new(array, requires_grad, "randn")

def uniform(*shape, low: float = 0.0, high: float = 1.0, requires_grad: bool = False,
            device: str | None = None, dtype: Any = None) -> "Tensor":
    """Uniform on [low, high)."""
    generator = backend.generator(backend.parse_device(device))
    dtype = arguments.dtype(dtype or np.float32)
    array = generator.uniform(low, high, arguments.shape(shape, "uniform")).astype(dtype)
    return _make_new(array, requires_grad, "uniform")

def arange(start: float, stop: float | None = None, step: float = 1, requires_grad: bool = False,
           device: str | None = None, dtype: Any = None) -> "Tensor":
    """Like range(); int64 for int arguments, float32 otherwise."""
    if stop is None:
        start, stop = 0, start
    dtype = arguments.arange_dtype(start, stop, step) if dtype is None else arguments.dtype(dtype)
    xp = backend.module_for(backend.parse_device(device))
    return _make_new(xp.arange(start, stop, step, dtype=dtype), requires_grad, "arange")

def eye(n: int, m: int | None = None, requires_grad: bool = False, device: str | None = None,
        dtype: Any = None) -> "Tensor":
    """The n x m identity matrix (m = n by default): ones on the diagonal, zeros elsewhere."""
    n = arguments.int_arg(n, "n", "eye", minimum=0)
    m = None if m is None else arguments.int_arg(m, "m", "eye", minimum=0)
    xp = backend.module_for(backend.parse_device(device))
    return _make_new(xp.eye(n, m, dtype=arguments.dtype(dtype or np.float32)), requires_grad, "eye")

def zeros_like(t: "Tensor", requires_grad: bool = False, dtype: Any = None) -> "Tensor":
    """Zeros with the shape, device and dtype of t (another dtype if given)."""
    return zeros(t.shape, requires_grad=requires_grad, device=t.device, dtype=dtype or t.dtype)

def ones_like(t: "Tensor", requires_grad: bool = False, dtype: Any = None) -> "Tensor":
    """Ones with the shape, device and dtype of t (another dtype if given)."""
    return ones(t.shape, requires_grad=requires_grad, device=t.device, dtype=dtype or t.dtype)
