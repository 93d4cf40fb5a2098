"""Zero adjoints stay zero where the local derivative is infinite or NaN.

``np.where(x > 0, np.sqrt(x), 0.0)`` at ``x = -1`` has derivative 0: the square root
there is never selected. Reverse mode sends the unselected branch a zero adjoint, and
``sqrt``'s VJP multiplies it with ``0.5 / sqrt(-1)``, which is NaN: ``0 * NaN`` is NaN.
The rules whose derivative is singular somewhere (``sqrt``, ``log``, division,
fractional powers, ``arcsin``...) return ``zero_safe(g, contribution)``: the contribution, with 0
wherever the adjoint ``g`` is 0 and the contribution is inf or NaN. A nonzero adjoint
times an infinite derivative stays infinite (``sqrt`` at 0 is not made differentiable),
and a NaN adjoint stays NaN.

``zero_safe`` is a primitive whose derivative passes the contribution's adjoint through
where nothing was mended, so second derivatives are those of the plain rule, also where
an adjoint is 0 by coincidence (a minimum). On NumPy arrays the dense path pays one
``sum`` of the contribution (finite: nothing to mend), computed after the rule's own
expression (whose temporaries NumPy still reuses); elsewhere (CuPy, where testing would
synchronise) ``np.where`` is always applied.
"""
import numpy as np

from .rules import ZERO_DERIVATIVE, defjvp, defvjp, primitive, unbroadcast

_ndarray = np.ndarray
_NUMBERS = (int, float)


def regular_divisor(y):
    """``y`` is a finite nonzero Python number: ``g / y`` needs no mending (``x / n``, the
    common case, pays nothing)."""
    return type(y) in _NUMBERS and y != 0 and y - y == 0


def regular_exponent(y):
    """``y`` is a Python integer >= 1 (``x ** 2``): ``y * x ** (y - 1)`` is finite wherever
    ``x`` is, so nothing needs mending."""
    return type(y) is int and y >= 1


# Rules whose derivative is finite wherever their input is (multiply, exp, sin, ...) still give
# 0 * inf = NaN when an unselected branch computed a non-finite value (p * log(p) at p = 0,
# exp overflowing under an overflow guard); so do rules whose singularity shows in the value
# they computed (x / 0 is inf or NaN, log(0) is -inf), while sqrt at 0 (value 0, derivative
# inf) needs zero_safe itself. np.where's VJP notes a non-finite value in the
# operand it does not select; from then on those rules mend too. The flag is sticky (more
# mending is only slower, never wrong); api.grad clears it when a top-level gradient starts.
MENDING = [False]


def watch_unselected(x):
    """``x`` (an operand of np.where); turns mending on if it holds a non-finite value."""
    if not MENDING[0]:
        value = x
        while type(value).__name__ == "Box":      # a traced value (the tape): its plain value
            value = value._value
        if type(value) is _ndarray:
            finite = value.sum() * 0 == 0
        elif isinstance(value, (float, int, np.number)):
            finite = value - value == 0
        elif hasattr(value, "__cuda_array_interface__"):
            finite = bool(value.sum() * 0 == 0)
        else:
            finite = False                      # a value of unknown kind: mend, to be safe
        if not finite:
            MENDING[0] = True
    return x


def mended(g, r):
    """``zero_safe(g, r)`` once a selection saw a non-finite value it did not select, else ``r``."""
    return zero_safe(g, r) if MENDING[0] else r


def _mended(g, r):
    """Where ``r`` is replaced by 0: the adjoint is 0 and the contribution is not finite."""
    return np.logical_and(np.equal(g, 0), np.logical_not(np.isfinite(r)))


def zero_safe(g, r):
    """``r`` (a VJP's contribution computed from the adjoint ``g``), with 0 wherever ``g`` is 0
    and ``r`` is inf or NaN."""
    if type(r) is _ndarray:
        if r.sum() * 0 == 0:        # finite (inf * 0 and NaN * 0 are NaN): nothing to mend
            return r
        if type(g) is _ndarray or not hasattr(g, "_trace"):
            return np.where(_mended(g, r), 0.0, r)
    elif isinstance(r, (float, complex, np.number)) and not hasattr(g, "_trace"):
        return r if r * 0 == 0 or g != 0 else type(r)(0)
    return _zero_safe(g, r)


@primitive
def _zero_safe(g, r):
    # traced values (second derivatives on the tape) and CuPy arrays
    return np.where(_mended(g, r), 0.0, r)


def _register(fun):
    # no derivative in g (0 * anything where mended); r's adjoint passes where nothing was mended
    defvjp(fun, ZERO_DERIVATIVE, lambda G, ans, g, r: unbroadcast(np.where(_mended(g, r), 0.0, G), r),
           keywords=())
    defjvp(fun, None, lambda t, ans, g, r: np.where(_mended(g, r), 0.0, t))


_register(zero_safe)        # what the compiler reads (generated code calls it)
_register(mended)           # the same derivative: the identity where nothing is mended
_register(_zero_safe)       # what the tape records
