"""Rewrites for Python's iteration and list semantics, run after the fence.

Consumes the IR with its kinds (and, for :func:`keep_replaced`, its activity).
Guarantees:

* :func:`iterate_dicts`: ``for k in d`` over a dict binds the keys
  (the loop runs over ``list(d)``, not over positions of ``d``);
* :func:`snapshot_lists`: a rule given a list that is written into later
  (or that the caller may append to: a parameter, a closure variable) gets a
  copy of it, so the reverse sweep, which sees containers in their final
  state, gives ``np.stack(hs)`` the list as it was when it was called; the
  same for a list inside a tuple or list that only rules read (``np.array([hs, gs])``,
  ``call_jvp(f, (a, hs), ...)`` in a tangent program);
* :func:`keep_replaced`: ``hs[i] = v`` into a differentiated list or dict first
  binds the element it replaces (``_t5 = hs[i]``), so the reverse sweep resets
  that slot's adjoint to zeros shaped like the old element, not like ``v``.
"""
from dataclasses import fields

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
    rule_only = _read_only_by_rules(stmts)
    for block in ir.blocks(stmts):
        for s in list(block):
            if isinstance(s, ir.Assign) and isinstance(s.expr, ir.Op):
                args = s.expr.args
            elif (isinstance(s, ir.Assign) and isinstance(s.expr, ir.Build) and s.expr.kind != "dict"
                  and s.target in rule_only):
                args = s.expr.elts
            else:
                continue
            for i, a in enumerate(args):
                if a in written and unit.kinds.of(a) == "list":
                    snap = unit.names.temp("s")
                    block.insert(block.index(s), ir.Assign(line=s.line, target=snap, expr=ir.Op(
                        ir.call_form(unit.runtime_name('list'), 1), list, [a], label="list")))
                    unit.kinds.kind[snap] = "list"
                    unit.kinds.elem[snap] = unit.kinds.elem.get(a)
                    args[i] = snap        # the statement's text renders from its atoms


def _read_only_by_rules(stmts):
    """Names bound once and read only as arguments of rule calls (Ops)."""
    bound, by_rules, elsewhere = {}, set(), set()
    for s in ir.walk(stmts):
        if isinstance(s, ir.Assign):
            bound[s.target] = bound.get(s.target, 0) + 1
            (by_rules if isinstance(s.expr, ir.Op) else elsewhere).update(ir.reads(s.expr))
        else:       # any name a field of another statement holds (conservative)
            for f in fields(s):
                v = getattr(s, f.name)
                elsewhere.update([v] if isinstance(v, str) else
                                 [x for x in v if isinstance(x, str)] if isinstance(v, (list, tuple, set)) else [])
    return {n for n in by_rules - elsewhere if bound.get(n) == 1}


def keep_replaced(unit):
    """``obj[i] = v`` into a differentiated list or dict binds the element it replaces first
    (``obj.get(k, v)`` for a dict, whose key may be new); see the module docstring."""
    for block in ir.blocks(unit.body):
        for s in list(block):
            if not (isinstance(s, ir.SetItem) and s.obj in unit.differentiated):
                continue
            if s.old:
                s.previous = s.old
                continue
            s.previous = _read_just_before(block, s)
            if s.previous:
                continue
            kind = unit.kinds.of(s.obj)
            prev = unit.names.temp("t")
            if kind == "dict":
                expr = ir.Const(f"{s.obj}.get({s.index_value}, {s.value})", [s.obj, *s.atoms, s.value])
            else:
                expr = ir.Subscript(s.obj, s.index_src, s.index_value, True, list(s.atoms))
            block.insert(block.index(s), ir.Assign(line=s.line, target=prev, expr=expr))
            elem = unit.kinds.elem.get(s.obj)
            if elem is not None:
                unit.kinds.kind[prev] = elem
            s.previous = prev


def _read_just_before(block, s):
    """The target of a read of the element ``s`` replaces, earlier in the same block with only
    plain assignments between that bind neither it, nor the container, nor the index (``b = s[0]
    * 2`` reads ``_t1 = s[0]`` before ``s[0] = ...``); "" for none."""
    names = {s.obj, *s.atoms}
    for st in reversed(block[:block.index(s)]):
        if (not isinstance(st, ir.Assign) or isinstance(st.expr, ir.HelperCall) or st.write
                or s.obj in getattr(st.expr, "mutated", ())):
            return ""
        e = st.expr
        if isinstance(e, ir.Subscript) and e.obj == s.obj and e.index_src == s.index_src:
            return st.target if st.target not in names else ""
        if st.target in names:
            return ""
        names.add(st.target)     # a later rebinding of the read's target is seen on the way back
    return ""

