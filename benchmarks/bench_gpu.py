"""GPU benchmark: one training step of tinygrad_edu on "cuda", against PyTorch CUDA and our own CPU.

    python benchmarks/bench_gpu.py                       # the full table (well under a minute on a GPU)
    python benchmarks/bench_gpu.py --quick               # a few steps only (a smoke test)
    python benchmarks/bench_gpu.py --workloads a,b --steps 100 --no-cpu
    python benchmarks/bench_gpu.py --quick --allow-no-gpu  # no GPU here: the CPU column alone

Three workloads, each a full training step on data already on the device (random inputs,
random integer labels): forward, CrossEntropyLoss, zero_grad, backward, Adam step.

  (a)  MLP 784-256-128-10, ReLU, batch 128
  (b)  MLP 4096-4096-4096-10, ReLU, batch 1024
  (c)  CNN on 1x28x28, batch 256: Conv2d(1, 8, 3, padding=1), ReLU, MaxPool2d(2),
       Conv2d(8, 16, 3, padding=1), ReLU, MaxPool2d(2), Flatten, Linear(16*7*7, 10)

The columns, all starting from the same initial weights (ours, copied into the others):

  edu cuda      tinygrad_edu on "cuda" (CuPy), through the public API only
  torch cuda    the same model in PyTorch, eager, with torch.optim.Adam's defaults (no fused,
                no compile); TF32 is switched off, so both libraries multiply in plain FP32
  cupy by hand  (the MLPs only) the step written out with raw CuPy arrays: matmuls, ReLU,
                softmax cross-entropy, their backward and Adam, one plain array operation
                at a time. What a step costs when no engine stands in between.
  edu cpu       tinygrad_edu on "cpu" (NumPy), with far fewer steps: it is slow

How the numbers are taken. The GPU runs asynchronously: a call returns once its kernel is
queued, so a stopwatch around one step measures little. Each implementation first gets some
warm-up steps (the first ones compile CuPy's kernels and set up cuBLAS), then blocks of
steps are timed between two device synchronisations, and the table shows the median time
per step over the blocks. The blocks of the GPU implementations take turns (each block the
order rotates), so a slow moment of the machine hits them all alike. No loss is read back
inside a timed block (that would wait for the GPU each step); the last loss is read after
the block ends. The CPU column is timed afterwards, one step at a time.

What is checked. The first two losses of every implementation are read during the warm-up:
the loss at the initial weights, and the loss after one Adam step. From the same weights and
the same batch they must agree with PyTorch's (rtol 1e-3; PyTorch on the GPU when it was
measured there, else on the CPU); a "check:" line says so per workload. The hand-written
step's gradients are compared with PyTorch's on the CPU (on 64 rows of the batch; with NumPy
standing in for CuPy when there is no GPU). After the table each implementation's first and
last loss are printed: on one fixed batch they all go down, though (b)'s loss first jumps up
for an Adam step or two (a first Adam step moves every one of 4096 inputs' weights by lr).
Last, the memory line: how much device memory one step needed above what was resident before
it (CuPy's memory pool; torch.cuda.max_memory_allocated).

Without a GPU (CuPy missing or seeing none) the script says so and exits with status 2;
--allow-no-gpu measures the CPU column alone instead, with "n/a" in the cuda columns. With
--quick as well, (b) runs at batch 128 (marked with a *), so that the smoke test stays short.

Exit status: 0 when every workload ran and agreed (a missed target is not an error: this is a
benchmark, not a test), 1 when a workload raised or disagreed, 2 when there is no GPU to
measure (unless --allow-no-gpu).
"""
from __future__ import annotations

import argparse
import datetime
import importlib.util
import os
import platform
import statistics
import sys
import time
import traceback
from types import SimpleNamespace

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import backend
from tinygrad_edu import nn as tnn

from machine import cpu_model  # benchmarks/machine.py, beside this script

try:                                   # PyTorch is optional: without it its column says n/a
    import torch
    TORCH_ERROR = None
except Exception as exc:               # ImportError, or a broken install (OSError from its libraries)
    torch = None
    TORCH_ERROR = f"{type(exc).__name__}: {exc}"

SEED = 0
RTOL = 1e-3                            # losses of two FP32 libraries from the same start agree to this
CHECK_ROWS = 64                        # batch rows used for the gradient check of the hand-written step
CLASSES = 10
QUICK_CPU_BATCH = 128                  # --quick without a GPU: (b)'s batch, for a short smoke test


