"""Derivative rules of NumPy's core products: matmul (and ``@``), tensordot, dot, outer.

Their adjoints are products again (``g @ y.T`` and its batched and vector forms),
so second derivatives go through the same rules.
"""
import numbers

import numpy as np

from .rule_helpers import _lift
from .rules import defvjp, unbroadcast
from .rules_complex import real_if_real

_ndarray = np.ndarray


def _ndim(x):
    """``np.ndim(x)``, without its Python wrapper for an ndarray (every matmul VJP asks)."""
    return x.ndim if type(x) is _ndarray else np.ndim(x)


def _matmul_vjp_x(g, ans, x, y):
    xd, yd = _ndim(x), _ndim(y)
    if xd == 1 and yd == 1:          # (k,) @ (k,) -> ()
        return real_if_real(g * y, x)
    if yd == 1:                      # (..., m, k) @ (k,) -> (..., m)
        return unbroadcast(np.expand_dims(g, -1) * y, x)
    if xd == 1:                      # (k,) @ (..., k, n) -> (..., n)
        return unbroadcast(np.matmul(y, np.expand_dims(g, -1))[..., 0], x)
    return unbroadcast(np.matmul(g, np.swapaxes(y, -1, -2)), x)


def _matmul_vjp_y(g, ans, x, y):
    xd, yd = _ndim(x), _ndim(y)
    if xd == 1 and yd == 1:
        return real_if_real(g * x, y)
    if xd == 1:                      # (k,) @ (..., k, n): outer products
        return unbroadcast(np.expand_dims(x, -1) * np.expand_dims(g, -2), y)
    if yd == 1:                      # (..., m, k) @ (k,)
        return unbroadcast(np.matmul(np.expand_dims(g, -2), x)[..., 0, :], y)
    return unbroadcast(np.matmul(np.swapaxes(x, -1, -2), g), y)


defvjp(np.matmul, _matmul_vjp_x, _matmul_vjp_y, keywords=())


def _tensordot_axes(a, b, axes):
    """Normalise ``tensordot``'s ``axes`` to two lists of non-negative ints."""
    na, nb = np.ndim(a), np.ndim(b)
    if isinstance(axes, numbers.Integral):
        return list(range(na - axes, na)), list(range(axes))
    a_axes, b_axes = axes
    a_axes = [a_axes] if isinstance(a_axes, numbers.Integral) else list(a_axes)
    b_axes = [b_axes] if isinstance(b_axes, numbers.Integral) else list(b_axes)
    return [i % na for i in a_axes], [i % nb for i in b_axes]


def _contract(x, y, x_axes, y_axes):
    """``np.tensordot(x, y, (x_axes, y_axes))``; with no axes, the outer product.

    CuPy's ``tensordot`` refuses a 0-d operand even when nothing is contracted.
    """
    if not x_axes:
        return np.reshape(x, np.shape(x) + (1,) * np.ndim(y)) * y
    return np.tensordot(x, y, axes=(x_axes, y_axes))


def _tensordot_adjoint_a(g, a, b, a_axes, b_axes):
    a_free = [i for i in range(np.ndim(a)) if i not in a_axes]
    b_free = [i for i in range(np.ndim(b)) if i not in b_axes]
    n = len(a_free)
    ga = _contract(_lift(g, b), b, list(range(n, n + len(b_free))), b_free)
    # ga's axes: a's free axes, then a's contracted axes in the order of b's.
    labels = a_free + [a_axes[b_axes.index(j)] for j in sorted(b_axes)]
    return real_if_real(np.transpose(ga, tuple(np.argsort(labels).tolist())), a)


def _tensordot_adjoint_b(g, a, b, a_axes, b_axes):
    a_free = [i for i in range(np.ndim(a)) if i not in a_axes]
    b_free = [i for i in range(np.ndim(b)) if i not in b_axes]
    gb = _contract(a, _lift(g, a), a_free, list(range(len(a_free))))
    labels = [b_axes[a_axes.index(i)] for i in sorted(a_axes)] + b_free
    return real_if_real(np.transpose(gb, tuple(np.argsort(labels).tolist())), b)


def _tensordot_vjp_a(g, ans, a, b, axes=2):
    return _tensordot_adjoint_a(g, a, b, *_tensordot_axes(a, b, axes))


def _tensordot_vjp_b(g, ans, a, b, axes=2):
    return _tensordot_adjoint_b(g, a, b, *_tensordot_axes(a, b, axes))


defvjp(np.tensordot, _tensordot_vjp_a, _tensordot_vjp_b, keywords=("axes",))


def _dot_axes(a, b):
    # np.dot contracts a's last axis with b's second-to-last (or only) axis.
    return [np.ndim(a) - 1], [max(np.ndim(b) - 2, 0)]


def _dot_vjp_a(g, ans, a, b, out=None):
    if np.ndim(a) == 0 or np.ndim(b) == 0:   # dot with a scalar multiplies
        return unbroadcast(g * b, a)
    return _tensordot_adjoint_a(g, a, b, *_dot_axes(a, b))


def _dot_vjp_b(g, ans, a, b, out=None):
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(g * a, b)
    return _tensordot_adjoint_b(g, a, b, *_dot_axes(a, b))


defvjp(np.dot, _dot_vjp_a, _dot_vjp_b, keywords=())
defvjp(np.outer, lambda g, ans, x, y: real_if_real(np.reshape(np.matmul(g, np.ravel(y)), np.shape(x)), x),
                 lambda g, ans, x, y: real_if_real(np.reshape(np.matmul(np.ravel(x), g), np.shape(y)), y),
       keywords=())

