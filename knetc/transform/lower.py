"""Normalisation: lower a gast function body to the one-operation IR.

Every compound expression gets named temporaries (``_t1``, ``_t2``...), calls
are classified by what they resolve to (a rule, a constant-valued function,
the user's own helper), loops become loops over index sequences, and
tuple unpacking becomes indexing.

Consumes the function body after jumps.py (a single exit, loops leaving
through flags); guarantees one operation per IR statement, whose operands are
typed atoms (ir.Local, ir.Literal, ir.Global), and a loud UnsupportedError
naming the user's line for whatever it has no model of. The work is split by
job: this module holds the statements, lower_expr.py the expressions,
lower_calls.py the calls, lower_loops.py the ``for`` loops, lower_names.py
the name walkers.
"""
import copy
import warnings

import gast
import numpy as np

from ..runtime.rules import rule_for
from . import ir
from .containers import extend_stmts
from .effects import mutated_in_node, node_writes_outside, outer_writes
from .lower_calls import CallLowering, is_user_function
from .lower_expr import ExpressionLowering
from .lower_loops import LoopLowering, _name
from .lower_names import assigned_names, creation_locals, rebound_names, unparse
from .returns import node_returns_new_object

__all__ = ["Lowerer", "assigned_names", "is_user_function", "unparse"]

# Calls kept as statements for their effect that only read their arguments.
VETTED_EFFECTS = (print, warnings.warn, np.random.seed)

_UNSUPPORTED_STMTS = {
    gast.Try: "try/except", gast.With: "a with statement", gast.AsyncWith: "async with",
    gast.Global: "a global statement", gast.Nonlocal: "a nonlocal statement",
    gast.Delete: "del", gast.ClassDef: "a class definition", gast.Import: "import",
    gast.ImportFrom: "import", gast.AsyncFor: "async for", gast.AsyncFunctionDef: "async def",
}


