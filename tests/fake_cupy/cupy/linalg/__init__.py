"""cupy.linalg: NumPy's linalg functions that real cupy.linalg has, on device arrays."""
import numpy as np

from .. import wrap_module_functions
from .._real_names import NAMES

LinAlgError = np.linalg.LinAlgError
wrap_module_functions(globals(), np.linalg, NAMES["linalg"], "cupy.linalg")
