"""The fused GPU kernels (tinygrad_edu/kernels.py) against the plain array code beside them.

On "cuda" each op runs twice, with fusion on and off, and the two must agree: values and
gradients, float32 and float64, with inputs that reach every branch (negative, zero, large).
The reference suite already checks both against PyTorch; this pins down that the fused kernel
computes what its plain twin computes. On "cpu" there are no kernels: `kernels.get` must say so.
"""
import os
import subprocess
import sys

import numpy as np
import pytest

import tinygrad_edu.nn.functional as F
from tinygrad_edu import Tensor, backend, kernels, optim
from tinygrad_edu.gradcheck import gradcheck

EDGES = np.array([-1e4, -30.0, -5.0, -1.0, -1e-3, 0.0, 1e-3, 0.5, 1.0, 5.0, 30.0, 1e4])

ACTIVATIONS = {
    "sigmoid": lambda x: x.sigmoid(),
    "tanh": lambda x: x.tanh(),
    "relu": lambda x: x.relu(),
    "leaky_relu": lambda x: F.leaky_relu(x, 0.1),
    "elu": lambda x: F.elu(x, 0.7),
    "gelu": lambda x: F.gelu(x),
    "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "softplus": lambda x: F.softplus(x),
    "softplus_beta": lambda x: F.softplus(x, beta=2.0, threshold=5.0),
}


@pytest.fixture
def fusion():
    """Restores the fusion switch after a test that flips it."""
    before = kernels.fused_enabled()
    yield kernels.set_fused
    kernels.set_fused(before)


def run_activation(fn, values, device, dtype):
    x = Tensor(values.astype(dtype), device=device, requires_grad=True)
    y = fn(x)
    upstream = Tensor(np.linspace(-2, 2, int(np.prod(y.shape))).reshape(y.shape).astype(dtype), device=device)
    (y * upstream).sum().backward()
    return y.detach().numpy(), x.grad.numpy()


def close(a, b, dtype):
    # float32: tanh or exp of the C library and of NumPy may differ by an ulp, and GELU-tanh's
    # 1 + tanh(t) near t = -5 turns one ulp into about 1e-6 absolute
    rtol, atol = (2e-6, 5e-6) if dtype == np.float32 else (1e-13, 1e-13)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_fused_activation_equals_the_plain_path(name, dtype, device, fusion):
    rng = np.random.default_rng(1)
    values = np.concatenate([EDGES, rng.normal(0, 3, 52)]).reshape(8, 8)
    fusion(True)
    fused = run_activation(ACTIVATIONS[name], values, device, dtype)
    fusion(False)
    plain = run_activation(ACTIVATIONS[name], values, device, dtype)
    for a, b in zip(fused, plain):
        assert a.dtype == dtype
        close(a, b, dtype)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_fused_cross_entropy_backward_equals_the_plain_path(reduction, device, fusion):
    rng = np.random.default_rng(2)
    logits = rng.normal(0, 4, (16, 7)).astype(np.float32)
    labels = rng.integers(0, 7, 16)
    results = []
    for enabled in (True, False):
        fusion(enabled)
        z = Tensor(logits, device=device, requires_grad=True)
        loss = F.cross_entropy(z, Tensor(labels, device=device), reduction=reduction)
        (loss * 3.0).sum().backward()
        results.append((loss.detach().numpy(), z.grad.numpy()))
    for a, b in zip(*results):
        close(a, b, np.float32)


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


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name, options", OPTIMIZERS, ids=[f"{n}{o}" for n, o in OPTIMIZERS])
def test_fused_optimizer_step_equals_the_plain_path(name, options, dtype, device, fusion):
    fusion(True)
    w_fused, state_fused = run_optimizer(name, options, device, dtype)
    fusion(False)
    w_plain, state_plain = run_optimizer(name, options, device, dtype)
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

CONV_CASES = [                      # kernel_size, stride, padding, dilation
    (3, 1, 1, 1),
    (3, 2, 0, 1),
    (3, 1, 2, 2),
    (2, 2, 1, 1),
    ((3, 2), (2, 1), (1, 0), (1, 2)),
    (3, 2, 2, 2),
]


