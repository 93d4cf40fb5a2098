"""The adjoint of each statement, in reverse: accumulations into adjoints.

Part of the reverse-mode emitter (see reverse.py). Consumes one lowered
statement and the adjoint state (adjoints.py); emits the lines that add its
contributions to the adjoints of what it read (a rule's VJP inlined where it
is one expression, called by name otherwise), restores the values it
overwrote, and restarts the adjoint of the name it bound at zero. The first
accumulation into a zero adjoint is an assignment; ``+=`` only into a buffer
the adjoint owns.
"""
import ast
import operator

from ..runtime.rules import rule_for
from . import ir
from .entry_values import needs_test
from .inline import instantiate, template_of
from .lines import COMMENT


class AdjointStatements:
    """Statement adjoints of :class:`~knetc.transform.reverse.ReverseEmitter`."""

    def reverse(self, stmts, out, indent, locals_, in_loop):
        for s in reversed(stmts):
            self.reading.append(s)        # the statement whose reads the adjoints accumulate into
            self.reverse_one(s, out, indent, locals_, in_loop)
            self.reading.pop()

    def reverse_one(self, s, out, indent, locals_, in_loop):
        if isinstance(s, ir.Assign):
            self.reverse_assign(s, out, indent, locals_, in_loop)
        elif isinstance(s, ir.SetItem):
            self.reverse_setitem(s, out, indent)
        elif isinstance(s, ir.Append):
            self.reverse_append(s, out, indent)
        elif isinstance(s, ir.If):
            self.reverse_if(s, out, indent, in_loop)
        elif isinstance(s, (ir.For, ir.While)):
            self.reverse_loop(s, out, indent, in_loop)

    def comment(self, out, indent, line):
        text = self.unit.source.line_text(line)
        if text and out.last_comment != (line, indent):
            out.comment(indent, f"Grad of: {text}", line)
            out.last_comment = (line, indent)

    def reverse_assign(self, s, out, indent, locals_, in_loop):
        t = s.target
        if self._differentiated_call(s) and s.expr.mutated:
            self.comment(out, indent, s.line)
            self.adjoint_of_writing_call(s, out, indent)
        elif t in self.unit.differentiated and not self.state.is_zero(t):
            mark = len(out.items)
            self.comment(out, indent, s.line)
            self.adjoint_of(s, out, indent)
            if len(out.items) == mark + 1 and out.items[-1].kind == COMMENT:
                out.items.pop()
                out.last_comment = None
        pb = self.unit.pullback_name(s) if self._differentiated_call(s) else None
        for name in ([pb] if pb else []) + [t]:
            if self.may_save(s, name, in_loop):       # restored if the pullback reads it
                out.restore(indent, name, self.rt('_stack'), s.line)
        if t in self.unit.differentiated and id(s) in self.rebinds:
            self.reset(t, out, indent, locals_)

    def reset(self, name, out, indent, locals_):
        """The adjoint of an overwritten value starts again from zero.

        Inside a block, a variable that outlives the block must hold an array
        at the block's end; that zero is only materialised if nothing was
        accumulated into it before then (see ``finish_block``).
        """
        self.state.zero(name)
        if name not in locals_:
            self.state.defer_zero(id(locals_), name)

    def finish_block(self, out, indent, locals_):
        """Materialise the zeros a block's end state needs (see ``reset``)."""
        for name in sorted(self.state.take_deferred(id(locals_))):
            if self.state.is_zero(name):
                self.use(name)
                out.assign(indent, self.adj(name), f"{self.rt('zeros_like')}({name})")
                self.state.set(name, owned=True)

    def acc(self, name, contribution, out, indent, line=0):
        """Accumulate ``contribution`` into the adjoint of ``name``."""
        d = self.adj(name)
        kind = self.unit.kinds.of(name)
        entry = self.unit.entry_names.get(name)
        test = entry is not None and needs_test(self.holdings.get(id(self.reading[-1])), name)
        if test is None:
            return          # the caller's value of a data argument: its adjoint is not needed
        if test:
            # A data argument reassigned with differentiated values: while it
            # still holds the caller's value, its adjoint is not needed.
            self.use(name, entry)
            out.control(indent, f"if {name} is not {entry}:", line)
            if self.state.is_zero(name):
                out.assign(indent + 1, d, contribution, line)
                out.control(indent, "else:", line)
                # read-only zeros: nothing writes into this adjoint in place (not owned)
                out.assign(indent + 1, d, f"{self.rt('zeros_view')}({name})", line)
            else:
                add = f"{d} + {_summand(contribution)}" if kind == "array" else f"{self.rt('add_grad')}({d}, {contribution})"
                out.assign(indent + 1, d, add, line)
            self.state.set(name)
            return
        if self.state.is_zero(name):
            out.assign(indent, d, contribution, line)
            self.state.set(name)
        elif kind == "array":
            if self.state.owns(name):
                out.augment(indent, d, contribution, line)
            else:
                out.assign(indent, d, f"{d} + {_summand(contribution)}", line)
                self.state.own(name)
        else:
            out.assign(indent, d, f"{self.rt('add_grad')}({d}, {contribution})", line)
            self.state.disown(name)

    def materialise(self, name, out, indent):
        if self.state.is_zero(name):
            self.use(name)
            if name in self.lazy:
                # slots for the elements the forward pass saw, should the caller have added some
                like = self.snapshots.get(name, name)
                self.use(like)
                out.assign(indent, self.adj(name), f"{self.rt('zero_slots')}({like})")
            else:
                out.assign(indent, self.adj(name), f"{self.rt('zeros_like')}({name})")
            self.state.set(name, owned=True)

    def adjoint_of(self, s, out, indent):
        e, t, line = s.expr, s.target, s.line
        g = self.adj(t)
        self.state.disown(t)
        D = self.unit.differentiated
        if isinstance(e, ir.Copy):
            if e.src in D:
                self.acc(e.src, g, out, indent, line)
        elif isinstance(e, ir.Op):
            self.adjoint_of_op(e, t, g, out, indent, line)
        elif isinstance(e, ir.Subscript):
            if e.obj in D:
                self.adjoint_of_subscript(e, t, g, out, indent, line)
        elif isinstance(e, ir.Build):
            keys = e.keys if e.kind == "dict" else [str(i) for i in range(len(e.elts))]
            for key, elt in zip(keys, e.elts):
                if elt in D:
                    self.use(*([key] if key in self.unit.locals else []))
                    self.acc(elt, f"{g}[{key}]", out, indent, line)
        elif isinstance(e, ir.HelperCall):
            atoms = list(e.args) + [v for _, v in e.kwargs] + [v for v in e.free if v in D]
            if not any(a in D for a in atoms):
                return
            pb = self.unit.pullback_name(s)
            self.use(pb)
            grads = self.unit.names.fresh("_g")
            out.assign(indent, grads, f"{pb}({g})", line)
            for i, a in enumerate(atoms):
                if a in D:
                    self.acc(a, f"{grads}[{i}]", out, indent, line)

    def adjoint_of_writing_call(self, s, out, indent):
        """A helper that writes into container arguments: hand it their adjoints.

        The pullback gets the adjoint of each written container's state after
        the call and returns the adjoint of its state before the call, which
        replaces (not adds to) the caller's.
        """
        e, t = s.expr, s.target
        D = self.unit.differentiated
        pb = self.unit.pullback_name(s)
        self.use(pb)
        if t in D and not self.state.is_zero(t):
            g = self.adj(t)
        else:
            self.use(t)
            g = f"{self.rt('zeros_like')}({t})"
        written = [m for m in e.mutated if m in D]
        for m in written:
            self.materialise(m, out, indent)
        grads = self.unit.names.fresh("_g")
        afters = "".join(f", {self.adj(m)}" for m in written)
        out.assign(indent, grads, f"{pb}({g}{afters})", s.line)
        atoms = list(e.args) + [v for _, v in e.kwargs] + [v for v in e.free if v in D]
        for i, a in enumerate(atoms):
            if a not in D:
                continue
            if a in written:
                out.assign(indent, self.adj(a), f"{grads}[{i}]", s.line)
                self.state.set(a)
            else:
                self.acc(a, f"{grads}[{i}]", out, indent, s.line)

    def adjoint_of_op(self, e, t, g, out, indent, line):
        D = self.unit.differentiated
        positions = [(i, a) for i, a in enumerate(e.args) if a in D]
        keywords = [(k, a) for k, a in e.kwargs if a in D]
        if not positions and not keywords:
            return
        rule = rule_for(e.fun) if e.fun is not None else None
        if rule is None:
            raise self.unit.error_at(line, f"{_describe(e)} on a differentiated value",
                                  "it has no derivative rule (register one with knet.defvjp)")
        call_args = list(e.args)
        kw_text = "".join(f", {k}={a}" for k, a in e.kwargs)
        contributions = []
        for i, a in positions:
            vjp = rule.vjp(i, gpu=self.unit.on_gpu)
            if vjp is None:
                raise self.unit.error_at(line, f"differentiating {_describe(e)} with respect to argument {i + 1}",
                                      "its rule has no derivative for that argument")
            contributions.append((a, self.vjp_text(vjp, g, t, call_args, kw_text, e)))
        if (len(contributions) == 2 and contributions[0] == contributions[1]
                and self.unit.kinds.of(contributions[0][0]) == "array"):
            # x * x, x + x: one contribution doubled (c * 2 is exactly c + c)
            a, text = contributions[0]
            contributions = [(a, f"{_operand(text)} * 2")]
        for a, text in contributions:
            self.acc(a, text, out, indent, line)
        for k, a in keywords:
            vjp = rule.kwvjps.get(k)
            if vjp is None:
                raise self.unit.error_at(line, f"differentiating {_describe(e)} with respect to {k}=",
                                      "its rule has no derivative for that argument")
            self.acc(a, self.vjp_text(vjp, g, t, call_args, kw_text, e), out, indent, line)

    def vjp_text(self, vjp, g, t, args, kw_text, e):
        tmpl = None if kw_text else template_of(vjp)
        if tmpl is not None and len(tmpl.params) == 2 + len(args):
            used = _names_used(tmpl)
            texts = [g, t] + list(args)
            for param, text in zip(tmpl.params, texts):
                if param in used:
                    self.use(text)
            renames = self.unit.bind_free_names(tmpl.free)
            return instantiate(tmpl, texts, renames)
        self.use(t, *args, *[a for _, a in e.kwargs])
        name = self.unit.bind_helper(vjp, _short_label(e) + "_vjp")
        return f"{name}({g}, {t}, {', '.join(args)}{kw_text})"

    def adjoint_of_subscript(self, e, t, g, out, indent, line):
        obj = e.obj
        kind = self.unit.kinds.of(obj)
        self.use(*e.atoms)
        if kind in ("list", "tuple", "dict") and (e.basic or kind == "dict") and ":" not in e.index_src:
            self.materialise(obj, out, indent)
            d = self.adj(obj)
            if self.unit.kinds.elem.get(obj) == "array":
                out.item(indent, f"{d}[{e.index_src}] = {d}[{e.index_src}] + {g}", line)
            else:
                out.add(indent, f"{self.rt('add_at')}({d}, {e.index_value}, {g})", line)
            return
        if kind == "array" and e.basic:
            if self.state.is_zero(obj):
                self.materialise(obj, out, indent)
            elif not self.state.owns(obj):
                out.assign(indent, self.adj(obj), f"{self.adj(obj)}.copy()", line)
                self.state.own(obj)
            out.item(indent, f"{self.adj(obj)}[{e.index_src}] += {g}", line)
            return
        rule = rule_for(operator.getitem)
        self.use(obj, t)
        name = self.unit.bind_helper(rule.vjp(0), "getitem_vjp")
        self.acc(obj, f"{name}({g}, {t}, {obj}, {e.index_value})", out, indent, line)

    def reverse_setitem(self, s, out, indent):
        if s.obj not in self.unit.differentiated:
            return
        self.comment(out, indent, s.line)
        self.materialise(s.obj, out, indent)
        d = self.adj(s.obj)
        self.use(*s.atoms)
        if s.value in self.unit.differentiated:
            self.acc(s.value, f"{d}[{s.index_src}]", out, indent, s.line)
        # the slot before the write held the replaced element: zeros of its shape, not v's
        like = s.previous or f"{d}[{s.index_src}]"
        self.use(like)
        out.item(indent, f"{d}[{s.index_src}] = {self.rt('zeros_like')}({like})", s.line)

    def reverse_append(self, s, out, indent):
        if s.obj not in self.unit.differentiated:
            return
        self.comment(out, indent, s.line)
        self.materialise(s.obj, out, indent)
        d = self.adj(s.obj)
        if s.pop:       # the popped element's slot comes back, at zero (its read adds into it)
            self.use(s.value)
            out.add(indent, f"{d}.append({self.rt('zeros_like')}({s.value}))", s.line)
            return
        if s.value in self.unit.differentiated:
            self.acc(s.value, f"{d}.pop()", out, indent, s.line)
        else:
            out.add(indent, f"{d}.pop()", s.line)


