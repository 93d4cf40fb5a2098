"""Which parameters a function writes into (``s[i] = v``, ``s.append(v)``).

Knet's language model passes a state list to ``predict``, which replaces its
entries; the gradient flows through those writes. The caller must know that a
helper writes into an argument, so that the argument's adjoint after the call
goes into the helper's pullback and the adjoint before the call comes back.
The analysis is syntactic and follows calls to other functions it can resolve.
"""
import types

import gast

from ..errors import UnsupportedError
from .resolve import MISSING, Scope, dotted_name, resolve_dotted

_MUTATING_METHODS = {"append", "extend", "insert", "pop", "remove", "clear", "update", "setdefault"}
_CACHE = {}


def mutated_params(fun, _active=()):
    """Names of ``fun``'s parameters it may write into, in parameter order."""
    code = getattr(fun, "__code__", None)
    if code is None:
        return ()
    if code in _active:      # recursion: the outer analysis covers it
        return ()
    entry = _CACHE.get(code)
    if entry is not None and _still_valid(entry, fun, _active + (code,)):
        return entry[0]
    from .source import get_function_source
    try:
        node = get_function_source(fun).node
    except UnsupportedError:
        return ()
    scope = Scope(fun)
    result = mutated_in_node(node, scope, _active + (code,))
    deps = [(obj, mutated_params(obj, _active + (code,))) for obj in scope.reads.values()
            if isinstance(obj, types.FunctionType)]
    _CACHE[code] = (result, scope, deps)
    return result


def _still_valid(entry, fun, active):
    """The names the analysis resolved denote the same objects, and their analyses agree."""
    _, scope, deps = entry
    if scope.globals is not getattr(fun, "__globals__", None):
        return False             # equal code objects of another module or notebook cell
    now = Scope(fun)
    for dotted, obj in scope.reads.items():
        if resolve_dotted(now, dotted) is not obj:
            return False
    return all(mutated_params(f, active) == result for f, result in deps)


def analysis_scopes(fun, _seen=None):
    """The scopes (names resolved) of the write analyses of ``fun`` and the helpers it calls."""
    seen = set() if _seen is None else _seen
    code = getattr(fun, "__code__", None)
    entry = _CACHE.get(code)
    if entry is None or code in seen:
        return []
    seen.add(code)
    out = [entry[1]]
    for f, _ in entry[2]:
        out.extend(analysis_scopes(f, seen))
    return out


def mutated_in_node(node, scope, _active=()):
    """Parameters of the gast function ``node`` that it writes into."""
    params = [a.id for a in node.args.args]
    written = set()
    for n in gast.walk(node):
        if isinstance(n, gast.Subscript) and isinstance(n.ctx, gast.Store) and isinstance(n.value, gast.Name):
            written.add(n.value.id)
        elif isinstance(n, gast.Call):
            func = n.func
            if (isinstance(func, gast.Attribute) and func.attr in _MUTATING_METHODS
                    and isinstance(func.value, gast.Name)):
                written.add(func.value.id)
            callee = _resolve(func, scope, params)
            if callee is not None:
                written.update(call_site_mutations(callee, n.args, n.keywords, _active))
    return tuple(p for p in params if p in written)


def call_site_mutations(callee, args, keywords, _active=()):
    """Names passed (as plain names) to parameters that ``callee`` writes into."""
    names = mutated_params(callee, _active)
    if not names:
        return []
    code = callee.__code__
    params = list(code.co_varnames[:code.co_argcount])
    out = []
    for i, a in enumerate(args):
        if i < len(params) and params[i] in names and isinstance(a, gast.Name):
            out.append(a.id)
    for k in keywords:
        if k.arg in names and isinstance(k.value, gast.Name):
            out.append(k.value.id)
    return out


def _resolve(func, scope, local_names):
    dotted = dotted_name(func)
    if dotted is None or dotted.split(".")[0] in local_names:
        return None
    obj = resolve_dotted(scope, dotted)
    if obj is MISSING or not hasattr(obj, "__code__"):
        return None
    return obj
