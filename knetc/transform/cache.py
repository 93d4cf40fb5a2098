"""The compile cache and the tape fallback.

``compiled_for(fun, active, values, mode)`` gives the vjp of ``fun`` for an
activity mask and the kinds of the argument values. Compiled code is kept
per (code object, mask, kinds, mode, NumPy or CuPy) in a short chain of
entries, newest first, each with the :class:`~knetc.transform.guards.Guard`
of what it assumed; the first entry whose guard holds for *this* function
(its globals, closure kinds, the names it resolved, the rules it inlined) is
used, else the function is compiled again (at most ``LIMIT`` entries a key).

Compiled code is per code object: everything that differs between two
functions of one code object (closure values, defaults, the instance of a
bound method) reaches it as an argument. A function the compiler refuses
runs on the tape, recorded afresh for each function object, so two closures
of one factory never share a gradient.
"""
import dis
import inspect
import os
import sys
import threading
import types
import warnings

import numpy as _np

from ..arguments import location
from ..errors import FallbackWarning, UnsupportedError
from ..runtime import creation, tape
from ..runtime.box_errors import NoRuleError
from ..runtime.tree import kind_of
from . import pipeline, tracebacks

_ndarray = _np.ndarray

_GENERATOR_FLAGS = inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR
LIMIT = 8            # entries kept per key (a name rebound back and forth reuses its code)
_CACHE = {}          # key -> [(globals, guard, vjp, used)], newest first
_LATEST = {}         # code object -> the CompiledVJP compiled last (for .source)
_WARNED = set()
_LOCK = threading.RLock()
MODES = {}           # code object -> 'source' | 'tape' (last used), for .mode of callers
FALLBACK_REASONS = {}
TAPED_LOG = [None]  # a set while a gradient's first run records the functions that ran on the tape


class _Mode(threading.local):
    value = "auto"      # the mode of the grad call running now, for the helpers it calls


_MODE = _Mode()


def current_mode():
    """The mode of the gradient call running now in this thread ('auto', 'source' or 'tape')."""
    return _MODE.value


class requested_mode:
    """Context manager: helpers called inside use ``mode`` ('source' forbids the tape).
    (A class rather than a generator: a gradient with mode='source' enters one per call.)"""

    __slots__ = ("mode", "saved")

    def __init__(self, mode):
        self.mode = mode

    def __enter__(self):
        self.saved, _MODE.value = _MODE.value, self.mode

    def __exit__(self, *exc):
        _MODE.value = self.saved
        return False


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
    """The contents of ``fun``'s closure cells (None for an empty cell)."""
    cells = getattr(fun, "__closure__", None) or ()
    out = []
    for c in cells:
        try:
            out.append(c.cell_contents)
        except ValueError:
            out.append(None)
    return out


def compiled_for(fun, active, values, mode="auto", rewrite=None):
    """The vjp callable of ``fun`` for this activity mask and these values.

    Returns ``(vjp, mode)``; ``vjp(*values, *closure_values)`` gives
    ``(result, pullback)``; ``vjp.guard(fun)`` says whether it still holds.
    ``rewrite`` edits the IR before the analyses (see pipeline.front_end; has_aux uses it)
    and is part of the cache key.
    """
    code = fun.__code__
    # code objects compare by value: the file name keeps equal code of two cells apart
    key = (code, code.co_filename, active, kinds_key(values), mode, creation.on_gpu(*values), rewrite)
    chain = _CACHE.get(key)
    if chain:
        for space, guard, vjp, used in chain:
            if space is fun.__globals__ and guard(fun):
                if used == "tape":
                    vjp = _tape_vjp(fun, active)
                return vjp, used
    if mode == "tape":
        vjp, used = _tape_vjp(fun, active), "tape"
    else:
        try:
            compiled = pipeline.compile_vjp(fun, active, values, rewrite=rewrite)
            vjp, used = compiled.fn, "source"
            vjp.compiled = compiled
            vjp.guard = compiled.guard.check
        except UnsupportedError as err:
            if mode == "source":
                raise
            FALLBACK_REASONS[code] = str(err)
            # warned on the tape's first successful forward pass: if the tape fails too
            # (no rule there either), its error is the one message the user gets
            vjp, used = _tape_vjp(fun, active, refused=err), "tape"
    with _LOCK:
        chain = _CACHE.setdefault(key, [])
        chain.insert(0, (fun.__globals__, vjp.guard, vjp, used))
        del chain[LIMIT:]
        MODES[code] = used
        if used == "source":
            _LATEST[code] = vjp.compiled
    return vjp, used


def latest_compiled(fun):
    """The :class:`~knetc.transform.compiler.CompiledVJP` compiled last for ``fun``, or None."""
    return _LATEST.get(getattr(fun, "__code__", None))


def cache_size():
    """How many (code, mask, kinds, mode, device) keys have compiled code (for tests)."""
    return len(_CACHE)


def mode_of(fun):
    """'source' or 'tape': how ``fun`` ran when it was last compiled for (None if never)."""
    return MODES.get(getattr(fun, "__code__", None))


def fallback_reason(fun):
    """Why the compiler refused ``fun`` the last time it was asked to (None if it did not)."""
    return FALLBACK_REASONS.get(getattr(fun, "__code__", None))


def _always(fun):
    return True


def parameter_count(code):
    """Positional and keyword-only parameters of a code object."""
    return code.co_argcount + code.co_kwonlyargcount


