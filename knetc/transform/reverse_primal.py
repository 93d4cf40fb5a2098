"""The primal sweep of the vjp: the user's code, one operation per line, saving overwritten values.

Part of the reverse-mode emitter (see reverse.py). Consumes the lowered body;
emits each statement as a primal line, and before a statement that
overwrites a value the adjoint reads (``push_at_site``), ``_stack.append(x)``.
A helper call with a differentiated argument becomes ``call_vjp`` and binds a
pullback; a guarded while (see ir.While) counts the iterations whose test held.
"""
from . import ir
from .lines import ASSIGN


class PrimalSweep:
    """The forward half of :class:`~knetc.transform.reverse.ReverseEmitter`."""

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
                    names.append(self.unit.pullback_name(s))
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
            s.target in self.unit.differentiated or any(m in self.unit.differentiated for m in e.mutated))

    def primal_assign(self, s):
        """The primal line of an assignment and the names it binds."""
        e, t = s.expr, s.target
        plain = ir.plain_assignment(s)
        if plain is not None:
            return plain, [t]
        if isinstance(e, ir.HelperCall):
            args = ", ".join(list(e.args) + [f"{k}={v}" for k, v in e.kwargs])
            if self._differentiated_call(s):
                mask = tuple(a in self.unit.differentiated for a in list(e.args) + [v for _, v in e.kwargs])
                free = [v for v in e.free if v in self.unit.differentiated]
                if not any(mask) and not free:
                    return self._plain_call(t, e, args), [t]
                sep = ", " if args else ""
                extra = f", _free={_names_tuple(free)}" if free else ""
                if e.fun is not None and not e.kwargs:
                    self.unit.static_calls.append((e.fun, mask))
                pb = self.unit.pullback_name(s)
                return (f"{t}, {pb} = {self.rt('call_vjp')}({e.func}, {_mask_text(mask)}{sep}{args}{extra})",
                        [t, pb])
            return self._plain_call(t, e, args), [t]
        raise AssertionError(e)

    def _plain_call(self, t, e, args):
        """A helper call that needs no gradient; in code compiled for CuPy arguments the
        arrays it creates (``np.zeros``...) go to the GPU too (see runtime/creation.py)."""
        if self.unit.on_gpu:
            return f"{t} = {self.rt('call_on_gpu')}({e.func}{', ' if args else ''}{args})"
        return f"{t} = {e.func}({args})"


def _names_tuple(names):
    return "(" + ", ".join(repr(n) for n in names) + ("," if len(names) == 1 else "") + ")"


def _mask_text(mask):
    return "(" + ", ".join(str(m) for m in mask) + ("," if len(mask) == 1 else "") + ")"
