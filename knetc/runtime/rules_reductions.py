"""Derivative rules of NumPy's cumulative products, NaN-ignoring reductions and statistics
(median, quantile and percentile, with their NaN-ignoring forms, are in
``rules_order_statistics``, imported at the end of this module).

Conventions where the derivative does not exist: the NaN-ignoring reductions
give NaN entries a zero adjoint; ``nanmax``/``nanmin``/``ptp`` split the
adjoint equally between tied extremes (as ``max``); ``median``, ``quantile``
and ``percentile`` send it to the order statistics they interpolate between
(ties among equal values are broken by a stable sort, which does not change
the value). ``cumprod`` is exact with zeros in the input (no division by zero).
"""
import numpy as np

from .numpy_rules import _along, _count, _keep_axes, _lift, _max_vjp, _prod_vjp
from .rule_helpers import _axes
from .rules import defvjp, unbroadcast
from .refusals import refuse_option


# --- cumulative product -------------------------------------------------------------------
def _reverse_cumsum(x, axis):
    return np.flip(np.cumsum(np.flip(x, axis), axis), axis)


def _cumprod_adjoint(g, x, ans, axis):
    """The adjoint of ``np.cumprod(x, axis)``, exact with zeros in ``x``.

    Before the first zero of a slice, d(ans_j)/d(x_i) = ans_j / x_i; at the first
    zero it is the product of the other factors up to j ("skip", the cumulative
    product with that zero left out); after it every product keeps that zero, so
    the adjoint is the zero x_z times the products without it: 0 in value, with
    the right derivative in x_z (second derivatives at a slice's first zero are
    exact; between two zeros of one slice they are not modelled).
    """
    zero = np.equal(x, 0)
    zeros_so_far = np.cumsum(zero, axis=axis)
    first_zero = np.logical_and(zero, np.equal(zeros_so_far, 1))
    safe = np.where(zero, 1.0, x)
    skip = np.cumprod(np.where(first_zero, 1.0, x), axis=axis)
    at_zero = _reverse_cumsum(g * skip, axis)
    before = _reverse_cumsum(g * ans, axis) / safe
    after = np.sum(np.where(first_zero, x, 0.0), axis=axis, keepdims=True) * at_zero / safe
    return np.where(np.equal(zeros_so_far, 0), before, np.where(first_zero, at_zero, after))


def _cumprod_vjp(g, ans, a, axis=None, dtype=None, out=None):
    if axis is None:
        return np.reshape(_cumprod_adjoint(g, np.ravel(a), ans, 0), np.shape(a))
    return _cumprod_adjoint(g, a, ans, axis)


defvjp(np.cumprod, _cumprod_vjp, keywords=("axis", "dtype"))


def _without_initial(g, axis, include_initial):
    """The adjoint of the entries after the prepended initial value (include_initial=True)."""
    return g[_along(g, axis, slice(1, None))] if include_initial else g


def _cumulative_sum_vjp(g, ans, x, *, axis=None, dtype=None, out=None, include_initial=False):
    axis = 0 if axis is None else axis
    return _reverse_cumsum(_without_initial(g, axis, include_initial), axis)


def _cumulative_prod_vjp(g, ans, x, *, axis=None, dtype=None, out=None, include_initial=False):
    axis = 0 if axis is None else axis
    trimmed = _without_initial(g, axis, include_initial), _without_initial(ans, axis, include_initial)
    return _cumprod_adjoint(trimmed[0], x, trimmed[1], axis)


if hasattr(np, "cumulative_sum"):     # NumPy 2.1
    defvjp(np.cumulative_sum, _cumulative_sum_vjp, keywords=("axis", "dtype", "include_initial"))
    defvjp(np.cumulative_prod, _cumulative_prod_vjp, keywords=("axis", "dtype", "include_initial"))


def _nancumsum_vjp(g, ans, a, axis=None, dtype=None, out=None):
    if axis is None:
        return np.where(np.isnan(a), 0.0, np.reshape(_reverse_cumsum(g, 0), np.shape(a)))
    return np.where(np.isnan(a), 0.0, _reverse_cumsum(g, axis))


def _nancumprod_vjp(g, ans, a, axis=None, dtype=None, out=None):
    # NaN counts as 1, a constant
    return np.where(np.isnan(a), 0.0, _cumprod_vjp(g, ans, np.where(np.isnan(a), 1.0, a), axis))


