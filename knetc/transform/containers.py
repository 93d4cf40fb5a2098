"""The containers pass: Python's list, tuple and array-element semantics in IR the emitter models.

Consumes the lowered IR with its value kinds (``Unit.body``, ``Unit.kinds``).
Rewrites, in place:

* ``a + b`` on two lists (or two tuples) into concatenation: a copy of ``a``
  extended by the elements of ``b`` (``tuple(...)`` of it for tuples);
* ``xs * n`` / ``n * xs`` on a list or tuple into repetition (``n`` extensions);
* ``hs += v`` on a list into ``hs.extend(v)``, which writes into ``hs`` itself,
  as Python does (its aliases see the new elements);
* ``a[i] = v`` on an array into a functional update ``a = setitem_array(a, i, v)``,
  marked as a write into ``a`` (the fence checks nothing else sees ``a``);
* ``p.w`` on a record (a namedtuple, dataclass or registered-class value) into
  ``field_read(p, 'w')``, a rule whose adjoint is the record's sparse adjoint;
  only where every record the arguments hold with that attribute has an array
  or a number there (a field holding a container, a property, a method is an
  :class:`UnsupportedError`, so the tape runs it).

``extend_stmts`` is the one model of ``list.extend``: a snapshot of the
iterable, then one ``append`` per element, so the emitter's model of
``append`` (and its reverse, ``pop``) covers it exactly.

:func:`rewrite` is the pass: both rewrites, the kinds inferred again after
each that changed something, and calls' ``mutated`` lists cut down to
the values that can be written into (lists and dicts).

Guarantees: no ``Op`` left adds or multiplies a list or a tuple; no ``SetItem``
left writes into an array; list and tuple arithmetic on operands of other or
unknown kinds is an :class:`UnsupportedError`.
"""
import numbers

from ..errors import KnetError
from ..runtime import indexing
from ..runtime.backend import is_array
from ..runtime.rules import rule_for
from ..runtime.rules_records import field_read
from ..runtime.structure import STATIC_TYPES, flatten_one_level, is_namedtuple, is_record
from ..runtime.tree import field_position
from . import ir
from .analysis import infer_kinds


def extend_stmts(names, obj, value, line, rt=lambda name: name):
    """Statements for ``obj.extend(value)``: ``_s = list(value)``, then ``obj.append(_s[k])`` per k."""
    snap = names.temp("s")
    seq = names.temp("seq")
    k = names.temp("k")
    elt = names.temp("t")
    body = [ir.Assign(line=line, target=elt, expr=ir.Subscript(snap, k, k, True, [k])),
            ir.Append(line=line, obj=obj, value=elt)]
    return [ir.Assign(line=line, target=snap, expr=ir.Op(ir.call_form(rt('list'), 1), list, [value], label="list")),
            ir.Assign(line=line, target=seq, expr=ir.Const(f"{rt('range')}({rt('len')}({snap}))", [snap])),
            ir.For(line=line, target=k, seq=seq, body=body)]


def rewrite(unit):
    """The containers pass (see module docstring)."""
    if rewrite_arithmetic(unit):          # list and tuple +, *, list +=
        infer_kinds(unit)
    if rewrite_item_assignment(unit):     # a[i] = v on an array
        infer_kinds(unit)
    for st in ir.walk(unit.body):          # only lists and dicts can be written into
        if isinstance(st, ir.Assign) and isinstance(st.expr, ir.HelperCall):
            st.expr.mutated = [m for m in st.expr.mutated
                               if unit.kinds.of(m) not in ("tuple", "array", "other")]


def rewrite_arithmetic(unit):
    """List and tuple ``+``, ``*``, list ``+=`` and record field reads (see module docstring);
    True if anything changed."""
    fields = _rewrite(unit, _rewrite_field_read)
    return _rewrite(unit, _rewrite_arithmetic) or fields


