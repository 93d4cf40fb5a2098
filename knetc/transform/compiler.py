"""Compile one user function into its vjp: parse, lower, analyse, emit, build.

``compile_vjp(fun, active, param_values)`` returns a :class:`CompiledVJP`
whose ``fn(*params, *closure_values)`` gives ``(result, pullback)``; the
pullback maps the result's adjoint to a tuple of adjoints, one per parameter
(None for parameters that are not differentiated).
"""
import builtins
import itertools
import linecache
import time

import gast

from ..errors import UnsupportedError
from ..runtime import creation, tree
from . import containers, fence, ir
from .analysis import Kinds, activity, names_in, written_into
from .effects import mutated_params
from .jumps import JumpLowering, flatten
from .lower import Lowerer, assigned_names
from .resolve import Scope
from .reverse import ReverseEmitter
from .source import get_function_source

_counter = itertools.count(1)
GENERATED = {}      # generated file name -> CompiledVJP (for tracebacks and NaN checks)


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


class CompiledVJP:
    """A generated vjp function with its source text and line map."""

    def __init__(self, fn, source, filename, line_map, mode="source"):
        self.fn = fn
        self.source = source
        self.filename = filename
        self.line_map = line_map      # generated line -> user line
        self.mode = mode


class Unit:
    """Everything known about one function while it is being compiled."""

    def __init__(self, fun, active, param_values, rewrite=None):
        self.fun = fun
        self.source = get_function_source(fun)
        node = self.source.node
        if isinstance(node, gast.FunctionDef):
            args = node.args
            if args.vararg or args.kwarg or getattr(args, "posonlyargs", None):
                raise self.source.error("*args, **kwargs or positional-only parameters", node)
            body = node.body
        else:  # lambda
            args = node.args
            body = [gast.Return(value=node.body)]
            gast.copy_location(body[0], node)
        self.params = [a.id for a in args.args] + [a.id for a in getattr(args, "kwonlyargs", [])]
        code = fun.__code__
        self.freevars = list(code.co_freevars)
        self.locals = set(self.params) | assigned_names(node) | set(self.freevars)
        taken = self.locals | _all_names(node)
        self.names = NameGenerator(taken, self.locals)
        self.runtime = {}         # runtime helper -> the name generated code calls it by
        fname = fun.__name__ if fun.__name__.isidentifier() else "f"
        self.result = self.names.fresh(fname if fname not in self.locals else "result")
        self.locals.add(self.result)
        done = self.names.temp("done")
        jl = JumpLowering(self.names.temp, self.result, done)
        body = flatten(jl.function_body(list(body)))
        scope = Scope(fun)
        for v in self.freevars:       # closure values arrive as parameters
            scope.closure.pop(v, None)
        self.scope = scope
        lowerer = Lowerer(self.source, scope, self.names, self.locals, self.runtime_name)
        for s in body:
            lowerer.stmt(s)
        self.body = lowerer.out
        self.device_module = lowerer.device_module
        self.on_gpu = creation.on_gpu(*param_values)     # pick the rules' GPU VJPs
        self._plain_loops = lowerer.plain_loops
        values = dict(zip(self.params, param_values))
        for name, cell in zip(self.freevars, fun.__closure__ or ()):
            try:
                values[name] = cell.cell_contents
            except ValueError:
                pass
        self.helpers = {}         # generated name -> object handed to the code
        self.values = values      # parameter and closure values at compile time
        self.kinds = Kinds(self.body, values, scope)
        if containers.rewrite_arithmetic(self):          # list and tuple +, *, list +=
            self.kinds = Kinds(self.body, values, scope)
        if containers.rewrite_item_assignment(self):     # a[i] = v on an array
            self.kinds = Kinds(self.body, values, scope)
        if rewrite is not None:                           # e.g. has_aux: the aux output is a constant
            rewrite(self)
            self.kinds = Kinds(self.body, values, scope)
        for st in ir.walk(self.body):   # only lists and dicts can be written into
            if isinstance(st, ir.Assign) and isinstance(st.expr, ir.HelperCall):
                st.expr.mutated = [m for m in st.expr.mutated
                                   if self.kinds.of(m) not in ("tuple", "array", "other")]
        self.active_params = [p for p, a in zip(self.params + self.freevars, active) if a]
        fence.check(self)                     # refuse what has no model (see fence.py)
        _dict_loops(self, self.body)
        _snapshot_growing_lists(self, self.body)
        written = mutated_params(fun)
        # Containers the caller differentiates and this function writes into:
        # their final state is a result too (see effects.py).
        self.entry_mutated = [p for p, a in zip(self.params, active) if a and p in written]
        self.D = activity(self.body, self.active_params, self.result, outputs=self.entry_mutated)
        _refuse_traced_callees(self)
        # Parameters not differentiated on entry that later hold differentiated
        # values (x = layer(w, x)): the emitter skips adjoints of their entry value.
        self.entry_names = {p: self.names.fresh(f"{p}_in") for p in self.params
                            if p in self.D and p not in self.active_params}
        self.adjoints = {}
        self.pullbacks = {}
        self.static_calls = []    # (helper function, mask) of calls to known helpers, for display
        self.free_bindings = {}   # rule global name -> generated name
        self._outside_cache = {}

    # ---- services used by the emitter ------------------------------------
    def adjoint_name(self, name):
        if name not in self.adjoints:
            base = "d" + name if not name.startswith("_") else "_d" + name.lstrip("_")
            self.adjoints[name] = self.names.fresh(base)
        return self.adjoints[name]

    def pullback_name(self, stmt):
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
        """Renames for a rule's global names, so they cannot clash with the user's."""
        renames = {}
        for name, obj in free.items():
            existing = self.helpers.get(name)
            if existing is obj:
                continue
            if name in self.names.taken and self.free_bindings.get(name) is None:
                user_obj = self.scope.lookup(name)
                if user_obj is obj and name not in self.locals:
                    continue      # the user's global is the same object (np is np)
                alias = self.free_bindings.get(("alias", name)) or self.names.fresh("_k_" + name)
                self.free_bindings[("alias", name)] = alias
                self.helpers[alias] = obj
                renames[name] = alias
                continue
            self.helpers[name] = obj
            self.names.taken.add(name)
            self.free_bindings[name] = obj
        return renames

    def names_outside(self, block):
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


