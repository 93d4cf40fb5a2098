"""Forward mode from the one rule table: the JVP of every rule, derived where it can be.

A JVP maps the tangent ``t`` of one argument to the tangent of the result::

    jvp(t, ans, *args, **kwargs)

For each rule and argument, :func:`jvp_plan` picks, in this order:

- ``explicit``: a JVP given with :func:`knetc.defjvp`;
- ``linear``: the function is linear in that argument (sums, reshapes,
  transposes, concatenation, indexing) or multilinear (products such as
  ``matmul``, ``dot``, ``einsum``): the tangent is the function itself with
  the tangent in the argument's place, ``np.sum(t, axis=0)``;
- ``elementwise``: a ufunc (or a ``math`` function) acts element by element,
  so its Jacobian is diagonal and the VJP with ``g = t`` is the JVP, once the
  tangent and the arguments are broadcast to the result's shape (which makes
  the VJP's ``unbroadcast`` the identity);
- ``transpose``: any other rule. A VJP is linear in its cotangent ``g``, so
  the JVP is the gradient of ``<vjp(u), t>`` with respect to ``u``, taken on
  the tape (exact, and it works for every rule whose VJP is made of
  differentiable operations, which the rule tests check).

Nothing here is a second derivative table: every JVP comes from the function
itself, from the VJP, or from the user.
"""
import builtins
import math
import operator

import numpy as np

from . import numpy_rules as nr
from .backend import module_of, is_array
from .indexing import getitem, setitem_array
from .rules_complex import is_complex
from .rules import ZERO_DERIVATIVE, defvjp, rule_for
from ..errors import UnsupportedError
from .tape_forward import tangent_through
from .rules_reductions import _nanmax_vjp

# Functions linear in the listed arguments (jointly linear in one argument;
# multilinear functions are linear in each argument separately).
_LINEAR = {
    np.sum: (0,), np.mean: (0,), np.transpose: (0,), np.swapaxes: (0,), np.moveaxis: (0,),
    np.reshape: (0,), np.ravel: (0,), np.squeeze: (0,), np.expand_dims: (0,),
    np.broadcast_to: (0,), np.atleast_1d: (0,), np.atleast_2d: (0,), np.flip: (0,),
    np.cumsum: (0,), np.take: (0,), np.repeat: (0,), np.diagonal: (0,), np.trace: (0,),
    np.concatenate: (0,), np.stack: (0,), np.hstack: (0,), np.vstack: (0,), np.split: (0,),
    np.array_split: (0,), np.copy: (0,), np.real: (0,), np.conjugate: (0,), np.negative: (0,),
    np.positive: (0,), np.array: (0,), np.asarray: (0,), np.asanyarray: (0,),
    np.ascontiguousarray: (0,), np.asfortranarray: (0,), np.asarray_chkfinite: (0,),
    np.matmul: (0, 1), np.dot: (0, 1), np.tensordot: (0, 1), np.outer: (0, 1), np.multiply: (0, 1),
    getitem: (0,), builtins.sum: (0,), list: (0,), tuple: (0,),
    nr.ndarray_transpose: (0,), nr.ndarray_reshape: (0,), nr.ndarray_flatten: (0,),
    nr.matrix_transpose: (0,), nr.ndarray_item: (0,),
}
# Arguments that make a linear function affine: its tangent has them at zero (np.sum's
# ``initial`` adds a constant, so does the builtin sum's ``start``).
_AFFINE = {np.sum: ((), ("initial",)), builtins.sum: ((1,), ("start",))}


def affine_parts(fun):
    """``(positions, keywords)`` of ``fun``'s arguments that its tangent takes at zero."""
    try:
        return _AFFINE.get(fun, ((), ()))
    except TypeError:
        return (), ()


_OPTIONAL = {"einsum", "inner", "kron", "vdot", "cross", "tile", "roll", "rot90", "fliplr", "flipud",
             "diag", "diagflat", "triu", "tril", "column_stack", "row_stack", "dstack",
             "fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2", "irfft2", "rfftn",
             "irfftn", "hfft", "ihfft", "fftshift", "ifftshift", "imag"}


def _optional_linear():
    """NumPy functions linear in every array argument, where this NumPy has them."""
    out = {}
    for name in _OPTIONAL:
        for space in (np, np.fft, np.linalg):
            fun = getattr(space, name, None)
            if fun is not None and callable(fun):
                out[fun] = "all"
    return out


