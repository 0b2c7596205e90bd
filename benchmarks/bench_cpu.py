"""CPU benchmark: tinygrad_edu against a hand-written NumPy step and against PyTorch.

    python benchmarks/bench_cpu.py              # the full table (about a minute and a half)
    python benchmarks/bench_cpu.py --quick      # a few steps only (the smoke test uses this)
    python benchmarks/bench_cpu.py --only W1,W3 --steps 100 --threads 1

Four workloads, each written three times from the same initial values:

  W1  MLP 784-256-128-10, ReLU, softmax cross-entropy, SGD, batch 128, float32 (per step)
  W2  MLP 2-16-16-1, tanh, MSE, SGD, batch 64 (per step: mostly engine overhead), three ways:
        .data      raw Tensors, `p.data -= lr * p.grad.data` under no_grad (the engine's own way)
        nn/optim   nn.Linear, nn.Tanh, nn.MSELoss and optim.SGD, as a student writes it later
        w -= lr*g  raw Tensors, `p -= lr * p.grad; p.grad.zero_()` under no_grad, the way the
                   early lectures write the step (PyTorch's twin does the same)
  W3  x = x * w + b on 0-d tensors, 10,000 times (20,000 op nodes), forward + backward;
      the median and the 90th percentile of the step times
  W4  1024x1024 @ 1024x1024, forward + backward with a random upstream gradient

  tinygrad_edu  the public API only: Tensor(..., requires_grad=True), loss.backward(),
                and the SGD update under no_grad()
  NumPy         forward, backward and SGD written out by hand with as few temporary
                arrays as we can manage (the input X gets no gradient). No NumPy-based
                engine can beat it by much: it is the floor.
  PyTorch       the same model written with torch tensors on the CPU.

How the numbers are taken: every implementation gets some warm-up steps, then each step
is timed on its own with time.perf_counter and the table shows the median. The timed
steps are split into 5 rounds (a block of edu steps, then NumPy, then PyTorch, and again),
so a slow moment of the machine hits all three alike; each block starts with 0.2 s of
untimed steps, so that one library's idle worker threads do not slow the next one down.
The header shows the load average when the run began; after the table we print how many
CPUs other processes kept busy meanwhile (Linux), with a warning when that is more than
a fifth of one: on a busy machine the times are inflated, the multi-threaded BLAS ones
most (W1 and W4 can come out several times slower), and the ratios are not to be trusted.

All libraries use the same number of threads (--threads, default 2): the environment
variables below are set before NumPy or torch is imported, because the BLAS libraries
read them only once, at import.

The garbage collector is left as a student's notebook has it: on, untuned, with torch
imported (PyTorch's column needs it anyway, and its some 150,000 objects are what a full
collection scans). A full collection is part of an engine's cost. For comparison, a last
row repeats W3 after gc.freeze() (the objects of the imports taken out of the scan): the
difference between the two W3 rows is what the collector cost.

Memory: tracemalloc sees every NumPy array (and every Python object), so for W1 we record
the peak of traced memory during one step, above what was allocated when the step began.
PyTorch's allocator is invisible to tracemalloc, so it gets no memory number.

The exit code is 0 even when a target is missed (this is a benchmark, not a test); it is 1
only when the three implementations disagree about the result, which means a bug.
"""
from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import time
import tracemalloc
from types import SimpleNamespace

WORKLOADS = ("W1", "W2", "W3", "W4")
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="a few steps per workload only (a smoke test, not a measurement)")
    parser.add_argument("--steps", type=int, default=None,
                        help="timed steps per workload and implementation (default: 50 for W1, "
                             "200 for W2, 30 for W3 and W4)")
    parser.add_argument("--threads", type=int, default=2,
                        help="threads for BLAS and torch, the same for all (default 2)")
    parser.add_argument("--only", default=",".join(WORKLOADS),
                        help="comma-separated workloads to run, e.g. W1,W2 (default: all)")
    args = parser.parse_args(argv)
    args.only = [name.strip().upper() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in args.only if name not in WORKLOADS]
    if unknown or not args.only:
        parser.error(f"--only: unknown workload(s) {unknown}; choose from {','.join(WORKLOADS)}")
    if args.threads < 1:
        parser.error("--threads must be at least 1")
    if args.steps is not None and args.steps < 1:
        parser.error("--steps must be at least 1")
    return args


