"""Analyses over the IR: value kinds, activity, and what needs saving.

* kinds: whether a variable holds an array/number, a list, a tuple, a dict,
  so adjoints can be accumulated with ``+`` or into containers;
* activity: a variable is *differentiated* when it depends on a
  differentiated argument (forward) and the result depends on it (backward);
* locality: which variables live only inside one block, so their adjoints
  start and end each pass through that block at zero.

Two passes of the pipeline live here: :func:`infer_kinds` (consumes the
lowered IR and the compile-time values; guarantees ``unit.kinds``) and
:func:`mark_active` (consumes the final IR; guarantees
``unit.differentiated``, ``unit.entry_mutated`` and ``unit.entry_names``).
"""
import copy
import numbers

import numpy as np

from ..runtime import jvp_rules
from ..runtime.backend import is_array
from ..runtime.tree import kind_of
from . import ir, support
from .effects import mutated_params
from .results import LIST_RESULTS
from .returns import returns_list
from .resolve import MISSING, resolve_dotted

# Rules whose result is a tuple of arrays (NumPy's named results), so that its adjoint is
# accumulated as a container; qr and svd give one array with mode="r" / compute_uv=False.
_TANGENTS_OF_RESULT = {jvp_rules.transpose_jvp, jvp_rules.elementwise_jvp}
TUPLE_RESULTS = {np.linalg.eigh, np.linalg.eig, np.linalg.slogdet, np.linalg.lstsq, np.linalg.qr,
                 np.linalg.svd}
_ARRAY_RESULT_WHEN = {np.linalg.qr: ("mode", 1, lambda v: v == "r"),
                      np.linalg.svd: ("compute_uv", 2, lambda v: not v)}


_SEVERAL_ARRAYS = {np.atleast_1d, np.atleast_2d, np.atleast_3d}   # a tuple for several arguments


def _sequence_result_kind(e):
    """The kind of a rule's result that may be a sequence (None: an array, as for most rules)."""
    fun = e.fun
    if isinstance(fun, np.ufunc):
        return "tuple" if fun.nout > 1 else None
    if getattr(fun, "returns_tuple", False):        # a primitive that says so (knet.lstm)
        return "tuple"
    if fun is np.meshgrid or fun is np.broadcast_arrays:
        return "tuple"
    if fun in _SEVERAL_ARRAYS:
        return "tuple" if len(e.args) > 1 else None
    if fun is np.gradient:
        return "unknown"            # a tuple for several axes: the shapes decide
    if getattr(fun, "__name__", "") == "logsumexp" and getattr(fun, "__module__", "").startswith("scipy"):
        sign = dict(e.kwargs).get("return_sign", e.args[4] if len(e.args) > 4 else "False")
        return None if sign == "False" else "tuple" if sign == "True" else "unknown"
    return None


def _tuple_result_kind(e):
    """"tuple" for a call of TUPLE_RESULTS, "array" where its keyword selects one array,
    "unknown" where that keyword is not a literal."""
    if e.fun not in _ARRAY_RESULT_WHEN:
        return "tuple"
    name, position, gives_array = _ARRAY_RESULT_WHEN[e.fun]
    atoms = dict(e.kwargs)
    atom = atoms.get(name, e.args[position] if len(e.args) > position else None)
    if atom is None:
        return "tuple"
    if not isinstance(atom, ir.Literal):
        return "unknown"
    return "array" if gives_array(atom.value) else "tuple"


def _join(a, b):
    if a is None:
        return b
    if b is None or a == b:
        return a
    return "unknown"


