"""Showing generated gradient code: ``knet.show(g)`` and ``python -m knetc show``."""
import importlib.util
import pathlib
import sys
import warnings

from .api import GradFunction, grad
from .arguments import wrt_indices
from .errors import FallbackWarning, GradientInputError, UnsupportedError
from .transform import pipeline
from .transform.cache import fallback_reason


def _target(fun):
    """``(function, wrt)`` of a function or of a gradient object (``knet.grad(f, wrt=...)``)."""
    if isinstance(fun, GradFunction):
        return fun.fun, fun.wrt
    return fun, 0


def _check_wrt(fun, wrt):
    """``wrt`` as a tuple of argument indices of ``fun``; a clear error when one is out of range."""
    if not hasattr(fun, "__code__"):
        raise GradientInputError(f"knetc: {fun!r} is not a Python function: there is no code to show "
                                 f"(its gradient runs on the tape)")
    return wrt_indices(wrt, fun.__code__.co_argcount, fun.__name__)


def generic_source(fun, wrt=0):
    """The generated code of ``fun`` compiled without sample arguments.

    ``fun`` may be a gradient object (its function and ``wrt`` are used).
    Without arguments the compiler does not know which parameters are lists
    or arrays, so container updates use the generic runtime helpers.
    """
    if isinstance(fun, GradFunction):
        fun, wrt = fun.fun, fun.wrt if wrt is None else wrt
    wrt = _check_wrt(fun, 0 if wrt is None else wrt)
    n = fun.__code__.co_argcount
    parts, _ = _generic_tree(fun, tuple(i in wrt for i in range(n)), set())
    return "\n\n".join(parts)


def _generic_tree(fun, active, seen):
    """The generated code of ``fun`` and of the helpers it calls by name, and the taped helpers."""
    seen.add((fun.__code__, active))
    compiled = pipeline.compile_vjp(fun, active, [])
    parts, taped = [compiled.source], []
    for helper, mask in compiled.static_calls:
        if (helper.__code__, mask) not in seen:
            try:
                sub, sub_taped = _generic_tree(helper, mask, seen)
                parts.extend(sub)
                taped.extend(sub_taped)
            except UnsupportedError as e:
                reason = str(e).replace("knetc: ", "", 1)
                parts.append(f"# {helper.__name__} runs on the tape: {reason}\n")
                taped.append((helper.__name__, reason))
    return parts, taped


def stages_text(fun, wrt=0, args=None):
    """The IR after each pass of compiling ``fun``'s gradient (see ``knetc.transform.pipeline``).

    ``fun`` may be a gradient object; with ``args`` (sample arguments) the compile
    sees their kinds as a real call does, else it is generic, as for ``generic_source``.
    """
    if isinstance(fun, GradFunction):
        fun, wrt = fun.fun, fun.wrt if wrt is None else wrt
    wrt = _check_wrt(fun, 0 if wrt is None else wrt)
    n = fun.__code__.co_argcount
    active = tuple(i in wrt for i in range(n)) + (False,) * len(fun.__code__.co_freevars)
    values = [] if args is None else list(args)
    try:
        return pipeline.stages(fun, active, values)
    except UnsupportedError as e:
        return f"# {fun.__name__} does not compile: {_reason(e)}\n"


def show(g, file=None, stages=False):
    """Print a gradient's generated code (the latest call's, else a generic compile).

    With ``stages=True``, the IR after each pass of the compiler instead.
    """
    out = file or sys.stdout
    if stages:
        fun, wrt = _target(g)
        print(stages_text(fun, wrt), file=out, end="")
        return
    if isinstance(g, GradFunction) and g._last is not None:
        text = g.source
    else:
        fun, wrt = _target(g)
        text = generic_source(fun, wrt)
    print(text, file=out, end="")


def load_module(path):
    """Import the Python file ``path`` as a module (its folder goes first on ``sys.path``)."""
    file = pathlib.Path(path)
    if not file.is_file():
        raise SystemExit(f"knetc: no such file: {file.resolve()}")
    sys.path.insert(0, str(file.parent.resolve()))
    module_spec = importlib.util.spec_from_file_location(file.stem, file)
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[file.stem] = module
    module_spec.loader.exec_module(module)
    return module


def load_function(spec):
    """Import ``path/to/model.py:name`` and return the function (or gradient object)."""
    fun, _ = load_target(spec)
    return fun


def load_target(spec):
    """``(object, module)`` for ``path/to/model.py:name``."""
    path, _, name = spec.rpartition(":")
    if not path or not name:
        raise SystemExit(f"knetc: expected FILE.py:FUNCTION, got {spec!r}")
    module = load_module(path)
    try:
        return getattr(module, name), module
    except AttributeError:
        raise SystemExit(f"knetc: {path} has no function {name!r}") from None


def _reason(err):
    return str(err).replace("knetc: ", "", 1)


def describe_mode(fun, wrt=0, args=None):
    """How a gradient call of ``fun`` runs: 'source', 'mixed', 'tape' or 'undetermined', and why.

    With ``args`` (a tuple of sample arguments) the gradient is really taken,
    so the answer is the one a real call gives (``g.mode`` after the call),
    helpers included. Without them the function is compiled generically; a
    refusal that hinges on what the arguments are (a list or an array) is
    reported as undetermined rather than guessed.
    """
    if isinstance(fun, GradFunction):
        fun, wrt = fun.fun, fun.wrt if wrt is None else wrt
    wrt = 0 if wrt is None else wrt
    _check_wrt(fun, wrt)
    if args is not None:
        g = grad(fun, wrt=wrt)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", FallbackWarning)
            g(*args)
        reasons = [_reason(w.message) for w in caught if issubclass(w.category, FallbackWarning)]
        if not reasons and g.mode != "source":   # warned earlier in this process: the recorded reasons
            reason = fallback_reason(fun)
            reasons = [_reason(reason)] if reason is not None else []
        if g.mode == "source":
            return "source: the compiler handles it (checked by a gradient call with the given arguments)"
        return f"{g.mode}: " + "; ".join(reasons or ["some helper runs on the tape"])
    n = fun.__code__.co_argcount
    wrt_t = _check_wrt(fun, wrt)
    try:
        _, taped = _generic_tree(fun, tuple(i in wrt_t for i in range(n)), set())
    except UnsupportedError as e:
        if "cannot tell whether" in str(e):
            return (f"undetermined without arguments: {_reason(e)}. A real call knows its arguments; "
                    f"give sample arguments with --args to decide as it does")
        return f"tape: {_reason(e)}"
    if taped:
        return "mixed: " + "; ".join(f"{name} runs on the tape: {why}" for name, why in taped)
    return "source: the compiler handles it"