# The thread settings must be in the environment before numpy and torch are imported.
ARGS = parse_args(sys.argv[1:] if __name__ == "__main__" else [])
for _variable in THREAD_VARIABLES:
    os.environ[_variable] = str(ARGS.threads)

import numpy as np  # noqa: E402
import torch  # noqa: E402

import tinygrad_edu  # noqa: E402
from tinygrad_edu import Tensor, no_grad  # noqa: E402
from tinygrad_edu import nn as edu_nn, optim as edu_optim  # noqa: E402
from tinygrad_edu.functions import CrossEntropy  # noqa: E402

from machine import cpu_model, cpu_usage, load_average, other_processes_cpus  # noqa: E402  (benchmarks/machine.py)

torch.set_num_threads(ARGS.threads)

ROUNDS = 5         # the timed steps are split into this many blocks per implementation
SETTLE = 0.2       # seconds of untimed steps before each block (see measure)
LR = 0.01          # SGD step size for W1 and W2
SEED = 0
W3_ITERATIONS = 10_000    # two op nodes (Mul, Add) per iteration: 20,000 nodes


# ============================================================================ timing helpers

def measure(steps_by_name: dict, warmup: int, steps: int, settle: float = SETTLE) -> dict:
    """The seconds of each timed step, a list per implementation.

    The timed steps run in rounds: each round is a block of consecutive steps per
    implementation. Every block starts with untimed steps: `warmup` of them in the first
    round, one in later rounds, and in any case for at least `settle` seconds. Why the
    settling: NumPy's OpenBLAS and PyTorch's OpenMP each keep their own worker threads,
    which spin for a while after their last job. Timed right after a NumPy block, PyTorch
    shares the two cores with OpenBLAS threads that are still spinning (W1 under PyTorch
    then measured 2-3x slower). A program that uses one library alone never sees that.
    (Resting with time.sleep instead is no good either: everything is slower just after.)
    The garbage collector is not touched: it runs when it would in a student's script.
    """
    rounds = min(ROUNDS, steps)
    times = {name: [] for name in steps_by_name}
    for r in range(rounds):
        count = steps // rounds + (1 if r < steps % rounds else 0)
        for name, step in steps_by_name.items():
            untimed = warmup if r == 0 else min(warmup, 1)
            settled = time.perf_counter() + settle
            while untimed > 0 or time.perf_counter() < settled:
                step()
                untimed -= 1
            for _ in range(count):
                start = time.perf_counter()
                step()
                times[name].append(time.perf_counter() - start)
    return times


def percentile(times: list, q: float) -> float:
    """The q-th percentile of the step times (q = 50: the median), by linear interpolation."""
    return statistics.quantiles(times, n=100, method="inclusive")[round(q) - 1] if len(times) > 1 else times[0]


def peak_memory(step) -> int:
    """Peak traced bytes during one step, above the traced bytes when the step began."""
    step()                                     # warm-up, untraced
    gc.collect()
    tracemalloc.start()
    step()                                     # one traced step, so the state in between is traced
    tracemalloc.reset_peak()
    before, _ = tracemalloc.get_traced_memory()
    step()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak - before


# ============================================================================ initial values

def uniform(rng, shape, fan_in):
    """Weights uniform in ±1/sqrt(fan_in), float32 (PyTorch's default scale for Linear)."""
    bound = 1.0 / np.sqrt(fan_in)
    return rng.uniform(-bound, bound, size=shape).astype(np.float32)


def mlp_params(rng, sizes):
    """[W1, b1, W2, b2, ...] with each W laid out (in, out), so a layer is x @ W + b."""
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        params += [uniform(rng, (n_in, n_out), n_in), uniform(rng, (n_out,), n_in)]
    return params


