"""Sequence-model benchmark: tinygrad_edu vs PyTorch (CPU), one training step, measured in the same run.

Three workloads, each written once with the layers of `lib` (tinygrad_edu.nn or torch.nn), so
both libraries run the same model with their own layers, loss and optimizer:

  LSTM       nn.LSTM(64 -> 128) over a sequence of 32 steps, batch 32 (sequence first,
             (L, N, E) as torch's default), nn.Linear(128 -> 64) on every step's output,
             MSELoss against a target vector per step, Adam(lr=1e-3)
  GPT        a character-level GPT: token and position nn.Embedding (vocabulary 64, context 32),
             2 pre-norm transformer blocks (d_model 64, 4 heads; x + attention(LayerNorm(x)) with
             nn.MultiheadAttention and a causal mask, then x + MLP(LayerNorm(x)) with
             Linear(64 -> 256), GELU, Linear(256 -> 64)), a final LayerNorm, a Linear head to the
             64 characters, cross-entropy on the next character, batch 32, Adam(lr=1e-3)
  Embedding  nn.Embedding(10,000, 64), 4,096 random indices: forward and backward with a random
             upstream gradient (no optimizer: the gather and the scatter-add alone)

One training step is zero_grad, forward, loss, backward, optimizer.step. The data is random
(token ids, vectors): the time of a step does not depend on the values, and the network here
reaches only package registries. Both libraries start from the same weights (PyTorch's
initialisation, copied through state_dict) and run with the same number of threads: the
environment variables below are set before NumPy or torch is imported, because the BLAS
libraries read them only once, at import.

How the numbers are taken: every step is timed on its own with time.perf_counter, and the
table shows the median; a line below it gives the median CPU time of a step (time.process_time,
all of this process's threads) too, which with --threads 1 hardly changes when other processes
take the CPUs. The timed steps are split into rounds (a block of tinygrad_edu steps, then a
block of PyTorch steps, and again), so that a slow moment of the machine hits both; each block
starts with untimed warm-up steps, for at least 0.2 s, so that one library's spinning worker
threads do not slow the other one down (see benchmarks/bench_cpu.py). The header shows the load
average when the run began; after the table we print how many CPUs other processes kept busy
meanwhile (Linux), with a warning when that is more than a fifth of one: on a busy machine the
times are inflated, the multi-threaded ones most (two BLAS threads on a machine whose two CPUs
are taken wait for each other), and the ratios are not to be trusted.

After the table, a check: from fresh identical weights, one step in each library, comparing
the loss and every parameter's gradient, then the loss after Adam's update (the update is
checked too). The exit code is 0 even when a target is missed (this is a benchmark, not a
test); it is 1 only when the two libraries disagree, which means a bug.

    python benchmarks/bench_sequences.py [--threads 2] [--steps N] [--only lstm,gpt] [--quick]
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from types import SimpleNamespace

WORKLOADS = ("lstm", "gpt", "embedding")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="threads for BLAS and PyTorch (default 2)")
    parser.add_argument("--steps", type=int, default=None,
                        help="timed steps per workload and library (default: 40 for lstm and gpt, "
                             "300 for embedding)")
    parser.add_argument("--only", default=",".join(WORKLOADS),
                        help=f"comma-separated workloads to run (default: all of {','.join(WORKLOADS)})")
    parser.add_argument("--quick", action="store_true",
                        help="one warm-up and two timed steps per workload (a smoke test, not a measurement)")
    args = parser.parse_args(argv)
    args.only = [name.strip().lower() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in args.only if name not in WORKLOADS]
    if unknown or not args.only:
        parser.error(f"--only: unknown workload(s) {unknown}; choose from {','.join(WORKLOADS)}")
    if args.threads < 1:
        parser.error("--threads must be at least 1")
    if args.steps is not None and args.steps < 1:
        parser.error("--steps must be at least 1")
    return args


ARGS = parse_args(sys.argv[1:] if __name__ == "__main__" else [])
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)          # before NumPy and torch load their BLAS

import numpy as np  # noqa: E402
import torch  # noqa: E402

import tinygrad_edu as tg  # noqa: E402
from tinygrad_edu import nn as tnn  # noqa: E402

from machine import cpu_model, cpu_usage, load_average, other_processes_cpus  # noqa: E402  (beside this script)

torch.set_num_threads(ARGS.threads)

ROUNDS = 4          # the timed steps are split into this many blocks per library
SETTLE = 0.2        # seconds of untimed steps at least before each block
LR = 1e-3           # Adam's step size
TOLERANCE = 1e-4    # the check: largest difference / largest value of the reference, per tensor

SEQ_LEN, BATCH, INPUT, HIDDEN = 32, 32, 64, 128                      # the LSTM
VOCAB, CONTEXT, D_MODEL, HEADS, BLOCKS = 64, 32, 64, 4, 2             # the GPT (batch 32 as well)
TABLE_ROWS, TABLE_DIM, LOOKUPS = 10_000, 64, 4_096                   # the Embedding


# ----------------------------------------------------------------------------- models

def lstm_model(lib):
    """LSTM(64 -> 128) and a Linear(128 -> 64) read-out at every step: (L, N, 64) -> (L, N, 64)."""

    class SequenceRegressor(lib.Module):
        def __init__(self):
            super().__init__()
            self.lstm = lib.LSTM(INPUT, HIDDEN)
            self.head = lib.Linear(HIDDEN, INPUT)

        def forward(self, x):
            output, _ = self.lstm(x)                 # (L, N, hidden): h_t at every step
            return self.head(output)

    return SequenceRegressor()


def gpt_model(lib, as_tensor):
    """A character-level GPT of BLOCKS pre-norm blocks: token ids (N, L) -> logits (N, L, VOCAB).
    as_tensor turns a NumPy array into the library's tensor (for the two constant buffers)."""

    class Block(lib.Module):
        """x + attention(LayerNorm(x)), then x + MLP(LayerNorm(x)): GPT-2's block."""

        def __init__(self):
            super().__init__()
            self.ln1 = lib.LayerNorm(D_MODEL)
            self.attn = lib.MultiheadAttention(D_MODEL, HEADS, batch_first=True)
            self.ln2 = lib.LayerNorm(D_MODEL)
            self.mlp = lib.Sequential(lib.Linear(D_MODEL, 4 * D_MODEL), lib.GELU(), lib.Linear(4 * D_MODEL, D_MODEL))

        def forward(self, x, causal):
            h = self.ln1(x)
            x = x + self.attn(h, h, h, attn_mask=causal, need_weights=False, is_causal=True)[0]
            return x + self.mlp(self.ln2(x))

    class GPT(lib.Module):
        def __init__(self):
            super().__init__()
            self.tok = lib.Embedding(VOCAB, D_MODEL)
            self.pos = lib.Embedding(CONTEXT, D_MODEL)
            self.blocks = lib.ModuleList([Block() for _ in range(BLOCKS)])
            self.ln_f = lib.LayerNorm(D_MODEL)
            self.head = lib.Linear(D_MODEL, VOCAB)
            # True above the diagonal: position i may not attend to the positions after it
            self.register_buffer("causal", as_tensor(np.triu(np.ones((CONTEXT, CONTEXT), dtype=bool), 1)),
                                 persistent=False)
            self.register_buffer("positions", as_tensor(np.arange(CONTEXT)), persistent=False)

        def forward(self, idx):
            x = self.tok(idx) + self.pos(self.positions)           # (N, L, d) + (L, d)
            for block in self.blocks:
                x = block(x, self.causal)
            return self.head(self.ln_f(x))

    return GPT()


