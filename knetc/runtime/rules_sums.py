"""Derivative rules of NumPy's core reductions: sum, mean, max, min (amax, amin), prod, var, std,
with their axis, keepdims, initial and where options (registered with ``numpy_rules``).

The fast paths for NumPy arrays build the adjoint in one fresh array (cheaper than
``np.broadcast_to`` on small arrays); traced values and CuPy take the general path.
"""
import numpy as np

from .backend import module_of, is_cupy_array
from .rule_helpers import _count, _keep_axes, _lift
from .rules import defvjp, unbroadcast

_PLAIN_SCALARS = (float, np.float64, np.float32, np.float16)
_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)


def _filled_like(g, x, axis, keepdims):
    """NumPy fast path of sum/mean VJPs: ``g`` spread over a new array shaped like ``x``.

    A fresh array costs less than ``np.broadcast_to`` (a Python function) on
    small arrays; None when the fast path does not apply. (``promote_types`` and
    ``fill``: ``result_type`` and ``copyto`` cost a microsecond more per call here.)
    """
    if type(x) is not np.ndarray:
        return None
    if axis is None and type(g) in _PLAIN_SCALARS:
        dtype = x.dtype
        if dtype is not _F64 and dtype is not _F32:
            dtype = np.promote_types(dtype, _F32)
        out = np.empty(x.shape, dtype)
    elif type(g) is np.ndarray and (keepdims or axis is None):
        out = np.empty(x.shape, g.dtype)
        np.copyto(out, g)
        return out
    else:
        return None
    out.fill(g)
    return out


def _masked(where):
    """True when a reduction's ``where=`` excludes something (None and True exclude nothing)."""
    return where is not None and where is not True


def _on_device_of(mask, x):
    """A NumPy mask moved to ``x``'s device (CuPy does not mix host and device arrays)."""
    if is_cupy_array(x) and not is_cupy_array(mask):
        return module_of(x).asarray(mask)
    return mask