def sgd_edu(params, lr):
    """The engine's intended update: raw arrays, under no_grad, then drop the gradient."""
    with no_grad():
        for p in params:
            p.data -= lr * p.grad.data
            p.grad = None


def sgd_edu_inplace(params, lr):
    """The early lectures' update, on the Tensors themselves: in place under no_grad, then zero."""
    with no_grad():
        for p in params:
            p -= lr * p.grad
            p.grad.zero_()


def sgd_torch_inplace(params, lr):
    with torch.no_grad():
        for p in params:
            p -= lr * p.grad
            p.grad.zero_()


def sgd_numpy(params, grads, lr):
    for p, g in zip(params, grads):
        g *= lr                      # the gradient is ours to overwrite: no temporary
        p -= g


def sgd_torch(params, lr):
    with torch.no_grad():
        for p in params:
            p.add_(p.grad, alpha=-lr)
            p.grad = None


def edu_params(arrays):
    return [Tensor(a, requires_grad=True) for a in arrays]


def torch_params(arrays):
    return [torch.tensor(a, requires_grad=True) for a in arrays]


# Each implementation below returns SimpleNamespace(step, check):
#   step()   one timed step (for W1/W2 including the SGD update)
#   check()  one forward + backward from the current weights (no update; W2's check runs
#            three steps first, so that the three ways of updating are compared too), returning
#            (the loss, or W3's output, or None for W4; the gradients as NumPy arrays)

# ============================================================================ W1: MNIST-sized MLP

def w1_init():
    rng = np.random.default_rng(SEED)
    return SimpleNamespace(
        params=mlp_params(rng, (784, 256, 128, 10)),
        x=rng.standard_normal((128, 784)).astype(np.float32),
        y=rng.integers(0, 10, size=128).astype(np.int64),
    )


def w1_edu(init):
    params = edu_params(init.params)
    W1, b1, W2, b2, W3, b3 = params
    x, target = Tensor(init.x), Tensor(init.y)

    def forward_backward():
        h = (x @ W1 + b1).relu()
        h = (h @ W2 + b2).relu()
        loss = CrossEntropy.apply(h @ W3 + b3, target)
        loss.backward()
        return loss

    def step():
        forward_backward()
        sgd_edu(params, LR)

    def check():
        loss = forward_backward()
        return loss.item(), [p.grad.numpy() for p in params]

    return SimpleNamespace(step=step, check=check)


def w1_numpy_grads(params, x, y):
    """Loss and [dW1, db1, dW2, db2, dW3, db3] of the 784-256-128-10 MLP, by hand."""
    W1, b1, W2, b2, W3, b3 = params
    n = x.shape[0]
    rows = np.arange(n)
    # forward, in place where we can: the pre-activations are not needed afterwards
    h1 = x @ W1
    h1 += b1
    np.maximum(h1, 0, out=h1)
    h2 = h1 @ W2
    h2 += b2
    np.maximum(h2, 0, out=h2)
    z = h2 @ W3
    z += b3
    # softmax cross-entropy on shifted logits: loss = mean(log Σ e^z - z[target])
    z -= z.max(axis=1, keepdims=True)
    picked = z[rows, y]
    np.exp(z, out=z)
    total = z.sum(axis=1)
    loss = np.log(total).mean() - picked.mean()
    # dL/dz = (softmax(z) - onehot(y)) / n, built in the same buffer
    z *= (1.0 / (n * total))[:, None]
    z[rows, y] -= np.float32(1.0 / n)
    dz = z
    # backward through the layers (no gradient for the input x)
    dW3 = h2.T @ dz
    db3 = dz.sum(axis=0)
    dh2 = dz @ W3.T
    dh2 *= h2 > 0
    dW2 = h1.T @ dh2
    db2 = dh2.sum(axis=0)
    dh1 = dh2 @ W2.T
    dh1 *= h1 > 0
    dW1 = x.T @ dh1
    db1 = dh1.sum(axis=0)
    return loss, [dW1, db1, dW2, db2, dW3, db3]


