"""The gradients handed to the caller: shaped like the arguments, distinct, writable, their own.

``owned_fitting_list`` recognises the common case (a list of distinct arrays
shaped like the parameters) without rebuilding it; ``unalias`` copies leaves
that are the same object; ``owned`` / ``owned_list`` copy leaves that are
views (a broadcast seed, a slice of another adjoint) or read-only, so
``g *= 0.5`` on a returned gradient works and touches nothing else.
"""
import numpy as np

_ndarray = np.ndarray

from .runtime.backend import is_array
from .runtime.structure import flatten_one_level, is_node


def owned_fitting_list(grad, like):
    """``grad`` if it already is the gradient of list ``like``: distinct arrays of the same
    shapes and dtypes (the common case: no rebuilding), each view in it (of a broadcast
    seed, of another adjoint) replaced by the caller's own copy; else None."""
    if type(like) is not list or type(grad) is not list or len(grad) != len(like):
        return None
    views = False
    for g, x in zip(grad, like):
        if type(g) is not _ndarray or type(x) is not _ndarray or g.shape != x.shape \
                or (g.dtype is not x.dtype and g.dtype != x.dtype):
            return None
        if g.base is not None:
            views = True
    if len(grad) > 1 and len(set(map(id, grad))) != len(grad):
        return None
    if views:
        for j, e in enumerate(grad):
            if e.base is not None:
                grad[j] = e.copy()
    return grad


def float_arrays(v):
    """Fast check: a float ndarray, or a list/tuple of them (else the full check runs)."""
    if type(v) is np.ndarray:
        return v.dtype.kind == "f"
    if type(v) is list or type(v) is tuple:
        for e in v:
            if type(e) is not np.ndarray or e.dtype.kind != "f":
                return False
        return True
    return False


def unalias(grads):
    """Copy gradient leaves that are the same object, so in-place updates stay separate."""
    if len(grads) == 1 and not is_node(grads[0]):
        return grads
    if len(grads) == 1 and type(grads[0]) is list and float_arrays(grads[0]):
        items = grads[0]
        if len({id(e) for e in items}) == len(items):
            return grads              # a list of distinct arrays: nothing to copy
    seen = set()

    def fix(x):
        level = flatten_one_level(x)
        if level is not None:
            return level[2]([fix(v) for v in level[0]])
        if is_array(x):
            if id(x) in seen:
                return x.copy()
            seen.add(id(x))
        return x
    return [fix(g) for g in grads]


def owned(grads):
    """Gradients as writable arrays that belong to the caller (never a read-only view)."""
    if isinstance(grads, tuple) and not hasattr(grads, "_fields"):
        return tuple(owned_list(list(grads)))
    return owned_list([grads])[0]


def owned_list(grads):
    for i, g in enumerate(grads):
        if type(g) is np.ndarray:
            if g.base is not None or not g.flags.writeable:
                grads[i] = g.copy()
        elif type(g) is list and float_arrays(g):
            for j, e in enumerate(g):
                if e.base is not None or not e.flags.writeable:
                    g[j] = e.copy()
        elif is_node(g) or hasattr(g, "shape"):
            grads[i] = _owned_tree(g)
    return grads


def _owned_tree(x):
    level = flatten_one_level(x)
    if level is not None:
        return level[2]([_owned_tree(v) for v in level[0]])
    if is_array(x) and (getattr(x, "base", None) is not None
                        or not getattr(getattr(x, "flags", None), "writeable", True)):
        return x.copy()
    return x
