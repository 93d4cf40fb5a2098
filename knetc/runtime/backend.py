"""Array backends: pick NumPy or CuPy from the arrays themselves.

Nothing here imports CuPy unless a CuPy array is actually seen, so the CPU
path never needs it installed.
"""
import numpy as np


def is_cupy_array(x):
    """True for a ``cupy.ndarray`` (checked without importing CuPy)."""
    return type(x).__module__.startswith("cupy")


def array_module(*xs):
    """The array module (``numpy`` or ``cupy``) that owns the given values."""
    for x in xs:
        if is_cupy_array(x):
            import cupy
            return cupy
    return np


def is_array(x):
    """True for a NumPy or CuPy ndarray."""
    return isinstance(x, np.ndarray) or is_cupy_array(x)