def w1_numpy(init):
    params = [a.copy() for a in init.params]
    x, y = init.x, init.y

    def step():
        _, grads = w1_numpy_grads(params, x, y)
        sgd_numpy(params, grads, LR)

    def check():
        loss, grads = w1_numpy_grads(params, x, y)
        return float(loss), grads

    return SimpleNamespace(step=step, check=check)


def w1_torch(init):
    params = torch_params(init.params)
    W1, b1, W2, b2, W3, b3 = params
    x, target = torch.from_numpy(init.x), torch.from_numpy(init.y)

    def forward_backward():
        h = (x @ W1 + b1).relu()
        h = (h @ W2 + b2).relu()
        loss = torch.nn.functional.cross_entropy(h @ W3 + b3, target)
        loss.backward()
        return loss

    def step():
        forward_backward()
        sgd_torch(params, LR)

    def check():
        loss = forward_backward()
        return loss.item(), [p.grad.numpy() for p in params]

    return SimpleNamespace(step=step, check=check)


# ============================================================================ W2: tiny MLP

def w2_init():
    rng = np.random.default_rng(SEED + 1)
    x = rng.standard_normal((64, 2)).astype(np.float32)
    return SimpleNamespace(
        params=mlp_params(rng, (2, 16, 16, 1)),
        x=x,
        y=np.sin(x[:, :1] * x[:, 1:]).astype(np.float32),    # some smooth target, shape (64, 1)
    )


def w2_edu(init, update=sgd_edu):
    params = edu_params(init.params)
    W1, b1, W2, b2, W3, b3 = params
    x, y = Tensor(init.x), Tensor(init.y)

    def forward_backward():
        h = (x @ W1 + b1).tanh()
        h = (h @ W2 + b2).tanh()
        loss = ((h @ W3 + b3 - y) ** 2).mean()
        loss.backward()
        return loss

    def step():
        forward_backward()
        update(params, LR)

    def check():
        loss = forward_backward()
        return loss.item(), [p.grad.numpy() for p in params]

    return SimpleNamespace(step=step, check=check)


def w2_edu_inplace(init):
    return w2_edu(init, update=sgd_edu_inplace)


def w2_state_dict(init, as_array):
    """The W2 weights under nn.Sequential's names, each W as Linear keeps it: (out, in)."""
    W1, b1, W2, b2, W3, b3 = (np.ascontiguousarray(a.T) if a.ndim == 2 else a for a in init.params)
    names = ("0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias")
    return {name: as_array(a) for name, a in zip(names, (W1, b1, W2, b2, W3, b3))}


def nn_grads(model):
    """The gradients as NumPy arrays, each W laid out (in, out) as the NumPy twin has it."""
    return [p.grad.numpy().T if p.grad.ndim == 2 else p.grad.numpy() for p in model.parameters()]


def w2_edu_nn(init):
    nn = edu_nn
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 1))
    model.load_state_dict(w2_state_dict(init, np.array))
    loss_fn = nn.MSELoss()
    optimizer = edu_optim.SGD(model.parameters(), lr=LR)
    x, y = Tensor(init.x), Tensor(init.y)

    def forward_backward():
        loss = loss_fn(model(x), y)
        loss.backward()
        return loss

    def step():
        optimizer.zero_grad()
        forward_backward()
        optimizer.step()

    def check():
        optimizer.zero_grad()
        loss = forward_backward()
        return loss.item(), nn_grads(model)

    return SimpleNamespace(step=step, check=check)


