"""The tables of ndarray methods and attributes the compiler and the tape understand.

``METHODS`` maps an ndarray method name to a callable called as ``f(x, *args,
**kwargs)``; each has a rule, except the ``NONDIFF_METHODS`` such as ``argmax``,
which are declared non-differentiable. ``ATTRIBUTES`` are differentiable
attributes such as ``x.T``, called as ``f(x)``; ``CONSTANT_ATTRIBUTES`` are
read as constants. Methods whose NumPy function has another signature get
small adapters here (``ndarray_reshape`` for ``x.reshape(2, 3)``...) with
rules of their own.
"""
import numpy as np

from .rule_helpers import _inverse_perm, _lift, _method_axes
from .rules import defvjp, primitive
from .rules_complex import real_if_real

# Methods whose NumPy function has the same positional signature map onto
# it; the others get small adapters with rules of their own.
@primitive
def ndarray_transpose(x, *axes):
    """``x.transpose(1, 0)`` or ``x.transpose((1, 0))`` or ``x.transpose()``."""
    return np.transpose(x, _method_axes(axes))


@primitive
def ndarray_reshape(x, *shape, order="C"):
    """``x.reshape(2, 3)`` or ``x.reshape((2, 3))``."""
    return np.reshape(x, shape[0] if len(shape) == 1 else shape, order=order)


@primitive
def ndarray_flatten(x, order="C"):
    """``x.flatten()``: a flat copy."""
    return np.copy(np.ravel(x, order=order))


@primitive
def ndarray_astype(x, dtype, *args, **kwargs):
    """``x.astype(dtype)``."""
    return x.astype(dtype, *args, **kwargs)


@primitive
def ndarray_item(x):
    """``x.item()``: the one element of ``x`` as a Python scalar."""
    return x.item()


@primitive
def matrix_transpose(x):
    """``x.mT``: swap the last two axes."""
    return np.swapaxes(x, -1, -2)


def _astype_vjp(g, ans, x, dtype, order="K", casting="unsafe", subok=True, copy=True):
    g = real_if_real(_lift(g, x), x)
    if np.dtype(dtype).kind not in "fc":     # a cast to int or bool is piecewise constant
        return np.zeros_like(x)
    return ndarray_astype(g, x.dtype) if hasattr(g, "astype") else g


defvjp(ndarray_transpose, lambda g, ans, x, *axes: np.transpose(g, _inverse_perm(_method_axes(axes), np.ndim(x))),
       keywords=("axes",))
defvjp(ndarray_reshape, lambda g, ans, x, *shape, order="C": np.reshape(g, np.shape(x), order=order),
       keywords=("shape", "order"))
defvjp(ndarray_flatten, lambda g, ans, x, order="C": np.reshape(g, np.shape(x), order=order),
       keywords=("order",))
defvjp(ndarray_astype, _astype_vjp, keywords=("order", "casting", "subok", "copy"))
# np.astype (NumPy 2): the function form of x.astype
defvjp(np.astype, lambda g, ans, x, dtype, /, *, copy=True, device=None: _astype_vjp(g, ans, x, dtype),
       keywords=("copy", "device"))
defvjp(ndarray_item, lambda g, ans, x: g * np.ones_like(x), keywords=())
defvjp(matrix_transpose, lambda g, ans, x: np.swapaxes(g, -1, -2), keywords=())

# Methods whose results are constants; they are in METHODS too (their
# callables are declared with defnondiff, not given rules).
NONDIFF_METHODS = {
    "argmax": np.argmax, "argmin": np.argmin, "argsort": np.argsort, "nonzero": np.nonzero,
    "any": np.any, "all": np.all, "round": np.round,
}
METHODS = {
    "sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min, "prod": np.prod,
    "var": np.var, "std": np.std, "cumsum": np.cumsum, "cumprod": np.cumprod, "dot": np.dot, "clip": np.clip,
    "squeeze": np.squeeze, "ravel": np.ravel, "copy": np.copy, "swapaxes": np.swapaxes,
    "repeat": np.repeat, "take": np.take, "diagonal": np.diagonal, "trace": np.trace,
    "conj": np.conjugate, "conjugate": np.conjugate,
    "transpose": ndarray_transpose, "reshape": ndarray_reshape, "flatten": ndarray_flatten,
    "astype": ndarray_astype, "item": ndarray_item,
    **NONDIFF_METHODS,
}
ATTRIBUTES = {"T": np.transpose, "mT": matrix_transpose, "real": np.real, "imag": np.imag}
CONSTANT_ATTRIBUTES = frozenset({"shape", "ndim", "dtype", "size", "itemsize", "nbytes", "strides"})
