"""The fused GPU kernels (tinygrad_edu/kernels.py) against the plain array code beside them.

On "cuda" each row of the op table (tests/reference/op_table.py) whose Function has a fused
path runs twice, with fusion on and off, and the two must agree: values and gradients, float32
and float64, on drawn inputs and on the row's edge cases (negative, zero, huge, infinite, ties).
The fused run must ask for exactly the kernels the row names. The reference suite already
checks both paths against PyTorch; this pins down that the fused kernel computes what its
plain twin computes. The optimizers and dropout, which are not Functions, have their own
cases here. On "cpu" there are no kernels: `kernels.get` must say so.
"""
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinygrad_edu.nn.functional as F
from tinygrad_edu import Tensor, backend, kernels, optim
from tinygrad_edu.gradcheck import gradcheck

from .conftest import assert_close, kernel_requests, upstream_gradient
from .reference.op_table import OPS

pytestmark = [pytest.mark.lecture09]

# Kernels that no Function asks for: the optimizers' updates and dropout's mask (tested below).
OTHER_KERNELS = {"sgd", "sgd_momentum", "adam", "adam_amsgrad", "dropout_mask"}
FUSED_ROWS = [op for op in OPS if op.kernels]
DTYPES = pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])


@pytest.fixture
def fusion():
    """Restores the fusion switch after a test that flips it."""
    before = kernels.fused_enabled()
    yield kernels.set_fused
    kernels.set_fused(before)


def close(a, b, dtype, what=""):
    # float32: tanh or exp of the C library and of NumPy may differ by an ulp, and GELU-tanh's
    # 1 + tanh(t) near t = -5 turns one ulp into about 1e-6 absolute
    rtol, atol = (2e-6, 5e-6) if dtype == np.float32 else (1e-13, 1e-13)
    assert_close(a, b, what, rtol=rtol, atol=atol)


# ----------------------------------------------------------------------------- every fused Function

def run_row(op, arrays, params, device, dtype):
    """Forward and backward of one row; returns the output and every input's gradient."""
    inputs = [Tensor(a.astype(dtype), device=device, requires_grad=True) for a in arrays]
    out = op.ours(*inputs, **params)
    out.backward(Tensor(upstream_gradient(out.shape, out.dtype), device=out.device))
    return [out.detach().numpy()] + [x.grad.numpy() for x in inputs]


def check_fused_equals_plain(op, arrays, params, device, dtype, fusion):
    fusion(True)
    with kernel_requests() as asked:
        fused = run_row(op, arrays, params, device, dtype)
    assert set(asked) == set(op.kernels), f"{op.name}: the fused run asked for {sorted(set(asked))}"
    fusion(False)
    plain = run_row(op, arrays, params, device, dtype)
    for what, a, b in zip(["output"] + [f"gradient of input {i}" for i in range(len(arrays))], fused, plain):
        assert a.dtype == b.dtype == dtype, f"{op.name}: {what} is {a.dtype} fused, {b.dtype} plain"
        close(a, b, dtype, f"{op.name} with {params}: {what}")


@DTYPES
@pytest.mark.parametrize("op", [pytest.param(op, id=op.name, marks=op.marks()) for op in FUSED_ROWS])
@settings(max_examples=5, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_fused_kernels_equal_the_plain_code(op, dtype, cuda, fusion, data):
    shapes = data.draw(op.shapes, label="shapes")
    arrays, params = op.sample(np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed")), shapes)
    check_fused_equals_plain(op, arrays, params, cuda, dtype, fusion)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@DTYPES
@pytest.mark.parametrize("op, case", [pytest.param(op, case, id=f"{op.name}-edge{k}", marks=op.marks())
                                      for op in FUSED_ROWS for k, case in enumerate(op.edges)])
def test_fused_kernels_equal_the_plain_code_at_the_edges(op, case, dtype, cuda, fusion):
    check_fused_equals_plain(op, [np.array(a) for a in case.arrays], dict(case.params), cuda, dtype, fusion)


def test_every_kernel_belongs_to_a_row_of_the_op_table_or_to_an_optimizer_or_dropout():
    named = {name for op in OPS for name in op.kernels} | OTHER_KERNELS
    assert not set(kernels.SPECS) - named, (
        f"kernels no test runs: {sorted(set(kernels.SPECS) - named)}; name them in the op table row "
        f"of their Function (kernels=...)")
    assert not named - set(kernels.SPECS), f"named but not defined: {sorted(named - set(kernels.SPECS))}"


OPTIMIZERS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, weight_decay=0.05)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.2, weight_decay=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.05)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.3, 0.9))),              # the other lerp formula
    ("Adam", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
]


def run_optimizer(name, options, device, dtype, steps=5):
    rng = np.random.default_rng(3)
    w = Tensor(rng.normal(size=(6, 5)).astype(dtype), device=device, requires_grad=True)
    opt = getattr(optim, name)([w], **options)
    for step in range(steps):
        w.grad = Tensor((rng.normal(size=(6, 5)) * (step + 1)).astype(dtype), device=device)
        opt.step()
    return w.detach().numpy(), [backend_copy(v) for v in opt.state[w].values()]


def backend_copy(value):
    return value.get() if hasattr(value, "get") else np.asarray(value)


@DTYPES
@pytest.mark.parametrize("name, options", OPTIMIZERS, ids=[f"{n}{o}" for n, o in OPTIMIZERS])
def test_fused_optimizer_step_equals_the_plain_path(name, options, dtype, cuda, fusion):
    fusion(True)
    w_fused, state_fused = run_optimizer(name, options, cuda, dtype)
    fusion(False)
    w_plain, state_plain = run_optimizer(name, options, cuda, dtype)
    close(w_fused, w_plain, dtype)
    assert len(state_fused) == len(state_plain)
    for a, b in zip(state_fused, state_plain):
        close(a, b, dtype)


