"""Derivative rules of NumPy functions, ufuncs, operators, ``math`` and builtins.

One line per rule where possible: single-expression VJPs are inlined by the
compiler into the generated code, so keep them short and readable. Every rule
here is checked against central finite differences in tests/test_rules.py.

VJPs call NumPy functions (``np.exp``, ``np.where``, ``np.reshape``...) rather
than methods or in-place updates: those functions dispatch to CuPy for CuPy
arrays and to the tape for traced values, so the same rule serves the GPU and
higher-order gradients.

The rest of the core table is in modules of its own, imported at the end of
this one (so importing ``numpy_rules`` registers all of it): ``rules_matmul``
(matmul, tensordot, dot, outer), ``rules_sums`` (sum, mean, max, min, prod, var,
std), ``methods`` (the ``METHODS``,
``NONDIFF_METHODS``, ``ATTRIBUTES`` and ``CONSTANT_ATTRIBUTES`` tables the
compiler and the tape read, re-exported here), ``rules_python`` (``math`` and
builtins, ``BUILTINS``) and ``rules_creation`` (``np.full``, ``np.arange``,
``np.linspace``, ``np.r_``). Shared VJP helpers are in ``rule_helpers``.
"""
import builtins
import math

import numpy as np

from . import gpu_kernels
from .backend import module_of
from .indexing import scatter
from .rule_helpers import (_along, _count, _inverse_perm, _keep_axes, _lift, _log_base,  # noqa: F401
                           _method_axes, _split_like)
from .rules import ZERO_DERIVATIVE, defnondiff, defvjp, defvjp_gpu, unbroadcast
from .zero_safe import mended, regular_divisor, regular_exponent, watch_unselected, zero_safe
from .rules_complex import abs_vjp, is_complex, real_if_real  # noqa: F401


# The optional arguments each rule models (see knetc.runtime.binding); any other
# optional argument a call passes is refused in both modes.
_ELEMENTWISE = ()      # ufuncs model no option: out=, where=, dtype=, casting= are refused



# --- arithmetic (operators map onto these ufuncs) ---------------------------
defvjp(np.add, lambda g, ans, x, y: unbroadcast(g, x),
               lambda g, ans, x, y: unbroadcast(g, y),
       keywords=_ELEMENTWISE)
# -unbroadcast(g, y) equals unbroadcast(-g, y) exactly, and negates the smaller array.
defvjp(np.subtract, lambda g, ans, x, y: unbroadcast(g, x),
                    lambda g, ans, x, y: -unbroadcast(g, y),
       keywords=_ELEMENTWISE)
defvjp(np.multiply, lambda g, ans, x, y: unbroadcast(mended(g, g * y), x),
                    lambda g, ans, x, y: unbroadcast(mended(g, g * x), y),
       keywords=_ELEMENTWISE)
# A zero adjoint (the unselected branch of np.where) stays zero where a rule's derivative is
# infinite or NaN (see knetc/runtime/zero_safe.py): zero_safe(g, ...) where the singularity is
# invisible in the value (sqrt at 0), mended(g, ...) where the value shows it (x / 0, log(0)).
defvjp(np.divide, lambda g, ans, x, y: unbroadcast(g / y if regular_divisor(y) else mended(g, g / y), x),
                  lambda g, ans, x, y: unbroadcast(mended(g, -g * ans / y), y),
       keywords=_ELEMENTWISE)
# ``y - 1 + (y == 0)`` keeps 0 ** -1 out of the y == 0 case (its adjoint is 0).
defvjp(np.power, lambda g, ans, x, y: unbroadcast(g * y * x ** (y - 1) if regular_exponent(y)
                                                  else zero_safe(g, g * y * x ** (y - 1 + (y == 0))), x),
                 lambda g, ans, x, y: unbroadcast(zero_safe(g, g * ans * _log_base(x)), y),
       keywords=_ELEMENTWISE)
defvjp(np.negative, lambda g, ans, x: -g, keywords=_ELEMENTWISE)
defvjp(np.positive, lambda g, ans, x: g, keywords=_ELEMENTWISE)
defvjp(np.reciprocal, lambda g, ans, x: mended(g, -g * ans * ans), keywords=_ELEMENTWISE)

