"""Guards: what compiled code assumed at compile time, checked on every call.

Compiled code is specialised on the objects its names denoted when it was
compiled: the rule of ``np.tanh`` is inlined, a helper's write analysis
decides which containers flow through its pullback, a global's kind decides
how it is indexed. If the user rebinds a name (``act = relu``, a helper
redefined in a later notebook cell, ``cfg.act = np.sin``, a class attribute)
or registers a rule again (``knet.defvjp``), that code computes the old
function. A :class:`Guard` records those assumptions and checks them cheaply,
after TorchDynamo's guards:

- the function's own code object (``f.__code__`` can be replaced), every
  global, builtin and closure name and every attribute chain
  (``cfg.act``, ``np.linalg.norm``, ``M.act``) the compile resolved
  (:attr:`knetc.transform.resolve.Scope.reads`), also those of the write
  analyses of the helpers it consulted (:mod:`knetc.transform.effects`):
  callables, modules, classes and other objects by identity (a bound method
  by its function and instance), arrays and numbers by type (the code reads
  their value at run time), lists, tuples and dicts by the kinds of their
  entries;
- the rule table: one integer comparison with ``rules.VERSION``, bumped by
  every ``defvjp``/``defvjp_gpu``/``defnondiff``; when it moved, the rules of
  the functions this code used are compared one by one (identity of the
  ``Rule`` objects, of their GPU VJPs, the non-differentiable marks), and the
  version is accepted again when none of them changed;
- the types of the function's closure values (and the kinds of their
  entries for containers), which the compiler used to classify them (the
  values themselves are passed in on every call).

``Guard.check(fun)`` is one generated function of ``is`` comparisons: a few
hundred nanoseconds for a typical loss. A failed check makes the caller
compile again (see :mod:`knetc.transform.cache`), and
``Guard.failure(fun)`` says in words what changed (for ``verbose``).
"""
import builtins
import itertools
import operator
import types

import numpy as np

from ..errors import UnsupportedError
from ..runtime import rules
from ..runtime.backend import is_cupy_array
from ..runtime.tree import kind_of
from .inline import cached_template
from .resolve import MISSING

_DATA_TYPES = (np.ndarray, np.generic, int, float, complex, bool, str, bytes, type(None))
_CONTAINERS = (list, tuple, dict)
_counter = itertools.count()


def container_kinds(x):
    """The kinds of a container's entries (what the compiler assumed about a global list)."""
    if isinstance(x, dict):
        return (type(x), tuple((k, kind_of(v)) for k, v in x.items()))
    return (type(x), tuple(kind_of(v) for v in x))


