"""Which arguments of a call its derivative rule models.

A rule's VJPs are called as ``vjp(g, ans, *args, **kwargs)`` with the call's
own arguments, so a rule silently ignores any argument its VJPs do not look
at: ``np.sum(x, where=m)`` would get the gradient of ``np.sum(x)``. This module
binds a call to the rule's VJP signature (less ``g`` and ``ans``) and accepts
it only when every bound argument is

* a differentiable positional argument (one with a VJP, or declared with a
  zero derivative, see :data:`~knetc.runtime.rules.ZERO_DERIVATIVE`),
* a required parameter of the VJP (the VJP takes it explicitly: an index,
  a shape, an axis it cannot do without),
* a *modelled* optional argument: named in the rule's ``keywords=`` or a
  keyword VJP; for a rule that declares no ``keywords`` (a user's rule), the
  named optional parameters of its VJPs (a VJP taking only ``**kwargs``
  models nothing by name),
* or passed as None or as the VJP parameter's own default.

Ufuncs: positional arguments beyond ``nin`` are ``out``; ``out``, ``where``,
``casting``, ``subok``, ``signature`` are refused unless at their defaults
(or declared), ``dtype`` is accepted only where declared. A declared
``dtype`` must be a float type (an integer result has no derivative the rule
computes).

:func:`canonical` moves a differentiated argument passed by keyword
(``np.sum(a=x)``, ``batchnorm(X, gamma=g)``) to its position, using the
function's own signature, so both the compiler and the tape find its VJP.
Both modes call :func:`unmodelled`: the compiler on the atoms of a call (with
:data:`UNKNOWN` for values it cannot see), the tape on the values.
"""
import inspect
import os
import sys
import sysconfig

import numpy as np

UNKNOWN = object()           # a value the compiler cannot see at compile time
_EMPTY = inspect.Parameter.empty
_NOVALUE = getattr(np, "_NoValue", object())
_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
_UFUNC_DEFAULTS = {"out": None, "where": True, "casting": "same_kind", "subok": True,
                   "signature": None, "dtype": None, "axes": None, "axis": None, "keepdims": False}
_UFUNC_HARMLESS = frozenset({"order"})       # memory layout only


class Plan:
    """What one rule's VJPs take, computed once per rule (see :func:`plan_of`)."""

    __slots__ = ("name", "sig", "params", "positional", "index", "checks", "free", "var_positional",
                 "var_keyword", "modelled", "diff", "fun_positional", "fun_index", "ufunc_nin",
                 "takes_varargs", "fun_defaults")

    def __init__(self, rule):
        self.name = rule.name
        vjps = [v for i, v in enumerate(rule.vjps) if v is not None and i not in rule.zero_args]
        vjps += [v for v in rule.kwvjps.values() if v is not None]
        self.sig = None
        self.params = {}
        self.positional = []
        sigs = []
        for v in vjps:
            try:
                params = list(inspect.signature(v).parameters.values())[2:]
            except (TypeError, ValueError):
                continue
            sigs.append(params)
        if sigs:
            first = sigs[0]
            self.sig = inspect.Signature(first)
            self.params = {p.name: p for p in first}
            self.positional = [p.name for p in first if p.kind in _POSITIONAL]
        modelled = set(rule.kwvjps)
        if rule.keywords is not None:
            modelled.update(rule.keywords)
        else:            # a user's rule: the optional parameters its VJPs name
            for params in sigs:
                for p in params:
                    if p.kind is p.VAR_POSITIONAL or (
                            p.kind is not p.VAR_KEYWORD and p.default is not _EMPTY):
                        modelled.add(p.name)
        self.modelled = frozenset(modelled)
        self.diff = frozenset(i for i, v in enumerate(rule.vjps) if v is not None) | rule.zero_args
        self.index = {name: i for i, name in enumerate(self.positional)}
        # per positional parameter: None when any value is fine (differentiable,
        # or required by the VJP), else (name, default) to check the value against
        self.checks = [None if i in self.diff or self.params[name].default is _EMPTY
                       else (name, self.params[name].default)
                       for i, name in enumerate(self.positional)]
        self.free = next((i for i, c in enumerate(self.checks) if c is not None), len(self.checks))
        self.var_positional = next((p.name for p in self.params.values()
                                    if p.kind is p.VAR_POSITIONAL), None)
        # a VJP whose *args come first takes every operand itself (einsum's subscripts and operands)
        self.takes_varargs = bool(self.params) and next(iter(self.params.values())).kind is \
            inspect.Parameter.VAR_POSITIONAL
        self.var_keyword = next((p.name for p in self.params.values()
                                 if p.kind is p.VAR_KEYWORD), None)
        self.ufunc_nin = rule.fun.nin if isinstance(rule.fun, np.ufunc) else None
        self.fun_positional = _positional_of(rule.fun)
        self.fun_defaults = _defaults_of(rule.fun)
        self.fun_index = {n: i for i, (n, _) in enumerate(self.fun_positional or ())}


