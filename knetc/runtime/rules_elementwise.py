"""Derivative rules of elementwise NumPy functions, the ``operator`` module and ``math``.

The NumPy rules broadcast like the functions themselves (``unbroadcast`` sums
an adjoint back to its argument's shape). Where a function has no derivative
at a point, the rule picks the subgradient NumPy users expect and says so:
``hypot``/``arctan2`` give 0 at the origin, ``fmax``/``fmin`` split ties
equally (as ``maximum``), ``copysign`` gives 0 where ``x1 == 0``; ``cbrt``, like
``sqrt``, has an infinite derivative at 0.
"""
import math
import operator

import numpy as np

from ..errors import KnetError
from .bessel import i1
from .numpy_rules import _extreme_vjp
from .rules import defjvp, defnondiff, defvjp, rule_for, unbroadcast
from .refusals import refuse_option
from .zero_safe import mended, zero_safe

_LN2 = math.log(2.0)
_DEG = math.pi / 180.0
_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


# --- unary ufuncs ------------------------------------------------------------------------
defvjp(np.arcsinh, lambda g, ans, x: g / np.sqrt(x * x + 1), keywords=())
defvjp(np.arccosh, lambda g, ans, x: zero_safe(g, g / np.sqrt(x * x - 1)), keywords=())
defvjp(np.arctanh, lambda g, ans, x: mended(g, g / (1 - x * x)), keywords=())
defvjp(np.exp2, lambda g, ans, x: mended(g, g * ans * _LN2), keywords=())
defvjp(np.cbrt, lambda g, ans, x: zero_safe(g, g / (3 * ans * ans)), keywords=())
defvjp(np.fabs, lambda g, ans, x: g * np.sign(x), keywords=())
defvjp(np.deg2rad, lambda g, ans, x: g * _DEG, keywords=())
defvjp(np.radians, lambda g, ans, x: g * _DEG, keywords=())
defvjp(np.rad2deg, lambda g, ans, x: g / _DEG, keywords=())
defvjp(np.degrees, lambda g, ans, x: g / _DEG, keywords=())


def _sinc_vjp(g, ans, x):
    # d sinc/dx = (cos(pi x) - sinc(x)) / x, which is 0 at x = 0; the branch at 0 is
    # -(pi^2 / 3) * x so that the second derivative there (-pi^2 / 3) is right too.
    zero = np.equal(x, 0)
    safe = np.where(zero, 1.0, x)
    return g * np.where(zero, -(math.pi ** 2 / 3) * x, (np.cos(math.pi * x) - ans) / safe)


defvjp(np.sinc, _sinc_vjp, keywords=())
# i0' = i1, which NumPy lacks: knetc's own, in array operations (runtime/bessel.py)
defvjp(np.i0, lambda g, ans, x: g * i1(x), keywords=())


def _nan_to_num_vjp(g, ans, x, copy=True, nan=0.0, posinf=None, neginf=None):
    # the replaced entries (NaN, +-inf) are constants; copy=False would have replaced them in x
    refuse_option("np.nan_to_num", "copy", copy, True)
    return g * np.isfinite(x)


defvjp(np.nan_to_num, _nan_to_num_vjp, keywords=("nan", "posinf", "neginf"))


# --- binary ufuncs -----------------------------------------------------------------------
def _safe(d):
    """``d`` with zeros replaced by ones (for derivatives defined as 0 at the origin)."""
    return np.where(np.equal(d, 0), 1.0, d)


defvjp(np.hypot, lambda g, ans, x1, x2: unbroadcast(g * x1 / _safe(ans), x1),
                 lambda g, ans, x1, x2: unbroadcast(g * x2 / _safe(ans), x2),
                 keywords=())
# arctan2(y, x): d/dy = x / (x^2 + y^2), d/dx = -y / (x^2 + y^2); 0 at the origin
defvjp(np.arctan2, lambda g, ans, x1, x2: unbroadcast(g * x2 / _safe(x1 * x1 + x2 * x2), x1),
                   lambda g, ans, x1, x2: unbroadcast(-g * x1 / _safe(x1 * x1 + x2 * x2), x2),
                   keywords=())
defvjp(np.logaddexp2, lambda g, ans, x1, x2: unbroadcast(g * np.exp2(x1 - ans), x1),
                      lambda g, ans, x1, x2: unbroadcast(g * np.exp2(x2 - ans), x2),
                      keywords=())
# fmax/fmin ignore NaN: the other argument wins where one is NaN
defvjp(np.fmax, lambda g, ans, x1, x2: _extreme_vjp(g, x1, x2, np.logical_or(np.greater(x1, x2), np.isnan(x2))),
                lambda g, ans, x1, x2: _extreme_vjp(g, x2, x1, np.logical_or(np.greater(x2, x1), np.isnan(x1))),
                keywords=())
