"""Resolving the names a function uses to the objects they denote.

A :class:`Scope` remembers every name and attribute chain it resolved, and
what it found (``Scope.reads``): compiled code is specialised on those
objects, and :mod:`knetc.transform.guards` checks them on every call.
"""
import builtins

import gast

_MISSING = object()


class Scope:
    """The non-local names visible to a function: closure cells, globals, builtins."""

    def __init__(self, fun):
        self.globals = getattr(fun, "__globals__", {})
        self.closure = {}
        self.cells = {}
        self.reads = {}           # dotted name -> the object it denoted (or MISSING)
        code = getattr(fun, "__code__", None)
        if code is not None and getattr(fun, "__closure__", None):
            for name, cell in zip(code.co_freevars, fun.__closure__):
                try:
                    self.closure[name] = cell.cell_contents
                    self.cells[name] = cell
                except ValueError:  # empty cell
                    pass

    def lookup(self, name):
        """The object ``name`` denotes now, or ``_MISSING``."""
        if name in self.closure:
            obj = self.closure[name]
        elif name in self.globals:
            obj = self.globals[name]
        else:
            obj = getattr(builtins, name, _MISSING)
        self.reads.setdefault(name, obj)
        return obj

    def where(self, name):
        """'closure', 'global' or 'builtin': where ``name`` is looked up first."""
        if name in self.closure:
            return "closure"
        return "global" if name in self.globals else "builtin"


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
    path = head
    for attr in rest:
        if obj is _MISSING:
            return _MISSING
        try:
            obj = getattr(obj, attr, _MISSING)
        except Exception:      # a property that raises: nothing the compiler can use
            obj = _MISSING
        path = f"{path}.{attr}"
        scope.reads.setdefault(path, obj)
    return obj


MISSING = _MISSING