def _positional_of(fun):
    """``[(name, default), ...]`` of ``fun``'s positional parameters, or None."""
    if fun is None or isinstance(fun, np.ufunc):
        return None
    try:
        params = inspect.signature(fun).parameters.values()
    except (TypeError, ValueError):
        return None
    return [(p.name, p.default) for p in params if p.kind in _POSITIONAL]


def _defaults_of(fun):
    """``{name: default}`` of ``fun``'s parameters that have one ({} where it has no signature)."""
    if fun is None or isinstance(fun, np.ufunc):
        return {}
    try:
        params = inspect.signature(fun).parameters.values()
    except (TypeError, ValueError):
        return {}
    return {p.name: p.default for p in params if p.default is not _EMPTY}


def plan_of(rule):
    """The :class:`Plan` of ``rule`` (cached on the rule)."""
    plan = rule.plan
    if plan is None:
        plan = rule.plan = Plan(rule)
    return plan


def canonical(rule, args, kwargs, fill=None):
    """``(args, kwargs)`` with differentiated arguments passed by keyword moved to their place.

    Only a keyword naming a positional parameter of the function that has a
    VJP moves, with the keywords before it (a parameter left out in between
    takes the function's default when it has a real one, through ``fill`` when
    given: the compiler turns it into an atom); otherwise the call is returned
    unchanged.
    """
    if not kwargs:
        return args, kwargs
    plan = plan_of(rule)
    names = plan.fun_positional
    if not names:
        return args, kwargs
    index = plan.fun_index
    last = -1
    for k in kwargs:
        i = index.get(k)
        if i is not None and i >= len(args) and i in plan.diff and i > last:
            last = i
    if last < 0:
        return args, kwargs
    new_args, new_kwargs = list(args), dict(kwargs)
    for i in range(len(args), last + 1):
        name, default = names[i]
        if name in new_kwargs:
            new_args.append(new_kwargs.pop(name))
        elif default is not _EMPTY and default is not _NOVALUE:
            try:
                new_args.append(default if fill is None else fill(default))
            except (ValueError, SyntaxError):
                return args, kwargs
        else:
            return args, kwargs     # a gap it cannot fill: the checks then refuse the keyword
    return new_args, new_kwargs


def _is_default(value, default):
    if value is default:
        return True
    if value is UNKNOWN or default is _EMPTY:
        return False
    simple = (bool, int, float, str)
    return type(value) in simple and type(value) is type(default) and value == default


def _float_dtype(value):
    if value is None:
        return True
    if value is UNKNOWN:
        return False
    try:
        return np.dtype(value).kind == "f"
    except TypeError:
        return False


def _describe(value):
    if value is UNKNOWN:
        return "a value"
    text = repr(value)
    return text if len(text) <= 40 else type(value).__name__


