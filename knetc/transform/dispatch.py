"""Calling a function's vjp: compiled once per function, falling back to the tape.

Generated code calls a user helper as ``y, pb = call_vjp(f, mask, *args)``;
``pb(dy)`` then returns one adjoint per argument of the call (None where
``mask`` is False). The helper is compiled on first use for its mask and the
kinds of its arguments; a helper the compiler cannot handle runs on the
tape instead (mixed mode), after one :class:`~knetc.FallbackWarning`.
"""
import inspect
import threading
import warnings

from ..errors import FallbackWarning, UnsupportedError
from ..runtime import creation
from ..runtime.rules import Primitive, rule_for
import numpy as _np

from ..runtime.tree import ZERO, call_signature, kind_of, match_structure

_ndarray = _np.ndarray

_CACHE = {}
_WARNED = set()


class _Mode(threading.local):
    value = "auto"      # the mode of the grad call running now, for the helpers it calls


_MODE = _Mode()


def requested_mode(mode):
    """Context manager: helpers called inside use ``mode`` ('source' forbids the tape)."""
    import contextlib

    @contextlib.contextmanager
    def scope():
        saved, _MODE.value = _MODE.value, mode
        try:
            yield
        finally:
            _MODE.value = saved
    return scope()
_LOCK = threading.RLock()
_SIGNATURES = {}
MODES = {}          # code object -> 'source' | 'tape' (last used), for .mode of callers
TAPED_LOG = [None]  # a set while a gradient's first run records the functions that ran on the tape
FALLBACK_REASONS = {}


def kinds_key(values):
    """Kinds of argument values: enough to reuse compiled code safely."""
    key = []
    for v in values:
        if type(v) is _ndarray:
            key.append("array")
            continue
        k = kind_of(v)
        if k in ("list", "tuple"):
            key.append((k, tuple(kind_of(e) for e in v)))
        elif k == "dict":
            key.append((k, tuple((n, kind_of(e)) for n, e in v.items())))
        else:
            key.append(k)
    return tuple(key)


def closure_values(fun):
    cells = getattr(fun, "__closure__", None) or ()
    out = []
    for c in cells:
        try:
            out.append(c.cell_contents)
        except ValueError:
            out.append(None)
    return out


def compiled_for(fun, active, values, mode="auto"):
    """The vjp callable of ``fun`` for this activity mask and these values.

    Returns ``(vjp, mode)``; ``vjp(*values, *closure_values)`` gives
    ``(result, pullback)``.
    """
    code = fun.__code__
    key = (code, active, kinds_key(values), mode, creation.on_gpu(*values))
    entry = _CACHE.get(key)
    if entry is not None and entry[0] is fun.__globals__:
        return entry[1], entry[2]
    from .compiler import compile_vjp
    if mode == "tape":
        vjp, used = _tape_vjp(fun, active), "tape"
    else:
        try:
            compiled = compile_vjp(fun, active, values)
            vjp, used = compiled.fn, "source"
            vjp.compiled = compiled
        except UnsupportedError as err:
            if mode == "source":
                raise
            FALLBACK_REASONS[code] = str(err)
            # warned on the tape's first successful forward pass: if the tape fails too
            # (no rule there either), its error is the one message the user gets
            vjp, used = _tape_vjp(fun, active, refused=err), "tape"
    with _LOCK:
        _CACHE[key] = (fun.__globals__, vjp, used)
        MODES[code] = used
    return vjp, used


