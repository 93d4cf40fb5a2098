"""Derivative rules of order statistics: median, quantile, percentile; and np.unique.

The adjoint goes to the order statistics the result interpolates between
(ties among equal values are broken by a stable sort, which does not change
the value). ``np.unique`` is differentiable where the values it sorts are
distinct (then it is a sort); where some repeat it has no derivative, and
its rule raises saying so.
"""
import numpy as np

from ..errors import KnetError
from .backend import module_of
from .rule_helpers import _lift
from .rules import defvjp, unbroadcast
from .refusals import refuse_option
from .rule_helpers import _axes
from .linalg_helpers import _part, _plain

_METHODS = ("linear", "lower", "higher", "midpoint")


def _interpolation(q, n, size, method, xp):
    """Weights (q's shape + (size,)) on the sorted values, and their derivative in q.

    ``n`` is how many of the ``size`` sorted values count (all of them, or per slice the ones
    that are not NaN, which sort last); a slice with none gets no weight.
    """
    position = q * (n - 1)
    low = np.floor(position)
    high = np.minimum(low + 1, n - 1)
    index = xp.arange(size)
    some = np.expand_dims(np.greater(n, 0), -1)
    at_low = np.logical_and(np.equal(index, np.expand_dims(low, -1)), some)
    at_high = np.logical_and(np.equal(index, np.expand_dims(high, -1)), some)
    if method == "linear":
        frac = np.expand_dims(position - low, -1)
        return at_low * (1 - frac) + at_high * frac, np.expand_dims(n - 1, -1) * (at_high * 1.0 - at_low)
    zero = 0.0 * at_low
    if method == "lower":
        return at_low * 1.0, zero
    high = np.ceil(position)
    at_high = np.logical_and(np.equal(index, np.expand_dims(high, -1)), some)
    if method == "higher":
        return at_high * 1.0, zero
    return 0.5 * at_low + 0.5 * at_high, zero          # midpoint


def _to_last(a, axis):
    """``a`` with the reduced axes merged into its last axis, and the kept shape."""
    axes = _axes(axis, np.ndim(a))
    moved = np.moveaxis(a, axes, tuple(range(-len(axes), 0)))
    kept = np.shape(moved)[:np.ndim(a) - len(axes)]
    return np.reshape(moved, kept + (-1,)), kept


def _from_last(x, a, axis):
    axes = _axes(axis, np.ndim(a))
    moved_shape = tuple(n for i, n in enumerate(np.shape(a)) if i not in axes) + tuple(np.shape(a)[i] for i in axes)
    return np.moveaxis(np.reshape(x, moved_shape), tuple(range(-len(axes), 0)), axes)


def _quantile_options(overwrite_input=False, weights=None, interpolation=None):
    refuse_option("np.quantile", "overwrite_input", overwrite_input, False)   # a is reordered in place
    refuse_option("np.quantile", "weights", weights, None)
    refuse_option("np.quantile", "interpolation", interpolation, None)


def _quantile_parts(g, a, q, axis, method, keepdims, skip_nan=False):
    if method not in _METHODS:
        raise KnetError(f"knetc: the derivative of a quantile with method={method!r} is not "
                        f"supported; use one of {', '.join(_METHODS)}")
    xp = module_of(a)
    if isinstance(q, (list, tuple)):
        q = xp.asarray(q)
    flat, kept = _to_last(a, axis)
    size = np.shape(flat)[-1]
    qshape = np.shape(q)
    # n: how many values each slice ranks (NaN sorts last, and nan* functions skip it)
    n = np.sum(np.logical_not(np.isnan(flat)), axis=-1) if skip_nan else size
    weights, dweights = _interpolation(np.reshape(q, qshape + (1,) * len(kept)), n, size, method, xp)
    # g: q's axes, then the kept axes of a (with size-1 reduced axes under keepdims)
    g = np.reshape(_lift(g, a), qshape + kept + (1,))
    weights = np.broadcast_to(weights, qshape + kept + (size,))
    dweights = np.broadcast_to(dweights, qshape + kept + (size,))
    order = np.argsort(flat, axis=-1, kind="stable")
    return g, flat, order, weights, dweights, len(qshape)


