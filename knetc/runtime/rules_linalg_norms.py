"""Derivative rules of ``np.linalg``'s norms and of cond, tensorinv, tensorsolve
(conventions: see :mod:`knetc.runtime.rules_linalg`).
"""
import numpy as np

from .rules import defnondiff, defvjp
from .rules_complex import is_complex, real_if_real, refuse_complex
from .linalg_helpers import _masks, _mat, _t
from .rules_linalg_spectral import _svd_adjoint

def _unit(x):
    """``d|x|/dx`` in the adjoint convention: sign(x), or conj(x)/|x| for complex (0 at 0)."""
    if not is_complex(x):
        return np.sign(x)
    mag = np.abs(x)
    return np.conj(x) / np.where(mag == 0, 1.0, mag)


def _conj_value(x):
    """``unit(x) * |x|`` written without the sign: its own derivative is right at zeros of
    ``x`` (sign(x) * |x| has derivative 0 there, which made second derivatives of the
    2-norm wrong at points with a zero component)."""
    return np.conj(x) if is_complex(x) else x


def _safe(d):
    return np.where(d == 0, 1.0, d)


def _share_extreme(values, ans, axes):
    """1/(number of ties) where ``values`` reach ``ans`` (kept dims) along ``axes``, else 0."""
    hit = np.equal(values, ans)
    return hit / np.sum(hit, axis=axes, keepdims=True)


def _vector_norm_adjoint(g, ans, x, ord, axes):
    """The adjoint of the ``ord``-norm of ``x`` over ``axes``; ``g`` and ``ans`` keep their dims."""
    mag = np.abs(x)
    if ord is None or ord == 2:
        return g * _conj_value(x) / _safe(ans)
    if ord == np.inf or ord == -np.inf:
        return g * _unit(x) * _share_extreme(mag, ans, axes)
    if ord == 0:
        return np.zeros_like(mag) * g
    if ord == 1:
        return g * _unit(x)
    p = float(ord)
    # d (sum |x|^p)^(1/p) = |x|^(p-1) unit(x) / ans^(p-1); 0 where |x| = 0 for p < 1
    safe_mag = _safe(mag)
    scale = np.where(mag == 0, 0.0, safe_mag ** (p - 1)) / _safe(ans) ** (p - 1)
    return np.where(ans == 0, 0.0, g * scale) * _unit(x)


def _matrix_norm_adjoint(g, ans, x, ord):
    """The adjoint of a matrix norm over the last two axes; ``g``/``ans`` keep both dims."""
    if ord in (None, "fro"):
        return g * _conj_value(x) / _safe(ans)
    if ord in (1, -1):            # max/min over columns of the column sums of |x|
        sums = np.sum(np.abs(x), axis=-2, keepdims=True)
        return g * _unit(x) * _share_extreme(sums, ans, (-1,))
    if ord in (np.inf, -np.inf):  # over rows of the row sums
        sums = np.sum(np.abs(x), axis=-1, keepdims=True)
        return g * _unit(x) * _share_extreme(sums, ans, (-2,))
    u, s, vh = np.linalg.svd(x, full_matrices=False)     # d s_i = Re(u_i^H dx v_i)
    if ord == "nuc":
        return g * np.conj(np.matmul(u, vh))
    if ord in (2, -2):            # the largest / smallest singular value
        k = 0 if ord == 2 else -1
        return g * np.conj(np.expand_dims(u[..., :, k], -1) * np.expand_dims(vh[..., k, :], -2))
    raise ValueError(f"knetc: invalid norm order {ord!r} for matrices")


def _keep(g, axes, keepdims):
    """A reduction's adjoint (or result) with its reduced axes back, as size 1."""
    return g if keepdims else np.expand_dims(g, axes)


def _norm_vjp(g, ans, x, ord=None, axis=None, keepdims=False):
    nd = np.ndim(x)
    if axis is None and (ord is None or nd == 1):
        axes = tuple(range(nd))
        matrix = False
    elif axis is None:
        axes, matrix = (0, 1), True
    elif isinstance(axis, tuple) and len(axis) == 2:
        axes, matrix = tuple(a % nd for a in axis), True
    else:
        axes = (axis if isinstance(axis, tuple) else (axis,))
        axes, matrix = tuple(a % nd for a in axes), False
    if ord is None and axis is None:
        matrix = False          # ord=None: the 2-norm of the flattened array
    gk, ak = _keep(g, axes, keepdims), _keep(ans, axes, keepdims)
    if not matrix:
        return real_if_real(_vector_norm_adjoint(gk, ak, x, ord, axes), x)
    moved = np.moveaxis(x, axes, (-2, -1))
    out = _matrix_norm_adjoint(np.moveaxis(gk, axes, (-2, -1)), np.moveaxis(ak, axes, (-2, -1)), moved, ord)
    return real_if_real(np.moveaxis(out, (-2, -1), axes), x)


