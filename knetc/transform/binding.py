"""Binding a call's arguments to a function's parameters.

``plain_function(f)`` turns what users differentiate or call (a bound method,
a ``functools.partial``, an object with ``__call__``) into the Python function
that runs and the arguments bound in front of the call's own;
``bind_arguments`` puts a call's arguments in parameter order, with the
defaults of *that* function object (two ``def layer(z, k=s)`` of one code
object have their own ``k``).
"""
import functools
import inspect
import types

from . import tracebacks
from .source import _short

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
    return _short(code.co_filename), code.co_firstlineno
