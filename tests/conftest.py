"""Shared fixtures: the `device` fixture runs a test on "cpu" always and on "cuda" when CuPy
sees a GPU (skipped cleanly otherwise); GPU cases carry the `gpu` marker (pytest -m gpu).

`pytest --fake-gpu` (or TINYGRAD_EDU_FAKE_GPU=1) runs the "cuda" cases on a machine without a
GPU, against tests/fake_cupy: a strict stand-in for CuPy on NumPy that refuses NumPy arrays
mixed into device code, implicit conversions and APIs real CuPy does not have.
"""
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import tinygrad_edu
from tinygrad_edu import backend

FAKE_CUPY_DIR = pathlib.Path(__file__).parent / "fake_cupy"
_GPU_SKIP_REASON = "needs CuPy and an NVIDIA GPU"

DEVICES = [
    pytest.param("cpu"),
    pytest.param("cuda", marks=[pytest.mark.gpu]),   # skipped in pytest_collection_modifyitems
]


def pytest_addoption(parser):
    parser.addoption("--fake-gpu", action="store_true", default=False,
                     help="run the 'cuda' test cases on tests/fake_cupy (a strict stand-in for "
                          "CuPy on NumPy) when there is no GPU; same as TINYGRAD_EDU_FAKE_GPU=1")


def _fake_gpu_requested(config) -> bool:
    return bool(config.getoption("--fake-gpu")) or os.environ.get("TINYGRAD_EDU_FAKE_GPU", "") == "1"


def _real_cupy_has_a_gpu() -> bool:
    """Asked in a child process, so that a real CuPy never lands in this one's sys.modules."""
    import importlib.util
    if importlib.util.find_spec("cupy") is None:
        return False
    check = "import cupy, sys; sys.exit(0 if cupy.cuda.runtime.getDeviceCount() > 0 else 1)"
    return subprocess.run([sys.executable, "-c", check], capture_output=True).returncode == 0


def pytest_configure(config):
    config._fake_gpu = False
    if not _fake_gpu_requested(config):
        return
    if _real_cupy_has_a_gpu():
        pytest.exit("--fake-gpu: CuPy sees a real GPU here; run the 'cuda' cases on it instead "
                    "(drop --fake-gpu / TINYGRAD_EDU_FAKE_GPU)", returncode=4)
    if "cupy" in sys.modules and not getattr(sys.modules["cupy"], "__file__", "").startswith(str(FAKE_CUPY_DIR)):
        pytest.exit("--fake-gpu: a real cupy module was imported before the fake could be installed",
                    returncode=4)
    sys.path.insert(0, str(FAKE_CUPY_DIR))
    os.environ["TINYGRAD_EDU_FAKE_GPU"] = "1"    # child processes (subprocess tests) use it too
    config._fake_gpu = True
    try:
        backend.module_for("cuda")
    except RuntimeError as exc:
        pytest.exit(f"--fake-gpu: tests/fake_cupy did not load: {exc}", returncode=4)


def pytest_report_header(config):
    if getattr(config, "_fake_gpu", False):
        return ["cuda = fake CuPy on NumPy (tests/fake_cupy), not a GPU"]
    return []


def pytest_collection_modifyitems(config, items):
    if backend.cuda_available():
        return
    skip = pytest.mark.skip(reason=_GPU_SKIP_REASON)
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("device") == "cuda":
            item.add_marker(skip)


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
