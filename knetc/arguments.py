"""The arguments of a gradient call and its result: binding, ``wrt``, the scalar check, the seed.

One place for what ``knet.grad``, the compiled helpers' dispatcher and the
command line each check, with one message per error:

``plain_function(f)`` turns what users differentiate or call (a bound method,
a ``functools.partial``, an object with ``__call__``) into the Python function
that runs and the arguments bound in front of the call's own;
``bind_arguments`` puts a call's arguments in parameter order, with the
defaults of *that* function object (two ``def layer(z, k=s)`` of one code
object have their own ``k``); ``wrt_indices`` checks ``wrt`` against the
number of arguments; ``scalar_value`` checks that the differentiated function
returned a real scalar and ``seed`` is the adjoint that starts the backward
pass from it (of the result's own float type).
"""
import functools
import inspect
import numbers
import types

import numpy as np

from .errors import GradientInputError
from .runtime.backend import is_array
from .transform import tracebacks
from .transform.source import short_filename

_SIGNATURES = {}     # code object -> inspect.Signature (names and kinds only: defaults differ)

VARARGS = inspect.CO_VARARGS | inspect.CO_VARKEYWORDS


def plain_function(fun):
    """``(function, args, kwargs)``: ``fun(*a, **k)`` is ``function(*args, *a, **kwargs, **k)``.

    ``function`` is a plain Python function, or ``fun`` itself (with empty
    ``args``) when it is none of the callables unwrapped here.
    """
    args, kwargs = (), {}
    for _ in range(16):
        if isinstance(fun, types.FunctionType):
            return fun, args, kwargs
        if isinstance(fun, types.MethodType):
            fun, args = fun.__func__, (fun.__self__,) + args
        elif isinstance(fun, functools.partial):
            kwargs = {**fun.keywords, **kwargs}
            fun, args = fun.func, tuple(fun.args) + args
        elif not isinstance(fun, type) and isinstance(getattr(type(fun), "__call__", None), types.FunctionType) \
                and not _is_knetc_callable(fun):
            fun, args = type(fun).__call__, (fun,) + args
        else:
            return fun, args, kwargs
    return fun, args, kwargs


def _is_knetc_callable(fun):
    module = type(fun).__module__ or ""
    return module.startswith("knetc.")


def takes_varargs(fun):
    """True for a function with ``*args`` or ``**kwargs``."""
    return bool(fun.__code__.co_flags & VARARGS)


def bind_arguments(fun, args, kwargs):
    """Parameter values in order (positional, then keyword-only), and each call argument's position.

    Defaults come from ``fun`` itself. For functions without ``*args`` or
    ``**kwargs`` only.
    """
    code = fun.__code__
    sig = _SIGNATURES.get(code)
    if sig is None:
        sig = _SIGNATURES[code] = inspect.signature(fun)
    bound = sig.bind(*args, **kwargs)
    names = list(sig.parameters)
    argc = code.co_argcount
    defaults = fun.__defaults__ or ()
    pos_defaults = dict(zip(code.co_varnames[argc - len(defaults):argc], defaults))
    kw_defaults = fun.__kwdefaults__ or {}
    values = []
    for p in names:
        if p in bound.arguments:
            values.append(bound.arguments[p])
        elif p in pos_defaults:
            values.append(pos_defaults[p])
        elif p in kw_defaults:
            values.append(kw_defaults[p])
        else:
            raise TypeError(f"{fun.__name__}() missing required argument {p!r}")
    positions = list(range(len(args))) + [names.index(k) for k in kwargs]
    return values, positions


def location(fun):
    """``(file, line)`` of a Python function's definition, for messages (``(None, None)`` if unknown)."""
    code = getattr(fun, "__code__", None)
    if code is None:
        return None, None
    generated = tracebacks.user_location(code)
    if generated is not None:       # a nested def re-created by generated code: the user's own line
        return generated
    return short_filename(code.co_filename), code.co_firstlineno


def wrt_indices(wrt, nargs, name, skip=0):
    """``wrt`` (an index or a tuple of them, negative ones from the end) as a tuple of indices.

    ``nargs`` counts the arguments after the first ``skip`` (bound in front of the
    call, such as a method's instance); the indices returned count those too.
    """
    n = nargs - skip
    for i in wrt if isinstance(wrt, tuple) else (wrt,):
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)):
            raise GradientInputError(f"knetc: wrt must be an argument index (an int) or a tuple of them, "
                                     f"not {type(i).__name__} {i!r}")
        if not -n <= i < n:
            raise GradientInputError(f"knetc: wrt={wrt!r} is out of range: {name} takes {n} argument(s)")
    return tuple(int(i) % n + skip for i in (wrt if isinstance(wrt, tuple) else (wrt,)))


FLOATS = (float, np.float64, np.float32, np.float16)


def scalar_value(ans, name):
    """``ans``, the differentiated function ``name``'s result, as a real scalar (a clear error if it is not)."""
    if type(ans) in FLOATS:
        return ans
    if is_array(ans):
        if ans.size != 1:
            raise GradientInputError(f"knetc: {name} returned an array of shape {tuple(ans.shape)}, "
                                     f"expected a scalar (a float or an array with one element)")
        if ans.dtype.kind not in "fc":
            raise GradientInputError(f"knetc: {name} returned a value of dtype {ans.dtype}, expected a float")
        return ans.reshape(()).item() if ans.ndim else ans
    if isinstance(ans, numbers.Real) and not isinstance(ans, bool):
        return ans
    raise GradientInputError(f"knetc: {name} returned {type(ans).__name__}, expected a scalar float")


def seed(ans):
    """The adjoint that starts the backward pass from the scalar ``ans``, of its float type."""
    if type(ans) in FLOATS:
        return type(ans)(1.0)          # np.float32 loss -> float32 adjoints throughout
    if is_array(ans):
        return ans.dtype.type(1) if ans.ndim == 0 else ans * 0 + 1
    return 1.0
