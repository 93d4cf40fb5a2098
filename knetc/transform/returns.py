"""What a function may return, read from its source: a new object, a list, a list or tuple at all.

Syntactic analyses of user helpers, used where the caller's IR has only a call:
``returns_new_object`` (the result is never an argument or a view of one: the fence
need not treat it as an alias), ``returns_list`` (the result is a list display, so
``+`` concatenates), ``sequence_sources`` (which parameters, if any, the result may
be a list or tuple through). Each is cached per code object.
"""
import gast

from ..errors import UnsupportedError
from ..runtime.rules import rule_for
from .packages import in_packages
from .resolve import MISSING, Scope, dotted_name, resolve_dotted
from .results import LIST_RESULTS, new_object
from .source import get_function_source


_FRESH = {}


def returns_new_object(fun):
    """True when every ``return`` of ``fun`` builds a new value (never returns an argument).

    Syntactic: each returned expression is arithmetic, a comparison, a constant,
    a list/tuple/dict display, or a call of a NumPy function that does not return
    views; a returned name, attribute or subscript may be (part of) an argument.
    """
    return _per_code(_FRESH, fun, False, node_returns_new_object)


def _per_code(cache, fun, worst, analyse):
    """``analyse(node, scope)`` of ``fun``'s source, cached per code object; ``worst`` while
    it is being computed (recursion) and when the source cannot be read."""
    code = getattr(fun, "__code__", None)
    if code is None:
        return worst
    if code in cache:
        return cache[code]
    cache[code] = worst
    try:
        node = get_function_source(fun).node
    except UnsupportedError:
        return worst
    cache[code] = analyse(node, Scope(fun))
    return cache[code]


def _local_bindings(node, augmented=False):
    """Local name -> the values assigned to it (None: bound another way, e.g. as a loop
    target); with ``augmented``, ``x += v`` counts as ``x = x + v``."""
    bindings = {}
    for n in _walk_own(node):
        if isinstance(n, gast.Assign):
            for t in n.targets:
                for name in gast.walk(t):
                    if isinstance(name, gast.Name) and isinstance(name.ctx, gast.Store):
                        bindings.setdefault(name.id, []).append(n.value if t is name else None)
        elif augmented and isinstance(n, gast.AugAssign) and isinstance(n.target, gast.Name):
            bindings.setdefault(n.target.id, []).append(
                gast.BinOp(left=_load(n.target.id), op=n.op, right=n.value))
        elif isinstance(n, (gast.For, gast.With, gast.AnnAssign, gast.NamedExpr)):
            for name in gast.walk(getattr(n, "target", n)):
                if isinstance(name, gast.Name) and isinstance(name.ctx, gast.Store):
                    bindings.setdefault(name.id, []).append(None)
    return bindings


def node_returns_new_object(node, scope):
    """:func:`returns_new_object` for the gast function or lambda ``node``."""
    if isinstance(node, gast.Lambda):
        returns = [node.body]
    else:
        returns = [n.value for n in _walk_own(node) if isinstance(n, gast.Return)]
        if not returns or any(r is None for r in returns):
            return bool(returns)

    params = {a.id for a in node.args.args} | {a.id for a in getattr(node.args, "kwonlyargs", [])}
    bindings = _local_bindings(node) if isinstance(node, gast.FunctionDef) else {}

    def new(e, seen=()):
        if isinstance(e, (gast.BinOp, gast.UnaryOp, gast.Compare, gast.Constant)):
            return True
        if isinstance(e, (gast.Tuple, gast.List)):
            return all(new(x, seen) for x in e.elts)
        if isinstance(e, gast.Dict):
            return all(new(x, seen) for x in e.values)
        if isinstance(e, gast.Name):
            # a local bound only to new values (x = w @ h; return x)
            values = bindings.get(e.id)
            return (e.id not in params and e.id not in seen and bool(values)
                    and all(v is not None and new(v, seen + (e.id,)) for v in values))
        if isinstance(e, gast.Call):
            dotted = dotted_name(e.func)
            obj = resolve_dotted(scope, dotted) if dotted else MISSING
            if obj is MISSING:
                return False
            module = getattr(obj, "__module__", None) or ""
            library = in_packages(module)
            if library or not hasattr(obj, "__code__"):
                return new_object(obj, "", [(k.arg, None) for k in e.keywords])
            return returns_new_object(obj)
        return False

    return all(new(r) for r in returns)


def _walk_own(node):
    """The nodes of a function body, not those of nested definitions."""
    stack = list(node.body)
    while stack:
        n = stack.pop()
        yield n
        if isinstance(n, (gast.FunctionDef, gast.Lambda, gast.ClassDef)):
            continue
        stack.extend(gast.iter_child_nodes(n))