def _rewrite_field_read(unit, block, i, s):
    if not isinstance(s, ir.Assign):
        return None
    read = _attribute_read(s.expr)
    if read is None:
        return None
    obj, name = read
    kind = unit.kinds.of(obj)
    if kind not in ("record", "tuple", "other", "unknown") or (kind != "record" and name in _ARRAY_ATTRIBUTES):
        return None
    candidates = _records_with(unit, obj, name)
    if not candidates:
        if kind != "record":
            return None        # not a record: the emitter reports the attribute
        raise unit.error_at(s.line, f"reading .{name} of a record",
                            "the compiler cannot tell which record it is")
    for record in candidates:
        _check_field(unit, record, name, s.line)
    fun_name = unit.runtime_name("field_read")
    unit.helpers[fun_name] = field_read
    op = ir.Op(ir.call_form(fun_name, 2), field_read, [obj, ir.Literal(name)], label=f".{name}")
    return i, i + 1, [ir.Assign(line=s.line, target=s.target, expr=op, write=s.write)]


_ARRAY_ATTRIBUTES = frozenset({"T", "mT", "real", "imag", "shape", "ndim", "dtype", "size", "itemsize",
                               "nbytes", "strides", "flat"})


def _attribute_read(e):
    """``(obj, name)`` if ``e`` is the read ``obj.name`` of a local, else None."""
    if isinstance(e, ir.Op) and len(e.args) == 1 and not e.kwargs:
        atoms = e.args
    elif isinstance(e, ir.Const) and len(e.atoms) == 1:
        atoms = e.atoms
    else:
        return None
    obj = atoms[0]
    prefix = f"{obj}."
    if not e.text.startswith(prefix) or not e.text[len(prefix):].isidentifier():
        return None
    return obj, e.text[len(prefix):]


def _records_with(unit, obj, name):
    """The records ``obj`` may be: its own value, or those the arguments hold with a field ``name``."""
    if obj in unit.values:
        value = unit.values[obj]
        return [value] if is_record(value) else []
    found = []
    for value in unit.values.values():
        for node in _records_in(value):
            if (is_namedtuple(node) and name in type(node)._fields) or (
                    not is_namedtuple(node) and hasattr(node, name)):
                found.append(node)
    return found


def _records_in(value):
    """Every record inside ``value``, records nested in records included."""
    found, todo = [], [value]
    while todo:
        x = todo.pop()
        level = flatten_one_level(x)
        if level is not None:
            if is_record(x):
                found.append(x)
            todo.extend(level[0])
    return found


def _check_field(unit, record, name, line):
    """Refuse (UnsupportedError) a read the rule does not model: see the module docstring."""
    if is_namedtuple(record):
        if name not in type(record)._fields:
            raise unit.error_at(line, f"{type(record).__name__}.{name}", "it is not a field of the namedtuple")
    else:
        try:
            field_position(record, name)
        except KnetError:
            raise unit.error_at(line, f"reading {type(record).__name__}.{name}",
                                "it is not a field the record's tree structure holds "
                                "(a property or a derived value)") from None
    value = getattr(record, name)
    if not (is_array(value) or isinstance(value, (numbers.Number,) + STATIC_TYPES)):
        raise unit.error_at(line, f"reading {type(record).__name__}.{name}, which holds a {type(value).__name__},",
                            "the compiler reads record fields holding arrays or numbers")


def rewrite_item_assignment(unit):
    """Array item assignment as a functional update (run with the kinds after ``rewrite_arithmetic``)."""
    return _rewrite(unit, _rewrite_setitem)


def _rewrite(unit, rule):
    changed = False
    for block in list(ir.blocks(unit.body)):
        i = 0
        while i < len(block):
            s = block[i]
            new = rule(unit, block, i, s)
            if new is None:
                i += 1
                continue
            start, stop, stmts = new
            block[start:stop] = stmts
            i = start + len(stmts)
            changed = True
    return changed


def _rewrite_setitem(unit, block, i, s):
    kinds = unit.kinds
    if isinstance(s, ir.SetItem) and kinds.of(s.obj) not in ("array", "list", "dict"):
        what = "a tuple" if kinds.of(s.obj) == "tuple" else f"{s.obj!r}"
        raise unit.error_at(s.line, f"item assignment into {what}",
                            "the compiler cannot tell whether it is an array, a list or a dict"
                            if what != "a tuple" else "tuples are immutable")
    if isinstance(s, ir.SetItem) and kinds.of(s.obj) == "array":
        return i, i + 1, _array_setitem(unit, s)
    return None