defvjp(np.fmin, lambda g, ans, x1, x2: _extreme_vjp(g, x1, x2, np.logical_or(np.less(x1, x2), np.isnan(x2))),
                lambda g, ans, x1, x2: _extreme_vjp(g, x2, x1, np.logical_or(np.less(x2, x1), np.isnan(x1))),
                keywords=())
# remainder(x1, x2) = x1 - floor(x1 / x2) * x2 (np.mod is np.remainder); fmod truncates
defvjp(np.remainder, lambda g, ans, x1, x2: unbroadcast(g, x1),
                     lambda g, ans, x1, x2: unbroadcast(-g * np.floor_divide(x1, x2), x2),
                     keywords=())
defvjp(np.fmod, lambda g, ans, x1, x2: unbroadcast(g, x1),
                lambda g, ans, x1, x2: unbroadcast(-g * np.trunc(np.divide(x1, x2)), x2),
                keywords=())
# heaviside(x1, x2) is x2 where x1 == 0 and a constant elsewhere
defvjp(np.heaviside, lambda g, ans, x1, x2: unbroadcast(0.0 * g, x1),
                     lambda g, ans, x1, x2: unbroadcast(g * np.equal(x1, 0), x2),
                     keywords=())
# float_power computes in float64 (or complex128); the adjoint is power's
defvjp(np.float_power,
       lambda g, ans, x1, x2: unbroadcast(zero_safe(g, g * x2 * np.float_power(x1, x2 - 1 + np.equal(x2, 0))), x1),
       lambda g, ans, x1, x2: unbroadcast(g * ans * np.log(np.where(np.greater(x1, 0), x1, 1.0)), x2),
       keywords=())
# ldexp(x1, x2) = x1 * 2**x2 with an integer exponent x2
defvjp(np.ldexp, lambda g, ans, x1, x2: unbroadcast(g * np.exp2(x2), x1), None, keywords=())
# copysign(x1, x2) = |x1| with the sign of x2: slope sign(x1) * sign(result), 0 where x1 == 0
defvjp(np.copysign, lambda g, ans, x1, x2: unbroadcast(g * np.sign(x1) * np.sign(ans), x1),
                    lambda g, ans, x1, x2: unbroadcast(0.0 * g, x2),
                    keywords=())


# --- the operator module (the compiler sees operator.add(x, y) as a call) ----------------
def _is_sequence(x):
    return isinstance(x, (list, tuple))


def _add_vjp_x(g, ans, a, b):
    # list + list concatenates: each operand gets its part of the adjoint
    return list(g[:len(a)]) if _is_sequence(a) else unbroadcast(g, a)


def _add_vjp_y(g, ans, a, b):
    return list(g[len(g) - len(b):]) if _is_sequence(b) else unbroadcast(g, b)


def _no_sequences(a, b, what):
    if _is_sequence(a) or _is_sequence(b):
        raise KnetError(f"knetc: the derivative of operator.{what} on a list or tuple is not "
                        f"supported; convert it with np.array first")


def _mul_vjp_x(g, ans, a, b):
    _no_sequences(a, b, "mul")
    return rule_for(np.multiply).vjps[0](g, ans, a, b)


def _mul_vjp_y(g, ans, a, b):
    _no_sequences(a, b, "mul")
    return rule_for(np.multiply).vjps[1](g, ans, a, b)


defvjp(operator.add, _add_vjp_x, _add_vjp_y, keywords=())
defvjp(operator.mul, _mul_vjp_x, _mul_vjp_y, keywords=())
for _op, _ufunc in [(operator.sub, np.subtract), (operator.truediv, np.divide),
                    (operator.pow, np.power), (operator.matmul, np.matmul),
                    (operator.mod, np.remainder), (operator.neg, np.negative),
                    (operator.pos, np.positive), (operator.abs, np.absolute)]:
    defvjp(_op, *rule_for(_ufunc).vjps, keywords=())
# comparisons and integer-valued results: constants (checked in tests/test_numpy_choices.py)
defnondiff(operator.floordiv, operator.eq, operator.ne, operator.lt, operator.le, operator.gt,
           operator.ge, operator.not_, operator.truth, math.trunc, math.isinf, math.isclose)


# --- math on Python scalars (VJPs in NumPy functions: the tape can differentiate them) -------
defvjp(math.asin, lambda g, ans, x: g / np.sqrt(1 - x * x), keywords=())
defvjp(math.acos, lambda g, ans, x: -g / np.sqrt(1 - x * x), keywords=())
defvjp(math.asinh, lambda g, ans, x: g / np.sqrt(x * x + 1), keywords=())
defvjp(math.acosh, lambda g, ans, x: g / np.sqrt(x * x - 1), keywords=())
defvjp(math.atanh, lambda g, ans, x: g / (1 - x * x), keywords=())
defvjp(math.atan2, lambda g, ans, y, x: g * x / _safe(x * x + y * y),
                   lambda g, ans, y, x: -g * y / _safe(x * x + y * y),
                   keywords=())
