"""Finding a Graphviz executable and running it: system `dot`, else the pip-installed `graphviz-pure`.

Graphviz turns the DOT text that `draw_graph` writes into a picture. A system Graphviz
(`apt install graphviz`, `brew install graphviz`) gives the `dot` command; without one,
`pip install graphviz-pure` (part of the project's `viz` extra) puts a dot-compatible
executable named `graphviz-pure` into the Python environment's scripts folder, right
beside the interpreter, which is not always on PATH (a Jupyter kernel started from an IDE,
a venv that was never activated). So we look in three places, in this order:

    1. `dot` on PATH                           the system Graphviz
    2. `graphviz-pure` beside sys.executable    the pip-installed one, found even off PATH
    3. `graphviz-pure` on PATH

`Digraph` is a `graphviz.Digraph` whose `pipe`, `render`, `view` and Jupyter display go
through that executable, so `dot.render("graph", format="png")` and inline SVG work after
`pip install` alone. When nothing can run, building the graph still works (`.source` is the
DOT text) and rendering raises a RuntimeError that says what to install.

What each one writes (ask it yourself: `graphviz-pure -T?` lists its formats). The system
Graphviz writes PDF, PostScript, PNG, SVG and more. graphviz-pure 0.2 writes the pictures
png, svg and jpeg (jpg, jpe), and the text formats dot, gv, canon, xdot, json and plain;
not pdf, ps, eps, gif or bmp. Asking it for one of those raises a RuntimeError that lists
what it does write and how to get PDF: install Graphviz itself (then `dot` is found first),
or render SVG, which is vector too and opens everywhere.
"""
from __future__ import annotations

import contextlib
import numbers
import os
import pathlib
import re
import shutil
import subprocess
import sys
import sysconfig
import threading
from typing import Any, Iterator

try:
    import graphviz
    from graphviz.backend import dot_command
except ImportError:            # the viz extra is not installed: draw_graph says what to install
    graphviz = None

INSTALL_HINT = ("pip install graphviz-pure (or the project's viz extra) or install Graphviz "
                "(the extra: pip install 'tinygrad-edu[viz]'; Graphviz: https://graphviz.org/download/)")
BITMAP_FORMATS = {"png", "jpg", "jpeg", "jpe", "gif", "bmp"}
BITMAP_DPI = 144
VECTOR_FORMATS = {"pdf", "ps", "ps2", "eps", "svg", "svgz"}     # what a slide wants: sharp at any size
GRAPHVIZ_INSTALL = ("install Graphviz itself (Debian/Ubuntu: sudo apt install graphviz; macOS: brew install "
                    "graphviz; Windows and others: https://graphviz.org/download/): its `dot` is found before "
                    "graphviz-pure, with nothing to change in your code")
# How Graphviz (and graphviz-pure) refuse a format: `Format: "pdf" not recognized. Use one of: canon dot ...`
_UNKNOWN_FORMAT = re.compile(r'Format: "([^"]*)" not recognized\. Use one of: ([^\n]*)')
_GRAPH_DPI = re.compile(r"\bdpi\s*=")          # the DOT source sets its own resolution
NO_RENDERER = ("no Graphviz executable could be run: neither the system `dot` nor `graphviz-pure` "
               "was found. To render graphs, " + INSTALL_HINT
               + ". The DOT text is still available as `.source`.")


def _script_folders() -> list[str]:
    """Where pip puts console scripts for this interpreter (venv bin/, Windows Scripts/)."""
    folders = [str(pathlib.Path(sys.executable).parent)]
    scripts = sysconfig.get_path("scripts")
    if scripts and scripts not in folders:
        folders.append(scripts)
    return folders


def find_dot() -> str | None:
    """The path of a Graphviz executable that renders DOT, or None when there is none.

    The system `dot` on PATH comes first; else `graphviz-pure` from PyPI, looked for beside
    the running interpreter and then on PATH.
    """
    system_dot = shutil.which("dot")
    if system_dot:
        return system_dot
    beside = shutil.which("graphviz-pure", path=os.pathsep.join(_script_folders()))
    if beside:
        return beside
    return shutil.which("graphviz-pure")