def _quantile_adjoint_a(g, a, q, axis, method, keepdims, skip_nan=False):
    g, flat, order, weights, _, nq = _quantile_parts(g, a, q, axis, method, keepdims, skip_nan)
    by_rank = np.sum(g * weights, axis=tuple(range(nq))) if nq else g * weights
    rank = np.argsort(order, axis=-1)
    return _from_last(np.take_along_axis(by_rank, rank, axis=-1), a, axis)


def _quantile_adjoint_q(g, a, q, axis, method, keepdims, skip_nan=False):
    g, flat, order, _, dweights, nq = _quantile_parts(g, a, q, axis, method, keepdims, skip_nan)
    ranked = np.take_along_axis(flat, order, axis=-1)
    if skip_nan:                        # NaN values have zero weight: keep 0 * NaN out
        ranked = np.where(np.isnan(ranked), 0.0, ranked)
    slope = np.sum(ranked * dweights, axis=-1, keepdims=True)
    total = np.sum(g * slope, axis=tuple(range(nq, np.ndim(slope))))
    return unbroadcast(total, q) if not isinstance(q, (list, tuple)) else list(total)


def _quantile_vjp_a(g, ans, a, q, axis=None, out=None, overwrite_input=False, method="linear",
                    keepdims=False, *, weights=None, interpolation=None):
    _quantile_options(overwrite_input, weights, interpolation)
    return _quantile_adjoint_a(g, a, q, axis, method, keepdims)


def _quantile_vjp_q(g, ans, a, q, axis=None, out=None, overwrite_input=False, method="linear",
                    keepdims=False, *, weights=None, interpolation=None):
    _quantile_options(overwrite_input, weights, interpolation)
    return _quantile_adjoint_q(g, a, q, axis, method, keepdims)


def _percentile_vjp_a(g, ans, a, q, axis=None, out=None, overwrite_input=False, method="linear",
                      keepdims=False, *, weights=None, interpolation=None):
    _quantile_options(overwrite_input, weights, interpolation)
    return _quantile_adjoint_a(g, a, np.divide(q, 100), axis, method, keepdims)


def _percentile_vjp_q(g, ans, a, q, axis=None, out=None, overwrite_input=False, method="linear",
                      keepdims=False, *, weights=None, interpolation=None):
    _quantile_options(overwrite_input, weights, interpolation)
    fraction = np.divide(q, 100) if not isinstance(q, (list, tuple)) else module_of(a).asarray(q) / 100
    grad = _quantile_adjoint_q(g, a, fraction, axis, method, keepdims)
    return [v / 100 for v in grad] if isinstance(q, (list, tuple)) else grad / 100


def _median_vjp(g, ans, a, axis=None, out=None, overwrite_input=False, keepdims=False):
    refuse_option("np.median", "overwrite_input", overwrite_input, False)
    return _quantile_adjoint_a(g, a, 0.5, axis, "linear", keepdims)


defvjp(np.quantile, _quantile_vjp_a, _quantile_vjp_q, keywords=("axis", "method", "keepdims"))
defvjp(np.percentile, _percentile_vjp_a, _percentile_vjp_q, keywords=("axis", "method", "keepdims"))
defvjp(np.median, _median_vjp, keywords=("axis", "keepdims"))


# The NaN-ignoring forms rank the values that are not NaN, slice by slice: NaN entries get a
# zero adjoint, and a slice of NaN only (whose result is NaN) gives no adjoint at all.
def _nanquantile_vjp_a(g, ans, a, q, axis=None, out=None, overwrite_input=False, method="linear",
                       keepdims=False, *, weights=None, interpolation=None):
    _quantile_options(overwrite_input, weights, interpolation)
    return _quantile_adjoint_a(g, a, q, axis, method, keepdims, skip_nan=True)


