"""Forward mode: emit the primal and the tangent of a lowered function, line by line.

Consumes a compile :class:`~knetc.transform.unit.Unit` (the lowered body,
value kinds, the differentiated names ``unit.differentiated``) and emits::

    def loss_jvp(w, x, tw):
        # Tangent of: h = np.tanh(w @ x)
        _t1 = w @ x
        t_t1 = tw @ x
        h = np.tanh(_t1)
        th = t_t1 * (1 - h * h)
        ...
        return loss, tloss

One tangent line follows each primal line whose value is differentiated;
``tx`` is the tangent of ``x``. Nothing is saved: forward mode runs once, in
program order, through the same ifs and loops as the primal. Tangent
expressions come from :mod:`knetc.runtime.jvp_rules` (explicit JVPs, linear
functions with the tangent in place, elementwise VJPs read as JVPs, the
transpose of the VJP otherwise); single-expression rules are inlined.
Tangents known to be zero are not computed; a zero that must exist (before a
loop or an if that reads it) is made with ``zeros_like``.
"""
import time

from ..runtime import jvp_rules
from ..runtime.rules import rule_for
from . import ir
from .analysis import names_in
from .compiler import build, guard_of
from .inline import instantiate, template_of
from .jvp_templates import bare_tangent, operand_of_sum, without_unbroadcast
from .forward_refusals import refuse_concatenators
from .pipeline import front_end
from .support import runtime_objects