class Kinds:
    """Kind of every local variable (and the kind of container elements)."""

    def __init__(self, stmts, param_values, scope):
        self.kind = {}
        self.elem = {}
        self.scope = scope
        for name, value in param_values.items():
            self.kind[name] = kind_of(value)
            if isinstance(value, (list, tuple)) and value:
                kinds = {kind_of(v) for v in value}
                self.elem[name] = kinds.pop() if len(kinds) == 1 else "unknown"
            elif isinstance(value, dict) and value:
                kinds = {kind_of(v) for v in value.values()}
                self.elem[name] = kinds.pop() if len(kinds) == 1 else "unknown"
        for _ in range(4):
            before = (dict(self.kind), dict(self.elem))
            for s in ir.walk(stmts):
                self._visit(s)
            if before == (self.kind, self.elem):
                break

    def of(self, atom):
        """The kind of an atom."""
        if atom in self.kind:
            return self.kind[atom]
        if isinstance(atom, ir.Literal):
            value = atom.value
            return "array" if isinstance(value, numbers.Number) else kind_of(value)
        obj = resolve_dotted(self.scope, atom) if atom.replace(".", "").replace("_", "").isalnum() else MISSING
        if obj is not MISSING and (is_array(obj) or isinstance(obj, numbers.Number)):
            return "array"
        return "unknown"

    def _set(self, name, kind, elem=None):
        self.kind[name] = _join(self.kind.get(name), kind)
        if elem is not None:
            self.elem[name] = _join(self.elem.get(name), elem)

    def _visit(self, s):
        if isinstance(s, ir.Assign):
            e = s.expr
            if isinstance(e, ir.Copy):
                self._set(s.target, self.of(e.src), self.elem.get(e.src))
            elif isinstance(e, ir.Op):
                sequence = _sequence_result_kind(e) if _hashable(e.fun) else None
                if e.fun is not None and e.fun is support.RUNTIME.get("call_jvp"):
                    # a tangent program's helper call: (its result, its tangent), of the helper's kind
                    self._set(s.target, "tuple", "unknown")
                elif e.fun in _TANGENTS_OF_RESULT and len(e.args) > 2:
                    # a tangent program's rule tangent: shaped like the result (its third argument)
                    self._set(s.target, self.of(e.args[2]), self.elem.get(e.args[2]))
                elif e.fun in LIST_RESULTS:
                    self._set(s.target, "list", "array")
                elif sequence is not None:
                    self._set(s.target, sequence, "array" if sequence != "unknown" else None)
                elif e.fun in TUPLE_RESULTS:
                    kind = _tuple_result_kind(e)
                    self._set(s.target, kind, "array" if kind == "tuple" else None)
                elif e.fun is list:
                    self._set(s.target, "list", self.elem.get(e.args[0]) if e.args else None)
                elif e.fun is tuple:
                    self._set(s.target, "tuple", self.elem.get(e.args[0]) if e.args else None)
                elif (e.label == ".copy()" or e.fun in (copy.copy, copy.deepcopy)) and e.args:
                    self._set(s.target, self.of(e.args[0]), self.elem.get(e.args[0]))
                elif e.label in ("+", "*") and any(self.of(a) in ("list", "tuple") for a in e.args):
                    seqs = [self.of(a) for a in e.args if self.of(a) in ("list", "tuple")]
                    self._set(s.target, seqs[0])
                elif e.fun is None:
                    self._set(s.target, "unknown")
                else:
                    self._set(s.target, "array")
            elif isinstance(e, ir.Subscript):
                k = self.of(e.obj)
                if k == "array":
                    self._set(s.target, "array")
                elif k in ("list", "tuple") and not e.basic:
                    self._set(s.target, "unknown")
                elif k in ("list", "tuple") and ":" in e.index_src:
                    self._set(s.target, k, self.elem.get(e.obj))
                elif k in ("list", "tuple", "dict"):
                    self._set(s.target, self.elem.get(e.obj) or "unknown")
                else:
                    self._set(s.target, "unknown")
            elif isinstance(e, ir.Build):
                elems = {self.of(a) for a in e.elts}
                self._set(s.target, e.kind, elems.pop() if len(elems) == 1 else ("unknown" if elems else None))
            elif isinstance(e, ir.Const):
                self._set(s.target, e.kind)
            elif isinstance(e, ir.HelperCall) and e.fun is not None and returns_list(e.fun):
                self._set(s.target, "list")
            else:
                self._set(s.target, "unknown")
        elif isinstance(s, ir.Append):
            self.elem[s.obj] = _join(self.elem.get(s.obj), self.of(s.value))
        elif isinstance(s, ir.SetItem):
            self.elem[s.obj] = _join(self.elem.get(s.obj), self.of(s.value))
        elif isinstance(s, ir.For):
            self._set(s.target, "other")