# ============================================================================ the workloads

WORKLOADS = {
    "a": SimpleNamespace(
        name="a", label="(a) MLP 784-256-128-10, batch 128", kind="mlp",
        sizes=(784, 256, 128, 10), input_shape=(784,), batch=128,
        steps=200, max_ratio=1.5, min_speedup=None),
    "b": SimpleNamespace(
        name="b", label="(b) MLP 4096-4096-4096-10, batch 1024", kind="mlp",
        sizes=(4096, 4096, 4096, 10), input_shape=(4096,), batch=1024,
        steps=50, max_ratio=1.10, min_speedup=20.0),
    "c": SimpleNamespace(
        name="c", label="(c) CNN 1x28x28, batch 256", kind="cnn",
        sizes=None, input_shape=(1, 28, 28), batch=256,
        steps=100, max_ratio=1.5, min_speedup=None),
}


def edu_model(spec):
    if spec.kind == "mlp":
        layers = []
        for n_in, n_out in zip(spec.sizes[:-1], spec.sizes[1:]):
            layers += [tnn.Linear(n_in, n_out), tnn.ReLU()]
        return tnn.Sequential(*layers[:-1])                 # no ReLU after the last layer
    return tnn.Sequential(tnn.Conv2d(1, 8, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
                          tnn.Conv2d(8, 16, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
                          tnn.Flatten(), tnn.Linear(16 * 7 * 7, CLASSES))


def torch_model(spec):
    if spec.kind == "mlp":
        layers = []
        for n_in, n_out in zip(spec.sizes[:-1], spec.sizes[1:]):
            layers += [torch.nn.Linear(n_in, n_out), torch.nn.ReLU()]
        return torch.nn.Sequential(*layers[:-1])
    return torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                               torch.nn.Conv2d(8, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                               torch.nn.Flatten(), torch.nn.Linear(16 * 7 * 7, CLASSES))


def initial_values(spec):
    """Our model's initial weights (name -> NumPy array, in layer order) and one fixed batch."""
    tg.manual_seed(SEED)
    weights = {name: t.numpy().copy() for name, t in edu_model(spec).state_dict().items()}
    rng = np.random.default_rng(SEED)
    x = rng.standard_normal((spec.batch,) + spec.input_shape, dtype=np.float32)
    y = rng.integers(0, CLASSES, spec.batch).astype(np.int64)
    return weights, x, y


# ============================================================================ the implementations
#
# Each implementation is a runner: step() does one training step and returns the loss without
# reading it, sync() waits until the device has finished, read(loss) gives the loss as a float.

def no_sync() -> None:
    """NumPy and PyTorch on the CPU compute before they return: nothing to wait for."""


def cupy_sync() -> None:
    import cupy
    cupy.cuda.Device().synchronize()


def torch_sync() -> None:
    torch.cuda.synchronize()


def edu_runner(spec, weights, x, y, device):
    model = edu_model(spec)
    model.load_state_dict(weights)
    model.to(device)
    optimizer = tg.optim.Adam(model.parameters())
    loss_fn = tnn.CrossEntropyLoss()
    xb, yb = tg.Tensor(x, device=device), tg.Tensor(y, device=device)

    def step():
        loss = loss_fn(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    return SimpleNamespace(step=step, sync=cupy_sync if device == "cuda" else no_sync,
                           read=lambda loss: float(loss.item()))


def torch_runner(spec, weights, x, y, device):
    model = torch_model(spec)
    model.load_state_dict({name: torch.from_numpy(array.copy()) for name, array in weights.items()})
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters())
    loss_fn = torch.nn.CrossEntropyLoss()
    xb, yb = torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)

    def step():
        loss = loss_fn(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    return SimpleNamespace(step=step, sync=torch_sync if device == "cuda" else no_sync,
                           read=lambda loss: float(loss.item()))


# ---------------------------------------------------------------------------- the MLP step by hand
#
# Weights in PyTorch's layout: W (out, in) and b (out,), so a layer is z = h @ W.T + b.
# `xp` is numpy or cupy: the same code runs on both, so it can be checked on the CPU too.

def hand_forward_backward(xp, params, x, y, rows):
    """Loss and gradients [dW1, db1, dW2, db2, ...] of the MLP with softmax cross-entropy.

    loss = mean_i( log sum_j exp(z_ij) - z_i,y_i );  dloss/dz = (softmax(z) - onehot(y)) / N
    """
    weights, biases = params[0::2], params[1::2]
    layer_inputs = []
    h = x
    for i, (w, b) in enumerate(zip(weights, biases)):
        layer_inputs.append(h)
        z = h @ w.T + b
        h = xp.maximum(z, 0) if i < len(weights) - 1 else z
    shifted = h - h.max(axis=1, keepdims=True)             # exp of a number <= 0 cannot overflow
    exp = xp.exp(shifted)
    total = exp.sum(axis=1, keepdims=True)
    loss = (xp.log(total[:, 0]) - shifted[rows, y]).mean()

    dz = exp / total                                       # softmax
    dz[rows, y] -= 1
    dz /= x.shape[0]
    grads = [None] * len(params)
    for i in reversed(range(len(weights))):
        h_in = layer_inputs[i]
        grads[2 * i] = dz.T @ h_in                         # dW = dz^T h
        grads[2 * i + 1] = dz.sum(axis=0)                  # db = sum over the batch
        if i > 0:                                          # the network's input needs no gradient
            dz = (dz @ weights[i]) * (h_in > 0)            # back through W, then through ReLU
    return loss, grads


def hand_adam(xp, params, grads, exp_avgs, exp_avg_sqs, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """torch.optim.Adam's update, written out:
    m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;  w <- w - lr/(1 - b1^t) * m / (sqrt(v)/sqrt(1 - b2^t) + eps)
    """
    step_size = lr / (1 - beta1 ** t)
    bias_correction2_sqrt = (1 - beta2 ** t) ** 0.5
    for p, g, m, v in zip(params, grads, exp_avgs, exp_avg_sqs):
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * (g * g)
        denom = xp.sqrt(v)
        denom /= bias_correction2_sqrt
        denom += eps
        p -= step_size * (m / denom)


def hand_runner(weights, x, y, xp):
    params = [xp.array(array) for array in weights.values()]      # own copies: updated in place
    exp_avgs = [xp.zeros_like(p) for p in params]
    exp_avg_sqs = [xp.zeros_like(p) for p in params]
    xb, yb = xp.asarray(x), xp.asarray(y)
    rows = xp.arange(len(y))
    steps_done = [0]

    def step():
        loss, grads = hand_forward_backward(xp, params, xb, yb, rows)
        steps_done[0] += 1
        hand_adam(xp, params, grads, exp_avgs, exp_avg_sqs, steps_done[0])
        return loss

    return SimpleNamespace(step=step, sync=cupy_sync if xp is not np else no_sync,
                           read=lambda loss: float(loss.item()))


def check_hand_gradients(spec, weights, x, y, xp):
    """Max relative difference between the hand-written gradients and PyTorch's on the CPU,
    on the first CHECK_ROWS rows of the batch (the formulas do not depend on the batch size)."""
    x, y = x[:CHECK_ROWS], y[:CHECK_ROWS]
    params = [xp.asarray(array) for array in weights.values()]
    loss, grads = hand_forward_backward(xp, params, xp.asarray(x), xp.asarray(y), xp.arange(len(y)))
    model = torch_model(spec)
    model.load_state_dict({name: torch.from_numpy(array.copy()) for name, array in weights.items()})
    torch_loss = torch.nn.functional.cross_entropy(model(torch.from_numpy(x)), torch.from_numpy(y))
    torch_loss.backward()
    worst = relative_difference(float(loss.item()), torch_loss.item())
    for mine, p in zip(grads, model.parameters()):
        worst = max(worst, relative_difference(backend.to_numpy(mine), p.grad.numpy()))
    return worst


def relative_difference(mine, reference) -> float:
    """max |mine - reference| / max |reference|; infinity when anything is NaN or infinite."""
    mine, reference = np.asarray(mine, dtype=np.float64), np.asarray(reference, dtype=np.float64)
    if not (np.all(np.isfinite(mine)) and np.all(np.isfinite(reference))):
        return float("inf")
    return float(np.abs(mine - reference).max() / max(np.abs(reference).max(), 1e-12))


# ============================================================================ timing

def warm_up(runner, steps: int) -> list[float]:
    """Run `steps` untimed steps (at least 2); return the first two losses, read back."""
    first_two = [runner.read(runner.step()) for _ in range(2)]
    for _ in range(steps - 2):
        runner.step()
    runner.sync()
    return first_two


def time_blocks(runners: dict, blocks: int, steps_per_block: int) -> dict:
    """Seconds per step of each runner, one number per block; the runners take turns, and
    the order rotates every block. Each runner's last loss is read after its block."""
    times = {name: [] for name in runners}
    names = list(runners)
    for block in range(blocks):
        shift = block % len(names)
        for name in names[shift:] + names[:shift]:
            runner = runners[name]
            runner.sync()
            start = time.perf_counter()
            for _ in range(steps_per_block):
                loss = runner.step()
            runner.sync()
            times[name].append((time.perf_counter() - start) / steps_per_block)
            runner.last_loss = runner.read(loss)           # outside the timed part
    return times


def peak_cupy_bytes(runner) -> int:
    """Bytes CuPy's memory pool had to add during one step, above what was in use before it.
    The pool keeps what it once held, so after freeing its spare blocks its size afterwards is
    the high-water mark of the step."""
    import cupy
    pool = cupy.get_default_memory_pool()
    runner.sync()
    pool.free_all_blocks()
    before = pool.used_bytes()
    runner.step()
    runner.sync()
    return pool.total_bytes() - before


def peak_torch_bytes(runner) -> int:
    """Bytes PyTorch's caching allocator had allocated at most during one step, above before."""
    runner.sync()
    torch.cuda.reset_peak_memory_stats()
    before = torch.cuda.memory_allocated()
    runner.step()
    runner.sync()
    return torch.cuda.max_memory_allocated() - before


# ============================================================================ one workload

def attempt(errors: list, what: str, fn, *args):
    """fn(*args); on an exception print its first line (the traceback goes to stderr), add
    `what` to `errors` and return None, so that one failure does not stop the whole table."""
    try:
        return fn(*args)
    except Exception as exc:
        first_line = (str(exc).strip().splitlines() or [""])[0]
        print(f"error: {what}: {type(exc).__name__}: {first_line}  (traceback on stderr)", flush=True)
        traceback.print_exc(file=sys.stderr)
        errors.append(what)
        return None


def run_workload(spec, plan, errors: list):
    """Measure one workload. Returns a dict: median seconds per step by column ("times"), the
    first two and the first and last losses, peak memory, failed columns and the check results."""
    weights, x, y = initial_values(spec)
    result = dict(spec=spec, times={}, losses={}, first_two={}, memory={}, failed=set())
    gpu_part = (f"{plan.warmup} warm-up + {plan.blocks} x {plan.steps_per_block(spec)} timed steps on "
                "the GPU, " if plan.gpu else "")
    cpu_part = f"2 warm-up + {plan.cpu_steps} timed steps on the CPU" if plan.cpu else "no CPU column"
    print(f"  {spec.label}: {gpu_part}{cpu_part} ...", file=sys.stderr, flush=True)

    gpu_runners = {}
    if plan.gpu:
        gpu_runners["edu cuda"] = edu_runner(spec, weights, x, y, "cuda")
        if plan.torch_cuda:
            built = attempt(errors, f"{spec.label}: torch cuda", torch_runner, spec, weights, x, y, "cuda")
            if built is None:
                result["failed"].add("torch cuda")
            else:
                gpu_runners["torch cuda"] = built
        if spec.kind == "mlp" and plan.hand:
            import cupy
            built = attempt(errors, f"{spec.label}: cupy by hand", hand_runner, weights, x, y, cupy)
            if built is None:
                result["failed"].add("cupy by hand")
            else:
                gpu_runners["cupy by hand"] = built
        result["first_two"]["edu cuda"] = warm_up(gpu_runners["edu cuda"], plan.warmup)
        for name in [n for n in gpu_runners if n != "edu cuda"]:
            first_two = attempt(errors, f"{spec.label}: {name} warm-up", warm_up, gpu_runners[name], plan.warmup)
            if first_two is None:
                del gpu_runners[name]
                result["failed"].add(name)
            else:
                result["first_two"][name] = first_two
        times = time_blocks(gpu_runners, plan.blocks, plan.steps_per_block(spec))
        for name, runner in gpu_runners.items():
            result["times"][name] = statistics.median(times[name])
            result["losses"][name] = (result["first_two"][name][0], runner.last_loss)

    if plan.cpu:
        def measure_cpu():
            runner = edu_runner(spec, weights, x, y, "cpu")
            result["first_two"]["edu cpu"] = warm_up(runner, 2)
            times = time_blocks({"edu cpu": runner}, plan.cpu_steps, 1)
            result["times"]["edu cpu"] = statistics.median(times["edu cpu"])
            result["losses"]["edu cpu"] = (result["first_two"]["edu cpu"][0], runner.last_loss)
            return True
        if attempt(errors, f"{spec.label}: edu cpu", measure_cpu) is None:
            result["failed"].add("edu cpu")

    # The reference for the check: PyTorch on the GPU when it was measured there, else PyTorch
    # on the CPU, from the same weights and batch (two untimed steps).
    if torch is not None:
        if "torch cuda" in result["first_two"]:
            result["reference"] = ("torch cuda", result["first_two"]["torch cuda"])
        else:
            def torch_cpu_losses():
                return warm_up(torch_runner(spec, weights, x, y, "cpu"), 2)
            losses = attempt(errors, f"{spec.label}: torch cpu (check)", torch_cpu_losses)
            if losses is not None:
                result["reference"] = ("torch cpu", losses)
        if spec.kind == "mlp" and plan.hand_check:
            if plan.gpu:
                import cupy as xp
            else:
                xp = np                                    # no GPU: check the same code on NumPy
            worst = attempt(errors, f"{spec.label}: cupy by hand gradient check",
                            check_hand_gradients, spec, weights, x, y, xp)
            if worst is not None:
                result["hand_check"] = (xp.__name__, worst)

    if plan.gpu:
        for name, runner in gpu_runners.items():
            measure = peak_torch_bytes if name == "torch cuda" else peak_cupy_bytes
            try:
                result["memory"][name] = measure(runner)
            except Exception as exc:                       # optional: report, do not fail
                print(f"note: {spec.label}: no memory figure for {name} ({type(exc).__name__}: {exc})")
    return result


# ============================================================================ the report

COLUMNS = ("edu cuda", "torch cuda", "cupy by hand", "edu cpu")


def format_time(seconds):
    if seconds is None:
        return "n/a"
    if seconds < 1e-3:
        return f"{seconds * 1e3:.3f} ms"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e3:,.0f} ms"


def format_bytes(n):
    return f"{n / 1024 ** 2:.1f} MiB"


def target_text(spec):
    text = f"edu/torch <= {spec.max_ratio:.2f}"
    if spec.min_speedup is not None:
        text += f", speed-up >= {spec.min_speedup:.0f}x"
    return text


def verdict(spec, ratio, speedup):
    """'yes', 'NO' (some measured part missed), or 'not measured' (a part could not be measured)."""
    parts = [(ratio, lambda r: r <= spec.max_ratio)]
    if spec.min_speedup is not None:
        parts.append((speedup, lambda s: s >= spec.min_speedup))
    if any(value is not None and not ok(value) for value, ok in parts):
        return "NO"
    if any(value is None for value, _ in parts):
        return "not measured"
    return "yes"


def table_row(result):
    spec, times = result["spec"], result["times"]

    def cell(name):
        if name in result["failed"]:
            return "error"
        if name == "cupy by hand" and spec.kind != "mlp":
            return "-"
        return format_time(times.get(name))

    edu, theirs, cpu = times.get("edu cuda"), times.get("torch cuda"), times.get("edu cpu")
    ratio = edu / theirs if edu and theirs else None
    speedup = cpu / edu if edu and cpu else None
    return [spec.label] + [cell(name) for name in COLUMNS] + [
        "n/a" if ratio is None else f"{ratio:.2f}x",
        "n/a" if speedup is None else f"{speedup:.1f}x",
        target_text(spec), verdict(spec, ratio, speedup)]


def error_row(spec):
    return [spec.label] + ["error"] * (len(COLUMNS) + 2) + [target_text(spec), "error"]


def print_table(rows):
    header = ["workload"] + list(COLUMNS) + ["edu/torch", "speed-up cpu/cuda", "target", "met"]
    widths = [max(len(row[i]) for row in [header] + rows) for i in range(len(header))]

    def line(cells):
        first = cells[0].ljust(widths[0])
        middle = [c.rjust(w) for c, w in zip(cells[1:-2], widths[1:-2])]
        return "  ".join([first] + middle + [cells[-2].ljust(widths[-2]), cells[-1]]).rstrip()

    print(line(header))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line(row))


def print_checks(result) -> bool:
    """The check lines of one workload; False when something disagrees."""
    spec, ok = result["spec"], True
    tag = spec.label.split(" ")[0]
    reference = result.get("reference")
    ours = {name: losses for name, losses in result["first_two"].items() if not name.startswith("torch")}
    if reference is None:
        print(f"check: {tag} not checked: {'torch is not importable' if torch is None else 'no reference ran'}")
    elif ours:
        ref_name, ref_losses = reference
        worst = max(relative_difference(losses, ref_losses) for losses in ours.values())
        agree = worst <= RTOL
        ok &= agree
        values = "; ".join(f"{name} {a:.5f}, {b:.5f}" for name, (a, b) in
                           list(ours.items()) + [(ref_name, ref_losses)])
        print(f"check: {tag} one-step losses {'agree' if agree else 'DISAGREE'} "
              f"(loss at the initial weights, then after one Adam step; max rel diff {worst:.1e}, "
              f"rtol {RTOL:g}): {values}")
    if "hand_check" in result:
        module, worst = result["hand_check"]
        agree = worst <= RTOL
        ok &= agree
        print(f"check: {tag} cupy-by-hand gradients {'agree' if agree else 'DISAGREE'} with torch cpu "
              f"(written with {module}, {CHECK_ROWS} rows; max rel diff {worst:.1e}, rtol {RTOL:g})")
    return ok


def print_losses(result):
    tag = result["spec"].label.split(" ")[0]
    parts = [f"{name} {first:.4f} -> {last:.4f}" for name, (first, last) in result["losses"].items()]
    print(f"loss: {tag} first -> last: " + ", ".join(parts))


def print_memory(result):
    if result["memory"]:
        tag = result["spec"].label.split(" ")[0]
        parts = [f"{name} {format_bytes(n)}" for name, n in result["memory"].items()]
        print(f"memory: {tag} peak device memory of one step above what was resident: " + ", ".join(parts))


# ============================================================================ header and main

def or_unknown(read):
    """read(), or '?' when it fails: the header must not stop the benchmark."""
    try:
        return read()
    except Exception as exc:
        return f"? ({type(exc).__name__})"


def cuda_version(number: int) -> str:
    """CUDA encodes versions as 1000 * major + 10 * minor: 12040 -> '12.4'."""
    return f"{number // 1000}.{number % 1000 // 10}"


def print_header(plan):
    print(f"tinygrad_edu GPU benchmark, {datetime.datetime.now().isoformat(sep=' ', timespec='seconds')}"
          + ("  [--quick: too few steps to be a measurement]" if plan.quick else ""))
    if plan.gpu:
        import cupy
        runtime = cupy.cuda.runtime
        name = or_unknown(lambda: runtime.getDeviceProperties(0)["name"])
        name = name.decode() if isinstance(name, bytes) else name
        print(f"gpu: {name}; cupy {cupy.__version__}, CUDA runtime "
              f"{or_unknown(lambda: cuda_version(runtime.runtimeGetVersion()))}, driver "
              f"{or_unknown(lambda: cuda_version(runtime.driverGetVersion()))}, "
              f"CUPY_TF32={os.environ.get('CUPY_TF32', '0 (unset)')}")
    else:
        print(f"gpu: none ({plan.no_gpu_reason}); --allow-no-gpu: the cuda columns are n/a")
    if torch is None:
        print(f"torch: not importable ({TORCH_ERROR}); its column is n/a")
    else:
        cuda = (f"CUDA {torch.version.cuda}, {or_unknown(lambda: torch.cuda.get_device_name(0))}, TF32 off"
                if plan.torch_cuda else "no CUDA: its column is n/a")
        print(f"torch: {torch.__version__} ({cuda})")
    print(f"numpy {np.__version__}, python {platform.python_version()}, tinygrad_edu {tg.__version__}, "
          f"TINYGRAD_EDU_FUSED={os.environ.get('TINYGRAD_EDU_FUSED', 'unset')}; "
          f"cpu: {cpu_model()}, {os.cpu_count()} CPUs")
    gpu_part = (f"GPU columns: median over {plan.blocks} block(s) of steps between device synchronisations, "
                f"after {plan.warmup} warm-up steps; " if plan.gpu else "")
    cpu_part = (f"edu cpu, the slow column: median of {plan.cpu_steps} single step(s) after 2 warm-up steps"
                if plan.cpu else "edu cpu: skipped (--no-cpu)")
    print(f"times per training step: {gpu_part}{cpu_part}")
    sys.stdout.flush()


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="a few steps per workload only (a smoke test, not a measurement)")
    parser.add_argument("--steps", type=int, default=None,
                        help="timed GPU steps per implementation and workload, split into 5 blocks "
                             "(default: 200 for a, 50 for b, 100 for c)")
    parser.add_argument("--workloads", default="a,b,c", help="comma-separated, e.g. a,c (default: a,b,c)")
    parser.add_argument("--no-cpu", action="store_true", help="skip the edu cpu column (the slow one)")
    parser.add_argument("--cpu-steps", type=int, default=None,
                        help="timed steps of the edu cpu column (default 5; 1 with --quick)")
    parser.add_argument("--allow-no-gpu", action="store_true",
                        help="without a GPU, measure the CPU column alone instead of exiting with status 2")
    parser.add_argument("--no-hand", action="store_true", help="skip the cupy-by-hand column")
    args = parser.parse_args(argv)
    args.workloads = [w.strip().lower().strip("()") for w in args.workloads.split(",") if w.strip()]
    unknown = [w for w in args.workloads if w not in WORKLOADS]
    if unknown or not args.workloads:
        parser.error(f"--workloads: unknown workload(s) {unknown}; choose from a,b,c")
    for option in ("steps", "cpu_steps"):
        value = getattr(args, option)
        if value is not None and value < 1:
            parser.error(f"--{option.replace('_', '-')} must be at least 1")
    return args


