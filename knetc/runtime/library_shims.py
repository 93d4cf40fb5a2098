"""Library functions the tape records as one operation: SciPy's Python functions.

NumPy functions and ufuncs (``scipy.special.gammaln`` among them) reach the
tape through NumPy's dispatch protocols. A Python function of a library, such
as ``scipy.special.logsumexp`` or the bound method ``scipy.stats.norm.logpdf``,
does not dispatch: it would convert a traced value with ``np.asarray``, and
its source is not the tape's business. While a trace is active, the tape
therefore replaces each such function that has a rule where programs find it:

* the attribute of its public module (``scipy.special.logsumexp``,
  ``scipy.linalg.cho_solve``);
* for a method of a distribution object (``scipy.stats.norm.logpdf``, also
  ``norm.logpdf`` after ``from scipy.stats import norm``), an attribute of the
  object that shadows its class's method;
* names bound to it in the differentiated function's globals
  (``from scipy.special import logsumexp``).

On plain values a shim calls the original; with a box among its arguments it
records the original's rule. A library function reached otherwise, or one
without a rule, meets ``Box.__array__``, which names it (:func:`untraced_call`).
"""
import importlib
import sys
import types

from . import box
from .box import has_box
from .box_record import record
from .rebinding import MISSING, Rebinding
from . import rules as _rules
from .box_errors import NoRuleError

LIBRARIES = ("scipy",)
_PUBLIC_MODULES = ("scipy.special", "scipy.linalg", "scipy.stats")
# Modules whose rules and shims apply once the program has imported them (not imported
# for it at the first trace, as the ones above are: they take long to import)
_IMPORTED_MODULES = ("scipy.signal", "scipy.integrate")

_state = {"size": -1, "shims": {}, "sites": []}   # rebuilt when the rule table grows


def _is_library_function(fun):
    if not isinstance(fun, (types.FunctionType, types.MethodType)):
        return False
    module = getattr(fun, "__module__", None) or ""
    return module.split(".")[0] in LIBRARIES


def _make_shim(original, rule):
    def shim(*args, **kwargs):
        if has_box(args) or (kwargs and has_box(kwargs)):
            # recorded with the shim as the function, so that lower-level boxes
            # in the unboxed arguments are recorded on their own trace
            return record(shim, rule, args, kwargs)
        return original(*args, **kwargs)
    shim.__name__ = getattr(original, "__name__", "shim")
    shim.__qualname__ = getattr(original, "__qualname__", shim.__name__)
    shim.__doc__ = getattr(original, "__doc__", None)
    shim.__wrapped__ = original
    return shim


def _refresh():
    """The shims of the library functions in the rule table, and where each is installed."""
    if len(_rules._RULES) == _state["size"]:      # no copy of the table on every trace
        return
    table = _rules.all_rules()
    shims, sites = {}, []
    modules = [sys.modules[m] for m in _PUBLIC_MODULES + _IMPORTED_MODULES if m in sys.modules]
    for key, rule in table.items():
        fun = rule.fun
        if not _is_library_function(fun):
            continue
        shim = shims[key] = _make_shim(fun, rule)
        if isinstance(fun, types.MethodType):
            owner = getattr(fun.__self__, "__dict__", None)
            if owner is not None:       # an attribute of the object shadows its class's method
                sites.append((owner, fun.__name__, shim))
            continue
        for module in modules:
            if vars(module).get(fun.__name__) is fun:
                sites.append((vars(module), fun.__name__, shim))
    _state.update(size=len(table), shims=shims, sites=sites)


_NAMES = {}   # id(namespace) -> (its size and the table's when scanned, names bound to library rules)


def _user_changes(namespace):
    shims = _state["shims"]
    stamp = (len(namespace), _state["size"])
    cached = _NAMES.get(id(namespace))
    if cached is None or cached[0] != stamp:
        if len(_NAMES) > 4096:   # namespaces of exec'd code come and go
            _NAMES.clear()
        names = tuple(name for name, value in list(namespace.items())
                      if value.__class__ in (types.FunctionType, types.MethodType)
                      and _is_library_function(value) and value in shims)
        cached = _NAMES[id(namespace)] = (stamp, names)
    changes = []
    for name in cached[1]:
        value = namespace.get(name)
        shim = shims.get(value) if value.__class__ in (types.FunctionType, types.MethodType) else None
        if shim is not None:
            changes.append((name, value, shim))
    return changes


_USER = Rebinding(_user_changes)
_installed = []     # per activation: (namespace, name, what was there, shim)


