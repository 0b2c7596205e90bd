"""The README's data-parallel example is real: examples/train_ddp.py trains a to_torch model
with torch.distributed (two processes on the CPU, the gloo backend, DistributedDataParallel),
and the model converted back with from_torch is the one that was trained.

The two-process run is started once for the whole module with
`python -m torch.distributed.run --standalone` (what `torchrun` runs; --standalone picks a
free port, so parallel runs do not collide) and the tests read what each rank printed.
Everything is skipped, with the reason, where torch, torch.distributed or gloo is missing.
"""
import importlib.util
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn

pytestmark = [pytest.mark.lecture09]   # moving models to PyTorch and training them there

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "examples" / "train_ddp.py"
README = ROOT / "README.md"
TIMEOUT_S = 120          # normally about 10 s on 2 cores; the limit only stops a hung rendezvous

RANK_LINE = re.compile(r"rank (\d+)/(\d+) \((\w+), (\w+)\): (\d+) steps on (\d+) samples in [\d.]+ s, "
                       r"weights ([0-9a-f]{16}) -> ([0-9a-f]{16})")
FROM_TORCH_LINE = re.compile(r"rank 0: from_torch model: accuracy ([\d.]+), weights ([0-9a-f]{16}), "
                             r"largest difference to the torch model's outputs ([-+.\de]+)")


def torch_with_gloo():
    """torch, or a skip that says what is missing."""
    torch = pytest.importorskip("torch")
    if not torch.distributed.is_available():
        pytest.skip("this PyTorch build has no torch.distributed")
    if not torch.distributed.is_gloo_available():
        pytest.skip("this PyTorch build has no gloo backend for torch.distributed")
    return torch


def gloo_environment() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    env["OMP_NUM_THREADS"] = "1"             # one thread per process (torchrun would set it, with a warning)
    env.pop("TINYGRAD_EDU_DEVICE", None)     # the tinygrad_edu side stays on the CPU
    if loopback_interface():
        env["GLOO_SOCKET_IFNAME"] = loopback_interface()
    return env


def loopback_interface():
    """The loopback interface, "lo", on Linux unless GLOO_SOCKET_IFNAME is set already. gloo picks
    its network interface from the host name, which on some machines resolves to an address
    that is not up; every process here is on this machine, so loopback is the one to use."""
    if "GLOO_SOCKET_IFNAME" not in os.environ and Path("/sys/class/net/lo").exists():
        return "lo"
    return None