def _nanprod_vjp(g, ans, a, axis=None, dtype=None, out=None, keepdims=False):
    return np.where(np.isnan(a), 0.0, _prod_vjp(g, ans, np.where(np.isnan(a), 1.0, a), axis, keepdims=keepdims))


defvjp(np.nancumsum, _nancumsum_vjp, keywords=("axis", "dtype"))
defvjp(np.nancumprod, _nancumprod_vjp, keywords=("axis", "dtype"))
defvjp(np.nanprod, _nanprod_vjp, keywords=("axis", "dtype", "keepdims"))


# --- reductions that skip NaN --------------------------------------------------------------
def _nansum_vjp(g, ans, a, axis=None, dtype=None, out=None, keepdims=False):
    return np.where(np.isnan(a), 0.0, np.broadcast_to(_keep_axes(_lift(g, a), axis, keepdims), np.shape(a)))


def _nanmean_vjp(g, ans, a, axis=None, dtype=None, out=None, keepdims=False):
    present = np.logical_not(np.isnan(a))
    count = np.sum(present, axis=axis, keepdims=True)
    return np.where(present, _keep_axes(_lift(g, a), axis, keepdims) / np.maximum(count, 1), 0.0)


def _nanmax_vjp(g, ans, a, axis=None, out=None, keepdims=False):
    # NaN never equals the extreme, so it gets no share; ties split equally
    hit = np.equal(a, _keep_axes(ans, axis, keepdims))
    share = _keep_axes(_lift(g, a), axis, keepdims) * hit
    return share / np.maximum(np.sum(hit, axis=axis, keepdims=True), 1)


