"""The fence: refuse what the compiler has no model of, before anything is emitted.

Consumes the IR after the containers pass (``Unit.body`` with ``Unit.kinds``),
the function's parameters, closure variables and differentiated parameters.
Raises :class:`~knetc.UnsupportedError` naming the construct and the user's
``file:line`` for:

* an expression statement calling something with no rule that is not a
  vetted effect (``print``) and receives a local value (it may write into it);
* a write into an object that someone else may observe: item assignment,
  ``append``/``extend``, a helper writing into its argument, through a name
  that may alias another live name, a view, the caller's array, a global or
  closure value, a container's element, or an object stored in a container;
* a loop whose body writes into the container it iterates over (Python's
  iterator would see the change);
* a nested function with ``nonlocal``/``global``, or writing into the
  enclosing function's lists and dicts;
* a function closing over a differentiated value that escapes (returned,
  stored, passed on), and a call of a function value computed from a
  differentiated value or handed a differentiated container it may write into.

For ``a += b`` where ``a`` may be shared (an argument, a helper's result, an
element, or an object with live aliases) it inserts a runtime check: Python
rebinds a number, which the compiled ``a = a + b`` matches, but updates an
array in place, which it would not; the check raises for a mutable array.

Likewise ``a + b`` and ``a * n`` where ``a``'s kind is unknown (a helper's
result that may be a list or tuple) get a runtime check that it is not a
sequence, which Python would concatenate or repeat.

:func:`check` is the fence pass; :func:`refuse_traced_callees` runs after
the activity pass (a call of a callable made from differentiated values).

Guarantees: every write the emitter sees goes to an object only the written
name reaches, so modelling it as a value (arrays) or in place (lists, dicts)
is exact.
"""
import types

import numpy as np

from . import ir
from .aliases import ELEMENT, IMMUTABLE, OPAQUE, OUTER, Aliases
from .analysis import dependents, forward_active
from .returns import sequence_sources
from ..runtime import inplace
from .effects import array_written_params, mutated_params, refuse_effectful_callee, writes_outside


def check(unit):
    """Run the fence over ``unit`` (see module docstring); may insert runtime checks."""
    Fence(unit).run()


def refuse_traced_callees(unit):
    """A call of a function value computed from differentiated values is refused.

    ``g = functools.partial(affine, x)``, ``layer = Affine(x)``,
    ``fs = [make(x[0])]; fs[0](2.0)``: the callable carries ``x`` where the
    compiler cannot see it, so its result would be taken for a constant.
    Callables from outside (globals, arguments, ``for layer in LAYERS``) are fine.
    """
    tainted = dependents(unit.body, unit.active_params, ir.reads)
    for s in ir.walk(unit.body):
        if isinstance(s, ir.Assign) and isinstance(s.expr, ir.HelperCall) and s.expr.fun is None \
                and s.expr.func in tainted:
            raise unit.error_at(s.line, f"calling {s.expr.func}, a function value made from differentiated values",
                                "the compiler cannot see what it holds; pass the values as arguments")