def same_weights(ours, theirs) -> None:
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


# ----------------------------------------------------------------------------- the workloads

# Each workload builds, from the same seed, SimpleNamespace(ours=..., theirs=...) of
#   step()       one timed step
#   gradients()  one forward + backward from the current weights (no update), returning
#                (the loss or None, {parameter name: its gradient as a NumPy array})
#   update()     the optimizer's step (no-op for the Embedding)

def training(model, optimizer, loss_fn, x, target):
    """step / gradients / update of one model with its own optimizer, loss and data."""

    def forward_backward():
        optimizer.zero_grad()
        loss = loss_fn(model(x), target)
        loss.backward()
        return loss

    def step():
        forward_backward()
        optimizer.step()

    def gradients():
        loss = forward_backward()
        return loss.item(), {name: p.grad.numpy() for name, p in model.named_parameters()}

    return SimpleNamespace(step=step, gradients=gradients, update=optimizer.step)


def lstm_workload():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((SEQ_LEN, BATCH, INPUT), dtype=np.float32)
    y = rng.standard_normal((SEQ_LEN, BATCH, INPUT), dtype=np.float32)
    torch.manual_seed(0)
    theirs, ours = lstm_model(torch.nn), lstm_model(tnn)
    same_weights(ours, theirs)
    return SimpleNamespace(
        ours=training(ours, tg.optim.Adam(ours.parameters(), lr=LR), tnn.MSELoss(), tg.Tensor(x), tg.Tensor(y)),
        theirs=training(theirs, torch.optim.Adam(theirs.parameters(), lr=LR), torch.nn.MSELoss(),
                        torch.from_numpy(x), torch.from_numpy(y)))


