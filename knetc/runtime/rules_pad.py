"""Derivative rules of ``np.pad``, every mode that has a derivative.

``constant``/``empty`` keep the array in the middle; ``edge``, ``reflect``, ``symmetric``,
``wrap`` copy elements (their adjoints add up); ``linear_ramp``, ``mean`` are linear
combinations (their transposed matrices); ``maximum``, ``minimum``, ``median`` send the
adjoint of each padded entry to the element its statistic selects (ties of maximum/minimum
share it equally, an even-count median splits it between the two middle values). A mode
given as a function has no model and is refused. Registered with ``rules_signal``.
"""
import numpy as np

from ..errors import KnetError
from .backend import module_of
from .indexing import scatter
from .rule_helpers import _along
from .rules import defvjp, unbroadcast
from .rules_order_statistics import _quantile_adjoint_a
from .rules_sums import _max_vjp
from .refusals import refuse

# --- pad ------------------------------------------------------------------------------------
_INDEX_MODES = ("edge", "reflect", "symmetric", "wrap")   # each padded entry copies one element
_LINEAR_MODES = ("linear_ramp", "mean")                   # each padded entry is a linear combination
_STAT_MODES = ("maximum", "minimum", "median")            # each padded entry is a statistic of an edge


def _pairs(width, ndim):
    """``np.pad``'s per-axis (before, after) pairs from an int, a pair or a sequence of pairs."""
    return [tuple(int(v) for v in p) for p in np.broadcast_to(np.asarray(width), (ndim, 2)).tolist()]


def _inner(g, widths, shape):
    return g[tuple(slice(b, b + n) for (b, _), n in zip(widths, shape))]


def _pad_axis_matrix(n, before, after, mode, axis, ndim, kwargs):
    """The (n + before + after, n) matrix of padding one axis (its linear part: end_values 0)."""
    options = {}
    if mode == "mean" and kwargs.get("stat_length") is not None:
        options["stat_length"] = (_pairs(kwargs["stat_length"], ndim)[axis], (1, 1))
    if mode in ("reflect", "symmetric"):
        options["reflect_type"] = kwargs.get("reflect_type", "even")
    return np.pad(np.eye(n), ((before, after), (0, 0)), mode=mode, **options)


def _stat_adjoint(g, window, axis, mode):
    """The adjoint of ``window`` from ``g``, the adjoint of its statistic along ``axis`` (kept).

    The adjoint goes to the selected element: ties of maximum/minimum share it equally (as
    ``np.max``'s rule), a median of an even count splits it between the two middle values.
    """
    if mode == "median":
        return _quantile_adjoint_a(g, window, 0.5, axis, "linear", True)
    stat = np.max(window, axis=axis, keepdims=True) if mode == "maximum" else \
        np.min(window, axis=axis, keepdims=True)
    return _max_vjp(g, stat, window, axis=axis, keepdims=True)


def _pad_stat_vjp(g, array, widths, mode, stat_length):
    """np.pad's maximum/minimum/median modes: NumPy pads one axis after the other, each from the
    array padded along the axes before it; the adjoint replays those steps and walks them back."""
    ndim = np.ndim(array)
    lengths = _pairs(stat_length, ndim) if stat_length is not None else None
    steps = [array]
    for axis in range(ndim - 1):
        one = [(0, 0)] * ndim
        one[axis] = widths[axis]
        steps.append(np.pad(steps[-1], one, mode=mode, stat_length=stat_length))
    for axis in reversed(range(ndim)):
        (before, after), n = widths[axis], np.shape(array)[axis]
        inner = g[_along(g, axis, slice(before, before + n))]
        if before == after == 0:
            g = inner
            continue
        source = steps[axis]
        pieces = []
        for side, width in ((0, before), (1, after)):
            if width == 0:
                continue
            length = min(lengths[axis][side], n) if lengths is not None else n
            region = slice(0, length) if side == 0 else slice(n - length, n)
            padded = g[_along(g, axis, slice(0, before) if side == 0 else slice(before + n, None))]
            total = np.sum(padded, axis=axis, keepdims=True)
            spread = _stat_adjoint(total, source[_along(source, axis, region)], axis, mode)
            widths_back = [(0, 0)] * ndim
            widths_back[axis] = (region.start, n - region.stop)
            pieces.append(np.pad(spread, widths_back))
        for piece in pieces:
            inner = inner + piece
        g = inner
    return g


def _pad_vjp(g, ans, array, pad_width, mode="constant", **kwargs):
    shape = np.shape(array)
    widths = _pairs(pad_width, len(shape))
    if mode in ("constant", "empty"):
        return unbroadcast(_inner(g, widths, shape), array)
    if mode in _STAT_MODES:
        return unbroadcast(_pad_stat_vjp(g, array, widths, mode, kwargs.get("stat_length")), array)
    odd = kwargs.get("reflect_type", "even") == "odd"
    if mode not in _INDEX_MODES + _LINEAR_MODES:
        raise KnetError(f"knetc: np.pad with mode={mode!r} has no derivative rule "
                        f"(supported: constant, empty, {', '.join(_INDEX_MODES + _LINEAR_MODES + _STAT_MODES)})")
    xp = module_of(g)
    for axis, ((before, after), n) in enumerate(zip(widths, shape)):
        if before == after == 0:
            continue
        if mode in _INDEX_MODES and not odd:
            source = xp.asarray(np.pad(np.arange(n), (before, after), mode=mode))
            target = xp.zeros(np.shape(g)[:axis] + (n,) + np.shape(g)[axis + 1:], dtype=np.result_type(g))
            g = scatter(target, _along(g, axis, source), g)       # copies of an element add up
        else:
            matrix = xp.asarray(_pad_axis_matrix(n, before, after, mode, axis, len(shape), kwargs))
            g = np.moveaxis(np.tensordot(g, matrix, axes=([axis], [0])), -1, axis)
    return unbroadcast(g, array)


def _pad_vjp_constant_values(g, ans, array, pad_width, mode="constant", **kwargs):
    if np.ndim(kwargs.get("constant_values", 0)) != 0:
        raise KnetError("knetc: np.pad is differentiable with respect to constant_values "
                        "only when it is one number")
    return np.sum(g) - np.sum(_inner(g, _pairs(pad_width, np.ndim(array)), np.shape(array)))


defvjp(np.pad, _pad_vjp, constant_values=_pad_vjp_constant_values,
       end_values=refuse("np.pad with respect to end_values"),
       keywords=("pad_width", "mode", "stat_length", "end_values", "reflect_type"))
