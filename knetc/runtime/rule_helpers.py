"""Small helpers shared by the VJPs of the rule modules (axes, counts, scalars on a device)."""
import numbers

import numpy as np

from .backend import module_of, is_cupy_array
from .rules import unbroadcast
from .rules_complex import is_complex

def _lift(g, x):
    """A scalar adjoint as an array on ``x``'s device (arrays pass through).

    Only needed for CuPy: NumPy functions accept Python scalars directly, but
    a Python float broadcast against a GPU array must first move there.
    """
    if is_cupy_array(x) and isinstance(g, (numbers.Number, np.generic)):
        # a fill kernel: cupy.asarray(g) would be a synchronous host-to-device copy
        dtype = x.dtype if x.dtype.kind in "fc" else np.result_type(g)
        return module_of(x).full((), g, dtype=dtype)
    return g


def _keep_axes(g, axis, keepdims):
    """Give a reduction's adjoint back its reduced axes (as size 1)."""
    if axis is None or keepdims:
        return g
    return np.expand_dims(g, axis)


def _count(x, ans):
    """How many elements of ``x`` were reduced into each element of ``ans``."""
    if type(x) is np.ndarray:            # the common case, without np.size's Python wrapper
        return x.size // max(ans.size if isinstance(ans, (np.ndarray, np.generic)) else np.size(ans), 1)
    return np.size(x) // max(np.size(ans), 1)


def _inverse_perm(axes, ndim):
    """The permutation undoing ``np.transpose(x, axes)`` (None for None)."""
    if axes is None:
        return None
    inverse = [0] * ndim
    for position, axis in enumerate(axes):
        inverse[axis % ndim] = position
    return tuple(inverse)


def _method_axes(axes):
    """``x.transpose(1, 0)`` and ``x.transpose((1, 0))`` both give ``(1, 0)``."""
    if len(axes) == 0 or (len(axes) == 1 and axes[0] is None):
        return None
    if len(axes) == 1 and not isinstance(axes[0], numbers.Integral):
        return tuple(axes[0])
    return tuple(axes)


def _along(x, axis, index):
    """The index tuple selecting ``index`` along ``axis`` of ``x``."""
    return (slice(None),) * (axis % np.ndim(x)) + (index,)


def _split_like(g, arrays, axis, shapes):
    """Cut ``g`` along ``axis`` into pieces of ``shapes``; reshape to ``arrays``."""
    bounds, total = [], 0
    for shape in shapes[:-1]:
        total += shape[axis]
        bounds.append(total)
    pieces = np.split(g, bounds, axis=axis)
    return [unbroadcast(np.reshape(p, np.shape(a)), a) for p, a in zip(pieces, arrays)]


def _log_base(x):
    # d x**y / dy = x**y log(x); for real x <= 0 there is none (0 is chosen), complex x has log(x)
    return np.log(x) if is_complex(x) else np.log(np.where(x > 0, x, 1.0))


def _axes(axis, ndim):
    return tuple(range(ndim)) if axis is None else tuple(a % ndim for a in np.atleast_1d(axis).tolist())