def _tape_vjp(fun, active, refused=None):
    from ..runtime import tape
    from ..runtime.box import NoRuleError
    argnums = tuple(i for i, a in enumerate(active) if a)
    n = len(active)
    make = tape.make_vjp(fun, argnums)
    pending = [refused]        # the compiler's refusal, warned about once the tape has run

    def vjp(*values):
        try:
            ans, pullback = make(*values[:n])
        except NoRuleError as e:
            if pending[0] is not None and hasattr(e, "add_note"):
                e.add_note(f"knetc: the compiler refused {fun.__name__} too: "
                           f"{str(pending[0]).replace('knetc: ', '', 1)}")
            raise
        if pending[0] is not None:
            err, pending[0] = pending[0], None
            _warn_fallback(fun, err)
        if TAPED_LOG[0] is not None:
            TAPED_LOG[0].add(fun)

        def taped_pullback(g, *after):
            if after:
                raise UnsupportedError(f"{fun.__name__} runs on the tape and writes into a differentiated "
                                       "argument; the tape cannot hand that argument's gradient back")
            return pullback(g)
        return ans, taped_pullback
    vjp.compiled = None
    return vjp


def _warn_fallback(fun, err):
    key = fun.__code__
    FALLBACK_REASONS[key] = str(err)
    if key in _WARNED:
        return
    _WARNED.add(key)
    reason = str(err).replace("knetc: ", "", 1)
    warn_at_user_frame(f"knetc: {fun.__name__} runs on the tape: {reason}", FallbackWarning)


def warn_at_user_frame(message, category):
    """``warnings.warn`` attributed to the innermost frame outside knetc and its generated code."""
    import os
    import sys
    from .compiler import GENERATED
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
    frame = sys._getframe(1)
    while frame is not None:
        name = frame.f_code.co_filename
        if not (name.startswith(package) or name in GENERATED or name.startswith("<knetc ")):
            break
        frame = frame.f_back
    if frame is None:
        warnings.warn(message, category, stacklevel=2)
        return
    globs = frame.f_globals
    warnings.warn_explicit(message, category, frame.f_code.co_filename, frame.f_lineno,
                           module=globs.get("__name__"), registry=globs.setdefault("__warningregistry__", {}))


def annotate(exc):
    """Add the user's file, line and source line to an error from generated code.

    The deepest generated frame in the traceback decides: that is the
    statement of the user's code that was running.
    """
    from .compiler import GENERATED
    tb = exc.__traceback__
    where = None
    while tb is not None:
        compiled = GENERATED.get(tb.tb_frame.f_code.co_filename)
        if compiled is not None:
            line = max((g for g in compiled.line_map if g <= tb.tb_lineno), default=None)
            if line is not None:
                where = (compiled, compiled.line_map[line])
        tb = tb.tb_next
    if where is None or getattr(exc, "_knetc_noted", False):
        return
    import linecache
    from .source import _short
    compiled, user_line = where
    fname = compiled.user_filename
    text = linecache.getline(fname, user_line).strip()
    note = f"knetc: raised while running the generated code for {_short(fname)}:{user_line}: {text}"
    if hasattr(exc, "add_note"):
        exc.add_note(note)
    else:  # Python 3.10
        exc.args = (f"{exc.args[0] if exc.args else ''}\n{note}",) + tuple(exc.args[1:])
    exc._knetc_noted = True


def _bind(fun, args, kwargs):
    """Parameter values in order, and the position of each call argument."""
    code = fun.__code__
    n = code.co_argcount
    if not kwargs and len(args) == n and not code.co_kwonlyargcount:
        return list(args), list(range(n))
    sig = _SIGNATURES.get(code)
    if sig is None:
        sig = _SIGNATURES[code] = inspect.signature(fun)
    bound = sig.bind(*args, **kwargs)
    bound.apply_defaults()
    names = list(sig.parameters)
    positions = list(range(len(args))) + [names.index(k) for k in kwargs]
    return [bound.arguments[p] for p in names], positions


