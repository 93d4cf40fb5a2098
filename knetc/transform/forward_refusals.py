"""What the compiled forward mode refuses, beyond what the front end refuses for both modes.

Consumes the unit after the front end (its IR, scope and differentiated names) and
the parameters' values; raises UnsupportedError at the user's line, so ``knet.jvp``
(and knet.hvp, which reverses the tangent program) use the tape.
"""
import numpy as np

from . import ir
from .analysis import dependents, diff_reads
from .resolve import MISSING, resolve_dotted


def refuse_concatenators(unit):
    """Refuse ``np.r_[x, y]`` / ``np.c_[x, c]`` of values that depend on a differentiated argument.

    The lowered form reads the differentiated values as atoms of an *index* of a
    global object, which the analysis treats as constant: the tangent would be a
    silent zero. Indices are never differentiated, so anything else stays as is.
    """
    # forward dependence, also through the index atoms
    active = dependents(unit.body, unit.active_params,
                        lambda e: diff_reads(e) + (list(e.atoms) if isinstance(e, ir.Subscript) else []))
    for s in ir.walk(unit.body):
        e = getattr(s, "expr", None)
        if isinstance(e, ir.Subscript) and e.obj not in unit.locals and any(a in active for a in e.atoms):
            obj = resolve_dotted(unit.scope, e.obj)
            if obj is not MISSING and isinstance(obj, _AXIS_CONCATENATOR):
                raise unit.error_at(s.line, f"{e.obj}[...] of a differentiated value",
                                    "use np.concatenate, np.stack or np.column_stack")


_AXIS_CONCATENATOR = type(np.r_).__mro__[1]     # the class of np.r_ and np.c_