def _matrix_norm_vjp(g, ans, x, *, keepdims=False, ord="fro"):
    gk, ak = _keep(g, (-2, -1), keepdims), _keep(ans, (-2, -1), keepdims)
    return real_if_real(_matrix_norm_adjoint(gk, ak, x, ord), x)


def _vector_norm_vjp(g, ans, x, *, axis=None, keepdims=False, ord=2):
    nd = np.ndim(x)
    listed = axis if isinstance(axis, tuple) else (axis,)
    axes = tuple(range(nd)) if axis is None else tuple(a % nd for a in listed)
    if axis is None and not keepdims:
        gk, ak = np.reshape(g, (1,) * nd), np.reshape(ans, (1,) * nd)
    else:
        gk, ak = _keep(g, axes, keepdims), _keep(ans, axes, keepdims)
    return real_if_real(_vector_norm_adjoint(gk, ak, x, ord, axes), x)


defvjp(np.linalg.norm, _norm_vjp, keywords=("ord", "axis", "keepdims"))
defvjp(np.linalg.matrix_norm, _matrix_norm_vjp, keywords=("keepdims", "ord"))
defvjp(np.linalg.vector_norm, _vector_norm_vjp, keywords=("axis", "keepdims", "ord"))



# --- cond, tensorinv, tensorsolve -------------------------------------------------------
def _inv_adjoint(g, xi):
    """The adjoint of ``x`` for ``xi = inv(x)`` given the adjoint ``g`` of ``xi``."""
    return -np.matmul(_t(xi), np.matmul(g, _t(xi)))


def _cond_vjp(g, ans, x, p=None):
    if is_complex(ans):              # NumPy < 2.4 returns cond of a complex matrix as complex (+0j):
        g = np.real(g)               # its imaginary part is identically 0, so its adjoint drops
    if p in (None, 2, -2):           # a ratio of the extreme singular values
        u, s, vh = np.linalg.svd(x, full_matrices=False)
        _, eye = _masks(np.shape(s)[-1], s)
        big, small = s[..., :1], s[..., -1:]
        top, bottom = (big, small) if p != -2 else (small, big)
        first, last = (eye[0], eye[-1]) if p != -2 else (eye[-1], eye[0])
        gs = np.expand_dims(g, -1) * (first / bottom - top / (bottom * bottom) * last)
        return _svd_adjoint(None, gs, None, x, u, s, vh)
    xi = np.linalg.inv(x)            # norm(x, p) * norm(inv(x), p)
    n1, n2 = np.linalg.norm(x, p, axis=(-2, -1)), np.linalg.norm(xi, p, axis=(-2, -1))
    direct = _matrix_norm_adjoint(_mat(g * n2), _mat(n1), x, p)
    through_inverse = _matrix_norm_adjoint(_mat(g * n1), _mat(n2), xi, p)
    return direct + _inv_adjoint(through_inverse, xi)


defvjp(np.linalg.cond, _cond_vjp, keywords=("p",))


def _tensorinv_vjp(g, ans, a, ind=2):
    refuse_complex("np.linalg.tensorinv", a)
    rows = int(np.prod(np.shape(a)[:ind]))
    ainv = np.reshape(ans, (-1, rows))
    return np.reshape(_inv_adjoint(np.reshape(g, np.shape(ainv)), ainv), np.shape(a))


defvjp(np.linalg.tensorinv, _tensorinv_vjp, keywords=("ind",))


def _tensorsolve_parts(g, ans, a, b, axes):
    refuse_complex("np.linalg.tensorsolve", a, b)
    order = list(range(np.ndim(a)))
    if axes is not None:             # NumPy moves these axes of a to the end, in this order
        for k in axes:
            order.remove(k % np.ndim(a))
            order.append(k % np.ndim(a))
    moved = np.transpose(a, order)
    mat = np.reshape(moved, (int(np.size(b)), -1))
    gb = np.linalg.solve(_t(mat), np.reshape(g, (-1,)))
    ga = -np.reshape(gb, (-1, 1)) * np.reshape(ans, (1, -1))
    back = [0] * len(order)
    for position, axis in enumerate(order):
        back[axis] = position
    return np.transpose(np.reshape(ga, np.shape(moved)), back), np.reshape(gb, np.shape(b))


defvjp(np.linalg.tensorsolve, lambda g, ans, a, b, axes=None: _tensorsolve_parts(g, ans, a, b, axes)[0],
                              lambda g, ans, a, b, axes=None: _tensorsolve_parts(g, ans, a, b, axes)[1],
       keywords=("axes",))
defnondiff(np.linalg.matrix_rank)      # an integer
