"""The public entry points: ``grad``, ``value_and_grad``, ``gradloss``."""
import functools
import inspect
import os
import sys
import types

from .arguments import bind_arguments, location, plain_function, scalar_value, seed, takes_varargs, wrt_indices
from .call_plan import SEEDS, Plan
from .runtime.tape_callers import entry_structure
from .compiled_report import compile_seconds, describe_structure, generated_source, uses_tape
from .errors import KnetError, UnsupportedError
from .gradients import float_arrays, owned, owned_fitting_list, owned_list, unalias
from .highlight import html_block
from .runtime import tape
from .runtime.box import has_box
from .runtime.gradient_state import DEPTH
from .runtime.zero_safe import MENDING
from .runtime.rules import _TAPE_HOOK
from .runtime.tree import call_signature as _call_signature, check_differentiable, match_structure, write_into
from .transform import cache, pipeline, tracebacks
from . import has_aux as aux_outputs
from .transform.cache import positional_call
from .transform.finite import check_finite

MODES = ("auto", "source", "tape")


class GradFunction:
    """The gradient of a scalar function, compiled on first call.

    Call it with the function's own arguments. Attributes: ``fun`` (the
    original function), ``wrt``, ``source`` (the generated Python) and
    ``mode`` ('source', 'tape' or 'mixed').
    """

    def __init__(self, fun, wrt=0, mode="auto", returns="grad", verbose=None, check_finite=False,
                 out=None, accumulate=False, has_aux=False):
        if mode not in MODES:
            raise ValueError(f"knetc: mode must be one of {MODES}, not {mode!r}")
        # what runs: a plain Python function and the arguments bound in front of the call's
        # (a bound method's instance, a partial's arguments, a callable object)
        self._target, self._prefix, self._prefix_kwargs = plain_function(fun)
        self._compilable = type(self._target) is types.FunctionType and not takes_varargs(self._target)
        if not self._compilable:
            mode = "tape" if mode == "auto" else mode
        self.fun = fun
        self.wrt = wrt
        self.requested_mode = mode
        self.returns = returns
        self.verbose = _verbosity(os.environ.get("KNETC_VERBOSE")) if verbose is None else int(verbose)
        self.check_finite = check_finite
        if accumulate and out is None:
            raise ValueError("knetc: accumulate=True needs out=, the buffers to accumulate into")
        self.out = out
        self.accumulate = accumulate
        self.has_aux = has_aux
        self._shown = set()
        self._wrt_cache = {}
        self._active_cache = {}
        self._last = None            # (vjp, mode) of the latest call
        self._plans = {}             # _call_signature of the positional arguments -> Plan
        self._has_closure = bool(getattr(self._target, "__closure__", None))
        functools.update_wrapper(self, fun, updated=())
        try:
            self._signature = inspect.signature(fun)
        except (TypeError, ValueError):
            self._signature = None

    # ---- calling ---------------------------------------------------------
    def _bind(self, args, kwargs):
        """The target's parameter values in order (defaults filled in), or None (tape with args as given)."""
        if not self._compilable:
            return None
        prefix, fun = self._prefix, self._target
        code = fun.__code__
        if not kwargs and not self._prefix_kwargs and len(prefix) + len(args) == code.co_argcount \
                and not code.co_kwonlyargcount:
            return [*prefix, *args]
        return bind_arguments(fun, prefix + tuple(args), {**self._prefix_kwargs, **kwargs})[0]

    def _wrt_indices(self, nargs):
        indices = wrt_indices(self.wrt, nargs, self._name(), skip=len(self._prefix))
        self._wrt_cache[nargs] = indices
        self._active_cache[nargs] = tuple(i in indices for i in range(nargs))
        return indices

    def _param_names(self):
        code = self._target.__code__
        return list(code.co_varnames[:code.co_argcount + code.co_kwonlyargcount])

    def _name(self):
        return getattr(self.fun, "__name__", repr(self.fun))

    def __call__(self, *args, **kwargs):
        DEPTH[0] += 1            # a gradient is being taken: Knet's dropout is active
        if DEPTH[0] == 1:
            MENDING[0] = False   # see knetc/runtime/zero_safe.py
        try:
            value, grads = self._value_and_grad(args, kwargs)
        finally:
            DEPTH[0] -= 1
        if self.out is not None:
            grads = write_into(self.out, grads, self.accumulate)
        if self.returns == "grad":
            return (grads, value[1]) if self.has_aux else grads
        if self.returns == "value_and_grad":
            return value, grads
        return grads, value

    def _value_and_grad(self, args, kwargs):
        plan = None
        if not kwargs and _TAPE_HOOK[0] is None:
            sig = _call_signature(args)
            plan = self._plans.get(sig) if sig is not None else None
        if plan is None or not plan.guard(self._target):
            if plan is not None and self.verbose:
                why = plan.vjp.compiled.guard.failure(self._target)
                print(f"# knetc: recompiling the gradient of {self._name()}: {why}")
            return self._value_and_grad_slow(args, kwargs)
        self._last = plan.last
        values = (*self._prefix, *args) if self._prefix else args
        return self._run(plan.vjp, values, plan.wrt, plan.entry(values))

    def _value_and_grad_slow(self, args, kwargs):
        values = self._bind(args, kwargs)
        if values is None:        # not a Python function the compiler can take: the tape
            if self.requested_mode == "source":
                raise _not_compilable(self.fun, self._target)
            taped = aux_outputs.taped_value_and_grad if self.has_aux else tape.value_and_grad
            value, grads = taped(self.fun, tuple(args), dict(kwargs), self.wrt)
            self._last = (None, "tape")
            return value, owned(grads)
        wrt = self._wrt_cache.get(len(values)) or self._wrt_indices(len(values))
        if self.requested_mode == "tape" or _boxed(values):
            skip = len(self._prefix)
            taped_wrt = tuple(i - skip for i in wrt) if isinstance(self.wrt, tuple) else wrt[0] - skip
            target = positional_call(self._target)
            if skip:
                target = functools.partial(target, *values[:skip])
            taped = aux_outputs.taped_value_and_grad if self.has_aux else tape.value_and_grad
            value, grads = taped(target, tuple(values[skip:]), {}, taped_wrt)
            self._last = (None, "tape")
            return value, owned(grads)
        for i in wrt:
            v = values[i]
            if not float_arrays(v):
                names = self._param_names()
                check_differentiable(v, names[i] if i < len(names) else f"argument {i}")
        active = self._active_cache[len(values)]
        try:
            compiled_for = aux_outputs.compiled_for if self.has_aux else cache.compiled_for
            vjp, mode = compiled_for(self._target, active, values, self.requested_mode)
        except RecursionError:
            raise UnsupportedError(f"recursion of {self._name()} deeper than Python's limit",
                                   *location(self._target),
                                   detail="write it as a loop or use mode='tape'") from None
        self._last = (vjp, mode)
        if not kwargs and not self._prefix_kwargs and len(values) == len(args) + len(self._prefix):
            # the same kinds of positional arguments next time skip binding, checks and lookup
            sig = _call_signature(args)
            if sig is not None:
                self._plans[sig] = Plan(vjp, wrt, self._last, sig, len(self._prefix))
        result = self._run(vjp, values, wrt, [entry_structure(values[i]) for i in wrt])
        if self.verbose and id(vjp) not in self._shown:
            # after the run: helpers are compiled (or taped) when first called, so only now
            # is the mode known ('mixed' when one of them runs on the tape)
            self._shown.add(id(vjp))
            changed = self._structure_change(values, wrt)
            if changed:
                print(f"# knetc: recompiling the gradient of {self._name()}: {changed}")
            if self.verbose >= 2 and vjp.compiled is not None:
                print(f"# knetc: the compiler's passes over {self._name()}\n"
                      f"{pipeline.stages(self._target, active, values)}")
            print(f"# knetc: compiled the gradient of {self._name()} (mode: {self.mode})\n{self.source}")
        return result

    def _run(self, vjp, values, wrt, entry):
        """Run the compiled vjp on ``values``; the gradients shaped like ``entry``, the structures
        of the differentiated arguments as the caller passed them (the gradient keeps them also
        if the function grew or shrank a list or dict argument)."""
        closure = cache.closure_values(self._target) if self._has_closure else ()
        if not hasattr(vjp, "taped") and getattr(vjp, "compiled", None) is not None:
            # the first run records which helpers run on the tape (a nested def or a helper
            # resolved at run time is known only then): .mode says 'mixed', .source names them
            saved, cache.TAPED_LOG[0] = cache.TAPED_LOG[0], set()
            vjp.taped = cache.TAPED_LOG[0]
            try:
                return self._run(vjp, values, wrt, entry)
            finally:
                cache.TAPED_LOG[0] = saved
                if saved is not None:
                    saved |= vjp.taped
        try:
            if self.requested_mode == "source":
                with cache.requested_mode("source"):
                    ans, pullback = vjp(*values, *closure)
            else:
                ans, pullback = vjp(*values, *closure)
            value, first = self._value_and_seed(ans)
            adjoints = pullback(first)
        except RecursionError as exc:
            file, line = location(self._target)
            raise KnetError(
                f"knetc: the gradient of {self._name()} ({file}:{line}) recursed deeper than Python allows "
                f"(compiled code uses a few Python frames per call of a recursive helper; limit "
                f"{sys.getrecursionlimit()}): use mode='tape', a loop, or sys.setrecursionlimit") from exc
        except Exception as exc:
            tracebacks.annotate(exc)
            raise
        fit = owned_fitting_list(adjoints[wrt[0]], entry[0]) if len(wrt) == 1 else None
        if fit is not None:
            grads = [fit]
        else:
            grads = owned_list(unalias([match_structure(adjoints[i] if adjoints[i] is not None else 0.0,
                                                          like) for i, like in zip(wrt, entry)]))
        if self.check_finite:
            check_finite(self._name(), grads, vjp, values, closure, lambda ans: self._value_and_seed(ans)[1])
        return value, (tuple(grads) if isinstance(self.wrt, tuple) else grads[0])

    def _value_and_seed(self, ans):
        """The value to return and the pullback's seed (with has_aux: ``(loss, aux)`` and ``(1, None)``)."""
        one = SEEDS.get(type(ans))
        if one is not None and not self.has_aux:     # the common case, without the checks' calls
            return ans, one
        if not self.has_aux:
            return scalar_value(ans, self._name()), seed(ans)
        loss, aux = aux_outputs.split(ans, self._name())
        return (scalar_value(loss, self._name()), aux), (seed(loss), None)

    def _structure_change(self, values, wrt):
        """Describe how the differentiated arguments' structure differs from the last compile."""
        names = self._param_names()
        now = {i: describe_structure(values[i]) for i in wrt}
        before, self._structures = getattr(self, "_structures", None), now
        if not before:
            return None
        diffs = [f"the structure of {names[i] if i < len(names) else f'argument {i}'} changed "
                 f"({before[i]} -> {now[i]})" for i in wrt if i in before and before[i] != now[i]]
        return "; ".join(diffs) or None

    # ---- inspection ------------------------------------------------------
    @property
    def mode(self):
        """'source', 'tape' or 'mixed' (some helper runs on the tape); 'not compiled yet' before the first call."""
        if self._last is None:
            return "tape" if self.requested_mode == "tape" else "not compiled yet"
        vjp, mode = self._last
        if mode == "tape":
            return "tape"
        return "mixed" if uses_tape(vjp) else "source"

    @property
    def source(self):
        """The generated Python of the latest call (and of the helpers it compiled)."""
        return generated_source(self._last, self._name())

    @property
    def compile_seconds(self):
        """Seconds spent generating and compiling the code of the latest call (helpers included)."""
        return compile_seconds(self._last)

    def __repr__(self):
        return f"<knetc.grad of {self._name()} wrt={self.wrt!r} mode={self.mode}>"

    def _header(self):
        line = f"knetc gradient of {self._name()} (wrt={self.wrt!r}), mode: {self.mode}"
        reason = cache.fallback_reason(self._target)
        if reason:
            line += f" (fallback: {reason.replace('knetc: ', '', 1)})"
        return line

    def _repr_markdown_(self):
        """Jupyter: the generated code as a highlighted Python block."""
        return f"**{self._header()}**\n\n```python\n{self.source}```\n"

    def _repr_html_(self):
        """Jupyter: the generated code, highlighted with pygments when it is installed, in a monospace font."""
        return html_block(self._header(), self.source)