def _refuse_traced_callees(unit):
    """A call of a function value computed from differentiated values is refused.

    ``g = functools.partial(affine, x)``, ``layer = Affine(x)``,
    ``fs = [make(x[0])]; fs[0](2.0)``: the callable carries ``x`` where the
    compiler cannot see it, so its result would be taken for a constant.
    Callables from outside (globals, arguments, ``for layer in LAYERS``) are fine.
    """
    tainted = set(unit.active_params)
    changed = True
    while changed:
        changed = False
        for s in ir.walk(unit.body):
            if isinstance(s, ir.Assign) and s.target not in tainted and any(a in tainted for a in ir.reads(s.expr)):
                tainted.add(s.target)
                changed = True
            elif isinstance(s, (ir.SetItem, ir.Append)) and s.obj not in tainted and s.value in tainted:
                tainted.add(s.obj)
                changed = True
    for s in ir.walk(unit.body):
        if isinstance(s, ir.Assign) and isinstance(s.expr, ir.HelperCall) and s.expr.fun is None \
                and s.expr.func in tainted:
            raise unit.error_at(s.line, f"calling {s.expr.func}, a function value made from differentiated values",
                                "the compiler cannot see what it holds; pass the values as arguments")


def _dict_loops(unit, stmts):
    """'for k in d' over a dict binds keys: iterate over list(d), not positions."""
    for seq, xs, index in unit._plain_loops:
        if unit.kinds.of(xs) != "dict":
            continue
        for s in ir.walk(stmts):
            if isinstance(s, ir.Assign) and s.target == seq:
                s.expr = ir.Const(f"{unit.runtime_name('list')}({xs})", [xs])
            elif (isinstance(s, ir.Assign) and isinstance(s.expr, ir.Subscript)
                  and s.expr.obj == xs and s.expr.index_src == index):
                s.expr = ir.Copy(index)



def _snapshot_growing_lists(unit, stmts):
    """A rule given a list that is written into later gets a copy of it.

    The reverse sweep sees containers in their final state, so a rule such
    as ``np.stack(hs)`` must keep the list as it was when it was called.
    A list that came in as a parameter (or a closure variable) counts as
    written: the caller may append to it before this function's pullback runs.
    """
    written = written_into(stmts) | set(unit.params) | set(unit.freevars)
    if not written:
        return
    for block in _blocks(stmts):
        for s in list(block):
            if not (isinstance(s, ir.Assign) and isinstance(s.expr, ir.Op)):
                continue
            for i, a in enumerate(s.expr.args):
                if a in written and unit.kinds.of(a) == "list":
                    snap = unit.names.temp("s")
                    block.insert(block.index(s), ir.Assign(line=s.line, target=snap, expr=ir.Op(
                        f"{unit.runtime_name('list')}({a})", list, [a], label="list")))
                    unit.kinds.kind[snap] = "list"
                    unit.kinds.elem[snap] = unit.kinds.elem.get(a)
                    s.expr.args[i] = snap
                    s.expr.text = _replace_word(s.expr.text, a, snap)



def _replace_word(text, old, new):
    import re
    return re.sub(rf"\b{re.escape(old)}\b", new, text, count=1)