def patch_libraries():
    """Install the shims in the libraries' modules and objects (at the first active trace;
    the tape calls this and :func:`unpatch_libraries` under its lock)."""
    if "scipy" in sys.modules and any(m not in sys.modules for m in _PUBLIC_MODULES):
        # scipy.special & co. import lazily on first use, which may come while the trace
        # records (import scipy; scipy.special.logsumexp(x)): too late for their shims
        for module in _PUBLIC_MODULES:
            importlib.import_module(module)
    _rules.load_optional_rules()
    _refresh()
    done = []
    for space, name, shim in _state["sites"]:
        done.append((space, name, space.get(name, MISSING), shim))
        space[name] = shim
    _installed.append(done)


def unpatch_libraries():
    """Undo :func:`patch_libraries` (at the end of the last active trace)."""
    if not _installed:
        return
    for space, name, before, shim in reversed(_installed.pop()):
        if space.get(name) is shim:          # not rebound meanwhile
            if before is MISSING:
                del space[name]
            else:
                space[name] = before


def patch(namespace):
    """Install the shims under the names ``namespace`` (a function's globals) binds them to."""
    if _state["shims"]:
        _USER.apply(namespace)


def unpatch(namespace):
    """Undo one :func:`patch` of ``namespace``."""
    _USER.undo(namespace)


def untraced_call(frame):
    """The error for a traced value converted by library code, naming the library function.

    ``frame`` is the caller of ``Box.__array__``; None if no library frame is on the stack.
    """
    outermost = None
    f = frame
    while f is not None:
        module = f.f_globals.get("__name__", "") or ""
        if module.split(".")[0] in LIBRARIES:
            outermost = f
        elif outermost is not None and module.split(".")[0] != "numpy":
            break
        f = f.f_back
    if outermost is None:
        return None
    code = outermost.f_code
    where = f"{outermost.f_globals.get('__name__')}.{getattr(code, 'co_qualname', code.co_name)}"
    owner = outermost.f_locals.get("self")
    frozen = hasattr(owner, "dist") and hasattr(owner, "args")
    dist_name = getattr(getattr(owner, "dist", None) if frozen else owner, "name", None)
    if isinstance(dist_name, str) and where.startswith("scipy.stats."):
        # a distribution's method: name it as the program spells it
        where = f"scipy.stats.{dist_name}{'(...)' if frozen else ''}.{code.co_name}"
    for public in _PUBLIC_MODULES + _IMPORTED_MODULES:   # scipy.linalg._basic.inv is scipy.linalg.inv
        fun = getattr(sys.modules.get(public), code.co_name, None)
        while fun is not None:          # through the tape's shim and functools.wraps
            if getattr(fun, "__code__", None) is code:
                where = f"{public}.{code.co_name}"
                break
            fun = getattr(fun, "__wrapped__", None)
    if where == "scipy.integrate.odeint" and not has_box(
            [outermost.f_locals.get(name) for name in ("y0", "t", "args")]):
        # odeint's own arguments are plain: the traced value came from func
        return NoRuleError(
            "knetc: scipy.integrate.odeint's func uses a traced (differentiated) value that is not "
            "one of odeint's arguments (func closes over it or reads it from elsewhere), which knetc "
            "does not model: pass it through args=(...), e.g. odeint(func, y0, t, args=(k,)) with "
            "def func(y, t, k)", construct=where)
    hint = ""
    if frozen:
        hint = (" Frozen distributions (norm(0, 1).logpdf(x)) are not modelled: call the "
                "distribution's method with the parameters, norm.logpdf(x, loc, scale).")
    return NoRuleError(
        f"knetc: {where} was called with a traced (differentiated) value, and the tape "
        f"cannot record it: it has no derivative rule (docs/functions.md lists the SciPy "
        f"functions knetc differentiates), or it was reached through a name the tape does "
        f"not see (call it through its module, e.g. scipy.special.logsumexp(...), or bind "
        f"it in the module of the differentiated function).{hint}", construct=where)


def library_conversion(frame):
    """The error for library code converting a traced value with a NumPy function that has a
    rule (``np.asarray_chkfinite`` in ``scipy.linalg``): None unless the first caller outside
    NumPy, from ``frame`` up, is a library's (the user's own conversions are recorded, also
    where the user's code runs under a library, as a loss under ``scipy.optimize``)."""
    f = frame
    while f is not None:
        top = (f.f_globals.get("__name__", "") or "").split(".")[0]
        if top in LIBRARIES:
            return untraced_call(f)
        if top != "numpy":
            return None
        f = f.f_back
    return None


box.provide(untraced_call=untraced_call, library_conversion=library_conversion)
