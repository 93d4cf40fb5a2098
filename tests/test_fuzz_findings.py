"""Disagreements the forward-mode fuzzer (tests/fuzz/run.py) found in reverse mode, fixed.

A NaN computed in a value the loss never uses reached the compiled gradient (issue 11): the
compiled, taped and finite-difference gradients must agree.
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


def test_a_nan_in_a_dead_value_does_not_reach_the_compiled_gradient():
    """Fuzz seed 3000481 (minimised): a helper returns a pair whose first element is NaN
    (``np.sqrt`` of a negative: a value the loss never uses). The compiled reverse pass gives
    the unused element a zero adjoint and runs it through ``sqrt``'s VJP; ``0 * (0.5 / nan)``
    was NaN, so the whole gradient was NaN. ``sqrt``'s VJP is a zero-safe product now
    (knetc/runtime/zero_safe.py): a zero adjoint stays zero."""
    _check(nan_in_an_unused_helper_result)


def test_a_nan_in_an_unused_tuple_element_does_not_reach_the_compiled_gradient():
    """The same without a helper: ``pair = (h, 2.0); pair[1]`` with ``h`` NaN."""
    _check(nan_in_an_unused_tuple_element)