def _blocks(stmts):
    yield stmts
    for s in stmts:
        if isinstance(s, ir.If):
            yield from _blocks(s.body)
            yield from _blocks(s.orelse)
        elif isinstance(s, (ir.For, ir.While)):
            yield from _blocks(s.body)


def _own_names(s):
    if isinstance(s, ir.If):
        return {s.test}
    if isinstance(s, ir.For):
        return {s.target, s.seq} | ({s.count} if s.count else set())
    if isinstance(s, ir.While):
        return {s.count}
    return set()


def _bound_by(s):
    if isinstance(s, (ir.Assign, ir.For)):
        return [s.target]
    return []


def _prologue_end(text, stack):
    """Index after the docstring and the initialisations at the top of the vjp."""
    i = 2
    while i < len(text) and (text[i][1] == f"{stack} = []" or text[i][1].endswith(" = None")
                             or text[i][1].startswith("# may be")):
        i += 1
    return i


def _bound_in_blocks(stmts):
    """Names bound somewhere inside an if or a loop (so maybe never bound)."""
    out = set()
    for s in stmts:
        if isinstance(s, (ir.If, ir.For, ir.While)):
            inner = [x for x in ir.walk([s]) if x is not s]
            out |= {x.target for x in inner if isinstance(x, (ir.Assign, ir.For))}
            if isinstance(s, ir.For):
                out.add(s.target)
    return out


def _all_names(node):
    return {n.id for n in gast.walk(node) if isinstance(n, gast.Name)}


RUNTIME_NAMES = ("call_vjp", "zeros_like", "zeros_view", "zero_slots", "add_grad", "add_at", "array_module",
                 "call_on_gpu", "pullback_reused")


def pullback_reused(name):
    """Generated pullbacks consume what their forward pass saved: a second call is an error."""
    from ..errors import KnetError
    raise KnetError(f"knetc: the pullback of {name} was called a second time; a compiled pullback "
                    "runs once per forward call (call the vjp again for another pullback)")


# Builtins the generated code calls (range, len...): a user's global of that name must not reach it.
BUILTIN_NAMES = ("range", "len", "min", "list", "tuple", "bool", "reversed", "slice")


def _runtime_objects():
    """Runtime helper name -> the object generated code calls."""
    from .dispatch import call_vjp
    return {**{n: getattr(builtins, n) for n in BUILTIN_NAMES},
            "call_vjp": call_vjp, "zeros_like": tree.zeros_like_tree,
            "zeros_view": tree.zeros_view, "zero_slots": tree.zero_slots,
            "add_grad": tree.add_grad, "add_at": tree.add_at, "array_module": creation.array_module,
            "call_on_gpu": creation.call_on_gpu, "pullback_reused": pullback_reused}


def compile_vjp(fun, active, param_values, rewrite=None):
    """Compile ``fun`` for the given active-parameter mask and argument values
    (``rewrite(unit)``, if given, edits the lowered body before the analyses)."""
    started = time.perf_counter()
    unit = Unit(fun, active, param_values, rewrite)
    em = ReverseEmitter(unit)
    fwd, rev = em.emit()
    rt = unit.runtime_name
    after_name = rt("after")
    objects = _runtime_objects()
    name = unit.names.fresh(f"{unit.result}_vjp")
    pb_name = unit.names.fresh(f"{unit.result}_pullback")
    dres = unit.adjoint_name(unit.result)
    text = []   # (indent, text, user line)
    params = unit.params + unit.freevars
    src = unit.source
    text.append((1, f"def {name}({', '.join(params)}):", src.node.lineno))
    text.append((2, f'"""Primal and adjoint of {fun.__name__} ({src.short_filename}:{src.node.lineno})."""', 0))
    if em.pushed:
        text.append((2, f"{rt('_stack')} = []", 0))
    for v in sorted((em.pushed | (em.final_reads & _bound_in_blocks(unit.body))) - set(params)):
        text.append((2, f"{v} = None", 0))   # may be read (restored, or for a shape) before any binding
    if unit.device_module:
        args = ", ".join(unit.params)
        text.append((2, f"{unit.device_module} = {rt('array_module')}({args})", 0))
    for p, entry in unit.entry_names.items():
        if entry in em.final_reads_entry:
            text.append((2, f"{entry} = {p}", 0))
    text.extend((i + 1, t, l) for i, t, l in fwd.items)
    nonlocal_names = sorted(_assigned_in(rev) & unit.locals - set(unit.adjoints.values()))
    after = [p for p in unit.entry_mutated if p in unit.D]
    # a pullback that pops the stack or restores variables runs once: a second call is an error
    pulled = [unit.names.fresh("_pulled")] if em.pushed or nonlocal_names else []
    if pulled:
        text.append((2, f"{pulled[0]} = False", 0))
    text.append((2, f"def {pb_name}({dres}{', *' + after_name if after else ''}):", 0))
    if pulled:
        text.append((3, f"nonlocal {', '.join(nonlocal_names + pulled)}", 0))
        text.append((3, f"if {pulled[0]}:", 0))
        text.append((4, f"{rt('pullback_reused')}({fun.__name__!r})", 0))
        text.append((3, f"{pulled[0]} = True", 0))
    text.extend((i + 1, t, l) for i, t, l in rev.items)
    outs = []
    rebound = {x for st in ir.walk(unit.body) for x in _bound_by(st)}
    entries = {}
    for p, a in zip(unit.params + unit.freevars, active):
        if not a:
            outs.append("None")
        elif p in unit.D and em.state.get(p) != "zero":
            outs.append(unit.adjoint_name(p))
        elif p in rebound:
            # p was rebound (maybe to another shape): zeros shaped like the value passed in
            entries[p] = unit.entry_names.get(p) or unit.names.fresh(f"{p}_in")
            outs.append(f"{rt('zeros_like')}({entries[p]})")
        else:
            outs.append(f"{rt('zeros_like')}({p})")
    for p, entry in entries.items():
        if entry not in unit.entry_names.values():
            text.insert(_prologue_end(text, rt("_stack")), (2, f"{entry} = {p}", 0))
    text.append((3, f"return ({', '.join(outs)}{',' if len(outs) == 1 else ''})", 0))
    text.append((2, f"return {unit.result}, {pb_name}", 0))
    runtime = {generated: objects[base] for base, generated in unit.runtime.items() if base in objects}
    compiled = _build(unit, name, text, runtime)
    compiled.guard = _guard(unit)
    compiled.compile_seconds = time.perf_counter() - started
    return compiled