def run_conv(case, device, dtype):
    kernel_size, stride, padding, dilation = case
    kh, kw = kernel_size if isinstance(kernel_size, tuple) else (kernel_size, kernel_size)
    rng = np.random.default_rng(4)
    x, w, b = (Tensor(rng.normal(size=shape).astype(dtype), device=device, requires_grad=True)
               for shape in [(2, 3, 9, 7), (4, 3, kh, kw), (4,)])
    y = F.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation)
    upstream = Tensor(rng.normal(size=y.shape).astype(dtype), device=device)
    (y * upstream).sum().backward()
    return y.detach().numpy(), x.grad.numpy(), w.grad.numpy(), b.grad.numpy()


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("case", CONV_CASES, ids=[f"k{k}-s{s}-p{p}-d{d}" for k, s, p, d in CONV_CASES])
def test_fused_conv2d_equals_the_plain_path(case, dtype, device, fusion):
    fusion(True)
    fused = run_conv(case, device, dtype)
    fusion(False)
    plain = run_conv(case, device, dtype)
    for a, b in zip(fused, plain):
        assert a.dtype == dtype
        close(a, b, dtype)


POOL_CASES = [                      # kernel_size, stride, padding, dilation
    (2, 2, 0, 1),
    (3, 1, 1, 1),                   # overlapping windows: an input can win in several of them
    (3, 2, 1, 1),
    (2, 1, 0, 2),
    (3, 3, 1, 1),
    ((3, 2), (1, 2), (1, 0), (2, 1)),
]
POOL_INPUTS = {
    "distinct": lambda rng, shape: rng.normal(size=shape),
    "ties": lambda rng, shape: rng.integers(-2, 1, size=shape).astype(np.float64),   # many equal maxima, all <= 0
}


def run_pool(case, values, device, dtype):
    kernel_size, stride, padding, dilation = case
    rng = np.random.default_rng(5)
    x = Tensor(POOL_INPUTS[values](rng, (2, 3, 9, 8)).astype(dtype), device=device, requires_grad=True)
    y = F.max_pool2d(x, kernel_size, stride=stride, padding=padding, dilation=dilation)
    upstream = Tensor(rng.normal(size=y.shape).astype(dtype), device=device)
    (y * upstream).sum().backward()
    return y.detach().numpy(), x.grad.numpy()


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("values", sorted(POOL_INPUTS))
@pytest.mark.parametrize("case", POOL_CASES, ids=[f"k{k}-s{s}-p{p}-d{d}" for k, s, p, d in POOL_CASES])
def test_fused_max_pool2d_equals_the_plain_path(case, values, dtype, device, fusion):
    fusion(True)
    fused = run_pool(case, values, device, dtype)
    fusion(False)
    plain = run_pool(case, values, device, dtype)
    for a, b in zip(fused, plain):
        assert a.dtype == dtype
        close(a, b, dtype)


@pytest.mark.parametrize("forward_fused", [True, False], ids=["fused-forward", "plain-forward"])
def test_conv_and_pool_backward_accept_either_forward(forward_fused, device, fusion):
    """The saved context is the same on both paths: switching fusion between forward and backward works."""
    def run(switch_before_backward):
        rng = np.random.default_rng(6)
        fusion(forward_fused)
        x = Tensor(rng.normal(size=(2, 2, 7, 7)), device=device, requires_grad=True)
        w = Tensor(rng.normal(size=(3, 2, 3, 3)), device=device, requires_grad=True)
        y = F.max_pool2d(F.conv2d(x, w, padding=1, stride=(1, 2)), 3, stride=2, padding=1)
        if switch_before_backward:
            fusion(not forward_fused)
        (y * Tensor(rng.normal(size=y.shape), device=device)).sum().backward()
        return y.detach().numpy(), x.grad.numpy(), w.grad.numpy()

    for a, b in zip(run(True), run(False)):
        close(a, b, np.float64)


def test_fused_conv_and_pool_pass_gradcheck(device, fusion):
    fusion(True)
    rng = np.random.default_rng(7)
    x = Tensor(rng.normal(size=(1, 2, 6, 5)), device=device, requires_grad=True)
    w = Tensor(rng.normal(size=(2, 2, 3, 2)), device=device, requires_grad=True)
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


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
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
