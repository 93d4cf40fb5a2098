"""Lowering of expressions: every compound expression to named temporaries over atoms.

Part of the lowering (see lower.py). Consumes a gast expression; emits the
statements computing its parts (through ``self.temp``/``self.emit``) and
returns an atom (``atom``) or one IR expression whose operands are atoms
(``rhs``). ``and``/``or`` and conditional expressions keep their short
circuits (they become ifs); a test is evaluated once into a flag.
"""
import gast
import numpy as np

from ..runtime import numpy_rules
from . import ir
from .lower_names import unparse
from .resolve import dotted_name, resolve_dotted

BINOPS = {
    gast.Add: ("+", np.add), gast.Sub: ("-", np.subtract), gast.Mult: ("*", np.multiply),
    gast.Div: ("/", np.divide), gast.Pow: ("**", np.power), gast.MatMult: ("@", np.matmul),
    gast.FloorDiv: ("//", np.floor_divide), gast.Mod: ("%", np.mod),
    gast.BitAnd: ("&", np.bitwise_and), gast.BitOr: ("|", np.bitwise_or),
    gast.BitXor: ("^", np.bitwise_xor), gast.LShift: ("<<", np.left_shift),
    gast.RShift: (">>", np.right_shift),
}
UNARY = {gast.USub: ("-", np.negative), gast.UAdd: ("+", np.positive)}

ATTRIBUTES = numpy_rules.ATTRIBUTES
CONSTANT_ATTRIBUTES = numpy_rules.CONSTANT_ATTRIBUTES

_UNSUPPORTED_EXPRS = {
    gast.ListComp: "a list comprehension", gast.SetComp: "a set comprehension",
    gast.DictComp: "a dict comprehension", gast.GeneratorExp: "a generator expression",
    gast.Yield: "yield", gast.YieldFrom: "yield from", gast.Await: "await",
    gast.Set: "a set literal", gast.JoinedStr: None, gast.NamedExpr: "an assignment expression (:=)",
    gast.Starred: "a starred argument",
}

_CMP = {gast.Eq: "==", gast.NotEq: "!=", gast.Lt: "<", gast.LtE: "<=", gast.Gt: ">",
        gast.GtE: ">=", gast.Is: "is", gast.IsNot: "is not", gast.In: "in", gast.NotIn: "not in"}


