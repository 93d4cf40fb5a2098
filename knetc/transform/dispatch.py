"""Calling a function's vjp: compiled once per function, falling back to the tape.

Generated code calls a user helper as ``y, pb = call_vjp(f, mask, *args)``;
``pb(dy)`` then returns one adjoint per argument of the call (None where
``mask`` is False). The helper is compiled on first use for its mask and the
kinds of its arguments; a helper the compiler cannot handle runs on the
tape instead (mixed mode), after one :class:`~knetc.FallbackWarning`.
"""
import sys
import threading
import types

from ..arguments import bind_arguments, location, plain_function, takes_varargs
from ..errors import UnsupportedError
from ..runtime import tape
from ..runtime.rules import Primitive, is_nondiff, rule_for
from ..runtime.tape_callers import entry_structure
from ..runtime.tree import ZERO, call_signature, match_structure, zeros_like_tree
from . import support
from .cache import closure_values, compiled_for, current_mode, keyword_call, warn_fallback
from .effects import refuse_writes_outside, writes_differentiated_containers

_FunctionType = types.FunctionType


@support.provide
def call_vjp(fun, mask, *args, _free=(), **kwargs):
    """Call ``fun`` and return ``(result, pullback)`` (see module docstring).

    ``_free`` names closure variables of ``fun`` that are differentiated in
    the caller (a nested def reading the caller's parameters): their
    adjoints follow the arguments' in the pullback's result.
    """
    if type(fun) is not _FunctionType:        # a Primitive, a method, a partial, a callable object
        if isinstance(fun, Primitive) or rule_for(fun) is not None:
            return _rule_vjp(fun, mask, args, kwargs)
        return _unwrapped_call(fun, mask, args, kwargs, _free)
    if rule_for(fun) is not None:             # a plain function given a rule (defvjp)
        return _rule_vjp(fun, mask, args, kwargs)
    if is_nondiff(fun):       # a constant of the rule table reached as a value (a closure's helper)
        return fun(*args, **kwargs), lambda g, *after: tuple(zeros_like_tree(a) if m else None
                                                             for m, a in zip(mask, args))
    code = fun.__code__
    if (not kwargs and not _free and not code.co_freevars and len(args) == code.co_argcount
            and not code.co_kwonlyargcount):
        return _plain_call(fun, mask, args)
    if _free or any(mask):
        refuse_writes_outside(fun)
    if takes_varargs(fun):
        return _varargs_call(fun, mask, args, kwargs)
    values, positions = bind_arguments(fun, args, kwargs)
    freevars = code.co_freevars
    active = [False] * (len(values) + len(freevars))
    for m, p in zip(mask, positions):
        if m:
            active[p] = True
    missing = [name for name in _free if name not in freevars]
    if missing:       # a decorator or a default carries them: the compiler cannot follow
        raise UnsupportedError(f"a nested function whose decorator or default value uses the differentiated "
                               f"{', '.join(missing)}", *location(fun),
                               detail="pass the value as an argument instead")
    free_positions = [len(values) + freevars.index(name) for name in _free]
    for p in free_positions:
        active[p] = True
    free_values = closure_values(fun)
    vjp, _ = _compiled(fun, tuple(active), values + free_values)
    likes = _as_passed(values + free_values, active)
    ans, pullback = vjp(*values, *free_values)

    written = getattr(getattr(vjp, "compiled", None), "mutated", None)
    if written is None and any(active[: len(values)]) and writes_differentiated_containers(fun, active, values):
        raise UnsupportedError(f"{fun.__name__}, run on the tape, writing differentiated values into its argument",
                               *location(fun), detail="the tape cannot hand that argument's gradient back; "
                                                      "return the new values instead")

    def call_pullback(g, *after):
        grads = pullback(g, *after)
        return (tuple(_filled(grads[p], likes[p]) if m else None for m, p in zip(mask, positions))
                + tuple(_filled(grads[p], likes[p]) for p in free_positions))
    return ans, call_pullback


def _compiled(fun, active, values):
    """compiled_for, with Python's recursion limit turned into a clear error."""
    try:
        return compiled_for(fun, active, values, current_mode())
    except RecursionError:
        raise too_deep(fun) from None


def too_deep(fun):
    """The error for a recursion of ``fun`` that compiled code took past Python's limit."""
    return UnsupportedError(
        f"recursion of {fun.__name__} deeper than Python's limit ({sys.getrecursionlimit()} frames)",
        *location(fun), detail="compiled code uses a few frames per call: write it as a loop, "
        "or raise sys.setrecursionlimit")