def w2_numpy_grads(params, x, y):
    """Loss and gradients of the 2-16-16-1 tanh MLP with mean squared error, by hand."""
    W1, b1, W2, b2, W3, b3 = params
    h1 = x @ W1
    h1 += b1
    np.tanh(h1, out=h1)
    h2 = h1 @ W2
    h2 += b2
    np.tanh(h2, out=h2)
    diff = h2 @ W3
    diff += b3
    diff -= y
    loss = np.mean(diff * diff)
    diff *= np.float32(2.0 / diff.size)          # now dL/dpred
    dW3 = h2.T @ diff
    db3 = diff.sum(axis=0)
    dh2 = diff @ W3.T
    dh2 *= 1 - h2 * h2                          # tanh' = 1 - tanh^2
    dW2 = h1.T @ dh2
    db2 = dh2.sum(axis=0)
    dh1 = dh2 @ W2.T
    dh1 *= 1 - h1 * h1
    dW1 = x.T @ dh1
    db1 = dh1.sum(axis=0)
    return loss, [dW1, db1, dW2, db2, dW3, db3]


def w2_numpy(init):
    params = [a.copy() for a in init.params]
    x, y = init.x, init.y

    def step():
        _, grads = w2_numpy_grads(params, x, y)
        sgd_numpy(params, grads, LR)

    def check():
        loss, grads = w2_numpy_grads(params, x, y)
        return float(loss), grads

    return SimpleNamespace(step=step, check=check)


def w2_torch(init, update=sgd_torch):
    params = torch_params(init.params)
    W1, b1, W2, b2, W3, b3 = params
    x, y = torch.from_numpy(init.x), torch.from_numpy(init.y)

    def forward_backward():
        h = (x @ W1 + b1).tanh()
        h = (h @ W2 + b2).tanh()
        loss = ((h @ W3 + b3 - y) ** 2).mean()
        loss.backward()
        return loss

    def step():
        forward_backward()
        update(params, LR)

    def check():
        loss = forward_backward()
        return loss.item(), [p.grad.numpy() for p in params]

    return SimpleNamespace(step=step, check=check)


def w2_torch_inplace(init):
    return w2_torch(init, update=sgd_torch_inplace)


def w2_torch_nn(init):
    nn = torch.nn
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 1))
    model.load_state_dict(w2_state_dict(init, torch.tensor))
    loss_fn = nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    x, y = torch.from_numpy(init.x), torch.from_numpy(init.y)

    def forward_backward():
        loss = loss_fn(model(x), y)
        loss.backward()
        return loss

    def step():
        optimizer.zero_grad()
        forward_backward()
        optimizer.step()

    def check():
        optimizer.zero_grad()
        loss = forward_backward()
        return loss.item(), nn_grads(model)

    return SimpleNamespace(step=step, check=check)


# ============================================================================ W3: a long chain of scalar ops

def w3_init():
    return SimpleNamespace(x0=np.float32(0.5), w=np.float32(0.9999), b=np.float32(0.0001))


def w3_edu(init):
    x0, w, b = (Tensor(v, requires_grad=True) for v in (init.x0, init.w, init.b))
    leaves = (x0, w, b)

    def forward_backward():
        for t in leaves:
            t.grad = None
        x = x0
        for _ in range(W3_ITERATIONS):
            x = x * w + b
        x.backward()
        return x

    def check():
        x = forward_backward()
        return x.item(), [t.grad.numpy() for t in leaves]

    return SimpleNamespace(step=forward_backward, check=check)


def w3_numpy_grads(x0, w, b):
    """The chain by hand on float32 scalars: keep each x on a tape, then walk it backwards."""
    tape = []
    x = x0
    for _ in range(W3_ITERATIONS):
        tape.append(x)
        x = x * w + b
    grad_x = np.float32(1.0)       # d out / d x_i, from the end backwards
    grad_w = np.float32(0.0)
    grad_b = np.float32(0.0)
    for x_i in reversed(tape):
        grad_w += grad_x * x_i
        grad_b += grad_x
        grad_x = grad_x * w
    return x, [grad_x, grad_w, grad_b]


def w3_numpy(init):
    def step():
        w3_numpy_grads(init.x0, init.w, init.b)

    def check():
        out, grads = w3_numpy_grads(init.x0, init.w, init.b)
        return float(out), [np.asarray(g) for g in grads]

    return SimpleNamespace(step=step, check=check)


