"""Array backends: pick NumPy or CuPy from the arrays themselves.

Nothing here imports CuPy unless a CuPy array is actually seen, so the CPU
path never needs it installed.
"""
import sys

import numpy as np

from .structure import flatten_one_level


def is_cupy_array(x):
    """True for a ``cupy.ndarray`` (checked without importing CuPy)."""
    cupy = sys.modules.get("cupy")
    return cupy is not None and isinstance(x, cupy.ndarray)


def module_of(*xs):
    """The array module (``numpy`` or ``cupy``) whose arrays these values are (arrays only, not
    looked for inside lists or dicts): ``module_of(x).zeros_like(x)``. Compare
    :func:`knetc.runtime.creation.creation_module`, the module that creates new arrays on the
    device of a function's arguments."""
    if "cupy" not in sys.modules:
        return np
    for x in xs:
        if is_cupy_array(x):
            import cupy  # lazy: CuPy is optional (GPU only)
            return cupy
    return np


def value_module(*xs):
    """:func:`module_of` of values that may be traced (boxes hold the array as ``_value``)."""
    plain = []
    for x in xs:
        while hasattr(x, "_value"):
            x = x._value
        plain.append(x)
    return module_of(*plain)


def holds_cupy(x, depth=0):
    """True for a CuPy array, or a tree (see :mod:`.structure`) holding one (nested up to 8 levels)."""
    if is_cupy_array(x):
        return True
    if depth < 8:
        level = flatten_one_level(x)
        if level is not None:
            return any(holds_cupy(v, depth + 1) for v in level[0])
    return False


def is_array(x):
    """True for a NumPy or CuPy ndarray."""
    return type(x) is np.ndarray or isinstance(x, np.ndarray) or is_cupy_array(x)
