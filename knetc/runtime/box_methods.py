"""What a :class:`~knetc.runtime.box.Box` does for ndarray methods and in-place operators.

A method with a rule is recorded; a non-differentiable one runs on the value; a Python
adapter runs on the box (its own operations are recorded). ``x += y`` on the tape rebinds
the name to a new recorded value, which is NumPy's in-place update only when nothing else
sees the array: otherwise it is an error, never a silently stale value.
"""
import dis
import operator
import sys
import types

import numpy as np

from ..errors import GradientInputError
from . import binding
from . import numpy_rules as _numpy_rules
from .backend import is_cupy_array
from .rules import is_nondiff, rule_for
from . import box
from .box import deep_unbox, deep_value
from .box_errors import no_rule
from .box_record import _binop, call, record


# --- ndarray methods and attributes ---------------------------------------------

def _call_method(fun, box, args, kwargs):
    rule = rule_for(fun)
    if rule is not None:
        return record(fun, rule, (box,) + args, kwargs)
    if is_nondiff(fun) or fun in _numpy_rules.NONDIFF_METHODS.values():
        return fun(deep_value(box), *deep_unbox(args), **deep_unbox(kwargs))
    if isinstance(fun, types.FunctionType):  # a Python adapter: its own operations are recorded
        return fun(box, *args, **kwargs)
    raise no_rule(fun)


def _tolist(box):
    """``x.tolist()`` of a traced array: nested lists of its traced elements."""
    if not getattr(deep_value(box), "ndim", 0):
        return box
    return [_tolist(call(operator.getitem, (box, i))) for i in range(len(deep_value(box)))]


class _BoundMethod:
    __slots__ = ("fun", "box", "name")

    def __init__(self, fun, box, name):
        self.fun = fun
        self.box = box
        self.name = name

    def __call__(self, *args, **kwargs):
        return _call_method(self.fun, self.box, args, kwargs)

    def __repr__(self):
        return f"<traced method {self.name} of {self.box!r}>"



# --- in-place operators ----------------------------------------------------------

def _refs_in_iadd():
    """``sys.getrefcount(self)`` inside ``__iadd__`` when only one name holds the object."""
    seen = []

    def note(obj, refs, *rest):       # the same call shape as Box.__iadd__'s
        seen.append(refs)
        return obj

    class Probe:
        def __iadd__(self, other): return note(self, sys.getrefcount(self), np.add, operator.add, other, "+=")
    probe = Probe()
    probe += 1
    return seen[0]


_UNSHARED_REFS = _refs_in_iadd()


def _inplace(box, refs, ufunc, op, other, symbol):
    """``box op= other`` on the tape: a new recorded value, bound to the name.

    For an array that is the same as NumPy's in-place update only when nothing
    else refers to it: another name or a container holding the same value
    (``b = a; b += x``), a view into another array (``v = a[1:]; v += 1``) or
    a view taken from it later. Those would silently keep the old value here,
    so they are errors.
    """
    value = deep_value(box)
    if isinstance(value, np.ndarray) or is_cupy_array(value):
        shared = None
        if not _from_augmented_assignment(sys._getframe(2)):
            raise GradientInputError(
                f"knetc: operator.i{op.__name__}(x, ...) (or x.__i{op.__name__}__(...)) on a traced array"
                f"{binding.where_text()}: NumPy updates x in place and every name holding it sees the "
                f"change, which the tape cannot follow outside an augmented assignment; write "
                f"x = x {symbol[:-1]} ...")
        if refs > _UNSHARED_REFS:
            shared = "another name or a container refers to the same array"
        elif value.base is not None:
            shared = "it is a view into another array (a slice, a row, a transpose)"
        elif _viewed_later(box, value):
            shared = "a view of it (a slice, a row) was taken before"
        if shared is not None:
            raise GradientInputError(
                f"knetc: x {symbol} ... on a traced array updates it in place, and {shared}"
                f"{binding.where_text()}: on the tape the update rebinds the name only, so the "
                f"other would silently keep the old value. Write x = x {symbol[:-1]} ... and use "
                f"the new x everywhere, or copy before updating")
    return _binop(ufunc, op, box, other)


_FIRST_INPLACE_NB_OP = 13     # BINARY_OP's argument for +=, -=, ... starts at NB_INPLACE_ADD


def _from_augmented_assignment(frame):
    """Whether ``frame`` is running an augmented assignment (``x += y``), not a call such as
    ``operator.iadd(x, y)`` (whose caller keeps ``x`` bound to the updated array)."""
    try:
        code, i = frame.f_code.co_code, frame.f_lasti
        while dis.opname[code[i]] == "CACHE" and i >= 2:    # inline caches follow their instruction
            i -= 2
        name = dis.opname[code[i]]
        if name == "BINARY_OP":
            return code[i + 1] >= _FIRST_INPLACE_NB_OP
        return "CALL" not in name        # PRECALL, CALL, CALL_FUNCTION_EX ...: a call; else keep
    except Exception:         # no frame to read: keep the augmented assignment's behaviour
        return True


def _viewed_later(box, value):
    """True when a value recorded after ``box``'s is a view of ``value``."""
    nodes = box._trace.nodes
    for i in range(box._idx + 1, len(nodes)):
        node = nodes[i]
        if node is not None:
            ans = node[1]
            if getattr(ans, "base", None) is value:
                return True
    return False


box.provide(_BoundMethod=_BoundMethod, _inplace=_inplace, _tolist=_tolist)
