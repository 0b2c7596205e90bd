"""What every test module shares: the devices, the random inputs, the tolerances, torch.

Fixtures
  device      runs a test on "cpu" always and on "cuda" when CuPy sees a GPU (skipped cleanly
              otherwise); the "cuda" cases carry the `gpu` marker (pytest -m gpu)
  cuda        the "cuda" case alone, for tests that only mean something on the GPU (fused kernels)
  rng         a NumPy Generator seeded with 0, fresh in every test
  torch       the torch module, or the test is skipped when torch is not installed
  fake_cupy   the fake CuPy, which counts host copies and launches (skipped without --fake-gpu)

Helpers (import them: `from .conftest import assert_close`, `from ..conftest import ...` in
tests/reference/):
  TOLERANCES            rtol / atol for comparing two float32 or two float64 computations
  assert_close          values, shape and (for integers and bools) exact equality, NaN and inf included
  upstream_gradient     a random gradient for an output (a plain sum would hide softmax's gradient)
  kernel_requests       records the fused-kernel names the code asks tinygrad_edu.kernels for
  load_fake_cupy        imports tests/fake_cupy under the names cupy and cupyx

`pytest --fake-gpu` (or TINYGRAD_EDU_FAKE_GPU=1) runs the "cuda" cases on a machine without a
GPU, against tests/fake_cupy: a strict stand-in for CuPy on NumPy that refuses NumPy arrays
mixed into device code, implicit conversions and APIs real CuPy does not have.

Markers: every module carries `pytestmark` with the course topics it tests (lecture01 ...
lecture10, see pyproject.toml), so `pytest -m lecture06` runs one lecture's tests.
"""
from __future__ import annotations

import contextlib
import importlib.util
import os
import pathlib
import subprocess
import sys
import warnings
from typing import Any

import numpy as np
import pytest

import tinygrad_edu
from tinygrad_edu import backend, kernels

FAKE_CUPY_DIR = pathlib.Path(__file__).parent / "fake_cupy"
_GPU_SKIP_REASON = "needs CuPy and an NVIDIA GPU"

DEVICES = [
    pytest.param("cpu"),
    pytest.param("cuda", marks=[pytest.mark.gpu]),   # skipped in pytest_collection_modifyitems
]
GPU_ONLY = [pytest.param("cuda", marks=[pytest.mark.gpu])]

# Two computations of the same thing in the same dtype differ by rounding only.
TOLERANCES = {
    "float32": dict(rtol=1e-5, atol=1e-6),
    "float64": dict(rtol=1e-10, atol=1e-12),
}


# ============================================================================ helpers

def _as_numpy(value: Any) -> np.ndarray:
    """A NumPy array from a Tensor, a torch tensor, a NumPy or CuPy array, or a number."""
    if hasattr(value, "detach"):                  # Tensor or torch.Tensor
        value = value.detach()
    if hasattr(value, "numpy"):
        return np.asarray(value.numpy())
    return np.asarray(value.get() if hasattr(value, "get") else value)


def assert_close(ours: Any, theirs: Any, what: str = "", rtol: float | None = None,
                 atol: float | None = None) -> None:
    """`ours` equals `theirs` in shape and values: integers and bools exactly, floats within
    rtol / atol (TOLERANCES of ours' dtype when not given); NaN matches NaN, inf matches an
    inf of the same sign."""
    ours, theirs = _as_numpy(ours), _as_numpy(theirs)
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape}, expected {theirs.shape}"
    if ours.dtype.kind in "biu":
        np.testing.assert_array_equal(ours, theirs, err_msg=what)
        return
    tol = TOLERANCES.get(ours.dtype.name, TOLERANCES["float32"])
    np.testing.assert_allclose(ours, theirs, rtol=tol["rtol"] if rtol is None else rtol,
                               atol=tol["atol"] if atol is None else atol, equal_nan=True, err_msg=what)


def upstream_gradient(shape: tuple, dtype: Any = np.float32, seed: int = 1) -> np.ndarray:
    """A random gradient for an output of `shape`: standard normal, so that every output element
    counts with its own weight (a plain sum would hide errors such as softmax's)."""
    return np.asarray(np.random.default_rng(seed).standard_normal(tuple(shape))).astype(dtype)


@contextlib.contextmanager
def kernel_requests():
    """The names passed to tinygrad_edu.kernels.get while the block runs (a list, in order)."""
    asked, original = [], kernels.get

    def recording(name, array):
        asked.append(name)
        return original(name, array)

    kernels.get = recording
    try:
        yield asked
    finally:
        kernels.get = original


def load_fake_cupy() -> Any:
    """Import tests/fake_cupy's packages as `cupy` and `cupyx` (without touching sys.path).

    `import cupy` anywhere in this process then finds the fake in sys.modules.
    """
    for name in ("cupy", "cupyx"):
        package = FAKE_CUPY_DIR / name
        spec = importlib.util.spec_from_file_location(name, package / "__init__.py",
                                                      submodule_search_locations=[str(package)])
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules["cupy"]


def unload_fake_cupy() -> None:
    """Forget the fake cupy and cupyx modules again (the inverse of load_fake_cupy)."""
    for name in [n for n in sys.modules if n.split(".")[0] in ("cupy", "cupyx")]:
        del sys.modules[name]


