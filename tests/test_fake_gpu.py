"""The fake CuPy of tests/fake_cupy, checked against NumPy, and the GPU cases run on it.

The fake lets a machine without a GPU run every "cuda" test case (`pytest -m gpu --fake-gpu`).
It is only useful if it is as strict as real CuPy, so these tests pin down the strictness:
NumPy arrays do not mix with device arrays, nothing converts implicitly, host copies are
counted, and names CuPy lacks do not exist. Then ElementwiseKernel is checked to compute
what NumPy computes, and finally the whole GPU part of the suite runs on the fake.
"""
import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import backend

from .conftest import FAKE_CUPY_DIR, load_fake_cupy, unload_fake_cupy

pytestmark = [pytest.mark.lecture09]   # the GPU: the fake CuPy that runs the 'cuda' cases without one

REPO = Path(__file__).parent.parent
needs_gxx = pytest.mark.skipif(shutil.which("g++") is None, reason="ElementwiseKernel needs g++ on the CPU")


def _is_fake(module) -> bool:
    return str(getattr(module, "__file__", "")).startswith(str(FAKE_CUPY_DIR))


@pytest.fixture(scope="module")
def cp():
    """The fake cupy module; imported for this file only (and removed again) unless --fake-gpu
    already installed it for the whole session."""
    loaded = sys.modules.get("cupy")
    if loaded is not None:
        if not _is_fake(loaded):
            pytest.skip("a real CuPy is imported in this session")
        yield loaded
        return
    try:
        yield load_fake_cupy()
    finally:
        unload_fake_cupy()


@pytest.fixture
def cupyx(cp):
    return importlib.import_module("cupyx")


# ----------------------------------------------------------------------------- strictness

def test_a_device_array_is_not_a_numpy_array(cp):
    x = cp.arange(3, dtype=cp.float32)
    assert not isinstance(x, np.ndarray) and isinstance(x, cp.ndarray)


def test_implicit_conversion_to_numpy_raises_type_error(cp):
    with pytest.raises(TypeError, match="Implicit conversion to a NumPy array is not allowed"):
        np.asarray(cp.ones(3))


@pytest.mark.parametrize("combine", [
    lambda d, h: d + h,
    lambda d, h: h + d,
    lambda d, h: d * h,
    lambda d, h: d @ h,
    lambda d, h: np.add(d, h),
    lambda d, h: np.concatenate([d, h]),
], ids=["add", "radd", "mul", "matmul", "np.add", "np.concatenate"])
def test_mixing_a_numpy_array_into_device_code_raises_type_error(cp, combine):
    with pytest.raises(TypeError):
        combine(cp.ones(3), np.ones(3))


def test_a_cupy_function_refuses_a_numpy_array_argument(cp):
    with pytest.raises(TypeError):
        cp.maximum(cp.ones(3), np.zeros(3))
    with pytest.raises(TypeError):
        cp.where(cp.ones(3) > 0, np.ones(3), 0.0)


def test_a_0d_numpy_array_operand_is_refused_but_numpy_scalars_are_accepted(cp):
    x = cp.ones(3, dtype=cp.float32)
    with pytest.raises(TypeError):
        x * np.array(2.0)
    assert (x * np.float32(2)).dtype == np.float32
    assert (np.float32(2) * x).get().tolist() == [2.0, 2.0, 2.0]


def test_setitem_copies_a_numpy_value_to_the_device(cp):
    x = cp.zeros(3)
    x[:] = np.array([1.0, 2.0, 3.0])
    assert x.get().tolist() == [1.0, 2.0, 3.0]


def test_numpy_index_arrays_are_accepted(cp):
    x = cp.arange(5)
    assert x[np.array([0, 4])].get().tolist() == [0, 4]
    assert x[np.array([True, False, True, False, False])].get().tolist() == [0, 2]


def test_reductions_and_scalar_indexing_give_0d_device_arrays(cp):
    x = cp.arange(6, dtype=cp.float32).reshape(2, 3)
    for value in (x.sum(), x.max(), cp.mean(x), x[1, 2], cp.linalg.norm(x)):
        assert isinstance(value, cp.ndarray) and value.shape == ()


def test_numpy_functions_on_device_arrays_run_on_the_device(cp):
    x = cp.arange(3, dtype=cp.float64)
    assert isinstance(np.exp(x), cp.ndarray)
    assert isinstance(np.concatenate([x, x]), cp.ndarray)
    np.testing.assert_allclose(np.exp(x).get(), np.exp(np.arange(3.0)))


def test_in_place_operators_keep_the_array_and_views_share_memory(cp):
    x = cp.zeros((2, 3))
    view = x[0]
    alias = x
    x += 1
    assert alias is x
    view *= 5
    assert x.get().tolist() == [[5, 5, 5], [1, 1, 1]]