def call_vjp(fun, mask, *args, _free=(), **kwargs):
    """Call ``fun`` and return ``(result, pullback)`` (see module docstring).

    ``_free`` names closure variables of ``fun`` that are differentiated in
    the caller (a nested def reading the caller's parameters): their
    adjoints follow the arguments' in the pullback's result.
    """
    if isinstance(fun, Primitive) or rule_for(fun) is not None:
        return _rule_vjp(fun, mask, args, kwargs)
    code = getattr(fun, "__code__", None)
    if code is None:
        raise UnsupportedError(f"calling {fun!r}, which has no derivative rule and no Python source")
    if (not kwargs and not _free and not code.co_freevars and len(args) == code.co_argcount
            and not code.co_kwonlyargcount):
        return _plain_call(fun, mask, args)
    values, positions = _bind(fun, args, kwargs)
    freevars = fun.__code__.co_freevars
    active = [False] * (len(values) + len(freevars))
    for m, p in zip(mask, positions):
        if m:
            active[p] = True
    free_positions = [len(values) + freevars.index(name) for name in _free]
    for p in free_positions:
        active[p] = True
    free_values = closure_values(fun)
    vjp, _ = compiled_for(fun, tuple(active), values + free_values, _MODE.value)
    ans, pullback = vjp(*values, *free_values)

    written = getattr(getattr(vjp, "compiled", None), "mutated", None)
    if written is None and any(active[: len(values)]) and _writes_arguments(fun, active, values):
        raise UnsupportedError(f"{fun.__name__} writes differentiated values into an argument and runs "
                               "on the tape, which cannot hand that argument's gradient back")

    def call_pullback(g, *after):
        grads = pullback(g, *after)
        return (tuple(_filled(grads[p], values[p]) if m else None for m, p in zip(mask, positions))
                + tuple(_filled(grads[p], free_values[p - len(values)]) for p in free_positions))
    return ans, call_pullback


_PLAIN = {}         # (function, mask, mode, call_signature) -> (vjp, whether adjoints need filling)


def _plain_call(fun, mask, args):
    """call_vjp for positional arguments, no closure: the common case, kept short."""
    mode = _MODE.value
    sig = call_signature(args)
    entry = _PLAIN.get((fun, mask, mode, sig)) if sig is not None else None
    if entry is None:
        vjp, _ = compiled_for(fun, mask, args, mode)
        if getattr(vjp, "compiled", None) is None and any(mask) and _writes_arguments(fun, mask, args):
            raise UnsupportedError(f"{fun.__name__} writes differentiated values into an argument and runs "
                                   "on the tape, which cannot hand that argument's gradient back")
        # a compiled pullback already returns one adjoint per argument; only
        # container adjoints may hold ZERO slots to fill
        fill = getattr(vjp, "compiled", None) is None or any(
            m and isinstance(a, (list, tuple, dict)) for m, a in zip(mask, args))
        entry = (vjp, fill)
        if sig is not None:
            with _LOCK:
                _PLAIN[(fun, mask, mode, sig)] = entry
    vjp, fill = entry
    ans, pullback = vjp(*args)
    if not fill:
        return ans, pullback

    def call_pullback(g, *after):
        grads = pullback(g, *after)
        return tuple(_filled(d, v) if m else None for d, v, m in zip(grads, args, mask))
    return ans, call_pullback


def _writes_arguments(fun, active, values):
    from .effects import mutated_params
    names = mutated_params(fun)
    params = fun.__code__.co_varnames[:fun.__code__.co_argcount]
    return any(a and p in names and isinstance(v, (list, dict))
               for p, a, v in zip(params, active, values))


def _filled(grad, like):
    """A helper's container adjoint with its untouched (ZERO) slots made real zeros."""
    slots = grad if isinstance(grad, list) else grad.values() if isinstance(grad, dict) else ()
    if any(v is ZERO for v in slots):
        return match_structure(grad, like) if not isinstance(like, tuple) else list(match_structure(grad, like))
    return grad


def _rule_vjp(fun, mask, args, kwargs):
    rule = rule_for(fun)
    if rule is None:
        raise UnsupportedError(f"calling primitive {fun!r}, which has no derivative (use defvjp)")
    ans = fun(*args, **kwargs)
    names = list(kwargs)

    def pullback(g):
        out = []
        for i, m in enumerate(mask):
            if not m:
                out.append(None)
            elif i < len(args):
                out.append(rule.vjp(i)(g, ans, *args, **kwargs))
            else:
                out.append(rule.kwvjps[names[i - len(args)]](g, ans, *args, **kwargs))
        return tuple(out)
    return ans, pullback