def w3_torch(init):
    leaves = [torch.tensor(v, requires_grad=True) for v in (init.x0, init.w, init.b)]
    x0, w, b = leaves

    def forward_backward():
        for t in leaves:
            t.grad = None
        x = x0
        for _ in range(W3_ITERATIONS):
            x = x * w + b
        x.backward()
        return x

    def check():
        x = forward_backward()
        return x.item(), [t.grad.numpy() for t in leaves]

    return SimpleNamespace(step=forward_backward, check=check)


# ============================================================================ W4: one big matmul

def w4_init():
    rng = np.random.default_rng(SEED + 3)
    a, b, g = (rng.standard_normal((1024, 1024)).astype(np.float32) for _ in range(3))
    return SimpleNamespace(a=a, b=b, grad=g)


def w4_edu(init):
    a, b = Tensor(init.a, requires_grad=True), Tensor(init.b, requires_grad=True)
    grad = Tensor(init.grad)

    def step():
        a.grad = b.grad = None
        (a @ b).backward(grad)

    def check():
        step()
        return None, [a.grad.numpy(), b.grad.numpy()]

    return SimpleNamespace(step=step, check=check)


def w4_numpy(init):
    a, b, grad = init.a, init.b, init.grad

    def forward_backward():
        out = a @ b                  # noqa: F841  (the forward is part of the work)
        return [grad @ b.T, a.T @ grad]

    def check():
        return None, forward_backward()

    return SimpleNamespace(step=forward_backward, check=check)


def w4_torch(init):
    a, b = (torch.tensor(v, requires_grad=True) for v in (init.a, init.b))
    grad = torch.from_numpy(init.grad)

    def step():
        a.grad = b.grad = None
        (a @ b).backward(grad)

    def check():
        step()
        return None, [a.grad.numpy(), b.grad.numpy()]

    return SimpleNamespace(step=step, check=check)


# ============================================================================ the workloads

# Per table row: its label, the initial values, the three implementations, the default
# warm-up and timed steps, the target (edu's time / whose time <= limit) and what the
# correctness check compares (one gradient, and the loss where there is one). A row's key
# starts with its workload's name, which --only selects.
W2_CHECK = dict(what="grads", verb="agree", grad_index=0, grad_name="dW1", rtol=1e-4,
                after_steps=3)      # three updates first, so the update itself is checked too
WORKLOAD_SPECS = {
    "W1": dict(
        label="W1 MLP 784-256-128-10 (step)",
        init=w1_init, impls=(w1_edu, w1_numpy, w1_torch), warmup=5, steps=50,
        target=("NumPy", 1.10),
        check=dict(what="grads", verb="agree", grad_index=0, grad_name="dW1", rtol=1e-4),
    ),
    "W2": dict(
        label="W2 MLP 2-16-16-1, .data update",
        init=w2_init, impls=(w2_edu, w2_numpy, w2_torch), warmup=20, steps=200,
        target=("PyTorch", 0.4), check=W2_CHECK,
    ),
    "W2 nn/optim": dict(
        label="W2 MLP 2-16-16-1, nn + optim.SGD",
        init=w2_init, impls=(w2_edu_nn, w2_numpy, w2_torch_nn), warmup=20, steps=200,
        target=("PyTorch", 0.4), check=W2_CHECK,
    ),
    "W2 w -= lr*g": dict(
        label="W2 MLP 2-16-16-1, w -= lr * w.grad",
        init=w2_init, impls=(w2_edu_inplace, w2_numpy, w2_torch_inplace), warmup=20, steps=200,
        target=("PyTorch", 0.4), check=W2_CHECK,
    ),
    "W3": dict(
        label="W3 x*w+b chain, 20k ops",
        init=w3_init, impls=(w3_edu, w3_numpy, w3_torch), warmup=2, steps=30,
        target=("PyTorch", 0.5), p90=True,
        check=dict(what="grad of w", verb="agrees", grad_index=1, grad_name="dw", rtol=1e-3),
    ),
    "W4": dict(
        label="W4 matmul 1024^3 fwd+bwd",
        init=w4_init, impls=(w4_edu, w4_numpy, w4_torch), warmup=2, steps=30,
        target=("NumPy", 1.05),
        check=dict(what="grads", verb="agree", grad_index=0, grad_name="dA", rtol=1e-4),
    ),
}
IMPLEMENTATIONS = ("tinygrad_edu", "NumPy", "PyTorch")


