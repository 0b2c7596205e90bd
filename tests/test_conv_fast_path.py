"""The CPU fast path of Conv2d (functions/conv.py, last section) against the plain im2col code.

A stride-1 Conv2d on the CPU runs a slice of the batch at a time, in flattened padded images;
the plain code (_im2col, _col2im) stays the definition. These tests run the same convolution
both ways, in float64, over the geometries the fast path has to get right: padding smaller,
equal to and larger than the kernel's reach, dilation, groups, non-square kernels, 1x1
kernels, and batches split into several slices (a tiny _SLICE_BYTES).
"""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu.nn.functional as F
from tinygrad_edu import Tensor, gradcheck
from tinygrad_edu.functions import conv

from .conftest import TOLERANCES, assert_close, upstream_gradient

pytestmark = [pytest.mark.lecture09, pytest.mark.lecture_vision]

# (N, C, H, W), weight (O, C/groups, kh, kw), padding, dilation, groups
GEOMETRIES = {
    "3x3 same": ((3, 2, 7, 9), (4, 2, 3, 3), (1, 1), (1, 1), 1),
    "no padding": ((2, 3, 6, 5), (2, 3, 3, 3), (0, 0), (1, 1), 1),
    "padding past the kernel's reach": ((2, 2, 4, 5), (3, 2, 3, 2), (3, 2), (1, 1), 1),
    "1x1 with padding": ((2, 3, 4, 4), (2, 3, 1, 1), (1, 2), (1, 1), 1),
    "dilation": ((2, 2, 9, 8), (3, 2, 3, 2), (2, 1), (2, 3), 1),
    "groups": ((2, 6, 5, 6), (9, 2, 3, 3), (1, 0), (1, 1), 3),
    "depthwise": ((3, 4, 5, 5), (4, 1, 3, 3), (1, 1), (1, 1), 4),
    "one pixel": ((4, 1, 1, 1), (2, 1, 1, 1), (0, 0), (1, 1), 1),
    "wide kernel": ((2, 2, 3, 8), (2, 2, 1, 5), (0, 2), (1, 1), 1),
}


def _conv(x, w, b, padding, dilation, groups, g):
    """Forward and the gradients of x, w, b for upstream gradient g, through F.conv2d."""
    x, w, b = (Tensor(a, requires_grad=True) for a in (x, w, b))
    y = F.conv2d(x, w, b, padding=padding, dilation=dilation, groups=groups)
    y.backward(g)
    return y.detach().numpy(), x.grad.numpy(), w.grad.numpy(), b.grad.numpy()


@pytest.mark.parametrize("slice_bytes", [1, 1 << 20], ids=["a slice per image", "one slice"])
@pytest.mark.parametrize("name", list(GEOMETRIES))
def test_the_fast_path_computes_what_the_plain_code_does(name, slice_bytes, monkeypatch, rng):
    x_shape, w_shape, padding, dilation, groups = GEOMETRIES[name]
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[0])
    out = tuple(conv._out_size(n, k, 1, p, d) for n, k, p, d in zip(x_shape[2:], w_shape[2:], padding, dilation))
    g = upstream_gradient((x_shape[0], w_shape[0]) + out, np.float64)
    monkeypatch.setattr(conv, "_SLICE_BYTES", slice_bytes)
    fast = _conv(x, w, b, padding, dilation, groups, g)
    monkeypatch.setattr(conv, "_by_slices", lambda x, stride: False)
    plain = _conv(x, w, b, padding, dilation, groups, g)
    for ours, reference in zip(fast, plain):
        assert_close(ours, reference, **TOLERANCES["float64"])


def test_a_stride_1_conv2d_on_the_cpu_takes_the_fast_path_and_stride_2_the_plain_code(rng):
    x = Tensor(rng.standard_normal((2, 3, 8, 8)).astype(np.float32))
    w = Tensor(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), requires_grad=True)
    assert F.conv2d(x, w, padding=1).grad_fn.by_slices
    assert not F.conv2d(x, w, padding=1, stride=2).grad_fn.by_slices


def test_the_fast_path_keeps_float32(rng):
    x = Tensor(rng.standard_normal((2, 3, 6, 6)).astype(np.float32), requires_grad=True)
    w = Tensor(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), requires_grad=True)
    y = F.conv2d(x, w, padding=1)
    y.sum().backward()
    assert y.dtype == x.grad.dtype == w.grad.dtype == np.float32


def test_only_the_gradients_asked_for_are_computed(rng):
    x = Tensor(rng.standard_normal((2, 2, 5, 5)))                       # an input image: no gradient
    w = Tensor(rng.standard_normal((3, 2, 3, 3)), requires_grad=True)
    F.conv2d(x, w, padding=1).sum().backward()
    assert x.grad is None and w.grad is not None


def test_the_fast_path_passes_gradcheck_across_slices(monkeypatch, rng):
    monkeypatch.setattr(conv, "_SLICE_BYTES", 1)                        # one image per slice
    x = Tensor(rng.standard_normal((3, 2, 5, 4)), requires_grad=True)
    w = Tensor(rng.standard_normal((4, 1, 2, 3)), requires_grad=True)
    b = Tensor(rng.standard_normal(4), requires_grad=True)
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, padding=(1, 2), dilation=(2, 1), groups=2), x, w, b)
