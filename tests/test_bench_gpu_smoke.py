"""Smoke test of the GPU benchmark on a machine without a GPU.

`benchmarks/bench_gpu.py --quick --allow-no-gpu` must still print its header and its table,
with the CPU column measured and "n/a" in the cuda columns; without --allow-no-gpu it must
stop with status 2 and say how to install the gpu extra. On a machine with a GPU the tests are
skipped (there the benchmark itself is the test). The timings are far too few to mean anything.

The last test runs the script's cuda path end to end on tests/fake_cupy (CuPy simulated on
NumPy), for (a) and (c): it checks the plumbing (synchronisation, the hand-written CuPy step,
the checks), not any GPU.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.lecture09]   # the GPU benchmark script

ROOT = Path(__file__).resolve().parents[1]
FAKE_CUPY = ROOT / "tests" / "fake_cupy"
SCRIPT = ROOT / "benchmarks" / "bench_gpu.py"
COLUMNS = ("workload", "edu cuda", "torch cuda", "cupy by hand", "edu cpu", "edu/torch", "speed-up",
           "target", "met")
ROWS = ("(a) MLP 784-256-128-10", "(b) MLP 4096-4096-4096-10", "(c) CNN 1x28x28")


def environment() -> dict:
    """Our environment without a simulated CuPy on PYTHONPATH: the subprocess must see no GPU."""
    env = dict(os.environ)
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and "fake_cupy" not in p]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env.pop("TINYGRAD_EDU_DEVICE", None)
    return env


def run_benchmark(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=ROOT, env=env or environment(),
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def no_gpu():
    pytest.importorskip("torch")
    probe = subprocess.run([sys.executable, "-c", "import tinygrad_edu; print(tinygrad_edu.cuda_available())"],
                           cwd=ROOT, env=environment(), capture_output=True, text=True, timeout=120)
    if probe.stdout.strip() != "False":
        pytest.skip(f"CuPy sees a GPU here (or the probe failed: {probe.stderr.strip()[-200:]})")


def cells(line: str) -> list[str]:
    """A table line split into its cells (they are separated by two spaces or more)."""
    return [c.strip() for c in line.split("  ") if c.strip()]


@pytest.mark.slow
def test_allow_no_gpu_measures_the_cpu_column_and_marks_the_cuda_columns_na(no_gpu):
    result = run_benchmark("--quick", "--allow-no-gpu")
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    out = result.stdout
    lines = out.splitlines()

    assert lines[0].startswith("tinygrad_edu GPU benchmark"), out
    assert any(line.startswith("gpu: none") for line in lines), out
    assert any(line.startswith("torch: ") for line in lines), out
    assert any(line.startswith("numpy ") for line in lines), out

    header = next((line for line in lines if line.startswith("workload")), None)
    assert header is not None, out
    for column in COLUMNS:
        assert column in header, header

    for label in ROWS:
        row = next((line for line in lines if line.startswith(label)), None)
        assert row is not None, f"no table row for {label}:\n{out}"
        values = cells(row)
        edu_cuda, torch_cuda, by_hand, edu_cpu = values[1:5]
        assert edu_cuda == "n/a" and torch_cuda == "n/a", row
        assert by_hand in ("n/a", "-"), row
        assert edu_cpu.endswith(" ms") and float(edu_cpu[:-3].replace(",", "")) > 0, row
        assert values[-1] == "not measured", row

    for tag in ("(a)", "(b)", "(c)"):
        assert f"check: {tag} one-step losses agree" in out, out
        assert f"loss: {tag} first -> last: edu cpu" in out, out
    for tag in ("(a)", "(b)"):
        assert f"check: {tag} cupy-by-hand gradients agree" in out, out


@pytest.mark.slow
def test_without_a_gpu_it_exits_2_and_says_how_to_install_the_gpu_extra(no_gpu):
    result = run_benchmark("--quick")
    assert result.returncode == 2, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    lines = [line for line in result.stderr.splitlines() if line.startswith("bench_gpu.py: no GPU")]
    assert len(lines) == 1, result.stderr              # one line says it all
    message = lines[0]
    assert 'pip install -e ".[gpu]"' in message, message
    assert "--allow-no-gpu" in message, message
    assert "workload" not in result.stdout, result.stdout


@pytest.mark.slow
def test_the_cuda_path_runs_end_to_end_on_the_fake_cupy(no_gpu):
    if not (FAKE_CUPY / "cupy" / "__init__.py").exists() or shutil.which("g++") is None:
        pytest.skip("needs tests/fake_cupy and g++ (it compiles the fused kernels on the CPU)")
    env = environment()
    env["PYTHONPATH"] = os.pathsep.join([str(FAKE_CUPY)] + [p for p in [env["PYTHONPATH"]] if p])
    result = run_benchmark("--quick", "--workloads", "a,c", "--no-cpu", env=env)
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    out = result.stdout
    assert "gpu: Fake" in out, out
    for label in ROWS[0::2]:
        row = next((line for line in out.splitlines() if line.startswith(label)), None)
        assert row is not None, f"no table row for {label}:\n{out}"
        edu_cuda, torch_cuda, by_hand, edu_cpu = cells(row)[1:5]
        assert edu_cuda.endswith(" ms"), row
        assert (torch_cuda, edu_cpu) == ("n/a", "n/a"), row
        assert by_hand.endswith(" ms") if label.startswith("(a)") else by_hand == "-", row
    assert "check: (a) one-step losses agree" in out and "check: (c) one-step losses agree" in out, out
    assert "check: (a) cupy-by-hand gradients agree with torch cpu (written with cupy" in out, out
