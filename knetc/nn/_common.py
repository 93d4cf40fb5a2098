"""Helpers the ``knetc.nn`` modules share: array module, kept axes, int pairs, public naming."""
from ..runtime.backend import module_of


def in_nn(fun):
    """Name ``fun`` ``knetc.nn.<name>`` (its rule, messages and docs), wherever it is defined."""
    fun.__module__ = "knetc.nn"
    return fun


def _xp(*xs):
    return module_of(*xs)


def _keep(a, x, axis, keepdims):
    """Give a reduction result ``a`` of ``x`` its reduced axes back (size 1)."""
    if keepdims or getattr(x, "ndim", 0) == 0:
        return a
    if axis is None:
        return _xp(a).reshape(a, (1,) * x.ndim)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    return _xp(a).expand_dims(a, tuple(ax % x.ndim for ax in axes))


def _pair(v, name):
    if isinstance(v, (tuple, list)):
        if len(v) != 2:
            raise ValueError(f"{name} must be an int or a pair of ints, got {v!r}")
        return int(v[0]), int(v[1])
    return int(v), int(v)
