"""What a function writes into: its parameters (``s[i] = v``, ``s.append(v)``),
arrays in place (``a += b``, ``np.add.at(a, ...)``), state outside it (globals, attributes).

Knet's language model passes a state list to ``predict``, which replaces its
entries; the gradient flows through those writes. The caller must know that a
helper writes into an argument, so that the argument's adjoint after the call
goes into the helper's pullback and the adjoint before the call comes back.
The analysis is syntactic and follows calls to other functions it can resolve.
"""
import types

import gast

from ..errors import UnsupportedError
from ..arguments import location, plain_function
from ..runtime.rules import Primitive, is_nondiff, rule_for
from .packages import in_packages
from .resolve import MISSING, Scope, dotted_name, resolve_dotted
from .source import get_function_source
from .syntax import assigned_names, unparse

# Methods that change the object they are called on (lists, dicts, sets, arrays).
MUTATING_METHODS = frozenset({
    "append", "extend", "insert", "pop", "remove", "clear", "update", "setdefault", "popitem",
    "sort", "reverse", "add", "discard", "fill", "put", "itemset", "resize", "setfield",
    "partition", "setflags", "byteswap", "__setitem__", "__delitem__", "__iadd__", "__isub__",
    "__imul__", "__itruediv__",
})
_MUTATING_METHODS = MUTATING_METHODS
# Functions that write into their first argument (NumPy's in-place functions, ufunc.at).
MUTATING_FUNCTIONS = frozenset({"copyto", "put", "place", "putmask", "put_along_axis",
                                "fill_diagonal", "shuffle", "at"})
_CACHE = {}



def writes_differentiated_containers(fun, active, values):
    """Whether ``fun`` writes into a list or dict argument that is differentiated (``active``):
    run on the tape, such a write updates the caller's container but not its adjoint or tangent."""
    names = mutated_params(fun)
    params = fun.__code__.co_varnames[:fun.__code__.co_argcount]
    return any(a and p in names and isinstance(v, (list, dict))
               for p, a, v in zip(params, active, values))


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
    try:
        node = get_function_source(fun).node
    except UnsupportedError:
        return ()
    scope = Scope(fun)
    result = mutated_in_node(node, scope, _active + (code,))
    _CACHE[code] = (result, scope, _analysed_callees(scope, _active + (code,)))
    return result


def _analysed_callees(scope, active):
    """``(function, its mutated_params)`` for the Python functions an analysis resolved: a cache
    entry holds while these agree (see :func:`_still_valid`)."""
    return [(obj, mutated_params(obj, active)) for obj in scope.reads.values()
            if isinstance(obj, types.FunctionType) and not _knetc_rule(obj)]


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
    written = written_names(node, scope, _active)
    return tuple(p for p in params if p in written)


def written_names(node, scope, _active=()):
    """Every name whose object the gast function ``node`` may write into.

    ``s[i] = v``, ``s[0][1] = v``, ``s.append(v)``, ``s[0].append(v)`` all
    write into ``s``'s object (the root of the subscript chain), and so does
    passing ``s`` to a function that writes into that parameter.
    """
    params = [a.id for a in node.args.args]
    written = set()
    for n in gast.walk(node):
        if isinstance(n, gast.Subscript) and isinstance(n.ctx, (gast.Store, gast.Del)):
            root = _root(n.value)
            if root:
                written.add(root)
        elif isinstance(n, gast.Call):
            func = n.func
            if isinstance(func, gast.Attribute) and func.attr in MUTATING_METHODS:
                root = _root(func.value)
                if root:
                    written.add(root)
            name = func.attr if isinstance(func, gast.Attribute) else getattr(func, "id", None)
            if name in MUTATING_FUNCTIONS and n.args and not _has_rule(func, scope):
                root = _root(n.args[0])      # np.add.at(buf, ...), np.copyto(dst, ...)
                if root:
                    written.add(root)
            for k in n.keywords:
                if k.arg == "out":
                    root = _root(k.value)
                    if root:
                        written.add(root)
            callee = _resolve(func, scope, params)
            if callee is not None:
                written.update(call_site_mutations(callee, n.args, n.keywords, _active))
    return written


def outer_writes(node, scope):
    """Names of the enclosing function that the nested def ``node`` writes into.

    They are the written names that ``node`` neither binds nor takes as parameters.
    """
    bound = {a.id for a in node.args.args} | assigned_names(node)
    return sorted(written_names(node, scope) - bound)


def _has_rule(func, scope):
    """Whether the called name resolves to a function with a derivative rule (a functional form)."""
    dotted = dotted_name(func)
    obj = resolve_dotted(scope, dotted) if dotted else MISSING
    try:
        return obj is not MISSING and rule_for(obj) is not None
    except TypeError:
        return False


def _root(node):
    while isinstance(node, (gast.Subscript, gast.Attribute)):
        node = node.value
    return node.id if isinstance(node, gast.Name) else None


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
    if obj is MISSING or not hasattr(obj, "__code__") or _knetc_rule(obj):
        return None
    return obj


def _knetc_rule(obj):
    """knetc's own functions with a derivative rule (the runtime helpers generated code calls,
    such as ``call_jvp`` in a tangent program) write into no argument: their rule models them."""
    return (getattr(obj, "__module__", None) or "").startswith("knetc.") and rule_for(obj) is not None


_OUTSIDE = {}


_ARRAY_WRITES = {}       # code -> (params, scope, deps), as mutated_params's cache