defvjp(math.degrees, lambda g, ans, x: g / _DEG, keywords=())
defvjp(math.radians, lambda g, ans, x: g * _DEG, keywords=())
defvjp(math.copysign, lambda g, ans, x, y: g * np.sign(x) * np.sign(ans), lambda g, ans, x, y: 0.0 * g, keywords=())
defvjp(math.fmod, lambda g, ans, x, y: g, lambda g, ans, x, y: -g * np.trunc(np.divide(x, y)), keywords=())
# math.remainder rounds x / y to the nearest integer, ties to even, as round() does
defvjp(math.remainder, lambda g, ans, x, y: g, lambda g, ans, x, y: -g * np.round(np.divide(x, y)), keywords=())
defvjp(math.ldexp, lambda g, ans, x, i: g * np.exp2(i), None, keywords=())
defvjp(math.erf, lambda g, ans, x: g * _TWO_OVER_SQRT_PI * np.exp(-x * x), keywords=())
defvjp(math.erfc, lambda g, ans, x: -g * _TWO_OVER_SQRT_PI * np.exp(-x * x), keywords=())
if hasattr(math, "cbrt"):     # Python 3.11
    defvjp(math.cbrt, lambda g, ans, x: g / (3 * ans * ans), keywords=())
    defvjp(math.exp2, lambda g, ans, x: g * ans * _LN2, keywords=())


def _digamma(x):
    """psi(x) = d log|Gamma(x)| / dx for a Python scalar, written in differentiable operations
    (so the tape differentiates it again): reflection below 1/2, the recurrence up to 10,
    then the asymptotic series (error about 1e-15)."""
    if x < 0.5:
        return _digamma(1 - x) - math.pi / np.tan(math.pi * x)
    shift = 0.0
    while x < 10:
        shift = shift - 1 / x
        x = x + 1
    t = 1 / (x * x)
    series = t * (1 / 12 - t * (1 / 120 - t * (1 / 252 - t * (1 / 240 - t * (1 / 132 - t * 691 / 32760)))))
    return shift + np.log(x) - 0.5 / x - series


defvjp(math.lgamma, lambda g, ans, x: g * _digamma(x), keywords=())
defvjp(math.gamma, lambda g, ans, x: g * ans * _digamma(x), keywords=())


def _hypot_vjp(i):
    def vjp(g, ans, *coordinates):
        return g * coordinates[i] / _safe(ans)
    vjp.__name__ = f"hypot_vjp_{i}"
    return vjp


# math.hypot takes any number of coordinates; one VJP per position (0 at the origin)
_HYPOT_ARGS = 32
defvjp(math.hypot, *[_hypot_vjp(i) for i in range(_HYPOT_ARGS)], keywords=("coordinates",))


def _fsum_vjp(g, ans, seq):
    return [unbroadcast(g, v) for v in seq]


def _math_prod_vjp(g, ans, iterable, *, start=1):
    # the product of the other factors, without dividing (zeros allowed)
    values = list(iterable)
    out = []
    for i in range(len(values)):
        others = start
        for j, v in enumerate(values):
            if j != i:
                others = others * v
        out.append(g * others)
    return out


def _math_prod_vjp_start(g, ans, iterable, *, start=1):
    total = 1.0
    for v in iterable:
        total = total * v
    return g * total


def _dist_vjp_p(g, ans, p, q):
    return [g * (a - b) / _safe(ans) for a, b in zip(p, q)]


def _dist_vjp_q(g, ans, p, q):
    return [-g * (a - b) / _safe(ans) for a, b in zip(p, q)]


defvjp(math.fsum, _fsum_vjp, keywords=())
defvjp(math.prod, _math_prod_vjp, start=_math_prod_vjp_start, keywords=())
defvjp(math.dist, _dist_vjp_p, _dist_vjp_q, keywords=())


# --- functions whose derivative is the identity, or a power of two, between their jumps -----------
def _first_part(g, like):
    """The adjoint of a tuple result's first element (zeros where the loss does not use it)."""
    gi = g[0] if g is not None else None
    return np.zeros_like(like) if gi is None else gi


# unwrap adds multiples of the period (piecewise constant); modf's integer part and frexp's
# exponent are piecewise constant; frexp's mantissa is x * 2**-exponent.
defvjp(np.unwrap, lambda g, ans, p, discont=None, axis=-1, *, period=2 * math.pi: g,
       keywords=("discont", "axis", "period"))
defvjp(np.modf, lambda g, ans, x: _first_part(g, x), keywords=())
def _halvings(ans):
    """``2**-exponent`` of frexp's result (the exponent is an integer: a constant, never traced)."""
    exponent = ans[1]
    while hasattr(exponent, "_value"):
        exponent = exponent._value
    return np.ldexp(1.0, -exponent)


defvjp(np.frexp, lambda g, ans, x: _first_part(g, x) * _halvings(ans), keywords=())
defjvp(np.frexp, lambda t, ans, x: (t * _halvings(ans), np.zeros(np.shape(x))))