def test_host_copies_are_counted_as_synchronisations(cp):
    x = cp.arange(4, dtype=cp.float32)
    cp._fake_reset_sync_count()
    x.get()
    x.sum().item()
    float(x.max())
    int(x[0])
    bool(x[1] > 0)
    x.tolist()
    cp.asnumpy(x)
    assert cp._fake_sync_count == 7
    x + 1
    x.sum()
    assert cp._fake_sync_count == 7


def test_only_names_real_cupy_has_exist(cp):
    x = cp.ones(3)
    for missing in ("itemset", "resize", "newbyteorder", "__index__"):
        assert not hasattr(x, missing), missing
    assert not hasattr(cp, "errstate")
    assert hasattr(cp.add, "at")
    with pytest.raises(AttributeError):
        cp.this_is_not_a_cupy_function


@pytest.mark.parametrize("name", ["normal", "permutation", "choice", "shuffle"])
def test_the_generator_lacks_what_cupy_lacks(cp, name):
    with pytest.raises(AttributeError):
        getattr(cp.random.default_rng(0), name)


def test_the_generator_takes_a_dtype_like_cupy(cp):
    rng = cp.random.default_rng(0)
    assert rng.standard_normal((2, 3), dtype=cp.float32).dtype == np.float32
    assert rng.random((4,), dtype=cp.float32).dtype == np.float32
    assert rng.uniform(-1, 1, (2,), dtype=cp.float32).dtype == np.float32
    assert isinstance(rng.standard_normal(), cp.ndarray)


def test_get_array_module_and_asarray(cp):
    x = cp.asarray(np.ones(2))
    assert cp.get_array_module(x) is cp and cp.get_array_module(np.ones(2)) is np
    assert cp.asarray(x) is x


def test_scatter_add_adds_repeated_indices(cp, cupyx):
    target = cp.zeros(3)
    cupyx.scatter_add(target, cp.asarray([0, 0, 2]), 1.0)
    assert target.get().tolist() == [2.0, 0.0, 1.0]


def test_cupyx_special_erf_matches_scipy(cp, cupyx):
    special = importlib.import_module("cupyx.scipy.special")
    values = np.linspace(-3, 3, 7).astype(np.float32)
    from math import erf
    result = special.erf(cp.asarray(values))
    assert result.dtype == np.float32
    np.testing.assert_allclose(result.get(), [erf(v) for v in values], rtol=1e-6)


def test_cuda_runtime_reports_one_device(cp):
    assert cp.cuda.runtime.getDeviceCount() == 1
    assert isinstance(cp.cuda.runtime.getDeviceProperties(0)["name"], bytes)
    start, end = cp.cuda.Event(), cp.cuda.Event()
    start.record()
    end.record()
    end.synchronize()
    assert cp.cuda.get_elapsed_time(start, end) >= 0


# ----------------------------------------------------------------------------- ElementwiseKernel

@needs_gxx
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernel_with_a_placeholder_scalar_and_broadcasting_matches_numpy(cp, dtype):
    kernel = cp.ElementwiseKernel("T x, T y, T scale", "T z",
                                  "z = (x > T(0) ? x : y) * scale + exp(y)", "fake_test_axpy")
    x = np.random.default_rng(0).standard_normal((4, 5)).astype(dtype)
    y = np.linspace(-1, 1, 5).astype(dtype)
    z = kernel(cp.asarray(x), cp.asarray(y), 0.5)
    assert z.dtype == dtype and z.shape == (4, 5)
    expected = np.where(x > 0, x, y) * dtype(0.5) + np.exp(y)
    np.testing.assert_allclose(z.get(), expected, rtol=1e-6 if dtype == np.float32 else 1e-14)


@needs_gxx
def test_kernel_updates_outputs_in_place_even_when_not_contiguous(cp):
    kernel = cp.ElementwiseKernel("T g, T lr", "T p, T m", "m += g; p -= lr * m", "fake_test_update")
    g = cp.asarray(np.arange(6, dtype=np.float32).reshape(2, 3))
    p = cp.ones((2, 3), dtype=cp.float32)
    m = cp.zeros((3, 2), dtype=cp.float32).T            # a transposed, non-contiguous output
    result = kernel(g, 0.5, p, m)
    assert result[0] is p and result[1] is m
    np.testing.assert_allclose(m.get(), g.get())
    np.testing.assert_allclose(p.get(), 1 - 0.5 * g.get())


@needs_gxx
def test_kernel_with_concrete_types_and_several_outputs(cp):
    kernel = cp.ElementwiseKernel("T x, I k, int32 flag", "T y, T twice",
                                  "y = (i == k && flag) ? x : T(0); twice = 2 * x + _ind.size()",
                                  "fake_test_concrete")
    x = cp.asarray(np.arange(4, dtype=np.float64))
    y, twice = kernel(x, cp.asarray(np.array([2], dtype=np.int64)), 1)
    assert y.get().tolist() == [0, 0, 2, 0]
    assert twice.get().tolist() == [4, 6, 8, 10]


