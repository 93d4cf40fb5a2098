"""Which names a gast function binds: the walkers the lowering and the effects analysis share.

Consumes gast nodes of the user's function; nested definitions are not
entered (their bodies bind their own names).
"""

import gast

from ..runtime.creation import creation_module
from .resolve import MISSING, resolve_dotted
from .syntax import assigned_names, unparse  # noqa: F401  (re-exported for the lowering)



def stored_in(stmts):
    """Names bound by ``stmts`` (nested definitions excluded)."""
    out = set()
    stack = list(stmts)
    while stack:
        n = stack.pop()
        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
            out.add(n.id)
        if isinstance(n, (gast.FunctionDef, gast.Lambda, gast.ClassDef)):
            if not isinstance(n, gast.Lambda):
                out.add(n.name)
            continue
        stack.extend(gast.iter_child_nodes(n))
    return out


def rebound_names(fun_node):
    """Parameters and the names a function binds other than as ``for i in range(...)`` counters."""
    out = set()
    counters = set()
    stack = list(fun_node.body) if isinstance(fun_node.body, list) else []
    while stack:
        n = stack.pop()
        if (isinstance(n, gast.For) and isinstance(n.target, gast.Name) and isinstance(n.iter, gast.Call)
                and isinstance(n.iter.func, gast.Name) and n.iter.func.id == "range"):
            counters.add(id(n.target))
        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store) and id(n) not in counters:
            out.add(n.id)
        if isinstance(n, (gast.FunctionDef, gast.Lambda, gast.ClassDef)):
            continue
        stack.extend(gast.iter_child_nodes(n))
    args = fun_node.args
    return out | {a.id for a in list(args.args) + list(getattr(args, "kwonlyargs", []))}



def creation_locals(fun_node, scope):
    """Names bound once, at the top of the body, to ``creation_module(...)``: in generated code
    (a tangent program) the module that creates arrays on the arguments' device."""
    stores = [n.id for n in gast.walk(fun_node) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)]
    out = set()
    for stmt in fun_node.body if isinstance(fun_node.body, list) else ():      # a lambda has none
        if (isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], gast.Name)
                and isinstance(stmt.value, gast.Call) and isinstance(stmt.value.func, gast.Name)
                and stores.count(stmt.targets[0].id) == 1):
            obj = resolve_dotted(scope, stmt.value.func.id)
            if obj is not MISSING and obj is creation_module:
                out.add(stmt.targets[0].id)
    return out