def selected(args):
    """The keys of the table rows that --only asks for, in the table's order."""
    return [key for key in WORKLOAD_SPECS if key.split()[0] in args.only]


def run_workload(name, args, frozen=False):
    """Time one row's three implementations; frozen: after gc.freeze(), for comparison."""
    spec = WORKLOAD_SPECS[name]
    init = spec["init"]()
    runners = dict(zip(IMPLEMENTATIONS, (build(init) for build in spec["impls"])))
    warmup, steps = spec["warmup"], spec["steps"]
    if args.quick:
        warmup, steps = 0, 2
    if args.steps is not None:
        steps = args.steps
    how = " after gc.freeze()" if frozen else ""
    print(f"  {name}{how}: {warmup} warm-up + {steps} timed steps each ...", file=sys.stderr, flush=True)
    settle = 0.0 if args.quick else SETTLE
    if frozen:
        gc.freeze()         # the objects alive now (the imports', torch's) leave the collector's scan
    try:
        times = measure({impl: r.step for impl, r in runners.items()}, warmup, steps, settle)
    finally:
        if frozen:
            gc.unfreeze()
    return SimpleNamespace(name=name, times=times, steps=steps, frozen=frozen)


def w1_memory():
    """Peak traced bytes of one W1 step, tinygrad_edu and NumPy (PyTorch is not traced)."""
    init = w1_init()
    return {"tinygrad_edu": peak_memory(w1_edu(init).step),
            "NumPy": peak_memory(w1_numpy(init).step)}


def check_workload(name):
    """From identical fresh weights, compare loss and one gradient across the three."""
    spec = WORKLOAD_SPECS[name]
    settings = spec["check"]
    init = spec["init"]()
    results = {}
    for impl, build in zip(IMPLEMENTATIONS, spec["impls"]):
        runner = build(init)
        for _ in range(settings.get("after_steps", 0)):
            runner.step()
        results[impl] = runner.check()
    edu_value, edu_grads = results["tinygrad_edu"]
    grad_diff = value_diff = 0.0
    agree = True
    for impl in ("NumPy", "PyTorch"):
        value, grads = results[impl]
        reference = np.asarray(grads[settings["grad_index"]], dtype=np.float64)
        mine = np.asarray(edu_grads[settings["grad_index"]], dtype=np.float64)
        diff = float(np.max(np.abs(mine - reference)))
        grad_diff = max(grad_diff, diff)
        agree &= diff <= settings["rtol"] * max(float(np.max(np.abs(reference))), 1e-6)
        if value is not None:
            value_diff = max(value_diff, abs(edu_value - value))
            agree &= abs(edu_value - value) <= settings["rtol"] * max(abs(value), 1e-6)
    verdict = settings["verb"] if agree else "DISAGREE"
    value_note = ""
    if edu_value is not None:
        value_note = f", {'output' if name == 'W3' else 'loss'} diff {value_diff:.2e}"
    after = f" after {settings['after_steps']} steps" if settings.get("after_steps") else ""
    print(f"check: {name} {settings['what']} {verdict} (max abs diff {grad_diff:.2e} on "
          f"{settings['grad_name']}{value_note}{after}; edu vs NumPy and vs PyTorch)")
    return agree


# ============================================================================ the table

def format_time(seconds):
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.3f} s"