def load_script():
    """examples/train_ddp.py as a module (for its build_model and weights_checksum)."""
    spec = importlib.util.spec_from_file_location("train_ddp", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def ddp_run(tmp_path_factory):
    """Run the script in 2 processes with gloo for 5 steps; return (its output, the saved file)."""
    torch_with_gloo()
    out = tmp_path_factory.mktemp("ddp") / "moons.safetensors"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
               str(SCRIPT), "--backend", "gloo", "--samples", "256", "--batch-size", "32",
               "--epochs", "3", "--max-steps", "5"]    # 4 steps an epoch: stops inside the second
    if importlib.util.find_spec("safetensors") is not None:
        command += ["--out", str(out)]
    # A session of its own, so that a hung run can be stopped with both of its workers.
    process = subprocess.Popen(command, cwd=ROOT, env=gloo_environment(), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        output, _ = process.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        if hasattr(os, "killpg"):
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
        output, _ = process.communicate()
        pytest.fail(f"torchrun did not finish in {TIMEOUT_S} s; its output:\n{output[-4000:]}")
    assert process.returncode == 0, f"torchrun failed (exit status {process.returncode}):\n{output[-4000:]}"
    return output, out


def rank_lines(output: str) -> dict:
    found = {}
    for rank, world, backend, device, steps, samples, first, last in RANK_LINE.findall(output):
        found[int(rank)] = dict(world=int(world), backend=backend, device=device, steps=int(steps),
                                samples=int(samples), first=first, last=last)
    return found


@pytest.mark.slow
def test_both_ranks_train_on_their_own_shard_for_the_steps_asked(ddp_run):
    output, _ = ddp_run
    ranks = rank_lines(output)
    assert sorted(ranks) == [0, 1], output
    for line in ranks.values():
        assert (line["world"], line["backend"], line["device"]) == (2, "gloo", "cpu")
        assert line["steps"] == 5                # --max-steps stopped both in the same place
        assert line["samples"] == 128            # half of the 256 each


@pytest.mark.slow
def test_both_ranks_end_with_identical_weights_that_training_changed(ddp_run):
    output, _ = ddp_run
    ranks = rank_lines(output)
    assert ranks[0]["first"] == ranks[1]["first"], output
    assert ranks[0]["last"] == ranks[1]["last"], output
    assert ranks[0]["last"] != ranks[0]["first"], "the weights did not change"


@pytest.mark.slow
def test_the_from_torch_model_is_the_trained_one_and_predicts_the_same(ddp_run):
    output, _ = ddp_run
    match = FROM_TORCH_LINE.search(output)
    assert match, output
    accuracy, weights, difference = float(match[1]), match[2], float(match[3])
    assert weights == rank_lines(output)[0]["last"]     # the very same bits as the torch weights
    assert difference <= 1e-6
    assert 0.0 <= accuracy <= 1.0


@pytest.mark.slow
def test_the_saved_file_holds_the_trained_weights(ddp_run):
    output, path = ddp_run
    if not path.exists():
        pytest.skip("safetensors is not installed, so the script was not asked to save (--out)")
    train_ddp = load_script()
    weights = tg.load(path)
    assert list(weights) == list(train_ddp.build_model().state_dict())
    assert train_ddp.weights_checksum(weights) == rank_lines(output)[0]["last"]
    model = train_ddp.build_model()
    model.load_state_dict(weights, strict=True)


def test_from_torch_after_ddp_training_keeps_torchs_state_dict_names(monkeypatch):
    """In this process, a world of one: DDP's own state_dict has a "module." prefix on every
    name, but from_torch(ddp.module) gives back the plain names, so the weights load into the
    tinygrad_edu model as they are. (The wrapper itself is no layer: from_torch refuses it.)"""
    torch = torch_with_gloo()
    dist = torch.distributed
    if dist.is_initialized():
        pytest.skip("a process group is already initialised in this process")
    if loopback_interface():
        monkeypatch.setenv("GLOO_SOCKET_IFNAME", loopback_interface())
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2))
    names = ["0.weight", "0.bias", "2.weight", "2.bias"]
    dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    try:
        ddp = torch.nn.parallel.DistributedDataParallel(tg.to_torch(model))
        optimizer = torch.optim.SGD(ddp.parameters(), lr=0.5)
        x, y = torch.randn(16, 2), torch.randint(0, 2, (16,))
        for _ in range(3):
            loss = torch.nn.functional.cross_entropy(ddp(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        assert list(ddp.state_dict()) == [f"module.{name}" for name in names]
        back = tg.from_torch(ddp.module)
        assert list(back.state_dict()) == list(ddp.module.state_dict()) == names
        for name, value in ddp.module.state_dict().items():
            np.testing.assert_array_equal(back.state_dict()[name].numpy(), value.numpy())
        assert not np.array_equal(back.state_dict()["0.weight"].numpy(),
                                  model.state_dict()["0.weight"].numpy())     # it trained
        model.load_state_dict(back.state_dict(), strict=True)        # the names fit the original model
        with pytest.raises(TypeError, match=r"DistributedDataParallel wrapper.*from_torch\(model\.module\)"):
            tg.from_torch(ddp)
    finally:
        dist.destroy_process_group()


def test_the_readme_data_parallel_lines_are_the_scripts_lines():
    """The README's data-parallel block cannot run on its own (it needs torchrun), so it is not
    run by test_readme.py; instead every code line of it must be a line of examples/train_ddp.py,
    which the tests above run."""
    blocks = [b for b in re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
              if "DistributedDataParallel" in b]
    assert len(blocks) == 1, "expected one README block with DistributedDataParallel"
    script_lines = {code(line) for line in SCRIPT.read_text(encoding="utf-8").splitlines()}
    missing = [line for line in map(code, blocks[0].splitlines()) if line and line not in script_lines]
    assert not missing, f"README lines that are not in {SCRIPT.name}: {missing}"
    assert "torchrun --nproc_per_node=2 examples/train_ddp.py" in README.read_text(encoding="utf-8")


def code(line: str) -> str:
    """A line without its comment and its indentation (the README's comments are shorter)."""
    return line.split("#", 1)[0].strip()
