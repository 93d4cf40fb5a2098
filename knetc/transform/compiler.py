"""Assembly: the emitted forward and reverse lines -> one generated vjp function, compiled.

Consumes a unit after the front end and the reverse emitter (see
:mod:`knetc.transform.pipeline`). :func:`assemble_vjp` wraps the emitted
lines in ``def f_vjp(params): ... def f_pullback(df): ...``; :func:`build`
compiles the text inside a factory whose parameters are the runtime helpers
and the rules' VJPs, registers its line map (:mod:`~knetc.transform.tracebacks`)
and returns a :class:`CompiledVJP` whose ``fn(*params, *closure_values)``
gives ``(result, pullback)``; the pullback maps the result's adjoint to a
tuple of adjoints, one per parameter (None for those not differentiated).
"""
import itertools
import types

from . import ir, tracebacks
from .lines import bound_names
from .effects import analysis_scopes
from .guards import Guard, rule_functions, rule_scopes

_counter = itertools.count(1)


class CompiledVJP:
    """A generated vjp function with its source text and line map."""

    def __init__(self, fn, source, filename, line_map, mode="source"):
        self.fn = fn
        self.source = source
        self.filename = filename
        self.line_map = line_map      # generated line -> user line
        self.mode = mode


def _bound_by(s):
    if isinstance(s, (ir.Assign, ir.For)):
        return [s.target]
    return []




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


def assemble_vjp(unit, em, fwd, rev):
    """``(name, text)``: the vjp's name and its lines ``(indent, text, user line)``, from the
    emitter ``em``'s forward lines ``fwd`` and reverse lines ``rev``."""
    fun, active = unit.fun, unit.active
    rt = unit.runtime_name
    after_name = rt("after")
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
    for v in sorted((em.pushed | (em.final_reads & _bound_in_blocks(unit.body))) - set(params) - em.pullback_locals):
        text.append((2, f"{v} = None", 0))   # may be read (restored, or for a shape) before any binding
    prologue_end = len(text)     # after the docstring and the initialisations
    if unit.device_module:
        args = ", ".join(unit.params)
        text.append((2, f"{unit.device_module} = {rt('creation_module')}({args})", 0))
    differentiated_params = [p for p, a in zip(params, active) if a]
    for p, entry in unit.entry_names.items():
        if entry in em.final_reads_entry:
            text.append((2, f"{entry} = {rt('entry_value')}({', '.join([p] + differentiated_params)})", 0))
    for p, snapshot in em.snapshots.items():
        if snapshot in em.final_reads_entry:
            text.append((2, f"{snapshot} = {rt('list')}({p})", 0))
    text.extend((ln.indent + 1, ln.text, ln.line) for ln in fwd.items)
    nonlocal_names = sorted(bound_names(rev) & unit.locals - set(unit.adjoints.values()) - em.pullback_locals)
    after = [p for p in unit.entry_mutated if p in unit.differentiated]
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
    text.extend((ln.indent + 1, ln.text, ln.line) for ln in rev.items)
    outs = []
    rebound = {x for st in ir.walk(unit.body) for x in _bound_by(st)}
    entries = {}
    for p, a in zip(unit.params + unit.freevars, active):
        if not a:
            outs.append("None")
        elif p in unit.differentiated and not em.state.is_zero(p):
            outs.append(unit.adjoint_name(p))
        elif p in rebound:
            # p was rebound (maybe to another shape): zeros shaped like the value passed in
            entries[p] = unit.entry_names.get(p) or unit.names.fresh(f"{p}_in")
            outs.append(f"{rt('zeros_like')}({entries[p]})")
        else:
            outs.append(f"{rt('zeros_like')}({p})")
    for p, entry in entries.items():
        if entry not in unit.entry_names.values():
            text.insert(prologue_end, (2, f"{entry} = {p}", 0))
    text.append((3, f"return ({', '.join(outs)}{',' if len(outs) == 1 else ''})", 0))
    text.append((2, f"return {unit.result}, {pb_name}", 0))
    return name, text


def guard_of(unit):
    """The :class:`~knetc.transform.guards.Guard` of what this compile resolved."""
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




def build(unit, name, text, runtime):
    """Compile the generated ``text`` (function ``name``) with the ``runtime`` helpers and the unit's."""
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
    factory_code = next(c for c in code.co_consts if hasattr(c, "co_name") and c.co_name == "_knet_factory")
    factory = types.FunctionType(factory_code, unit.fun.__globals__)
    fn = factory(**helpers)
    readable_text = readable(text)
    compiled = CompiledVJP(fn, readable_text, filename, line_map)
    compiled.user_filename = unit.fun.__code__.co_filename
    compiled.mutated = [p for p in unit.entry_mutated if p in unit.differentiated]
    tracebacks.register(filename, body, compiled)
    compiled.static_calls = list(dict.fromkeys(
        (f, m) for f, m in unit.static_calls if len(m) == f.__code__.co_argcount))
    compiled.helper_funs = [e.fun for s in ir.walk(unit.body) if isinstance(s, ir.Assign)
                            for e in [s.expr] if isinstance(e, ir.HelperCall) and e.fun is not None]
    return compiled


def readable(text):
    """The generated function as users read it (without the factory wrapper)."""
    out = []
    for indent, t, _ in text:
        out.append("    " * (indent - 1) + t)
    return "\n".join(out) + "\n"
