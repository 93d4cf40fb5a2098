"""Derivative rules of NumPy functions, ufuncs and operators.

One line per rule where possible: single-expression VJPs are inlined by the
compiler into the generated code, so keep them short and readable. Every rule
here is checked against central finite differences in tests/test_rules.py.
"""
import numpy as np

from .backend import array_module
from .rules import defnondiff, defvjp, unbroadcast

# --- arithmetic (operators map onto these ufuncs) ---------------------------
defvjp(np.add, lambda g, ans, x, y: unbroadcast(g, x),
               lambda g, ans, x, y: unbroadcast(g, y))
defvjp(np.subtract, lambda g, ans, x, y: unbroadcast(g, x),
                    lambda g, ans, x, y: unbroadcast(-g, y))
defvjp(np.multiply, lambda g, ans, x, y: unbroadcast(g * y, x),
                    lambda g, ans, x, y: unbroadcast(g * x, y))
defvjp(np.negative, lambda g, ans, x: -g)

# --- elementwise -------------------------------------------------------------
defvjp(np.tanh, lambda g, ans, x: g * (1 - ans * ans))
defvjp(np.exp, lambda g, ans, x: g * ans)

# --- reductions --------------------------------------------------------------
def _sum_vjp(g, ans, x, axis=None, keepdims=False, **_):
    xp = array_module(g, x)
    shape = np.shape(x)
    if axis is not None and not keepdims:
        g = xp.expand_dims(g, axis)
    return xp.broadcast_to(g, shape)


defvjp(np.sum, _sum_vjp)

# --- linear algebra ----------------------------------------------------------
defvjp(np.matmul, lambda g, ans, x, y: g @ y.T,
                  lambda g, ans, x, y: x.T @ g)

defnondiff(np.shape, np.ndim, np.zeros_like, np.ones_like, np.argmax, np.argmin)
