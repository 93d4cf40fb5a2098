"""Inlining single-expression derivative rules into generated code.

A VJP such as ``lambda g, ans, x: g * (1 - ans * ans)`` becomes, at the
place it is used, ``dt = dh * (1 - h * h)``: the rule's parameters are
replaced by the atoms of the statement being differentiated. The rule's own
global names (``unbroadcast``, ``np``) are handed to the generated code. The
rule's definition is found by source identity (:func:`definition_node`): a
rule whose source cannot be shown to be its own is called by name instead.
"""
import ast
import builtins
import copy
import inspect
import math
import operator

from ..errors import UnsupportedError
from ..runtime.zero_safe import regular_divisor, regular_exponent
from . import ir
from .resolve import MISSING, Scope
from .source import definition_node


class Template:
    """The parsed body of one VJP, ready for substitution."""

    def __init__(self, params, body, free, scope=None):
        self.params = params      # positional parameter names (g, ans, x, ...)
        self.body = body          # ast expression (shared: instantiate copies it)
        self.free = free          # global names the body uses -> object
        self.scope = scope        # what those names denoted (guarded by code that inlines it)


_CACHE = {}


def template_of(vjp):
    """A :class:`Template` for ``vjp``, or None if it cannot be inlined."""
    key = id(vjp)
    entry = _CACHE.get(key)
    if entry is not None and entry[0] is vjp and (entry[1] is None or _still_bound(entry[1], vjp)):
        return entry[1]
    tmpl = _build(vjp)
    _CACHE[key] = (vjp, tmpl)
    return tmpl


def cached_template(vjp):
    """The template :func:`template_of` made for ``vjp`` (None if none was made, or it cannot be inlined)."""
    entry = _CACHE.get(id(vjp))
    return entry[1] if entry is not None and entry[0] is vjp else None


def _build(vjp):
    code = getattr(vjp, "__code__", None)
    if code is None or code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS):
        return None
    if vjp.__defaults__ or vjp.__kwdefaults__ or code.co_kwonlyargcount or vjp.__closure__:
        return None
    params = list(code.co_varnames[:code.co_argcount])
    try:           # the VJP's own definition (source identity), else it is called by name
        node, _ = definition_node(vjp)
    except UnsupportedError:
        return None
    body = _body_of(node)
    if body is None:
        return None
    scope = Scope(vjp)
    free = {}
    for n in ast.walk(body):
        if isinstance(n, ast.Name) and n.id not in params:
            obj = scope.lookup(n.id)
            if obj is MISSING:
                return None
            free[n.id] = obj      # builtins too: bound, so a user's global of that name cannot shadow it
        if isinstance(n, (ast.Lambda, ast.NamedExpr, ast.ListComp, ast.GeneratorExp)):
            return None
    return Template(params, body, free, scope)


def _still_bound(tmpl, vjp):
    """The rule's global names denote what they did when the template was made."""
    now = vjp.__globals__
    return all(now.get(name, getattr(builtins, name, MISSING)) is obj for name, obj in tmpl.free.items())


