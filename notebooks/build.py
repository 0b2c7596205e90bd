"""Run the lecture notebooks and give their Russian twins the same code and outputs.

Every notebook exists twice: `notebooks/NAME.ipynb` (English) and `notebooks/ru/NAME.ipynb`
(Russian). The two have the same cells in the same order; only the markdown differs. The code
cells of the Russian notebook are copies of the English ones, outputs included, so the two cannot
drift and nothing is computed twice.

    python notebooks/build.py                 # execute every English notebook in place, then sync ru/
    python notebooks/build.py 07 08           # only the notebooks whose names start with 07 or 08
    python notebooks/build.py --sync          # only copy code cells and outputs into ru/
    python notebooks/build.py --check         # exit 1 if a twin is missing or out of sync

Executing needs the notebooks extra (`pip install -e ".[notebooks]"`); torch is used when it is
installed (the notebooks' comparisons with PyTorch), and skipped with a note when it is not.
A notebook is executed in a temporary folder, so the files it writes do not litter the checkout.
To translate a new notebook, copy the executed English file to ru/, translate every markdown
cell in place (never add or remove cells), then run `--sync`.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RUSSIAN = HERE / "ru"
CELL_TIMEOUT = 300                     # seconds per cell


def english_notebooks() -> list[Path]:
    return sorted(HERE.glob("*.ipynb"))


def read(path: Path) -> dict:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def write(path: Path, nb: dict) -> None:
    """Write as Jupyter does: indent 1, UTF-8 as it is, a final newline."""
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(nb, handle, indent=1, ensure_ascii=False)
        handle.write("\n")


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def twin_problems(english: dict, russian: dict) -> list[str]:
    """What keeps a Russian notebook from being the twin of an English one ([] if nothing)."""
    en_types = [c["cell_type"] for c in english["cells"]]
    ru_types = [c["cell_type"] for c in russian["cells"]]
    if en_types != ru_types:
        return [f"the cells differ: English has {en_types.count('markdown')} markdown and "
                f"{en_types.count('code')} code cells in the order {''.join(t[0] for t in en_types)}, "
                f"Russian {ru_types.count('markdown')} and {ru_types.count('code')} in the order "
                f"{''.join(t[0] for t in ru_types)} (m = markdown, c = code); add or remove the "
                f"same cells in both"]
    problems = []
    for index, (en, ru) in enumerate(zip(english["cells"], russian["cells"])):
        if en["cell_type"] != "code":
            continue
        if _source(en) != _source(ru):
            problems.append(f"code cell {index} differs from the English one")
        elif en.get("outputs") != ru.get("outputs") or en.get("execution_count") != ru.get("execution_count"):
            problems.append(f"code cell {index} has other outputs than the English one")
    return problems


def sync(english_path: Path) -> bool:
    """Copy code cells and outputs of one English notebook into its Russian twin; False if it has none."""
    russian_path = RUSSIAN / english_path.name
    if not russian_path.exists():
        return False
    english, russian = read(english_path), read(russian_path)
    en_types = [c["cell_type"] for c in english["cells"]]
    if en_types != [c["cell_type"] for c in russian["cells"]]:
        raise SystemExit(f"{russian_path.name}: {twin_problems(english, russian)[0]}")
    for en, ru in zip(english["cells"], russian["cells"]):
        if en["cell_type"] == "code":
            ru.clear()
            ru.update(json.loads(json.dumps(en)))           # a deep copy
    russian["metadata"] = english["metadata"]
    write(russian_path, russian)
    return True


def _strip_local_paths(nb: dict) -> None:
    """Outputs must not show this checkout's path (a warning names its file, say)."""
    here = str(ROOT)

    def clean(value):
        if isinstance(value, str):
            return value.replace(here + os.sep, "").replace(here, ".")
        if isinstance(value, list):
            return [clean(v) for v in value]
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        return value

    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"] = clean(cell.get("outputs", []))


def execute(path: Path) -> None:
    """Run one notebook top to bottom with nbclient and save it with its outputs."""
    try:
        import nbclient
        import nbformat
    except ImportError:
        raise SystemExit('executing notebooks needs nbclient and nbformat: pip install -e ".[notebooks]"')
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")    # as the tests run them: small matrices, no thread fights
    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory() as folder:
        client = nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                                         resources={"metadata": {"path": folder}})
        client.execute()
    nbformat.write(nb, path)
    nb = read(path)
    _strip_local_paths(nb)
    write(path, nb)


def check() -> list[str]:
    """Every English notebook has a Russian twin in sync with it, and no twin is left over."""
    problems = []
    english = {p.name for p in english_notebooks()}
    for name in sorted(english):
        twin = RUSSIAN / name
        if not twin.exists():
            problems.append(f"{name}: no Russian twin in notebooks/ru/")
            continue
        problems += [f"ru/{name}: {p}" for p in twin_problems(read(HERE / name), read(twin))]
    for extra in sorted(p.name for p in RUSSIAN.glob("*.ipynb")):
        if extra not in english:
            problems.append(f"ru/{extra}: no English notebook of that name")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="prefixes of the notebooks to execute (default: all)")
    parser.add_argument("--sync", action="store_true", help="do not execute; only copy into ru/")
    parser.add_argument("--check", action="store_true", help="only report twins that are missing or out of sync")
    args = parser.parse_args(argv)
    if args.check:
        problems = check()
        for problem in problems:
            print(problem)
        return 1 if problems else 0
    chosen = [p for p in english_notebooks() if not args.names or p.name.startswith(tuple(args.names))]
    if not chosen:
        parser.error(f"no notebook in {HERE} starts with {' or '.join(args.names)}")
    for path in chosen:
        if not args.sync:
            print(f"executing {path.name} ...", flush=True)
            execute(path)
        print(f"  ru/{path.name}: {'synced' if sync(path) else 'no Russian twin yet'}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
