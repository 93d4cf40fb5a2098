"""Derivative rules of the ``math`` module and of builtins on Python scalars and sequences.

``BUILTINS`` maps a builtin to the NumPy function with the same meaning
(``abs`` -> ``np.absolute``), for the compiler.
"""
import builtins
import copy
import math

import numpy as np

from .rule_helpers import _lift
from .rules import defvjp, unbroadcast
from .zero_safe import zero_safe
from .rules_complex import abs_vjp
from .rule_helpers import _log_base

def _math_log_vjp_x(g, ans, x, base=None):
    return g / x if base is None else g / (x * np.log(base))


defvjp(math.exp, lambda g, ans, x: g * ans, keywords=())
defvjp(math.expm1, lambda g, ans, x: g * (ans + 1), keywords=())
defvjp(math.log, _math_log_vjp_x, lambda g, ans, x, base: -g * ans / (base * np.log(base)), keywords=())
defvjp(math.log1p, lambda g, ans, x: g / (1 + x), keywords=())
defvjp(math.log2, lambda g, ans, x: g / (x * np.log(2.0)), keywords=())
defvjp(math.log10, lambda g, ans, x: g / (x * np.log(10.0)), keywords=())
# np.divide: on Python floats 1 / 0.0 is inf (with a warning), not ZeroDivisionError
defvjp(math.sqrt, lambda g, ans, x: zero_safe(g, np.divide(g * 0.5, ans)), keywords=())
defvjp(math.sin, lambda g, ans, x: g * np.cos(x), keywords=())
defvjp(math.cos, lambda g, ans, x: -g * np.sin(x), keywords=())
defvjp(math.tan, lambda g, ans, x: g * (1 + ans * ans), keywords=())
defvjp(math.tanh, lambda g, ans, x: g * (1 - ans * ans), keywords=())
defvjp(math.sinh, lambda g, ans, x: g * np.cosh(x), keywords=())
defvjp(math.cosh, lambda g, ans, x: g * np.sinh(x), keywords=())
defvjp(math.atan, lambda g, ans, x: g / (1 + x * x), keywords=())
defvjp(math.fabs, lambda g, ans, x: g * np.sign(x), keywords=())
defvjp(math.pow, lambda g, ans, x, y: g * y * x ** (y - 1 + (y == 0)),
                 lambda g, ans, x, y: g * ans * np.log(x) if x > 0 else 0.0 * g,
       keywords=())

defvjp(builtins.abs, abs_vjp, keywords=())
defvjp(builtins.pow, lambda g, ans, x, y: unbroadcast(g * y * x ** (y - 1 + (y == 0)), x),
                     lambda g, ans, x, y: unbroadcast(g * ans * _log_base(x), y),
       keywords=())
defvjp(builtins.float, lambda g, ans, x=0.0: unbroadcast(g, x), keywords=())


def _builtin_sum_vjp(g, ans, iterable, start=0):
    # sum(list) adds the elements; sum(array) adds its rows.
    if isinstance(iterable, (list, tuple)):
        return [unbroadcast(g, v) for v in iterable]
    return np.broadcast_to(_lift(g, iterable), np.shape(iterable))


defvjp(builtins.sum, _builtin_sum_vjp, lambda g, ans, iterable, start=0: unbroadcast(g, start), keywords=())

BUILTINS = {builtins.abs: np.absolute, builtins.pow: np.power}


# copy.copy and copy.deepcopy: new objects holding the same values, so the adjoint passes
# through unchanged (for a container, in its structure).
defvjp(copy.copy, lambda g, ans, x: g, keywords=())
defvjp(copy.deepcopy, lambda g, ans, x: g, keywords=())

# A copy of a sequence: the compiler snapshots a list that is appended to later.
defvjp(list, lambda g, ans, x: list(g), keywords=())
defvjp(tuple, lambda g, ans, x: list(g), keywords=())
