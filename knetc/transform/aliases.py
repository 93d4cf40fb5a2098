"""Which objects a name may hold, which names are live: the facts a write into an object needs.

The IR models arrays as values (``a[i] = v`` becomes ``a = setitem_array(a, i, v)``,
``a += b`` becomes ``a = a + b``) and lists and dicts as objects written in
place. Both are exact only when no other name, container or caller can observe
the object being written. This module computes, for each statement:

* ``objects_before(s)``: name -> the abstract objects it may hold just before
  ``s``. An abstract object is a ``("new", site)`` pair for an object created
  by the statement ``site`` (a new array, list, dict), ``IMMUTABLE`` for
  numbers and other values that cannot be written, ``("arg", p)`` for what the
  caller passed as parameter ``p``, ``OUTER`` (a global or a closure value),
  ``ELEMENT`` (something taken out of a container) and ``OPAQUE`` (the result
  of a call the compiler does not see into);
* ``reachable_before(s, objects)``: those objects and everything stored in them
  (a list built here holds the objects of its elements, until it is dead);
* ``escaped_before(s)``: the new objects that, before ``s``, were stored where
  the compiler does not follow them (captured by a nested function, given to an
  unknown method, stored into a container that came from outside);
* ``live_after(s)``: the names that may be read after ``s``.

Consumes the IR after the containers pass, with its kinds. It changes nothing.
"""

from . import ir
from .results import new_object
from .returns import returns_new_object

IMMUTABLE = "immutable"
OUTER = "outer"
ELEMENT = "element"
OPAQUE = "opaque"

class Aliases:
    """Objects, escapes and liveness of one function's IR (see module docstring)."""

    def __init__(self, body, params, outer, kinds, local_names, live_at_end):
        self.kinds = kinds
        self.locals = local_names
        self.outer = set(outer)
        self._before = {}
        self._escaped = {}
        self._live = {}
        # nested functions that always return new values, and are never rebound
        defs = [s for s in ir.walk(body) if isinstance(s, ir.LocalDef)]
        bound = [n for s in ir.walk(body) for n in _defs(s)]
        self.fresh_defs = {s.name for s in defs if s.fresh and bound.count(s.name) == 1}
        state = {p: frozenset({("arg", p)}) for p in params}
        for name in self.outer:
            state[name] = frozenset({OUTER})
        self._run(body, state, frozenset())
        self._live_block(body, frozenset(live_at_end))

    # ---- queries ---------------------------------------------------------------
    def objects_before(self, s, name):
        """The abstract objects ``name`` may hold just before ``s``."""
        return self._before.get(id(s), {}).get(name, frozenset())

    def holders_before(self, s):
        """name -> objects, for every name bound before ``s``."""
        return {k: v for k, v in self._before.get(id(s), {}).items() if isinstance(k, str)}

    def reachable_before(self, s, objects):
        """``objects`` and, transitively, what was stored in them before ``s``."""
        state = self._before.get(id(s), {})
        seen, todo = set(objects), list(objects)
        while todo:
            for o in state.get(("@", todo.pop()), ()):
                if o not in seen:
                    seen.add(o)
                    todo.append(o)
        return frozenset(seen)

    def escaped_before(self, s):
        return self._escaped.get(id(s), frozenset())

    def live_after(self, s):
        return self._live.get(id(s), frozenset())

    # ---- forward: objects ------------------------------------------------------------
    def _record(self, s, state, escaped):
        old = self._before.get(id(s))
        self._before[id(s)] = state if old is None else _join(old, state)
        self._escaped[id(s)] = self._escaped.get(id(s), frozenset()) | escaped

    def _run(self, block, state, escaped):
        for s in block:
            self._record(s, state, escaped)
            if isinstance(s, ir.If):
                a = self._run(s.body, state, escaped)
                b = self._run(s.orelse, state, escaped)
                state, escaped = _join(a[0], b[0]), a[1] | b[1]
            elif isinstance(s, (ir.For, ir.While)):
                if isinstance(s, ir.For):
                    state = dict(state)
                    state[s.target] = frozenset({IMMUTABLE})
                for _ in range(20):
                    out, out_escaped = self._run(s.body, state, escaped)
                    new, new_escaped = _join(state, out), escaped | out_escaped
                    if new == state and new_escaped == escaped:
                        break
                    state, escaped = new, new_escaped
            else:
                state, escaped = self._transfer(s, state, escaped)
        return state, escaped

    def _of(self, atom, state):
        if atom in state:
            return state[atom]
        if atom in self.locals:
            return frozenset()            # not bound yet
        try:
            compile(atom, "<atom>", "eval")
        except SyntaxError:
            return frozenset({OPAQUE})
        if atom.replace(".", "").replace("_", "").isalnum() and not atom[0].isdigit():
            return frozenset({OUTER})     # a global (np.pi, a module-level array)
        return frozenset({IMMUTABLE})     # a literal

    def _transfer(self, s, state, escaped):
        if isinstance(s, (ir.Assign, ir.LocalDef)):
            # The object this statement creates is a new one on each pass: what an earlier
            # pass created (and stored, or left in another name) becomes an "old" object.
            state, escaped = _age(state, escaped, id(s))
        if isinstance(s, ir.Assign):
            e = s.expr
            site = frozenset({("new", id(s))})
            if s.write:
                objects = self._of(s.target, state) | self._of(ir.reads(e)[0], state) if s.write == "augmented" \
                    else self._of(s.target, state)
            elif isinstance(e, ir.Copy):
                objects = self._of(e.src, state)
            elif isinstance(e, ir.Const):
                objects = site
            elif isinstance(e, ir.Op):
                if e.fun in (list, tuple):      # a shallow copy: new, holding the same elements
                    objects = site
                    state = _store(state, site, _contents(state, frozenset().union(
                        *(self._of(a, state) for a in e.args))))
                elif new_object(e.fun, e.label, e.kwargs):
                    objects = site
                else:
                    passed = frozenset().union(*(self._of(a, state) for a in e.args))
                    objects = site | passed
                    if e.fun is None:
                        objects |= {OPAQUE}
                        escaped = escaped | _new_in(objects)
                    elif self.kinds.of(s.target) in ("list", "tuple"):
                        # np.split(y, 2): a new list whose elements may be views of y
                        state = _store(state, site, passed)
            elif isinstance(e, ir.Subscript):
                kind = self.kinds.of(e.obj)
                if kind == "array":
                    objects = self._of(e.obj, state) | site      # a view, or a copy for fancy indices
                elif kind in ("list", "tuple") and ":" in e.index_src:
                    objects = site
                    state = _store(state, site, _contents(state, self._of(e.obj, state)))
                elif kind in ("list", "tuple", "dict"):
                    # an element of a container built here: one of the objects stored in it
                    held = self._of(e.obj, state)
                    tracked = held and all(isinstance(o, tuple) and o[0] in ("new", "old")
                                           and ("@", o) in state for o in held)
                    # else an element from outside, or of a call's result (which may be a view
                    # of what the call was given: what the container is known to hold)
                    objects = (_contents(state, held) or frozenset({ELEMENT})) if tracked \
                        else frozenset({ELEMENT}) | _contents(state, held)
                else:
                    objects = self._of(e.obj, state) | {ELEMENT}
            elif isinstance(e, ir.Build):
                objects = site
                state = _store(state, site, frozenset().union(*(self._of(a, state) for a in e.elts)))
            elif isinstance(e, ir.HelperCall):
                passed = frozenset().union(*(self._of(a, state) for a in ir.reads(e)))
                fresh = returns_new_object(e.fun) if e.fun is not None else e.func in self.fresh_defs
                objects = site if fresh else frozenset({OPAQUE}) | passed
                if not fresh and self.kinds.of(s.target) in ("list", "tuple", "unknown"):
                    state = _store(state, site, passed)     # its elements may be views of its arguments
                    objects = objects | site
                if e.mutated:       # it may store what it was given (or anything) into the containers it writes
                    for m in e.mutated:
                        state, escaped = self._store_into(state, escaped, m, _new_in(passed) | {OPAQUE})
            else:
                objects = frozenset({OPAQUE})
            state = dict(state)
            state[s.target] = objects
        elif isinstance(s, (ir.SetItem, ir.Append)) and not getattr(s, "pop", False):
            state, escaped = self._store_into(state, escaped, s.obj, self._of(s.value, state))
        elif isinstance(s, ir.LocalDef):
            state = dict(state)
            state[s.name] = frozenset({("new", id(s))})
            escaped = escaped | _new_in(frozenset().union(*(self._of(a, state) for a in s.free)))
        return state, escaped

    def _store_into(self, state, escaped, container, objects):
        """``container``'s objects now hold ``objects`` too (or they escape, for containers from outside)."""
        for c in self._of(container, state):
            if isinstance(c, tuple) and c[0] in ("new", "old"):
                state = _store(state, frozenset({c}), objects)
            else:
                escaped = escaped | _new_in(objects)
        return state, escaped

    # ---- backward: liveness ----------------------------------------------------------
    def _live_block(self, block, live):
        for s in reversed(block):
            self._live[id(s)] = self._live.get(id(s), frozenset()) | live
            if isinstance(s, ir.If):
                live = self._live_block(s.body, live) | self._live_block(s.orelse, live) | {s.test}
            elif isinstance(s, (ir.For, ir.While)):
                head = live | ({s.seq} if isinstance(s, ir.For) else {s.count})
                for _ in range(20):
                    inner = self._live_block(s.body, head)
                    if isinstance(s, ir.For):
                        inner = inner - {s.target}
                    new = head | inner
                    if new == head:
                        break
                    head = new
                live = head
            else:
                live = (live - frozenset(_defs(s))) | frozenset(_uses(s))
        return live


