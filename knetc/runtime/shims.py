"""``math`` functions and ``float()`` on traced scalars.

``math.exp(x)`` and ``float(x)`` convert ``x`` with ``__float__`` in C, which
would drop the trace. While a trace is active, the tape therefore replaces

* the functions of the ``math`` module (module attributes: every
  ``math.exp(...)`` anywhere sees the shim), and
* in the globals of the function being differentiated (and so of the helpers
  defined beside it), names bound by ``from math import exp`` and the names
  ``float`` and ``type`` (``type(x)`` of a traced value is its value's type there)

with shims. On plain values a shim is the original. On a box it records the
original's rule from the table (``rule_for(math.exp)``, ``rule_for(float)``);
a ``math`` function without a rule but with a NumPy twin (``math.asinh`` ->
``np.arcsinh``) records the twin; non-differentiable ones (``floor``,
``isnan``...) see plain values; any other raises
:class:`~knetc.runtime.box_errors.NoRuleError` naming the function.

The ``float`` shim is a subclass of ``float`` whose metaclass routes calls and
``isinstance``/``issubclass`` checks to ``float`` and whose ``dtype`` is
float64, so ``isinstance(v, float)``, ``dtype=float`` and ``x.astype(float)``
behave as before (only ``type(v) is float`` sees a different object).

A conversion the shims do not see (``math`` functions bound by name in another
module, ``float()`` in another module, ``a[i] = x``) reaches ``Box.__float__``,
which refuses it (see :mod:`knetc.runtime.convert`): an error, never a
silently lost gradient.
"""
import builtins
import functools
import itertools
import math
import operator
import sys

import numpy as np

from . import box
from .box import Box, deep_unbox, deep_value, has_box
from .box_errors import no_rule
from .box_record import call, record
from .rebinding import MISSING, Rebinding
from .rules import is_nondiff, rule_for
from .numpy_rules import axis_concatenate

_ORIGINAL = {name: getattr(math, name) for name in dir(math)
             if not name.startswith("_") and callable(getattr(math, name))}
_isfinite = _ORIGINAL["isfinite"]

# math functions without a rule of their own are recorded as these NumPy twins
_AS_NUMPY = {
    "exp": np.exp, "expm1": np.expm1, "log": np.log, "log2": np.log2, "log10": np.log10,
    "log1p": np.log1p, "sqrt": np.sqrt, "sin": np.sin, "cos": np.cos, "tan": np.tan,
    "asin": np.arcsin, "acos": np.arccos, "atan": np.arctan, "atan2": np.arctan2,
    "sinh": np.sinh, "cosh": np.cosh, "tanh": np.tanh, "asinh": np.arcsinh,
    "acosh": np.arccosh, "atanh": np.arctanh, "pow": np.power, "fabs": np.absolute,
    "degrees": np.degrees, "radians": np.radians, "copysign": np.copysign, "fmod": np.fmod,
    "cbrt": np.cbrt, "exp2": np.exp2,
}
_NONDIFF = {"floor", "ceil", "trunc", "isnan", "isinf", "isfinite", "isclose", "factorial",
            "gcd", "lcm", "comb", "perm", "isqrt"}
_DOMAIN_ON_INF = {"log", "log2", "log10", "log1p", "atanh"}  # infinite result -> ValueError


def _scalar(x):
    """A box of a one-element array becomes a box of its scalar (as float() would)."""
    if type(x) is Box:
        value = deep_value(x)
        if getattr(value, "ndim", 0):
            if value.size != 1:
                raise TypeError("only arrays of size 1 can be converted to Python scalars")
            return call(np.sum, (x,))
    return x


def _checked(name, result, args):
    """Raise as ``math`` would where the NumPy twin gave NaN or inf from finite input."""
    try:
        finite_in = all(_isfinite(deep_value(a)) for a in args)
        value = deep_value(result)
        finite_out = _isfinite(value)
    except TypeError:
        return result
    if finite_in and not finite_out:
        if value != value or name in _DOMAIN_ON_INF:
            raise ValueError("math domain error")
        raise OverflowError("math range error")
    return result


def _traced(name, original, shim, args, kwargs):
    """``math.<name>(*args)`` with a box among ``args``."""
    rule = rule_for(original)
    if rule is not None:
        # recorded with the shim as the function, so that lower-level boxes
        # in the unboxed arguments are recorded on their own trace
        return record(shim, rule, tuple(_scalar(a) for a in args), kwargs)
    if name in _NONDIFF or is_nondiff(original):
        return original(*deep_unbox(args), **deep_unbox(kwargs))
    composite = _COMPOSITE.get(name)
    if composite is not None:
        return composite(*args, **kwargs)
    twin = _AS_NUMPY.get(name)
    if twin is None or kwargs:
        raise no_rule(original, f"math.{name}")
    return _twin(name, twin, args)