def _guard(unit):
    """The :class:`~knetc.transform.guards.Guard` of what this compile resolved."""
    from .effects import analysis_scopes
    from .guards import Guard, rule_functions, rule_scopes
    scopes = [unit.scope] + analysis_scopes(unit.fun)
    for f in dict.fromkeys(s.expr.fun for s in ir.walk(unit.body)
                           if isinstance(s, ir.Assign) and isinstance(s.expr, ir.HelperCall)
                           and s.expr.fun is not None):
        scopes += analysis_scopes(f)
    funs = rule_functions(unit.body, ir.walk, ir)
    for scope in scopes:
        funs.update(v for v in scope.reads.values() if callable(v) and _hashable(v))
    return Guard(unit.fun.__name__, scopes, funs, unit.fun, frozen_scopes=rule_scopes(funs))


def _hashable(x):
    try:
        hash(x)
        return True
    except TypeError:
        return False


def _assigned_in(lines):
    out = set()
    for _, t, _ in lines.items:
        if t.startswith("for ") and " in " in t:
            out.add(t[4:t.index(" in ")].strip())
        elif " = " in t and not t.startswith(("#", "if ")):
            target = t.split(" = ", 1)[0]
            if target.isidentifier():
                out.add(target)
    return out


def _build(unit, name, text, runtime):
    helpers = dict(runtime)
    helpers.update(unit.helpers)
    factory_params = sorted(helpers)
    lines = [f"def _knet_factory({', '.join(factory_params)}):"]
    line_map = {}
    for indent, t, user_line in text:
        lines.append("    " * indent + t)
        if user_line:
            line_map[len(lines)] = user_line
    lines.append(f"    return {name}")
    body = "\n".join(lines) + "\n"
    filename = f"<knetc {unit.fun.__name__} {next(_counter)}>"
    try:
        code = compile(body, filename, "exec")
    except SyntaxError as e:  # a bug in the emitter: show the text
        raise RuntimeError(f"knetc generated invalid code ({e}):\n{body}") from e
    linecache.cache[filename] = (len(body), None, body.splitlines(True), filename)
    factory_code = next(c for c in code.co_consts if hasattr(c, "co_name") and c.co_name == "_knet_factory")
    import types
    factory = types.FunctionType(factory_code, unit.fun.__globals__)
    fn = factory(**helpers)
    readable = _readable(text, unit)
    compiled = CompiledVJP(fn, readable, filename, line_map)
    compiled.user_filename = unit.fun.__code__.co_filename
    compiled.mutated = [p for p in unit.entry_mutated if p in unit.D]
    GENERATED[filename] = compiled
    compiled.static_calls = list(dict.fromkeys(
        (f, m) for f, m in unit.static_calls if len(m) == f.__code__.co_argcount))
    compiled.helper_funs = [e.fun for s in ir.walk(unit.body) if isinstance(s, ir.Assign)
                            for e in [s.expr] if isinstance(e, ir.HelperCall) and e.fun is not None]
    return compiled


def _readable(text, unit):
    """The generated function as users read it (without the factory wrapper)."""
    out = []
    for indent, t, _ in text:
        out.append("    " * (indent - 1) + t)
    return "\n".join(out) + "\n"