def _unwrapped_call(fun, mask, args, kwargs, free):
    """A bound method, a functools.partial or a callable object: call the function behind it."""
    target, pre, prekw = plain_function(fun)
    if free:
        raise UnsupportedError(f"a nested function {getattr(fun, '__name__', fun)!r} reading differentiated "
                               f"variables ({', '.join(free)}) through a decorator or wrapper",
                               detail="the compiler cannot follow them into the wrapper")
    if type(target) is not _FunctionType:
        if type(fun).__name__ == "GradFunction":
            err = UnsupportedError(f"calling the knetc gradient object {fun!r} in compiled code",
                                   detail="gradients of gradients run on the tape: use mode='auto' or 'tape'")
        else:
            err = UnsupportedError(f"calling {fun!r}", detail="it has no derivative rule and no Python source")
        return _taped_call(fun, mask, args, kwargs, err)
    ans, pullback = call_vjp(target, (False,) * len(pre) + tuple(mask), *pre, *args, **prekw, **kwargs)
    n = len(pre)

    def unwrapped_pullback(g, *after):
        return pullback(g, *after)[n:]
    return ans, unwrapped_pullback


def _varargs_call(fun, mask, args, kwargs):
    """A helper with ``*args``/``**kwargs`` (the compiler refuses them): the tape, arguments as given."""
    err = UnsupportedError(f"calling {fun.__name__}, which takes *args or **kwargs,", *location(fun))
    return _taped_call(fun, mask, args, kwargs, err)


def _taped_call(fun, mask, args, kwargs, err):
    """Run ``fun`` on the tape with the call's arguments (``err`` in mode 'source')."""
    if current_mode() == "source":
        raise err
    if getattr(fun, "__code__", None) is not None:
        warn_fallback(fun, err)
    names = list(kwargs)
    argnums = tuple(i for i, m in enumerate(mask) if m)
    make = tape.make_vjp(keyword_call(fun, len(args), names) if names else fun, argnums)
    ans, pullback = make(*args, *kwargs.values())

    def varargs_pullback(g, *after):
        if after:
            raise UnsupportedError(f"{fun.__name__} runs on the tape and writes into a differentiated "
                                   "argument; the tape cannot hand that argument's gradient back")
        return pullback(g)
    return ans, varargs_pullback


_PLAIN_LOCK = threading.Lock()
_PLAIN = {}         # (function, mask, mode, call_signature) -> (vjp, whether adjoints need filling)


def _plain_call(fun, mask, args):
    """call_vjp for positional arguments, no closure: the common case, kept short."""
    mode = current_mode()
    sig = call_signature(args)
    entry = _PLAIN.get((fun, mask, mode, sig)) if sig is not None else None
    if entry is None or not entry[2](fun):
        if any(mask):
            refuse_writes_outside(fun)
        vjp, _ = _compiled(fun, mask, args)
        if getattr(vjp, "compiled", None) is None and any(mask) and writes_differentiated_containers(fun, mask, args):
            raise UnsupportedError(f"{fun.__name__}, run on the tape, writing differentiated values into its argument",
                                   *location(fun), detail="the tape cannot hand that argument's gradient back; "
                                                          "return the new values instead")
        # a compiled pullback already returns one adjoint per argument; only
        # container adjoints may hold ZERO slots to fill
        fill = getattr(vjp, "compiled", None) is None or any(
            m and isinstance(a, (list, tuple, dict)) for m, a in zip(mask, args))
        entry = (vjp, fill, vjp.guard)
        if sig is not None:
            with _PLAIN_LOCK:
                if len(_PLAIN) > 4096:    # helpers made afresh on every call: do not keep them all
                    _PLAIN.clear()
                _PLAIN[(fun, mask, mode, sig)] = entry
    vjp, fill, _ = entry
    if not fill:
        return vjp(*args)
    likes = _as_passed(args, mask)
    ans, pullback = vjp(*args)

    def call_pullback(g, *after):
        grads = pullback(g, *after)
        return tuple(_filled(d, v) if m else None for d, v, m in zip(grads, likes, mask))
    return ans, call_pullback


def _as_passed(values, mask):
    """The differentiated containers among ``values`` as they are now (leaves shared): the zeros
    for the adjoint slots nothing reached take the shapes of the elements the helper got, as
    the caller may replace an element (``hs[1] = ...``) before the pullback runs."""
    return [entry_structure(v) if m else v for v, m in zip(values, mask)]


def _filled(grad, like):
    """A helper's container adjoint with its untouched (ZERO) slots made real zeros."""
    slots = grad if isinstance(grad, list) else grad.values() if isinstance(grad, dict) else ()
    for v in slots:
        if v is ZERO:
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
