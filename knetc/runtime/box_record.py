"""Recording one operation on a trace: the node, its rule, the boxes it depends on.

:func:`record` (NumPy functions, methods, library functions) and :func:`apply` (ufuncs)
unbox the arguments at the highest trace among them, check that every differentiated
argument has a VJP (or a declared zero derivative) and that no option the rule does not
model was passed, call the function on the values and append the node
``(rule, ans, args, kwargs, parents)``. The operators of :class:`~knetc.runtime.box.Box`
go through :func:`_binop`/:func:`_unop`, primitives through :func:`primitive_hook`.
Arrays a node keeps are frozen (read-only) until the traced function returns.
"""
import numpy as np

from . import binding
from .rules import Rule, is_nondiff, rule_for
from .tree import zeros_like_tree
from . import box
from .box import Box, deep_unbox, deep_value, has_box
from .box_errors import NoRuleError, name_of, no_rule

_ndarray = np.ndarray


# --- recording ----------------------------------------------------------------

def _top_in(x, top):
    """The highest trace among ``top`` and the boxes inside ``x``."""
    cls = type(x)
    if cls is Box:
        t = x._trace
        return t if top is None or t.level > top.level else top
    if cls is list or cls is tuple:
        for v in x:
            top = _top_in(v, top)
    elif cls is dict:
        for v in x.values():
            top = _top_in(v, top)
    return top


def _unbox_in(x, top, path, subs):
    """``x`` with the boxes of ``top`` replaced by their values; records (path, index) in ``subs``."""
    cls = type(x)
    if cls is Box:
        if x._trace is top:
            subs.append((path, x._idx))
            return x._value
        return x
    if cls is list or cls is tuple:
        out = [_unbox_in(v, top, path + (i,), subs) for i, v in enumerate(x)]
        return out if cls is list else tuple(out)
    if cls is dict:
        return {k: _unbox_in(v, top, path + (k,), subs) for k, v in x.items()}
    return x



def call(fun, args, kwargs=None):
    """Call ``fun`` on possibly boxed arguments through the rule table.

    With a rule, the call is recorded on the highest trace among the
    arguments; for a non-differentiable function, the plain values are used
    and the result is a constant; otherwise :class:`NoRuleError`.
    """
    rule = rule_for(fun)
    if rule is None:
        if is_nondiff(fun):
            kwargs = deep_unbox(kwargs) if kwargs else {}
            return fun(*deep_unbox(tuple(args)), **kwargs)
        raise no_rule(fun)
    return record(fun, rule, args, kwargs)


def _has_vjp(vjps, i):
    return i < len(vjps) and vjps[i] is not None


def _argument_name(rule, argnum):
    """``argument 2 (a_min)`` or ``a_min=``: a call argument as the user knows it."""
    if type(argnum) is str:
        return f"the keyword argument {argnum}="
    plan = binding.plan_of(rule)
    names = plan.fun_positional or [(n, None) for n in plan.positional]
    name = f" ({names[argnum][0]})" if argnum < len(names) else ""
    return f"argument {argnum + 1}{name}"


def _no_vjp(rule, argnum):
    """A traced value reached an argument that the rule has no derivative for."""
    return NoRuleError(
        f"knetc: {rule.name} was called with a traced (differentiated) value as "
        f"{_argument_name(rule, argnum)}, but its derivative rule has no VJP for that argument"
        f"{binding.where_text()}; the gradient would silently be zero. Give it one with "
        f"knetc.defvjp, or pass a constant there", construct=rule.name)


def _unmodelled(rule, vals, kwargs):
    """Refuse a call passing an argument the rule's VJPs do not model (see binding)."""
    found = binding.unmodelled(rule, vals, kwargs)
    if found is not None:
        what, why = found
        raise NoRuleError(
            f"knetc: {rule.name} with {what} cannot be differentiated: {why}"
            f"{binding.where_text()}", construct=rule.name)


def _keyword_parent(rule, k):
    """The VJP key for a traced keyword argument: its keyword VJP, or the position it binds to."""
    if rule.kwvjps.get(k) is not None:
        return k
    plan = binding.plan_of(rule)
    if k in plan.positional:
        i = plan.positional.index(k)
        if i in rule.zero_args:
            return None
        if _has_vjp(rule.vjps, i):
            return i
    raise _no_vjp(rule, k)


