"""Derivative rules of differences, interpolation, convolution, polynomials, integration.

All of these are linear in the differentiated array (``pad``, ``diff``,
``gradient``, ``convolve``...) or piecewise so (``select``, ``interp``), so
each adjoint applies the transposed map. Conventions: ``interp`` at a knot
takes the slope of the interval to its right and is flat outside ``xp``;
``select`` sends ``g`` to the first choice whose condition holds.
"""
import numpy as np

from ..errors import KnetError
from .backend import module_of
from .indexing import scatter
from .numpy_rules import _along
from .rules import defvjp, unbroadcast
from .refusals import refuse, refuse_option
from .tape import value_and_grad


# --- differences ----------------------------------------------------------------------------
def _diff_adjoint(g, a, n, axis, prepend):
    for _ in range(n):                 # the adjoint of one difference is minus a difference
        g = -np.diff(g, axis=axis, prepend=0.0, append=0.0)
    start = 0 if prepend is None else (1 if np.ndim(prepend) == 0 else np.shape(prepend)[axis])
    return g, start


def _diff_vjp_a(g, ans, a, n=1, axis=-1, prepend=None, append=None):
    g, start = _diff_adjoint(g, a, n, axis, prepend)
    return g[_along(g, axis, slice(start, start + np.shape(a)[axis]))]


def _diff_vjp_prepend(g, ans, a, n=1, axis=-1, prepend=None, append=None):
    g, start = _diff_adjoint(g, a, n, axis, prepend)
    return unbroadcast(g[_along(g, axis, slice(0, start))], prepend)


def _diff_vjp_append(g, ans, a, n=1, axis=-1, prepend=None, append=None):
    g, start = _diff_adjoint(g, a, n, axis, prepend)
    return unbroadcast(g[_along(g, axis, slice(start + np.shape(a)[axis], None))], append)


defvjp(np.diff, _diff_vjp_a, prepend=_diff_vjp_prepend, append=_diff_vjp_append, keywords=("n", "axis"))


def _ediff1d_parts(g, ary, to_end, to_begin):
    begin = 0 if to_begin is None else np.size(to_begin)
    end = np.size(g) - (0 if to_end is None else np.size(to_end))
    return begin, end


def _ediff1d_vjp_ary(g, ans, ary, to_end=None, to_begin=None):
    begin, end = _ediff1d_parts(g, ary, to_end, to_begin)
    return np.reshape(-np.diff(g[begin:end], prepend=0.0, append=0.0), np.shape(ary))


def _ediff1d_vjp_to_end(g, ans, ary, to_end=None, to_begin=None):
    return unbroadcast(np.reshape(g[_ediff1d_parts(g, ary, to_end, to_begin)[1]:], np.shape(to_end)), to_end)


def _ediff1d_vjp_to_begin(g, ans, ary, to_end=None, to_begin=None):
    return unbroadcast(np.reshape(g[:_ediff1d_parts(g, ary, to_end, to_begin)[0]], np.shape(to_begin)), to_begin)


defvjp(np.ediff1d, _ediff1d_vjp_ary, _ediff1d_vjp_to_end, _ediff1d_vjp_to_begin,
       to_end=_ediff1d_vjp_to_end, to_begin=_ediff1d_vjp_to_begin, keywords=())


def _gradient_vjp(g, ans, f, *varargs, axis=None, edge_order=1):
    ndim = np.ndim(f)
    axes = tuple(range(ndim)) if axis is None else tuple(np.atleast_1d(axis).tolist())
    pieces = [g] if len(axes) == 1 else g
    xp = module_of(f)
    total = None
    for k, ax in enumerate(axes):
        gk = pieces[k]
        if gk is None:
            continue
        spacing = varargs if len(varargs) <= 1 else (varargs[k],)
        n = np.shape(f)[ax]
        # column j: np.gradient of the j-th unit vector (np.gradient is linear)
        matrix = xp.asarray(np.gradient(np.eye(n), *spacing, axis=0, edge_order=edge_order))
        term = np.moveaxis(np.tensordot(matrix, gk, axes=([0], [ax])), 0, ax)
        total = term if total is None else total + term
    return total if total is not None else xp.zeros(np.shape(f))


defvjp(np.gradient, _gradient_vjp, *[refuse("np.gradient with respect to the spacing")] * 8,
       keywords=("varargs", "axis", "edge_order"))


# --- select --------------------------------------------------------------------------------
def _select_vjp_choices(g, ans, condlist, choicelist, default=0):
    out, taken = [], False
    for condition, choice in zip(condlist, choicelist):
        first = np.logical_and(condition, np.logical_not(taken))
        out.append(unbroadcast(np.where(first, g, 0.0), choice))
        taken = np.logical_or(taken, condition)
    return out


def _select_vjp_default(g, ans, condlist, choicelist, default=0):
    taken = False
    for condition in condlist:
        taken = np.logical_or(taken, condition)
    return unbroadcast(np.where(taken, 0.0, g), default)


defvjp(np.select, None, _select_vjp_choices, _select_vjp_default, default=_select_vjp_default, keywords=())


