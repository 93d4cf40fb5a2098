"""Calling a function's JVP: compiled once per function (forward mode), falling back to the tape.

Generated tangent code calls a user helper as
``y, ty = call_jvp(f, (a, b), (ta, None))``: the helper's primal result and
its tangent, given the tangents of its differentiated arguments (None for the
others). A helper the compiler cannot handle runs on the tape's forward mode
(:mod:`knetc.runtime.tape_forward`) after one FallbackWarning.
"""
import inspect
import types
import warnings

from ..errors import FallbackWarning, UnsupportedError
from ..runtime import tape_forward
from ..runtime.jvp_rules import rule_jvp
from ..runtime.rules import Primitive, rule_for
from ..runtime.tree import add_grad
from . import support
from ..arguments import location, plain_function
from .cache import closure_values, current_mode, kinds_key, refuse_generator, requested_mode
from .dispatch import too_deep
from .effects import refuse_writes_outside, writes_differentiated_containers
from .forward import compile_jvp

_CACHE = {}
_WARNED = set()
__all__ = ["call_jvp", "jvp_of", "requested_mode"]


def jvp_of(fun, active, values, mode="auto"):
    """The JVP callable of ``fun`` for this mask: ``fn(*values, *closure, *tangents)`` gives
    ``(result, tangent)``; and 'source' or 'tape'."""
    code = fun.__code__
    key = (code, code.co_filename, tuple(active), kinds_key(values), mode)
    entry = _CACHE.get(key)
    if (entry is not None and entry[0] is fun.__globals__ and entry[3] == tuple(map(id, closure_values(fun)))
            and entry[4](fun)):
        return entry[1], entry[2]
    try:
        if mode == "tape":
            raise UnsupportedError("mode='tape'")
        compiled = compile_jvp(fun, tuple(active), values)
        fn, used = compiled.fn, "source"
        fn.compiled = compiled
        guard = compiled.guard.check
    except UnsupportedError as err:
        if mode == "source":
            raise
        if writes_differentiated_containers(fun, active, values):
            # the tape's forward mode would update the caller's containers, not their tangents
            raise UnsupportedError(f"forward mode through {fun.__name__}, run on the tape, writing into a "
                                   "differentiated argument", *location(fun),
                                   detail="the tape cannot hand that argument's tangent back; return the new "
                                          f"values instead ({str(err).replace('knetc: ', '', 1)})") from err
        if mode != "tape":
            _warn_fallback(fun, err)
        fn, used = _taped(fun, active), "tape"
        guard = _same_function(fun)
    _CACHE[key] = (fun.__globals__, fn, used, tuple(map(id, closure_values(fun))), guard)
    return fn, used


def _same_function(fun):
    """The tape's forward mode records each call afresh: reusable for this very function object."""
    return lambda other: other is fun


def latest_compiled(fun):
    """The compiled JVP of helper ``fun`` used most recently, or None."""
    code = getattr(fun, "__code__", None)
    for key, entry in reversed(list(_CACHE.items())):
        if key[0] is code and entry[2] == "source":
            return entry[1].compiled
    return None


def _taped(fun, active):
    refuse_generator(fun)
    nparams = len(active) - len(fun.__code__.co_freevars)
    if any(active[nparams:]):
        raise UnsupportedError(f"forward mode through {fun.__name__} with respect to a variable it closes "
                               "over (the tape differentiates arguments only)")

    call = _by_parameter(fun)

    def fn(*everything):
        values = everything[:nparams]
        tangents = iter(everything[len(active):])
        full = [next(tangents) if a else None for a in active[:nparams]]
        return tape_forward.jvp(call, values, full, active[:nparams])
    fn.compiled = None
    return fn


def _by_parameter(fun):
    """``fun`` called with one value per parameter (call_jvp binds them so: ``*args`` as a tuple,
    ``**kwargs`` as a dict, keyword-only ones in their places)."""
    params = list(inspect.signature(fun).parameters.values())
    if all(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params):
        return fun

    def call(*values):
        args, kwargs = [], {}
        for p, v in zip(params, values):
            if p.kind is p.VAR_POSITIONAL:
                args.extend(v)
            elif p.kind is p.VAR_KEYWORD:
                kwargs.update(v)
            elif p.kind is p.KEYWORD_ONLY:
                kwargs[p.name] = v
            else:
                args.append(v)
        return fun(*args, **kwargs)
    return call