def test_there_are_no_kernels_for_cpu_arrays():
    for name in kernels.SPECS:
        assert kernels.get(name, np.zeros(3, dtype=np.float32)) is None


def test_every_kernel_declares_inputs_outputs_and_a_body():
    for name, (inputs, outputs, body) in kernels.SPECS.items():
        declared = [p.split()[-1] for p in (inputs + "," + outputs).split(",")]
        assert len(declared) == len(set(declared)), f"{name}: a parameter is declared twice"
        for parameter in declared:
            assert parameter in body, f"{name}: parameter {parameter!r} is never used"
        for output in outputs.split(","):
            assert f"{output.split()[-1]} " in body, f"{name}: output {output!r} is never assigned"


def test_the_environment_variable_turns_fusion_off():
    program = "from tinygrad_edu import kernels; print(kernels.fused_enabled())"
    for value, expected in [("0", "False"), ("off", "False"), ("1", "True")]:
        out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True,
                             env={**os.environ, "TINYGRAD_EDU_FUSED": value}).stdout.strip()
        assert out == expected, (value, out)


# ----------------------------------------------------------------------------- convolution and pooling

@pytest.mark.parametrize("forward_fused", [True, False], ids=["fused-forward", "plain-forward"])
def test_conv_and_pool_backward_accept_either_forward(forward_fused, cuda, fusion):
    """The saved context is the same on both paths: switching fusion between forward and backward works."""
    def run(switch_before_backward):
        rng = np.random.default_rng(6)
        fusion(forward_fused)
        x = Tensor(rng.normal(size=(2, 2, 7, 7)), device=cuda, requires_grad=True)
        w = Tensor(rng.normal(size=(3, 2, 3, 3)), device=cuda, requires_grad=True)
        y = F.max_pool2d(F.conv2d(x, w, padding=1, stride=(1, 2)), 3, stride=2, padding=1)
        if switch_before_backward:
            fusion(not forward_fused)
        (y * Tensor(rng.normal(size=y.shape), device=cuda)).sum().backward()
        return y.detach().numpy(), x.grad.numpy(), w.grad.numpy()

    for a, b in zip(run(True), run(False)):
        close(a, b, np.float64)


def test_fused_conv_and_pool_pass_gradcheck(cuda, fusion):
    fusion(True)
    rng = np.random.default_rng(7)
    x = Tensor(rng.normal(size=(1, 2, 6, 5)), device=cuda, requires_grad=True)
    w = Tensor(rng.normal(size=(2, 2, 3, 2)), device=cuda, requires_grad=True)
    assert gradcheck(lambda x, w: F.max_pool2d(F.conv2d(x, w, padding=1, dilation=(1, 2)), 3, 2, 1), x, w)


def launches_of_a_step(cupy, op, k):
    """Kernel launches (counted by the fake CuPy) of op's forward and of its backward."""
    rng = np.random.default_rng(8)
    x = Tensor(rng.normal(size=(2, 3, 12, 12)).astype(np.float32), device="cuda", requires_grad=True)
    w = Tensor(rng.normal(size=(4, 3, k, k)).astype(np.float32), device="cuda", requires_grad=True)
    cupy._fake_reset_sync_count()
    y = F.conv2d(x, w, padding=k // 2) if op == "conv2d" else F.max_pool2d(x, k, stride=1, padding=k // 2)
    forward = cupy._fake_launch_count
    upstream = Tensor(np.ones(y.shape, dtype=np.float32), device="cuda")
    cupy._fake_reset_sync_count()
    y.backward(upstream)
    return forward, cupy._fake_launch_count


@pytest.mark.gpu
@pytest.mark.parametrize("op", ["conv2d", "max_pool2d"])
def test_fused_conv_and_pool_launch_as_many_kernels_for_any_kernel_size(op, fusion):
    cupy = backend.module_for("cuda") if backend.cuda_available() else None
    if cupy is None or not hasattr(cupy, "_fake_launch_count"):
        pytest.skip("only the fake CuPy counts launches; run with --fake-gpu")
    fusion(True)
    assert launches_of_a_step(cupy, op, 2) == launches_of_a_step(cupy, op, 5)
    fusion(False)                                   # the plain path loops over the kernel offsets
    assert sum(launches_of_a_step(cupy, op, 2)) < sum(launches_of_a_step(cupy, op, 5))


@DTYPES
def test_dropout_keeps_each_element_with_probability_one_minus_p_on_both_paths(dtype, device, fusion):
    """The fused mask draws its random numbers differently (in the tensor's dtype), so the two
    paths are compared by what dropout promises, not element by element."""
    p, n = 0.3, 40_000
    for enabled in (True, False):
        fusion(enabled)
        x = Tensor(np.full(n, 2.0, dtype=dtype), device=device, requires_grad=True)
        y = F.dropout(x, p)
        y.sum().backward()
        values, grad = y.detach().numpy(), x.grad.numpy()
        assert values.dtype == dtype
        assert set(np.unique(values)) <= {0.0, dtype(2.0) / dtype(1 - p)}
        np.testing.assert_array_equal(grad, values / 2)          # the gradient is the mask
        dropped = np.mean(values == 0)
        assert abs(dropped - p) < 4 * np.sqrt(p * (1 - p) / n), (enabled, dropped)
