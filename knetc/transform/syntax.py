"""Small facts about gast syntax trees, shared by the passes that read the user's source."""
import ast

import gast


def unparse(node):
    """Python source of a gast expression."""
    return ast.unparse(gast.gast_to_ast(node)).strip()


def assigned_names(fun_node):
    """Every name bound in a function body (not inside nested definitions)."""
    names = set()
    stack = list(fun_node.body) if isinstance(fun_node.body, list) else []
    while stack:
        n = stack.pop()
        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
            names.add(n.id)
        if isinstance(n, (gast.FunctionDef, gast.ClassDef)):
            names.add(n.name)
            continue
        if isinstance(n, gast.Lambda):
            continue
        stack.extend(gast.iter_child_nodes(n))
    return names
