"""The errors of the tape: what a traced value cannot do, named with the user's line.

A traced value that reaches a callable without a derivative rule raises
:class:`NoRuleError` (an :class:`~knetc.errors.UnsupportedError`, so auto mode
reports it as the tape's refusal); one asked for an ndarray attribute the tape
cannot record raises :class:`TracedAttributeError`; a conversion to a plain
number or array that would drop the gradient raises the
:class:`~knetc.errors.GradientInputError` of :func:`lost`. Each message ends
with the user's ``file:line`` (:func:`knetc.runtime.binding.where_text`).
"""
import sys

import numpy as np

from ..errors import GradientInputError, UnsupportedError
from . import binding


class TracedAttributeError(GradientInputError, AttributeError):
    """A traced value was asked for an ndarray attribute or method the tape cannot record."""


class NoRuleError(UnsupportedError):
    """A traced value reached a callable that has no derivative rule."""

    def __init__(self, message, construct=None):
        Exception.__init__(self, message)  # not UnsupportedError's compiler wording
        self.construct = construct
        self.filename = self.lineno = self.col = self.detail = None


def name_of(fun):
    """A readable dotted name of a callable, for error messages."""
    if isinstance(fun, np.ufunc):
        for space in ("scipy.special", "scipy.special._ufuncs"):
            module = sys.modules.get(space)
            if module is not None and getattr(module, fun.__name__, None) is fun:
                return f"scipy.special.{fun.__name__.lstrip('_')}"
        if getattr(np, fun.__name__, None) is fun:
            return f"numpy.{fun.__name__}"
        return f"the NumPy ufunc {fun.__name__}"
    owner = getattr(fun, "__self__", None)
    if isinstance(owner, np.ufunc):
        return f"numpy.{owner.__name__}.{fun.__name__}"
    target = getattr(fun, "fun", fun)  # Primitive
    name = getattr(target, "__qualname__", None) or getattr(target, "__name__", None) or type(fun).__name__
    module = getattr(target, "__module__", None)
    if module and module.split(".")[:2] in (["numpy", "core"], ["numpy", "_core"], ["numpy", "lib"]):
        module = "numpy"  # numpy._core.fromnumeric.sum -> numpy.sum
    return f"{module}.{name}" if module and module != "builtins" else name


def no_rule(fun, what=None):
    """The NoRuleError of ``fun`` (named ``what``) called with a traced value."""
    where = what or name_of(fun)
    return NoRuleError(
        f"knetc: no derivative rule for {where}, which was called with a traced (differentiated) "
        f"value{binding.where_text()}; register one with knetc.defvjp({where.rsplit('.', 1)[-1]}, ...) "
        f"(or declare it non-differentiable), or use functions that have one", construct=where)


NOT_AN_NDARRAY = ("on the tape a differentiated value is a knetc Box, not an np.ndarray "
                  "(isinstance(x, np.ndarray) is True in your code, but type(x) is Box and NumPy's C "
                  "functions and ndarray methods outside knetc's tables do not accept it)")


def lost(what, into="a plain number"):
    """The error of ``what`` converting a traced value into ``into`` (dropping its gradient)."""
    return GradientInputError(
        f"knetc: {what} converted a traced (differentiated) value into {into}, which "
        f"would silently drop its gradient{binding.where_text()}. The tape records math functions "
        f"called as math.exp(x) or np.exp(x), and float(x) in the module of the differentiated "
        f"function; elsewhere pass the value on unconverted (comparisons such as x > 0 work on "
        f"traced values), and build arrays with np.stack/np.concatenate/np.where instead of "
        f"assigning into them; note that {NOT_AN_NDARRAY}")
