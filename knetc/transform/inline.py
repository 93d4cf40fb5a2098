"""Inlining single-expression derivative rules into generated code.

A VJP such as ``lambda g, ans, x: g * (1 - ans * ans)`` becomes, at the
place it is used, ``dt = dh * (1 - h * h)``: the rule's parameters are
replaced by the atoms of the statement being differentiated. The rule's own
global names (``unbroadcast``, ``np``) are handed to the generated code.
"""
import ast
import inspect
import textwrap


class Template:
    """The parsed body of one VJP, ready for substitution."""

    def __init__(self, params, body, free):
        self.params = params      # positional parameter names (g, ans, x, ...)
        self.body = body          # ast expression
        self.free = free          # global names the body uses -> object


_CACHE = {}


def template_of(vjp):
    """A :class:`Template` for ``vjp``, or None if it cannot be inlined."""
    key = id(vjp)
    if key in _CACHE:
        entry = _CACHE[key]
        return entry[1] if entry[0] is vjp else None
    tmpl = _build(vjp)
    _CACHE[key] = (vjp, tmpl)
    return tmpl


def _build(vjp):
    code = getattr(vjp, "__code__", None)
    if code is None or code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS):
        return None
    if vjp.__defaults__ or vjp.__kwdefaults__ or code.co_kwonlyargcount or vjp.__closure__:
        return None
    params = list(code.co_varnames[:code.co_argcount])
    try:
        lines, start = inspect.getsourcelines(vjp)
    except (OSError, TypeError):
        return None
    tree = _parse_lines(lines)
    if tree is None:
        return None
    tree, offset = tree
    start -= offset
    body = _find_body(tree, vjp, params, start)
    if body is None:
        return None
    free = {}
    for node in ast.walk(body):
        if isinstance(node, ast.Name) and node.id not in params:
            if node.id in vjp.__globals__:
                free[node.id] = vjp.__globals__[node.id]
            else:
                import builtins
                if not hasattr(builtins, node.id):
                    return None
                free[node.id] = getattr(builtins, node.id)   # bound, so a user's global cannot shadow it
        if isinstance(node, (ast.Lambda, ast.NamedExpr, ast.ListComp, ast.GeneratorExp)):
            return None
    return Template(params, body, free)


def _parse_lines(lines):
    """Parse the lines holding a rule; a continuation line may carry a stray ')'."""
    src = textwrap.dedent("".join(lines))
    candidates = [src, "(\n" + src.strip().rstrip(",") + "\n)"]
    stripped = src.rstrip().rstrip(",")
    while stripped.endswith(")"):
        stripped = stripped[:-1].rstrip().rstrip(",")
        candidates.append("(\n" + stripped.strip() + "\n)")
    for i, text in enumerate(candidates):
        try:
            return ast.parse(text), (0 if i == 0 else 1)
        except SyntaxError:
            continue
    return None


def _find_body(tree, vjp, params, start):
    """The expression of ``vjp``: a lambda's body or a def's single return."""
    if vjp.__name__ != "<lambda>":
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name == vjp.__name__:
                stmts = [s for s in node.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
                if len(stmts) == 1 and isinstance(stmts[0], ast.Return) and stmts[0].value is not None:
                    return stmts[0].value
                return None
        return None
    line = vjp.__code__.co_firstlineno - start + 1
    candidates = [n for n in ast.walk(tree) if isinstance(n, ast.Lambda)
                  and n.lineno == line and [a.arg for a in n.args.args] == params]
    if len(candidates) == 1:
        return candidates[0].body
    if len(candidates) > 1 and hasattr(vjp.__code__, "co_positions"):
        cols = [p[2] for p in vjp.__code__.co_positions() if p[0] == vjp.__code__.co_firstlineno and p[2] is not None]
        if cols:
            lo = min(cols)
            for n in candidates:
                if n.body.col_offset <= lo <= (n.body.end_col_offset or 0):
                    return n.body
    return None


class _Substitute(ast.NodeTransformer):
    def __init__(self, mapping, renames):
        self.mapping = mapping
        self.renames = renames

    def visit_Name(self, node):
        if node.id in self.mapping:
            return ast.copy_location(ast.parse(self.mapping[node.id], mode="eval").body, node)
        if node.id in self.renames:
            return ast.copy_location(ast.Name(id=self.renames[node.id], ctx=node.ctx), node)
        return node


class _Fold(ast.NodeTransformer):
    """Fold arithmetic on literal numbers left by substitution (``2 - 1`` -> ``1``)."""

    def _literal(self, node):
        try:
            value = eval(compile(ast.Expression(node), "<fold>", "eval"), {"__builtins__": {}})
        except Exception:
            return node
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return node
        return ast.copy_location(ast.Constant(value), node)

    def visit_BinOp(self, node):
        self.generic_visit(node)
        left, right = node.left, node.right
        if _is_number(left) and _is_number(right):
            return self._literal(node)
        if isinstance(node.op, ast.Pow) and _is_number(right, 1):
            return left
        if isinstance(node.op, ast.Mult) and _is_number(right, 1):
            return left
        if isinstance(node.op, ast.Mult) and _is_number(left, 1):
            return right
        return node

    def visit_Compare(self, node):
        self.generic_visit(node)
        if _is_number(node.left) and all(_is_number(c) for c in node.comparators):
            try:
                value = eval(compile(ast.Expression(node), "<fold>", "eval"), {"__builtins__": {}})
                return ast.copy_location(ast.Constant(int(value)), node)
            except Exception:
                return node
        return node


def _is_number(node, value=None):
    ok = (isinstance(node, ast.Constant) and isinstance(node.value, (int, float))
          and not isinstance(node.value, bool))
    return ok and (value is None or node.value == value)


def instantiate(tmpl, arg_texts, renames):
    """Source text of ``tmpl`` with its parameters replaced by ``arg_texts``."""
    import copy
    mapping = dict(zip(tmpl.params, arg_texts))
    body = _Substitute(mapping, renames).visit(copy.deepcopy(tmpl.body))
    return ast.unparse(_Fold().visit(body))
