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

The work is split by job: this module drives the emission (one reverse
sweep, then the primal) and decides which values may be saved and which
whiles are guarded; reverse_primal.py emits the primal sweep, reverse_stmt.py
the adjoint of each statement, reverse_blocks.py the adjoints of ifs and
loops, recompute.py finds the values a reverse loop recomputes, adjoints.py
keeps the state of each adjoint, settle.py decides from the emitted lines
what the pullback reads and so which restores (and saves) stay.

Consumes a compile unit (unit.Unit: lowered body, kinds, activity ``D``,
names); ``emit()`` returns the primal and the pullback's body as
:class:`~knetc.transform.lines.Lines`, and leaves behind what the assembly
needs: ``pushed`` (saved names), ``final_reads`` (what the pullback reads),
``final_reads_entry``, ``pullback_locals`` and ``state`` (the adjoints at the
pullback's end).
"""
from . import ir
from .adjoints import AdjointState
from .analysis import assignment_sites, names_in, rebinding_sites
from .entry_values import holdings
from .lines import ASSIGN, Lines
from .recompute import recomputable
from .reverse_blocks import AdjointBlocks, own_names
from .reverse_primal import PrimalSweep
from .reverse_stmt import AdjointStatements
from .settle import settle


class ReverseEmitter(PrimalSweep, AdjointStatements, AdjointBlocks):
    """Emits one function's vjp (see module docstring)."""

    def __init__(self, unit):
        self.unit = unit                       # compile unit: names, kinds, D, source, helpers
        self.sites = assignment_sites(unit.body)
        self.reverse_reads = set()
        self.pushed = set()
        self.all_names = names_in(unit.body) | set(unit.params)
        self._guards = {}
        self.recomputed = {}                # id(stmt) -> the stmt the reverse loop runs to recompute it
        self.snapshots = {}                 # list parameter -> its copy at entry (see recompute.py)
        self.holdings = holdings(unit.body, unit.params)
        self.reading = [None]               # the statements whose adjoints are being emitted

    # ---- bookkeeping ---------------------------------------------------------
    def rt(self, name):
        """The generated code's name for the runtime helper ``name`` (never a user's name)."""
        return self.unit.runtime_name(name)

    def adj(self, name):
        return self.unit.adjoint_name(name)

    def use(self, *names):
        for n in names:
            if self._readable(n):
                self.reverse_reads.add(n)

    def push_at_site(self, s, name, in_loop):
        """Whether the primal statement ``s`` saves the old value of ``name``: when the pullback
        reads ``name`` (``final_reads``, known once the reverse sweep is settled) and ``s`` may
        overwrite it."""
        return name in self.final_reads and self.may_save(s, name, in_loop)

    def may_save(self, s, name, in_loop):
        """Whether ``s`` may overwrite a bound value of ``name`` that the reverse sweep needs back;
        a helper's pullback variable is overwritten by each iteration of a loop."""
        if isinstance(s, ir.Assign) and name != s.target:
            return in_loop
        return id(s) in self.rebinds and id(s) not in self.recomputed

    # ---- driver --------------------------------------------------------------
    def lazy_containers(self):
        """Parameter containers whose adjoint slots can start as ZERO.

        Their slots are only ever accumulated into (never read as a value),
        so no zero array needs to exist for a slot nothing reaches.
        """
        written = {s.obj for s in ir.walk(self.unit.body) if isinstance(s, (ir.SetItem, ir.Append))}
        written |= {m for s in ir.walk(self.unit.body) if isinstance(s, ir.Assign)
                    for m in getattr(s.expr, "mutated", [])}
        return {p for p in self.unit.params
                if self.unit.kinds.of(p) in ("list", "tuple", "dict") and self.sites.get(p, 0) == 0
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
        if not all(isinstance(st, ir.If) or (isinstance(st, ir.Assign) and st.target not in self.unit.differentiated
                                             and not isinstance(st.expr, ir.HelperCall)) for st in inner):
            return None
        targets = {st.target for st in inner if isinstance(st, ir.Assign)}
        skip = {id(st) for st in inner} | {id(g)}
        read_elsewhere = set(self.unit.params) | {self.unit.result}
        for st in ir.walk(self.unit.body):
            if id(st) not in skip:
                read_elsewhere |= own_names(st) if isinstance(st, (ir.For, ir.While)) else \
                    {st.test} if isinstance(st, ir.If) else names_in([st])
        return None if targets & read_elsewhere else g

    def emit(self):
        """The primal and the pullback's body, as :class:`~knetc.transform.lines.Lines`.

        One reverse sweep emits the adjoint with every restore a saved value
        may need; settle.py then keeps the restores of what the pullback reads
        (and the blocks that hold them), which decides what the primal saves.
        """
        self.lazy = self.lazy_containers()
        self.rebinds = rebinding_sites(self.unit.body, set(self.unit.params) | set(self.unit.freevars))
        self.recomputed, self.snapshots = recomputable(self.unit, self._replayed)
        # recomputed where they are read: the pullback holds them as its own locals
        self.pullback_locals = {s.target for s in self.recomputed.values()}
        candidates, reads = self._reverse_pass()
        rev, self.final_reads = settle(candidates, reads, self._readable)
        self.final_reads_entry = self.final_reads
        fwd = Lines()
        self.pushed = set()
        self._dead_flags = {w.brk for w in ir.walk(self.unit.body) if self.guard(w)}
        self.forward(self.unit.body, fwd, 1, False)
        return fwd, rev

    def _readable(self, name):
        """Whether reading ``name`` counts: a local (or a saved entry value) of the function."""
        return (name in self.unit.locals or name in self.unit.entry_names.values()
                or name in self.snapshots.values())

    def _reverse_pass(self):
        self.reverse_reads = set()
        self.state = AdjointState(self.unit.differentiated, self.unit.result)
        out = Lines()
        for k, p in enumerate(p for p in self.unit.entry_mutated if p in self.unit.differentiated):
            # the adjoint of the container's final state, from the caller
            self.use(p)
            after = self.rt("after")
            out.assign(2, self.adj(p), f"{after}[{k}] if {after} else {self.rt('zeros_like')}({p})")
            self.state.set(p)
        self.reverse(self.unit.body, out, 2, locals_=set(self.unit.locals), in_loop=False)
        return out, set(self.reverse_reads)

    def recompute_lines(self, stmts, out, indent):
        """At the top of a reverse iteration: the cheap values of this iteration, computed again
        from the loop counter and unchanged parameters instead of saved (kept where read)."""
        for s in stmts:
            if id(s) in self.recomputed:
                again = self.recomputed[id(s)]
                out.add(indent, ir.plain_assignment(again), s.line, ASSIGN, [s.target], pending=s.target,
                        reads=tuple(ir.reads(again.expr)), content=False)

    def _replayed(self, s):
        """The statements of a loop's body whose reverse each adjoint iteration replays."""
        g = self.guard(s)
        return g.body if g is not None else s.body
