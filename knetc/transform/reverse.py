"""Reverse mode: emit the primal and the adjoint of a lowered function.

The generated function has the shape::

    def loss_vjp(w, x, y):
        <primal: the user's code, one operation per line, saving overwritten values>
        def loss_pullback(dloss):
            <adjoint: statements in reverse, '# Grad of:' the user's line>
            return (dw, None, None)
        return loss, loss_pullback

Adjoints of arrays are accumulated with ``+`` (in place when the buffer is
known to belong to the adjoint alone); containers with ``add_grad``.
The emitter tracks which adjoints are still zero so that blocks whose output
adjoint is zero are skipped and a first accumulation is an assignment.
"""
import ast

from ..runtime.rules import rule_for
from . import ir
from .analysis import assignment_sites, block_locals, bound_names, names_in, rebinding_sites, written_into
from .adjoints import AdjointState
from .inline import instantiate, template_of
from .lines import ASSIGN, COMMENT, CONTROL, RESTORE, Line, Lines


class ReverseEmitter:
    """Emits one function's vjp (see module docstring)."""

    def __init__(self, unit):
        self.u = unit                       # compile unit: names, kinds, D, source, helpers
        self.sites = assignment_sites(unit.body)
        self.reverse_reads = set()
        self.pushed = set()
        self.all_names = names_in(unit.body) | set(unit.params)
        self._guards = {}
        self.recomputed = {}                # id(stmt) -> stmt: values the reverse loop recomputes

    # ---- bookkeeping ---------------------------------------------------------
    def rt(self, name):
        """The generated code's name for the runtime helper ``name`` (never a user's name)."""
        return self.u.runtime_name(name)

    def adj(self, name):
        return self.u.adjoint_name(name)

    def use(self, *names):
        for n in names:
            if n in self.u.locals or n in self.u.entry_names.values():
                self.reverse_reads.add(n)

    def push_at_site(self, s, name, in_loop):
        """Whether the statement ``s`` must save the old value of ``name`` (see ``_saves``)."""
        return self.final_reads is not None and self._saves(s, name, in_loop, self.final_reads)

    def _saves(self, s, name, in_loop, reads):
        """Whether ``s`` saves the old value of ``name`` when the adjoint reads ``reads``.

        Only when the adjoint reads ``name`` and ``s`` may overwrite a bound
        value; a helper's pullback variable is overwritten by each iteration.
        """
        if name not in reads:
            return False
        if isinstance(s, ir.Assign) and name != s.target:
            return in_loop
        return id(s) in self.rebinds and id(s) not in self.recomputed

    # ---- driver --------------------------------------------------------------
    def lazy_containers(self):
        """Parameter containers whose adjoint slots can start as ZERO.

        Their slots are only ever accumulated into (never read as a value),
        so no zero array needs to exist for a slot nothing reaches.
        """
        written = {s.obj for s in ir.walk(self.u.body) if isinstance(s, (ir.SetItem, ir.Append))}
        written |= {m for s in ir.walk(self.u.body) if isinstance(s, ir.Assign)
                    for m in getattr(s.expr, "mutated", [])}
        return {p for p in self.u.params
                if self.u.kinds.of(p) in ("list", "tuple", "dict") and self.sites.get(p, 0) == 0
                and p not in written}

    def guard(self, s):
        """The ``if test: <body> else: brk = True`` of a guarded while (see ir.While) whose test
        statements need no adjoint and save nothing, else None.

        Its forward then counts only the iterations whose test held, and its
        reverse replays their bodies, without saving the test."""
        if not (isinstance(s, ir.While) and s.guarded):
            return None
        if id(s) not in self._guards:
            self._guards[id(s)] = self._clean_guard(s)
        return self._guards[id(s)]

    def _clean_guard(self, s):
        if not (s.body and isinstance(s.body[-1], ir.If)):
            return None
        g, test_part = s.body[-1], s.body[:-1]
        if not (len(g.orelse) == 1 and isinstance(g.orelse[0], ir.Assign) and g.orelse[0].target == s.brk):
            return None
        inner = list(ir.walk(test_part))
        if not all(isinstance(st, ir.If) or (isinstance(st, ir.Assign) and st.target not in self.u.D
                                             and not isinstance(st.expr, ir.HelperCall)) for st in inner):
            return None
        targets = {st.target for st in inner if isinstance(st, ir.Assign)}
        skip = {id(st) for st in inner} | {id(g)}
        read_elsewhere = set(self.u.params) | {self.u.result}
        for st in ir.walk(self.u.body):
            if id(st) not in skip:
                read_elsewhere |= _own(st) if isinstance(st, (ir.For, ir.While)) else \
                    {st.test} if isinstance(st, ir.If) else names_in([st])
        return None if targets & read_elsewhere else g

    def emit(self):
        self.lazy = self.lazy_containers()
        self.rebinds = rebinding_sites(self.u.body, set(self.u.params) | set(self.u.freevars))
        # First pass finds the values the adjoint reads; the second emits for real.
        self.final_reads = None
        self.recomputed = recomputable(self.u, self._replayed)
        reads = self._reverse_pass()[1]
        reads |= self._recompute_inputs(reads)
        self.final_reads = reads | self._control_reads(reads)
        # recomputed where they are read: the pullback holds them as its own locals
        self.pullback_locals = {s.target for s in self.recomputed.values()}
        rev, reads = self._reverse_pass()
        self.final_reads_entry = reads
        fwd = Lines()
        self.pushed = set()
        self._dead_flags = {w.brk for w in ir.walk(self.u.body) if self.guard(w)}
        self.forward(self.u.body, fwd, 1, False)
        return fwd, rev

    def _control_reads(self, reads):
        """The tests (and loop sequences and counts) the adjoint reads besides ``reads``.

        A block whose reverse restores a saved value keeps its header (``if c:``,
        ``for i in reversed(seq):``), so it reads its test; that test may then be
        saved inside another block, whose header is then kept too: a fixed point.
        """
        needed = set(reads)
        while True:
            added = self._kept_headers(self.u.body, needed, False)[1] - needed
            if not added:
                return needed - set(reads)
            needed |= added

    def _kept_headers(self, stmts, reads, in_loop):
        """(whether the reverse of ``stmts`` restores a value, the tests of the blocks in it that do)."""
        restores, tests = False, set()
        for s in stmts:
            if isinstance(s, ir.Assign):
                names = [s.target] + ([self.u.pullback_name(s)] if self._differentiated_call(s) else [])
                restores |= any(self._saves(s, n, in_loop, reads) for n in names)
            elif isinstance(s, ir.If):
                inner = [self._kept_headers(b, reads, in_loop) for b in (s.body, s.orelse)]
                tests |= inner[0][1] | inner[1][1]
                if inner[0][0] or inner[1][0]:
                    restores = True
                    tests.add(s.test)
            elif isinstance(s, (ir.For, ir.While)):
                inner_restores, inner_tests = self._kept_headers(self._replayed(s), reads, True)
                tests |= inner_tests
                if inner_restores:
                    restores = True
                    tests |= _own(s) - ({s.target} if isinstance(s, ir.For) else set())
                if isinstance(s, ir.For) and self._saves(s, s.target, in_loop, reads):
                    restores = True
        return restores, tests & self.u.locals

    def _reverse_pass(self):
        self.reverse_reads = set()
        self.state = AdjointState(self.u.D, self.u.result)
        out = Lines()
        for k, p in enumerate(p for p in self.u.entry_mutated if p in self.u.D):
            # the adjoint of the container's final state, from the caller
            self.use(p)
            after = self.rt("after")
            out.assign(2, self.adj(p), f"{after}[{k}] if {after} else {self.rt('zeros_like')}({p})")
            self.state.set(p)
        self.reverse(self.u.body, out, 2, locals_=set(self.u.locals), in_loop=False)
        return out, set(self.reverse_reads)

    # ---- forward sweep -------------------------------------------------------
    def push_lines(self, s, names, out, indent, in_loop, line):
        for n in names:
            if self.push_at_site(s, n, in_loop):
                self.pushed.add(n)
                out.add(indent, f"{self.rt('_stack')}.append({n})", line)

    def forward(self, stmts, out, indent, in_loop):
        for s in stmts:
            line = s.line
            if isinstance(s, ir.Assign):
                if s.target in self._dead_flags:
                    continue        # the break flag of a guarded while: it leaves with break
                names = [s.target]
                if self._differentiated_call(s):
                    names.append(self.u.pullback_name(s))
                self.push_lines(s, names, out, indent, in_loop, line)
                text, targets = self.primal_assign(s)
                out.add(indent, text, line, ASSIGN, targets)
            elif isinstance(s, ir.SetItem):
                out.item(indent, f"{s.obj}[{s.index_src}] = {s.value}", line)
            elif isinstance(s, ir.Append) and s.pop:
                out.add(indent, f"{s.obj}.pop()", line)
            elif isinstance(s, ir.Append):
                out.add(indent, f"{s.obj}.append({s.value})", line)
            elif isinstance(s, ir.Effect):
                for text in s.text.splitlines():
                    out.add(indent, text, line)
            elif isinstance(s, ir.LocalDef):
                for text in s.text.splitlines():
                    out.add(indent, text, line, "def", [s.name])
            elif isinstance(s, ir.If):
                out.control(indent, f"if {s.test}:", line)
                self._forward_block(s.body, out, indent + 1, in_loop)
                if s.orelse:
                    out.control(indent, "else:", line)
                    self._forward_block(s.orelse, out, indent + 1, in_loop)
            elif isinstance(s, ir.For):
                self.push_lines(s, [s.target], out, indent, in_loop, line)
                out.control(indent, f"for {s.target} in {s.seq}:", line, [s.target])
                if s.brk:
                    self._break_test(s, out, indent + 1, line)
                self._forward_block(s.body, out, indent + 1, True)
            elif isinstance(s, ir.While) and self.guard(s):
                g = self.guard(s)
                out.control(indent, "while True:", line)
                self.forward(s.body[:-1], out, indent + 1, True)
                out.control(indent + 1, f"if {g.test}:", g.line)
                out.augment(indent + 2, s.count, "1", line)
                self.forward(g.body, out, indent + 2, True)
                out.control(indent + 1, "else:", g.line)
                out.control(indent + 2, "break", g.line)
            elif isinstance(s, ir.While):
                out.control(indent, "while True:", line)
                self._break_test(s, out, indent + 1, line)
                self._forward_block(s.body, out, indent + 1, True)

    def _break_test(self, s, out, indent, line):
        """The top of a loop's iteration: leave on the break flag, else count the iteration."""
        out.control(indent, f"if {s.brk}:", line)
        out.control(indent + 1, "break", line)
        out.augment(indent, s.count, "1", line)

    def _forward_block(self, stmts, out, indent, in_loop):
        n = len(out.items)
        self.forward(stmts, out, indent, in_loop)
        if len(out.items) == n:
            out.control(indent, "pass")

    def _differentiated_call(self, s):
        e = s.expr
        return isinstance(e, ir.HelperCall) and (
            s.target in self.u.D or any(m in self.u.D for m in e.mutated))

    def primal_assign(self, s):
        """The primal line of an assignment and the names it binds."""
        e, t = s.expr, s.target
        plain = ir.plain_assignment(s)
        if plain is not None:
            return plain, [t]
        if isinstance(e, ir.HelperCall):
            args = ", ".join(list(e.args) + [f"{k}={v}" for k, v in e.kwargs])
            if self._differentiated_call(s):
                mask = tuple(a in self.u.D for a in list(e.args) + [v for _, v in e.kwargs])
                free = [v for v in e.free if v in self.u.D]
                if not any(mask) and not free:
                    return self._plain_call(t, e, args), [t]
                sep = ", " if args else ""
                extra = f", _free={_names_tuple(free)}" if free else ""
                if e.fun is not None and not e.kwargs:
                    self.u.static_calls.append((e.fun, mask))
                pb = self.u.pullback_name(s)
                return (f"{t}, {pb} = {self.rt('call_vjp')}({e.func}, {_mask_text(mask)}{sep}{args}{extra})",
                        [t, pb])
            return self._plain_call(t, e, args), [t]
        raise AssertionError(e)

    def _plain_call(self, t, e, args):
        """A helper call that needs no gradient; in code compiled for CuPy arguments the
        arrays it creates (``np.zeros``...) go to the GPU too (see runtime/creation.py)."""
        if self.u.on_gpu:
            return f"{t} = {self.rt('call_on_gpu')}({e.func}{', ' if args else ''}{args})"
        return f"{t} = {e.func}({args})"

    # ---- reverse sweep -------------------------------------------------------
    def reverse(self, stmts, out, indent, locals_, in_loop):
        for s in reversed(stmts):
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
        text = self.u.source.line_text(line)
        if text and out.last_comment != (line, indent):
            out.comment(indent, f"Grad of: {text}", line)
            out.last_comment = (line, indent)

    def reverse_assign(self, s, out, indent, locals_, in_loop):
        t = s.target
        if self._differentiated_call(s) and s.expr.mutated:
            self.comment(out, indent, s.line)
            self.adjoint_of_writing_call(s, out, indent)
        elif t in self.u.D and not self.state.is_zero(t):
            mark = len(out.items)
            self.comment(out, indent, s.line)
            self.adjoint_of(s, out, indent)
            if len(out.items) == mark + 1 and out.items[-1].kind == COMMENT:
                out.items.pop()
                out.last_comment = None
        pb = self.u.pullback_name(s) if self._differentiated_call(s) else None
        for name in ([pb] if pb else []) + [t]:
            if self.push_at_site(s, name, in_loop):
                out.restore(indent, name, self.rt('_stack'), s.line)
        if t in self.u.D and id(s) in self.rebinds:
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
        kind = self.u.kinds.of(name)
        entry = self.u.entry_names.get(name)
        if entry is not None:
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
                out.assign(indent, self.adj(name), f"{self.rt('zero_slots')}({name})")
            else:
                out.assign(indent, self.adj(name), f"{self.rt('zeros_like')}({name})")
            self.state.set(name, owned=True)

    def adjoint_of(self, s, out, indent):
        e, t, line = s.expr, s.target, s.line
        g = self.adj(t)
        self.state.disown(t)
        D = self.u.D
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
                    self.use(*([key] if key in self.u.locals else []))
                    self.acc(elt, f"{g}[{key}]", out, indent, line)
        elif isinstance(e, ir.HelperCall):
            atoms = list(e.args) + [v for _, v in e.kwargs] + [v for v in e.free if v in D]
            if not any(a in D for a in atoms):
                return
            pb = self.u.pullback_name(s)
            self.use(pb)
            grads = self.u.names.fresh("_g")
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
        D = self.u.D
        pb = self.u.pullback_name(s)
        self.use(pb)
        if t in D and not self.state.is_zero(t):
            g = self.adj(t)
        else:
            self.use(t)
            g = f"{self.rt('zeros_like')}({t})"
        written = [m for m in e.mutated if m in D]
        for m in written:
            self.materialise(m, out, indent)
        grads = self.u.names.fresh("_g")
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
        D = self.u.D
        positions = [(i, a) for i, a in enumerate(e.args) if a in D]
        keywords = [(k, a) for k, a in e.kwargs if a in D]
        if not positions and not keywords:
            return
        rule = rule_for(e.fun) if e.fun is not None else None
        if rule is None:
            raise self.u.error_at(line, f"{_describe(e)} on a differentiated value",
                                  "it has no derivative rule (register one with knet.defvjp)")
        call_args = list(e.args)
        kw_text = "".join(f", {k}={a}" for k, a in e.kwargs)
        contributions = []
        for i, a in positions:
            vjp = rule.vjp(i, gpu=self.u.on_gpu)
            if vjp is None:
                raise self.u.error_at(line, f"differentiating {_describe(e)} with respect to argument {i + 1}",
                                      "its rule has no derivative for that argument")
            contributions.append((a, self.vjp_text(vjp, g, t, call_args, kw_text, e)))
        if (len(contributions) == 2 and contributions[0] == contributions[1]
                and self.u.kinds.of(contributions[0][0]) == "array"):
            # x * x, x + x: one contribution doubled (c * 2 is exactly c + c)
            a, text = contributions[0]
            contributions = [(a, f"{_operand(text)} * 2")]
        for a, text in contributions:
            self.acc(a, text, out, indent, line)
        for k, a in keywords:
            vjp = rule.kwvjps.get(k)
            if vjp is None:
                raise self.u.error_at(line, f"differentiating {_describe(e)} with respect to {k}=",
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
            renames = self.u.bind_free_names(tmpl.free)
            return instantiate(tmpl, texts, renames)
        self.use(t, *args, *[a for _, a in e.kwargs])
        name = self.u.bind_helper(vjp, _short_label(e) + "_vjp")
        return f"{name}({g}, {t}, {', '.join(args)}{kw_text})"

    def adjoint_of_subscript(self, e, t, g, out, indent, line):
        obj = e.obj
        kind = self.u.kinds.of(obj)
        self.use(*e.atoms)
        if kind in ("list", "tuple", "dict") and (e.basic or kind == "dict") and ":" not in e.index_src:
            self.materialise(obj, out, indent)
            d = self.adj(obj)
            if self.u.kinds.elem.get(obj) == "array":
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
        import operator
        rule = rule_for(operator.getitem)
        self.use(obj, t)
        name = self.u.bind_helper(rule.vjp(0), "getitem_vjp")
        self.acc(obj, f"{name}({g}, {t}, {obj}, {e.index_value})", out, indent, line)

    def reverse_setitem(self, s, out, indent):
        if s.obj not in self.u.D:
            return
        self.comment(out, indent, s.line)
        self.materialise(s.obj, out, indent)
        d = self.adj(s.obj)
        self.use(*s.atoms)
        if s.value in self.u.D:
            self.acc(s.value, f"{d}[{s.index_src}]", out, indent, s.line)
        out.item(indent, f"{d}[{s.index_src}] = {self.rt('zeros_like')}({d}[{s.index_src}])", s.line)

    def reverse_append(self, s, out, indent):
        if s.obj not in self.u.D:
            return
        self.comment(out, indent, s.line)
        self.materialise(s.obj, out, indent)
        d = self.adj(s.obj)
        if s.pop:       # the popped element's slot comes back, at zero (its read adds into it)
            self.use(s.value)
            out.add(indent, f"{d}.append({self.rt('zeros_like')}({s.value}))", s.line)
            return
        if s.value in self.u.D:
            self.acc(s.value, f"{d}.pop()", out, indent, s.line)
        else:
            out.add(indent, f"{d}.pop()", s.line)

    def _enter_block(self, stmts, out, indent):
        """Materialise adjoints a block touches that are not local to it.

        Variables local to the block (or to blocks nested in it) start each
        pass through it with a zero adjoint.
        """
        local = block_locals(stmts, self.u.names_outside(stmts))
        touched = {n for n in self.exposed(stmts) if n in self.u.D} - local
        for n in sorted(touched):
            self.materialise(n, out, indent)
        for n in local:
            self.state.zero(n)
        return local, touched

    def exposed(self, stmts):
        """Names a block mentions, less those local to the blocks nested in it."""
        out = set()
        for s in stmts:
            if isinstance(s, ir.If):
                for b in (s.body, s.orelse):
                    out |= self.exposed(b) - block_locals(b, self.u.names_outside(b))
                out.add(s.test)
            elif isinstance(s, (ir.For, ir.While)):
                out |= self.exposed(s.body) - block_locals(s.body, self.u.names_outside(s.body))
                out |= _own(s)
            else:
                out |= names_in([s])
        return out

    def reverse_if(self, s, out, indent, in_loop):
        if self._moves_only_zeros(s):
            self._restores_only(lambda lines: self._adjoint_if(s, lines, indent, in_loop), out)
        else:
            self._adjoint_if(s, out, indent, in_loop)

    def _adjoint_if(self, s, out, indent, in_loop):
        local_b, touched_b = self._enter_block(s.body, out, indent)
        local_o, touched_o = self._enter_block(s.orelse, out, indent)
        owned = self.state.owned_snapshot()
        body, orelse = Lines(), Lines()
        self.reverse(s.body, body, indent + 1, local_b, in_loop)
        self.finish_block(body, indent + 1, local_b)
        self.state.restore_owned(owned)      # each branch starts from the state before the if
        self.reverse(s.orelse, orelse, indent + 1, local_o, in_loop)
        self.finish_block(orelse, indent + 1, local_o)
        self.state.disown(*(touched_b | touched_o))   # either branch may have replaced their buffers
        for n in local_b | local_o:
            self.state.zero(n)
        if not body.items and not orelse.items:
            return
        self.use(s.test)
        if body.items:
            out.control(indent, f"if {s.test}:", s.line)
            out.extend(body)
            if orelse.items:
                out.control(indent, "else:", s.line)
                out.extend(orelse)
        else:
            out.control(indent, f"if not {s.test}:", s.line)
            out.extend(orelse)

    def reverse_loop(self, s, out, indent, in_loop):
        if self._moves_only_zeros(s):
            self._restores_only(lambda lines: self._adjoint_loop(s, lines, indent), out)
        else:
            self._adjoint_loop(s, out, indent)
        if isinstance(s, ir.For) and self.push_at_site(s, s.target, in_loop):
            out.restore(indent, s.target, self.rt('_stack'), s.line)

    def _moves_only_zeros(self, s):
        """True when no adjoint reaches an if or a loop: what it writes that outlives it has a zero adjoint.

        Its reverse pass would then only move zeros (and turn a NaN or inf that
        it computed, in a value nothing uses, into a NaN gradient).
        """
        blocks = [s.body, s.orelse] if isinstance(s, ir.If) else [s.body]
        local = set().union(*(block_locals(b, self.u.names_outside(b)) for b in blocks))
        written = written_into([s]).union(*(bound_names(st) for st in ir.walk([s])))
        live = (written - local) & self.u.D
        return all(self.state.is_zero(n) for n in live)

    def _restores_only(self, emit, out):
        """Emit a block's reverse with ``emit(lines)``, then keep only the restores of saved
        values (``x = _stack.pop()``) and the ifs and loops around them: no adjoint reaches
        the block, so everything else would compute zeros."""
        saved = self.state.snapshot()
        lines = Lines()
        emit(lines)
        self.state.restore(saved)
        kept = _restores(lines.items)
        if kept:
            indent = kept[0].indent
            kept.insert(1, Line(indent + 1, "# no adjoint reaches this block: restore what it saved", 0, COMMENT))
            out.items.extend(kept)

    def _recompute_inputs(self, reads):
        """What recomputing the values in ``reads`` reads in turn (a recomputed ``w[_t4]`` needs ``_t4``)."""
        by_target = {s.target: s for s in self.recomputed.values()}
        needed, todo = set(), [n for n in reads if n in by_target]
        while todo:
            for a in ir.reads(by_target[todo.pop()].expr):
                if a in self.u.locals and a not in reads and a not in needed:
                    needed.add(a)
                    if a in by_target:
                        todo.append(a)
        return needed

    def recompute_lines(self, stmts, out, indent):
        """At the top of a reverse iteration: the cheap values of this iteration the adjoint reads,
        computed again from the loop counter and unchanged parameters instead of saved."""
        for s in stmts:
            if id(s) in self.recomputed and s.target in self.final_reads:
                self.use(*ir.reads(s.expr))
                out.add(indent, ir.plain_assignment(s), s.line, ASSIGN, [s.target])

    def _replayed(self, s):
        """The statements of a loop's body whose reverse each adjoint iteration replays."""
        g = self.guard(s)
        return g.body if g is not None else s.body

    def _adjoint_loop(self, s, out, indent):
        local, touched = self._enter_block(self._replayed(s), out, indent)
        self.state.disown_all()       # the body runs many times: what was owned before it proves nothing
        body = Lines()
        self.reverse(self._replayed(s), body, indent + 1, local, True)
        self.finish_block(body, indent + 1, local)
        if body.items and self.final_reads is not None:
            top = Lines()
            self.recompute_lines(self._replayed(s), top, indent + 1)
            body.items[:0] = top.items
        self.state.disown_all()
        for n in local:
            self.state.zero(n)
        if body.items:
            if isinstance(s, ir.For):
                self.use(s.seq, *([s.count] if s.count else []))
                seq = f"{s.seq}[:{s.count}]" if s.count else s.seq
                out.control(indent, f"for {s.target} in {self.rt('reversed')}({seq}):", s.line, [s.target])
            else:
                self.use(s.count)
                out.control(indent, f"for {self.rt('_')} in {self.rt('range')}({s.count}):", s.line,
                            [self.rt('_')])
            out.extend(body)


def recomputable(unit, replayed):
    """Assignments in loop bodies whose value is cheap to compute again in the reverse loop.

    ``w[i]`` (a basic index) and integer arithmetic (``i + 1``) on atoms that
    hold the same value at the top of the reverse iteration as when the
    statement ran: literals, the loop counters (the reverse loop binds them
    again), parameters that nothing rebinds or writes into, and values
    recomputed before it in the same body. The statement must be the only
    binding of its target, and the target must live only in that body,
    bound before any read (so the pullback holds it as a local of its own).
    ``replayed(loop)`` gives the statements of a loop
    body that each reverse iteration replays.
    """
    sites = assignment_sites(unit.body)
    written = written_into(unit.body)
    for s in ir.walk(unit.body):
        if isinstance(s, ir.Assign) and isinstance(s.expr, ir.HelperCall):
            written.update(s.expr.array_writes)
        elif isinstance(s, ir.LocalDef):
            written.update(s.writes)
        elif isinstance(s, ir.Effect) and not s.vetted:
            written.update(s.atoms)
    fixed = {p for p in unit.params + unit.freevars
             if sites.get(p, 0) == 0 and p not in written and p not in unit.entry_names}
    out = {}

    def visit(stmts, counters):
        for s in stmts:
            if isinstance(s, ir.If):
                visit(s.body, set())       # a branch need not run: its values are not recomputed
                visit(s.orelse, set())
            elif isinstance(s, (ir.For, ir.While)):
                inner = set(counters)
                if isinstance(s, ir.For) and sites.get(s.target) == 1 and s.target in unit.int_names:
                    inner.add(s.target)
                body = replayed(s)
                local = block_locals(body, unit.names_outside(body))    # bound before any read
                stable = inner | fixed
                for st in body:
                    if _cheap(st, stable, unit) and sites.get(st.target) == 1 and st.target in local \
                            and st.target not in written:
                        out[id(st)] = st
                        stable = stable | {st.target}
                visit(s.body, inner)
    visit(unit.body, set())
    return out


def _cheap(s, stable, unit):
    if not isinstance(s, ir.Assign) or s.target in unit.params:
        return False
    e = s.expr
    ok = lambda a: isinstance(a, ir.Literal) or a in stable
    if isinstance(e, ir.Subscript):
        return e.basic and e.obj in stable and all(ok(a) for a in e.atoms)
    if isinstance(e, ir.Op) and e.label in ("+", "-", "*", "//", "%") and s.target in unit.int_names:
        return all(ok(a) for a in e.args) and not e.kwargs
    return False


def _restores(items):
    """The lines of ``items`` that restore a saved value, with the block headers they need."""
    kept = []
    i = 0
    while i < len(items):
        ln = items[i]
        if ln.kind == CONTROL and ln.text.endswith(":"):
            j = i + 1
            while j < len(items) and items[j].indent > ln.indent:
                j += 1
            inner = _restores(items[i + 1:j])
            if inner:
                if ln.text == "else:" and not (kept and kept[-1].indent >= ln.indent):
                    # the if branch restores nothing: keep its header with an empty body
                    head = next(k for k in range(i - 1, -1, -1) if items[k].indent == ln.indent)
                    kept += [items[head], Line(ln.indent + 1, "pass", 0, CONTROL)]
                kept += [ln] + inner
            i = j
        else:
            if ln.kind == RESTORE:
                kept.append(ln)
            i += 1
    return kept


def _own(s):
    if isinstance(s, ir.For):
        return {s.target, s.seq} | ({s.count} if s.count else set())
    return {s.count}


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


def _names_tuple(names):
    return "(" + ", ".join(repr(n) for n in names) + ("," if len(names) == 1 else "") + ")"


def _mask_text(mask):
    return "(" + ", ".join(str(m) for m in mask) + ("," if len(mask) == 1 else "") + ")"


def _short_label(e):
    label = (e.label or "op").split(".")[-1].strip("()")
    return label if label.isidentifier() else "op"


def _describe(e):
    return f"{e.label or e.text}"