def format_bytes(n):
    if n < 1024 ** 2:
        return f"{n / 1024:.1f} KiB"
    return f"{n / 1024 ** 2:.2f} MiB"


def table_rows(results, memory):
    rows = []
    for r in results:
        spec = WORKLOAD_SPECS[r.name]
        against, limit = spec["target"]
        kinds = [("median", 50)] + ([("p90", 90)] if spec.get("p90") else [])
        for kind, q in kinds:
            edu, npy, pt = (percentile(r.times[i], q) for i in IMPLEMENTATIONS)
            ratio = edu / (npy if against == "NumPy" else pt)
            label = spec["label"] + (f" ({kind})" if spec.get("p90") else "")
            target, met = f"<= {limit:.2f}x {against}", "yes" if ratio <= limit else "NO"
            if r.frozen:
                label, target, met = label + ", gc.freeze()", "for comparison", "-"
            rows.append([label, format_time(edu), format_time(npy), format_time(pt),
                         f"{edu / npy:.2f}x", f"{edu / pt:.2f}x", target, met])
    if memory is not None:
        ratio = memory["tinygrad_edu"] / memory["NumPy"]
        rows.append(["memory: peak of one W1 step", format_bytes(memory["tinygrad_edu"]),
                     format_bytes(memory["NumPy"]), "n/a", f"{ratio:.2f}x", "n/a",
                     "<= 1.50x NumPy", "yes" if ratio <= 1.5 else "NO"])
    return rows


def print_table(rows):
    header = ["workload", "tinygrad_edu", "NumPy", "PyTorch", "edu/NumPy", "edu/PyTorch",
              "target", "met"]
    widths = [max(len(str(row[i])) for row in [header] + rows) for i in range(len(header))]

    def line(cells):
        first = cells[0].ljust(widths[0])
        rest = [c.rjust(w) for c, w in zip(cells[1:-2], widths[1:-2])]
        tail = [cells[-2].ljust(widths[-2]), cells[-1].ljust(widths[-1])]
        return "  ".join([first] + rest + tail).rstrip()

    print(line(header))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line(row))


def main(args):
    usage_at_start = cpu_usage()
    load = load_average()
    print(f"machine: {cpu_model()}, {os.cpu_count()} CPUs, load average {load:.2f}, "
          f"{args.threads} thread(s) for all (OMP/OpenBLAS/MKL env, "
          f"torch.get_num_threads()={torch.get_num_threads()}), python {platform.python_version()}, "
          f"numpy {np.__version__}, torch {torch.__version__}, tinygrad_edu {tinygrad_edu.__version__}"
          + ("  [--quick: too few steps to be a measurement]" if args.quick else ""), flush=True)
    print("running (every step timed after warm-up):", file=sys.stderr, flush=True)
    results = [run_workload(name, args) for name in selected(args)]
    if "W3" in args.only:
        results.append(run_workload("W3", args, frozen=True))
    memory = w1_memory() if "W1" in args.only else None

    print()
    print_table(table_rows(results, memory))
    for r in results:
        if r.name == "W3" and not r.frozen:
            nodes = 2 * W3_ITERATIONS
            per_op = ", ".join(f"{impl} {percentile(r.times[impl], 50) / nodes * 1e6:.2f} us"
                               for impl in IMPLEMENTATIONS)
            print(f"W3 per op node (forward+backward, {nodes:,} nodes, median): {per_op}")
    steps = ", ".join(f"{r.name} {r.steps}" for r in results)
    print(f"timed steps per implementation: {steps}")
    others = other_processes_cpus(usage_at_start)
    if others is not None:
        print(f"other processes kept {others:.2f} of {os.cpu_count()} CPUs busy during the run")
        if others > 0.2:
            print("warning: the machine was busy: the times are inflated, the multi-threaded "
                  "BLAS ones most (W1, W4); run again when it is idle")
    print()

    all_agree = True
    for name in selected(args):
        all_agree &= check_workload(name)
    return 0 if all_agree else 1


if __name__ == "__main__":
    sys.exit(main(ARGS))
