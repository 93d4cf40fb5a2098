"""The differentiated arguments on the tape: boxed on entry, the caller's containers plain after.

The arguments' leaves are replaced by input boxes (:func:`box_tree`); a snapshot keeps the
structure they had on entry, which the gradient takes. After the run, the caller's lists
and dicts (the arguments', the closure's, the module's) hold plain values again, never
boxes (:func:`restore_callers`), also inside tuples stored in them, nor do the closure cells,
module globals and object attributes (``self.h = ...``) the function wrote.
"""
import functools
import types

import numpy as np

from .box import Box
from .structure import flatten_one_level, is_record, tree_map


# --- parameters --------------------------------------------------------------------------

def box_tree(x, trace):
    """``x`` with every leaf replaced by an input box of ``trace`` (in leaf order)."""
    nodes = trace.nodes

    def box(leaf):
        nodes.append(None)
        return Box(leaf, trace, len(nodes) - 1)
    return tree_map(box, x)


class _Snapshot:
    """A boxed container as it was handed to the function: the object and its items then."""

    __slots__ = ("obj", "items")

    def __init__(self, obj, items):
        self.obj = obj
        self.items = items


def snapshot(boxed):
    """The containers of a boxed argument before the call (the boxes themselves are shared).

    The gradient is gathered from this, not from the containers the function
    may have written into (``w[0] = 2 * w[0]`` must not make the adjoint of
    the new value the gradient of the old one).
    """
    cls = type(boxed)
    if cls is dict:
        return _Snapshot(boxed, {k: snapshot(v) for k, v in boxed.items()})
    if cls is list or isinstance(boxed, tuple):
        return _Snapshot(boxed, [snapshot(v) for v in boxed])
    if is_record(boxed):
        return _Snapshot(boxed, [snapshot(v) for v in flatten_one_level(boxed)[0]])
    return boxed


def as_tree(snap):
    """The snapshot as plain lists and dicts of the input boxes (for gathering)."""
    if type(snap) is not _Snapshot:
        return snap
    items = snap.items
    if type(items) is dict:
        return {k: as_tree(v) for k, v in items.items()}
    return [as_tree(v) for v in items]


def _same(value, snap):
    return value is (snap.obj if type(snap) is _Snapshot else snap)


def _write_back(original, boxed, snap, trace):
    """Give the caller's containers the writes the function made into their boxed copies.

    A gradient call has the side effects of one call of the function, as in
    compiled code: ``w[0] = 2 * w[0]`` or ``hs.append(h)`` on a differentiated
    list leaves the plain values in the caller's list.
    """
    if type(snap) is not _Snapshot:
        return
    items = snap.items
    if isinstance(original, list) and type(boxed) is list:
        kept = [i < len(items) and _same(b, items[i]) for i, b in enumerate(boxed)]
        if len(boxed) != len(items) or not all(kept):
            new = [original[i] if keep else unbox_tree(b, trace) for i, (b, keep) in enumerate(zip(boxed, kept))]
            original[:] = new
        for i, keep in enumerate(kept):
            if keep:
                _write_back(original[i], boxed[i], items[i], trace)
    elif isinstance(original, dict) and type(boxed) is dict:
        for k in [k for k in original if k not in boxed]:
            del original[k]
        for k, b in boxed.items():
            if k in items and _same(b, items[k]) and k in original:
                _write_back(original[k], b, items[k], trace)
            else:
                original[k] = unbox_tree(b, trace)
    elif isinstance(original, tuple) and isinstance(boxed, tuple):
        for o, b, sn in zip(original, boxed, items):
            _write_back(o, b, sn, trace)
    elif is_record(original) and type(boxed) is type(original):
        _write_back_record(original, boxed, items, trace)


def _write_back_record(original, boxed, items, trace):
    """``p.w = ...`` on a boxed dataclass: the caller's object gets the plain value."""
    originals, keys, _ = flatten_one_level(original)
    for o, b, sn, key in zip(originals, flatten_one_level(boxed)[0], items, keys):
        if _same(b, sn):
            _write_back(o, b, sn, trace)
        elif type(key).__name__ == "GetAttrKey":
            object.__setattr__(original, key.idx, unbox_tree(b, trace))


_OBJECT_DEPTH = 3      # how many plain objects deep attributes are scrubbed (self.h, self.cell.h)
_NOT_SCRUBBED = (types.ModuleType, type, types.FunctionType, types.MethodType, types.BuiltinFunctionType)


def _scrub(x, trace, seen, depth=_OBJECT_DEPTH):
    """Replace, in place, the boxes of ``trace`` that the function stored in the
    caller's lists and dicts (``s[0] = lstm(...)`` on a state list) and in the
    attributes of its objects (``self.h = np.tanh(...)``) by their values."""
    if id(x) in seen:
        return
    if isinstance(x, (list, dict)):
        seen.add(id(x))
        for k, v in (enumerate(x) if isinstance(x, list) else list(x.items())):
            if type(v) is Box:
                if v._trace is trace:
                    x[k] = unbox_tree(v, trace)
            elif isinstance(v, tuple):
                x[k] = _scrubbed_tuple(v, trace, seen)
            else:
                _scrub(v, trace, seen, depth)
    elif isinstance(x, tuple):
        _scrubbed_tuple(x, trace, seen)
    elif is_record(x):
        seen.add(id(x))
        for v in flatten_one_level(x)[0]:
            _scrub(v, trace, seen, depth)
    elif depth > 0 and not isinstance(x, _NOT_SCRUBBED) and type(x) is not Box:
        try:
            attributes = getattr(x, "__dict__", None)
        except Exception:      # a proxy whose referent is gone, an object refusing attribute access
            return
        if type(attributes) is dict:
            seen.add(id(x))
            _scrub(attributes, trace, seen, depth - 1)