def gpt_workload():
    rng = np.random.default_rng(1)
    text = rng.integers(0, VOCAB, size=(BATCH, CONTEXT + 1))        # random characters, one more than the context
    x, y = text[:, :-1], text[:, 1:].reshape(-1)                    # the next character is the target
    torch.manual_seed(0)
    theirs, ours = gpt_model(torch.nn, torch.from_numpy), gpt_model(tnn, tg.Tensor)
    same_weights(ours, theirs)

    def flat(loss_fn):
        return lambda logits, target: loss_fn(logits.reshape(-1, VOCAB), target)

    return SimpleNamespace(
        ours=training(ours, tg.optim.Adam(ours.parameters(), lr=LR), flat(tnn.CrossEntropyLoss()),
                      tg.Tensor(x), tg.Tensor(y)),
        theirs=training(theirs, torch.optim.Adam(theirs.parameters(), lr=LR), flat(torch.nn.CrossEntropyLoss()),
                        torch.from_numpy(x), torch.from_numpy(y)))


def embedding_workload():
    rng = np.random.default_rng(2)
    idx = rng.integers(0, TABLE_ROWS, size=LOOKUPS)
    upstream = rng.standard_normal((LOOKUPS, TABLE_DIM), dtype=np.float32)
    torch.manual_seed(0)
    theirs, ours = torch.nn.Embedding(TABLE_ROWS, TABLE_DIM), tnn.Embedding(TABLE_ROWS, TABLE_DIM)
    same_weights(ours, theirs)

    def lookup(layer, indices, grad):
        def step():
            layer.weight.grad = None
            layer(indices).backward(grad)

        def gradients():
            step()
            return None, {"weight": layer.weight.grad.numpy()}

        return SimpleNamespace(step=step, gradients=gradients, update=lambda: None)

    return SimpleNamespace(ours=lookup(ours, tg.Tensor(idx), tg.Tensor(upstream)),
                           theirs=lookup(theirs, torch.from_numpy(idx), torch.from_numpy(upstream)))


# Per workload: its table label, how to build it, its timed steps and its target (edu / torch <= limit).
SPECS = {
    "lstm": dict(label="LSTM 64->128, L32 N32, Adam", build=lstm_workload, steps=40, target=1.5),
    "gpt": dict(label="GPT 2 blocks d64 h4, L32 N32", build=gpt_workload, steps=40, target=1.5),
    "embedding": dict(label="Embedding 10000x64, 4096 idx", build=embedding_workload, steps=300, target=2.0),
}


# ----------------------------------------------------------------------------- timing

def measure(steps_by_name: dict, warmup: int, steps: int, settle: float) -> tuple[dict, dict]:
    """The wall-clock seconds and the CPU seconds (of this process, all its threads) of each timed
    step, a list per library each, in ROUNDS blocks per library; each block starts with untimed steps
    (`warmup` in the first round, one later, and at least `settle` seconds)."""
    rounds = min(ROUNDS, steps)
    wall, cpu = {name: [] for name in steps_by_name}, {name: [] for name in steps_by_name}
    for r in range(rounds):
        count = steps // rounds + (1 if r < steps % rounds else 0)
        for name, step in steps_by_name.items():
            untimed = warmup if r == 0 else min(warmup, 1)
            settled = time.perf_counter() + settle
            while untimed > 0 or time.perf_counter() < settled:
                step()
                untimed -= 1
            for _ in range(count):
                start, start_cpu = time.perf_counter(), time.process_time()
                step()
                wall[name].append(time.perf_counter() - start)
                cpu[name].append(time.process_time() - start_cpu)
    return wall, cpu


def run(name: str, args) -> dict:
    spec = SPECS[name]
    pair = spec["build"]()
    warmup, steps = (1, 2) if args.quick else (3, spec["steps"])
    if args.steps is not None:
        steps = args.steps
    print(f"  {name}: {warmup} warm-up + {steps} timed steps each ...", file=sys.stderr, flush=True)
    wall, cpu = measure({"ours": pair.ours.step, "theirs": pair.theirs.step}, warmup, steps,
                        0.0 if args.quick else SETTLE)
    ours, theirs = statistics.median(wall["ours"]), statistics.median(wall["theirs"])
    return dict(name=name, ours=ours, theirs=theirs, ratio=ours / theirs, steps=steps,
                ours_cpu=statistics.median(cpu["ours"]), theirs_cpu=statistics.median(cpu["theirs"]))


# ----------------------------------------------------------------------------- the check