# --- elementwise -------------------------------------------------------------
defvjp(np.exp, lambda g, ans, x: mended(g, g * ans), keywords=_ELEMENTWISE)
defvjp(np.expm1, lambda g, ans, x: mended(g, g * (ans + 1)), keywords=_ELEMENTWISE)
defvjp(np.log, lambda g, ans, x: mended(g, g / x), keywords=_ELEMENTWISE)
defvjp(np.log1p, lambda g, ans, x: mended(g, g / (1 + x)), keywords=_ELEMENTWISE)
defvjp(np.log2, lambda g, ans, x: mended(g, g / (x * np.log(2.0))), keywords=_ELEMENTWISE)
defvjp(np.log10, lambda g, ans, x: mended(g, g / (x * np.log(10.0))), keywords=_ELEMENTWISE)
defvjp(np.sqrt, lambda g, ans, x: zero_safe(g, g * 0.5 / ans), keywords=_ELEMENTWISE)
defvjp(np.square, lambda g, ans, x: g * 2 * x, keywords=_ELEMENTWISE)
defvjp(np.absolute, abs_vjp, keywords=_ELEMENTWISE)
defvjp(np.sin, lambda g, ans, x: mended(g, g * np.cos(x)), keywords=_ELEMENTWISE)
defvjp(np.cos, lambda g, ans, x: mended(g, -g * np.sin(x)), keywords=_ELEMENTWISE)
defvjp(np.tan, lambda g, ans, x: g * (1 + ans * ans), keywords=_ELEMENTWISE)
defvjp(np.tanh, lambda g, ans, x: g * (1 - ans * ans), keywords=_ELEMENTWISE)
defvjp_gpu(np.tanh, lambda g, ans, x: gpu_kernels.tanh_vjp(g, ans))
defvjp(np.sinh, lambda g, ans, x: mended(g, g * np.cosh(x)), keywords=_ELEMENTWISE)
defvjp(np.cosh, lambda g, ans, x: mended(g, g * np.sinh(x)), keywords=_ELEMENTWISE)
defvjp(np.arctan, lambda g, ans, x: g / (1 + x * x), keywords=_ELEMENTWISE)
defvjp(np.arcsin, lambda g, ans, x: zero_safe(g, g / np.sqrt(1 - x * x)), keywords=_ELEMENTWISE)
defvjp(np.arccos, lambda g, ans, x: zero_safe(g, -g / np.sqrt(1 - x * x)), keywords=_ELEMENTWISE)
defvjp(np.logaddexp, lambda g, ans, x, y: unbroadcast(g * np.exp(x - ans), x),
                     lambda g, ans, x, y: unbroadcast(g * np.exp(y - ans), y),
       keywords=_ELEMENTWISE)
def _extreme_vjp(g, x, y, wins):
    """The adjoint of ``x`` in ``maximum(x, y)`` / ``minimum(x, y)``: ``g`` where ``x`` wins,
    half of it on ties, 0 elsewhere (``wins`` is ``x > y`` or ``x < y``).

    Ties are rare (a ReLU input exactly 0), so for NumPy arrays the tie term is
    only computed when there is one; elsewhere (CuPy, where testing would
    synchronise, and traced values) it always is.
    """
    out = g * wins
    ties = np.equal(x, y)
    if type(ties) is not np.ndarray or ties.any():
        out = out + 0.5 * g * ties          # 0.5 * g keeps g's dtype (float32 stays float32)
    return unbroadcast(out, x)


defvjp(np.maximum, lambda g, ans, x, y: _extreme_vjp(g, x, y, np.greater(x, y)),
                   lambda g, ans, x, y: _extreme_vjp(g, y, x, np.greater(y, x)),
       keywords=_ELEMENTWISE)
defvjp(np.minimum, lambda g, ans, x, y: _extreme_vjp(g, x, y, np.less(x, y)),
                   lambda g, ans, x, y: _extreme_vjp(g, y, x, np.less(y, x)),
       keywords=_ELEMENTWISE)
