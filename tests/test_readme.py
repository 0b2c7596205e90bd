"""The README's Python examples run as written (so the first thing a student copies works)."""
import re
from pathlib import Path

import pytest

from tinygrad_edu import backend

pytestmark = [pytest.mark.lecture09]   # the README's examples

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
# The PyTorch twin needs torch only. The data-parallel block needs torchrun: tests/test_distributed.py
# runs examples/train_ddp.py instead and checks that every line of that block is in the script.
RUNNABLE = [b for b in BLOCKS if "torch.distributed" not in b]


def test_the_readme_has_examples():
    assert len(RUNNABLE) >= 4


@pytest.mark.parametrize("source", RUNNABLE, ids=[f"block{i}" for i in range(len(RUNNABLE))])
def test_a_readme_example_runs(source, tmp_path, monkeypatch):
    if "import torch" in source:
        pytest.importorskip("torch")
    if "visualize" in source:
        pytest.importorskip("graphviz")
    if '"cuda"' in source and not backend.cuda_available():
        pytest.skip("needs CuPy and an NVIDIA GPU (or pytest --fake-gpu)")
    monkeypatch.chdir(tmp_path)                 # examples may write files
    (tmp_path / "docs").mkdir()
    exec(compile(source, "README.md", "exec"), {"__name__": "__readme__"})
