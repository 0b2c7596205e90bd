"""Training-epoch benchmark: tinygrad_edu vs PyTorch (CPU), measured in the same run.

Four workloads, each one epoch of mini-batch training with the library's own layers,
loss and optimizer (CrossEntropyLoss, SGD(momentum=0.9)). The MLP, CNN and ResNet train on
MNIST-shaped synthetic data (the network here reaches only package registries, and the
timing does not depend on the pixel values); the U-Net segments the 64x64 images of
tinygrad_edu.vision.make_shapes (per-pixel cross-entropy over background + 3 classes):

  MLP     784-256-128-10, ReLU; batch 128, 60,000 samples
  CNN     Conv(1->8, 3x3, pad 1), ReLU, MaxPool 2, Conv(8->16, 3x3, pad 1), ReLU, MaxPool 2,
          Flatten, Linear(784->10); batch 128, 10,000 samples of 1x28x28
  ResNet  Conv(1->16, 3x3) BN ReLU, two residual blocks (16->16; 16->32 with stride 2 and a
          1x1 conv shortcut; each conv-BN-ReLU-conv-BN + shortcut, ReLU), AdaptiveAvgPool2d(1),
          Linear(32->10); batch 128, 2,560 samples of 1x28x28 (fewer: an epoch of 60,000
          would take minutes per library)
  U-Net   two levels down (conv-BN-ReLU x2, 8 and 16 channels, MaxPool 2), a 32-channel bottom,
          two levels up (ConvTranspose2d 2x2 stride 2, concatenated with the skip connection,
          conv-BN-ReLU x2), a 1x1 conv to 4 classes; batch 16, 256 images of 1x64x64

Both libraries shuffle with a permutation and slice batches from tensors already in memory
(the fastest way each offers), start from the same weights (PyTorch's initialisation,
copied through state_dict), and run with the same number of threads. The table gives the
median epoch time of --epochs epochs after one warm-up epoch (the two libraries' epochs
taken in turns, so that a busy spell of a shared machine falls on both), and the time per step;
"out diff" is the largest difference between the two models' outputs on 8 samples before
training (eval mode), which shows that they compute the same function. Targets: the MLP
at most 1.0x PyTorch's time, the CNN 1.1x, the ResNet and the U-Net 1.5x. --quick (a smoke
test, tests/test_benchmark_smoke.py) uses a few batches of each and one timed epoch.

    python benchmarks/bench_training.py [--threads 2] [--epochs 3] [--quick]
"""
from __future__ import annotations

import argparse
import os
import statistics
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
from tinygrad_edu.vision import make_shapes  # noqa: E402

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


def resnet_pair():
    return resnet(tnn), resnet(torch.nn)


def resnet(lib):
    """A small ResNet for 1x28x28 images, built from the layers of `lib` (tinygrad_edu.nn or torch.nn)."""

    class BasicBlock(lib.Module):
        """relu(bn(conv(relu(bn(conv(x))))) + shortcut(x)), torchvision's BasicBlock."""

        def __init__(self, c_in, c_out, stride=1):
            super().__init__()
            self.conv1 = lib.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
            self.bn1 = lib.BatchNorm2d(c_out)
            self.conv2 = lib.Conv2d(c_out, c_out, 3, padding=1, bias=False)
            self.bn2 = lib.BatchNorm2d(c_out)
            self.downsample = None
            if stride != 1 or c_in != c_out:
                self.downsample = lib.Sequential(lib.Conv2d(c_in, c_out, 1, stride=stride, bias=False),
                                                 lib.BatchNorm2d(c_out))

        def forward(self, x):
            out = self.bn2(self.conv2(self.bn1(self.conv1(x)).relu()))
            return (out + (x if self.downsample is None else self.downsample(x))).relu()

    return lib.Sequential(lib.Conv2d(1, 16, 3, padding=1, bias=False), lib.BatchNorm2d(16), lib.ReLU(),
                          BasicBlock(16, 16), BasicBlock(16, 32, stride=2),
                          lib.AdaptiveAvgPool2d(1), lib.Flatten(), lib.Linear(32, 10))


def unet_pair():
    return unet(tnn, tg.Tensor.cat), unet(torch.nn, torch.cat)


def unet(lib, cat):
    """A two-level U-Net for 1x64x64 images and 4 classes per pixel, from the layers of `lib`."""

    def double_conv(c_in, c_out):
        return lib.Sequential(lib.Conv2d(c_in, c_out, 3, padding=1, bias=False), lib.BatchNorm2d(c_out), lib.ReLU(),
                              lib.Conv2d(c_out, c_out, 3, padding=1, bias=False), lib.BatchNorm2d(c_out), lib.ReLU())

    class UNet(lib.Module):
        def __init__(self):
            super().__init__()
            self.down1, self.down2, self.bottom = double_conv(1, 8), double_conv(8, 16), double_conv(16, 32)
            self.pool = lib.MaxPool2d(2)
            self.up2, self.dec2 = lib.ConvTranspose2d(32, 16, 2, stride=2), double_conv(32, 16)
            self.up1, self.dec1 = lib.ConvTranspose2d(16, 8, 2, stride=2), double_conv(16, 8)
            self.head = lib.Conv2d(8, 4, 1)

        def forward(self, x):
            d1 = self.down1(x)                                  # (N, 8, 64, 64)
            d2 = self.down2(self.pool(d1))                      # (N, 16, 32, 32)
            b = self.bottom(self.pool(d2))                      # (N, 32, 16, 16)
            u2 = self.dec2(cat([self.up2(b), d2], dim=1))
            u1 = self.dec1(cat([self.up1(u2), d1], dim=1))
            return self.head(u1)                                # (N, 4, 64, 64) logits

    return UNet()


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


