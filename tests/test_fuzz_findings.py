"""A disagreement the forward-mode fuzzer (tests/fuzz/run.py) found in reverse mode, still open.

A NaN computed in a value the loss never uses reaches the compiled gradient (issue 11: a
silently wrong gradient; NaN, so at least visible, and ``check_finite=True`` names the line).
These tests pin the bug as it is: they assert that the tape is right and that the compiled
gradient is still NaN, so they fail the day it is fixed. Then turn them into ``_check`` again
(compiled == tape == finite differences).
"""
import warnings

import numpy as np

import knetc as knet
from knetc.testing import numeric_grad

_W = np.array([0.5, 0.2, -0.3])


def _pair(a, s):
    return np.sqrt(a - 10.0), s * 2.0          # the first result is NaN and never used


def nan_in_an_unused_helper_result(w):
    return _pair(w, 1.5)[1] + np.sum(w)


def nan_in_an_unused_tuple_element(w):
    h = np.sqrt(w - 10.0)
    pair = (h, 2.0)
    return pair[1] + np.sum(w)


def _check(f):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = numeric_grad(f, (_W,))
        taped = knet.grad(f, mode="tape")(_W)
        compiled = knet.grad(f, mode="source")(_W)
    np.testing.assert_allclose(expected, np.ones(3), rtol=1e-8)
    np.testing.assert_allclose(taped, expected, rtol=1e-8)
    np.testing.assert_allclose(compiled, expected, rtol=1e-8)


def _still_open(f):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = numeric_grad(f, (_W,))
        taped = knet.grad(f, mode="tape")(_W)
        compiled = knet.grad(f, mode="source")(_W)
    np.testing.assert_allclose(taped, expected, rtol=1e-8)
    assert np.isnan(compiled).all(), "fixed: make this test _check(f) again"


def test_a_nan_in_a_dead_value_still_reaches_the_compiled_gradient():
    """Fuzz seed 3000481 (minimised): a helper returns a pair whose first element is NaN
    (``np.sqrt`` of a negative: a value the loss never uses). The compiled reverse pass
    (knetc/transform/reverse.py) gives the unused element a zero adjoint and runs it through
    ``sqrt``'s VJP anyway: ``0 * (0.5 / sqrt(nan))`` is NaN, so the whole gradient is NaN. The
    tape skips values that get no adjoint and returns the right [1, 1, 1]; forward mode is right
    too. Fix: an adjoint that is known zero (an unused tuple element) must not be propagated,
    as the tape does."""
    _still_open(nan_in_an_unused_helper_result)


def test_a_nan_in_an_unused_tuple_element_still_reaches_the_compiled_gradient():
    """The same without a helper: ``pair = (h, 2.0); pair[1]`` with ``h`` NaN."""
    _still_open(nan_in_an_unused_tuple_element)
