"""Training-epoch benchmark: tinygrad_edu vs PyTorch (CPU), measured in the same run.

Two workloads, each one epoch of mini-batch training with the library's own layers,
loss and optimizer, on MNIST-shaped synthetic data (the network here reaches only package
registries, and the timing does not depend on the pixel values):

  MLP  784-256-128-10, ReLU, CrossEntropyLoss, SGD(momentum=0.9), batch 128, 60,000 samples
  CNN  Conv(1->8, 3x3, pad 1), ReLU, MaxPool 2, Conv(8->16, 3x3, pad 1), ReLU, MaxPool 2,
       Flatten, Linear(784->10); batch 128, 10,000 samples of 1x28x28

Both libraries shuffle with a permutation and slice batches from tensors already in memory
(the fastest way each offers), start from the same weights, and run with the same number of
threads. The table gives the median epoch time of --epochs epochs after one warm-up epoch.

    python benchmarks/bench_training.py [--threads 2] [--epochs 3] [--quick]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="threads for BLAS and PyTorch (default 2)")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per workload (default 3)")
    parser.add_argument("--quick", action="store_true", help="small data, one timed epoch (a smoke test)")
    return parser.parse_args()


ARGS = parse_args()
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)          # before NumPy and torch load their BLAS

import numpy as np  # noqa: E402
import torch  # noqa: E402

import tinygrad_edu as tg  # noqa: E402
from tinygrad_edu import nn as tnn  # noqa: E402

from machine import cpu_model  # noqa: E402  (benchmarks/machine.py, beside this script)

torch.set_num_threads(ARGS.threads)


# ----------------------------------------------------------------------------- models

def mlp_pair():
    ours = tnn.Sequential(tnn.Linear(784, 256), tnn.ReLU(), tnn.Linear(256, 128), tnn.ReLU(), tnn.Linear(128, 10))
    theirs = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128),
                                 torch.nn.ReLU(), torch.nn.Linear(128, 10))
    return ours, theirs


def cnn_pair():
    ours = tnn.Sequential(tnn.Conv2d(1, 8, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
                          tnn.Conv2d(8, 16, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
                          tnn.Flatten(), tnn.Linear(16 * 7 * 7, 10))
    theirs = torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                                 torch.nn.Conv2d(8, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                                 torch.nn.Flatten(), torch.nn.Linear(16 * 7 * 7, 10))
    return ours, theirs


def same_weights(ours, theirs) -> None:
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


# ----------------------------------------------------------------------------- one epoch each

def epoch_ours(model, optimizer, X, y, batch, rng) -> float:
    loss_fn = tnn.CrossEntropyLoss()
    order = rng.permutation(len(X.data))
    last = None
    for start in range(0, len(order), batch):
        rows = order[start:start + batch]
        loss = loss_fn(model(X[rows]), y[rows])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        last = loss
    return last.item()


def epoch_torch(model, optimizer, X, y, batch, generator) -> float:
    loss_fn = torch.nn.CrossEntropyLoss()
    order = torch.randperm(len(X), generator=generator)
    last = None
    for start in range(0, len(order), batch):
        rows = order[start:start + batch]
        loss = loss_fn(model(X[rows]), y[rows])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        last = loss
    return last.item()


def time_epochs(run, epochs: int) -> list[float]:
    run()                                         # warm-up
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return times


def measure(name: str, make_pair, shape: tuple, n: int, epochs: int, target: float) -> dict:
    rng = np.random.default_rng(0)
    X = rng.random((n,) + shape, dtype=np.float32)
    y = rng.integers(0, 10, n)
    torch.manual_seed(0)
    ours, theirs = make_pair()
    same_weights(ours, theirs)
    opt_ours = tg.optim.SGD(ours.parameters(), lr=0.01, momentum=0.9)
    opt_torch = torch.optim.SGD(theirs.parameters(), lr=0.01, momentum=0.9)
    Xo, yo = tg.Tensor(X), tg.Tensor(y)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    g = torch.Generator().manual_seed(0)
    t_ours = time_epochs(lambda: epoch_ours(ours, opt_ours, Xo, yo, 128, rng), epochs)
    t_torch = time_epochs(lambda: epoch_torch(theirs, opt_torch, Xt, yt, 128, g), epochs)
    ours_s, torch_s = statistics.median(t_ours), statistics.median(t_torch)
    return dict(name=name, n=n, ours=ours_s, torch=torch_s, ratio=ours_s / torch_s, target=target,
                steps=(n + 127) // 128)


def main() -> None:
    epochs = 1 if ARGS.quick else ARGS.epochs
    mlp_n, cnn_n = (2048, 1024) if ARGS.quick else (60000, 10000)
    print(f"tinygrad_edu training benchmark: {cpu_model()}, "
          f"{os.cpu_count()} CPUs, {ARGS.threads} threads; numpy {np.__version__}, torch {torch.__version__}; "
          f"median of {epochs} epoch(s) after a warm-up")
    rows = [measure("MLP epoch 784-256-128-10", mlp_pair, (784,), mlp_n, epochs, 1.0),
            measure("CNN epoch 1->8->16 conv", cnn_pair, (1, 28, 28), cnn_n, epochs, 2.0)]
    header = f"{'workload':<26} {'samples':>8} {'tinygrad_edu':>13} {'PyTorch':>10} {'edu/torch':>10} {'target':>8}  met"
    print(header)
    print("-" * len(header))
    for r in rows:
        met = "yes" if r["ratio"] <= r["target"] else "NO"
        print(f"{r['name']:<26} {r['n']:>8} {r['ours'] * 1e3:>10.0f} ms {r['torch'] * 1e3:>7.0f} ms "
              f"{r['ratio']:>9.2f}x {r['target']:>7.2f}x  {met}")
        print(f"{'':<26} {'per step':>8} {r['ours'] / r['steps'] * 1e3:>10.2f} ms "
              f"{r['torch'] / r['steps'] * 1e3:>7.2f} ms")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