class Lowerer(ExpressionLowering, CallLowering, LoopLowering):
    """Lowers one function (see module docstring)."""

    def __init__(self, source, scope, names, local_names, rt=lambda name: name):
        self.src = source
        self.rt = rt                      # the generated code's name for a builtin (range, len...)
        self.scope = scope
        self.names = names                # the NameGenerator of this function
        self.locals = local_names         # every name bound inside the function
        self.int_names = set()            # loop counters known to hold ints
        self.local_defs = {}              # nested function name -> enclosing locals it reads
        self.local_writes = {}            # nested function name -> (params, params it writes into)
        self.plain_loops = []             # (seq, iterable, index) of 'for x in xs' loops
        self.reads = {}                   # (obj, index) -> (temp, index atoms): w[0] read once
        self.device_module = None         # name of the local holding numpy/cupy, once np.zeros & co appear
        self.creation_locals = creation_locals(source.node, scope)   # xp = creation_module(...) in generated code
        self.rebound = rebound_names(source.node)   # names that may hold something else than a range counter
        self.loop_iterables = []          # iterables of the loop being lowered
        self.out = []

    # ---- helpers -------------------------------------------------------------
    def fail(self, construct, node, detail=None):
        raise self.src.error(construct, node, detail)

    def emit(self, stmt, node):
        stmt.line = getattr(node, "lineno", 0) or 0
        self._invalidate_reads(stmt)
        self.out.append(stmt)
        return stmt

    def _invalidate_reads(self, stmt):
        """Forget remembered subscript reads that ``stmt`` may change (see ``atom``)."""
        if not self.reads:
            return
        pure = isinstance(stmt, ir.Assign) and (
            isinstance(stmt.expr, (ir.Copy, ir.Const, ir.Subscript, ir.Build))
            or (isinstance(stmt.expr, ir.Op) and stmt.expr.fun is not None
                and not stmt.expr.label.endswith("()")))
        if not pure:
            self.reads.clear()
            return
        t = stmt.target
        for key, (temp, atoms) in list(self.reads.items()):
            if t == temp or t == key[0] or t in atoms:
                del self.reads[key]

    def temp(self, expr, node, hint="t"):
        name = ir.Local(self.names.temp(hint))
        if self._is_int_expr(expr):
            self.int_names.add(name)
        self.emit(ir.Assign(target=name, expr=expr), node)
        return name

    def _is_int(self, atom):
        return atom in self.int_names or ir.is_int_literal(atom)

    def _is_int_expr(self, expr):
        if isinstance(expr, ir.Op) and expr.label in ("+", "-", "*", "//", "%") and len(expr.args) == 2:
            return all(self._is_int(a) for a in expr.args)
        if isinstance(expr, ir.Op) and expr.fun is len:
            return True
        return False

    def block(self, stmts):
        saved, self.out = self.out, []
        self.reads.clear()                 # a nested block starts afresh...
        for s in stmts:
            self.stmt(s)
        body, self.out = self.out, saved
        self.reads.clear()                 # ...and whatever it wrote is unknown after it
        return body

    def _check_nested(self, fun_node, node):
        """A nested def or lambda the compiler can model: no decorators, no defaults read
        from local variables (both are evaluated once, where the function is defined)."""
        if getattr(fun_node, "decorator_list", None):
            self.fail("a decorated nested function", node, "define it at module level")
        args = fun_node.args
        for default in list(args.defaults) + [d for d in args.kw_defaults if d is not None]:
            if self._names_in(default):
                self.fail("a nested function whose default values read local variables", node,
                          "pass the value as an argument, or close over it")
        outside = node_writes_outside(fun_node, self.scope)
        if outside and "nonlocal" not in outside and "global" not in outside:
            self.fail(f"a nested function that makes {outside}", node)

    def _free_names(self, fun_node):
        """Locals of this function that a nested def or lambda reads (sorted)."""
        bound = {a.id for a in fun_node.args.args}
        if isinstance(fun_node, gast.FunctionDef):
            bound |= assigned_names(fun_node)
        loads = {n.id for n in gast.walk(fun_node) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}
        return sorted((loads - bound) & self.locals)

    def _names_in(self, node):
        return sorted({n.id for n in gast.walk(node) if isinstance(n, gast.Name) and n.id in self.locals})

    # ---- statements ----------------------------------------------------------
    def stmt(self, s):
        for cls, what in _UNSUPPORTED_STMTS.items():
            if isinstance(s, cls):
                self.fail(what, s)
        if isinstance(s, list):
            for x in s:
                self.stmt(x)
        elif isinstance(s, (gast.Assign, gast.AnnAssign)):
            targets = s.targets if isinstance(s, gast.Assign) else [s.target]
            if s.value is None:
                return
            if len(targets) == 1:
                self.assign(targets[0], s.value, s)
            else:
                value = self.atom(s.value)
                for t in targets:
                    self.assign(t, _name(value), s)
        elif isinstance(s, gast.AugAssign):
            self.augmented_assign(s)
        elif isinstance(s, gast.Expr):
            self.expression_statement(s)
        elif isinstance(s, gast.Pass):
            pass
        elif isinstance(s, gast.If):
            cond = self.condition(s.test, s)
            self.emit(ir.If(test=cond, body=self.block(s.body), orelse=self.block(s.orelse)), s)
        elif isinstance(s, gast.For):
            self.for_loop(s)
        elif isinstance(s, gast.While):
            count = self.names.temp("n")
            self.emit(ir.Assign(target=count, expr=ir.Const("0")), s)
            self.emit(ir.While(body=self.block(s.body), brk=s.knet_brk, count=count,
                               guarded=getattr(s, "knet_guarded", False)), s)
        elif isinstance(s, gast.FunctionDef):
            self._check_nested(s, s)
            self.local_defs[s.name] = self._free_names(s)
            self.local_writes[s.name] = ([a.id for a in s.args.args], mutated_in_node(s, self.scope))
            scoped = next((("nonlocal" if isinstance(n, gast.Nonlocal) else "global")
                           for n in gast.walk(s) if isinstance(n, (gast.Nonlocal, gast.Global))), "")
            writes = [n for n in outer_writes(s, self.scope) if n in self.locals]
            self.emit(ir.LocalDef(name=s.name, text=unparse(s), free=self.local_defs[s.name],
                                  writes=writes, scoped=scoped,
                                  fresh=node_returns_new_object(s, self.scope)), s)
        elif isinstance(s, (gast.Assert, gast.Raise)):
            self.emit(ir.Effect(text=unparse(s), atoms=self._names_in(s), vetted=True), s)
        elif isinstance(s, gast.Return):
            self.fail("return at this place", s)
        else:
            self.fail(f"the statement {type(s).__name__}", s)

    def expression_statement(self, s):
        value = s.value
        if isinstance(value, gast.Constant):
            return  # docstring
        if (isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute)
                and value.func.attr in ("append", "extend") and isinstance(value.func.value, gast.Name)
                and value.func.value.id in self.locals and len(value.args) == 1 and not value.keywords
                and not isinstance(value.args[0], gast.Starred)):
            obj, item = value.func.value.id, self.atom(value.args[0])
            if value.func.attr == "append":
                self.emit(ir.Append(obj=obj, value=item), s)
                return
            for st in extend_stmts(self.names, obj, item, getattr(s, "lineno", 0) or 0, self.rt):
                self.emit(st, s)
            return
        if isinstance(value, gast.Call):
            expr = self.call(value)
            if isinstance(expr, ir.HelperCall):
                self.temp(expr, s, "r")
                return
            if isinstance(expr, ir.Op) and expr.fun is not None and rule_for(expr.fun) is not None:
                self.temp(expr, s, "r")
                return
            if isinstance(expr, ir.Copy):       # modelled already (hs.pop())
                return
            if isinstance(expr, ir.Const):      # declared constant-valued: nothing to write
                self.emit(ir.Effect(text=expr.text, atoms=list(expr.atoms), vetted=True), s)
                return
            vetted = any(expr.fun is f for f in VETTED_EFFECTS)
            self.emit(ir.Effect(text=expr.text, atoms=list(expr.args) + [a for _, a in expr.kwargs],
                                call=expr.text, vetted=vetted), s)
            return
        self.rhs(value)

    def augmented_assign(self, s):
        """``a += b``: Python updates an array (or list) in place; the IR marks the
        rebinding as a write into ``a`` (the containers pass and the fence decide)."""
        if isinstance(s.target, gast.Name):
            self.assign(s.target, gast.BinOp(left=_as_load(s.target), op=s.op, right=s.value), s)
            last = self.out[-1] if self.out else None
            if isinstance(last, ir.Assign) and last.target == s.target.id:
                last.write = "augmented"
            return
        if isinstance(s.target, gast.Subscript):
            old = self.atom(_as_load(s.target))
            self.assign(s.target, gast.BinOp(left=_name(old), op=s.op, right=s.value), s)
            last = self.out[-1]
            if isinstance(last, ir.SetItem):
                last.old = old
            return
        self.fail("augmented assignment to an attribute" if isinstance(s.target, gast.Attribute)
                  else f"augmented assignment to {type(s.target).__name__}", s.target)

    def assign(self, target, value, node):
        if isinstance(target, gast.Name):
            if isinstance(value, gast.Lambda):
                self._check_nested(value, node)
                self.local_defs[target.id] = self._free_names(value)
                writes = [n for n in outer_writes(value, self.scope) if n in self.locals]
                self.emit(ir.LocalDef(name=target.id, text=f"{target.id} = {unparse(value)}",
                                      free=self.local_defs[target.id], writes=writes,
                                      fresh=node_returns_new_object(value, self.scope)), node)
                return
            expr = self.rhs(value)
            if isinstance(expr, ir.Copy) and expr.src == target.id:
                return    # x = x binds nothing new
            if target.id in ir.reads(expr) and not isinstance(expr, (ir.Copy, ir.Const)):
                # x = f(x): the adjoint needs the old x and the new one apart
                expr = ir.Copy(self.temp(expr, node))
            self.emit(ir.Assign(target=target.id, expr=expr), node)
            return
        if isinstance(target, (gast.Tuple, gast.List)):
            if self._parallel_assign(target, value, node):
                return
            whole = self.atom(value)
            for i, elt in enumerate(target.elts):
                if isinstance(elt, gast.Starred):
                    self.fail("starred assignment", elt)
                part = ir.Subscript(whole, str(i), str(i), True, [])
                if isinstance(elt, gast.Name):
                    self.emit(ir.Assign(target=elt.id, expr=part), node)
                else:
                    tmp = self.temp(part, node)
                    self.assign(elt, _name(tmp), node)
            return
        if isinstance(target, gast.Subscript):
            if not (isinstance(target.value, gast.Name) and target.value.id in self.locals):
                self.fail("assignment into an element of a non-local value", target)
            v = self.atom(value)
            src, val, basic, atoms = self.index(target.slice)
            self.emit(ir.SetItem(obj=target.value.id, index_src=src, index_value=val,
                                 atoms=atoms, value=v), node)
            return
        self.fail("assignment to an attribute" if isinstance(target, gast.Attribute)
                  else f"assignment to {type(target).__name__}", target)

    def _parallel_assign(self, target, value, node):
        """``a, b = b, a`` / ``x, y = f(u), g(v)``: one assignment per element, no tuple.

        Each element then has its own adjoint, so a value that is only swapped
        out of the way gets none (with a tuple in between, the whole tuple
        would be differentiated). Names that the assignment rebinds are copied
        first, as Python evaluates the right side before binding.
        """
        if not (isinstance(value, (gast.Tuple, gast.List)) and len(value.elts) == len(target.elts)):
            return False
        if any(isinstance(e, gast.Starred) for e in list(value.elts) + list(target.elts)):
            return False
        rebound = {e.id for e in target.elts if isinstance(e, gast.Name)}
        atoms = []
        for elt in value.elts:
            a = self.atom(elt)
            if a in rebound:
                a = self.temp(ir.Copy(a), node)
            atoms.append(a)
        for elt, a in zip(target.elts, atoms):
            self.assign(elt, _name(a), node)
        return True


def _as_load(target):
    node = copy.deepcopy(target)
    for n in gast.walk(node):
        if hasattr(n, "ctx"):
            n.ctx = gast.Load()
    return node
