"""Adjoints of ifs and loops: blocks replayed in reverse.

Part of the reverse-mode emitter (see reverse.py). An ``if`` replays the
branch that ran (its test was saved or is still bound); a loop runs again
backwards over the same sequence (``for i in reversed(seq)``) or as many
times as it ran (``for _ in range(n)``). A block that no adjoint reaches
keeps only the restores of the values it saved. Adjoints local to a block
start at zero each pass; the adjoints it touches that outlive it are
materialised before it.
"""
from . import ir
from .analysis import block_locals, bound_names, names_in, written_into
from .lines import COMMENT, CONTROL, RESTORE, Line, Lines


class AdjointBlocks:
    """Block adjoints of :class:`~knetc.transform.reverse.ReverseEmitter`."""

    def _enter_block(self, stmts, out, indent):
        """Materialise adjoints a block touches that are not local to it.

        Variables local to the block (or to blocks nested in it) start each
        pass through it with a zero adjoint.
        """
        local = block_locals(stmts, self.unit.names_outside(stmts))
        touched = {n for n in self.exposed(stmts) if n in self.unit.differentiated} - local
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
                    out |= self.exposed(b) - block_locals(b, self.unit.names_outside(b))
                out.add(s.test)
            elif isinstance(s, (ir.For, ir.While)):
                out |= self.exposed(s.body) - block_locals(s.body, self.unit.names_outside(s.body))
                out |= own_names(s)
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
        if body.items:
            out.control(indent, f"if {s.test}:", s.line, reads=(s.test,), negated=f"if not {s.test}:")
            out.extend(body)
            if orelse.items:
                out.control(indent, "else:", s.line)
                out.extend(orelse)
        else:
            out.control(indent, f"if not {s.test}:", s.line, reads=(s.test,))
            out.extend(orelse)

    def reverse_loop(self, s, out, indent, in_loop):
        if self._moves_only_zeros(s):
            self._restores_only(lambda lines: self._adjoint_loop(s, lines, indent), out)
        else:
            self._adjoint_loop(s, out, indent)
        if isinstance(s, ir.For) and self.may_save(s, s.target, in_loop):
            out.restore(indent, s.target, self.rt('_stack'), s.line)

    def _moves_only_zeros(self, s):
        """True when no adjoint reaches an if or a loop: what it writes that outlives it has a zero adjoint.

        Its reverse pass would then only move zeros (and turn a NaN or inf that
        it computed, in a value nothing uses, into a NaN gradient).
        """
        blocks = [s.body, s.orelse] if isinstance(s, ir.If) else [s.body]
        local = set().union(*(block_locals(b, self.unit.names_outside(b)) for b in blocks))
        written = written_into([s]).union(*(bound_names(st) for st in ir.walk([s])))
        live = (written - local) & self.unit.differentiated
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

    def _adjoint_loop(self, s, out, indent):
        local, touched = self._enter_block(self._replayed(s), out, indent)
        self.state.disown_all()       # the body runs many times: what was owned before it proves nothing
        body = Lines()
        self.reverse(self._replayed(s), body, indent + 1, local, True)
        self.finish_block(body, indent + 1, local)
        if body.items:
            top = Lines()
            self.recompute_lines(self._replayed(s), top, indent + 1)
            body.items[:0] = top.items
        self.state.disown_all()
        for n in local:
            self.state.zero(n)
        if body.items:
            if isinstance(s, ir.For):
                seq = f"{s.seq}[:{s.count}]" if s.count else s.seq
                out.control(indent, f"for {s.target} in {self.rt('reversed')}({seq}):", s.line, [s.target],
                            reads=(s.seq,) + ((s.count,) if s.count else ()))
            else:
                out.control(indent, f"for {self.rt('_')} in {self.rt('range')}({s.count}):", s.line,
                            [self.rt('_')], reads=(s.count,))
            out.extend(body)


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
                    kept += [items[head], Line(ln.indent + 1, "pass", 0, CONTROL, content=False)]
                kept += [ln] + inner
            i = j
        else:
            if ln.kind == RESTORE:
                kept.append(ln)
            i += 1
    return kept


def own_names(s):
    """The names a loop header mentions (target, sequence, count)."""
    if isinstance(s, ir.For):
        return {s.target, s.seq} | ({s.count} if s.count else set())
    return {s.count}