def why_no_gpu() -> str:
    if importlib.util.find_spec("cupy") is None:
        return "CuPy is not installed"
    return "CuPy is installed but sees no usable NVIDIA GPU"


def make_plan(args):
    gpu = backend.cuda_available()                         # imports CuPy and asks it for a GPU
    reason = None if gpu else why_no_gpu()
    torch_cuda = gpu and torch is not None and torch.cuda.is_available()
    blocks = 2 if args.quick else 5

    def steps_per_block(spec):
        total = args.steps if args.steps is not None else (4 if args.quick else spec.steps)
        return max(1, total // blocks)

    return SimpleNamespace(
        quick=args.quick, gpu=gpu, no_gpu_reason=reason, torch_cuda=torch_cuda,
        hand=gpu and not args.no_hand, hand_check=not args.no_hand and torch is not None,
        cpu=not args.no_cpu, cpu_steps=args.cpu_steps or (1 if args.quick else 5),
        warmup=3 if args.quick else 10, blocks=blocks, steps_per_block=steps_per_block)


def main(argv) -> int:
    args = parse_args(argv)
    plan = make_plan(args)
    if not plan.gpu and not args.allow_no_gpu:
        print(f"bench_gpu.py: no GPU to measure: {plan.no_gpu_reason}. Install the gpu extra, "
              'pip install -e ".[gpu]" (CuPy for CUDA 12; cupy-cuda13x for CUDA 13), or pass '
              "--allow-no-gpu to measure the CPU column alone.", file=sys.stderr)
        return 2
    if not plan.gpu and not plan.cpu:
        print("bench_gpu.py: nothing to measure: no GPU, and --no-cpu skips the CPU", file=sys.stderr)
        return 2
    if plan.torch_cuda:                                    # plain FP32 in torch, as in CuPy
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        torch.set_float32_matmul_precision("highest")

    print_header(plan)
    print("running:", file=sys.stderr, flush=True)
    errors, results, rows = [], [], []
    for name in args.workloads:
        spec = WORKLOADS[name]
        if plan.quick and not plan.gpu and name == "b":
            spec = SimpleNamespace(**vars(spec))
            spec.label = spec.label.replace(f"batch {spec.batch}", f"batch {QUICK_CPU_BATCH}*")
            print(f"note: {spec.label}: --quick without a GPU cuts the batch from {spec.batch} to "
                  f"{QUICK_CPU_BATCH}, to keep a smoke test short on a small CPU")
            spec.batch = QUICK_CPU_BATCH
        result = attempt(errors, spec.label, run_workload, spec, plan, errors)
        results.append(result)
        rows.append(error_row(spec) if result is None else table_row(result))

    print()
    print_table(rows)
    print()
    all_agree = True
    for result in results:
        if result is not None:
            all_agree &= print_checks(result)
    for result in results:
        if result is not None:
            print_losses(result)
    for result in results:
        if result is not None:
            print_memory(result)
    if errors:
        print(f"{len(errors)} error(s): " + "; ".join(errors))
    sys.stdout.flush()
    return 1 if errors or not all_agree else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
