"""Resolving the names a function uses to the objects they denote."""
import builtins

import gast

_MISSING = object()


class Scope:
    """The non-local names visible to a function: closure cells, globals, builtins."""

    def __init__(self, fun):
        self.globals = getattr(fun, "__globals__", {})
        self.closure = {}
        code = getattr(fun, "__code__", None)
        if code is not None and getattr(fun, "__closure__", None):
            for name, cell in zip(code.co_freevars, fun.__closure__):
                try:
                    self.closure[name] = cell.cell_contents
                except ValueError:  # empty cell
                    pass

    def lookup(self, name):
        """The object ``name`` denotes now, or ``_MISSING``."""
        if name in self.closure:
            return self.closure[name]
        if name in self.globals:
            return self.globals[name]
        return getattr(builtins, name, _MISSING)


def dotted_name(node):
    """'np.linalg.norm' for a chain of attributes on a name, else None."""
    parts = []
    while isinstance(node, gast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, gast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def resolve_dotted(scope, dotted):
    """The object a dotted global name denotes, or ``_MISSING``."""
    head, *rest = dotted.split(".")
    obj = scope.lookup(head)
    for attr in rest:
        if obj is _MISSING:
            return _MISSING
        obj = getattr(obj, attr, _MISSING)
    return obj


MISSING = _MISSING