def record(fun, rule, args, kwargs=None):
    """Record ``fun(*args, **kwargs)`` with ``rule``; boxes may sit inside containers.

    A traced value at an argument the rule has no VJP for is an error, unless
    the rule declares that argument's derivative zero (``ZERO_DERIVATIVE``);
    so is an optional argument the rule does not model (see
    :mod:`knetc.runtime.binding`). A differentiated argument passed by
    keyword is moved to its position first.
    """
    top = None
    for a in args:
        top = _top_in(a, top)
    if kwargs:
        for a in kwargs.values():
            top = _top_in(a, top)
    if top is None:
        return fun(*args, **(kwargs or {}))
    if kwargs:
        args, kwargs = binding.canonical(rule, args, kwargs)
    vals = list(args)
    parents = []
    vjps = rule.vjps
    zero = rule.zero_args
    for i, a in enumerate(args):
        cls = type(a)
        if cls is Box:
            if a._trace is top:
                vals[i] = a._value
                if i in zero:
                    pass
                elif _has_vjp(vjps, i):
                    parents.append((i, a._idx))
                else:
                    raise _no_vjp(rule, i)
        elif cls is list or cls is tuple or cls is dict:
            subs = []
            vals[i] = _unbox_in(a, top, (), subs)
            if subs and i not in zero:
                if _has_vjp(vjps, i):
                    parents.append((i, tuple(subs)))
                else:
                    raise _no_vjp(rule, i)
    if kwargs:
        ukw = {}
        for k, a in kwargs.items():
            subs = []
            ukw[k] = _unbox_in(a, top, (), subs)
            if subs:
                key = _keyword_parent(rule, k)
                if key is not None:
                    parents.append((key, subs[0][1] if type(a) is Box else tuple(subs)))
        kwargs = ukw
    else:
        kwargs = None
    try:
        ans = fun(*vals, **kwargs) if kwargs else fun(*vals)
    except ValueError as e:
        if "WRITEABLE" not in str(e):
            raise
        # a view made before its base was frozen (read-only while the tape runs) claims to be
        # writeable, and NumPy refuses to make a writeable view of it (np.meshgrid,
        # np.broadcast_arrays): run on copies of the read-only views
        vals = [_thawed_copy(v) for v in vals]
        ans = fun(*vals, **kwargs) if kwargs else fun(*vals)
    if not parents:
        return ans
    _unmodelled(rule, vals, kwargs)
    return _new_node(top, rule, ans, vals, kwargs, parents)


def _thawed_copy(v):
    if type(v) is _ndarray and v.base is not None:
        return v.copy()
    return v


def apply(fun, rule, args, kwargs=None):
    """Record ``fun(*args)`` where boxes can only be direct positional arguments (ufuncs)."""
    top = None
    for a in args:
        if type(a) is Box:
            t = a._trace
            if top is None or t.level > top.level:
                top = t
    vals = list(args)
    parents = []
    vjps = rule.vjps
    for i, a in enumerate(args):
        if type(a) is Box and a._trace is top:
            vals[i] = a._value
            if i in rule.zero_args:
                continue
            if _has_vjp(vjps, i):
                parents.append((i, a._idx))
            else:
                raise _no_vjp(rule, i)
    ans = fun(*vals, **kwargs) if kwargs else fun(*vals)
    if not parents:
        return ans
    if kwargs:
        _unmodelled(rule, vals, kwargs)
        if binding.plan_of(rule).ufunc_nin is not None:
            # defaults and order= need not reach the VJPs; a declared option must (vecdot's axis=)
            kwargs = {k: v for k, v in kwargs.items() if k in (rule.keywords or ())}
    return _new_node(top, rule, ans, vals, kwargs or None, parents)