# The condition's derivative is zero: it selects, it is not added.
defvjp(np.where, ZERO_DERIVATIVE,
       lambda g, ans, c, x, y: unbroadcast(np.where(c, g, 0.0), watch_unselected(x)),
       lambda g, ans, c, x, y: unbroadcast(np.where(c, 0.0, g), watch_unselected(y)),
       keywords=())


# np.clip(x, lo, hi) = minimum(maximum(x, lo), hi): the adjoint goes to whichever of
# x, lo, hi the result equals, x first, then lo (a tie is a kink: one side's derivative).
def _clip_bounds(a_min, a_max, kwargs):
    lo = kwargs.get("min") if a_min is None or a_min is _NOVALUE else a_min
    hi = kwargs.get("max") if a_max is None or a_max is _NOVALUE else a_max
    return lo, hi


def _clip_vjp_x(g, ans, x, a_min=None, a_max=None, out=None, **kwargs):
    return unbroadcast(g * (ans == x), x)


def _clip_vjp_lo(g, ans, x, a_min=None, a_max=None, out=None, **kwargs):
    lo, _ = _clip_bounds(a_min, a_max, kwargs)
    return unbroadcast(g * np.logical_and(ans == lo, ans != x), lo)


def _clip_vjp_hi(g, ans, x, a_min=None, a_max=None, out=None, **kwargs):
    lo, hi = _clip_bounds(a_min, a_max, kwargs)
    wins = np.logical_and(ans == hi, ans != x)
    if lo is not None:
        wins = np.logical_and(wins, ans != lo)
    return unbroadcast(g * wins, hi)


_NOVALUE = getattr(np, "_NoValue", None)
defvjp(np.clip, _clip_vjp_x, _clip_vjp_lo, _clip_vjp_hi, min=_clip_vjp_lo, max=_clip_vjp_hi,
       keywords=())


# --- shape ---------------------------------------------------------------------
defvjp(np.transpose, lambda g, ans, x, axes=None: np.transpose(g, _inverse_perm(axes, np.ndim(x))),
       keywords=("axes",))
defvjp(np.swapaxes, lambda g, ans, x, axis1, axis2: np.swapaxes(g, axis1, axis2), keywords=())
defvjp(np.moveaxis, lambda g, ans, x, source, destination: np.moveaxis(g, destination, source),
       keywords=())
defvjp(np.reshape, lambda g, ans, x, shape=None, order="C", **kwargs: np.reshape(g, np.shape(x), order=order),
       keywords=("shape", "order", "newshape", "copy"))
defvjp(np.ravel, lambda g, ans, x, order="C": np.reshape(g, np.shape(x), order=order), keywords=("order",))
defvjp(np.squeeze, lambda g, ans, x, axis=None: np.reshape(g, np.shape(x)), keywords=("axis",))
defvjp(np.expand_dims, lambda g, ans, x, axis: np.reshape(g, np.shape(x)), keywords=())
defvjp(np.broadcast_to, lambda g, ans, x, shape, **kwargs: unbroadcast(g, x), keywords=("subok",))
defvjp(np.atleast_1d, lambda g, ans, x: unbroadcast(np.reshape(g, np.shape(x)), x), keywords=())
defvjp(np.atleast_2d, lambda g, ans, x: unbroadcast(np.reshape(g, np.shape(x)), x), keywords=())
defvjp(np.flip, lambda g, ans, x, axis=None: np.flip(g, axis), keywords=("axis",))
defvjp(np.conjugate, lambda g, ans, x: np.conjugate(g), keywords=())


def _cumsum_vjp(g, ans, x, axis=None, dtype=None, out=None):
    # Each x[i] feeds every later partial sum: a reversed cumulative sum.
    if axis is None:
        return np.reshape(np.flip(np.cumsum(np.flip(g))), np.shape(x))
    return np.flip(np.cumsum(np.flip(g, axis), axis), axis)


def _take_indices(indices, n, mode):
    """The positions ``np.take`` read: ``mode="clip"`` clips (negatives to 0), ``"wrap"`` wraps."""
    if mode == "clip":
        return np.clip(indices, 0, n - 1)
    if mode == "wrap":
        return np.mod(indices, n)
    return indices