def _rewrite_arithmetic(unit, block, i, s):
    kinds = unit.kinds
    if not (isinstance(s, ir.Assign) and isinstance(s.expr, ir.Op) and s.expr.label in ("+", "*")):
        return None
    e = s.expr
    ka, kb = (kinds.of(a) for a in e.args)
    if "list" not in (ka, kb) and "tuple" not in (ka, kb):
        return None
    line = s.line
    # hs += v on a list: the next statement binds the sum back to hs (see Lowerer.stmt)
    nxt = block[i + 1] if i + 1 < len(block) else None
    if (e.label == "+" and ka == "list" and isinstance(nxt, ir.Assign) and nxt.write == "augmented"
            and isinstance(nxt.expr, ir.Copy) and nxt.expr.src == s.target and nxt.target == e.args[0]):
        if kb not in ("list", "tuple"):
            raise unit.error_at(line, f"hs += v on a list with a {kb} operand",
                                "the compiler models extending a list by a list or a tuple")
        return i, i + 2, extend_stmts(unit.names, nxt.target, e.args[1], line, unit.runtime_name)
    if e.label == "+":
        if ka != kb or ka not in ("list", "tuple"):
            raise unit.error_at(line, f"'+' between a {ka} and a {kb}",
                                "the compiler concatenates a list with a list and a tuple with a tuple")
        return i, i + 1, _concat(unit, s.target, e.args, ka, line)
    # repetition: one side a list/tuple, the other a count
    seq_side = 0 if ka in ("list", "tuple") else 1
    if (ka if seq_side == 0 else kb) not in ("list", "tuple") or {ka, kb} <= {"list", "tuple"}:
        raise unit.error_at(line, f"'*' between a {ka} and a {kb}",
                            "the compiler repeats a list or a tuple a whole number of times")
    xs, n = e.args[seq_side], e.args[1 - seq_side]
    return i, i + 1, _repeat(unit, s.target, xs, n, ka if seq_side == 0 else kb, line)


def _concat(unit, target, parts, kind, line):
    names = unit.names
    acc = names.temp("l")
    out = [ir.Assign(line=line, target=acc, expr=ir.Build("list", []))]
    for p in parts:
        out += extend_stmts(names, acc, p, line, unit.runtime_name)
    out.append(_finish(target, acc, kind, line, unit.runtime_name))
    return out


def _repeat(unit, target, xs, n, kind, line):
    names, rt = unit.names, unit.runtime_name
    acc = names.temp("l")
    seq = names.temp("seq")
    k = names.temp("k")
    snap = names.temp("s")
    out = [ir.Assign(line=line, target=acc, expr=ir.Build("list", [])),
           ir.Assign(line=line, target=snap, expr=ir.Op(ir.call_form(rt('list'), 1), list, [xs], label="list")),
           ir.Assign(line=line, target=seq, expr=ir.Const(f"{rt('range')}({n})", [n])),
           ir.For(line=line, target=k, seq=seq, body=extend_stmts(names, acc, snap, line, rt))]
    out.append(_finish(target, acc, kind, line, rt))
    return out


def _finish(target, acc, kind, line, rt):
    if kind == "tuple":
        return ir.Assign(line=line, target=target, expr=ir.Op(ir.call_form(rt('tuple'), 1), tuple, [acc], label="tuple"))
    return ir.Assign(line=line, target=target, expr=ir.Copy(acc))


def _array_setitem(unit, s):
    """``a[i] = v`` on an array: ``a = setitem_array(a, i, v)``, marked as a write into ``a``."""
    fun = indexing.setitem_array
    if rule_for(fun) is None:
        raise unit.error_at(s.line, "assignment into an array element")
    name = unit.runtime_name("setitem_array")
    unit.helpers[name] = fun
    ix = unit.names.temp("ix")
    new = unit.names.temp("t")
    unit.kinds.kind[new] = "array"
    return [
        ir.Assign(line=s.line, target=ix, expr=ir.Const(s.index_value, list(s.atoms))),
        ir.Assign(line=s.line, target=new, expr=ir.Op(
            ir.call_form(name, 3), fun, [s.obj, ix, s.value], label="item assignment")),
        ir.Assign(line=s.line, target=s.obj, expr=ir.Copy(new), write="item"),
    ]