def _require_dot() -> str:
    executable = find_dot()
    if executable is None:
        raise RuntimeError(NO_RENDERER)
    return executable


def _unknown_format_message(executable: str, stderr: str) -> str | None:
    """What to say when Graphviz refused an output format: None when `stderr` is about something else.

    The message names the format, what this executable writes instead (as it listed them),
    and how to get PDF or another vector picture.
    """
    found = _UNKNOWN_FORMAT.search(stderr)
    if found is None:
        return None
    wanted = found.group(1).split(":")[0].lower()
    formats = found.group(2).split()
    known = ["png", "svg", "pdf", "jpeg", "jpg", "jpe", "gif", "bmp", "ps", "ps2", "eps", "svgz"]
    pictures = [f for f in known if f in formats]          # the common ones first
    others = [f for f in formats if f not in pictures]
    name = os.path.basename(executable)
    pure = name.startswith("graphviz-pure")
    who = (f"{name} (the renderer pip installed, {executable}; no system Graphviz was found)" if pure
           else f"this Graphviz ({executable})")
    lines = [f"render: {who} cannot write {wanted.upper()}. It writes the pictures "
             f"{', '.join(pictures) or 'none'}" + (f"; besides those: {', '.join(others)}." if others else ".")]
    if wanted in VECTOR_FORMATS:
        if pure:
            lines.append(f"For {wanted.upper()}, {GRAPHVIZ_INSTALL}.")
        else:
            lines.append(f"For {wanted.upper()}, install a full Graphviz (https://graphviz.org/download/); "
                         "this one was built without it.")
        if "svg" in formats:
            lines.append('Or render SVG, which is a vector picture too (sharp at any size on a slide, opens in every '
                         'browser, which can also print it to PDF) and works here: '
                         'dot.render("graph", format="svg").')
    elif "png" in formats:
        lines.append('Render PNG instead: dot.render("graph", format="png")'
                     + (f"; for {wanted.upper()}, {GRAPHVIZ_INSTALL}." if pure else "."))
    return "\n".join(lines)


def _format_for(path: str, format: str | None) -> str:
    if format:
        return format.lower()
    suffix = pathlib.Path(path).suffix.lstrip(".").lower()
    return suffix or "png"


def render(dot_or_source: Any, path: str | os.PathLike, format: str | None = None,
           dpi: float | None = None) -> str:
    """Render a Digraph (or DOT source text) into an image file and return the file's path.

    `format` ("png", "svg", "pdf", ...) defaults to the suffix of `path`, else "png"; the
    suffix ".{format}" is appended when `path` does not already end with it. Missing
    folders are created. Bitmaps (png, jpeg) are drawn at `dpi` dots per inch (default
    144, sharper than Graphviz's 96), unless the graph sets its own dpi. Raises
    RuntimeError, saying what to install, when no Graphviz executable can run; when it
    cannot write `format` (graphviz-pure writes no PDF: the message lists what it writes
    and how to get PDF); and when Graphviz rejects the source (with its message).
    """
    source = dot_or_source.source if hasattr(dot_or_source, "source") else str(dot_or_source)
    if dpi is not None and (isinstance(dpi, bool) or not isinstance(dpi, numbers.Real) or not dpi > 0):
        raise ValueError(f"render: dpi must be a positive number of dots per inch (e.g. 96), got {dpi!r}")
    path = os.fspath(path)
    format = _format_for(path, format)
    if not path.lower().endswith("." + format):
        path = f"{path}.{format}"
    executable = _require_dot()
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    try:
        command = [executable, f"-T{format}", "-o", path]
        # -Gdpi beats a dpi set in the graph (in Graphviz and graphviz-pure alike): given only when it sets none
        if format in BITMAP_FORMATS and not _GRAPH_DPI.search(source):
            command.insert(1, f"-Gdpi={dpi or BITMAP_DPI:g}")
        done = subprocess.run(command, input=source.encode("utf-8"), capture_output=True)
    except OSError as exc:      # found but cannot start (a broken install, a wrong architecture)
        raise RuntimeError(f"render: {executable} could not be started ({exc}). {NO_RENDERER}") from exc
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip()
        raise RuntimeError(_unknown_format_message(executable, message)
                           or f"render: {os.path.basename(executable)} -T{format} failed "
                              f"(exit status {done.returncode}): {message}")
    return path


