"""cupyx.scipy.special: SciPy's functions that real cupyx.scipy.special has, on device arrays."""
import scipy.special

from cupy import wrap_module_functions
from cupy._real_names import NAMES

_REAL = frozenset(NAMES["cupyx_scipy_special"])

wrap_module_functions(globals(), scipy.special, NAMES["cupyx_scipy_special"], "cupyx.scipy.special")


def __getattr__(name):
    if name in _REAL:
        raise AttributeError(f"fake cupy does not implement cupyx.scipy.special.{name}")
    raise AttributeError(f"module 'cupyx.scipy.special' has no attribute '{name}'")
