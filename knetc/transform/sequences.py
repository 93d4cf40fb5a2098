"""Two rewrites for Python's iteration and list semantics, run after the fence.

Consumes the IR with its kinds. Guarantees:

* :func:`iterate_dicts`: ``for k in d`` over a dict binds the keys
  (the loop runs over ``list(d)``, not over positions of ``d``);
* :func:`snapshot_lists`: a rule given a list that is written into later
  (or that the caller may append to: a parameter, a closure variable) gets a
  copy of it, so the reverse sweep, which sees containers in their final
  state, gives ``np.stack(hs)`` the list as it was when it was called.
"""

from . import ir
from .analysis import written_into


def iterate_dicts(unit):
    """'for k in d' over a dict binds keys: iterate over list(d), not positions."""
    for seq, xs, index in unit.plain_loops:
        if unit.kinds.of(xs) != "dict":
            continue
        for s in ir.walk(unit.body):
            if isinstance(s, ir.Assign) and s.target == seq:
                s.expr = ir.Const(f"{unit.runtime_name('list')}({xs})", [xs])
            elif (isinstance(s, ir.Assign) and isinstance(s.expr, ir.Subscript)
                  and s.expr.obj == xs and s.expr.index_src == index):
                s.expr = ir.Copy(index)


def snapshot_lists(unit):
    """A rule given a list that is written into later gets a copy of it (see module docstring)."""
    stmts = unit.body
    written = written_into(stmts) | set(unit.params) | set(unit.freevars)
    if not written:
        return
    for block in ir.blocks(stmts):
        for s in list(block):
            if not (isinstance(s, ir.Assign) and isinstance(s.expr, ir.Op)):
                continue
            for i, a in enumerate(s.expr.args):
                if a in written and unit.kinds.of(a) == "list":
                    snap = unit.names.temp("s")
                    block.insert(block.index(s), ir.Assign(line=s.line, target=snap, expr=ir.Op(
                        ir.call_form(unit.runtime_name('list'), 1), list, [a], label="list")))
                    unit.kinds.kind[snap] = "list"
                    unit.kinds.elem[snap] = unit.kinds.elem.get(a)
                    s.expr.args[i] = snap        # the Op's text renders from its arguments