def _verbosity(setting):
    """``KNETC_VERBOSE``: unset or empty 0, a number that level, anything else 1."""
    if not setting:
        return 0
    return int(setting) if setting.isdigit() else 1


def _boxed(values):
    """True when called from inside a taped function (higher-order use)."""
    if _TAPE_HOOK[0] is None:      # no trace is recording: no value can be boxed
        return False
    return any(has_box(v) for v in values)


def _not_compilable(fun, target):
    """The UnsupportedError of mode='source' on something the compiler cannot read."""
    if isinstance(target, GradFunction):
        return UnsupportedError(f"mode='source' on the knetc gradient object {target!r}",
                                detail="gradients of gradients run on the tape: use mode='auto' or 'tape'")
    if type(target) is types.FunctionType:
        return UnsupportedError(f"mode='source' on {target.__name__}, which takes *args or **kwargs,",
                                *location(target))
    return UnsupportedError(f"mode='source' on {fun!r}", *location(plain_function(target)[0]),
                            detail="it is not a Python function with source: use mode='auto' or 'tape'")


def _decorator(returns):
    def make(fun=None, **options):
        if fun is None:
            return lambda f: GradFunction(f, returns=returns, **options)
        return GradFunction(fun, returns=returns, **options)
    return make


def grad(fun=None, wrt=0, mode="auto", verbose=None, check_finite=False, out=None, accumulate=False,
         has_aux=False):
    """The gradient of scalar ``fun`` with respect to argument ``wrt``.

    ``wrt`` is an index or a tuple of indices (then a tuple of gradients is
    returned). ``mode='auto'`` compiles and falls back to the tape for
    functions the compiler cannot handle; ``'source'`` forbids the fallback;
    ``'tape'`` records every call. ``verbose=True`` (or the environment
    variable ``KNETC_VERBOSE=1``) prints each compilation once, ``verbose=2``
    (``KNETC_VERBOSE=2``) the compiler's IR after each of its passes too;
    ``check_finite=True`` raises on NaN/inf in the gradient, naming the
    generated and the user's line where it first appeared.
    ``out`` (a structure like the gradient, array leaves, e.g.
    ``knetc.zeros_like(w)``) receives every gradient in place and is returned,
    so the same buffers serve every call; with ``accumulate=True`` gradients
    are added to it instead (accumulation over micro-batches).
    ``has_aux=True``: ``fun`` returns ``(loss, aux)``; the result is
    ``(gradient, aux)``, aux as computed, not differentiated (see :mod:`knetc.has_aux`).
    Usable as ``@grad`` or ``@grad(wrt=1)``.
    """
    return _decorator("grad")(fun, wrt=wrt, mode=mode, verbose=verbose, check_finite=check_finite,
                              out=out, accumulate=accumulate, has_aux=has_aux)


def value_and_grad(fun=None, wrt=0, mode="auto", verbose=None, check_finite=False, out=None,
                   accumulate=False, has_aux=False):
    """Like :func:`grad`, returning ``(value, gradient)`` from one forward pass
    (``((loss, aux), gradient)`` with ``has_aux=True``, as JAX does)."""
    return _decorator("value_and_grad")(fun, wrt=wrt, mode=mode, verbose=verbose, check_finite=check_finite,
                                        out=out, accumulate=accumulate, has_aux=has_aux)


def gradloss(fun=None, wrt=0, mode="auto", verbose=None, check_finite=False, out=None, accumulate=False):
    """Like :func:`grad`, returning ``(gradient, value)`` as Knet's gradloss does."""
    return _decorator("gradloss")(fun, wrt=wrt, mode=mode, verbose=verbose, check_finite=check_finite,
                                  out=out, accumulate=accumulate)