_LINEAR_ALL = _optional_linear()
_MATH_OF_SEQUENCES = {"prod", "fsum", "dist", "sumprod"}
_SCALAR_ELEMENTWISE_MODULES = (math,)


def is_linear(fun, argnum):
    """True if ``fun`` is linear in argument ``argnum`` (the others held fixed)."""
    try:
        positions = _LINEAR.get(fun)
        if positions is not None:
            return argnum in positions
        return _LINEAR_ALL.get(fun) == "all"
    except TypeError:
        return False


def is_elementwise(fun):
    """True for ufuncs without a core signature and ``math`` functions on scalars."""
    if isinstance(fun, np.ufunc):
        return fun.signature is None and fun.nout == 1
    if getattr(fun, "__module__", None) == "math":
        return getattr(fun, "__name__", "") not in _MATH_OF_SEQUENCES
    if fun in (builtins.abs, builtins.pow, builtins.float):
        return True
    return fun in (operator.add, operator.sub, operator.mul, operator.truediv, operator.pow,
                   operator.neg, operator.pos)


_ONE_ARRAY = {np.matmul, np.dot, np.tensordot, np.outer, np.where, setitem_array}


def returns_one_array(fun):
    """True for callables known to return one array (so tangents add with ``+``)."""
    if isinstance(fun, np.ufunc):
        return fun.nout == 1
    try:
        return fun in _ONE_ARRAY or fun in (operator.add, operator.sub, operator.mul, operator.truediv,
                                             operator.pow, operator.matmul)
    except TypeError:
        return False


def jvp_plan(fun, argnum):
    """``(kind, obj)`` for the JVP of ``fun`` in argument ``argnum`` (see the module docstring)."""
    rule = rule_for(fun)
    if rule is None:
        return None, None
    if isinstance(argnum, int) and argnum < len(rule.jvps) and rule.jvps[argnum] is not None:
        return "explicit", rule.jvps[argnum]
    if is_linear(fun, argnum):
        return "linear", None
    vjp = rule.vjp(argnum) if isinstance(argnum, int) else rule.kwvjps.get(argnum)
    if vjp is None:
        return None, None
    if is_elementwise(fun):
        return "elementwise", vjp
    return "transpose", vjp


# Linear in these arguments together (the others held fixed): the tangent is one call with the
# tangents in their places and zeros in the places of arguments that are not differentiated.
JOINTLY_LINEAR = {np.where: (1, 2), setitem_array: (0, 2)}


# --- runtime helpers called by generated tangent code (and by jvp_call) ---------------------
def fit_tangent(t, ans):
    """``t`` broadcast to the shape of ``ans`` (a tangent must have its value's shape)."""
    shape = np.shape(ans)
    if np.shape(t) == shape:
        return t
    if not shape:
        return t
    return module_of(t, ans).broadcast_to(t, shape)


def elementwise_jvp(vjp, t, ans, *args, **kwargs):
    """The JVP of an elementwise function from its VJP: every operand at the result's shape.

    For a holomorphic function the VJP is ``g * f'(z)`` (rules_complex.py), so the JVP is
    the VJP applied to the tangent. A real result of a complex operand (``np.abs``,
    ``np.angle``) is no holomorphic function: with ``zbar = vjp(1)`` (= df/da - i df/db)
    its tangent is ``Re(zbar * t)``.
    """
    shape = np.shape(ans)
    real_of_complex = not is_complex(ans) and any(is_complex(a) for a in args)
    if not shape:
        if real_of_complex:
            return np.real(vjp(np.ones_like(ans), ans, *args, **kwargs) * t)
        return vjp(t, ans, *args, **kwargs)
    xp = module_of(t, ans)
    dtype = getattr(ans, "dtype", None)
    wide = [xp.broadcast_to(xp.asarray(a, dtype=dtype) if not is_array(a) else a, shape)
            if np.shape(a) != shape and not isinstance(a, (str, type(None))) else a for a in args]
    if real_of_complex:
        return xp.real(vjp(xp.ones_like(ans), ans, *wide, **kwargs) * fit_tangent(t, ans))
    return vjp(fit_tangent(t, ans), ans, *wide, **kwargs)


def transpose_jvp(vjp, t, ans, *args, **kwargs):
    """The JVP as the transpose of the (linear) VJP: d/du <vjp(u), t>, on the tape."""
    return tangent_through(lambda u: vjp(u, ans, *args, **kwargs), ans, t)