def _defs(s):
    if isinstance(s, ir.Assign):
        return [s.target]
    if isinstance(s, ir.LocalDef):
        return [s.name]
    return []


def _uses(s):
    if isinstance(s, ir.Assign):
        return ir.reads(s.expr) + ([s.target] if s.write else [])
    if isinstance(s, ir.SetItem):
        return [s.obj, s.value] + list(s.atoms)
    if isinstance(s, ir.Append):
        return [s.obj, s.value]
    if isinstance(s, ir.Effect):
        return list(s.atoms)
    if isinstance(s, ir.LocalDef):
        return list(s.free)
    return []


def _new_in(objects):
    return frozenset(o for o in objects if isinstance(o, tuple) and o[0] in ("new", "old"))


def _store(state, containers, objects):
    state = dict(state)
    for c in containers:
        key = ("@", c)
        state[key] = state.get(key, frozenset()) | objects
    return state


def _contents(state, containers):
    return frozenset().union(*(state.get(("@", c), frozenset()) for c in containers))


def _age(state, escaped, site):
    new, old = ("new", site), ("old", site)
    if new not in escaped and not any(new in v or k == ("@", new) for k, v in state.items()):
        return state, escaped
    aged = {}
    for k, v in state.items():
        k = ("@", old) if k == ("@", new) else k
        v = (v - {new}) | {old} if new in v else v
        aged[k] = aged[k] | v if k in aged else v
    return aged, (escaped - {new}) | {old} if new in escaped else escaped


def _join(a, b):
    out = dict(a)
    for k, v in b.items():
        out[k] = out[k] | v if k in out else v
    return out