# ----------------------------------------------------------------------------- graphviz.Digraph

_binary_lock = threading.RLock()


@contextlib.contextmanager
def _graphviz_runs(executable: str) -> Iterator[None]:
    """Let the graphviz package run `executable` instead of `dot` inside this block.

    The package keeps the command it runs in `graphviz.backend.dot_command.DOT_BINARY`
    (a public name of that module); we set it for one call and put it back afterwards.
    """
    with _binary_lock:
        previous = dot_command.DOT_BINARY
        dot_command.DOT_BINARY = pathlib.Path(executable)
        try:
            yield
        except graphviz.ExecutableNotFound as exc:
            raise RuntimeError(f"{executable} could not be started. {NO_RENDERER}") from exc
        except graphviz.CalledProcessError as exc:      # a format it cannot write: say which ones it can
            stderr = exc.stderr.decode("utf-8", "replace") if isinstance(exc.stderr, bytes) else str(exc.stderr or "")
            message = _unknown_format_message(executable, stderr)
            if message is None:
                raise
            raise RuntimeError(message) from exc
        finally:
            dot_command.DOT_BINARY = previous


if graphviz is not None:
    class Digraph(graphviz.Digraph):
        """A graphviz.Digraph that renders with find_dot(): system dot, else graphviz-pure.

        Everything else is graphviz.Digraph unchanged: `.source`, `.node`, `.edge`,
        `.subgraph`, `.render(filename, format=...)`, `.pipe(format=...)`, `.view()`.
        """

        # quiet=True by default: graphviz-pure warns on stderr about font metrics of non-ASCII
        # characters (a name like "ŷ"), which would show as an alarming red box in Jupyter.
        # Real errors still raise, with Graphviz's message.

        def pipe(self, *args: Any, **kwargs: Any) -> Any:
            """graphviz.Digraph.pipe (the picture as bytes), run by find_dot(); a format it cannot
            write (graphviz-pure: pdf) is a RuntimeError that lists the ones it can."""
            if len(args) < 5:                       # quiet is pipe's 5th parameter
                kwargs.setdefault("quiet", True)
            with _graphviz_runs(_require_dot()):
                return super().pipe(*args, **kwargs)

        def render(self, *args: Any, **kwargs: Any) -> str:
            """graphviz.Digraph.render (a file; returns its path), run by find_dot(); a format it
            cannot write (graphviz-pure: pdf) is a RuntimeError that lists the ones it can."""
            if len(args) < 9:                       # quiet is render's 9th parameter
                kwargs.setdefault("quiet", True)
            with _graphviz_runs(_require_dot()):
                return super().render(*args, **kwargs)

        def _repr_mimebundle_(self, include: Any = None, exclude: Any = None, **kwargs: Any) -> dict:
            """Jupyter shows the graph as SVG; without a renderer, the hint and the DOT text."""
            if find_dot() is None:
                return {"text/plain": f"{NO_RENDERER}\n\n{self.source}"}
            return super()._repr_mimebundle_(include, exclude, **kwargs)


def new_digraph(**kwargs: Any) -> "Digraph":
    """A fresh Digraph; an ImportError that says what to install when the graphviz package is missing."""
    if graphviz is None:
        raise ImportError("draw_graph needs the graphviz Python package: pip install graphviz graphviz-pure "
                          "(or the project's viz extra: pip install 'tinygrad-edu[viz]')")
    return Digraph(**kwargs)
