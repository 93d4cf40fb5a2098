"""Reading a function's source and parsing it with gast."""
import __future__
import ast
import copy
import inspect
import linecache
import os
import types

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


def short_filename(filename):
    """``filename`` relative to the working directory when it is under it, for messages."""
    try:
        rel = os.path.relpath(filename)
        return rel if not rel.startswith("..") else filename
    except ValueError:
        return filename


def get_function_source(fun):
    """Parse ``fun``'s own definition; raise UnsupportedError if it cannot be shown to be it.

    The definition is looked up by the code object (its name and first line,
    never ``__wrapped__``), and it must compile to that very code object
    (bytecode, constants, names, line and column positions): a lambda is
    told from the others on its line by its columns, and a module edited on
    disk after it was imported is refused.
    """
    code = getattr(fun, "__code__", None)
    if code is None:
        raise UnsupportedError(f"calling {getattr(fun, '__name__', fun)!r} (no Python source)")
    if isinstance(fun, types.MethodType):
        fun = fun.__func__
    if code.co_flags & _GENERATOR_FLAGS:
        raise UnsupportedError(f"the generator or async function {code.co_name!r}", short_filename(code.co_filename),
                               code.co_firstlineno)
    node, all_lines = definition_node(fun)
    tree = gast.ast_to_gast(copy.deepcopy(node))
    _mangle_private_names(tree, _class_of(code, fun))
    return FunctionSource(fun, tree, short_filename(code.co_filename), all_lines)


def definition_node(fun):
    """``(node, lines)``: the ``ast`` definition that compiles to ``fun.__code__``, and its file's lines.

    ``node`` (a FunctionDef or a Lambda, positions as in the file) is shared:
    copy it before changing it. Raises UnsupportedError when there is no
    source or it does not compile to the function's code.
    """
    code = fun.__code__
    name = code.co_name
    filename = code.co_filename
    linecache.checkcache(filename)       # a file edited since: read it as it is now (then it differs)
    all_lines = linecache.getlines(filename, getattr(fun, "__globals__", None))
    if not all_lines:
        if filename.startswith("<"):     # exec'd code: no file to name; the caller's line is placed
            raise UnsupportedError(f"function {name!r} without available source "
                                   f"(made by {filename}:{code.co_firstlineno})")
        raise UnsupportedError(f"function {name!r} without available source", filename, code.co_firstlineno)
    tree = _parsed_file(filename, all_lines)
    candidates = _candidates(tree, code)
    imports = _module_imports(tree)
    if not candidates:
        candidates = _candidates(_parsed_block(all_lines, code.co_firstlineno), code)
        imports = _imports_of_globals(fun)
    if not candidates:
        raise UnsupportedError(f"function {name!r} whose definition cannot be located",
                               short_filename(filename), code.co_firstlineno)
    for node in candidates:
        if _compiles_to(node, code, fun, imports) or (imports and _compiles_to(node, code, fun, [])):
            return node, all_lines
    raise UnsupportedError(
        f"the source of {name!r}", short_filename(filename), code.co_firstlineno,
        detail="it does not compile to the running code (the file was edited after it was loaded, "
               "or the function was made by other means), so the compiler cannot tell what it computes")


_COMPREHENSIONS = ("<listcomp>", "<setcomp>", "<dictcomp>", "<genexpr>")
_GENERATOR_FLAGS = inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR
_PARSED = {}         # file name -> (the lines parsed, the module's ast or None)


def _parsed_file(filename, lines):
    entry = _PARSED.get(filename)
    if entry is not None and entry[0] is lines:
        return entry[1]
    try:
        tree = ast.parse("".join(lines))
    except (SyntaxError, ValueError):
        tree = None
    _PARSED[filename] = (lines, tree)
    return tree


def _parsed_block(lines, first):
    """The statement starting at line ``first`` alone (when the whole file does not parse)."""
    try:
        block = inspect.getblock(lines[first - 1:])
    except Exception:
        return None
    text = "".join(block)
    offset = first - 1
    if text[:1].isspace():           # indented: keep the columns exact inside an 'if 1:'
        text, offset = "if 1:\n" + text, offset - 1
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    ast.increment_lineno(tree, offset)
    return tree


def _candidates(tree, code):
    """Definitions in ``tree`` with ``code``'s name whose first line is ``code``'s."""
    if tree is None:
        return []
    out = []
    for node in ast.walk(tree):
        if code.co_name == "<lambda>":
            if isinstance(node, ast.Lambda) and node.lineno == code.co_firstlineno:
                out.append(node)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == code.co_name:
            first = node.decorator_list[0].lineno if node.decorator_list else node.lineno
            if first == code.co_firstlineno:
                out.append(node)
    return out


_FUTURE_FLAGS = 0
for _feature in __future__.all_feature_names:
    _FUTURE_FLAGS |= getattr(__future__, _feature).compiler_flag


def _module_imports(tree):
    """The import statements of a module's own scope (outside functions and classes).

    CPython compiles ``np.sum(x)`` differently when ``np`` was bound by an
    import in the module, so the definition is compiled next to them.
    """
    out = []
    if tree is None:
        return out
    todo = list(tree.body)
    while todo:
        st = todo.pop()
        if isinstance(st, (ast.Import, ast.ImportFrom)):
            if not (isinstance(st, ast.ImportFrom) and st.module == "__future__"):
                out.append(st)
        elif not isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for field in ("body", "orelse", "finalbody", "handlers"):
                todo.extend(getattr(st, field, None) or [])
    return out


