"""The lecture notebooks: English in notebooks/, Russian twins in notebooks/ru/, all run top to bottom.

Parametrized over every notebook, so a new one is picked up without touching this file. Every
test here is marked `notebooks` (`pytest -m "not notebooks"` is the quick loop).

- structure, both languages: a title and an introduction in Russian (English notebooks carry a
  Russian summary), a glossary, stored outputs with a picture, no stored errors, no local paths;
- twins: each English notebook has a Russian one with the same cells, identical code cells and
  the same outputs (`python notebooks/build.py --sync` copies them; nothing is computed twice);
- one spelling of each Russian term in every notebook;
- everything a notebook imports comes with `pip install -e ".[notebooks]"`, except torch and
  cupy, which a notebook may only import where it can go on without them;
- slow: each English notebook is executed with nbclient in a temporary folder, in a kernel where
  torch cannot be imported (the README's notebook install has no torch); those that compare with
  PyTorch run a second time with it, when it is installed. A failure names the cell and the error.
"""
from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
RUSSIAN = sorted((NOTEBOOK_DIR / "ru").glob("*.ipynb"))
BOTH = NOTEBOOKS + RUSSIAN
BOTH_IDS = [p.stem for p in NOTEBOOKS] + [f"ru-{p.stem}" for p in RUSSIAN]

pytestmark = pytest.mark.notebooks

CELL_TIMEOUT = 120                     # seconds per cell
CYRILLIC = re.compile(r"[А-Яа-яЁё]")
GLOSSARY = re.compile(r"^#+ .*(glossary|глоссарий)", re.IGNORECASE | re.MULTILINE)
IMAGE_TYPES = ("image/png", "image/svg+xml", "image/jpeg")
ANSI_COLOURS = re.compile(r"\x1b\[[0-9;]*m")       # IPython colours its tracebacks

# One spelling per term (the lectures' own words); the pattern on the right must not appear.
SPELLING = {
    "перцептрон": r"персептрон",
    "свёртка (with ё)": r"сверт",
    "набор данных": r"датасет",
    "мини-батч": r"минибатч|мини батч",
    "функция потерь": r"функци\w+ ошибк|\bлосс",
}
# Packages a notebook may use only where it goes on without them.
OPTIONAL = {"torch", "cupy", "cupyx"}
OWN = {"tinygrad_edu", "visualize"}


def _load(path: Path) -> dict:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _code_cells(nb: dict) -> list[str]:
    return [_source(c) for c in nb["cells"] if c["cell_type"] == "code"]


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


def _label(path: Path) -> str:
    return str(path.relative_to(NOTEBOOK_DIR))


def test_notebooks_exist():
    assert NOTEBOOKS, f"no notebooks found in {NOTEBOOK_DIR}"


# ----------------------------------------------------------------------------- structure, both languages

@pytest.mark.parametrize("path", BOTH, ids=BOTH_IDS)
def test_notebook_starts_with_a_title_and_russian_text(path):
    nb = _load(path)
    markdown = [c for c in nb["cells"] if c["cell_type"] == "markdown"]
    assert markdown, f"{_label(path)}: no markdown cells"
    first = _source(markdown[0])
    assert re.search(r"^#", first, re.MULTILINE), f"{_label(path)}: the first markdown cell should hold the title"
    assert len(CYRILLIC.findall(first)) >= 40, (
        f"{_label(path)}: the first markdown cell should hold a short summary in Russian (3-5 sentences)")


@pytest.mark.parametrize("path", BOTH, ids=BOTH_IDS)
def test_notebook_has_a_glossary(path):
    nb = _load(path)
    text = "\n".join(_source(c) for c in nb["cells"] if c["cell_type"] == "markdown")
    match = GLOSSARY.search(text)
    assert match, f"{_label(path)}: no glossary section (a heading with 'Glossary' or 'Глоссарий')"
    after = text[match.end():]
    assert "|" in after and CYRILLIC.search(after), (
        f"{_label(path)}: the glossary should be a Russian-English table")


