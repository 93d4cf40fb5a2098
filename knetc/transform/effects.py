"""Which parameters a function writes into (``s[i] = v``, ``s.append(v)``).

Knet's language model passes a state list to ``predict``, which replaces its
entries; the gradient flows through those writes. The caller must know that a
helper writes into an argument, so that the argument's adjoint after the call
goes into the helper's pullback and the adjoint before the call comes back.
The analysis is syntactic and follows calls to other functions it can resolve.
"""
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
    if code in _CACHE:
        return _CACHE[code]
    if code in _active:      # recursion: the outer analysis covers it
        return ()
    from .source import get_function_source
    try:
        node = get_function_source(fun).node
    except UnsupportedError:
        return ()
    result = mutated_in_node(node, Scope(fun), _active + (code,))
    _CACHE[code] = result
    return result


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
