"""Shared fixtures: the `device` fixture runs a test on "cpu" always and on "cuda" when CuPy
sees a GPU (skipped cleanly otherwise); GPU cases carry the `gpu` marker (pytest -m gpu)."""
import numpy as np
import pytest

import tinygrad_edu
from tinygrad_edu import backend

DEVICES = [
    pytest.param("cpu"),
    pytest.param("cuda", marks=[pytest.mark.gpu,
                                pytest.mark.skipif(not backend.cuda_available(),
                                                   reason="needs CuPy and an NVIDIA GPU")]),
]


@pytest.fixture(params=DEVICES)
def device(request):
    return request.param


@pytest.fixture(autouse=True)
def _fresh_state():
    """Every test starts with grad mode on, the cpu default device and a fixed seed."""
    tinygrad_edu.manual_seed(0)
    np.random.seed(0)
    before = backend.get_default_device()
    yield
    backend.set_default_device(before)
    assert tinygrad_edu.is_grad_enabled(), "a test left grad mode off"