def time_epochs(runs, epochs: int) -> list[list[float]]:
    """The times of `epochs` epochs of each of `runs` after one warm-up epoch each, taken in turns
    (one epoch of each, then the next), so that a busy spell of a shared machine falls on both."""
    for run in runs:
        run()                                     # warm-up
    times = [[] for _ in runs]
    for _ in range(epochs):
        for run, spent in zip(runs, times):
            start = time.perf_counter()
            run()
            spent.append(time.perf_counter() - start)
    return times


def random_digits(shape: tuple, n: int):
    """MNIST-shaped random images (n, *shape) and labels 0..9."""
    rng = np.random.default_rng(0)
    return rng.random((n,) + shape, dtype=np.float32), rng.integers(0, 10, n)


def shapes_masks(n: int):
    """make_shapes' 64x64 images (n, 1, 64, 64) and their masks (n, 64, 64) of classes 0..3."""
    shapes = make_shapes(n, image_size=64, random_state=0)
    return shapes.images, shapes.masks


def output_difference(ours, theirs, X) -> float:
    """max |ours(x) - theirs(x)| over the first 8 samples, in eval mode: the two models are one function."""
    ours.eval(), theirs.eval()
    with tg.no_grad(), torch.no_grad():
        diff = np.abs(ours(tg.Tensor(X[:8])).numpy() - theirs(torch.from_numpy(X[:8])).numpy()).max()
    ours.train(), theirs.train()
    return float(diff)


def measure(name: str, make_pair, data: tuple, epochs: int, target: float, batch: int = 128) -> dict:
    rng = np.random.default_rng(0)
    X, y = data
    n = len(X)
    torch.manual_seed(0)
    ours, theirs = make_pair()
    same_weights(ours, theirs)
    diff = output_difference(ours, theirs, X)
    opt_ours = tg.optim.SGD(ours.parameters(), lr=0.01, momentum=0.9)
    opt_torch = torch.optim.SGD(theirs.parameters(), lr=0.01, momentum=0.9)
    Xo, yo = tg.Tensor(X), tg.Tensor(y)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    g = torch.Generator().manual_seed(0)
    t_ours, t_torch = time_epochs([lambda: epoch_ours(ours, opt_ours, Xo, yo, batch, rng),
                                   lambda: epoch_torch(theirs, opt_torch, Xt, yt, batch, g)], epochs)
    ours_s, torch_s = statistics.median(t_ours), statistics.median(t_torch)
    return dict(name=name, n=n, ours=ours_s, torch=torch_s, ratio=ours_s / torch_s, target=target,
                steps=-(-n // batch), batch=batch, diff=diff)


def main() -> None:
    epochs = 1 if ARGS.quick else ARGS.epochs
    mlp_n, cnn_n, resnet_n, unet_n = (2048, 1024, 256, 32) if ARGS.quick else (60000, 10000, 2560, 256)
    print(f"tinygrad_edu training benchmark: {cpu_model()}, "
          f"{os.cpu_count()} CPUs, {ARGS.threads} threads; numpy {np.__version__}, torch {torch.__version__}; "
          f"median of {epochs} epoch(s) after a warm-up")
    header = (f"{'workload':<26} {'samples':>8} {'batch':>5} {'tinygrad_edu':>13} {'PyTorch':>10} "
              f"{'edu/torch':>10} {'target':>8}  met  {'out diff':>8}")
    print(header)
    print("-" * len(header), flush=True)
    workloads = [("MLP epoch 784-256-128-10", mlp_pair, lambda: random_digits((784,), mlp_n), 1.0, 128),
                 ("CNN epoch 1->8->16 conv", cnn_pair, lambda: random_digits((1, 28, 28), cnn_n), 1.1, 128),
                 ("ResNet epoch 2 blocks, BN", resnet_pair, lambda: random_digits((1, 28, 28), resnet_n), 1.5, 128),
                 ("U-Net epoch 64x64 shapes", unet_pair, lambda: shapes_masks(unet_n), 1.5, 16)]
    for name, make_pair, data, target, batch in workloads:     # each row as soon as it is measured
        r = measure(name, make_pair, data(), epochs, target, batch)
        met = "yes" if r["ratio"] <= r["target"] else "NO"
        print(f"{r['name']:<26} {r['n']:>8} {r['batch']:>5} {r['ours'] * 1e3:>10.0f} ms {r['torch'] * 1e3:>7.0f} ms "
              f"{r['ratio']:>9.2f}x {r['target']:>7.2f}x  {met:<3}  {r['diff']:>8.1e}")
        print(f"{'':<26} {'per step':>8} {'':>5} {r['ours'] / r['steps'] * 1e3:>10.2f} ms "
              f"{r['torch'] / r['steps'] * 1e3:>7.2f} ms", flush=True)


if __name__ == "__main__":
    main()
