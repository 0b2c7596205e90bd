"""Smoke tests of the CPU benchmarks: `benchmarks/bench_cpu.py --quick`, `bench_floor.py --quick`,
`benchmarks/bench_training.py --quick` and `benchmarks/bench_sequences.py --quick` run and
print their tables.

They check that the scripts work (and that the implementations they compare agree), not how
fast anything is: the --quick timings are far too few steps to mean anything.
"""
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.lecture09]   # the CPU benchmark scripts against PyTorch

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "bench_cpu.py"


@pytest.mark.slow
def test_bench_cpu_quick_prints_the_table():
    pytest.importorskip("torch")
    result = subprocess.run([sys.executable, str(SCRIPT), "--quick"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    out = result.stdout
    lines = out.splitlines()

    assert any(line.startswith("machine:") for line in lines), out
    header = next((line for line in lines if line.startswith("workload")), None)
    assert header is not None, out
    for column in ("tinygrad_edu", "NumPy", "PyTorch", "edu/NumPy", "edu/PyTorch", "target", "met"):
        assert column in header, header

    for workload in ("W1 MLP 784-256-128-10", "W2 MLP 2-16-16-1", "W3 x*w+b chain",
                     "W4 matmul 1024"):
        row = next((line for line in lines if line.startswith(workload)), None)
        assert row is not None, f"no table row for {workload}:\n{out}"
        assert row.rstrip().endswith(("yes", "NO")), row
    assert any(line.startswith("memory:") for line in lines), out
    assert "W3 per op node" in out, out

    for check in ("check: W1 grads agree", "check: W2 grads agree", "check: W3 grad of w agrees"):
        assert check in out, out


@pytest.mark.slow
def test_bench_training_quick_prints_the_table_with_models_that_agree():
    pytest.importorskip("torch")
    script = ROOT / "benchmarks" / "bench_training.py"
    result = subprocess.run([sys.executable, str(script), "--quick"], cwd=ROOT,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    lines = result.stdout.splitlines()
    header = next((line for line in lines if line.startswith("workload")), None)
    assert header is not None, result.stdout
    for column in ("tinygrad_edu", "PyTorch", "edu/torch", "target", "met", "out diff"):
        assert column in header, header
    for workload in ("MLP epoch", "CNN epoch", "ResNet epoch", "U-Net epoch"):
        row = next((line for line in lines if line.startswith(workload)), None)
        assert row is not None, f"no table row for {workload}:\n{result.stdout}"
        met, diff = row.split()[-2:]
        assert met in ("yes", "NO"), row
        assert float(diff) < 1e-4, f"{workload}: the two models' outputs differ by {diff}"


SEQUENCES = ROOT / "benchmarks" / "bench_sequences.py"


@pytest.mark.slow
@pytest.mark.lecture_nlp
@pytest.mark.lecture_rnn
def test_bench_sequences_quick_prints_the_table():
    """bench_sequences.py --quick: the LSTM, GPT and Embedding rows, and both libraries agree."""
    pytest.importorskip("torch")
    result = subprocess.run([sys.executable, str(SEQUENCES), "--quick"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    out = result.stdout
    lines = out.splitlines()

    assert any(line.startswith("machine:") for line in lines), out
    header = next((line for line in lines if line.startswith("workload")), None)
    assert header is not None, out
    for column in ("tinygrad_edu", "PyTorch", "edu/torch", "target", "met"):
        assert column in header, header
    for workload in ("LSTM 64->128", "GPT 2 blocks", "Embedding 10000x64"):
        row = next((line for line in lines if line.startswith(workload)), None)
        assert row is not None, f"no table row for {workload}:\n{out}"
        assert row.rstrip().endswith(("yes", "NO")), row
    for check in ("check: lstm loss and gradients agree", "check: gpt loss and gradients agree",
                  "check: embedding gradients agree"):
        assert check in out, out


@pytest.mark.slow
def test_bench_floor_quick_prints_the_bare_engine_beside_tinygrad_edu_and_pytorch():
    pytest.importorskip("torch")
    script = ROOT / "benchmarks" / "bench_floor.py"
    result = subprocess.run([sys.executable, str(script), "--quick"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"   # also: same gradients
    lines = result.stdout.splitlines()
    header = next((line for line in lines if line.startswith("workload")), None)
    assert header is not None, result.stdout
    for column in ("bare", "lean", "tinygrad_edu", "PyTorch", "bare/torch", "lean/torch", "edu/torch", "target"):
        assert column in header, header
    for workload in ("W2 MLP 2-16-16-1, .data update (median)", "W3 x*w+b chain, 20k ops (median)",
                     "W3 x*w+b chain, 20k ops (p90)", "W3 x*w+b chain, 20k ops (median), gc.freeze()"):
        assert any(line.startswith(workload) for line in lines), f"no row {workload}:\n{result.stdout}"
    assert "one full garbage collection" in result.stdout
