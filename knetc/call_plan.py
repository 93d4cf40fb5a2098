"""What a repeated gradient call reuses.

:class:`knetc.api.GradFunction` keeps one :class:`Plan` per signature of its positional
arguments (:func:`knetc.runtime.tree.call_signature`: the kinds and dtypes of arrays and
flat lists): a call with the same signature skips binding, the ``wrt`` and
differentiability checks and the compile-cache lookup, but never the guard of what the
compiled code assumed. The gradient takes the structure of a differentiated argument as
the caller passed it (:func:`~knetc.runtime.tape_callers.entry_structure`, taken before the
call), even when the function appends to a list argument.
"""
from .arguments import FLOATS


# The pullback's seed for each float type of a scalar result (np.float32 loss -> float32 adjoints).
SEEDS = {t: t(1.0) for t in FLOATS}


class Plan:
    """What a repeated call with the same kinds of positional arguments reuses: the vjp, the
    ``wrt`` indices, ``.mode``'s record, the guard (checked on every call) and how to take
    the differentiated arguments' entry structures, read once from the call signature."""

    __slots__ = ("vjp", "wrt", "last", "guard", "entry")

    def __init__(self, vjp, wrt, last, sig, skip):
        self.vjp, self.wrt, self.last, self.guard = vjp, wrt, last, vjp.guard
        # a flat list (the signature lists its leaves: arrays, floats, ints) is copied by a
        # slice; an array, a number or a tuple of leaves is its own entry structure
        lists = [skip <= i and type(sig[i - skip]) is tuple and sig[i - skip][0] is list for i in wrt]
        if len(wrt) == 1:
            i = wrt[0]
            self.entry = (lambda values: [values[i][:]]) if lists[0] else (lambda values: [values[i]])
        else:
            pairs = tuple(zip(wrt, lists))
            self.entry = lambda values: [values[i][:] if copy else values[i] for i, copy in pairs]
