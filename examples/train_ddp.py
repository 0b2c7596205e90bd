"""Data-parallel training in PyTorch of a model built with tinygrad_edu.

Start it with torchrun, which launches one copy of this script per process:

    torchrun --nproc_per_node=2 examples/train_ddp.py          # the CPU: 2 processes, the gloo backend
    torchrun --nproc_per_node=NUM_GPUS examples/train_ddp.py   # GPUs: one process per GPU, nccl

What every process does:
  1. builds the same tinygrad_edu MLP and converts it with tg.to_torch;
  2. wraps it in DistributedDataParallel (DDP). DDP copies rank 0's weights to every process
     when it is created, and after every backward() it averages the gradients over all
     processes, so every process takes exactly the same optimizer step;
  3. trains on its own shard of the data set (DistributedSampler gives each process a
     different part of it), so two processes see the data twice as fast as one.

At the end every process reports a checksum of its weights (they are all the same), and
rank 0 converts the model back with tg.from_torch, reports its accuracy and, with --out,
saves it with tg.save.
"""
import argparse
import hashlib
import os
import sys
import time

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

import tinygrad_edu as tg
from tinygrad_edu import Tensor, nn
from tinygrad_edu.data import make_moons


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="Train a tinygrad_edu MLP on two moons with "
                                                 "torch DistributedDataParallel (start it with torchrun).")
    parser.add_argument("--backend", choices=["gloo", "nccl"], default=None,
                        help="gloo trains on the CPU, nccl on one GPU per process "
                             "(default: nccl when torch sees a GPU, else gloo)")
    parser.add_argument("--epochs", type=int, default=20, help="passes over the data set (default 20)")
    parser.add_argument("--max-steps", type=int, default=None,
                        help="stop after this many optimizer steps, even in the middle of an epoch")
    parser.add_argument("--samples", type=int, default=1000, help="size of the data set (default 1000)")
    parser.add_argument("--batch-size", type=int, default=32, help="batch size of each process (default 32)")
    parser.add_argument("--lr", type=float, default=0.1, help="learning rate of SGD (default 0.1)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and the shuffling")
    parser.add_argument("--out", default=None, help="save the trained model here with tg.save (safetensors)")
    args = parser.parse_args(argv)
    if args.max_steps is not None and args.max_steps < 1:
        parser.error("--max-steps must be at least 1")
    return args


def build_model():
    """The MLP of the README's "Training a model", written with tinygrad_edu's nn."""
    return nn.Sequential(nn.Linear(2, 10), nn.ReLU(), nn.Linear(10, 20), nn.ReLU(), nn.Linear(20, 2))


def weights_checksum(state_dict):
    """A short fingerprint of a state_dict (torch's or tinygrad_edu's): SHA-256 over every name
    and the exact bytes of every value. Two models have the same fingerprint only when their
    weights are identical to the last bit."""
    digest = hashlib.sha256()
    for name, value in state_dict.items():
        if isinstance(value, torch.Tensor):
            array = value.detach().cpu().numpy()
        else:
            array = value.numpy()
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:16]


def report(text):
    """Print one line with a single write. torchrun runs the processes unbuffered, where print()
    writes the text and the newline separately, so the lines of two processes could run together."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def main(argv=None):
    args = parse_args(argv)
    if "RANK" not in os.environ:
        sys.exit("start this script with torchrun, e.g.: torchrun --nproc_per_node=2 examples/train_ddp.py")

    # Which backend, and where each process computes.
    backend = args.backend or ("nccl" if torch.cuda.is_available() else "gloo")
    if backend == "nccl":
        if not torch.cuda.is_available():
            sys.exit("--backend nccl needs a GPU and a CUDA build of PyTorch; use --backend gloo on the CPU")
        local_rank = int(os.environ["LOCAL_RANK"])     # this process's number on this machine (set by torchrun)
        device = torch.device("cuda", local_rank)      # one GPU per process
        torch.cuda.set_device(device)
        device_ids = [local_rank]
    else:
        device = torch.device("cpu")
        device_ids = None                              # DDP on the CPU takes no device ids

    # Join the other processes. torchrun has put the address of rank 0 and this process's
    # rank and the number of processes (the world size) in environment variables.
    dist.init_process_group(backend)
    rank = dist.get_rank()
    world_size = dist.get_world_size()

    # The same data set on every process; the sampler decides which part each one trains on.
    X, y = make_moons(n_samples=args.samples, noise=0.1, random_state=0)
    dataset = TensorDataset(torch.from_numpy(X), torch.from_numpy(y))
    sampler = DistributedSampler(dataset, shuffle=True, seed=args.seed)
    loader = DataLoader(dataset, batch_size=args.batch_size, sampler=sampler)

    # The model: built in tinygrad_edu, trained in PyTorch.
    tg.manual_seed(args.seed)
    model = build_model()
    torch_model = tg.to_torch(model).to(device)
    ddp = DistributedDataParallel(torch_model, device_ids=device_ids)
    optimizer = torch.optim.SGD(ddp.parameters(), lr=args.lr, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    first_weights = weights_checksum(ddp.module.state_dict())

    started = time.perf_counter()
    steps = 0
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)                       # a new shuffle every epoch, the same on every process
        loss_sum, batches = 0.0, 0
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device)
            loss = loss_fn(ddp(xb), yb)                # call ddp, not torch_model: that is what syncs
            optimizer.zero_grad()
            loss.backward()                            # DDP averages the gradients of all processes here
            optimizer.step()
            loss_sum += loss.item()
            batches += 1
            steps += 1
            if steps == args.max_steps:
                break
        # Each process knows only the losses of its own shard: add them up over all processes
        # (all_reduce sums a tensor over the processes, in place, on every process).
        totals = torch.tensor([loss_sum, batches], dtype=torch.float64, device=device)
        dist.all_reduce(totals)
        if rank == 0:
            report(f"epoch {epoch + 1}: mean loss {totals[0].item() / totals[1].item():.4f}")
        if steps == args.max_steps:
            break
    seconds = time.perf_counter() - started

    # Every process reports the fingerprint of its weights: DDP keeps them identical.
    report(f"rank {rank}/{world_size} ({backend}, {device}): {steps} steps on {len(sampler)} samples "
           f"in {seconds:.2f} s, weights {first_weights} -> {weights_checksum(ddp.module.state_dict())}")

    if rank == 0:
        # Back to tinygrad_edu. Convert ddp.module (the torch.nn.Sequential inside the wrapper),
        # not ddp itself: its state_dict names are "0.weight", ..., without DDP's "module." prefix.
        trained = tg.from_torch(ddp.module)
        trained.eval()
        ddp.module.eval()
        with tg.no_grad():
            ours = trained(Tensor(X)).numpy()
        with torch.no_grad():
            theirs = ddp.module(torch.from_numpy(X).to(device)).cpu().numpy()
        accuracy = (ours.argmax(axis=1) == y).mean()
        report(f"rank 0: from_torch model: accuracy {accuracy:.3f}, "
               f"weights {weights_checksum(trained.state_dict())}, "
               f"largest difference to the torch model's outputs {np.abs(ours - theirs).max():.1e}")
        if args.out:
            tg.save(trained.state_dict(), args.out)
            report(f"rank 0: saved the model to {args.out}")

    dist.destroy_process_group()


if __name__ == "__main__":
    main()