def _operand(text):
    """``text`` as the left operand of ``*``: parenthesised unless it binds tighter.

    Only an inlined rule (an :class:`~knetc.transform.inline.Expr`) can bind more
    loosely; the emitter's own contributions are names, subscripts and calls."""
    node = getattr(text, "node", None)
    if node is None or isinstance(node, (ast.Call, ast.Name, ast.Attribute, ast.Subscript, ast.Constant)):
        return text
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Div, ast.Pow, ast.MatMult)):
        return text
    return f"({text})"


def _summand(text):
    """``text`` as the right operand of ``+``: an inlined VJP that is a conditional
    expression (``a if c else b``) or binds more loosely than ``+`` gets parentheses."""
    node = getattr(text, "node", None)
    if isinstance(node, (ast.IfExp, ast.Lambda, ast.BoolOp, ast.Compare, ast.NamedExpr)) or (
            isinstance(node, ast.BinOp) and isinstance(node.op, (ast.BitOr, ast.BitXor, ast.BitAnd,
                                                                  ast.LShift, ast.RShift))):
        return f"({text})"
    return text


def _names_used(tmpl):
    return {n.id for n in ast.walk(tmpl.body) if isinstance(n, ast.Name)}


def _short_label(e):
    label = (e.label or "op").split(".")[-1].strip("()")
    return label if label.isidentifier() else "op"


def _describe(e):
    return f"{e.label or e.text}"