class ExpressionLowering:
    """Expression lowering of :class:`~knetc.transform.lower.Lowerer`."""

    def atom(self, node):
        """Lower ``node`` to an atom, emitting temporaries as needed."""
        if isinstance(node, gast.Name):
            lowered = getattr(node, "knet_atom", None)     # an atom put back into a node (lower_loops._name)
            if lowered is not None:
                return lowered
            return ir.Local(node.id) if node.id in self.locals else ir.Global(node.id)
        if isinstance(node, gast.Constant):
            return ir.Literal(node.value)
        if (isinstance(node, gast.UnaryOp) and isinstance(node.op, (gast.USub, gast.UAdd))
                and isinstance(node.operand, gast.Constant) and isinstance(node.operand.value, (int, float))
                and not isinstance(node.operand.value, bool)):
            value = node.operand.value
            return ir.Literal(-value if isinstance(node.op, gast.USub) else value)
        dotted = dotted_name(node)
        if dotted and dotted.split(".")[0] not in self.locals and isinstance(node, gast.Attribute):
            return ir.Global(dotted)
        expr = self.rhs(node)
        if isinstance(expr, ir.Copy):
            return expr.src
        if isinstance(expr, ir.Subscript) and expr.obj in self.locals:
            # The same element read again in straight-line code, with nothing
            # written in between, reuses the first read's temporary.
            key = (expr.obj, expr.index_src)
            if key in self.reads:
                return self.reads[key][0]
            temp = self.temp(expr, node)
            self.reads[key] = (temp, set(expr.atoms))
            return temp
        return self.temp(expr, node)

    def rhs(self, node):
        """Lower ``node`` to one IR expression whose operands are atoms."""
        for cls, what in _UNSUPPORTED_EXPRS.items():
            if isinstance(node, cls):
                if what is None:   # f-strings are constants as far as derivatives go
                    return ir.Const(unparse(node), self._names_in(node))
                self.fail(what, node)
        if isinstance(node, (gast.Name, gast.Constant)) or (
                isinstance(node, gast.Attribute) and dotted_name(node)
                and dotted_name(node).split(".")[0] not in self.locals):
            return ir.Copy(self.atom(node))
        if isinstance(node, gast.BinOp):
            sym, fun = BINOPS[type(node.op)]
            left, right = self.atom(node.left), self.atom(node.right)
            # -0.5 ** 2 is -(0.5 ** 2)
            form = ("(", 0, f") {sym} ", 1) if sym == "**" and left.startswith("-") else (0, f" {sym} ", 1)
            return ir.Op(form, fun, [left, right], label=sym)
        if isinstance(node, gast.UnaryOp):
            operand = self.atom(node.operand)
            if isinstance(node.op, gast.Not):
                return ir.Const(f"not {operand}", [operand])
            if isinstance(node.op, gast.Invert):
                return ir.Const(f"~{operand}", [operand])
            sym, fun = UNARY[type(node.op)]
            return ir.Op((sym, 0), fun, [operand], label=sym)
        if isinstance(node, gast.Compare):
            parts = [self.atom(node.left)] + [self.atom(c) for c in node.comparators]
            text = parts[0]
            for op, right in zip(node.ops, parts[1:]):
                text += f" {_CMP[type(op)]} {right}"
            return ir.Const(text, parts)
        if isinstance(node, gast.BoolOp):
            return ir.Copy(self.boolop(node))
        if isinstance(node, gast.IfExp):
            return ir.Copy(self.ifexp(node))
        if isinstance(node, gast.Call):
            return self.call(node)
        if isinstance(node, gast.Attribute):
            obj = self.atom(node.value)
            if node.attr in CONSTANT_ATTRIBUTES:
                return ir.Const(f"{obj}.{node.attr}", [obj])
            fun = ATTRIBUTES.get(node.attr)
            return ir.Op((0, f".{node.attr}"), fun, [obj], label=f".{node.attr}")
        if isinstance(node, gast.Subscript):
            if _is_axis_concatenator(node.value, self.scope, self.locals):
                return self.axis_concatenation(node)
            obj = self.atom(node.value)
            src, value, basic, atoms = self.index(node.slice)
            return ir.Subscript(obj, src, value, basic, atoms)
        if isinstance(node, (gast.Tuple, gast.List)):
            elts = [self.atom(e) for e in node.elts]
            kind = "tuple" if isinstance(node, gast.Tuple) else "list"
            return ir.Build(kind, elts)
        if isinstance(node, gast.Dict):
            if any(k is None for k in node.keys):
                self.fail("dict unpacking (**)", node)
            keys = [self.atom(k) for k in node.keys]
            return ir.Build("dict", [self.atom(v) for v in node.values], keys)
        if isinstance(node, gast.Lambda):
            self.fail("a lambda used inside an expression", node,
                      "bind it to a name first: f = lambda ...")
        self.fail(f"the expression {type(node).__name__}", node)

    def axis_concatenation(self, node):
        """``np.r_[a, b]`` / ``np.c_[a, b]``: a call of the rule ``axis_concatenate(np.r_, (a, b))``."""
        conc = dotted_name(node.value)
        parts = node.slice.elts if isinstance(node.slice, gast.Tuple) else [node.slice]
        if any(isinstance(p, gast.Slice) for p in parts):
            self.fail(f"a slice inside {conc}[...]", node,
                      "the tape differentiates it (mode='auto'); or use np.concatenate/np.arange")
        atoms = [self.atom(p) for p in parts]
        key = self.temp(ir.Build("tuple", atoms), node) if isinstance(node.slice, gast.Tuple) else atoms[0]
        return ir.Op((0, "[", 1, "]"), numpy_rules.axis_concatenate, [ir.Global(conc), key], [], label=f"{conc}[]")

    def boolop(self, node):
        """``a and b`` keeps short-circuit evaluation: lowered to ifs."""
        result = self.names.temp("c")
        first = self.atom(node.values[0])
        self.emit(ir.Assign(target=result, expr=ir.Copy(first)), node)
        for value in node.values[1:]:
            saved, self.out = self.out, []
            self.reads.clear()
            self.emit(ir.Assign(target=result, expr=ir.Copy(self.atom(value))), value)
            rest, self.out = self.out, saved
            self.reads.clear()
            test = self.names.temp("c")
            negate = "" if isinstance(node.op, gast.And) else "not "
            self.emit(ir.Assign(target=test, expr=ir.Const(f"{negate}{result}", [result])), node)
            self.emit(ir.If(test=test, body=rest, orelse=[]), node)
        return result

    def ifexp(self, node):
        result = self.names.temp("t")
        self.condition(node.test, node)
        test = self.out[-1].target
        saved, self.out = self.out, []
        self.reads.clear()
        self.emit(ir.Assign(target=result, expr=self.rhs(node.body)), node.body)
        body, self.out = self.out, []
        self.reads.clear()
        self.emit(ir.Assign(target=result, expr=self.rhs(node.orelse)), node.orelse)
        orelse, self.out = self.out, saved
        self.reads.clear()
        self.emit(ir.If(test=test, body=body, orelse=orelse), node)
        return result

    def condition(self, test_node, node):
        """Evaluate a test once into a fresh flag (the reverse sweep reads it)."""
        test = self.atom(test_node)
        cond = self.names.temp("c")
        atoms = [test] if test in self.locals else []
        self.emit(ir.Assign(target=cond, expr=ir.Const(f"{self.rt('bool')}({test})", atoms)), node)
        return cond

    def index(self, node):
        """(source, value, basic, atoms) of a subscript's index."""
        atoms = []

        def part(n):
            if isinstance(n, gast.Slice):
                bounds = [None if b is None else self.atom(b) for b in (n.lower, n.upper, n.step)]
                atoms.extend(b for b in bounds if b is not None and b in self.locals)
                text = ":".join("" if b is None else b for b in bounds[:2])
                if bounds[2] is not None:
                    text += ":" + bounds[2]
                value = f"{self.rt('slice')}(" + ", ".join("None" if b is None else b for b in bounds) + ")"
                return text, value, True
            if isinstance(n, gast.Constant):
                text = "..." if n.value is Ellipsis else repr(n.value)
                return text, text, n.value is None or n.value is Ellipsis or isinstance(n.value, int)
            a = self.atom(n)
            if a in self.locals:
                atoms.append(a)
            return a, a, self._is_int(a)

        if isinstance(node, gast.Tuple):
            parts = [part(e) for e in node.elts]
            src = ", ".join(p[0] for p in parts)
            value = "(" + ", ".join(p[1] for p in parts) + ("," if len(parts) == 1 else "") + ")"
            return src, value, all(p[2] for p in parts), atoms
        text, value, basic = part(node)
        return text, value, basic, atoms


def _is_axis_concatenator(node, scope, local_names):
    """``np.r_`` / ``np.c_``: indexing them concatenates (no rule the compiler can use)."""
    dotted = dotted_name(node)
    if not dotted or dotted.split(".")[0] in local_names:
        return False
    obj = resolve_dotted(scope, dotted)
    return isinstance(obj, _AXIS_CONCATENATOR)


_AXIS_CONCATENATOR = type(np.r_).__mro__[1]     # numpy's AxisConcatenator (np.r_, np.c_)