def _nanvar_vjp(g, ans, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    present = np.logical_not(np.isnan(a))
    count = np.sum(present, axis=axis, keepdims=True)
    centered = np.where(present, a - np.nanmean(a, axis=axis, keepdims=True), 0.0)
    return _keep_axes(_lift(g, a), axis, keepdims) * 2 * centered / (count - ddof)


def _nanstd_vjp(g, ans, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    # d std = d var / (2 std); where std is 0 (one value, or all equal) the adjoint is 0, not NaN
    std = _keep_axes(ans, axis, keepdims)
    scale = np.where(np.equal(std, 0), 0.0, 0.5 / np.where(np.equal(std, 0), 1.0, std))
    return _nanvar_vjp(_keep_axes(_lift(g, a), axis, keepdims) * scale, None, a, axis, ddof=ddof, keepdims=True)


defvjp(np.nansum, _nansum_vjp, keywords=("axis", "dtype", "keepdims"))
defvjp(np.nanvar, _nanvar_vjp, keywords=("axis", "dtype", "ddof", "keepdims"))
defvjp(np.nanstd, _nanstd_vjp, keywords=("axis", "dtype", "ddof", "keepdims"))
defvjp(np.nanmean, _nanmean_vjp, keywords=("axis", "dtype", "keepdims"))
defvjp(np.nanmax, _nanmax_vjp, keywords=("axis", "keepdims"))
defvjp(np.nanmin, _nanmax_vjp, keywords=("axis", "keepdims"))


def _ptp_vjp(g, ans, a, axis=None, out=None, keepdims=False):
    high = _max_vjp(g, np.max(a, axis=axis, keepdims=keepdims), a, axis=axis, keepdims=keepdims)
    low = _max_vjp(g, np.min(a, axis=axis, keepdims=keepdims), a, axis=axis, keepdims=keepdims)
    return high - low


defvjp(np.ptp, _ptp_vjp, keywords=("axis", "keepdims"))


# --- weighted average -----------------------------------------------------------------------
def _weights_like(a, axis, weights):
    """``weights`` arranged to broadcast against ``a`` as ``np.average`` does."""
    if np.ndim(weights) == np.ndim(a):
        return weights
    axes = _axes(axis, np.ndim(a))
    order = np.argsort(axes).tolist()
    shape = tuple(n if i in axes else 1 for i, n in enumerate(np.shape(a)))
    return np.reshape(np.transpose(weights, order), shape)


def _weights_back(gw, a, axis, weights):
    """The adjoint of :func:`_weights_like`: ``gw`` (shaped like ``a``) summed back to ``weights``."""
    if np.ndim(weights) == np.ndim(a):
        return unbroadcast(gw, weights)
    order = np.argsort(_axes(axis, np.ndim(a))).tolist()
    summed = unbroadcast(gw, _weights_like(a, axis, weights))
    transposed = tuple(np.shape(weights)[i] for i in order)
    return np.transpose(np.reshape(summed, transposed), np.argsort(order).tolist())


def _average_vjp_a(g, ans, a, axis=None, weights=None, returned=False, *, keepdims=False):
    refuse_option("np.average", "returned", returned, False)
    g = _keep_axes(_lift(g, a), axis, keepdims)
    if weights is None:
        return np.broadcast_to(g / _count(a, ans), np.shape(a))
    w = _weights_like(a, axis, weights)
    return np.broadcast_to(g * w / np.sum(w, axis=axis, keepdims=True), np.shape(a))


def _average_vjp_weights(g, ans, a, axis=None, weights=None, returned=False, *, keepdims=False):
    refuse_option("np.average", "returned", returned, False)
    w = _weights_like(a, axis, weights)
    total = np.sum(w, axis=axis, keepdims=True)
    gw = _keep_axes(_lift(g, a), axis, keepdims) * (a - _keep_axes(ans, axis, keepdims)) / total
    return _weights_back(gw, a, axis, weights)


defvjp(np.average, _average_vjp_a, None, _average_vjp_weights, weights=_average_vjp_weights,
       keywords=("axis", "keepdims"))


# --- covariance and correlation ------------------------------------------------------------
def _variables(m, y, rowvar):
    """The (variables, observations) pieces ``np.cov`` stacks, and whether each was transposed."""
    pieces = []
    for v in (m,) if y is None else (m, y):
        rows = np.atleast_2d(v)
        flip = not rowvar and np.shape(rows)[0] != 1
        pieces.append((np.transpose(rows) if flip else rows, flip))
    return pieces


def _cov_adjoint(g, m, y, rowvar, bias, ddof):
    """The adjoints of ``m`` and ``y`` in ``np.cov``: C = Xc Xc^T / (n - ddof) gives
    dX = (G + G^T) Xc / (n - ddof) (already centred, so the mean's adjoint vanishes)."""
    pieces = _variables(m, y, rowvar)
    x = np.concatenate([p for p, _ in pieces], axis=0)
    k, n = np.shape(x)
    factor = n - (ddof if ddof is not None else (0 if bias else 1))
    square = np.reshape(_lift(g, x), (k, k))
    gx = np.matmul(square + np.transpose(square), x - np.mean(x, axis=1, keepdims=True)) / factor
    out, start = [], 0
    for v, (p, flip) in zip((m, y), pieces):
        rows = np.shape(p)[0]
        piece = gx[start:start + rows]
        start += rows
        out.append(unbroadcast(np.reshape(np.transpose(piece) if flip else piece, np.shape(v)), v))
    return out


def _cov_weights(fweights, aweights):
    refuse_option("np.cov", "fweights", fweights, None)
    refuse_option("np.cov", "aweights", aweights, None)


def _cov_vjp_m(g, ans, m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, *,
               dtype=None):
    _cov_weights(fweights, aweights)
    return _cov_adjoint(g, m, y, rowvar, bias, ddof)[0]


def _cov_vjp_y(g, ans, m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, *,
               dtype=None):
    _cov_weights(fweights, aweights)
    return _cov_adjoint(g, m, y, rowvar, bias, ddof)[1]


defvjp(np.cov, _cov_vjp_m, _cov_vjp_y, y=_cov_vjp_y, keywords=("rowvar", "bias", "ddof", "dtype"))


def _corrcoef_cov_adjoint(g, x, y, rowvar):
    """R = C / (s s^T) with s = sqrt(diag C): the adjoint of C, then C's adjoint."""
    cov = np.atleast_2d(np.cov(x, y, rowvar))
    scale = np.sqrt(np.diagonal(cov))
    outer = np.expand_dims(scale, 1) * np.expand_dims(scale, 0)
    r = cov / outer
    square = np.reshape(_lift(g, cov), np.shape(cov))
    # each diagonal C_ii also moves s_i, which divides row and column i
    through_scale = (np.sum(square * r, axis=1) + np.sum(square * r, axis=0)) / (2 * np.diagonal(cov))
    gcov = square / outer - np.eye(np.shape(cov)[0]) * np.expand_dims(through_scale, 0)
    return _cov_adjoint(gcov, x, y, rowvar, False, None)


defvjp(np.corrcoef, lambda g, ans, x, y=None, rowvar=True, *, dtype=None: _corrcoef_cov_adjoint(g, x, y, rowvar)[0],
       lambda g, ans, x, y=None, rowvar=True, *, dtype=None: _corrcoef_cov_adjoint(g, x, y, rowvar)[1],
       y=lambda g, ans, x, y=None, rowvar=True, *, dtype=None: _corrcoef_cov_adjoint(g, x, y, rowvar)[1],
       keywords=("rowvar", "dtype"))


# --- ufunc methods: np.add.reduce(x, axis) and co. (axis=0 by default, as NumPy's) --------------
def _ufunc_options(name, initial, where, additive=False):
    if not additive:
        refuse_option(name, "initial", initial, None)
    refuse_option(name, "where", where, None)


def _spread(g, array, axis, keepdims):
    return np.broadcast_to(_keep_axes(_lift(g, array), axis, keepdims), np.shape(array))


def _add_reduce_vjp(g, ans, array, axis=0, dtype=None, out=None, keepdims=False, initial=None, where=None):
    _ufunc_options("np.add.reduce", initial, where, additive=True)   # an initial value only shifts the sum
    return _spread(g, array, axis, keepdims)


def _multiply_reduce_vjp(g, ans, array, axis=0, dtype=None, out=None, keepdims=False, initial=None, where=None):
    _ufunc_options("np.multiply.reduce", initial, where)
    return _prod_vjp(g, ans, array, axis, keepdims=keepdims)


def _extreme_reduce_vjp(g, ans, array, axis=0, dtype=None, out=None, keepdims=False, initial=None, where=None):
    _ufunc_options("np.maximum.reduce", initial, where)
    return _max_vjp(g, ans, array, axis=axis, keepdims=keepdims)


def _logaddexp_reduce_vjp(g, ans, array, axis=0, dtype=None, out=None, keepdims=False, initial=None, where=None):
    _ufunc_options("np.logaddexp.reduce", initial, where)
    return _spread(g, array, axis, keepdims) * np.exp(array - _keep_axes(ans, axis, keepdims))


def _logaddexp2_reduce_vjp(g, ans, array, axis=0, dtype=None, out=None, keepdims=False, initial=None, where=None):
    _ufunc_options("np.logaddexp2.reduce", initial, where)
    return _spread(g, array, axis, keepdims) * np.exp2(array - _keep_axes(ans, axis, keepdims))


def _add_accumulate_vjp(g, ans, array, axis=0, dtype=None, out=None):
    return _reverse_cumsum(g, axis)


def _multiply_accumulate_vjp(g, ans, array, axis=0, dtype=None, out=None):
    return _cumprod_adjoint(g, array, ans, axis)


_REDUCE_KEYWORDS = ("axis", "dtype", "keepdims")
defvjp(np.add.reduce, _add_reduce_vjp, name="numpy.add.reduce", keywords=_REDUCE_KEYWORDS + ("initial",))
defvjp(np.multiply.reduce, _multiply_reduce_vjp, name="numpy.multiply.reduce", keywords=_REDUCE_KEYWORDS)
for _ufunc in (np.maximum, np.minimum, np.fmax, np.fmin):
    # fmax/fmin skip NaN: a NaN never equals the extreme, so it gets no share
    defvjp(_ufunc.reduce, _extreme_reduce_vjp, name=f"numpy.{_ufunc.__name__}.reduce", keywords=_REDUCE_KEYWORDS)
defvjp(np.logaddexp.reduce, _logaddexp_reduce_vjp, name="numpy.logaddexp.reduce", keywords=_REDUCE_KEYWORDS)
defvjp(np.logaddexp2.reduce, _logaddexp2_reduce_vjp, name="numpy.logaddexp2.reduce", keywords=_REDUCE_KEYWORDS)
defvjp(np.add.accumulate, _add_accumulate_vjp, name="numpy.add.accumulate", keywords=("axis", "dtype"))
defvjp(np.multiply.accumulate, _multiply_accumulate_vjp, name="numpy.multiply.accumulate",
       keywords=("axis", "dtype"))

from . import rules_order_statistics  # noqa: E402,F401  (registers its rules)
