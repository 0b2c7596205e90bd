"""Smoke test of the CPU benchmark: `benchmarks/bench_cpu.py --quick` runs and prints its table.

It checks that the script works (and that its three implementations agree), not how fast
anything is: the --quick timings are far too few steps to mean anything.
"""
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.lecture09]   # the CPU benchmark script against PyTorch

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
