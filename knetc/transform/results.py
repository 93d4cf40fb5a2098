"""What a call's result is, known without running it: a new object, a list.

Read by the alias analysis (aliases.py), the result analyses (returns.py) and
the kinds (analysis.py).
"""
import numpy as np

from ..runtime.rules import Primitive
from .packages import in_packages

# Rules whose result is a list of arrays.
LIST_RESULTS = {np.split, np.array_split, np.hsplit, np.vsplit, np.dsplit}

_SYMBOLS = {"+", "-", "*", "/", "**", "@", "//", "%", "&", "|", "^", "<<", ">>", "item assignment"}
# Functions that may return (a view of) an argument rather than a new array.
_VIEW_NAMES = frozenset({
    "asarray", "asanyarray", "ascontiguousarray", "asfortranarray", "asarray_chkfinite", "require", "atleast_1d",
    "atleast_2d", "atleast_3d", "squeeze", "reshape", "ravel", "transpose", "real", "imag",
    "diagonal", "diag", "broadcast_to", "broadcast_arrays", "flip", "fliplr", "flipud", "rot90",
    "split", "array_split", "hsplit", "vsplit", "dsplit", "moveaxis", "swapaxes", "rollaxis",
    "expand_dims", "matrix_transpose", "permute_dims", "unstack", "ndarray_transpose",
    "ndarray_reshape", "view", "getitem", "nan_to_num", "asfarray", "astype", "ndarray_astype",
    "ndarray_flatten", "array", "asmatrix", "squeeze_", "T", "mT",
})


def new_object(fun, label, kwargs):
    """Whether an Op always returns a new object (never its argument or a view of it)."""
    if label in _SYMBOLS:
        return True
    if fun is None or isinstance(fun, Primitive):
        return False
    if isinstance(fun, np.ufunc):
        return True
    name = getattr(fun, "__name__", "")
    module = getattr(fun, "__module__", None) or ""
    if name in _VIEW_NAMES or label.lstrip(".").rstrip("()") in _VIEW_NAMES:
        return name == "array" and not any(k == "copy" for k, _ in kwargs)
    return in_packages(module)
