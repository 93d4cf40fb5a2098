"""Derivative rules of arrays built from values: ``np.full``, ``np.full_like``, ``np.arange``,
``np.linspace``, ``np.r_[...]`` and ``np.c_[...]``, differentiable in those values.
"""
import numpy as np

from .backend import module_of
from .rules import ZERO_DERIVATIVE, defvjp, unbroadcast

def _fill_vjp(g, fill, ans):
    """The adjoint of a fill value broadcast over the result (zero for an integer result)."""
    if np.dtype(getattr(ans, "dtype", type(ans))).kind not in "fc":   # truncated: piecewise constant
        return unbroadcast(g * 0, fill)
    return unbroadcast(g, fill)


def _full_vjp(g, ans, shape, fill_value, dtype=None, order="C", **kwargs):
    return _fill_vjp(g, fill_value, ans)


def _full_like_vjp(g, ans, a, fill_value, dtype=None, order="K", subok=True, shape=None, **kwargs):
    return _fill_vjp(g, fill_value, ans)


def _steps(n, xp):
    """``0, 1, ..., n - 1`` as floats (the k of start + k * step)."""
    return xp.arange(n, dtype=np.float64)


def _arange_vjp_start(g, ans, start, stop=None, step=1, **kwargs):
    if stop is None:                      # arange(stop): the values do not depend on it
        return unbroadcast(np.sum(g) * 0, start)
    return unbroadcast(np.sum(g), start)  # every value is start + k * step


def _arange_vjp_step(g, ans, start, stop=None, step=1, **kwargs):
    return unbroadcast(np.sum(g * _steps(np.size(ans), module_of(ans))), step)


def _linspace_weights(ans, num, endpoint, axis):
    """``t_k = k / div``, shaped to broadcast along ``axis`` of the result."""
    div = (num - 1 if endpoint else num) if num > 1 else 1
    t = _steps(num, module_of(ans)) / div
    shape = [1] * np.ndim(ans)
    shape[axis] = num
    return np.reshape(t, shape)


def _linspace_vjp_start(g, ans, start, stop, num=50, endpoint=True, retstep=False, dtype=None,
                        axis=0, **kwargs):
    t = _linspace_weights(ans, num, endpoint, axis)
    return unbroadcast(np.sum(g * (1 - t), axis=axis), start)   # value_k = start + t_k (stop - start)


def _linspace_vjp_stop(g, ans, start, stop, num=50, endpoint=True, retstep=False, dtype=None,
                       axis=0, **kwargs):
    t = _linspace_weights(ans, num, endpoint, axis)
    return unbroadcast(np.sum(g * t, axis=axis), stop)


_CREATE = ("dtype", "order", "device", "like")
defvjp(np.full, None, _full_vjp, keywords=_CREATE)
# full_like reads only the shape and dtype of its first argument
defvjp(np.full_like, ZERO_DERIVATIVE, _full_like_vjp, keywords=_CREATE + ("subok", "shape"))
# arange's length depends on stop, its values do not: stop's derivative is zero
defvjp(np.arange, _arange_vjp_start, ZERO_DERIVATIVE, _arange_vjp_step, keywords=_CREATE)
defvjp(np.linspace, _linspace_vjp_start, _linspace_vjp_stop,
       keywords=("num", "endpoint", "dtype", "axis", "device"))


def axis_concatenate(concatenator, key):
    """``concatenator[key]`` for ``np.r_`` and ``np.c_`` (the tape records it with this rule)."""
    return concatenator[key]


def _axis_concatenate_vjp(g, ans, concatenator, key):
    # The result is a placement of the items' elements. Running the same
    # concatenation on complex element ids (imaginary part k + 1 for element k,
    # slices and directives kept as they are) tells where each element went.
    items = key if isinstance(key, tuple) else (key,)
    spans, ids, total = [], [], 0
    for item in items:
        if isinstance(item, (slice, str)):
            spans.append(None)
            ids.append(item)
            continue
        n, shape = int(np.size(item)), np.shape(item)
        ids.append(np.reshape(1j * (total + 1 + np.arange(n)), shape))
        spans.append((total, n, shape))
        total += n
    marked = np.asarray(concatenator[tuple(ids) if isinstance(key, tuple) else ids[0]])
    tags = np.rint(np.ravel(marked).imag).astype(np.int64)
    where = np.empty(total, dtype=np.int64)
    placed = np.flatnonzero(tags > 0)
    where[tags[placed] - 1] = placed
    flat = np.ravel(g)
    where = module_of(g).asarray(where)
    out = []
    for item, span in zip(items, spans):
        if span is None:             # a slice or a directive: nothing to differentiate
            out.append(0.0)
            continue
        start, n, shape = span
        out.append(unbroadcast(np.reshape(np.take(flat, where[start:start + n]), shape), item)
                   if shape else np.sum(np.take(flat, where[start:start + n])))
    return tuple(out) if isinstance(key, tuple) else out[0]


defvjp(axis_concatenate, ZERO_DERIVATIVE, _axis_concatenate_vjp, keywords=())
