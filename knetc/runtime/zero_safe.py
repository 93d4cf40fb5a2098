"""Products that keep a zero adjoint zero where the local derivative is infinite or NaN.

``np.where(x > 0, np.sqrt(x), 0.0)`` at ``x = -1`` has derivative 0: the square root
there is never selected. Reverse mode sends the unselected branch a zero adjoint, and
``sqrt``'s VJP multiplies it with ``0.5 / sqrt(-1)``, which is NaN: ``0 * NaN`` is NaN.
The rules whose derivative is singular somewhere (``sqrt``, ``log``, division,
fractional powers, ``arcsin``...) multiply with :func:`zero_safe_mul` /
:func:`zero_safe_div` instead: a zero adjoint gives a zero contribution whatever the
local derivative is; a nonzero adjoint times an infinite derivative stays infinite
(``sqrt`` at 0 is not made differentiable).

Both are primitives with their own rules (the derivative of ``g * d``), so second
derivatives through them are those of the plain product, also where ``g`` happens to be 0.
On NumPy arrays the dense path pays one ``np.sum`` of the product (finite: nothing to
mend); elsewhere (CuPy, where testing would synchronise, and scalars) ``np.where`` is
always applied.
"""
import numpy as np

from .rules import defjvp, defvjp, primitive, unbroadcast

_ndarray = np.ndarray


def _mend(g, r):
    # r = g * d (or g / d) on plain values; where g == 0 the contribution is 0, even if d is inf/NaN
    if isinstance(r, (float, complex, np.number)):
        return r if r * 0 == 0 or g != 0 else type(r)(0)
    return np.where(np.equal(g, 0), 0.0, r)


def zero_safe_mul(g, d):
    """``g * d``, but 0 wherever ``g`` is 0 (also where ``d`` is inf or NaN)."""
    r = g * d
    if (type(d) is float or type(d) is int) and d * 0 == 0:
        return r                    # x * 2.0: a finite number needs no mending
    if type(r) is _ndarray:
        if r.sum() * 0 == 0:        # finite (inf * 0 and NaN * 0 are NaN): nothing to mend
            return r
        return np.where(np.equal(g, 0), 0.0, r)
    return _mul(g, d)


def zero_safe_div(g, y):
    """``g / y``, but 0 wherever ``g`` is 0 (also where ``y`` is 0 or NaN)."""
    if type(g) is _ndarray or type(y) is _ndarray:
        r = g / y
        if type(r) is _ndarray:
            if r.sum() * 0 == 0:
                return r
            return np.where(np.equal(g, 0), 0.0, r)
    return _div(g, y)


# Traced values (second derivatives on the tape), scalars and CuPy arrays go through these
# primitives: the tape records them as one operation with the product's derivative.
@primitive
def _mul(g, d):
    return _mend(g, g * d)


@primitive
def _div(g, y):
    with np.errstate(divide="ignore", invalid="ignore"):
        return _mend(g, np.divide(g, y))     # Python floats: inf/NaN, not ZeroDivisionError


def _rules(mul, div):
    defvjp(mul, lambda G, ans, g, d: unbroadcast(zero_safe_mul(G, d), g),
                lambda G, ans, g, d: unbroadcast(zero_safe_mul(G, g), d), keywords=())
    # d(g / y)/dy = -g / y**2: the product -G * g first, so that g == 0 gives 0 at y == 0 too
    defvjp(div, lambda G, ans, g, y: unbroadcast(zero_safe_div(G, y), g),
                lambda G, ans, g, y: unbroadcast(zero_safe_div(zero_safe_mul(-G, g), y * y), y),
           keywords=())
    defjvp(mul, lambda t, ans, g, d: zero_safe_mul(t, d), lambda t, ans, g, d: zero_safe_mul(g, t))
    defjvp(div, lambda t, ans, g, y: zero_safe_div(t, y),
                lambda t, ans, g, y: zero_safe_div(zero_safe_mul(-t, g), y * y))


_rules(zero_safe_mul, zero_safe_div)      # what the compiler reads (generated code calls these)
_rules(_mul, _div)                        # what the tape records