def _twin(name, twin, args):
    """Record the NumPy twin of ``math.<name>``, keeping math's errors."""
    args = tuple(_scalar(a) for a in args)
    with np.errstate(all="ignore"):
        result = call(twin, args)
    return _checked(name, result, args)


def _make_shim(name, original):
    def shim(*args, **kwargs):
        for a in args:
            if type(a) is Box:
                return _traced(name, original, shim, args, kwargs)
        if name in _ITERABLE_ARGS:
            if name != "dist" and args:
                args = (list(args[0]),) + args[1:]  # may be a generator: read it once
            if has_box(args) or has_box(kwargs):
                return _traced(name, original, shim, args, kwargs)
        return original(*args, **kwargs)
    functools.update_wrapper(shim, original, assigned=("__name__", "__qualname__", "__doc__"))
    shim.__module__ = "math"
    return shim


# math functions of several values, as compositions of recorded operations
def _log(x, base=None):
    num = _twin("log", np.log, (x,))
    return num if base is None else num / _twin("log", np.log, (base,))


def _fsum(iterable):
    return functools.reduce(operator.add, list(iterable), 0.0)


def _prod(iterable, *, start=1):
    return functools.reduce(operator.mul, list(iterable), start)


def _hypot(*coords):
    total = functools.reduce(operator.add, [_scalar(c) * _scalar(c) for c in coords], 0.0)
    return _SHIMS["sqrt"](total)


def _dist(p, q):
    return _hypot(*[a - b for a, b in zip(p, q)])


_COMPOSITE = {"log": _log, "fsum": _fsum, "prod": _prod, "hypot": _hypot, "dist": _dist}
_ITERABLE_ARGS = {"fsum", "prod", "dist"}
_SHIMS = {name: _make_shim(name, original) for name, original in _ORIGINAL.items()}
_NAME_OF = {id(f): name for name, f in _ORIGINAL.items()}


# --- float --------------------------------------------------------------------------

class _FloatType(type):
    """Metaclass of the ``float`` shim: calls and type checks act as ``float``'s."""

    def __call__(cls, *args, **kwargs):
        if args and type(args[0]) is Box:
            rule = rule_for(float)
            if rule is not None:
                return record(cls, rule, args[:1])
            return float(deep_value(args[0]))  # declared non-differentiable
        return float(*args, **kwargs)

    def __instancecheck__(cls, obj):
        if type(obj) is Box:          # as in the user's code (see Box.__class__)
            return isinstance(deep_value(obj), float)
        return isinstance(obj, float)

    def __subclasscheck__(cls, sub):
        return issubclass(sub, float)


class TracedFloat(float, metaclass=_FloatType):
    """Stands for ``float`` in the differentiated function's globals while it is traced."""

    dtype = np.dtype(np.float64)  # so that dtype=float still means float64


TracedFloat.__name__ = TracedFloat.__qualname__ = "float"


# --- NumPy functions that do not dispatch on a traced argument ----------------------------
# np.full(3, x0) and np.arange(x0, x1) never reach Box.__array_function__ (they dispatch on
# nothing, or only on their first argument), nor do np.r_[...] and np.c_[...]. While a trace
# is active the numpy module's own attributes are these shims, which record the rule.

def _dispatching(original, conversion=False):
    def shim(*args, **kwargs):
        if has_box(args) or (kwargs and has_box(kwargs)):
            if conversion and box.library_conversion is not None:
                # a library function (SciPy's) converting its input: the tape does not trace
                # into it, it names the function instead
                error = box.library_conversion(sys._getframe(1))
                if error is not None:
                    raise error
            rule = rule_for(original)
            if rule is not None:
                # recorded with the shim as the function, so that lower-level boxes in the
                # unboxed arguments are recorded on their own trace (second derivatives)
                return record(shim, rule, args, kwargs)
            return call(original, args, kwargs)
        return original(*args, **kwargs)
    functools.update_wrapper(shim, original, assigned=("__name__", "__qualname__", "__doc__"))
    shim.__module__ = "numpy"
    return shim


class _TracedConcatenator:
    """Stands for ``np.r_`` / ``np.c_`` while tracing: indexing with traced items is recorded."""

    def __init__(self, original):
        self._original = original

    def __getitem__(self, key):
        if has_box(key):
            return call(axis_concatenate, (self._original, key))
        return self._original[key]

    def __len__(self):
        return len(self._original)

    def __getattr__(self, name):
        return getattr(self._original, name)


def _fromiter_shim(original, array):
    def fromiter(iterable, dtype, count=-1, **kwargs):
        items = list(iterable) if count < 0 else list(itertools.islice(iterable, count))
        if has_box(items):          # recorded as np.array of the items
            return call(array, (items,), {"dtype": dtype})
        return original(items, dtype, len(items), **kwargs)
    functools.update_wrapper(fromiter, original, assigned=("__name__", "__qualname__", "__doc__"))
    fromiter.__module__ = "numpy"
    return fromiter