@pytest.mark.parametrize("path", BOTH, ids=BOTH_IDS)
def test_notebook_is_committed_with_outputs(path):
    nb = _load(path)
    code_cells = [c for c in nb["cells"] if c["cell_type"] == "code" and _source(c).strip()]
    assert code_cells, f"{_label(path)}: no code cells"
    not_run = [i for i, c in enumerate(nb["cells"])
               if c["cell_type"] == "code" and _source(c).strip() and c.get("execution_count") is None]
    assert not not_run, (f"{_label(path)}: cells {not_run} were not executed; run "
                         f"`python notebooks/build.py {path.stem[:2]}` to save it with outputs")
    images = [i for i, out in _outputs(nb) if any(m in out.get("data", {}) for m in IMAGE_TYPES)]
    assert images, f"{_label(path)}: no stored picture (plot or graph); save the notebook with its outputs"
    errors = [i for i, out in _outputs(nb) if out.get("output_type") == "error"]
    assert not errors, f"{_label(path)}: cells {errors} have stored errors"


@pytest.mark.parametrize("path", BOTH, ids=BOTH_IDS)
def test_notebook_outputs_hold_no_local_paths(path):
    nb = _load(path)
    leaks = [i for i, out in _outputs(nb) if str(ROOT) in _output_text(out)]
    assert not leaks, f"{_label(path)}: outputs of cells {leaks} contain the local path {ROOT}"


@pytest.mark.parametrize("path", BOTH, ids=BOTH_IDS)
def test_notebook_uses_one_spelling_of_each_russian_term(path):
    text = "\n".join(_source(c) for c in _load(path)["cells"] if c["cell_type"] == "markdown").lower()
    wrong = []
    for term, pattern in SPELLING.items():
        found = sorted(set(re.findall(r"\w*(?:" + pattern + r")\w*", text)))
        if found:
            wrong.append(f"{term} instead of {found}")
    assert not wrong, f"{_label(path)}: write {'; '.join(wrong)}"


# ----------------------------------------------------------------------------- the Russian twins