def _binop(ufunc, op, x, y):
    """Record the operator ``op`` (computed as written) with the rule of ``ufunc``."""
    tx = x._trace if type(x) is Box else None
    ty = y._trace if type(y) is Box else None
    if tx is None or (ty is not None and ty.level > tx.level):
        top = ty
    else:
        top = tx
    rule = rule_for(ufunc)
    if rule is None:
        if is_nondiff(ufunc):
            return op(deep_value(x), deep_value(y))
        raise no_rule(ufunc)
    vjps = rule.vjps
    if tx is top:
        xv = x._value
        if ty is top:
            yv = y._value
            if len(vjps) >= 2 and vjps[0] is not None and vjps[1] is not None:
                parents = ((0, x._idx), (1, y._idx))
            else:
                parents = tuple((i, b._idx) for i, b in ((0, x), (1, y)) if _has_vjp(vjps, i)
                                or _no_vjp_unless_zero(rule, i))
        else:
            yv = y
            parents = ((0, x._idx),) if vjps and vjps[0] is not None else _none_unless_zero(rule, 0)
    else:
        xv = x
        yv = y._value
        parents = ((1, y._idx),) if _has_vjp(vjps, 1) else _none_unless_zero(rule, 1)
    ans = op(xv, yv)
    if not parents:
        return ans
    if tx is not top:
        _freeze(top, xv)
    elif ty is not top:
        _freeze(top, yv)
    nodes = top.nodes
    nodes.append((rule, ans, (xv, yv), None, parents))
    return Box(ans, top, len(nodes) - 1)


def _none_unless_zero(rule, i):
    """No parents, when argument ``i``'s derivative is declared zero; else the no-VJP error."""
    if i in rule.zero_args:
        return ()
    raise _no_vjp(rule, i)


def _no_vjp_unless_zero(rule, i):
    _none_unless_zero(rule, i)
    return False


def _freeze(top, v):
    """Make an untraced array a node keeps read-only until the function returns."""
    if type(v) is _ndarray and v.flags.writeable:
        v.flags.writeable = False
        top.frozen.append(v)


def _unop(ufunc, op, x):
    rule = rule_for(ufunc)
    if rule is None:
        if is_nondiff(ufunc):
            return op(deep_value(x))
        raise no_rule(ufunc)
    xv = x._value
    ans = op(xv)
    if not rule.vjps or rule.vjps[0] is None:
        _none_unless_zero(rule, 0)
        return ans
    top = x._trace
    nodes = top.nodes
    nodes.append((rule, ans, (xv,), None, ((0, x._idx),)))
    return Box(ans, top, len(nodes) - 1)


def _select_vjp(g, ans, whole, k):
    """Adjoint of element ``k`` of a tuple-valued result: g there, zeros elsewhere."""
    out = zeros_like_tree(deep_unbox(list(whole)))
    out[k] = g
    return out


_SELECT = Rule(None, "element of a tuple result", (_select_vjp,), {})


def _new_node(top, rule, ans, vals, kwargs, parents):
    # A node keeps references to its untraced array arguments; writing into one
    # later would silently change the gradient, so they are frozen until the
    # function returns (an in-place update then raises; see tape_run.run).
    for v in vals:
        _freeze(top, v)
    nodes = top.nodes
    nodes.append((rule, ans, vals, kwargs, tuple(parents)))
    idx = len(nodes) - 1
    cls = ans.__class__
    if cls is tuple or cls is list or isinstance(ans, tuple):  # several results: one box each
        items = []
        for k, v in enumerate(ans):
            nodes.append((_SELECT, v, (ans, k), None, ((0, idx),)))
            items.append(Box(v, top, len(nodes) - 1))
        if cls is list or cls is tuple:
            return items if cls is list else tuple(items)
        return cls(*items)           # a named tuple (np.linalg.eigh's EighResult...)
    return Box(ans, top, idx)


def primitive_hook(prim, args, kwargs):
    """The hook :class:`~knetc.runtime.rules.Primitive` calls while a trace is active."""
    if not (has_box(args) or (kwargs and has_box(kwargs))):
        return prim.fun(*args, **kwargs)
    rule = rule_for(prim)
    if rule is None:
        if is_nondiff(prim):
            return prim.fun(*deep_unbox(args), **deep_unbox(kwargs))
        raise NoRuleError(
            f"knetc: primitive {name_of(prim)} was called with a traced (differentiated) value "
            f"but has no VJP{binding.where_text()}; give it one with knetc.defvjp or "
            f"@{getattr(prim, '__name__', 'f')}.defvjp", construct=name_of(prim))
    return record(prim, rule, args, kwargs)


box.provide(_binop=_binop, _unop=_unop, apply=apply, call=call, record=record)