class TangentEmitter:
    """Emits one function's JVP (see the module docstring)."""

    def __init__(self, unit):
        self.unit = unit
        self.tangents = {}
        self.zero = set(unit.differentiated) - set(unit.active_params)   # tangents known to be zero
        self.bound = set(unit.params) | set(unit.freevars)
        self.lines = []          # (indent, text, user line)
        self.last_comment = None

    # ---- names -----------------------------------------------------------------------
    def rt(self, name):
        """The generated code's name for the runtime helper ``name`` (never a user's name)."""
        return self.unit.runtime_name(name)

    def tangent(self, name):
        """The tangent variable of ``name``: ``tx`` for ``x``."""
        if name not in self.tangents:
            base = "t" + name if not name.startswith("_") else "t" + name
            self.tangents[name] = self.unit.names.fresh(base)
        return self.tangents[name]

    def live(self, atom):
        """True when ``atom`` has a tangent that may be non-zero here."""
        return atom in self.unit.differentiated and atom not in self.zero

    def add(self, indent, text, line=0):
        self.lines.append((indent, text, line))

    def comment(self, indent, line):
        text = self.unit.source.line_text(line)
        if text and self.last_comment != (line, indent):
            self.add(indent, f"# Tangent of: {text}", line)
            self.last_comment = (line, indent)

    # ---- driver ----------------------------------------------------------------------
    def emit(self):
        self.block(self.unit.body, 1, depth=0)
        return self.lines

    def block(self, stmts, indent, depth):
        start = len(self.lines)
        for s in stmts:
            self.statement(s, indent, depth)
        if len(self.lines) == start:
            self.add(indent, "pass")

    def statement(self, s, indent, depth):
        if isinstance(s, ir.Assign):
            self.assign(s, indent, depth)
        elif isinstance(s, ir.SetItem):
            if s.obj in self.unit.differentiated:
                self.materialise(s.obj, indent)     # before the write: zeros of the old state
            self.add(indent, f"{s.obj}[{s.index_src}] = {s.value}", s.line)
            if s.obj in self.unit.differentiated:
                self.comment(indent, s.line)
                self.add(indent, f"{self.tangent(s.obj)}[{s.index_src}] = {self.tangent_or_zero(s.value)}",
                         s.line)
        elif isinstance(s, ir.Append):
            if s.obj in self.unit.differentiated:
                self.materialise(s.obj, indent)
            # v = hs.pop() is lowered to v = hs[-1] and this Append with pop=True
            change = "pop()" if s.pop else f"append({s.value})"
            self.add(indent, f"{s.obj}.{change}", s.line)
            if s.obj in self.unit.differentiated:
                change = "pop()" if s.pop else f"append({self.tangent_or_zero(s.value)})"
                self.add(indent, f"{self.tangent(s.obj)}.{change}", s.line)
        elif isinstance(s, (ir.Effect, ir.LocalDef)):
            for text in s.text.splitlines():
                self.add(indent, text, s.line)
            if isinstance(s, ir.LocalDef):
                self.bound.add(s.name)
        elif isinstance(s, ir.If):
            self.enter([s], indent)
            self.add(indent, f"if {s.test}:", s.line)
            self.block(s.body, indent + 1, depth + 1)
            if s.orelse:
                self.add(indent, "else:", s.line)
                self.block(s.orelse, indent + 1, depth + 1)
        elif isinstance(s, ir.For):
            self.enter([s], indent)
            self.add(indent, f"for {s.target} in {s.seq}:", s.line)
            self.bound.add(s.target)
            if s.brk:
                self.add(indent + 1, f"if {s.brk}:", s.line)
                self.add(indent + 2, "break", s.line)
                self.add(indent + 1, f"{s.count} += 1", s.line)
            self.block(s.body, indent + 1, depth + 1)
        elif isinstance(s, ir.While):
            self.enter([s], indent)
            self.add(indent, "while True:", s.line)
            self.add(indent + 1, f"if {s.brk}:", s.line)
            self.add(indent + 2, "break", s.line)
            self.add(indent + 1, f"{s.count} += 1", s.line)
            self.block(s.body, indent + 1, depth + 1)
        else:
            raise self.unit.error_at(s.line, f"forward mode through {type(s).__name__}")

    def enter(self, stmts, indent):
        """Before an if or a loop: the zero tangents it mentions must exist as values."""
        for name in sorted(names_in(stmts) & self.zero & self.bound):
            self.materialise(name, indent)

    def materialise(self, name, indent):
        if name in self.zero:
            self.add(indent, f"{self.tangent(name)} = {self.rt('zeros_like')}({name})")
            self.zero.discard(name)

    def tangent_or_zero(self, atom):
        return self.tangent(atom) if self.live(atom) else f"{self.rt('zeros_like')}({atom})"

    # ---- assignments -------------------------------------------------------------------
    def assign(self, s, indent, depth):
        e, t = s.expr, s.target
        if isinstance(e, ir.HelperCall) and self._helper_is_differentiated(s):
            self.comment(indent, s.line)
            self.helper_call(s, indent)
            self.bound.add(t)
            return
        self.add(indent, self.primal(s), s.line)
        self.bound.add(t)
        if t not in self.unit.differentiated:
            return
        text = self.tangent_expr(s)
        if text is None:
            if depth == 0:
                self.zero.add(t)
            else:
                self.add(indent, f"{self.tangent(t)} = {self.rt('zeros_like')}({t})", s.line)
                self.zero.discard(t)
            return
        self.comment(indent, s.line)
        self.add(indent, f"{self.tangent(t)} = {text}", s.line)
        self.zero.discard(t)

    def primal(self, s):
        e, t = s.expr, s.target
        plain = ir.plain_assignment(s)
        if plain is not None:
            return plain
        if isinstance(e, ir.HelperCall):
            args = ", ".join(list(e.args) + [f"{k}={v}" for k, v in e.kwargs])
            return f"{t} = {e.func}({args})"
        raise AssertionError(e)

    def tangent_expr(self, s):
        """The tangent of ``s.target``'s new value, or None when it is zero."""
        e = s.expr
        if isinstance(e, ir.Copy):
            return self.tangent(e.src) if self.live(e.src) else None
        if isinstance(e, ir.Subscript):
            return f"{self.tangent(e.obj)}[{e.index_src}]" if self.live(e.obj) else None
        if isinstance(e, ir.Build):
            if not any(self.live(a) for a in e.elts) and e.kind == "tuple":
                return None     # a list or dict may be written into later: its tangent must exist
            return ir.build_text(e.kind, [self.tangent_or_zero(a) for a in e.elts], e.keys)
        if isinstance(e, ir.Op):
            return self.op_tangent(s)
        return None

    def op_tangent(self, s):
        e, t = s.expr, s.target
        positions = [(i, a) for i, a in enumerate(e.args) if self.live(a)]
        keywords = [(k, a) for k, a in e.kwargs if self.live(a)]
        if not positions and not keywords:
            return None
        if e.fun is None or rule_for(e.fun) is None:
            raise self.unit.error_at(s.line, f"{e.label or e.text} on a differentiated value",
                                     "it has no derivative rule (register one with knet.defvjp)")
        joint = jvp_rules.JOINTLY_LINEAR.get(e.fun)
        if joint is not None and not keywords:
            return self.joint_call(e, t, joint, positions)
        self.others_live = len(positions) == len(e.args) or all(
            _is_literal(a) for i, a in enumerate(e.args) if (i, a) not in positions)
        parts = [self.contribution(e, t, i, a, s.line) for i, a in positions]
        parts += [self.contribution(e, t, k, a, s.line) for k, a in keywords]
        if len(parts) == 1:
            return parts[0]
        if not jvp_rules.returns_one_array(e.fun):     # maybe several results: add them element by element
            text = parts[0]
            for p in parts[1:]:
                text = f"{self.rt('add_grad')}({text}, {p})"
            return text
        return " + ".join(operand_of_sum(p) for p in parts)

    def contribution(self, e, t, argnum, atom, line):
        kind, obj = jvp_rules.jvp_plan(e.fun, argnum)
        tan = self.tangent(atom)
        kw_text = "".join(f", {k}={a}" for k, a in e.kwargs)
        args = list(e.args)
        if kind is None:
            raise self.unit.error_at(line, f"forward mode through {e.label or e.text} with respect to "
                                     f"argument {argnum}", "its rule has no derivative for that argument")
        if kind == "linear":
            return self.linear_call(e, argnum, atom, tan)
        if kind in ("explicit", "elementwise"):
            tmpl = None if kw_text else template_of(obj)
            if kind == "elementwise" and tmpl is not None:
                tmpl = without_unbroadcast(tmpl)   # None if a helper inside may still unbroadcast
            if tmpl is not None and len(tmpl.params) == 2 + len(args):
                text = instantiate(tmpl, [tan, t] + args, self.unit.bind_free_names(tmpl.free))
                if kind == "elementwise" and bare_tangent(text, tan) and not self.others_live:
                    text = f"{self.rt('fit_tangent')}({text}, {t})"
                return text
            runtime = self.rt("elementwise_jvp") if kind == "elementwise" else None
            name = self.unit.bind_helper(obj, "jvp" if kind == "explicit" else "vjp")
            if runtime:
                return f"{runtime}({name}, {tan}, {t}, {', '.join(args)}{kw_text})"
            return f"{name}({tan}, {t}, {', '.join(args)}{kw_text})"
        name = self.unit.bind_helper(obj, "vjp")
        return f"{self.rt('transpose_jvp')}({name}, {tan}, {t}, {', '.join(args)}{kw_text})"

    def joint_call(self, e, t, joint, positions):
        """A function linear in several arguments together (np.where's x and y): one call with
        the tangents in their places and zeros for the others."""
        live = {i for i, _ in positions}
        if not live <= set(joint):
            return None
        zero = f"{self.rt('zeros_like')}({t})" if e.fun is jvp_rules.setitem_array else "0.0"
        args = [self.tangent(a) if i in live else (zero if i == joint[0] else "0.0") if i in joint else a
                for i, a in enumerate(e.args)]
        name = self.unit.bind_helper(e.fun, (e.label or "f").split(".")[-1].strip("()"))
        text = f"{name}({', '.join(args)})"
        if live != set(joint) and e.fun is not jvp_rules.setitem_array:
            text = f"{self.rt('fit_tangent')}({text}, {t})"
        return text

    def linear_call(self, e, argnum, atom, tangent):
        """The primal call with the tangent in argument ``argnum``'s place (and zeros in the
        places of the arguments that make it affine: np.sum's ``initial``)."""
        positions, keywords = jvp_rules.affine_parts(e.fun)
        affine = any(i in positions for i in range(len(e.args))) or any(k in keywords for k, _ in e.kwargs)
        if (isinstance(argnum, int) and e.args.count(atom) == 1 and atom not in [v for _, v in e.kwargs]
                and not affine):
            return e.text_with({argnum: tangent})
        # the same atom in several places (x @ x): call the function with the tangent in one
        name = self.unit.bind_helper(e.fun, (e.label or "f").split(".")[-1])
        # the affine part at zero, in its own shape (sum([], start) is start)
        args = [tangent if i == argnum else f"{a} * 0" if i in positions else a for i, a in enumerate(e.args)]
        kwargs = [f"{k}={tangent if k == argnum else f'{v} * 0' if k in keywords else v}" for k, v in e.kwargs]
        return f"{name}({', '.join(args + kwargs)})"

    # ---- helper calls ---------------------------------------------------------------------
    def _helper_is_differentiated(self, s):
        e = s.expr
        atoms = list(e.args) + [v for _, v in e.kwargs] + list(e.free)
        return any(self.live(a) for a in atoms) or any(
            m in self.unit.differentiated for m in e.mutated)

    def helper_call(self, s, indent):
        e, t = s.expr, s.target
        for m in e.mutated:
            if m in self.unit.differentiated:
                self.materialise(m, indent)
        args = list(e.args)
        mask = tuple(self.live(a) or a in e.mutated and a in self.unit.differentiated for a in args)
        tangents = [self.tangent(a) if m else "None" for a, m in zip(args, mask)]
        kw = ", ".join(f"{k!r}: {v}" for k, v in e.kwargs)
        kw_tangents = ", ".join(f"{k!r}: {self.tangent(v)}" for k, v in e.kwargs if self.live(v))
        extra = f", {{{kw}}}, {{{kw_tangents}}}" if e.kwargs else ""
        free = [v for v in e.free if self.live(v)]     # a nested def reading differentiated values
        if free:
            extra = (extra or ", None, None") + ", {" + ", ".join(f"{v!r}: {self.tangent(v)}" for v in free) + "}"
        self.add(indent, f"{t}, {self.tangent(t)} = {self.rt('call_jvp')}({e.func}, ({_tuple_items(args)}), "
                         f"({_tuple_items(tangents)}){extra})", s.line)
        if t in self.unit.differentiated:
            self.zero.discard(t)