def test_every_notebook_has_a_russian_twin_in_sync():
    result = subprocess.run([sys.executable, str(NOTEBOOK_DIR / "build.py"), "--check"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, (
        "the Russian notebooks are not the twins of the English ones (translate the markdown, then run "
        f"`python notebooks/build.py --sync`):\n{result.stdout}{result.stderr}")


@pytest.mark.parametrize("path", RUSSIAN, ids=[p.stem for p in RUSSIAN])
def test_russian_notebook_is_translated_whole(path):
    """Every markdown cell of a Russian notebook is mostly Russian, not left in English."""
    untranslated = []
    for index, cell in enumerate(_load(path)["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        prose = re.sub(r"\$\$.*?\$\$|\$[^$]*\$|`[^`]*`|\(http[^)]*\)|<[^>]*>", " ", _source(cell), flags=re.S)
        cyrillic, latin = len(CYRILLIC.findall(prose)), len(re.findall(r"[A-Za-z]", prose))
        if latin > 40 and cyrillic < latin:
            untranslated.append(index)
    assert not untranslated, f"ru/{path.name}: markdown cells {untranslated} are still mostly English"


# ----------------------------------------------------------------------------- what the notebooks import

def _python_of_cell(source: str) -> str:
    """A cell as plain Python: IPython turns `%matplotlib inline` and other magics into calls."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:
        return "\n".join(line for line in source.splitlines() if not line.startswith(("%", "!")))
    return TransformerManager().transform_cell(source)


def _imports(source: str) -> list[tuple[str, bool]]:
    """(top-level module, guarded) for each import of a cell; guarded: inside a try or an if."""
    code = _python_of_cell(source)
    found = []

    def visit(node: ast.AST, guarded: bool) -> None:
        if isinstance(node, ast.Import):
            found.extend((alias.name.split(".")[0], guarded) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module.split(".")[0], guarded))
        inside = guarded or isinstance(node, (ast.Try, ast.If, ast.FunctionDef))
        for child in ast.iter_child_nodes(node):
            visit(child, inside)

    visit(ast.parse(code), False)
    return found


def _notebooks_extra() -> set[str]:
    tomllib = pytest.importorskip("tomllib", reason="reading pyproject.toml needs Python 3.11")
    with open(ROOT / "pyproject.toml", "rb") as handle:
        project = tomllib.load(handle)["project"]
    extras = project["optional-dependencies"]
    wanted, todo = set(project["dependencies"]), ["notebooks"]
    while todo:                                   # "tinygrad-edu[all]" in an extra brings that extra
        for spec in extras[todo.pop()]:
            inner = re.fullmatch(rf"{project['name']}\[(.+)\]", spec)
            if inner:
                todo += [name.strip() for name in inner.group(1).split(",")]
            else:
                wanted.add(spec)
    return {re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0].lower() for spec in wanted}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_everything_a_notebook_imports_comes_with_the_notebooks_extra(path):
    extra = _notebooks_extra()
    distributions = metadata.packages_distributions()
    missing, unguarded = set(), set()
    for source in _code_cells(_load(path)):
        for module, guarded in _imports(source):
            if module in sys.stdlib_module_names or module in OWN:
                continue
            if module in OPTIONAL:
                if not guarded:
                    unguarded.add(module)
                continue
            names = {d.lower() for d in distributions.get(module, [module])}
            if not names & extra:
                missing.add(f"{module} ({', '.join(sorted(names))})")
    assert not missing, f"{path.name} imports {sorted(missing)}, which the notebooks extra does not install"
    assert not unguarded, (f"{path.name} imports {sorted(unguarded)} unconditionally; import it in a "
                           "try/except ImportError that prints how to get it, so the notebook goes on")


# ----------------------------------------------------------------------------- slow: execution

HIDE_TORCH = '''\
"""Installed by tests/test_notebooks.py: this kernel behaves as if torch were not installed."""
import sys


class _NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "torchvision"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, _NoTorch())
'''
PROBE = "try:\n    import torch\n    print('torch importable')\nexcept ModuleNotFoundError:\n    print('no torch')\n"


def _cell_error(nb, fallback: Exception) -> str:
    """The first cell of an executed notebook that stored an error: its number, source and error."""
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if output.get("output_type") == "error":
                source = cell.source if len(cell.source) < 1500 else cell.source[:1500] + "\n..."
                return (f"cell {index} failed with {output.get('ename')}: {output.get('evalue')}\n"
                        f"--- cell source ---\n{source}")
    return str(fallback)


def _execute(path: Path, tmp_path: Path, monkeypatch, with_torch: bool) -> str:
    """Run a copy of the notebook; returns what the appended probe cell printed about torch."""
    nbformat = pytest.importorskip("nbformat", reason="executing the notebooks needs nbformat (pip install -e '.[test]')")
    nbclient = pytest.importorskip("nbclient", reason="executing the notebooks needs nbclient (pip install -e '.[test]')")
    pytest.importorskip("ipykernel", reason="executing the notebooks needs ipykernel (pip install -e '.[test]')")
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    # The kernel inherits this environment: no GUI backend, the checkout importable even
    # without `pip install -e .`, and, unless with_torch, a sitecustomize that hides torch.
    paths = [str(ROOT), os.environ.get("PYTHONPATH")]
    if not with_torch:
        site = tmp_path / "site"
        site.mkdir()
        (site / "sitecustomize.py").write_text(HIDE_TORCH)
        paths.insert(0, str(site))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    # One BLAS thread: the notebooks' matrices are small, and two OpenBLAS threads on a busy
    # 2-core machine fight over the cores and run several times slower (a whole epoch 5x).
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, paths)))
    work = tmp_path / "work"
    work.mkdir()

    nb = nbformat.read(path, as_version=4)          # a copy in memory: the committed file is not touched
    nb.cells.append(nbformat.v4.new_code_cell(PROBE))
    client = nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                                     resources={"metadata": {"path": str(work)}})
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
        where = "with torch" if with_torch else "without torch"
        pytest.fail(f"{path.name} ({where}): {ANSI_COLOURS.sub('', failure)}", pytrace=False)
    return "".join(out.get("text", "") for out in nb.cells[-1].outputs).strip()


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_without_torch(path, tmp_path, monkeypatch):
    assert _execute(path, tmp_path, monkeypatch, with_torch=False) == "no torch"


USES_TORCH = [p for p in NOTEBOOKS if any("torch" in module for source in _code_cells(_load(p))
                                          for module, _ in _imports(source))]


@pytest.mark.slow
@pytest.mark.parametrize("path", USES_TORCH, ids=[p.stem for p in USES_TORCH])
def test_notebook_runs_with_torch(path, tmp_path, monkeypatch):
    pytest.importorskip("torch", reason="the comparisons with PyTorch need torch (pip install -e '.[test]')")
    assert _execute(path, tmp_path, monkeypatch, with_torch=True) == "torch importable"
