"""Boxes: values recorded on a trace, and the recording of one operation.

A :class:`Box` wraps a value (NumPy or CuPy array, Python or NumPy float) that
depends on the differentiated arguments. Every differentiable operation on a
box -- an operator, a NumPy function or ufunc reached through
``__array_function__``/``__array_ufunc__``, an ndarray method or attribute, a
:class:`~knetc.runtime.rules.Primitive` -- is recorded as one node of the box's
:class:`Trace`, with the derivative rule that the table in
:mod:`knetc.runtime.rules` holds for it. Nothing here knows a derivative.

Traces nest: each has a level, later traces higher. An operation on boxes of
several traces is recorded on the highest one; its values are unboxed at that
level only, so they may themselves be boxes of lower traces, and computing the
result records it there too. Running the backward pass of an inner trace on
such values records the VJP computations on the outer trace: that is how
gradients of gradients work.

A node is the tuple ``(rule, ans, args, kwargs, parents)``; ``parents`` lists
``(argnum, index)`` for a box passed directly as argument ``argnum`` (a keyword
name for keyword arguments) and ``(argnum, ((path, index), ...))`` for boxes
inside a list, tuple or dict argument (``np.concatenate([a, b])``).

This module holds the box, the trace and unboxing; the recording of one operation (finding
the highest trace among the arguments, unboxing them at that level) is
:mod:`knetc.runtime.box_record`, ndarray methods and in-place operators
:mod:`knetc.runtime.box_methods`, the errors of what a box cannot do
:mod:`knetc.runtime.box_errors` (``NoRuleError`` is also reached as ``box.NoRuleError``).
"""
import copy
import itertools
import numbers
import operator
import sys

import numpy as np

from ..errors import GradientInputError
from . import binding
from .backend import is_array
from .box_errors import NOT_AN_NDARRAY, NoRuleError, TracedAttributeError, lost, no_rule  # noqa: F401
from . import numpy_rules as _numpy_rules
from .convert import float_conversion_culprit
from . import indexing  # noqa: F401  (registers the rule of operator.getitem)
from .rules import is_nondiff, rule_for
from .structure import declare_leaf_type, flatten_one_level, is_record


class Trace:
    """One level of recording: a list of nodes (None for an input)."""

    __slots__ = ("level", "nodes", "frozen")

    def __init__(self):
        self.level = next(_LEVELS)
        self.nodes = []
        self.frozen = []     # plain arrays a node keeps, read-only while the function runs

    def __repr__(self):
        return f"<Trace level {self.level}: {len(self.nodes)} nodes>"


_LEVELS = itertools.count(1)
_ndarray = np.ndarray


# --- unboxing -----------------------------------------------------------------

def deep_value(x):
    """The plain value under all levels of boxing."""
    while type(x) is Box:
        x = x._value
    return x


def deep_unbox(x):
    """``x`` with every box, at any depth of lists, tuples, dicts and records, replaced by its plain value."""
    cls = type(x)
    if cls is Box:
        return deep_value(x)
    if cls is list:
        return [deep_unbox(v) for v in x]
    if cls is tuple:
        return tuple(deep_unbox(v) for v in x)
    if cls is dict:
        return {k: deep_unbox(v) for k, v in x.items()}
    if is_record(x):
        children, _, rebuild = flatten_one_level(x)
        return rebuild([deep_unbox(v) for v in children])
    return x


def has_box(x):
    """True if a box sits anywhere inside ``x`` (lists, tuples, dicts, records)."""
    cls = type(x)
    if cls is Box:
        return True
    if cls is list or cls is tuple:
        return any(has_box(v) for v in x)
    if cls is dict:
        return any(has_box(v) for v in x.values())
    if is_record(x):
        return any(has_box(v) for v in flatten_one_level(x)[0])
    return False


# operands the tape's operators handle themselves; any other object that defines the
# reflected operator (a user class's __radd__) is given the operation, as Python would
_OWN_OPERANDS = frozenset({float, int, bool, complex, np.ndarray, np.float64, np.float32, np.int64,
                           np.bool_, list, tuple})


def _forward_operator(ufunc, op, reflected):
    def method(self, other):
        cls = type(other)
        if cls not in _OWN_OPERANDS and cls is not Box and _defers_to(other, cls, reflected):
            return NotImplemented
        return _binop(ufunc, op, self, other)
    method.__name__ = reflected.replace("__r", "__", 1)
    return method


def _defers_to(other, cls, reflected):
    """Whether ``other`` is a user object that implements ``reflected`` itself."""
    if isinstance(other, (np.ndarray, np.generic, numbers.Number, list, tuple)) or is_array(other):
        return False
    return getattr(cls, reflected, None) is not None and cls.__module__.split(".")[0] not in ("numpy", "cupy")


# --- the box --------------------------------------------------------------------

_INTERNAL = {}      # code object -> True when it belongs to knetc or NumPy