def unmodelled(rule, args, kwargs):
    """None if the rule models every argument of this call, else ``(argument, why)``.

    ``args`` and ``kwargs`` are the call's (after :func:`canonical`); a value
    may be :data:`UNKNOWN` (the compiler's view of a variable). The tape calls
    this for every recorded operation, so the common cases avoid
    ``Signature.bind``.
    """
    plan = plan_of(rule)
    if not kwargs and len(args) <= plan.free:
        return None                 # the common case: only arguments any value is fine for
    if plan.ufunc_nin is not None:
        return _ufunc_unmodelled(plan, args, kwargs)
    if plan.sig is None:
        return None
    checks = plan.checks
    n = len(checks)
    if len(args) > n:
        if plan.var_positional is None:
            return _bind_error(plan, args, kwargs)
        if plan.var_positional not in plan.modelled and not plan.takes_varargs:
            return (f"the extra positional argument {_describe(args[n])}",
                    "its derivative rule does not model it")
    for i in range(min(len(args), n)):
        check = checks[i]
        if check is not None:
            why = _keyword_unmodelled(plan, check[0], args[i], check[1])
            if why:
                return (f"{check[0]}=", why)
    if kwargs:
        for k, v in kwargs.items():
            p = plan.params.get(k)
            if p is None or p.kind is p.VAR_POSITIONAL or p.kind is p.VAR_KEYWORD:
                if plan.var_keyword is None:
                    return _bind_error(plan, args, kwargs)
                # passed as the function's own default (np.row_stack calls vstack(..., casting='same_kind'))
                why = _keyword_unmodelled(plan, k, v, plan.fun_defaults.get(k, _EMPTY))
            elif p.kind is p.POSITIONAL_ONLY:
                return _bind_error(plan, args, kwargs)
            else:
                i = plan.index.get(k)
                if i is not None and i < len(args):
                    return _bind_error(plan, args, kwargs)
                if (i is not None and i in plan.diff) or p.default is _EMPTY:
                    continue
                why = _keyword_unmodelled(plan, k, v, p.default)
            if why:
                return (f"{k}=", why)
    return None


def _bind_error(plan, args, kwargs):
    try:
        plan.sig.bind(*args, **(kwargs or {}))
    except TypeError as e:
        return ("its arguments", f"its derivative rule cannot take this call ({e})")
    return ("its arguments", "its derivative rule cannot take this call")


def _keyword_unmodelled(plan, name, value, default):
    if name in plan.modelled:
        if name == "dtype" and not _float_dtype(value):
            if value is UNKNOWN:
                return ("dtype= is given by a variable, and the compiler cannot tell that it is a "
                        "float type (write it as a literal such as np.float64)")
            return (f"dtype={_describe(value)} is not a float type: the rule's derivative "
                    f"assumes a float result")
        return None
    if value is None or _is_default(value, default):
        return None
    return (f"its derivative rule does not model {name}= (got {_describe(value)}); "
            f"leave it out or compute it another way")


def _ufunc_unmodelled(plan, args, kwargs):
    if len(args) > plan.ufunc_nin:
        return ("out (passed by position)", "writing into an output array is not differentiable")
    for k, v in (kwargs or {}).items():
        if k in _UFUNC_HARMLESS:
            continue
        if k in plan.modelled:
            why = _keyword_unmodelled(plan, k, v, _EMPTY)
            if why:
                return (f"{k}=", why)
            continue
        default = _UFUNC_DEFAULTS.get(k, _EMPTY)
        if v is UNKNOWN or default is _EMPTY or not (v is default or _is_default(v, default)):
            if k == "out":
                return ("out=", "writing into an output array is not differentiable; "
                                "use the returned value")
            return (f"{k}=", f"its derivative rule does not model {k}= (got {_describe(v)})")
    return None


# --- where in the user's code -----------------------------------------------------------
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_NUMPY = os.path.dirname(os.path.abspath(np.__file__))


def is_internal_file(fname):
    """True for knetc's own files, NumPy's and knetc's generated code."""
    return fname.startswith((_PACKAGE + os.sep, _NUMPY + os.sep, "<knetc"))


_LIBRARY_DIRS = tuple(sorted({os.path.join(path, "") for key in ("stdlib", "platstdlib", "purelib", "platlib")
                              if (path := sysconfig.get_paths().get(key))}))


def is_library_file(fname):
    """True for a file of Python's standard library or of an installed package other than knetc."""
    return (fname.startswith(_LIBRARY_DIRS) or fname.startswith("<frozen ")) \
        and not fname.startswith(_PACKAGE + os.sep)


def user_line(depth=1):
    """``file:line`` of the innermost frame outside knetc and NumPy, or None.

    Inside library code (the standard library, an installed package) it is
    ``lib.py:N, called from user.py:M``: the user's line that led there.
    """
    frame = sys._getframe(depth)
    library = None
    while frame is not None:
        fname = frame.f_code.co_filename
        if not is_internal_file(fname):
            here = f"{fname}:{frame.f_lineno}"
            if not is_library_file(fname):
                return here if library is None else f"{library}, called from {here}"
            library = library or here
        frame = frame.f_back
    return library


def where_text():
    """`` (file:line)`` for an error message, or an empty string."""
    line = user_line(2)
    return f" ({line})" if line else ""
