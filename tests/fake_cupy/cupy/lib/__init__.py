"""cupy.lib: only stride_tricks, as in real CuPy."""
from . import stride_tricks  # noqa: F401