def _warn_fallback(fun, err):
    if fun.__code__ in _WARNED:
        return
    _WARNED.add(fun.__code__)
    warnings.warn(f"knetc: the tangent of {fun.__name__} runs on the tape: {str(err).replace('knetc: ', '', 1)}",
                  FallbackWarning, stacklevel=4)


@support.provide
def call_jvp(fun, args, tangents, kwargs=None, kw_tangents=None, free_tangents=None):
    """``(fun(*args, **kwargs), its tangent)`` given the arguments' tangents (None: not differentiated)
    and, for a nested function, the tangents of the enclosing variables it reads (by name)."""
    kwargs = kwargs or {}
    kw_tangents = kw_tangents or {}
    free_tangents = free_tangents or {}
    if isinstance(fun, Primitive) or rule_for(fun) is not None:
        ans = fun(*args, **kwargs)
        parts = [rule_jvp(fun, i, t, ans, args, kwargs) for i, t in enumerate(tangents) if t is not None]
        parts += [rule_jvp(fun, k, t, ans, args, kwargs) for k, t in kw_tangents.items()]
        return ans, _sum(parts, ans)
    target, bound, bound_kwargs = plain_function(fun)      # a bound method, a partial: its function
    if target is not fun and type(target) is types.FunctionType:
        fun, args, tangents = target, (*bound, *args), (None,) * len(bound) + tuple(tangents)
        kwargs = {**bound_kwargs, **kwargs}
    code = getattr(fun, "__code__", None)
    if code is None:
        raise UnsupportedError(f"forward mode through {fun!r}, which has no derivative rule and no Python source")
    if free_tangents or any(t is not None for t in tangents) or any(t is not None for t in kw_tangents.values()):
        refuse_writes_outside(fun)
    sig = inspect.signature(fun)
    bound = sig.bind(*args, **kwargs)
    bound.apply_defaults()
    names = list(sig.parameters)
    given = _tangents_by_parameter(sig, bound, args, tangents, kw_tangents)
    values = [bound.arguments[n] for n in names]
    free = closure_values(fun)
    freevars = code.co_freevars
    unknown = set(free_tangents) - set(freevars)
    if unknown:
        raise UnsupportedError(f"forward mode through {fun.__name__}: it does not close over {sorted(unknown)}")
    active = tuple(given.get(n) is not None for n in names) + tuple(v in free_tangents for v in freevars)
    try:
        fn, _ = jvp_of(fun, active, values + free, current_mode())
        return fn(*values, *free, *[given[n] for n, a in zip(names, active) if a],
                  *[free_tangents[v] for v in freevars if v in free_tangents])
    except RecursionError:
        raise too_deep(fun) from None


def _tangents_by_parameter(sig, bound, args, tangents, kw_tangents):
    """Parameter name -> the tangent of its value (None: constant), as ``sig.bind`` placed the
    values: ``*args`` gets a tuple and ``**kwargs`` a dict of tangents (zeros for constants)."""
    given, position = {}, 0
    for p in sig.parameters.values():
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and position < len(args):
            given[p.name] = tangents[position] if position < len(tangents) else None
            position += 1
        elif p.kind is p.VAR_POSITIONAL:
            rest = [(a, tangents[i] if i < len(tangents) else None) for i, a in enumerate(args)][position:]
            position = len(args)
            if any(t is not None for _, t in rest):
                given[p.name] = tuple(tape_forward.zeros_like(a) if t is None else t for a, t in rest)
        elif p.kind is p.VAR_KEYWORD:
            extra = bound.arguments.get(p.name, {})
            if any(kw_tangents.get(k) is not None for k in extra):
                given[p.name] = {k: tape_forward.zeros_like(v) if kw_tangents.get(k) is None else kw_tangents[k]
                                 for k, v in extra.items()}
    for k, t in kw_tangents.items():
        if k in sig.parameters and sig.parameters[k].kind is not sig.parameters[k].VAR_KEYWORD:
            given[k] = t
    return given


def _sum(parts, ans):
    if not parts:
        return tape_forward.zeros_like(ans)
    total = parts[0]
    for p in parts[1:]:
        total = add_grad(total, p)
    return total