@needs_gxx
def test_kernel_checks_types_and_shapes_like_cupy(cp):
    kernel = cp.ElementwiseKernel("T x, T y", "T z", "z = x + y", "fake_test_add")
    with pytest.raises(TypeError, match="Type is mismatched"):
        kernel(cp.ones(2, dtype=cp.float32), cp.ones(2, dtype=cp.float64))
    with pytest.raises(ValueError, match="Out shape is mismatched"):
        kernel(cp.ones((2, 3)), cp.ones(3), cp.empty(3))
    with pytest.raises(TypeError):
        kernel(cp.ones(2), np.ones(2))


@needs_gxx
def test_a_kernel_that_does_not_compile_says_why(cp):
    kernel = cp.ElementwiseKernel("T x", "T y", "y = no_such_function(x)", "fake_test_broken")
    with pytest.raises(Exception, match="no_such_function"):
        kernel(cp.ones(2))


@needs_gxx
def test_an_input_cannot_be_assigned_in_a_kernel(cp):
    kernel = cp.ElementwiseKernel("T x", "T y", "x = 1; y = x", "fake_test_const_input")
    with pytest.raises(Exception, match="does not compile"):
        kernel(cp.ones(2))


@needs_gxx
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_raw_parameter_is_indexed_by_hand_like_numpy_fancy_indexing(cp, dtype):
    kernel = cp.ElementwiseKernel("raw T x, int64 k", "T y", "y = x[k] + x.size()", "fake_test_gather")
    x = np.arange(24, dtype=dtype).reshape(4, 6).T       # not contiguous: x[k] counts in C order
    k = np.array([[0, 23, 5], [7, 7, 12]])
    y = kernel(cp.asarray(x), cp.asarray(k))             # the loop shape is k's: x is not broadcast
    assert y.shape == (2, 3) and y.dtype == dtype
    np.testing.assert_array_equal(y.get(), x.reshape(-1)[k] + x.size)


@needs_gxx
def test_i_is_the_flat_index_over_the_loop_shape(cp):
    kernel = cp.ElementwiseKernel("raw T x", "T y", "y = x[i] * T(10) + i", "fake_test_flat_index")
    x = cp.asarray(np.arange(6, dtype=np.float64))
    y = cp.zeros((3, 2)).T                               # a non-contiguous output: i still counts in C order
    kernel(x, y)
    np.testing.assert_array_equal(y.get(), np.arange(6).reshape(2, 3) * 11)


@needs_gxx
def test_when_every_array_is_raw_size_decides_the_loop(cp):
    kernel = cp.ElementwiseKernel("raw T x", "raw T y", "y[i] = x[x.size() - 1 - i]", "fake_test_reverse")
    y = cp.zeros(5)
    kernel(cp.arange(5.0), y, size=5)
    assert y.get().tolist() == [4, 3, 2, 1, 0]
    with pytest.raises(ValueError, match="Loop size is undecided"):
        kernel(cp.arange(5.0), y)
    add = cp.ElementwiseKernel("T x", "T z", "z = x", "fake_test_copy")
    with pytest.raises(ValueError, match="only if all of the ndarray are 'raw'"):
        add(cp.ones(3), size=3)


@needs_gxx
def test_a_raw_index_out_of_range_raises_index_error(cp):
    kernel = cp.ElementwiseKernel("raw T x", "T y", "y = x[i + 1]", "fake_test_overrun")
    with pytest.raises(IndexError, match=r"raw parameter x with 3, outside \[0, 3\)"):
        kernel(cp.ones(3), cp.empty(3))


@needs_gxx
def test_a_raw_input_is_read_only_and_needs_an_array(cp):
    kernel = cp.ElementwiseKernel("raw T x", "T y", "x[i] = 1; y = 0", "fake_test_raw_write")
    with pytest.raises(Exception, match="does not compile"):
        kernel(cp.ones(2), cp.empty(2))
    gather = cp.ElementwiseKernel("raw T x, T y", "T z", "z = x[0] + y", "fake_test_raw_scalar")
    with pytest.raises(TypeError, match="raw parameter x"):
        gather(1.0, cp.ones(2))


# ----------------------------------------------------------------------------- the suite on the fake

@pytest.mark.slow
@pytest.mark.skipif(backend.cuda_available() and not os.environ.get("TINYGRAD_EDU_FAKE_GPU"),
                    reason="this machine has a GPU: run pytest -m gpu on it instead")
def test_the_gpu_cases_pass_on_the_fake_cupy():
    env = dict(os.environ)
    if shutil.which("nvcc"):
        env["FAKE_CUPY_NVCC"] = "1"             # also check each kernel compiles as CUDA C
    command = [sys.executable, "-m", "pytest", "-m", "gpu", "--fake-gpu", "-q", "-x",
               "-p", "no:cacheprovider", "tests/"]
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=1800)
    tail = "\n".join((result.stdout + result.stderr).splitlines()[-60:])
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{tail}"