class Guard:
    """The assumptions of one compiled function and a fast check of them.

    ``scopes``: the :class:`~knetc.transform.resolve.Scope` objects whose
    reads the code depends on; ``rule_funs``: the callables whose rules it
    used; ``fun``: the function compiled (the types of its closure values).
    """

    def __init__(self, name, scopes, rule_funs, fun=None, frozen_scopes=()):
        self.name = name
        self._entries = []        # (description, expression text)
        self._env = {"M": MISSING, "V": rules.VERSION, "B": builtins.__dict__,
                     "container_kinds": container_kinds}
        self._names = {}
        self._seen = set()
        for scope in scopes:
            self._add_scope(scope)
        for scope in frozen_scopes:          # values bound into the code: every one by identity
            self._add_scope(scope, frozen=True)
        self._rules = self._rule_snapshot(rule_funs)
        self._version = [rules.VERSION[0]]
        self._env["S"] = self._version
        self._env["recheck"] = self._recheck_rules
        if fun is not None:
            self._entries.insert(0, ("the code of the function", f"fun.__code__ is {self._const(fun.__code__)}"))
            if getattr(fun, "__closure__", None):
                self._add_cells(fun)
        self.check = self._build()

    # ---- recording -------------------------------------------------------
    def _const(self, obj):
        key = id(obj)
        if key not in self._names:
            name = f"o{len(self._names)}"
            self._names[key] = name
            self._env[name] = obj
        return self._names[key]

    def _add_scope(self, scope, frozen=False):
        gname = self._const(scope.globals)
        reads = sorted(scope.reads.items(), key=lambda kv: kv[0].count("."))
        data = set()          # paths to values guarded by type: their attributes follow from it
        for dotted, obj in reads:
            parts = dotted.split(".")
            head = parts[0]
            if any(".".join(parts[:k]) in data for k in range(1, len(parts))):
                continue
            if (isinstance(obj, _DATA_TYPES + _CONTAINERS) or is_cupy_array(obj)) and not frozen:
                data.add(dotted)
            if len(parts) == 1:
                where = scope.where(head)
                key = (id(scope.globals) if where != "closure" else id(scope.cells.get(head)), dotted, frozen)
                if key in self._seen:
                    continue
                self._seen.add(key)
                if where == "closure":
                    cell = scope.cells.get(head)
                    if cell is None:
                        continue
                    access = f"{self._const(cell)}.cell_contents"
                elif where == "global":
                    # a missing key raises KeyError, which the check turns into False
                    access = f"{gname}.get({head!r}, M)" if obj is MISSING else f"{gname}[{head!r}]"
                else:
                    access = f"({gname}.get({head!r}, M) is M and B.get({head!r}, M))"
                self._add(dotted, access, obj, frozen=frozen)
            else:
                key = (id(scope.globals), dotted, frozen)
                if key in self._seen:
                    continue
                self._seen.add(key)
                parent = scope.reads.get(".".join(parts[:-1]), MISSING)
                if parent is MISSING:
                    continue
                attr = parts[-1]
                access = (f"{self._const(parent)}.{attr}" if attr.isidentifier() and obj is not MISSING
                          else f"getattr({self._const(parent)}, {attr!r}, M)")
                self._add(dotted, access, obj, parent, frozen)

    def _add(self, dotted, access, obj, parent=None, frozen=False):
        what = f"what {dotted} denotes"
        if frozen and obj is not MISSING:
            self._entries.append((what, f"{access} is {self._const(obj)}"))
        elif obj is MISSING:
            self._entries.append((what, f"{access} is M"))
        elif isinstance(obj, types.MethodType):
            m = f"_m{next(_counter)}"
            self._entries.append((what, f"(({m} := {access}) is not M and {m}.__func__ is "
                                        f"{self._const(obj.__func__)} and {m}.__self__ is "
                                        f"{self._const(obj.__self__)})"))
        elif isinstance(obj, _DATA_TYPES) or is_cupy_array(obj):
            self._entries.append((f"the type of {dotted}", f"type({access}) is {self._const(type(obj))}"))
        elif isinstance(obj, _CONTAINERS):
            self._entries.append((f"the kinds of the entries of {dotted}",
                                  f"container_kinds({access}) == {self._const(container_kinds(obj))}"))
        elif parent is not None and getattr(parent, dotted.rsplit(".", 1)[1], MISSING) is not obj:
            # an attribute that gives a new object on every access (a descriptor, a builtin method)
            again = getattr(parent, dotted.rsplit(".", 1)[1], MISSING)
            try:
                same = bool(again == obj)
            except Exception:
                same = False
            if not same:
                raise UnsupportedError(f"the attribute {dotted}, which gives a new object on every access",
                                       detail="the compiler cannot tell whether it changed")
            self._entries.append((what, f"{access} == {self._const(obj)}"))
        else:
            self._entries.append((what, f"{access} is {self._const(obj)}"))
            if isinstance(obj, types.FunctionType):      # a helper whose code was replaced
                self._entries.append((f"the code of {dotted}",
                                      f"{self._const(obj)}.__code__ is {self._const(obj.__code__)}"))

    def _add_cells(self, fun):
        """The types of the closure values (the entries' kinds for containers), read from ``fun``."""
        for i, (name, cell) in enumerate(zip(fun.__code__.co_freevars, fun.__closure__)):
            try:
                value = cell.cell_contents
            except ValueError:
                continue
            access = f"fun.__closure__[{i}].cell_contents"
            self._entries.append((f"the type of the closure variable {name}",
                                  f"type({access}) is {self._const(type(value))}"))
            if isinstance(value, _CONTAINERS):
                self._entries.append((f"the kinds of the entries of the closure variable {name}",
                                      f"container_kinds({access}) == {self._const(container_kinds(value))}"))

    @staticmethod
    def _rule_snapshot(funs):
        snap = {}
        for f in funs:
            try:
                key = rules._key(f)
            except Exception:
                continue
            rule = rules.rule_for(f)
            snap[key] = (rule, getattr(rule, "gpu_vjps", None), rules.is_nondiff(f))
        return snap

    def _rules_changed(self):
        for key, (rule, gpu, nondiff) in self._rules.items():
            now = rules._RULES.get(key)
            if now is not rule or getattr(now, "gpu_vjps", None) is not gpu or (key in rules._NONDIFF) != nondiff:
                return getattr(rule, "name", None) or repr(key)
        return None

    def _recheck_rules(self):
        """The rule table changed somewhere: did any rule this code used change?"""
        if self._rules_changed() is not None:
            return False
        self._version[0] = rules.VERSION[0]
        return True

    # ---- checking --------------------------------------------------------
    def _build(self):
        tests = [e for _, e in self._entries] + ["(V[0] == S[0] or recheck())"]
        params = ", ".join(sorted(self._env))
        text = (f"def _make({params}):\n"
                f"    def check(fun):\n"
                f"        try:\n"
                f"            return ({' and '.join(tests)})\n"
                f"        except Exception:\n"
                f"            return False\n"
                f"    return check\n")
        namespace = {}
        exec(compile(text, f"<knetc guard of {self.name}>", "exec"), namespace)
        self.text = text
        return namespace["_make"](**self._env)

    def failure(self, fun):
        """What no longer holds, in words, or None if the check passes."""
        for what, expr in self._entries:
            try:
                ok = eval(expr, dict(self._env, fun=fun))
            except Exception:
                ok = False
            if not ok:
                return f"{what} changed"
        if rules.VERSION[0] != self._version[0]:
            changed = self._rules_changed()
            if changed is not None:
                return f"the derivative rule of {changed} was registered again"
        return None


def rule_functions(stmts, walk, ir):
    """The callables whose rules the IR ``stmts`` uses (operators included)."""
    funs = {operator.getitem}
    for st in walk(stmts):
        expr = getattr(st, "expr", None)
        if isinstance(expr, ir.Op) and expr.fun is not None:
            funs.add(expr.fun) if _hashable(expr.fun) else None
    return funs


def rule_scopes(funs):
    """The global names read by the inlined VJPs of the user's own rules among ``funs``.

    A user's ``defvjp(f, lambda g, ans, x: g * scale(x))`` inlines ``scale``
    as it was; knetc's own rules are not rebound and are not guarded.
    """
    out = []
    for f in funs:
        rule = rules.rule_for(f)
        if rule is None:
            continue
        for vjp in tuple(rule.vjps) + tuple(rule.gpu_vjps or ()) + tuple(rule.kwvjps.values()):
            if vjp is None or (getattr(vjp, "__module__", None) or "").startswith("knetc."):
                continue
            tmpl = cached_template(vjp)
            if tmpl is not None and tmpl.scope is not None:
                out.append(tmpl.scope)
    return out


def _hashable(x):
    try:
        hash(x)
        return True
    except TypeError:
        return False


def always(fun):
    """The guard of code that assumed nothing (the tape)."""
    return True
