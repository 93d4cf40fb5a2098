"""Helpers shared by the ``scipy.linalg`` rule modules."""
import numpy as np


def _tt(x):
    """Swap the last two axes (SciPy 1.17's linalg functions take stacks of matrices)."""
    return np.swapaxes(x, -1, -2)


def _as_dtype(c, x):
    dtype = getattr(x, "dtype", None)
    if dtype is not None and dtype.kind == "f" and getattr(c, "dtype", dtype) != dtype:
        c = c.astype(dtype)
    return c


def _plain(x):
    """The value inside a traced value (second derivatives), for tests on values."""
    while hasattr(x, "_value"):
        x = x._value
    return x
