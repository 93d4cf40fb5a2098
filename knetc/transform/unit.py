"""The compile unit: a plain record of one function being compiled, and its naming services.

The passes of :mod:`knetc.transform.pipeline` fill a :class:`Unit` in order
(constructing one does no work); the emitters read it and call its services
(``adjoint_name``, ``pullback_name``, ``bind_helper``, ``runtime_name``, ...),
which hand out names that collide with nothing the user's function uses.
"""
import builtins
import dataclasses

from ..errors import UnsupportedError
from . import ir
from .analysis import names_in
from .support import BUILTIN_NAMES


class NameGenerator:
    """Fresh names that collide with nothing the function uses."""

    def __init__(self, taken, local_names):
        self.taken = set(taken)
        self.locals = local_names
        self.counts = {}

    def temp(self, hint="t"):
        """A new local temporary such as ``_t3``."""
        while True:
            n = self.counts.get(hint, 0) + 1
            self.counts[hint] = n
            name = f"_{hint}{n}"
            if name not in self.taken:
                self.taken.add(name)
                self.locals.add(name)
                return name

    def fresh(self, base):
        """``base`` itself if free, else ``base_2``, ``base_3``..."""
        name, i = base, 1
        while name in self.taken:
            i += 1
            name = f"{base}_{i}"
        self.taken.add(name)
        return name


def _empty():
    return dataclasses.field(default=None, init=False)


def _new(factory):
    return dataclasses.field(default_factory=factory, init=False)


@dataclasses.dataclass(eq=False)
class Unit:
    """Everything known about one function while it is being compiled (filled by the passes)."""

    fun: object                 # the user's Python function
    active: tuple               # one flag per parameter, then per closure variable: differentiated?
    param_values: list          # the call's argument values (for kinds and devices)
    # parse (front.parse)
    source: object = _empty()   # FunctionSource: the gast node, file, line numbers
    params: list = _empty()     # parameter names, positional then keyword-only
    freevars: list = _empty()   # closure variables (they arrive as parameters)
    locals: set = _empty()      # every name bound in the function (and generated temporaries)
    names: NameGenerator = _empty()
    result: str = _empty()      # the name the result is bound to
    values: dict = _empty()     # parameter and closure values at compile time
    active_params: list = _empty()
    on_gpu: bool = False        # pick the rules' GPU VJPs
    # jumps, lower (front.jumps, front.lower)
    scope: object = _empty()    # resolve.Scope of the function's globals and closure
    body: list = _empty()       # the IR: one operation per statement
    device_module: str = _empty()
    plain_loops: list = _empty()
    int_names: set = _empty()   # locals known to hold ints (range counters, i + 1)
    # kinds (analysis.infer_kinds)
    kinds: object = _empty()
    # activity (analysis.mark_active)
    entry_mutated: list = _empty()   # differentiated containers this function writes into
    differentiated: set = _empty()   # the variables whose adjoints the pullback computes
    entry_names: dict = _empty()     # parameter -> name of its entry value, where it becomes active later
    # filled while emitting
    runtime: dict = _new(dict)       # runtime helper -> the name generated code calls it by
    helpers: dict = _new(dict)       # generated name -> object handed to the code
    adjoints: dict = _new(dict)
    pullbacks: dict = _new(dict)
    static_calls: list = _new(list)  # (helper function, mask) of calls to known helpers, for display
    free_bindings: dict = _new(dict)  # (rule global name, id of its object) -> generated name
    _bound_objects: list = _new(list)
    _outside_cache: dict = _new(dict)

    # ---- services used by the passes and the emitters ----------------------
    def adjoint_name(self, name):
        """The name of ``name``'s adjoint (``dx`` for ``x``)."""
        if name not in self.adjoints:
            base = "d" + name if not name.startswith("_") else "_d" + name.lstrip("_")
            self.adjoints[name] = self.names.fresh(base)
        return self.adjoints[name]

    def pullback_name(self, stmt):
        """The name of the pullback a statement's call returns."""
        key = id(stmt)
        if key not in self.pullbacks:
            self.pullbacks[key] = self.names.temp("pb")
        return self.pullbacks[key]

    def bind_helper(self, obj, hint="vjp"):
        """A name under which the generated code can call ``obj``."""
        for name, value in self.helpers.items():
            if value is obj:
                return name
        base = getattr(obj, "__name__", "helper")
        if base == "<lambda>" or not base.isidentifier():
            base = hint
        name = self.names.fresh(base.lstrip("_") or "vjp")
        self.helpers[name] = obj
        return name

    def bind_free_names(self, free):
        """Renames for a rule's global names, so they cannot clash with the user's.

        Each (name, object) pair gets one binding: the name itself when it is
        free (or is the user's global for the same object), else a fresh name.
        A private helper of the rule table (``_extreme_vjp``) is shown under a
        public name (``extreme_vjp``) in the generated code.
        """
        renames = {}
        for name, obj in free.items():
            key = (name, id(obj))
            bound = self.free_bindings.get(key)
            if bound is None:
                public = name.lstrip("_") or "helper"
                if name == public and self.helpers.get(name) is obj:
                    bound = name
                elif name == public and name not in self.names.taken:
                    bound = name
                    self.helpers[name] = obj
                    self.names.taken.add(name)
                elif (name == public and name not in self.locals and name not in self.helpers
                      and name not in self.runtime.values()
                      and self.scope.lookup(name) is obj):
                    bound = name      # the user's global is the same object (np is np)
                else:
                    bound = self.names.fresh(public)
                    self.helpers[bound] = obj
                self.free_bindings[key] = bound
                self._bound_objects.append(obj)     # keeps id(obj) from being reused
            if bound != name:
                renames[name] = bound
        return renames

    def names_outside(self, block):
        """Names read or bound anywhere in the function outside ``block`` (and the parameters, the result)."""
        key = id(block)
        if key not in self._outside_cache:
            ids = {id(s) for s in ir.walk(block)}
            outside = set(self.params)
            for s in ir.walk(self.body):
                if id(s) not in ids:
                    outside |= names_in([s]) if not isinstance(s, (ir.If, ir.For, ir.While)) else _own_names(s)
            outside.add(self.result)
            self._outside_cache[key] = outside
        return self._outside_cache[key]

    def error_at(self, line, construct, detail=None):
        """An UnsupportedError for ``construct`` at the user's ``line``."""
        return UnsupportedError(construct, self.source.short_filename, line, None, detail)

    def runtime_name(self, name):
        """The name generated code uses for the runtime helper ``name``: ``name`` itself
        unless the user's function uses it, else a fresh variant (``zeros_like_2``)."""
        if name not in self.runtime:
            if (name in BUILTIN_NAMES and name not in self.locals
                    and self.scope.lookup(name) is getattr(builtins, name)):
                self.runtime[name] = name     # the user's name means the builtin too
                self.names.taken.add(name)
            else:
                self.runtime[name] = self.names.fresh(name)
        return self.runtime[name]


def _own_names(s):
    if isinstance(s, ir.If):
        return {s.test}
    if isinstance(s, ir.For):
        return {s.target, s.seq} | ({s.count} if s.count else set())
    if isinstance(s, ir.While):
        return {s.count}
    return set()