def relative_difference(mine, reference) -> float:
    """max |mine - reference| / max |reference|: how far apart two tensors are, on the reference's scale."""
    mine, reference = np.asarray(mine, dtype=np.float64), np.asarray(reference, dtype=np.float64)
    return float(np.max(np.abs(mine - reference))) / max(float(np.max(np.abs(reference))), 1e-12)


def check(name: str) -> bool:
    """From fresh identical weights: the loss and every gradient after one forward + backward, then
    (where there is an optimizer) the loss after the update. Prints one line; True if they agree."""
    pair = SPECS[name]["build"]()
    loss_ours, grads_ours = pair.ours.gradients()
    loss_theirs, grads_theirs = pair.theirs.gradients()
    if grads_ours.keys() != grads_theirs.keys():
        print(f"check: {name} DISAGREE: parameter names differ: {sorted(grads_ours)} vs {sorted(grads_theirs)}")
        return False
    grad_diffs = {k: relative_difference(grads_ours[k], grads_theirs[k]) for k in grads_theirs}
    worst = max(grad_diffs, key=grad_diffs.get)
    agree = grad_diffs[worst] <= TOLERANCE
    note = f"{len(grad_diffs)} gradient(s), worst {worst} {grad_diffs[worst]:.1e}"
    if loss_theirs is not None:
        loss_diff = abs(loss_ours - loss_theirs) / abs(loss_theirs)
        pair.ours.update()
        pair.theirs.update()
        after_ours, after_theirs = pair.ours.gradients()[0], pair.theirs.gradients()[0]
        after_diff = abs(after_ours - after_theirs) / abs(after_theirs)
        agree &= loss_diff <= TOLERANCE and after_diff <= TOLERANCE
        note = (f"loss {loss_theirs:.5f} (diff {loss_diff:.1e}), {note}; loss after the Adam step "
                f"{after_theirs:.5f} (diff {after_diff:.1e})")
    what = "gradients" if loss_theirs is None else "loss and gradients"
    print(f"check: {name} {what} {'agree' if agree else 'DISAGREE'} ({note}; relative differences, "
          f"tolerance {TOLERANCE:.0e})")
    return agree


# ----------------------------------------------------------------------------- the table

def format_time(seconds: float) -> str:
    return f"{seconds * 1e6:.0f} us" if seconds < 1e-3 else f"{seconds * 1e3:.2f} ms"


def print_table(rows: list[dict]) -> None:
    cells = [["workload (one step)", "tinygrad_edu", "PyTorch", "edu/torch", "target", "met"]]
    for r in rows:
        limit = SPECS[r["name"]]["target"]
        cells.append([SPECS[r["name"]]["label"], format_time(r["ours"]), format_time(r["theirs"]),
                      f"{r['ratio']:.2f}x", f"<= {limit:.1f}x", "yes" if r["ratio"] <= limit else "NO"])
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    for i, row in enumerate(cells):
        print("  ".join([row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:-2], widths[1:-2])]
                        + [row[-2].ljust(widths[-2]), row[-1]]))
        if i == 0:
            print("  ".join("-" * w for w in widths))


def main(args) -> int:
    usage_at_start = cpu_usage()
    print(f"machine: {cpu_model()}, {os.cpu_count()} CPUs, load average {load_average():.2f}, "
          f"{args.threads} thread(s) for both (torch.get_num_threads()={torch.get_num_threads()}), "
          f"python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__}, "
          f"tinygrad_edu {tg.__version__}"
          + ("  [--quick: too few steps to be a measurement]" if args.quick else ""), flush=True)
    print("running (every step timed after warm-up):", file=sys.stderr, flush=True)
    rows = [run(name, args) for name in args.only]
    print()
    print_table(rows)
    print("median of " + ", ".join(f"{r['name']} {r['steps']}" for r in rows) + " timed steps per library")
    print("CPU time per step, tinygrad_edu / PyTorch (median of time.process_time, all threads; with "
          "--threads 1 a busy machine hardly changes it):")
    for r in rows:
        print(f"  {r['name']:<10} {format_time(r['ours_cpu'])} / {format_time(r['theirs_cpu'])} = "
              f"{r['ours_cpu'] / r['theirs_cpu']:.2f}x")
    others = other_processes_cpus(usage_at_start)
    if others is not None:
        print(f"other processes kept {others:.2f} of {os.cpu_count()} CPUs busy during the run")
        if others > 0.2:
            print("warning: the machine was busy: the times are inflated, the multi-threaded BLAS ones most; "
                  "run again when it is idle (or with --threads 1)")
    print()
    all_agree = True
    for name in args.only:
        all_agree &= check(name)
    return 0 if all_agree else 1


if __name__ == "__main__":
    sys.exit(main(ARGS))
