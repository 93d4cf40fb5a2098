"""Values a reverse loop recomputes instead of saving them each iteration.

Consumes the lowered body and the compile unit (params, int-valued names);
guarantees that every statement it returns binds a value that, at the top
of each reverse iteration, computing it again gives exactly what the forward
iteration bound (see ``recomputable``).
"""
from dataclasses import replace

from . import ir
from .analysis import assignment_sites, block_locals, written_into


def recomputable(unit, replayed):
    """Assignments in loop bodies whose value is cheap to compute again in the reverse loop,
    as ``(recomputed, snapshots)``.

    ``recomputed`` maps ``id(stmt)`` to the statement the reverse loop runs
    instead: ``w[i]`` (a basic index into an array, a tuple or a list parameter)
    and integer arithmetic (``i + 1``) on atoms that
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
    out, snapshots = {}, {}

    def snapshot(p):
        if p not in snapshots:
            snapshots[p] = unit.names.fresh(f"{p}_at_entry")
        return snapshots[p]

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
                    if _cheap(st, stable, fixed, unit) and sites.get(st.target) == 1 and st.target in local \
                            and st.target not in written:
                        e, again = st.expr, st
                        if isinstance(e, ir.Subscript) and unit.kinds.of(e.obj) == "list":
                            again = replace(st, expr=replace(e, obj=snapshot(e.obj)))
                        out[id(st)] = again
                        stable = stable | {st.target}
                visit(s.body, inner)
    visit(unit.body, set())
    return out, snapshots


def _cheap(s, stable, fixed, unit):
    if not isinstance(s, ir.Assign) or s.target in unit.params:
        return False
    e = s.expr
    ok = lambda a: isinstance(a, ir.Literal) or a in stable
    if isinstance(e, ir.Subscript):
        # compiled code never changes arrays and tuples in place; a list is read again only
        # if it is a parameter (from its copy at entry: see ``recomputable``), a dict never
        kind = unit.kinds.of(e.obj)
        return (e.basic and e.obj in stable and all(ok(a) for a in e.atoms)
                and (kind in ("array", "tuple") or (kind == "list" and e.obj in fixed)))
    if isinstance(e, ir.Op) and e.label in ("+", "-", "*", "//", "%") and s.target in unit.int_names:
        return all(ok(a) for a in e.args) and not e.kwargs
    return False