NUMPY_NAMESPACE = vars(np)
# np.array([x0, x1]) and np.asarray & co. of traced values do not dispatch either
_CONVERSIONS = ("array", "asarray", "asanyarray", "ascontiguousarray", "asfortranarray", "asarray_chkfinite")
_NUMPY_SHIMS = {name: _dispatching(getattr(np, name), name in _CONVERSIONS)
                for name in ("full", "full_like", "arange") + _CONVERSIONS}
_NUMPY_SHIMS["fromiter"] = _fromiter_shim(np.fromiter, np.array)
_NUMPY_SHIMS.update({name: _TracedConcatenator(getattr(np, name)) for name in ("r_", "c_")})


# --- type ---------------------------------------------------------------------------

class _TypeType(type):
    """Metaclass of the ``type`` shim: ``type(x)`` of a traced value is its value's type."""

    def __call__(cls, *args, **kwargs):
        if len(args) == 1 and not kwargs:
            obj = args[0]
            kind = builtins.type(deep_value(obj) if builtins.type(obj) is Box else obj)
            # where this shim is installed, the name float is TracedFloat
            return TracedFloat if kind is builtins.float else kind
        return builtins.type(*args, **kwargs)

    def __instancecheck__(cls, obj):
        return isinstance(obj, builtins.type)

    def __subclasscheck__(cls, sub):
        return issubclass(sub, builtins.type)


class TracedType(type, metaclass=_TypeType):
    """Stands for ``type`` in the differentiated function's globals while it is traced,
    so that ``type(x) is np.ndarray`` agrees with a plain call (see ``Box.__class__``)."""


TracedType.__name__ = TracedType.__qualname__ = "type"


# --- installing -----------------------------------------------------------------------

MATH_NAMESPACE = vars(math)


_ALIASES = {}  # id(namespace) -> (its size when scanned, names bound to math functions)


def _math_names_in(namespace):
    """The names of ``namespace`` bound to ``math`` functions (``exp``, ``e = math.exp``).

    Rescanned when the namespace changes size; a name rebound since then is
    missed at worst, and ``Box.__float__`` then refuses instead.
    """
    size = len(namespace)
    cached = _ALIASES.get(id(namespace))
    if cached is None or cached[0] != size:
        if len(_ALIASES) > 4096:  # namespaces of exec'd code come and go
            _ALIASES.clear()
        names = tuple(k for k, v in namespace.items() if id(v) in _NAME_OF)
        cached = _ALIASES[id(namespace)] = (size, names)
    return cached[1]


_MATH_CHANGES = [None]


def _changes(namespace):
    """What the shims replace in ``namespace``: every function of ``math`` itself; in a
    function's globals the names bound to ``math`` functions, and ``float``."""
    if namespace is MATH_NAMESPACE:     # the same every time: built once
        if _MATH_CHANGES[0] is None:
            _MATH_CHANGES[0] = [(name, _ORIGINAL[name], shim) for name, shim in _SHIMS.items()]
        return _MATH_CHANGES[0]
    if namespace is NUMPY_NAMESPACE:
        return _same_list(NUMPY_NAMESPACE, [(name, getattr(np, name), shim) for name, shim in _NUMPY_SHIMS.items()])
    return _same_list(namespace, _namespace_changes(namespace))


_LAST = {}   # id(namespace) -> the last change list (the same list again lets rebinding reuse its plan)


def _same_list(namespace, changes):
    """``changes``, or the equal list returned last time for ``namespace``."""
    last = _LAST.get(id(namespace))
    if last is not None and len(last) == len(changes) and all(
            a[0] == b[0] and a[1] is b[1] and a[2] is b[2] for a, b in zip(last, changes)):
        return last
    if len(_LAST) > 4096:
        _LAST.clear()
    _LAST[id(namespace)] = changes
    return changes


def _namespace_changes(namespace):
    changes = []
    for key in _math_names_in(namespace):
        value = namespace.get(key)
        name = _NAME_OF.get(id(value))
        if name is not None and _ORIGINAL[name] is value:
            changes.append((key, value, _SHIMS[name]))
    if str(namespace.get("__name__", "")).startswith("knetc."):
        return changes          # knetc's own code (hvp's wrapper) keeps the builtins
    if "float" not in namespace and rule_for(float) is not None:
        changes.append(("float", MISSING, TracedFloat))
    if "type" not in namespace:
        changes.append(("type", MISSING, TracedType))
    return changes


_REBINDING = Rebinding(_changes)


def patch(namespace):
    """Put the shims into ``namespace`` (a module's dict); counted, see :func:`unpatch`."""
    _REBINDING.apply(namespace)


def unpatch(namespace):
    """Undo one :func:`patch` of ``namespace``; the last one restores the originals."""
    _REBINDING.undo(namespace)