class Fence:
    """The checks of one compile unit (see module docstring)."""

    def __init__(self, unit):
        self.unit = unit
        self.kinds = unit.kinds
        params = list(unit.params)
        self.aliases = Aliases(unit.body, params, unit.freevars, unit.kinds, unit.locals,
                               {unit.result} | set(params) | set(unit.freevars))
        self.active = forward_active(unit.body, unit.active_params)
        self.defs = {s.name: s for s in ir.walk(unit.body) if isinstance(s, ir.LocalDef)}
        self.guards = []      # (statement, atom): check the atom's value before the statement runs
        self.sequence_guards = []   # (statement, atom): check the atom is no list or tuple
        self.callee_guards = []     # (statement, atom): check the function value writes nothing
        self.repeat_guards = []     # (statement, (container, element)): check it holds the element once

    def fail(self, s, construct, detail=None):
        raise self.unit.error_at(s.line, construct, detail)

    def run(self):
        values_read = self._values_read()
        for s in ir.walk(self.unit.body):
            if isinstance(s, ir.Effect):
                self.effect(s)
            elif isinstance(s, ir.Assign):
                self.assign(s)
            elif isinstance(s, (ir.SetItem, ir.Append)):
                if isinstance(s, ir.SetItem) and "slice(" in s.index_value and self.kinds.of(s.obj) == "list":
                    self.fail(s, f"assignment to a slice of the list {s.obj}",
                              "it may change the list's length; build a new list instead")
                self.write(s, s.obj)
                if isinstance(s, ir.SetItem) and s.old:
                    if self._shared_element(s):
                        self.guards.append((s, s.old))
                    elif self.kinds.of(s.obj) in ("list", "dict"):
                        # the element may sit in the container twice ([a, a]): checked when it runs
                        self.repeat_guards.append((s, (s.obj, s.old)))
            elif isinstance(s, ir.LocalDef):
                self.local_def(s, values_read)
            elif isinstance(s, ir.For):
                self.loop(s)
        if self.unit.result in self.defs:
            self.local_def(self.defs[self.unit.result], values_read | {self.unit.result})
        self._insert_guards()

    # ---- statements ------------------------------------------------------------------
    def effect(self, s):
        if s.vetted:
            return
        received = [a for a in s.atoms if a in self.unit.locals]
        if received:
            self.fail(s, f"the call {s.call or s.text}, kept for its effect only",
                      f"it has no derivative rule and receives {', '.join(sorted(set(received)))}, "
                      "which it may write into")

    def assign(self, s):
        e = s.expr
        if (isinstance(e, ir.Op) and e.fun is None and e.label.endswith("()")
                and any(a in self.active for a in ir.reads(e))):
            self.fail(s, f"the method {e.label} on a differentiated value",
                      "it has no derivative rule, and the compiler cannot tell whether it writes "
                      "into its receiver or arguments")
        if isinstance(e, ir.Op) and e.label in ("+", "*"):
            # a list or tuple the kinds could not see (a helper's result) would concatenate or
            # repeat, not add: checked when it runs
            for a in e.args:
                if a in self.unit.locals and self.kinds.of(a) == "unknown" and not self._plain_result(a):
                    self.sequence_guards.append((s, a))
        if s.write == "item":
            self.write(s, s.target, array=True)
        elif s.write == "augmented":
            self.augmented(s)
        if isinstance(e, ir.HelperCall):
            for m in e.mutated:
                self.write(s, m)
            for m in e.array_writes:
                if m not in e.mutated and self.aliases.objects_before(s, m) - {IMMUTABLE}:
                    self.fail(s, f"{e.func}() updating {m} in place",
                              "the compiler models arrays as values: a helper that writes into its "
                              "array argument changes the caller's array; return the new value instead")
            if e.outside and any(a in self.active for a in ir.reads(e)[1:]):
                self.fail(s, f"{e.func}(), which makes {e.outside}, with a differentiated argument",
                          "the compiler does not follow values written outside the function")
            self.computed_call(s, e)

    def augmented(self, s):
        kind = self.kinds.of(s.target)
        if kind == "tuple":
            return          # a tuple is immutable: += rebinds, as compiled
        if kind == "dict":
            self.fail(s, f"augmented assignment to the dict {s.target}")
        problem = self._problem(s, s.target, array=True)
        if problem is None:
            return
        for o in self.aliases.objects_before(s, s.target):
            if isinstance(o, tuple) and o[0] == "arg" and _mutable(self.unit.values.get(o[1])):
                self.fail(s, f"augmented assignment to {s.target}, which {problem}",
                          "Python updates the caller's array in place; write "
                          f"{s.target} = {s.target} + ... for a new array")
        self.guards.append((s, s.target))   # a number is rebound, as compiled: check when it runs

    def write(self, s, name, array=False):
        problem = self._problem(s, name, array)
        if problem is not None:
            what = "assignment into an element of" if array else "a write into"
            if isinstance(s, ir.Append):
                what = "append to"
            elif isinstance(s, ir.Assign) and isinstance(s.expr, ir.HelperCall):
                what = f"{s.expr.func}() writing into"
            self.fail(s, f"{what} {name}, which {problem}",
                      "the compiler models writes into objects only one local name refers to; "
                      "make a copy first (x = x.copy(), xs = list(xs))")

    def _problem(self, s, name, array):
        """Why a write into ``name``'s object at ``s`` may be seen elsewhere, or None."""
        objects = self.aliases.objects_before(s, name)
        for o in objects:
            if o == IMMUTABLE:
                continue
            if o == OUTER:
                return "is a global or a closure value"
            if o == ELEMENT:
                return "is an element of a container"
            if o == OPAQUE:
                return "may be (a view of) another object, as the call that made it returned it"
            if o[0] == "arg" and (array or o[1] != name):
                return f"is (a view of) the caller's argument {o[1]}"
        if objects & self.aliases.escaped_before(s):
            return "is also stored in a container or used by a nested function"
        shared = objects - {IMMUTABLE}
        live = self.aliases.live_after(s)
        rebound = s.target if isinstance(s, ir.Assign) else None     # its old value dies here
        for other, held in self.aliases.holders_before(s).items():
            if other == name or other == rebound or other not in live:
                continue
            shown = other if not other.startswith("_") else "another value"
            if held & shared:
                return f"may be the same object as {shown} (an alias or a view)"
            if self.aliases.reachable_before(s, held) & shared:
                return f"is also stored in {shown}"
        return None

    def _plain_result(self, atom):
        """Whether ``atom`` is bound only by calls of helpers that never return a list or tuple
        (given what this function passes them)."""
        calls = [st.expr for st in ir.walk(self.unit.body) if isinstance(st, ir.Assign) and st.target == atom]
        if not calls or not all(isinstance(e, ir.HelperCall) and e.fun is not None for e in calls):
            return False
        for e in calls:
            sources = sequence_sources(e.fun)
            if sources is None:
                return False
            names = list(e.fun.__code__.co_varnames[:e.fun.__code__.co_argcount])
            passed = dict(zip(names, e.args))
            passed.update(dict(e.kwargs))
            if any(self.kinds.of(passed.get(p, "None")) not in ("array",) for p in sources):
                return False
        return True

    def _shared_element(self, s):
        """For ``obj[i] += v``: whether the element read may be seen other than through ``obj``
        (Python updates an array element in place; the compiled code stores a new one)."""
        objects = self.aliases.objects_before(s, s.old) - {IMMUTABLE}
        if any(not (isinstance(o, tuple) and o[0] in ("new", "old")) for o in objects):
            return True
        if objects & self.aliases.escaped_before(s):
            return True
        live = self.aliases.live_after(s)
        for other, held in self.aliases.holders_before(s).items():
            if other not in (s.obj, s.old) and other in live and \
                    self.aliases.reachable_before(s, held) & objects:
                return True
        return False

    def loop(self, s):
        """A loop must not write into what it iterates over (Python's iterator sees the object)."""
        if not s.iterables:
            return
        iterated = set()
        for xs in s.iterables:
            iterated |= self.aliases.objects_before(s, xs) - {IMMUTABLE}
        for st in ir.walk(s.body):
            for name in _written_names(st):
                held = self.aliases.objects_before(st, name)
                if name in s.iterables or held & iterated:
                    self.fail(st, f"a write into {name} inside a loop over it",
                              "Python's iteration would see the change; iterate over a copy (list(xs))")

    def local_def(self, s, values_read):
        if s.scoped:
            self.fail(s, f"the nested function {s.name} with a {s.scoped} statement")
        if s.writes:
            self.fail(s, f"the nested function {s.name}, which writes into {', '.join(s.writes)} "
                      "of the enclosing function",
                      "pass the list as an argument, or return the new value")
        if s.name in values_read and s.name in self.active:
            active = [a for a in s.free if a in self.active]
            self.fail(s, f"the function {s.name}, which closes over the differentiated "
                      f"{', '.join(active)} and is used as a value (returned, stored or passed on)")

    def computed_call(self, s, e):
        """A call of a function value (a parameter, a helper's result, an element)."""
        if e.fun is not None or e.func in self.defs or e.func not in self.unit.locals:
            return
        if e.func in self.active:
            self.fail(s, f"calling {e.func}, a function computed from a differentiated value")
        passed = list(e.args) + [v for _, v in e.kwargs]
        if not any(a in self.active for a in passed):
            return
        if self._closure_function_writes_nothing(e.func):
            return
        for a in passed:
            if self.kinds.of(a) in ("list", "dict", "unknown"):
                self.fail(s, f"calling {e.func}, a function passed in as a value, with the container {a} "
                          "and a differentiated argument",
                          "the compiler cannot tell whether it writes into the container; call a "
                          "function defined at module level or in this function")
        self.callee_guards.append((s, e.func))      # known only when it runs

    def _closure_function_writes_nothing(self, name):
        """A closure variable holding a Python function that writes into none of its arguments
        and nothing outside (its cell is guarded: a different function compiles again)."""
        if name not in self.unit.freevars:
            return False
        cell = (self.unit.fun.__closure__ or ())[self.unit.freevars.index(name)]
        try:
            fun = cell.cell_contents
        except ValueError:
            return False
        if not isinstance(fun, types.FunctionType):
            return False
        try:
            return not (mutated_params(fun) or array_written_params(fun) or writes_outside(fun))
        except Exception:       # no source, or a construct the analysis does not read
            return False

    # ---- helpers ---------------------------------------------------------------------
    def _values_read(self):
        """Names read as values anywhere (not just called)."""
        out = set()
        for s in ir.walk(self.unit.body):
            if isinstance(s, ir.Assign):
                reads = ir.reads(s.expr)
                if isinstance(s.expr, ir.HelperCall):
                    reads = reads[1:]
                out.update(reads)
            elif isinstance(s, (ir.SetItem, ir.Append)):
                out.add(s.value)
            elif isinstance(s, ir.Effect):
                out.update(s.atoms)
            elif isinstance(s, ir.LocalDef):
                out.update(s.free)
        return out

    def _insert_guards(self):
        self._insert(self.guards, "refuse_shared_update", inplace.refuse_shared_update, before_rhs=True)
        self._insert(self.sequence_guards, "refuse_sequence", inplace.refuse_sequence, before_rhs=False)
        self._insert(self.callee_guards, "refuse_effectful_callee", refuse_effectful_callee, before_rhs=False)
        self._insert(self.repeat_guards, "refuse_repeated_element", inplace.refuse_repeated_element,
                     before_rhs=False)

    def _insert(self, guards, base, check, before_rhs):
        if not guards:
            return
        name = self.unit.runtime_name(base)
        self.unit.helpers[name] = check
        where = {}
        for s, atom in guards:
            where.setdefault(id(s), []).append((atom, s.line))
        for block in ir.blocks(self.unit.body):
            for s in list(block):
                if id(s) not in where:
                    continue
                for atom, line in where[id(s)]:
                    at = f"{self.unit.source.short_filename}:{line}"
                    atoms = list(atom) if isinstance(atom, tuple) else [atom]
                    # before the statement computing the new value (the old object is checked)
                    i = block.index(s)
                    if before_rhs and isinstance(s, ir.Assign) and i > 0 and isinstance(block[i - 1], ir.Assign) \
                            and isinstance(s.expr, ir.Copy) and block[i - 1].target == s.expr.src:
                        i -= 1
                    block.insert(i, ir.Effect(line=line, text=f"{name}({', '.join(atoms)}, {at!r})", atoms=atoms,
                                              call=name, vetted=True))


def _mutable(value):
    """An array (NumPy, CuPy) or a list or dict: something ``+=`` updates in place."""
    return isinstance(value, (list, dict)) or (hasattr(value, "__array_interface__") or
                                               hasattr(value, "__cuda_array_interface__")) \
        and not isinstance(value, np.generic)


def _written_names(s):
    if isinstance(s, (ir.SetItem, ir.Append)):
        return [s.obj]
    if isinstance(s, ir.Assign) and s.write:
        return [s.target]
    if isinstance(s, ir.Assign) and isinstance(s.expr, ir.HelperCall):
        return list(s.expr.mutated)
    return []