def _take_vjp(g, ans, x, indices, axis=None, out=None, mode="raise"):
    n = np.size(x) if axis is None else np.shape(x)[axis]
    indices = _take_indices(indices, n, mode)
    if axis is None:
        return np.reshape(scatter(np.ravel(x), indices, g), np.shape(x))
    return scatter(x, _along(x, axis, indices), g)


def _repeat_vjp(g, ans, x, repeats, axis=None):
    xp = module_of(g, x)
    if axis is None:
        index = xp.repeat(xp.arange(np.size(x)), repeats)
        return np.reshape(scatter(np.ravel(x), index, g), np.shape(x))
    index = xp.repeat(xp.arange(np.shape(x)[axis]), repeats)
    return scatter(x, _along(x, axis, index), g)


def _diagonal_adjoint(g, x, offset, axis1, axis2):
    # The diagonal lies along the last axis of g; scatter it into the two
    # axes it came from (moved to the end and back).
    xp = module_of(g, x)
    k = np.shape(g)[-1]
    rows, cols = xp.arange(k) + max(-offset, 0), xp.arange(k) + max(offset, 0)
    moved = np.moveaxis(x, (axis1, axis2), (-2, -1))
    return np.moveaxis(scatter(moved, (Ellipsis, rows, cols), g), (-2, -1), (axis1, axis2))


def _diagonal_vjp(g, ans, x, offset=0, axis1=0, axis2=1):
    return _diagonal_adjoint(g, x, offset, axis1, axis2)


def _diagonal_shape(shape, offset, axis1, axis2):
    n1, n2 = shape[axis1], shape[axis2]
    k = min(n1, n2 - offset) if offset >= 0 else min(n1 + offset, n2)
    axes = (axis1 % len(shape), axis2 % len(shape))
    return tuple(n for i, n in enumerate(shape) if i not in axes) + (max(k, 0),)