def array_written_params(fun):
    """Parameters ``fun`` may update in place as arrays: ``p += v``, ``p[i] = v``, ``p.fill(v)``.

    Cached per code object and checked as :func:`mutated_params`'s analysis is (compiled code
    asks this of a function value each time it calls one: parsing again would cost a millisecond).
    """
    code = getattr(fun, "__code__", None)
    if code is None:
        return ()
    entry = _ARRAY_WRITES.get(code)
    if entry is not None and _still_valid(entry, fun, (code,)):
        return entry[0]
    try:
        node = get_function_source(fun).node
    except UnsupportedError:
        return ()
    params = [a.id for a in node.args.args]
    scope = Scope(fun)
    written = written_names(node, scope)
    for n in gast.walk(node):
        if isinstance(n, gast.AugAssign) and isinstance(n.target, gast.Name):
            written.add(n.target.id)
    result = tuple(p for p in params if p in written)
    _ARRAY_WRITES[code] = (result, scope, _analysed_callees(scope, (code,)))
    return result


def writes_outside(fun):
    """What ``fun`` writes outside its own locals and parameters (a short text), or None.

    A global or nonlocal statement, an attribute assignment, an item assignment or a
    mutating method on a global, or a call of a function that does one of these.
    """
    code = getattr(fun, "__code__", None)
    if code is None:
        return None
    if code in _OUTSIDE:
        return _OUTSIDE[code]
    _OUTSIDE[code] = None         # recursion
    try:
        node = get_function_source(fun).node
    except UnsupportedError:
        return None
    _OUTSIDE[code] = node_writes_outside(node, Scope(fun))
    return _OUTSIDE[code]


def refuse_writes_outside(fun):
    """Refuse a function value called at run time with a differentiated argument when it
    writes outside its locals (a nonlocal or global statement, an attribute...): compiled
    or taped on its own, what it leaves there would reach the caller's later reads as a
    constant. The fence refuses the same for a helper the compiler resolved by name."""
    outside = writes_outside(fun)
    if outside:
        file, line = location(fun)
        raise UnsupportedError(f"calling {fun.__name__} (defined at {file}:{line}), which makes {outside}, "
                               "with a differentiated argument",
                               detail="the compiler does not follow values written outside the function; "
                                      "return them instead, or differentiate with mode='tape'")


def refuse_effectful_callee(fun, where):
    """Raise UnsupportedError at ``where`` (``file:line``) unless the function value ``fun``,
    called with a differentiated argument, provably writes nothing: compiled code may call
    it plainly (its result unused), and what it wrote would keep values whose gradient is
    lost. A rule or a Python function that writes into no argument and nothing outside passes."""
    target, _, _ = plain_function(fun)
    if isinstance(fun, Primitive) or rule_for(target) is not None or is_nondiff(target) \
            or in_packages(type(target).__module__, ("knetc",)):
        return
    problem = _callee_problem(target) if isinstance(target, types.FunctionType) \
        else "has no derivative rule and no Python source"
    if problem is None:
        return
    name = getattr(target, "__name__", None) or repr(fun)
    filename, _, line = where.rpartition(":")
    raise UnsupportedError(f"calling the function value {name}, which {problem}, with a differentiated argument",
                           filename, line, None,
                           "the compiler does not follow what it writes; call a function that returns its "
                           "results, or differentiate with mode='tape'")


_CALLEE_PROBLEMS = {}    # code -> (what the function writes or None, scope, deps): one check a call


def _callee_problem(fun):
    """What the Python function ``fun`` writes (a short text), or None; cached per code object
    and checked, on each call, as mutated_params's analysis is."""
    code = fun.__code__
    entry = _CALLEE_PROBLEMS.get(code)
    if entry is not None and _still_valid(entry, fun, (code,)):
        return entry[0]
    try:
        written = list(mutated_params(fun)) + list(array_written_params(fun))
        outside = writes_outside(fun)
    except Exception:       # no source, or a construct the analysis does not read
        written, outside = [], "code the compiler cannot read"
    problem = f"makes {outside}" if outside else f"writes into its argument {written[0]}" if written else None
    analysed = _CACHE.get(code)
    if analysed is not None and code in _ARRAY_WRITES:
        _CALLEE_PROBLEMS[code] = (problem, analysed[1], analysed[2] + _ARRAY_WRITES[code][2])
    return problem


def node_writes_outside(node, scope):
    """:func:`writes_outside` for the gast function ``node``."""
    own = {a.id for a in node.args.args} | (assigned_names(node) if isinstance(node, gast.FunctionDef) else set())
    for n in gast.walk(node):
        if isinstance(n, (gast.Global, gast.Nonlocal)):
            return f"a {'global' if isinstance(n, gast.Global) else 'nonlocal'} statement"
        if isinstance(n, gast.Attribute) and isinstance(n.ctx, (gast.Store, gast.Del)):
            return f"an assignment to {unparse(n)}"
        if isinstance(n, gast.Subscript) and isinstance(n.ctx, (gast.Store, gast.Del)):
            root = _root(n.value)
            if root is not None and root not in own:
                return f"an assignment into {root}"
        if isinstance(n, gast.Call):
            func = n.func
            if isinstance(func, gast.Attribute) and func.attr in MUTATING_METHODS:
                root = _root(func.value)
                if root is not None and root not in own:
                    return f"{root}.{func.attr}()"
            dotted = dotted_name(func)
            if dotted and dotted.split(".")[0] not in own:
                obj = resolve_dotted(scope, dotted)
                module = getattr(obj, "__module__", None) or ""
                if (obj is not MISSING and hasattr(obj, "__code__")
                        and not in_packages(module, ("numpy", "cupy", "scipy", "knetc"))):
                    inner = writes_outside(obj)
                    if inner:
                        return f"{inner} in {dotted}()"
    return None
