"""The lecture notebooks (notebooks/*.ipynb) run from top to bottom, and are committed with outputs.

Two kinds of test, parametrized over every notebook in notebooks/ (a new notebook is picked up
without touching this file):

- fast: the committed file is a proper lecture notebook: a Russian summary in the first markdown
  cell, a glossary section, stored outputs with at least one picture, no stored errors, and no
  paths of this checkout in its outputs;
- slow: a copy is executed with nbclient (kernel python3, 120 s per cell) in a temporary
  directory, so files that a notebook writes do not litter the repository; a failure names the
  notebook, the cell and the error. Skipped with a message when nbclient or ipykernel is missing.

    pytest tests/test_notebooks.py                # both
    pytest tests/test_notebooks.py -m "not slow"  # only the structure checks
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
IDS = [path.stem for path in NOTEBOOKS]

CELL_TIMEOUT = 120                     # seconds per cell
CYRILLIC = re.compile(r"[А-Яа-яЁё]")
GLOSSARY = re.compile(r"^#+ .*(glossary|глоссарий)", re.IGNORECASE | re.MULTILINE)
IMAGE_TYPES = ("image/png", "image/svg+xml", "image/jpeg")
ANSI_COLOURS = re.compile(r"\x1b\[[0-9;]*m")       # IPython colours its tracebacks


def _load(path: Path) -> dict:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _outputs(nb: dict):
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            for output in cell.get("outputs", []):
                yield index, output


def _output_text(output: dict) -> str:
    """Everything an output shows as text (streams, tracebacks and text-like data)."""
    parts = [output.get("text", "")]
    parts += output.get("traceback", [])
    for mime, value in output.get("data", {}).items():
        if mime.startswith("text/") or mime == "image/svg+xml":
            parts.append(value)
    return "".join("".join(p) if isinstance(p, list) else p for p in parts)


def test_notebooks_exist():
    assert NOTEBOOKS, f"no notebooks found in {NOTEBOOK_DIR}"


# ----------------------------------------------------------------------------- fast: structure

@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_starts_with_a_russian_summary(path):
    nb = _load(path)
    markdown = [c for c in nb["cells"] if c["cell_type"] == "markdown"]
    assert markdown, f"{path.name}: no markdown cells"
    first = _source(markdown[0])
    assert re.search(r"^#", first, re.MULTILINE), f"{path.name}: the first markdown cell should hold the title"
    assert len(CYRILLIC.findall(first)) >= 40, (
        f"{path.name}: the first markdown cell should hold a short summary in Russian (3-5 sentences)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_has_a_glossary(path):
    nb = _load(path)
    text = "\n".join(_source(c) for c in nb["cells"] if c["cell_type"] == "markdown")
    match = GLOSSARY.search(text)
    assert match, f"{path.name}: no glossary section (a heading with 'Glossary' or 'Глоссарий')"
    after = text[match.end():]
    assert "|" in after and CYRILLIC.search(after), (
        f"{path.name}: the glossary should be a Russian-English table")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_is_committed_with_outputs(path):
    nb = _load(path)
    code_cells = [c for c in nb["cells"] if c["cell_type"] == "code" and _source(c).strip()]
    assert code_cells, f"{path.name}: no code cells"
    not_run = [i for i, c in enumerate(nb["cells"])
               if c["cell_type"] == "code" and _source(c).strip() and c.get("execution_count") is None]
    assert not not_run, f"{path.name}: cells {not_run} were not executed; run the notebook and save it with outputs"
    images = [i for i, out in _outputs(nb) if any(m in out.get("data", {}) for m in IMAGE_TYPES)]
    assert images, f"{path.name}: no stored picture (plot or graph); save the notebook with its outputs"
    errors = [i for i, out in _outputs(nb) if out.get("output_type") == "error"]
    assert not errors, f"{path.name}: cells {errors} have stored errors"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_outputs_hold_no_local_paths(path):
    nb = _load(path)
    leaks = [i for i, out in _outputs(nb) if str(ROOT) in _output_text(out)]
    assert not leaks, f"{path.name}: outputs of cells {leaks} contain the local path {ROOT}"


# ----------------------------------------------------------------------------- slow: execution

def _cell_error(nb, fallback: Exception) -> str:
    """The first cell of an executed notebook that stored an error: its number, source and error."""
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if output.get("output_type") == "error":
                source = cell.source if len(cell.source) < 1500 else cell.source[:1500] + "\n..."
                return (f"cell {index} failed with {output.get('ename')}: {output.get('evalue')}\n"
                        f"--- cell source ---\n{source}")
    return str(fallback)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_runs(path, tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat", reason="executing the notebooks needs nbformat (pip install -e '.[test]')")
    nbclient = pytest.importorskip("nbclient", reason="executing the notebooks needs nbclient (pip install -e '.[test]')")
    pytest.importorskip("ipykernel", reason="executing the notebooks needs ipykernel (pip install -e '.[test]')")
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    # The kernel inherits this environment: no GUI backend, and the checkout importable even
    # without `pip install -e .`.
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))

    nb = nbformat.read(path, as_version=4)          # a copy in memory: the committed file is not touched
    client = nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    failure = None
    try:
        client.execute()
    except CellTimeoutError as exc:
        failure = f"a cell ran longer than {CELL_TIMEOUT} s\n{exc}"
    except DeadKernelError as exc:
        failure = f"the kernel died\n{exc}"
    except CellExecutionError as exc:
        failure = f"{_cell_error(nb, exc)}\n--- error ---\n{exc}"
    if failure is not None:                          # outside `except`: no chained traceback in the report
        pytest.fail(f"{path.name}: {ANSI_COLOURS.sub('', failure)}", pytrace=False)