def _nanquantile_vjp_q(g, ans, a, q, axis=None, out=None, overwrite_input=False, method="linear",
                       keepdims=False, *, weights=None, interpolation=None):
    _quantile_options(overwrite_input, weights, interpolation)
    return _quantile_adjoint_q(g, a, q, axis, method, keepdims, skip_nan=True)


def _nanpercentile_vjp_a(g, ans, a, q, axis=None, out=None, overwrite_input=False, method="linear",
                         keepdims=False, *, weights=None, interpolation=None):
    _quantile_options(overwrite_input, weights, interpolation)
    return _quantile_adjoint_a(g, a, np.divide(q, 100), axis, method, keepdims, skip_nan=True)


def _nanpercentile_vjp_q(g, ans, a, q, axis=None, out=None, overwrite_input=False, method="linear",
                         keepdims=False, *, weights=None, interpolation=None):
    _quantile_options(overwrite_input, weights, interpolation)
    fraction = np.divide(q, 100) if not isinstance(q, (list, tuple)) else module_of(a).asarray(q) / 100
    grad = _quantile_adjoint_q(g, a, fraction, axis, method, keepdims, skip_nan=True)
    return [v / 100 for v in grad] if isinstance(q, (list, tuple)) else grad / 100


def _nanmedian_vjp(g, ans, a, axis=None, out=None, overwrite_input=False, keepdims=False):
    refuse_option("np.nanmedian", "overwrite_input", overwrite_input, False)
    return _quantile_adjoint_a(g, a, 0.5, axis, "linear", keepdims, skip_nan=True)


defvjp(np.nanquantile, _nanquantile_vjp_a, _nanquantile_vjp_q, keywords=("axis", "method", "keepdims"))
defvjp(np.nanpercentile, _nanpercentile_vjp_a, _nanpercentile_vjp_q, keywords=("axis", "method", "keepdims"))
defvjp(np.nanmedian, _nanmedian_vjp, keywords=("axis", "keepdims"))


# --- unique: the sorted distinct values --------------------------------------------------------
def _unique_vjp(g, ans, ar, return_index=False, return_inverse=False, return_counts=False, axis=None, *,
                equal_nan=True, sorted=True):
    # Where the values (or the slices along axis) are distinct, np.unique is a permutation of them
    # and its adjoint the inverse permutation; the index, inverse and count results are integers,
    # constant there. Where some repeat, perturbing one splits it from the others: the result
    # changes size, and there is no derivative to give.
    if isinstance(ar, (list, tuple)):
        raise KnetError("knetc: the derivative of np.unique of a list or tuple is not supported; "
                        "convert it with np.array first")
    several = return_index or return_inverse or return_counts
    values = ans[0] if several else ans
    gv = _part(g, 0, values) if several else g
    what = "values" if axis is None else f"slices along axis {axis}"
    n_in = np.size(ar) if axis is None else np.shape(ar)[axis]
    n_out = np.size(values) if axis is None else np.shape(values)[axis]
    if n_out != n_in:
        raise KnetError(
            f"knetc: np.unique is not differentiable here: {n_in - n_out} of the {n_in} {what} of its "
            f"input repeat an earlier one (the derivative exists only where they are all distinct: "
            f"moving one of equal values apart changes the result's size)")
    # sorted=False lets NumPy choose an order (a hash table for integers), which a second call
    # with return_index need not reproduce
    refuse_option("np.unique", "sorted", sorted, True)
    first = np.unique(_plain(ar), return_index=True, axis=axis, equal_nan=equal_nan)[1]
    back = np.argsort(first)            # the inverse permutation: where each input went
    if axis is None:
        return np.reshape(np.take(np.ravel(gv), back), np.shape(ar))
    return np.take(gv, back, axis=axis)


defvjp(np.unique, _unique_vjp,
       keywords=("return_index", "return_inverse", "return_counts", "axis", "equal_nan", "sorted"))
