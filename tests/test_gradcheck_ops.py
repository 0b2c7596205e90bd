"""Numerical gradient checks: for every differentiable row of the op table, backward() must
agree with central differences, tinygrad_edu.gradcheck in float64.

The rows come from tests/reference/op_table.py (the same table the PyTorch reference tests
read), so this file needs no list of ops of its own. Rows whose samples sit on a kink on
purpose (ties, x = 0) have gradcheck=False: there the derivative is a convention, which
the reference tests compare with torch instead.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinygrad_edu
from tinygrad_edu import Tensor

from .reference.op_table import OPS

pytestmark = [pytest.mark.lecture07]

CHECKED = [pytest.param(op, id=op.name, marks=op.marks()) for op in OPS if op.differentiable and op.gradcheck]


@pytest.mark.parametrize("op", CHECKED)
@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_backward_matches_central_differences(op, device, data):
    shapes = data.draw(op.shapes, label="shapes")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    arrays, params = op.sample(rng, shapes)
    inputs = [Tensor(a, dtype="float64", requires_grad=True, device=device) for a in arrays]
    assert tinygrad_edu.gradcheck(lambda *xs: op.ours(*xs, **params), *inputs)
