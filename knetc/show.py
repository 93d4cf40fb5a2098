"""Showing generated gradient code: ``knet.show(g)`` and ``python -m knetc show``."""
import importlib.util
import pathlib
import sys

from .errors import UnsupportedError


def generic_source(fun, wrt=0):
    """The generated code of ``fun`` compiled without sample arguments.

    Without arguments the compiler does not know which parameters are lists
    or arrays, so container updates use the generic runtime helpers.
    """
    n = fun.__code__.co_argcount
    wrt = wrt if isinstance(wrt, tuple) else (wrt,)
    return _generic_tree(fun, tuple(i in wrt for i in range(n)), set())


def _generic_tree(fun, active, seen):
    """The generated code of ``fun`` and of the helpers it calls by name."""
    from .transform.compiler import compile_vjp
    seen.add((fun.__code__, active))
    compiled = compile_vjp(fun, active, [])
    parts = [compiled.source]
    for helper, mask in compiled.static_calls:
        if (helper.__code__, mask) not in seen:
            try:
                parts.append(_generic_tree(helper, mask, seen))
            except UnsupportedError as e:
                parts.append(f"# {helper.__name__} runs on the tape: {str(e).replace('knetc: ', '', 1)}\n")
    return "\n\n".join(parts)


def show(g, file=None):
    """Print a gradient's generated code (the latest call's, else a generic compile)."""
    from .api import GradFunction
    out = file or sys.stdout
    if isinstance(g, GradFunction) and g._last is not None:
        text = g.source
    else:
        fun = g.fun if isinstance(g, GradFunction) else g
        text = generic_source(fun, getattr(g, "wrt", 0))
    print(text, file=out, end="")


def load_function(spec):
    """Import ``path/to/model.py:name`` and return the function."""
    path, _, name = spec.rpartition(":")
    if not path or not name:
        raise SystemExit(f"knetc: expected FILE.py:FUNCTION, got {spec!r}")
    file = pathlib.Path(path)
    if not file.exists():
        raise SystemExit(f"knetc: no such file: {path}")
    sys.path.insert(0, str(file.parent.resolve()))
    module_spec = importlib.util.spec_from_file_location(file.stem, file)
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[file.stem] = module
    module_spec.loader.exec_module(module)
    try:
        return getattr(module, name)
    except AttributeError:
        raise SystemExit(f"knetc: {path} has no function {name!r}") from None


def describe_mode(fun, wrt=0):
    """'source' or 'tape: <reason>' for ``fun`` and the helpers it calls by name."""
    try:
        generic_source(fun, wrt)
        return "source: the compiler handles it"
    except UnsupportedError as e:
        return f"tape: {str(e).replace('knetc: ', '', 1)}"
