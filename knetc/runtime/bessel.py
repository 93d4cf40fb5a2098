"""The modified Bessel function of the first kind of order one, ``I1``, in array operations.

``np.i0``'s derivative is ``I1`` (``I0' = I1``), which NumPy does not have (and
knetc does not import SciPy for it). :func:`i1` computes it on the whole real
line from two expansions, each used where it converges fast:

- ``|x| < 30``: the power series ``I1(x) = sum_k (x/2)^(2k+1) / (k! (k+1)!)``.
  Its terms all have the sign of ``x``, so summing them loses nothing to
  cancellation; 60 terms reach rounding error for ``|x| < 30`` (the last one is
  below ``1e-30`` of the sum there).
- ``|x| >= 30``: the asymptotic expansion
  ``I1(x) ~ e^|x| / sqrt(2 pi |x|) * sum_k (-1)^k a_k / |x|^k`` with
  ``a_k = prod_{j<=k} (4 - (2j-1)^2) / (k! 8^k)``, times ``sign(x)``; its 30
  terms are below ``1e-20`` of the sum at ``|x| = 30`` (the neglected
  exponentially small part is ``e^-2|x|``). ``e^|x|`` is taken as
  ``(e^(|x|/2))^2`` split around the other factor, so ``I1`` is finite
  wherever ``np.i0`` is.

Only NumPy functions are used (``np.where``, ``np.exp``...), so CuPy arrays
dispatch to CuPy and the tape differentiates ``i1`` again (second derivatives
of ``np.i0``); each expansion sees a safe stand-in where the other one is used,
so neither overflows.
"""
import math

import numpy as np

_SWITCH = 30.0
_SERIES_TERMS = 60
_ASYMPTOTIC_TERMS = 30


def _asymptotic_coefficients():
    """The ``(-1)^k a_k`` of the asymptotic expansion of ``I1``, k = 0 .. terms - 1."""
    out, a = [1.0], 1.0
    for k in range(1, _ASYMPTOTIC_TERMS):
        a = a * (4.0 - (2 * k - 1) ** 2) / (k * 8.0)
        out.append((-1) ** k * a)
    return out


_COEFFICIENTS = _asymptotic_coefficients()


def _series(x):
    """The power series of ``I1`` (accurate for |x| < 30)."""
    quarter = 0.25 * x * x
    term = 0.5 * x
    total = term
    for k in range(1, _SERIES_TERMS):
        term = term * quarter / (k * (k + 1))
        total = total + term
    return total


def _asymptotic(x):
    """The asymptotic expansion of ``I1`` (accurate for |x| >= 30)."""
    ax = np.abs(x)
    inverse = 1.0 / ax
    total = _COEFFICIENTS[-1]
    for c in reversed(_COEFFICIENTS[:-1]):
        total = total * inverse + c
    half = np.exp(0.5 * ax)
    return np.sign(x) * (half * (half * total / np.sqrt(2 * math.pi * ax)))


def i1(x):
    """``I1(x)``, the derivative of ``np.i0``, for real ``x`` of any size (array or scalar)."""
    small = np.less(np.abs(x), _SWITCH)
    near = np.where(small, x, 0.0)
    far = np.where(small, _SWITCH, x)
    return np.where(small, _series(near), _asymptotic(far))