def _body_of(node):
    """The expression of a VJP: a lambda's body or a def's single return."""
    if isinstance(node, ast.Lambda):
        return node.body
    stmts = [s for s in node.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    if len(stmts) == 1 and isinstance(stmts[0], ast.Return) and stmts[0].value is not None:
        return stmts[0].value
    return None


class Expr(str):
    """Generated source of an inlined rule, with its expression tree (``node``), so that
    whoever places it (as an operand of ``+``, ``*``) needs not parse it back."""

    def __new__(cls, text, node):
        self = super().__new__(cls, text)
        self.node = node
        return self


def atom_node(text):
    """The expression tree of an atom or a generated name (``x``, ``np.pi``, a literal)."""
    if isinstance(text, ir.Literal):
        return _literal_node(text.value)
    parts = text.split(".")
    if not all(p.isidentifier() for p in parts):
        raise AssertionError(f"not an atom: {text!r}")
    node = ast.Name(id=parts[0], ctx=ast.Load())
    for p in parts[1:]:
        node = ast.Attribute(value=node, attr=p, ctx=ast.Load())
    return node


def _literal_node(value):
    if isinstance(value, tuple):
        return ast.Tuple(elts=[_literal_node(v) for v in value], ctx=ast.Load())
    if isinstance(value, list):
        return ast.List(elts=[_literal_node(v) for v in value], ctx=ast.Load())
    if isinstance(value, dict):
        return ast.Dict(keys=[_literal_node(k) for k in value], values=[_literal_node(v) for v in value.values()])
    if isinstance(value, complex) and not (value.real == 0 and math.copysign(1, value.real) > 0
                                           and math.copysign(1, value.imag) > 0):
        # repr((1+2j)) is '(1+2j)': the sum of a real and an imaginary literal
        real, imag = _literal_node(value.real), ast.Constant(complex(0, abs(value.imag)))
        op = ast.Sub() if math.copysign(1.0, value.imag) < 0 else ast.Add()
        return ast.BinOp(left=real, op=op, right=imag)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.copysign(1, value) < 0:
        return ast.UnaryOp(op=ast.USub(), operand=ast.Constant(-value))
    return ast.Constant(value)


class _Substitute(ast.NodeTransformer):
    def __init__(self, mapping, renames):
        self.mapping = mapping
        self.renames = renames

    def visit_Name(self, node):
        if node.id in self.mapping:
            return ast.copy_location(atom_node(self.mapping[node.id]), node)
        if node.id in self.renames:
            return ast.copy_location(ast.Name(id=self.renames[node.id], ctx=node.ctx), node)
        return node


_ARITHMETIC = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
               ast.Div: operator.truediv, ast.Pow: operator.pow, ast.FloorDiv: operator.floordiv,
               ast.Mod: operator.mod}
_COMPARISONS = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
                ast.Gt: operator.gt, ast.GtE: operator.ge}


class _Fold(ast.NodeTransformer):
    """Fold arithmetic on literal numbers left by substitution (``2 - 1`` -> ``1``)."""

    def visit_BinOp(self, node):
        self.generic_visit(node)
        left, right = node.left, node.right
        if _is_number(left) and _is_number(right):
            fun = _ARITHMETIC.get(type(node.op))
            try:
                value = fun(_number(left), _number(right)) if fun else None
            except (ArithmeticError, ValueError, OverflowError):
                value = None
            if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                return ast.copy_location(ast.Constant(value), node)
            return node
        if isinstance(node.op, ast.Pow) and _is_number(right, 1):
            return left
        if isinstance(node.op, ast.Mult) and _is_number(right, 1):
            return left
        if isinstance(node.op, ast.Mult) and _is_number(left, 1):
            return right
        return node

    def visit_Compare(self, node):
        self.generic_visit(node)
        if (_is_number(node.left) and all(_is_number(c) for c in node.comparators)
                and all(type(op) in _COMPARISONS for op in node.ops)):
            values = [_number(node.left)] + [_number(c) for c in node.comparators]
            value = all(_COMPARISONS[type(op)](a, b) for op, a, b in zip(node.ops, values, values[1:]))
            return ast.copy_location(ast.Constant(int(value)), node)
        return node


    def visit_IfExp(self, node):
        """``a if regular_exponent(2) else b`` -> ``a``: a rule's static test on literal arguments."""
        self.generic_visit(node)
        test = node.test
        if (isinstance(test, ast.Call) and isinstance(test.func, ast.Name) and test.func.id in _STATIC_TESTS
                and not test.keywords and all(_is_number(a) for a in test.args)):
            return node.body if _STATIC_TESTS[test.func.id](*[_number(a) for a in test.args]) else node.orelse
        return node


# Pure predicates of the rule table that decide a rule's form from its arguments alone
_STATIC_TESTS = {"regular_divisor": regular_divisor, "regular_exponent": regular_exponent}


def _number(node):
    return node.value


def _is_number(node, value=None):
    ok = (isinstance(node, ast.Constant) and isinstance(node.value, (int, float))
          and not isinstance(node.value, bool))
    return ok and (value is None or node.value == value)


def instantiate(tmpl, arg_texts, renames):
    """Source of ``tmpl`` with its parameters replaced by ``arg_texts`` (atoms or names),
    as an :class:`Expr` that keeps its tree."""
    mapping = dict(zip(tmpl.params, arg_texts))
    body = _Fold().visit(_Substitute(mapping, renames).visit(copy.deepcopy(tmpl.body)))
    return Expr(ast.unparse(body), body)