def diff_reads(expr):
    """The atoms through which derivatives flow into an expression's result."""
    if isinstance(expr, ir.Copy):
        return [expr.src]
    if isinstance(expr, ir.Op):
        return list(expr.args) + [a for _, a in expr.kwargs]
    if isinstance(expr, ir.Subscript):
        return [expr.obj]
    if isinstance(expr, ir.Build):
        return list(expr.elts)
    if isinstance(expr, ir.HelperCall):
        return list(expr.args) + [a for _, a in expr.kwargs] + list(expr.free)
    return []


def forward_active(stmts, wrt_params):
    """The variables that may depend on a differentiated argument."""
    active = set(wrt_params)
    changed = True
    while changed:
        changed = False
        for s in ir.walk(stmts):
            if isinstance(s, ir.Assign):
                if any(a in active for a in diff_reads(s.expr)):
                    written = getattr(s.expr, "mutated", [])
                    for name in [s.target] + list(written):
                        if name not in active:
                            active.add(name)
                            changed = True
            elif isinstance(s, (ir.SetItem, ir.Append)):
                if s.obj not in active and s.value in active:
                    active.add(s.obj)
                    changed = True
            elif isinstance(s, ir.LocalDef):
                # a function closing over a differentiated value depends on it
                if s.name not in active and any(a in active for a in s.free):
                    active.add(s.name)
                    changed = True
    return active


def activity(stmts, wrt_params, result, outputs=()):
    """The set of differentiated variables (active forward and useful backward).

    ``outputs`` are further results besides ``result``: containers the
    function writes into, whose final state the caller differentiates.
    """
    active = forward_active(stmts, wrt_params)
    useful = {n for n in (result,) + tuple(outputs) if n in active}
    changed = True
    while changed:
        changed = False
        for s in ir.walk(stmts):
            if isinstance(s, ir.Assign) and (s.target in useful or any(
                    m in useful for m in getattr(s.expr, "mutated", []))):
                new = [a for a in diff_reads(s.expr) if a in active and a not in useful]
            elif isinstance(s, (ir.SetItem, ir.Append)) and s.obj in useful and not getattr(s, "pop", False):
                new = [s.value] if s.value in active and s.value not in useful else []
            else:
                continue
            if new:
                useful.update(new)
                changed = True
    return active & useful


def assignment_sites(stmts):
    """name -> number of places that bind it (loop targets included)."""
    sites = {}
    for s in ir.walk(stmts):
        for name in bound_names(s):
            sites[name] = sites.get(name, 0) + 1
    return sites


def bound_names(s):
    """Names a statement itself binds."""
    if isinstance(s, ir.Assign):
        return [s.target]
    if isinstance(s, ir.For):
        return [s.target]
    if isinstance(s, ir.LocalDef):
        return [s.name]
    return []


def written_into(stmts):
    """Containers a block writes into: item assignment, append, a helper writing into its argument."""
    out = set()
    for s in ir.walk(stmts):
        if isinstance(s, (ir.SetItem, ir.Append)):
            out.add(s.obj)
        elif isinstance(s, ir.Assign):
            out.update(getattr(s.expr, "mutated", []))
    return out