# ============================================================================ pytest hooks

def pytest_addoption(parser):
    parser.addoption("--fake-gpu", action="store_true", default=False,
                     help="run the 'cuda' test cases on tests/fake_cupy (a strict stand-in for "
                          "CuPy on NumPy) when there is no GPU; same as TINYGRAD_EDU_FAKE_GPU=1")


def _fake_gpu_requested(config) -> bool:
    return bool(config.getoption("--fake-gpu")) or os.environ.get("TINYGRAD_EDU_FAKE_GPU", "") == "1"


def _real_cupy_has_a_gpu() -> bool:
    """Asked in a child process, so that a real CuPy never lands in this one's sys.modules."""
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
    load_fake_cupy()
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


# The lecture notebooks and the course topics each one carries: test_notebooks.py's cases of a
# notebook get its markers (its cases about all notebooks get them all).
NOTEBOOK_LECTURES = {
    "01": ("lecture01", "lecture06"),       # autograd and graphs
    "02": ("lecture01",),                   # linear and logistic regression
    "03": ("lecture02", "lecture03"),       # perceptron, XOR, universal approximation
    "04": ("lecture04", "lecture08"),       # activations and initialisation
    "05": ("lecture03", "lecture06"),       # an MLP from scratch against autograd
    "06": ("lecture05",),                   # softmax classification of the digits
    "07": ("lecture08",),                   # optimizers
    "08": ("lecture09",),                   # a CNN on the digits, with nn
    "09": ("lecture09",),                   # the GPU with CuPy
    "10": ("lecture_vision",),              # deep CNNs: BatchNorm2d, residual blocks
    "11": ("lecture_vision",),              # segmentation: a U-Net
    "12": ("lecture_vision",),              # detection: a grid detector, IoU, NMS
    "13": ("lecture_interpretation",),      # saliency, Grad-CAM, occlusion, FGSM
    "14": ("lecture_rnn",),                 # RNN, LSTM, GRU, backpropagation through time
    "15": ("lecture_nlp",),                 # embeddings, attention, a small GPT
    "16": ("lecture_generative",),          # GANs
    "17": ("lecture_generative",),          # VAEs
    "18": ("lecture_generative",),          # diffusion
    "19": ("lecture_rl",),                  # REINFORCE and DQN on CartPole
    "20": ("lecture_graphs",),              # a GCN on the karate club
}


def _lecture_markers(item) -> list:
    return [m for m in item.iter_markers() if m.name.startswith("lecture")]


def _mark_notebook_case(item) -> None:
    callspec = getattr(item, "callspec", None)
    path = callspec.params.get("path") if callspec is not None else None
    if path is None:
        lectures = sorted({name for names in NOTEBOOK_LECTURES.values() for name in names})
    else:
        lectures = NOTEBOOK_LECTURES.get(pathlib.Path(str(path)).name[:2], ())
    for name in lectures:
        item.add_marker(getattr(pytest.mark, name))


@pytest.hookimpl(tryfirst=True)           # before -m selects by the markers added here
def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name == "test_notebooks.py":
            _mark_notebook_case(item)
    untagged = sorted({item.path.name for item in items if not _lecture_markers(item)})
    if untagged:
        warnings.warn(pytest.PytestWarning(
            f"test modules without a lecture marker: {', '.join(untagged)}; add "
            f"pytestmark = [pytest.mark.lectureNN] (the topics are listed in pyproject.toml)"))
    if backend.cuda_available():
        return
    skip = pytest.mark.skip(reason=_GPU_SKIP_REASON)
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "cuda" in (callspec.params.get("device"), callspec.params.get("cuda")):
            item.add_marker(skip)


# ============================================================================ fixtures

@pytest.fixture(params=DEVICES)
def device(request):
    return request.param


@pytest.fixture(params=GPU_ONLY)
def cuda(request):
    return request.param


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def torch():
    return pytest.importorskip("torch", reason="the comparison with PyTorch needs torch (pip install -e '.[test]')")


@pytest.fixture(scope="session", autouse=True)
def _torch_on_one_thread():
    """The tests' tensors are tiny: torch's thread pool costs more than it saves (7x on 2 cores)."""
    torch = sys.modules.get("torch")             # imported by the modules that compare with it
    if torch is None:
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(autouse=True)
def _fresh_state():
    """Every test starts with grad mode on, the cpu default device and a fixed seed."""
    tinygrad_edu.manual_seed(0)
    np.random.seed(0)
    before = backend.get_default_device()
    yield
    backend.set_default_device(before)
    assert tinygrad_edu.is_grad_enabled(), "a test left grad mode off"


@pytest.fixture
def fake_cupy():
    """The fake CuPy module, which counts host copies and kernel launches; skips on a real GPU
    (which does not count them) or without --fake-gpu."""
    from tinygrad_edu import backend
    if not backend.cuda_available():
        pytest.skip("needs CuPy and an NVIDIA GPU (or pytest --fake-gpu)")
    cupy = backend.module_for("cuda")
    if not hasattr(cupy, "_fake_reset_sync_count"):
        pytest.skip("real CuPy does not count synchronisations; run with --fake-gpu")
    return cupy
