"""Where a data argument may still hold the caller's object.

A parameter that is not differentiated on entry but later holds
differentiated values (``x = layer(w, x)``) keeps an entry name, and the
adjoint of a value it held is skipped while it is the caller's object
(``if x is not x_in:``, see reverse_stmt.py). This pass finds where that
test is needed: it follows, for every name, where the object it holds may
come from (the caller's object of a parameter, a new object made in the
function, or unknown: a global, an element of a container, a call result).
Before ``x = w[i] @ x`` the caller's object of ``x`` may reach (the loop's
first pass), so the adjoint is tested there; after it the adjoints of the
statements that read ``x`` need no test; where only the caller's object can
be held the adjoint is skipped outright.

Consumes the final IR; gives ``holdings``: id(statement) -> the
``(name, origin)`` pairs just before it. Statements it has no record of
count as "unknown" (the test stays). Erring towards "new" costs only work:
the adjoint of a value nothing differentiated depends on is computed and
never used.
"""
from . import ir
from .results import new_object
from .returns import returns_new_object

NEW = "new"            # made in the function: not what the caller passed
UNKNOWN = "unknown"    # may be anything, the caller's objects included


def holdings(body, params):
    """id(statement) -> ``{(name, origin)}`` before it; an origin is ``("entry", p)``
    (what the caller passed as parameter ``p``), ``NEW`` or ``UNKNOWN``."""
    before = {}
    _run(body, frozenset((p, ("entry", p)) for p in params), before)
    return before


def needs_test(held, name):
    """Whether the adjoint of ``name``'s value must be tested against its entry object
    (True), skipped (None: only the caller's object can be held) or computed (False)."""
    if held is None:
        return True
    origins = {o for n, o in held if n == name}
    if not origins - {("entry", name)}:
        return None
    return ("entry", name) in origins or UNKNOWN in origins


def _run(block, state, before):
    for s in block:
        before[id(s)] = before.get(id(s), frozenset()) | state
        if isinstance(s, ir.If):
            state = _run(s.body, state, before) | _run(s.orelse, state, before)
        elif isinstance(s, (ir.For, ir.While)):
            head = _bind(state, s.target, {UNKNOWN}) if isinstance(s, ir.For) else state
            while True:
                new_head = head | _run(s.body, head, before)
                if new_head == head:
                    break
                head = new_head
            state = head
        elif isinstance(s, ir.Assign) and s.write:
            # a write keeps the object but changes its value: no longer the caller's value
            state = _bind(state, s.target, {NEW if o == ("entry", s.target) else o
                                            for n, o in state if n == s.target} or {UNKNOWN})
        elif isinstance(s, ir.Assign):
            state = _bind(state, s.target, _origins(s.expr, state))
        elif isinstance(s, ir.LocalDef):
            state = _bind(state, s.name, {NEW})
    return state


def _bind(state, name, origins):
    return frozenset(h for h in state if h[0] != name) | {(name, o) for o in origins}


def _origins(e, state):
    if isinstance(e, ir.Copy):
        if isinstance(e.src, ir.Literal):
            return {NEW}
        held = {o for n, o in state if n == e.src}
        return held or {UNKNOWN}         # a global or closure value may be what the caller passed
    return {NEW} if _new(e) else {UNKNOWN}


def _new(e):
    """Whether the expression makes an object the caller cannot have passed.

    (See the module docstring: erring towards "new" costs only work.)"""
    if isinstance(e, (ir.Build, ir.Const)):
        return True
    if isinstance(e, ir.Op):
        return new_object(e.fun, e.label, e.kwargs)
    if isinstance(e, ir.HelperCall):
        return e.fun is not None and returns_new_object(e.fun)
    return False