def names_in(stmts):
    """Every local name a block mentions (bound or read)."""
    out = set()
    for s in ir.walk(stmts):
        out.update(bound_names(s))
        if isinstance(s, ir.Assign):
            out.update(ir.reads(s.expr))
        elif isinstance(s, (ir.SetItem,)):
            out.update([s.obj, s.value] + list(s.atoms))
        elif isinstance(s, ir.Append):
            out.update([s.obj, s.value])
        elif isinstance(s, ir.If):
            out.add(s.test)
        elif isinstance(s, ir.For):
            out.add(s.seq)
        elif isinstance(s, ir.Effect):
            out.update(s.atoms)
    return out


def block_locals(block, outside):
    """Variables that live only inside ``block``.

    Such a variable is first bound unconditionally at the top level of the
    block before any read, and ``outside`` (the names mentioned anywhere else
    in the function) does not mention it.
    """
    local = set()
    seen = set()
    for s in block:
        if isinstance(s, ir.Assign):
            reads = set(ir.reads(s.expr))
            seen.update(reads)
            if s.target not in seen and s.target not in outside:
                local.add(s.target)
            seen.add(s.target)
        else:
            seen.update(names_in([s]))
    return local


def rebinding_sites(stmts, bound_on_entry):
    """Ids of the assignments (and for loops) that may overwrite a bound value.

    A flow analysis: the two branches of an ``if`` each start from what was
    bound before it, and a loop body is visited twice so that its second
    iteration sees what the first bound. Only these sites need to save the
    old value for the reverse sweep and restart its adjoint at zero.
    """
    out = set()

    def block(body, bound):
        bound = set(bound)
        for s in body:
            if isinstance(s, ir.Assign):
                if s.target in bound:
                    out.add(id(s))
                bound.add(s.target)
            elif isinstance(s, ir.LocalDef):
                bound.add(s.name)
            elif isinstance(s, ir.If):
                bound = block(s.body, bound) | block(s.orelse, bound)
            elif isinstance(s, (ir.For, ir.While)):
                inner = set(bound)
                if isinstance(s, ir.For):
                    if s.target in bound:
                        out.add(id(s))
                    inner.add(s.target)
                first = block(s.body, inner)
                bound = inner | block(s.body, inner | first)
        return bound

    block(stmts, bound_on_entry)
    return out


def _hashable(x):
    try:
        hash(x)
        return True
    except TypeError:
        return False


def infer_kinds(unit):
    """The kinds pass: ``unit.kinds`` of every variable of ``unit.body`` (see :class:`Kinds`)."""
    unit.kinds = Kinds(unit.body, unit.values, unit.scope)


def mark_active(unit):
    """The activity pass: which variables are differentiated (``unit.differentiated``).

    Containers the caller differentiates and the function writes into have
    their final state as a result too (``unit.entry_mutated``, see effects.py).
    Parameters not differentiated on entry that later hold differentiated values
    (``x = layer(w, x)``) get a name for their entry value (``unit.entry_names``):
    the emitter skips adjoints of that value.
    """
    written = mutated_params(unit.fun)
    unit.entry_mutated = [p for p, a in zip(unit.params, unit.active) if a and p in written]
    unit.differentiated = activity(unit.body, unit.active_params, unit.result, outputs=unit.entry_mutated)
    unit.entry_names = {p: unit.names.fresh(f"{p}_in") for p in unit.params
                        if p in unit.differentiated and p not in unit.active_params}


def dependents(body, roots, reads):
    """The names whose values depend on ``roots`` in ``body`` (a fixed point): an assignment
    whose ``reads(expr)`` meets them, a container written with one of them."""
    out = set(roots)
    changed = True
    while changed:
        changed = False
        for s in ir.walk(body):
            if isinstance(s, ir.Assign) and s.target not in out and any(a in out for a in reads(s.expr)):
                out.add(s.target)
                changed = True
            elif isinstance(s, (ir.SetItem, ir.Append)) and s.obj not in out and s.value in out:
                out.add(s.obj)
                changed = True
    return out