def _tuple_items(items):
    return ", ".join(items) + ("," if len(items) == 1 else "")


def _is_literal(atom):
    return isinstance(atom, ir.Literal)


def compile_jvp(fun, active, param_values):
    """Compile ``fun``'s JVP for the active-parameter mask: ``fn(*params, *closure, *tangents)``
    gives ``(result, tangent)``, with one tangent per active parameter, in order."""
    started = time.perf_counter()
    unit = front_end(fun, active, param_values)
    refuse_concatenators(unit)
    emitter = TangentEmitter(unit)
    body = emitter.emit()
    name = unit.names.fresh(f"{unit.result}_jvp")
    params = unit.params + unit.freevars
    tangent_params = [emitter.tangent(p) for p, a in zip(params, active) if a]
    src = unit.source
    text = [(1, f"def {name}({', '.join(params + tangent_params)}):", src.node.lineno),
            (2, f'"""Primal and tangent of {fun.__name__} ({src.short_filename}:{src.node.lineno})."""', 0)]
    if unit.device_module:
        text.append((2, f"{unit.device_module} = {unit.runtime_name('creation_module')}({', '.join(unit.params)})", 0))
    text += [(i + 1, t, line) for i, t, line in body]
    result = unit.result
    tangent = emitter.tangent(result) if emitter.live(result) else f"{unit.runtime_name('zeros_like')}({result})"
    text.append((2, f"return {result}, {tangent}", 0))
    compiled = build(unit, name, text, runtime_objects(unit.runtime))
    compiled.guard = guard_of(unit)       # what this compile resolved, checked on every call
    # helper calls that write into their arguments or outside (a reverse pass over this
    # program, knet.hvp's, does not follow those writes: see tangent_rules.refuse_helper_writes)
    compiled.helper_writes = [(s.line, s.expr.func, s.expr.mutated or s.expr.outside) for s in ir.walk(unit.body)
                              if isinstance(s, ir.Assign) and isinstance(s.expr, ir.HelperCall)
                              and (s.expr.mutated or s.expr.outside)]
    written = [p for p in unit.entry_mutated]
    if written:                       # the function itself writes into its arguments
        compiled.helper_writes.append((src.node.lineno, fun.__name__, written))
    compiled.compile_seconds = time.perf_counter() - started
    return compiled