def _scrubbed_tuple(t, trace, seen):
    """``t``, or a new tuple of the same type with the boxes of ``trace`` in it (also in
    nested tuples) replaced by their values (``s[0] = (h, c)`` on a state list); the lists
    and dicts in it are scrubbed in place."""
    items, changed = [], False
    for v in t:
        if type(v) is Box and v._trace is trace:
            v, changed = unbox_tree(v, trace), True
        elif isinstance(v, tuple):
            w = _scrubbed_tuple(v, trace, seen)
            changed, v = changed or w is not v, w
        else:
            _scrub(v, trace, seen)
        items.append(v)
    if not changed:
        return t
    return type(t)(*items) if hasattr(type(t), "_fields") else type(t)(items)


def restore_callers(fun, args, kwargs, argnums, boxed, snaps, trace):
    """After the run: the caller's containers (the arguments', and those the
    function's closure holds) contain plain values, never boxes of ``trace``."""
    seen = set()
    for i in argnums:
        _write_back(args[i], boxed[i], snaps[i], trace)
    for i, a in enumerate(args):
        if i not in argnums:
            _scrub(a, trace, seen)
    for a in (kwargs or {}).values():
        _scrub(a, trace, seen)
    _scrub_callable(fun, trace, seen, 3)


def _scrub_callable(fun, trace, seen, depth):
    """Scrub what ``fun`` (a function, a bound method, a partial) can reach: its bound values,
    closure cells and the module globals its code names, and so for the functions in its
    closure (``hvp`` and ``hessian`` wrap the user's function in one)."""
    for f in _wrapped_functions(fun, trace, seen):
        if id(f) in seen:
            continue
        seen.add(id(f))
        _scrub_closure(f, trace, seen, depth)
        _scrub_globals(f, trace, seen)


def _wrapped_functions(fun, trace, seen):
    """``fun`` and the functions behind its partials and bound methods, whose bound
    values (``self`` of ``m.loss``) are scrubbed on the way."""
    out = [fun]
    for _ in range(8):
        if isinstance(fun, functools.partial):
            for v in (*fun.args, *fun.keywords.values()):
                _scrub(v, trace, seen)
            fun = fun.func
        elif isinstance(fun, types.MethodType):
            _scrub(fun.__self__, trace, seen)
            fun = fun.__func__
        else:
            break
        out.append(fun)
    return out


def _scrub_globals(fun, trace, seen):
    """Scrub the module-level lists and dicts the function's code names (``SEEN.append(v)``)."""
    code = getattr(fun, "__code__", None)
    space = getattr(fun, "__globals__", None)
    if code is None or not isinstance(space, dict) or str(space.get("__name__", "")).startswith("knetc."):
        return          # knetc's own wrappers (hvp's inner gradient) keep no user state
    for name in _global_names(code):
        value = space.get(name)
        if type(value) is Box:               # global g; g = x * 2
            if value._trace is trace:
                space[name] = unbox_tree(value, trace)
        elif not isinstance(value, _NOT_SCRUBBED):
            _scrub(value, trace, seen)


_GLOBAL_NAMES = {}


def _global_names(code):
    """The global names read by ``code`` and the code nested in it (cached)."""
    names = _GLOBAL_NAMES.get(code)
    if names is None:
        found, stack = set(), [code]
        while stack:
            c = stack.pop()
            found.update(c.co_names)
            stack.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
        if len(_GLOBAL_NAMES) > 4096:
            _GLOBAL_NAMES.clear()
        names = _GLOBAL_NAMES[code] = tuple(sorted(found))
    return names


def _scrub_closure(fun, trace, seen, depth):
    """Scrub ``fun``'s closure cells and what they hold, and the functions it closes over."""
    for cell in getattr(fun, "__closure__", None) or ():
        try:
            contents = cell.cell_contents
        except ValueError:         # an empty cell
            continue
        if type(contents) is Box:            # nonlocal cnt; cnt = np.sum(x)
            if contents._trace is trace:
                cell.cell_contents = unbox_tree(contents, trace)
        elif isinstance(contents, (types.FunctionType, types.MethodType, functools.partial)):
            if depth > 1:
                _scrub_callable(contents, trace, seen, depth - 1)
        elif not isinstance(contents, _NOT_SCRUBBED):
            _scrub(contents, trace, seen)


def unbox_tree(x, trace):
    """``x`` with the boxes of ``trace`` (at any depth of containers) replaced by their values."""
    if type(x) is Box:
        return x._value if x._trace is trace else x
    return tree_map(lambda v: v._value if type(v) is Box and v._trace is trace else v, x)


def containers_copy(x):
    """``x`` with its lists, tuples, dicts and records copied (the leaves shared)."""
    return tree_map(lambda v: v, x)


def entry_structure(v):
    """``v``'s containers as the caller passed them (the gradient takes this structure even when
    the function appends to a list argument); a list of arrays, the common case, costs one copy."""
    cls = type(v)
    if cls is np.ndarray:
        return v
    if cls is list:
        for e in v:
            if type(e) is not np.ndarray:
                return containers_copy(v)
        return v[:]
    return containers_copy(v)