def _imports_of_globals(fun):
    """``import m as name`` for the modules among the function's globals (no file to read them from)."""
    names = set()
    todo = [fun.__code__]
    while todo:
        c = todo.pop()
        names.update(c.co_names)
        todo.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    space = getattr(fun, "__globals__", {})
    return [ast.Import(names=[ast.alias(name="m", asname=n)]) for n in sorted(names)
            if isinstance(space.get(n), types.ModuleType)]


def _compiles_to(node, code, fun, imports=()):
    """True if the definition ``node`` (file positions) compiles to ``code``."""
    module = ast.Module(body=list(imports) + [_enclosed(copy.deepcopy(node), code, fun)], type_ignores=[])
    ast.fix_missing_locations(module)
    try:
        compiled = compile(module, code.co_filename, "exec", flags=code.co_flags & _FUTURE_FLAGS,
                           dont_inherit=True)
    except (SyntaxError, ValueError, TypeError):
        return False
    # the candidate's own code object: a constant of the innermost enclosing scope, not one
    # nested inside it (an inner lambda on the same line)
    level = [compiled]
    for name in _enclosing_names(node, code, fun):
        level = [c for k in level for c in _code_constants(k) if c.co_name == name]
    return any(c == code for k in level for c in _code_constants(k)
               if c.co_name == code.co_name and c.co_firstlineno == code.co_firstlineno)


def _code_constants(code):
    return [c for c in code.co_consts if isinstance(c, types.CodeType)]


def _enclosing_names(node, code, fun):
    """The names of the scopes ``_enclosed`` wraps ``node`` in, outermost first."""
    names = []
    stmt = _enclosed(node, code, fun)
    while not (stmt is node or (isinstance(stmt, ast.Expr) and stmt.value is node)):
        names.append(stmt.name)
        stmt = stmt.body[-1]
    return names


def _enclosed(node, code, fun):
    """``node`` inside the classes and functions its qualified name says it was defined in.

    Free variables become locals of the innermost enclosing function, so the
    compiled code reads them from cells as the original does.
    """
    stmt = node if not isinstance(node, ast.Lambda) else ast.Expr(value=node)
    qualname = getattr(code, "co_qualname", None) or getattr(fun, "__qualname__", code.co_name)
    parts = qualname.split(".")[:-1]
    free = [v for v in code.co_freevars]
    scopes = []                          # innermost first: ('def' | 'class', name)
    i = len(parts) - 1
    while i >= 0:
        if parts[i] == "<locals>" and i > 0:
            scopes.append(("def", parts[i - 1]))
            i -= 2
        elif parts[i] in _COMPREHENSIONS:      # a comprehension is a function scope of its own
            scopes.append(("def", parts[i]))
            i -= 1
        else:
            scopes.append(("class", parts[i]))
            i -= 1
    if scopes and scopes[0][0] == "class":
        free = [v for v in free if v != "__class__"]     # the class body makes that cell
    if free and not any(kind == "def" for kind, _ in scopes):
        scopes.append(("def", "_knetc_enclosing"))
    cells_placed = False
    for kind, name in scopes:
        name = name if name.isidentifier() else "_knetc_enclosing"
        if kind == "class":
            stmt = ast.ClassDef(name=name, bases=[], keywords=[], body=[stmt], decorator_list=[])
        else:
            body = [stmt]
            if not cells_placed:
                body = [ast.Assign(targets=[ast.Name(id=v, ctx=ast.Store())], value=ast.Constant(None))
                        for v in free] + body
                cells_placed = True
            stmt = ast.FunctionDef(name=name, args=ast.arguments(posonlyargs=[], args=[], vararg=None,
                                                                 kwonlyargs=[], kw_defaults=[], kwarg=None,
                                                                 defaults=[]),
                                   body=body, decorator_list=[], returns=None, type_comment=None)
    return stmt


def _class_of(code, fun):
    """The name of the class whose body holds the definition, or None."""
    qualname = getattr(code, "co_qualname", None) or getattr(fun, "__qualname__", "")
    parts = qualname.split(".")[:-1]
    return parts[-1] if parts and parts[-1] != "<locals>" else None


def _mangle_private_names(tree, cls):
    """Rename ``__x`` to ``_Cls__x`` as Python does inside a class body."""
    prefix = "_" + (cls or "").lstrip("_")
    if cls is None or prefix == "_":
        return

    def mangled(name):
        if name and name.startswith("__") and not name.endswith("__") and "." not in name:
            return prefix + name
        return name
    for n in gast.walk(tree):
        if isinstance(n, gast.Name):
            n.id = mangled(n.id)
        elif isinstance(n, gast.Attribute):
            n.attr = mangled(n.attr)
        elif isinstance(n, gast.keyword) and n.arg:
            n.arg = mangled(n.arg)
        elif isinstance(n, (gast.FunctionDef, gast.ClassDef)) and n is not tree:
            n.name = mangled(n.name)
