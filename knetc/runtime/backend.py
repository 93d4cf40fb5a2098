"""Array backends: pick NumPy or CuPy from the arrays themselves.

Nothing here imports CuPy unless a CuPy array is actually seen, so the CPU
path never needs it installed.
"""
import sys

import numpy as np


def is_cupy_array(x):
    """True for a ``cupy.ndarray`` (checked without importing CuPy)."""
    cupy = sys.modules.get("cupy")
    return cupy is not None and isinstance(x, cupy.ndarray)


def array_module(*xs):
    """The array module (``numpy`` or ``cupy``) that owns the given values."""
    if "cupy" not in sys.modules:
        return np
    for x in xs:
        if is_cupy_array(x):
            import cupy
            return cupy
    return np


def is_array(x):
    """True for a NumPy or CuPy ndarray."""
    return type(x) is np.ndarray or isinstance(x, np.ndarray) or is_cupy_array(x)
