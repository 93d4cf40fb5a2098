"""What generated code compares a data argument with, to skip its adjoint (see
:mod:`knetc.transform.entry_values`)."""
from .structure import flatten_one_level


def entry_value(x, *differentiated):
    """What a data argument's identity test compares with: ``x``, or a fresh marker.

    Generated code skips the adjoint of a data argument while the name still
    holds the caller's object (``if x is not x_in``). When the caller passed
    that same object as (part of) a differentiated argument too (``f(w, w)``),
    the object is differentiated: the marker is identical to nothing, so the
    adjoint is always computed.
    """
    if any(_holds(d, x) for d in differentiated):
        return _Unshared()
    return x


class _Unshared:
    """The marker :func:`entry_value` returns: no value is identical to it."""


def _holds(tree, x):
    if tree is x:
        return True
    level = flatten_one_level(tree)
    return level is not None and any(_holds(c, x) for c in level[0])