# --- interp --------------------------------------------------------------------------------
def _listed(v, like):
    """A list or tuple argument of np.interp (NumPy takes them) as an array on ``like``'s device."""
    return module_of(like).asarray(v) if isinstance(v, (list, tuple)) else v


def _interval(x, xp):
    """The interval of ``xp`` each ``x`` falls in (the right one at a knot), and where x is inside."""
    xp = _listed(xp, x)
    j = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, len(xp) - 2)
    inside = np.logical_and(np.greater_equal(x, xp[0]), np.less_equal(x, xp[-1]))
    return j, inside


def _interp_vjp_x(g, ans, x, xp, fp, left=None, right=None, period=None):
    refuse_option("np.interp", "period", period, None)
    xp, fp = _listed(xp, x), _listed(fp, x)
    j, inside = _interval(x, xp)
    slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j])
    return unbroadcast(np.where(inside, g * slope, 0.0), x)


def _interp_vjp_fp(g, ans, x, xp, fp, left=None, right=None, period=None):
    refuse_option("np.interp", "period", period, None)
    x, xp = _listed(x, fp), _listed(xp, fp)
    j, inside = _interval(x, xp)
    t = np.where(inside, (x - xp[j]) / (xp[j + 1] - xp[j]), 0.0)
    grad = scatter(fp, j, np.where(inside, g * (1 - t), 0.0)) + scatter(fp, j + 1, g * t)
    if left is None:        # below xp[0] the value is fp[0]
        grad = grad + scatter(fp, 0, np.sum(np.where(np.less(x, xp[0]), g, 0.0)))
    if right is None:
        grad = grad + scatter(fp, -1, np.sum(np.where(np.greater(x, xp[-1]), g, 0.0)))
    return grad


def _interp_vjp_left(g, ans, x, xp, fp, left=None, right=None, period=None):
    refuse_option("np.interp", "period", period, None)
    return unbroadcast(np.sum(np.where(np.less(x, xp[0]), g, 0.0)), left)


def _interp_vjp_right(g, ans, x, xp, fp, left=None, right=None, period=None):
    refuse_option("np.interp", "period", period, None)
    return unbroadcast(np.sum(np.where(np.greater(x, xp[-1]), g, 0.0)), right)


defvjp(np.interp, _interp_vjp_x, refuse("np.interp with respect to xp"), _interp_vjp_fp,
       _interp_vjp_left, _interp_vjp_right, left=_interp_vjp_left, right=_interp_vjp_right, keywords=())


# --- convolve, correlate ---------------------------------------------------------------------
def _full_adjoint(g, na, nv, mode, offset_same):
    """``g`` of a 'same' or 'valid' result zero-padded to the 'full' result's length."""
    full = na + nv - 1
    offset = {"full": 0, "same": offset_same, "valid": min(na, nv) - 1}[mode]
    return np.pad(g, (offset, full - np.shape(g)[0] - offset))