_LISTS = {}


def returns_list(fun):
    """True when every ``return`` of ``fun`` is a list display (``return [h, c]``), or a local
    bound only to list displays: its result is a list, whose ``+`` concatenates."""
    code = getattr(fun, "__code__", None)
    if code is None:
        return False
    if code not in _LISTS:
        try:
            node = get_function_source(fun).node
        except UnsupportedError:
            _LISTS[code] = False
            return False
        if isinstance(node, gast.Lambda):
            returns = [node.body]
        else:
            returns = [n.value for n in _walk_own(node) if isinstance(n, gast.Return)]
        stores = {}
        if isinstance(node, gast.FunctionDef):
            for n in _walk_own(node):
                if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
                    stores.setdefault(n.id, 0)
                    stores[n.id] += 1
            values = {}
            for n in _walk_own(node):
                if isinstance(n, gast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], gast.Name):
                    values.setdefault(n.targets[0].id, []).append(n.value)

        def is_list(e):
            if isinstance(e, gast.List):
                return True
            if isinstance(e, gast.Name) and isinstance(node, gast.FunctionDef):
                vs = values.get(e.id, [])
                return bool(vs) and len(vs) == stores.get(e.id) and all(isinstance(v, gast.List) for v in vs)
            return False
        _LISTS[code] = bool(returns) and all(r is not None and is_list(r) for r in returns)
    return _LISTS[code]


_SEQ = {}


def sequence_sources(fun):
    """Which parameters ``fun`` may return as a list or tuple, or None when it may build one.

    Syntactic: a result of ``-``, ``/``, ``@``, ``**``, a comparison, a NumPy call or a rule is
    never a list or tuple; ``+`` and ``*`` are not when their operands are not; a local is not
    when nothing it is bound to is; a returned parameter is what the caller passed. ``()`` means
    the result is never a sequence; ``("x",)`` that it is one only if the caller's ``x`` is.
    """
    return _per_code(_SEQ, fun, None, _node_sequence_sources)


def _node_sequence_sources(node, scope):
    params = [a.id for a in node.args.args]
    if isinstance(node, gast.Lambda):
        returns, bindings = [node.body], {}
    else:
        returns = [n.value for n in _walk_own(node) if isinstance(n, gast.Return)]
        bindings = _local_bindings(node, augmented=True)
    found = set()

    def plain(e, seen):
        """True if ``e`` is no list or tuple (parameters it may be are added to ``found``)."""
        if e is None:
            return False
        if isinstance(e, gast.Constant):
            return not isinstance(e.value, (str, bytes, tuple))
        if isinstance(e, gast.Compare):
            return True
        if isinstance(e, gast.UnaryOp):
            return True
        if isinstance(e, gast.BinOp):
            if not isinstance(e.op, (gast.Add, gast.Mult)):
                return True
            return plain(e.left, seen) and plain(e.right, seen)
        if isinstance(e, gast.IfExp):
            return plain(e.body, seen) and plain(e.orelse, seen)
        if isinstance(e, gast.Name):
            if e.id in seen:
                return True           # a cycle (h = layer(h)): the other bindings decide
            if e.id in params and e.id not in bindings:
                found.add(e.id)
                return True
            values = bindings.get(e.id)
            if not values:
                return False
            if e.id in params:
                found.add(e.id)
            return all(plain(v, seen | {e.id}) for v in values)
        if isinstance(e, gast.Call):
            dotted = dotted_name(e.func)
            obj = resolve_dotted(scope, dotted) if dotted and dotted.split(".")[0] not in bindings \
                and dotted.split(".")[0] not in params else MISSING
            if obj is MISSING or obj in LIST_RESULTS or obj in (list, tuple):
                return False
            module = getattr(obj, "__module__", None) or ""
            try:
                ruled = rule_for(obj) is not None
            except TypeError:
                ruled = False
            if in_packages(module, ("numpy", "cupy", "scipy", "knetc", "math")) or ruled:
                return True
            if hasattr(obj, "__code__"):
                inner = sequence_sources(obj)
                if inner is None:
                    return False
                names = list(obj.__code__.co_varnames[:obj.__code__.co_argcount])
                for p in inner:
                    i = names.index(p)
                    if i >= len(e.args) or not plain(e.args[i], seen):
                        return False
                return True
            return False
        return False

    if not returns or not all(plain(r, frozenset()) for r in returns):
        return None
    return tuple(p for p in params if p in found)


def _load(name):
    return gast.Name(id=name, ctx=gast.Load(), annotation=None, type_comment=None)
