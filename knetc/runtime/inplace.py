"""Runtime check for ``a += b`` where the compiler could not show that ``a`` is unshared.

Compiled code computes ``a += b`` as ``a = a + b``. That is Python's meaning
when ``a`` holds a number (or a tuple), which ``+=`` rebinds, and when ``a``
is an array that nothing else refers to. When ``a`` may be the caller's
array, a helper's result, an element of a container or an alias, Python
would update the shared array in place; the compiled code checks the value
and refuses such an array instead of computing a different function.
"""
import numbers

import numpy as np

from ..errors import UnsupportedError


def refuse_shared_update(value, where):
    """Raise :class:`UnsupportedError` if ``a += b`` on ``value`` would write into a shared object."""
    if _immutable(value):
        return
    kind = "list" if isinstance(value, list) else "array"
    filename, _, line = where.rpartition(":")
    raise UnsupportedError(
        f"augmented assignment (+= and the like) on a {kind} that may be shared", filename, line, None,
        "Python updates it in place, visible through its other references (the caller's argument, "
        "a container, an alias); write a = a + b for a new value, or copy it first (a = a.copy())")


def _immutable(value):
    """A number, a NumPy scalar, a tuple, a string or None: ``+=`` rebinds it, as compiled."""
    return isinstance(value, (numbers.Number, np.generic, tuple, str)) or value is None


def refuse_repeated_element(container, element, where):
    """Raise :class:`UnsupportedError` if ``container[k] += v`` would update in place an array
    that ``container`` holds more than once (``l = [a, a]``): the other place sees the update
    in Python, where compiled code stores a new array at ``k`` only."""
    if _immutable(element):
        return
    if _occurrences(container, element, 4) > 1:
        filename, _, line = where.rpartition(":")
        raise UnsupportedError(
            "augmented assignment (+= and the like) to an element held twice by its container", filename,
            line, None, "Python updates that object in place, so its other place changes too; write "
                        "c[k] = c[k] + v for a new one")


def _occurrences(tree, obj, depth):
    """How many times ``obj`` (by identity) sits in the lists, tuples and dicts of ``tree``."""
    if tree is obj:
        return 1
    if depth == 0 or not isinstance(tree, (list, tuple, dict)):
        return 0
    items = tree.values() if isinstance(tree, dict) else tree
    return sum(_occurrences(v, obj, depth - 1) for v in items)


def refuse_sequence(value, where):
    """Raise :class:`UnsupportedError` if ``value`` is a list or a tuple: ``+`` and ``*`` would
    concatenate or repeat it, where the compiler, not knowing its kind, modelled arithmetic."""
    if isinstance(value, (list, tuple)):
        filename, _, line = where.rpartition(":")
        raise UnsupportedError(
            f"'+' or '*' on a {type(value).__name__} the compiler could not see as one", filename, line,
            None, "it came from a helper or a container; build it where the function can see it is "
                  "a list (return [a, b]), or convert it (list(...), np.stack(...))")
