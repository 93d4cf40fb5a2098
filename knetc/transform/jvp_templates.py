"""A rule's inlined template read as a tangent expression (forward mode's use of templates).

:mod:`knetc.transform.forward` inlines single-expression rules into tangent lines. An
elementwise VJP ``unbroadcast(g * f'(x), x)`` read as a JVP is ``t * f'(x)``: the
``unbroadcast`` goes (:func:`without_unbroadcast`). The emitter also asks whether an inlined
rule is the tangent itself (:func:`bare_tangent`: then it may need broadcasting to the
result's shape) and parenthesises rules that bind more loosely than ``+`` when it adds
contributions (:func:`operand_of_sum`).
"""
import ast
import copy

from .inline import Template


class _StripUnbroadcast(ast.NodeTransformer):
    def visit_Call(self, node):
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id == "unbroadcast" and len(node.args) == 2:
            return node.args[0]
        return node


def without_unbroadcast(tmpl):
    """An elementwise VJP's template read as a JVP: ``unbroadcast(E, x)`` becomes ``E``."""
    body = _StripUnbroadcast().visit(copy.deepcopy(tmpl.body))
    if _uses(body, "unbroadcast") or any(name.startswith("_") for name in tmpl.free):
        return None
    free = {k: v for k, v in tmpl.free.items() if _uses(body, k)}
    return Template(tmpl.params, body, free)


def _uses(node, name):
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node))


def bare_tangent(text, tangent):
    """An inlined rule (``text.node``) that is the tangent itself, or its negation."""
    node = text.node
    if isinstance(node, ast.UnaryOp):
        node = node.operand
    return isinstance(node, ast.Name) and node.id == tangent


def operand_of_sum(text):
    """Parentheses around an inlined rule that binds more loosely than ``+``."""
    if isinstance(getattr(text, "node", None), (ast.IfExp, ast.Lambda, ast.NamedExpr)):
        return f"({text})"
    return text
