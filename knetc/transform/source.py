"""Reading a function's source and parsing it with gast."""
import inspect
import linecache
import textwrap

import gast

from ..errors import UnsupportedError


class FunctionSource:
    """The parsed definition of one function and where it came from."""

    def __init__(self, fun, node, filename, lines):
        self.fun = fun
        self.node = node          # gast.FunctionDef or gast.Lambda, line numbers as in the file
        self.filename = filename
        self.lines = lines        # the file's lines (for '# Grad of:' comments)

    def line_text(self, lineno):
        """The user's source line ``lineno`` (stripped), or ''."""
        if 1 <= lineno <= len(self.lines):
            return self.lines[lineno - 1].strip()
        return ""

    def error(self, construct, node=None, detail=None):
        """An :class:`UnsupportedError` located at ``node`` in this function."""
        lineno = getattr(node, "lineno", None) or getattr(self.node, "lineno", None)
        col = getattr(node, "col_offset", None)
        return UnsupportedError(construct, self.short_filename, lineno, col, detail)

    @property
    def short_filename(self):
        """The file name as users see it in messages."""
        return self.filename


def _short(filename):
    import os
    try:
        rel = os.path.relpath(filename)
        return rel if not rel.startswith("..") else filename
    except ValueError:
        return filename


def get_function_source(fun):
    """Parse ``fun``'s definition; raise UnsupportedError if there is no source."""
    code = getattr(fun, "__code__", None)
    if code is None:
        raise UnsupportedError(f"calling {getattr(fun, '__name__', fun)!r} (no Python source)")
    filename = code.co_filename
    try:
        src_lines, start = inspect.getsourcelines(fun)
    except (OSError, TypeError):
        raise UnsupportedError(f"function {fun.__name__!r} without available source",
                               filename, code.co_firstlineno) from None
    all_lines = linecache.getlines(filename) or src_lines
    start = max(start, 1)
    src = textwrap.dedent("".join(src_lines))
    try:
        tree = gast.parse(src)
    except SyntaxError:
        # A lambda inside a larger expression: parse its line(s) as an expression.
        tree = _parse_fragment(src)
        if tree is None:
            raise UnsupportedError(f"function {fun.__name__!r} whose source cannot be parsed alone",
                                   filename, start) from None
    gast.increment_lineno(tree, start - 1)
    node = _find_definition(tree, fun)
    if node is None:
        raise UnsupportedError(f"function {fun.__name__!r} whose definition cannot be located",
                               filename, start)
    return FunctionSource(fun, node, _short(filename), all_lines)


def _parse_fragment(src):
    text = src.strip()
    for cut in range(len(text), 0, -1):
        try:
            return gast.parse("(" + text[:cut].lstrip(" .,=(") + ")")
        except SyntaxError:
            continue
    return None


def _find_definition(tree, fun):
    name = fun.__name__
    argnames = fun.__code__.co_varnames[:fun.__code__.co_argcount]
    if name != "<lambda>":
        for node in gast.walk(tree):
            if isinstance(node, gast.FunctionDef) and node.name == name:
                return node
        return None
    for node in gast.walk(tree):
        if isinstance(node, gast.Lambda):
            names = tuple(a.id for a in node.args.args)
            if names == tuple(argnames):
                return node
    return None