def linear_jvp(fun, argnum, t, args, kwargs):
    """``fun`` with the tangent ``t`` in argument ``argnum``'s place."""
    positions, keywords = affine_parts(fun)
    call = [a * 0 if i in positions else a for i, a in enumerate(args)]     # in its own shape
    kwargs = {k: (v * 0 if k in keywords else v) for k, v in kwargs.items()}
    if isinstance(argnum, int):
        call[argnum] = t
        return fun(*call, **kwargs)
    return fun(*call, **dict(kwargs, **{argnum: t}))


def rule_jvp(fun, argnum, t, ans, args, kwargs):
    """The tangent contribution of argument ``argnum`` of a rule call (any plan)."""
    kind, obj = jvp_plan(fun, argnum)
    if kind is None:
        raise UnsupportedError(f"forward mode through {getattr(fun, '__name__', fun)!r} with respect to "
                               f"argument {argnum}", detail="its rule has no derivative for that argument")
    if kind == "explicit":
        return obj(t, ans, *args, **kwargs)
    if kind == "linear":
        return linear_jvp(fun, argnum, t, args, kwargs)
    if kind == "elementwise":
        return elementwise_jvp(obj, t, ans, *args, **kwargs)
    return transpose_jvp(obj, t, ans, *args, **kwargs)


# np.where and setitem_array are linear in their two value arguments jointly, not separately.
def _defjvp_builtin(fun, *jvps):
    rule = rule_for(fun)
    if rule is not None and not rule.jvps:
        rule.jvps = tuple(jvps)


_defjvp_builtin(np.where, None,
                lambda t, ans, c, x, y: fit_tangent(np.where(c, t, 0.0), ans),
                lambda t, ans, c, x, y: fit_tangent(np.where(c, 0.0, t), ans))
_defjvp_builtin(setitem_array,
                lambda t, ans, x, idx, v: setitem_array(t, idx, 0.0),
                None,
                lambda t, ans, x, idx, v: setitem_array(np.zeros_like(ans), idx, t))

# maximum/minimum: the tangent of the winner, half of each on ties (the VJP's convention).
_defjvp_builtin(np.maximum, lambda t, ans, x, y: t * ((x > y) + 0.5 * (x == y)),
                lambda t, ans, x, y: t * ((y > x) + 0.5 * (x == y)))
_defjvp_builtin(np.minimum, lambda t, ans, x, y: t * ((x < y) + 0.5 * (x == y)),
                lambda t, ans, x, y: t * ((y < x) + 0.5 * (x == y)))


# max/min (and nanmax/nanmin): the tangent is each element's share of the extreme times its
# tangent, summed (the transpose of the VJP, which splits ties equally). The shares are
# constant where the extreme is differentiable, so the JVP's own VJP (reverse mode over a
# tangent program: Hessians) is the VJP in ``t`` and zero in ``ans`` and ``x``.
def max_jvp(t, ans, x, axis=None, out=None, keepdims=False, initial=None, where=None):
    """The tangent of ``np.max``/``np.min`` (and ``amax``/``amin``) along ``t``."""
    share = nr._max_vjp(np.ones_like(ans), ans, x, axis=axis, keepdims=keepdims, initial=initial, where=where)
    return np.sum(t * share, axis=axis, keepdims=keepdims)


def nanmax_jvp(t, ans, a, axis=None, out=None, keepdims=False):
    """The tangent of ``np.nanmax``/``np.nanmin`` along ``t``."""
    return np.sum(t * _nanmax_vjp(np.ones_like(ans), ans, a, axis=axis, keepdims=keepdims),
                  axis=axis, keepdims=keepdims)


def _max_jvp_vjp(g, out_, t, ans, x, axis=None, out=None, keepdims=False, initial=None, where=None):
    return nr._max_vjp(g, ans, x, axis=axis, keepdims=keepdims, initial=initial, where=where)


def _nanmax_jvp_vjp(g, out_, t, ans, a, axis=None, out=None, keepdims=False):
    return _nanmax_vjp(g, ans, a, axis=axis, keepdims=keepdims)


defvjp(max_jvp, _max_jvp_vjp, ZERO_DERIVATIVE, ZERO_DERIVATIVE, keywords=("axis", "keepdims", "initial", "where"))
defvjp(nanmax_jvp, _nanmax_jvp_vjp, ZERO_DERIVATIVE, ZERO_DERIVATIVE, keywords=("axis", "keepdims"))
for _f in (np.max, np.min, np.amax, np.amin):
    _defjvp_builtin(_f, max_jvp)
for _f in (np.nanmax, np.nanmin):
    _defjvp_builtin(_f, nanmax_jvp)