def positional_call(fun, free=False):
    """``fun`` as a function of its parameters in order, then (with ``free``) its closure values.

    Keyword-only parameters are passed by name; with ``free`` the function is
    rebuilt on fresh cells holding the values passed, so the tape can
    differentiate them. The result has ``fun``'s globals (the tape patches
    that namespace).
    """
    code = fun.__code__
    argc, n = code.co_argcount, parameter_count(code)
    names = code.co_varnames[code.co_argcount:n]
    if not free and not names:
        return fun
    if free and _writes_free_variables(code):
        raise UnsupportedError(f"a differentiated closure variable of {fun.__name__}, which assigns a "
                               "variable of the enclosing function (nonlocal), on the tape", *location(fun),
                               detail="the tape cannot differentiate through that cell")

    made = _caller(fun, code, argc, n, names, free)
    call = types.FunctionType(made.__code__, fun.__globals__, fun.__name__, None, made.__closure__)
    call.__qualname__ = fun.__qualname__
    return call


def keyword_call(fun, nargs, names):
    """``fun`` called as ``f(*args, *kwvalues)``: the first ``nargs`` positionally, then ``names`` by keyword."""
    made = _keyword_caller(fun, nargs, tuple(names))
    space = getattr(fun, "__globals__", None)
    if not isinstance(space, dict):
        return made
    call = types.FunctionType(made.__code__, space, fun.__name__, None, made.__closure__)
    call.__qualname__ = fun.__qualname__
    return call


def _keyword_caller(fun, nargs, names):
    def call(*vals):
        return fun(*vals[:nargs], **dict(zip(names, vals[nargs:])))
    return call


def _caller(fun, code, argc, n, names, free, FunctionType=types.FunctionType, CellType=types.CellType):
    def call(*vals):
        target = fun
        if free:
            target = FunctionType(code, fun.__globals__, fun.__name__, fun.__defaults__,
                                  tuple(CellType(v) for v in vals[n:]))
            target.__kwdefaults__ = fun.__kwdefaults__
        return target(*vals[:argc], **dict(zip(names, vals[argc:n])))
    return call


def _writes_free_variables(code):
    return any(ins.opname in ("STORE_DEREF", "DELETE_DEREF") and ins.argval in code.co_freevars
               for ins in dis.get_instructions(code))


def refuse_generator(fun):
    """A generator (or async) function cannot be taped for compiled code, which consumes its
    result lazily, after the tape's call has returned."""
    if fun.__code__.co_flags & _GENERATOR_FLAGS:
        raise UnsupportedError(f"calling the generator or async function {fun.__name__}", *location(fun),
                               detail="differentiate the function that iterates over it on the tape "
                                      "(mode='tape'), or return a list")


def _tape_vjp(fun, active, refused=None):
    """A vjp of ``fun`` (this function object, its own cells and defaults) on the tape.

    ``refused``: the compiler's reason, warned about (FallbackWarning) after the
    tape's first successful forward pass, or added as a note to the tape's own error.
    """
    refuse_generator(fun)
    code = fun.__code__
    n = parameter_count(code)
    argnums = tuple(i for i, a in enumerate(active) if a)
    free = any(i >= n for i in argnums)
    make = tape.make_vjp(positional_call(fun, free), argnums)
    nvals = len(active) if free else n
    pending = [refused]

    def vjp(*values):
        try:
            ans, pullback = make(*values[:nvals])
        except NoRuleError as e:
            if pending[0] is not None and hasattr(e, "add_note"):
                e.add_note(f"knetc: the compiler refused {fun.__name__} too: "
                           f"{str(pending[0]).replace('knetc: ', '', 1)}")
            raise
        if pending[0] is not None:
            err, pending[0] = pending[0], None
            warn_fallback(fun, err)
        if TAPED_LOG[0] is not None:
            TAPED_LOG[0].add(fun)

        def taped_pullback(g, *after):
            if after:
                raise UnsupportedError(f"{fun.__name__}, run on the tape, writing into a differentiated argument",
                                       *location(fun), detail="the tape cannot hand that argument's gradient "
                                                              "back; return the new values instead")
            grads = pullback(g)
            return grads + (None,) * (len(values) - len(grads))
        return ans, taped_pullback
    vjp.compiled = None
    vjp.guard = _always
    return vjp


def warn_fallback(fun, err):
    """One FallbackWarning per code object: ``fun`` runs on the tape because of ``err``."""
    key = fun.__code__
    FALLBACK_REASONS[key] = str(err)
    if key in _WARNED:
        return
    _WARNED.add(key)
    reason = str(err).replace("knetc: ", "", 1)
    warn_at_user_frame(f"knetc: {fun.__name__} runs on the tape: {reason}", FallbackWarning)


def warn_at_user_frame(message, category):
    """``warnings.warn`` attributed to the innermost frame outside knetc and its generated code."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
    frame = sys._getframe(1)
    while frame is not None:
        name = frame.f_code.co_filename
        if not (name.startswith(package) or tracebacks.is_generated(name)):
            break
        frame = frame.f_back
    if frame is None:
        warnings.warn(message, category, stacklevel=2)
        return
    globs = frame.f_globals
    warnings.warn_explicit(message, category, frame.f_code.co_filename, frame.f_lineno,
                           module=globs.get("__name__"), registry=globs.setdefault("__warningregistry__", {}))