def _is_internal(code):
    internal = _INTERNAL.get(code)
    if internal is None:
        if len(_INTERNAL) > 65536:
            _INTERNAL.clear()
        internal = _INTERNAL[code] = binding.is_internal_file(code.co_filename)
    return internal


class Box:
    """A value recorded on a :class:`Trace` (at position ``_idx`` of its node list)."""

    __slots__ = ("_value", "_trace", "_idx")

    def __init__(self, value, trace, idx):
        self._value = value
        self._trace = trace
        self._idx = idx

    @property
    def __class__(self):
        """What ``isinstance`` sees: the traced value's own type in the user's code.

        ``isinstance(x, np.ndarray)`` (or ``float``) on a traced value is then
        True in the function being differentiated, so a branch on it takes the
        same path as in a plain call. knetc and NumPy themselves see ``Box``;
        ``type(x)`` always gives ``Box`` (a ``type(x) is np.ndarray`` test cannot
        be made to agree).
        """
        if _is_internal(sys._getframe(1).f_code):
            return Box
        return type(deep_value(self))

    # arithmetic: computed with the Python operator, recorded with the ufunc's rule
    __add__ = _forward_operator(np.add, operator.add, "__radd__")
    def __radd__(self, other): return _binop(np.add, operator.add, other, self)
    __sub__ = _forward_operator(np.subtract, operator.sub, "__rsub__")
    def __rsub__(self, other): return _binop(np.subtract, operator.sub, other, self)
    __mul__ = _forward_operator(np.multiply, operator.mul, "__rmul__")
    def __rmul__(self, other): return _binop(np.multiply, operator.mul, other, self)
    __truediv__ = _forward_operator(np.divide, operator.truediv, "__rtruediv__")
    def __rtruediv__(self, other): return _binop(np.divide, operator.truediv, other, self)
    __floordiv__ = _forward_operator(np.floor_divide, operator.floordiv, "__rfloordiv__")
    def __rfloordiv__(self, other): return _binop(np.floor_divide, operator.floordiv, other, self)
    __mod__ = _forward_operator(np.remainder, operator.mod, "__rmod__")
    def __rmod__(self, other): return _binop(np.remainder, operator.mod, other, self)
    def __divmod__(self, other): return self // other, self % other
    def __rdivmod__(self, other): return other // self, other % self
    __pow__ = _forward_operator(np.power, operator.pow, "__rpow__")
    def __rpow__(self, other): return _binop(np.power, operator.pow, other, self)
    __matmul__ = _forward_operator(np.matmul, operator.matmul, "__rmatmul__")
    def __rmatmul__(self, other): return _binop(np.matmul, operator.matmul, other, self)
    # in place: rebinding, as for immutable values, unless another name, a
    # container or a view would see the write in a plain call (then an error)
    def __iadd__(self, other): return _inplace(self, sys.getrefcount(self), np.add, operator.add, other, "+=")
    def __isub__(self, other): return _inplace(self, sys.getrefcount(self), np.subtract, operator.sub, other, "-=")
    def __imul__(self, other): return _inplace(self, sys.getrefcount(self), np.multiply, operator.mul, other, "*=")
    def __itruediv__(self, other):
        return _inplace(self, sys.getrefcount(self), np.divide, operator.truediv, other, "/=")
    def __ipow__(self, other): return _inplace(self, sys.getrefcount(self), np.power, operator.pow, other, "**=")
    def __neg__(self): return _unop(np.negative, operator.neg, self)
    def __pos__(self): return self
    def __abs__(self): return _unop(np.absolute, abs, self)

    # comparisons and conversions act on the plain value
    def __lt__(self, other): return deep_value(self) < deep_value(other)
    def __le__(self, other): return deep_value(self) <= deep_value(other)
    def __gt__(self, other): return deep_value(self) > deep_value(other)
    def __ge__(self, other): return deep_value(self) >= deep_value(other)
    def __eq__(self, other): return deep_value(self) == deep_value(other)
    def __ne__(self, other): return deep_value(self) != deep_value(other)
    __hash__ = object.__hash__

    def __bool__(self):
        return bool(deep_value(self))

    def __float__(self):
        culprit = float_conversion_culprit(sys._getframe(1))
        if culprit is not None:
            raise lost(culprit)
        return float(deep_value(self))

    def __int__(self):
        return int(deep_value(self))

    def __round__(self, ndigits=None):
        return round(deep_value(self), ndigits)

    def __floor__(self):
        return deep_value(self).__floor__()

    def __ceil__(self):
        return deep_value(self).__ceil__()

    def __trunc__(self):
        return deep_value(self).__trunc__()

    def __format__(self, spec):
        return format(deep_value(self), spec)

    # copy.copy and copy.deepcopy: a traced copy (without these, deepcopy would rebuild the
    # box around a copied, disconnected trace node: a silent zero gradient)
    def __copy__(self):
        return _unop(np.copy, np.copy, self)

    def __deepcopy__(self, memo):
        return _unop(np.copy, lambda value: copy.deepcopy(value, memo), self)

    def __repr__(self):
        return f"Box({self._value!r}, level={self._trace.level})"

    def __str__(self):
        return str(deep_value(self))

    def __array__(self, dtype=None, copy=None):
        error = untraced_call(sys._getframe(1)) if untraced_call is not None else None
        if error is not None:
            raise error
        raise lost("np.asarray/np.array (or a NumPy function that does not dispatch to "
                    "traced values)", "a plain NumPy array")

    @property
    def shape(self):
        return deep_value(self).shape

    @shape.setter
    def shape(self, new):
        raise GradientInputError(
            f"knetc: setting x.shape on a traced array reshapes it in place, which the tape cannot "
            f"record{binding.where_text()}; write x = np.reshape(x, {new!r}) instead")

    # containers
    def __len__(self):
        return len(deep_value(self))

    def __iter__(self):
        value = deep_value(self)
        if not getattr(value, "ndim", 0):
            raise TypeError(f"iteration over a {type(value).__name__} scalar")
        getitem = operator.getitem
        return (call(getitem, (self, i)) for i in range(len(value)))

    def __getitem__(self, key):
        return call(operator.getitem, (self, key))

    def __setitem__(self, key, value):
        raise GradientInputError(
            "knetc: in-place assignment into a traced (differentiated) array is not "
            f"differentiable on the tape{binding.where_text()}; build a new array instead "
            "(np.where, np.concatenate, np.stack)")

    # NumPy protocols
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if kwargs.get("out") is not None:
            raise GradientInputError(
                f"knetc: numpy.{ufunc.__name__}(..., out=...) writes in place into an array, "
                f"which is not differentiable{binding.where_text()}; use the returned value instead")
        if method == "__call__":
            rule = rule_for(ufunc)
            if rule is not None:
                return apply(ufunc, rule, inputs, kwargs)
            if is_nondiff(ufunc):
                return ufunc(*deep_unbox(inputs), **deep_unbox(kwargs))
            raise no_rule(ufunc)
        fun = getattr(ufunc, method)
        rule = rule_for(fun)
        if rule is not None:
            return record(fun, rule, inputs, kwargs)
        if is_nondiff(fun) or is_nondiff(ufunc):
            return fun(*deep_unbox(inputs), **deep_unbox(kwargs))
        raise no_rule(fun, f"numpy.{ufunc.__name__}.{method}")

    def __array_function__(self, func, types, args, kwargs):
        rule = rule_for(func)
        if rule is not None:
            if func is np.asarray_chkfinite and library_conversion is not None:  # library code converting
                error = library_conversion(sys._getframe(1))                   # its input: not traced into
                if error is not None:
                    raise error
            return record(func, rule, args, kwargs)
        if is_nondiff(func):
            return func(*deep_unbox(args), **deep_unbox(kwargs))
        raise no_rule(func)

    # ndarray attributes and methods, from the tables of numpy_rules
    def __getattr__(self, name):
        if name[:1] == "_":
            raise AttributeError(name)
        if name in _numpy_rules.CONSTANT_ATTRIBUTES:
            return getattr(deep_value(self), name)
        fun = _numpy_rules.ATTRIBUTES.get(name)
        if fun is not None:
            return call(fun, (self,))
        fun = _numpy_rules.METHODS.get(name)
        if fun is None:
            fun = _numpy_rules.NONDIFF_METHODS.get(name)
        if fun is not None:
            return _BoundMethod(fun, self, name)
        if name == "tolist":
            return lambda: _tolist(self)
        instead = (f"call the NumPy function instead, np.{name}(x)" if callable(getattr(np, name, None))
                   else "write the computation with NumPy functions")
        raise TracedAttributeError(
            f"knetc: traced values have no attribute or method {name!r} (the ndarray methods the "
            f"tape supports are listed in knetc.runtime.numpy_rules.METHODS; {instead})"
            f"{binding.where_text()}; {NOT_AN_NDARRAY}")


declare_leaf_type(Box)      # a traced value is a leaf of every tree

# Box's operators record onto the tape, and recording makes Boxes: the recording
# (box_record.py), the method adapters (box_methods.py) and library_shims import this module and
# register their functions here with provide() when they are imported (tape.py
# imports both), so no module imports the other back.
_binop = _unop = apply = call = record = _BoundMethod = _inplace = _tolist = None
untraced_call = None     # library_shims: the library function (SciPy) a plain-array conversion came from
library_conversion = None    # library_shims: the same for a conversion with a rule, called by library code


def provide(**functions):
    """Register the recording functions Box's methods call (box_record, box_methods)."""
    unknown = set(functions) - _PROVIDED
    if unknown:
        raise KeyError(f"box.provide: unknown names {sorted(unknown)}")
    globals().update(functions)


_PROVIDED = frozenset({"_binop", "_unop", "apply", "call", "record", "_BoundMethod", "_inplace", "_tolist",
                       "untraced_call", "library_conversion"})