def _trace_vjp(g, ans, x, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    shape = _diagonal_shape(np.shape(x), offset, axis1, axis2)
    g = np.broadcast_to(np.expand_dims(_lift(g, x), -1), shape)
    return _diagonal_adjoint(g, x, offset, axis1, axis2)


defvjp(np.cumsum, _cumsum_vjp, keywords=("axis", "dtype"))
defvjp(np.take, _take_vjp, keywords=("axis", "mode"))
defvjp(np.repeat, _repeat_vjp, keywords=("axis",))
defvjp(np.diagonal, _diagonal_vjp, keywords=("offset", "axis1", "axis2"))
defvjp(np.trace, _trace_vjp, keywords=("offset", "axis1", "axis2", "dtype"))


# Functions of a sequence of arrays: the VJP of argument 0 returns a list of
# adjoints, one per element (Python floats get scalars).
def _concatenate_vjp(g, ans, arrays, axis=0, out=None, **kwargs):
    if axis is None:                      # the pieces were flattened first
        return _split_like(g, arrays, 0, [(np.size(a),) for a in arrays])
    return _split_like(g, arrays, axis, [np.shape(a) for a in arrays])


def _stack_vjp(g, ans, arrays, axis=0, out=None, **kwargs):
    return [unbroadcast(g[_along(g, axis, i)], a) for i, a in enumerate(arrays)]


def _hstack_vjp(g, ans, arrays, **kwargs):
    shapes = [np.shape(a) or (1,) for a in arrays]           # as np.atleast_1d
    return _split_like(g, arrays, 0 if len(shapes[0]) == 1 else 1, shapes)


def _vstack_vjp(g, ans, arrays, **kwargs):
    shapes = [(1,) * (2 - np.ndim(a)) + np.shape(a) for a in arrays]   # as np.atleast_2d
    return _split_like(g, arrays, 0, shapes)


defvjp(np.concatenate, _concatenate_vjp, keywords=("axis", "dtype"))
defvjp(np.stack, _stack_vjp, keywords=("axis", "dtype"))
defvjp(np.hstack, _hstack_vjp, keywords=("dtype",))
defvjp(np.vstack, _vstack_vjp, keywords=("dtype",))


# Functions returning a list: ``g`` is a list with one adjoint per piece
# (None or zeros for pieces that were not used).
def _split_vjp(g, ans, x, indices_or_sections, axis=0):
    pieces = [gi if gi is not None else np.zeros_like(ai) for gi, ai in zip(g, ans)]
    return np.concatenate(pieces, axis=axis)


defvjp(np.split, _split_vjp, keywords=("axis",))
defvjp(np.array_split, _split_vjp, keywords=("axis",))


def _array_vjp(g, ans, x, dtype=None, **kwargs):
    # np.array of an array is the identity; of a (nested) list it stacks.
    if isinstance(x, (list, tuple)):
        return [_array_vjp(g[i], None, xi) for i, xi in enumerate(x)]
    return unbroadcast(g, x)


_CONVERT = ("dtype", "copy", "order", "subok", "ndmin", "device")
defvjp(np.array, _array_vjp, keywords=_CONVERT)
defvjp(np.asarray, _array_vjp, keywords=_CONVERT)
# the other conversions are the identity on values too (ascontiguousarray/asfortranarray make a
# 0-d input 1-d: unbroadcast sums that axis away); asarray_chkfinite raises on NaN/inf itself
defvjp(np.asanyarray, _array_vjp, keywords=("dtype", "order", "device", "copy"))
defvjp(np.ascontiguousarray, _array_vjp, keywords=("dtype",))
defvjp(np.asfortranarray, _array_vjp, keywords=("dtype",))
defvjp(np.asarray_chkfinite, _array_vjp, keywords=("dtype", "order"))
defvjp(np.copy, lambda g, ans, x, order="K", **kwargs: g, keywords=("order", "subok"))
defvjp(np.float64, lambda g, ans, x=0.0: g, keywords=())
defvjp(np.float32, lambda g, ans, x=0.0: g, keywords=())
defvjp(np.real, lambda g, ans, x: np.real(g), keywords=())
# real_if_close drops an imaginary part within tol of zero: the real part's adjoint is g either way
defvjp(np.real_if_close, lambda g, ans, a, tol=100: real_if_real(g, a), keywords=("tol",))


# --- constants -------------------------------------------------------------------
# Only functions whose derivative is zero wherever it exists, for every argument
# (tests/test_constants.py checks each entry by finite differences).
defnondiff(
    np.shape, np.ndim, np.size, np.zeros_like, np.ones_like, np.empty_like,
    np.zeros, np.ones, np.empty, np.eye, np.identity,
    np.argmax, np.argmin, np.argsort, np.nonzero, np.flatnonzero, np.argwhere, np.count_nonzero,
    np.searchsorted, np.spacing, np.floor, np.ceil, np.round, np.around, np.rint, np.trunc, np.fix,
    np.floor_divide, np.equal, np.not_equal, np.less, np.less_equal, np.greater,
    np.greater_equal, np.isnan, np.isfinite, np.isinf, np.isclose, np.allclose,
    np.array_equal, np.logical_and, np.logical_or, np.logical_not, np.logical_xor,
    np.bitwise_and, np.bitwise_or, np.bitwise_xor, np.invert,
    np.any, np.all, np.result_type,
    builtins.len, builtins.round, builtins.int, builtins.bool, math.floor, math.ceil,
    math.isnan, math.isfinite,
)


# --- the rest of the core table (see the module docstring) --------------------------
from .rules_matmul import (_matmul_vjp_x, _matmul_vjp_y, _tensordot_vjp_a,  # noqa: E402,F401
                           _tensordot_vjp_b)
from .methods import (ATTRIBUTES, CONSTANT_ATTRIBUTES, METHODS, NONDIFF_METHODS,  # noqa: E402,F401
                      matrix_transpose, ndarray_astype, ndarray_flatten, ndarray_item, ndarray_reshape,
                      ndarray_transpose)
from .rules_python import BUILTINS  # noqa: E402,F401
from .rules_sums import _max_vjp, _prod_vjp  # noqa: E402,F401
from .rules_creation import axis_concatenate  # noqa: E402,F401