def _sum_vjp(g, ans, x, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    # initial= is an additive constant; where= leaves the excluded entries out.
    if _masked(where):
        spread = np.broadcast_to(_keep_axes(_lift(g, x), axis, keepdims), np.shape(x))
        return np.where(_on_device_of(where, x), spread, 0.0)
    fast = _filled_like(g, x, axis, keepdims)
    if fast is not None:
        return fast
    if axis is None and type(g) in _PLAIN_SCALARS and is_cupy_array(x):    # one fill kernel
        return module_of(x).full(x.shape, g, dtype=np.result_type(x.dtype, np.float32))
    return np.broadcast_to(_keep_axes(_lift(g, x), axis, keepdims), np.shape(x))


def _sum_vjp_initial(g, ans, x, axis=None, dtype=None, out=None, keepdims=False, initial=None,
                     where=None):
    return unbroadcast(g, initial)     # added to every result element


def _mean_vjp(g, ans, x, axis=None, dtype=None, out=None, keepdims=False, where=None):
    if _masked(where):                 # the mean of the entries where= keeps
        mask = np.broadcast_to(_on_device_of(where, x), np.shape(x))
        count = np.maximum(np.sum(mask, axis=axis, keepdims=True), 1)
        return np.where(mask, _keep_axes(_lift(g, x), axis, keepdims) / count, 0.0)
    fast = _filled_like(g / _count(x, ans), x, axis, keepdims) if type(x) is np.ndarray else None
    if fast is not None:
        return fast
    return np.broadcast_to(_keep_axes(_lift(g, x), axis, keepdims) / _count(x, ans), np.shape(x))


def _max_vjp(g, ans, x, axis=None, out=None, keepdims=False, initial=None, where=None):
    # The adjoint goes to the positions of the extreme value, split on ties;
    # the same rule serves max and min. Entries where= excludes never win; an
    # initial= value that wins takes the adjoint away (its share, on a tie).
    full = _keep_axes(ans, axis, keepdims)
    hit = np.equal(x, full)
    if _masked(where):
        hit = np.logical_and(hit, _on_device_of(where, x))
    share = _keep_axes(_lift(g, x), axis, keepdims) * hit
    if type(hit) is np.ndarray and type(share) is np.ndarray:   # NumPy: the method is cheaper
        count = hit.sum(axis=axis, keepdims=True, dtype=share.dtype)
    else:
        count = np.sum(hit, axis=axis, keepdims=True, dtype=getattr(share, "dtype", None))
    if initial is not None:
        count = np.maximum(count + np.equal(full, initial), 1)
    return share / count


def _prod_vjp(g, ans, x, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    """d prod / d x_i = the product of the other entries, without dividing by zero.

    With ``nonzero`` the product of a slice's non-zero entries and ``zeros`` the
    product of its zero entries (0, or 1 when there are none): a non-zero entry
    gets ``nonzero / x_i * zeros``; a zero entry gets ``nonzero`` times the
    product of the *other* zeros: 1 when it is the only one, the other zero
    itself (the slice's sum of zeros minus x_i) when there are two, 0 when more.
    Each is written so that its own derivative is the true second derivative of
    the product (knet.hvp at inputs with zeros). initial= multiplies; where=
    excludes entries (as ones).
    """
    if _masked(where):
        where = _on_device_of(where, x)
        inside = _prod_vjp(g, ans, np.where(where, x, 1.0), axis, dtype, out, keepdims, initial)
        return np.where(where, inside, 0.0)
    if initial is not None:
        g = g * initial
    zero = np.equal(x, 0)
    count = np.sum(zero, axis=axis, keepdims=True)
    safe = np.where(zero, 1.0, x)
    nonzero = np.prod(safe, axis=axis, keepdims=True)
    zeros = np.prod(np.where(zero, x, 1.0), axis=axis, keepdims=True)
    other_zeros = np.where(count == 1, 1.0,
                           np.where(count == 2, np.sum(np.where(zero, x, 0.0), axis=axis, keepdims=True) - x, 0.0))
    partial = np.where(zero, nonzero * other_zeros, nonzero / safe * zeros)
    return _keep_axes(_lift(g, x), axis, keepdims) * partial


def _var_vjp(g, ans, x, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kwargs):
    centered = x - np.mean(x, axis=axis, keepdims=True)
    return _keep_axes(_lift(g, x), axis, keepdims) * 2 * np.conj(centered) / (_count(x, ans) - ddof)


def _std_vjp(g, ans, x, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kwargs):
    centered = x - np.mean(x, axis=axis, keepdims=True)
    scale = (_count(x, ans) - ddof) * _keep_axes(ans, axis, keepdims)
    # where the spread is 0 (one element, equal values) std has a kink: its derivative is taken
    # as 0 there, like |x| at 0, instead of 0/0 = NaN poisoning the whole gradient
    flat = np.equal(scale, 0)
    return _keep_axes(_lift(g, x), axis, keepdims) * np.conj(centered) / np.where(flat, 1.0, scale) \
        * np.logical_not(flat)


_REDUCE = ("axis", "dtype", "keepdims", "initial", "where")
_EXTREME = ("axis", "keepdims", "initial", "where")
_MOMENT = ("axis", "dtype", "ddof", "keepdims")       # where=, mean=, correction= are refused
defvjp(np.sum, _sum_vjp, keywords=_REDUCE, initial=_sum_vjp_initial)
defvjp(np.mean, _mean_vjp, keywords=("axis", "dtype", "keepdims", "where"))
defvjp(np.max, _max_vjp, keywords=_EXTREME)
defvjp(np.min, _max_vjp, keywords=_EXTREME)
defvjp(np.amax, _max_vjp, keywords=_EXTREME)
defvjp(np.amin, _max_vjp, keywords=_EXTREME)
defvjp(np.prod, _prod_vjp, keywords=_REDUCE)
defvjp(np.var, _var_vjp, keywords=_MOMENT)
defvjp(np.std, _std_vjp, keywords=_MOMENT)
