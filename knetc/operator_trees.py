"""Small tree helpers shared by the differential operators (operators, jacobians, hessians)."""
import numpy as np

from .errors import GradientInputError
from .runtime.backend import module_of, is_array
from .runtime.box import has_box
from .runtime.rules import _TAPE_HOOK
from .runtime.tree import tree_flatten, tree_unflatten


def float_leaf(x):
    if isinstance(x, float):
        return True
    return (is_array(x) or isinstance(x, np.generic)) and np.asarray(x).dtype.kind == "f"


def check_float_tree(x, what):
    leaves, _ = tree_flatten(x)
    for leaf in leaves:
        if not float_leaf(leaf):
            kind = f"a {np.asarray(leaf).dtype} array" if is_array(leaf) else f"a {type(leaf).__name__}"
            raise GradientInputError(
                f"knetc: {what} holds {kind}; differentiated values must be floats or float arrays")


def zeros_like(x):
    leaves, spec = tree_flatten(x)
    return tree_unflatten(spec, [module_of(leaf).zeros_like(leaf) if is_array(leaf) else 0.0
                                 for leaf in leaves])


def vdot(a, b):
    """Sum of products of matching float leaves of two trees."""
    total = 0.0
    for x, y in zip(tree_flatten(a)[0], tree_flatten(b)[0]):
        if x is None or y is None:
            continue
        total = total + np.sum(x * y)
    return total


def wrt_tuple(wrt, nargs):
    indices = wrt if isinstance(wrt, tuple) else (wrt,)
    for i in indices:
        if not isinstance(i, int) or isinstance(i, bool):
            raise GradientInputError(f"knetc: wrt must be an int or a tuple of ints, not {wrt!r}")
        if not -nargs <= i < nargs:
            raise GradientInputError(f"knetc: wrt={wrt!r} is out of range: the function takes {nargs} argument(s)")
    return tuple(i % nargs for i in indices)


def tangent_like(primal, tangent):
    """``tangent`` with a Python number made an array where its primal leaf is an array
    (a 0-d array's tangent given as a float), so that array methods work on it."""
    p_leaves, spec = tree_flatten(primal)
    t_leaves, _ = tree_flatten(tangent)
    fixed = [module_of(p).asarray(t, dtype=np.asarray(p).dtype)
             if is_array(p) and isinstance(t, (int, float)) else t for p, t in zip(p_leaves, t_leaves)]
    return tree_unflatten(spec, fixed)


def split_aux(out, has_aux, name):
    if not has_aux:
        return out, None
    if not isinstance(out, tuple) or len(out) != 2:
        raise GradientInputError(f"knetc: {name} was given has_aux=True, so it must return a pair "
                                 f"(output, aux); it returned {type(out).__name__}")
    return out


def name_of(fun):
    return getattr(fun, "__name__", repr(fun))


def traced(*values):
    """Whether a tape is recording and ``values`` hold traced values (an operator called inside a
    function being taped: its own tape nests)."""
    return _TAPE_HOOK[0] is not None and any(has_box(x) for x in values)
