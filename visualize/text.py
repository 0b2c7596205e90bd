"""Numbers, shapes, constants and a Function's math as short text: what draw_graph writes on
its boxes and explain_backward prints, in one place so that both write them alike."""
from __future__ import annotations

import inspect
import re
from typing import Any

import numpy as np

from tinygrad_edu import backend
from tinygrad_edu.autograd import Function


def _number(value: Any) -> str:
    """One number, short: 4 significant digits for floats."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (complex, np.complexfloating)):
        return f"{value:.4g}"
    return f"{float(value) + 0.0:.4g}"          # + 0.0 turns -0.0 into 0


def _stats(array: Any) -> tuple[float, float, float]:
    """min, mean, max computed where the array lives (only three numbers leave the GPU)."""
    xp = backend.xp(array)
    values = array.astype(np.float64) if array.dtype.kind == "b" else array
    return float(xp.min(values)), float(xp.mean(values)), float(xp.max(values))


def _format_values(array: Any, max_elems: int = 6, one_line: bool = False) -> str:
    """All values when there are at most `max_elems`, else "min .. mean .. max"."""
    if array.size == 0:
        return f"[] shape {tuple(array.shape)}"
    if array.size <= max_elems:
        values = backend.to_numpy(array)
        if values.ndim == 0:
            return _number(values.item())
        text = np.array2string(values, separator=", ", max_line_width=10_000 if one_line else 60,
                               formatter={"float_kind": _number, "int_kind": _number})
        if one_line:
            return " ".join(text.split())
        if values.ndim == 2:                         # a matrix: one row per line, no outer brackets
            return "\n".join(line.strip().rstrip(",") for line in text[1:-1].split("\n"))
        # Leading spaces are dropped: some PNG renderers draw them wider than the font's other glyphs.
        return "\n".join(line.strip() for line in text.split("\n") if line.strip())
    low, mean, high = _stats(array)
    return f"min {_number(low)}  mean {_number(mean)}  max {_number(high)}"


def _short(array: Any, max_elems: int) -> str:
    """A value for the chain-rule text: the numbers when small, else shape and norm."""
    if array.size <= max_elems:
        return _format_values(array, max_elems, one_line=True)
    norm = float(backend.xp(array).linalg.norm(array.astype(np.float64).ravel()))
    return f"<{tuple(array.shape)} array, norm {_number(norm)}>"


def _shape_text(shape: tuple) -> str:
    return "scalar" if shape == () else str(tuple(shape))


def _constant_text(value: Any) -> str:
    """How a non-Tensor input of an op (a number, an array, an option) is shown."""
    if isinstance(value, (bool, int, float, complex, np.generic)):
        return _number(value)
    if isinstance(value, np.ndarray) or backend.is_device_array(value):
        return f"array {_shape_text(value.shape)}"
    text = repr(value)
    return text if len(text) <= 24 else type(value).__name__



def _doc_line(cls: type) -> str:
    """The math a Function's docstring states: its first paragraph, on one line."""
    doc = inspect.getdoc(cls) if cls.__doc__ else None
    if not doc or cls.__doc__ == Function.__doc__:
        return ""
    return re.sub(r"\s*\n\s*", " ", doc.split("\n\n")[0].strip())   # keeps the author's double spaces