def _convolve_full(g, a, v, mode):
    na, nv = np.size(a), np.size(v)
    return _full_adjoint(g, na, nv, mode, (min(na, nv) - 1) // 2)


def _correlate_full(g, a, v, mode):
    na, nv = np.size(a), np.size(v)
    return _full_adjoint(g, na, nv, mode, (nv - 1) // 2 if na >= nv else na // 2)


# c = convolve(a, v): c_k = sum_i a_i v_(k-i), so dc/da is a correlation of g with v
defvjp(np.convolve, lambda g, ans, a, v, mode="full": np.correlate(_convolve_full(g, a, v, mode), v, "valid"),
                    lambda g, ans, a, v, mode="full": np.correlate(_convolve_full(g, a, v, mode), a, "valid"),
       keywords=("mode",))
# c = correlate(a, v): c_k = sum_n a_(n+k) v_n
defvjp(np.correlate,
       lambda g, ans, a, v, mode="valid": np.convolve(_correlate_full(g, a, v, mode), v, "valid"),
       lambda g, ans, a, v, mode="valid": np.correlate(a, _correlate_full(g, a, v, mode), "valid"),
       keywords=("mode",))


# --- polynomials and integration ----------------------------------------------------------------
def _polyval_vjp_p(g, ans, p, x):
    if np.ndim(p) != 1:
        raise KnetError("knetc: np.polyval is differentiable for a 1-d coefficient vector only")
    n = np.shape(p)[0]
    powers = np.expand_dims(x, -1) ** module_of(g, x).arange(n - 1, -1, -1)      # x.shape + (n,)
    grad = np.sum(np.expand_dims(g, -1) * powers, axis=tuple(range(np.ndim(powers) - 1)))
    return list(grad) if isinstance(p, (list, tuple)) else grad


def _polyval_vjp_x(g, ans, p, x):
    if np.ndim(p) != 1:
        raise KnetError("knetc: np.polyval is differentiable for a 1-d coefficient vector only")
    n = np.shape(p)[0]
    if n < 2:
        return unbroadcast(0.0 * g, x)
    derivative = np.multiply(p[:-1] if not isinstance(p, (list, tuple)) else np.stack(p[:-1]),
                             module_of(g, x).arange(n - 1, 0, -1))
    return unbroadcast(g * np.polyval(derivative, x), x)


defvjp(np.polyval, _polyval_vjp_p, _polyval_vjp_x, keywords=())


def _spacing(y, x, dx, axis):
    """The interval widths along ``axis`` of ``y``, broadcastable against it."""
    n = np.shape(y)[axis]
    if x is None:
        widths = dx * module_of(y).ones(n - 1)
        shape = [1] * np.ndim(y)
        shape[axis] = n - 1
        return np.reshape(widths, shape)
    widths = np.diff(x, axis=axis if np.ndim(x) == np.ndim(y) else -1)
    if np.ndim(x) == 1 and np.ndim(y) > 1:
        shape = [1] * np.ndim(y)
        shape[axis] = n - 1
        widths = np.reshape(widths, shape)
    return widths


def _edge_pad(z, axis, before, after):
    widths = [(0, 0)] * np.ndim(z)
    widths[axis] = (before, after)
    return np.pad(z, widths)


def _trapezoid_vjp_y(g, ans, y, x=None, dx=1.0, axis=-1):
    d = _spacing(y, x, dx, axis)
    weights = (_edge_pad(d, axis, 1, 0) + _edge_pad(d, axis, 0, 1)) / 2
    return unbroadcast(np.expand_dims(g, axis) * weights, y)


def _trapezoid_vjp_x(g, ans, y, x=None, dx=1.0, axis=-1):
    n = np.shape(y)[axis]
    middle = (y[_along(y, axis, slice(1, None))] + y[_along(y, axis, slice(0, n - 1))]) / 2
    gx = np.expand_dims(g, axis) * (_edge_pad(middle, axis, 1, 0) - _edge_pad(middle, axis, 0, 1))
    if np.ndim(x) == 1 and np.ndim(y) > 1:
        return np.sum(gx, axis=tuple(i for i in range(np.ndim(y)) if i != axis % np.ndim(y)))
    return unbroadcast(gx, x)


def _trapezoid_vjp_dx(g, ans, y, x=None, dx=1.0, axis=-1):
    return unbroadcast(g * np.trapezoid(y, axis=axis), dx)


defvjp(np.trapezoid, _trapezoid_vjp_y, _trapezoid_vjp_x, _trapezoid_vjp_dx,
       x=_trapezoid_vjp_x, dx=_trapezoid_vjp_dx, keywords=("axis",))


# --- piecewise --------------------------------------------------------------------------------
def _piece_conditions(x, condlist, n_funcs):
    """``np.piecewise``'s conditions, with the "otherwise" one when there is an extra function."""
    if np.isscalar(condlist) or (np.ndim(x) != 0 and not isinstance(condlist[0], list)
                                 and np.ndim(condlist[0]) == 0):
        condlist = [condlist]
    conds = [np.asarray(c, dtype=bool) if isinstance(c, (list, bool)) else c for c in condlist]
    if n_funcs == len(conds) + 1:
        taken = False
        for c in conds:
            taken = np.logical_or(taken, c)
        conds.append(np.logical_not(taken))
    return conds


def _piecewise_vjp(g, ans, x, condlist, funclist, *args, **kw):
    # Each element takes the last piece whose condition holds (NumPy writes them in order).
    # A piece's derivative comes from the tape; closures are refused, since a differentiated
    # value they capture would get no gradient.
    conds = _piece_conditions(x, condlist, len(funclist))
    later, grad = False, 0.0 * x
    for cond, fun in reversed(list(zip(conds, funclist))):
        owns = np.logical_and(cond, np.logical_not(later))
        later = np.logical_or(later, cond)
        if not callable(fun):
            continue
        if getattr(fun, "__closure__", None):
            raise KnetError("knetc: np.piecewise with a piece function that closes over variables is "
                            "not differentiable; pass them as np.piecewise's extra arguments, or use np.where")
        mask = np.broadcast_to(cond, np.shape(x))
        weight = np.where(owns, g, 0.0)[mask]
        if np.size(weight) == 0:
            continue
        _, piece = value_and_grad(lambda v: np.sum(weight * fun(v, *args, **kw)), (x[mask],))
        grad = grad + scatter(x, mask, piece)
    return grad


defvjp(np.piecewise, _piecewise_vjp, keywords=("args",))


# --- poly: the coefficients of prod_i (x - r_i) from the roots ------------------------------------
def _poly_vjp(g, ans, seq_of_zeros):
    # d c / d r_i = -[0, poly(r without r_i)]: each root's adjoint is minus g's tail against the
    # coefficients of the other roots' polynomial
    if np.ndim(seq_of_zeros) != 1:
        raise KnetError("knetc: np.poly is differentiated for a vector of roots only (not the "
                        "characteristic polynomial of a matrix)")
    n = np.shape(seq_of_zeros)[0]
    others = [np.poly(np.delete(seq_of_zeros, i)) for i in range(n)]
    return np.stack([-np.sum(g[1:] * c) for c in others]) if n else np.zeros_like(seq_of_zeros)


defvjp(np.poly, _poly_vjp, keywords=())


from . import rules_pad  # noqa: E402,F401  (registers np.pad's rule)
