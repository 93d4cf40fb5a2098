"""Adjoint aliasing: an adjoint buffer shared by two names must never be updated in place.

Issue 11's audit removed the copy before an in-place slice accumulation and nothing failed,
though ``h = x[0]; z = x + y; return 2*np.sum(z) + np.sum(h*h)`` wrt ``(x, y)`` then gives
``dy[0] = 2.6``: ``dy`` and ``dx`` start as the same array (the adjoint of ``z`` passed through
``+``), and the slice accumulation of ``h``'s adjoint into ``dx`` also wrote into ``dy``.
Each program here has a gradient known by hand (``dy`` is 2 everywhere) and is checked against
finite differences in every mode.
"""
import numpy as np
import pytest

import knetc as knet
from knetc.testing import assert_numeric_grad, assert_tree_allclose

X = np.array([0.3, -0.7, 1.2])
Y = np.array([0.5, 0.1, -0.4])
XM = np.array([[0.3, -0.7, 1.2], [0.4, 0.9, -0.2]])
YM = np.array([[0.5, 0.1, -0.4], [1.0, -1.0, 0.3]])


def issue_example(x, y):
    h = x[0]
    z = x + y
    return 2 * np.sum(z) + np.sum(h * h)


def operands_swapped(x, y):
    h = x[0]
    z = y + x
    return 2 * np.sum(z) + np.sum(h * h)


def slice_read(x, y):
    h = x[1:]
    z = x + y
    return 2 * np.sum(z) + np.sum(h * h)


def two_reads_of_the_same_entry(x, y):
    h1 = x[0]
    h2 = x[0]
    z = x + y
    return 2 * np.sum(z) + h1 * h2 + h2


def read_after_the_sum(x, y):
    z = x + y
    h = x[2]
    return 2 * np.sum(z) + h ** 3


def read_of_the_sum(x, y):
    z = x + y
    h = z[0]
    return 2 * np.sum(z) + (h - y[0]) ** 2


def subtraction(x, y):
    h = x[0]
    z = x - y
    return -2 * np.sum(z) + np.sum(h * h)


def through_a_helper(x, y):
    return 2 * np.sum(_add(x, y)) + _first(x) ** 2


def _add(a, b):
    return a + b


def _first(a):
    return a[0]


def in_a_loop(x, y):
    z = x + y
    s = 2 * np.sum(z)
    for i in range(2):
        s = s + x[i] * x[i]
    return s


def matrix_row(x, y):
    h = x[0]
    z = x + y
    return 2 * np.sum(z) + np.sum(h * h)


def matrix_column(x, y):
    h = x[:, 1]
    z = x + y
    return 2 * np.sum(z) + np.sum(h * h)


def list_parameters(w, y):
    h = w[0][0]
    z = w[0] + y
    return 2 * np.sum(z) + h * h + np.sum(w[1] * 0.0)


def expected_dy(f, x, y):
    """What every program here promises: dy == 2 everywhere (by hand)."""
    return np.full(np.shape(y), 2.0)


CASES = [(f, X, Y) for f in (issue_example, operands_swapped, slice_read, two_reads_of_the_same_entry,
                             read_after_the_sum, read_of_the_sum, subtraction, through_a_helper, in_a_loop)]
CASES += [(matrix_row, XM, YM), (matrix_column, XM, YM)]


@pytest.mark.parametrize("mode", ["source", "tape", "auto"])
@pytest.mark.parametrize("f, x, y", CASES, ids=[c[0].__name__ for c in CASES])
def test_dy_is_two_everywhere(f, x, y, mode):
    dx, dy = knet.grad(f, wrt=(0, 1), mode=mode)(x.copy(), y.copy())
    assert_tree_allclose(dy, expected_dy(f, x, y), rtol=1e-12, atol=1e-12)
    assert_numeric_grad((dx, dy), f, (x, y), wrt=(0, 1))
    assert not np.shares_memory(dx, dy)


@pytest.mark.parametrize("mode", ["source", "tape", "auto"])
def test_dy_is_two_everywhere_in_either_wrt_order(mode):
    dy, dx = knet.grad(issue_example, wrt=(1, 0), mode=mode)(X.copy(), Y.copy())
    assert_tree_allclose(dy, np.full(3, 2.0), rtol=1e-12, atol=1e-12)
    assert_tree_allclose(dx, np.array([2.6, 2.0, 2.0]), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", ["source", "tape", "auto"])
def test_list_parameters(mode):
    w = [X.copy(), Y.copy()]
    dw, dy = knet.grad(list_parameters, wrt=(0, 1), mode=mode)(w, Y.copy())
    assert_tree_allclose(dy, np.full(3, 2.0), rtol=1e-12, atol=1e-12)
    assert_numeric_grad((dw, dy), list_parameters, (w, Y.copy()), wrt=(0, 1))


@pytest.mark.parametrize("mode", ["source", "tape", "auto"])
def test_the_gradients_are_separate_arrays(mode):
    """Scaling one gradient in place (as an optimiser may) leaves the other alone."""
    dx, dy = knet.grad(issue_example, wrt=(0, 1), mode=mode)(X.copy(), Y.copy())
    dx *= 0.5
    assert_tree_allclose(dy, np.full(3, 2.0), rtol=1e-12, atol=1e-12)


def data_argument_rebound(w, x):
    x = x * w                      # a data argument now holds a differentiated value
    y = np.sin(x) + x * x          # and is read twice: two contributions to its adjoint
    return np.sum(y * np.array([1.0, -2.0, 0.5]))


def data_float_argument_rebound(w, s):
    s = s * w[0]
    return np.sin(s) + s * s * w[1]


@pytest.mark.parametrize("mode", ["source", "tape", "auto"])
def test_data_argument_rebound_to_a_differentiated_value(mode):
    """The adjoint of a data argument rebound to a differentiated value accumulates every read."""
    dw = knet.grad(data_argument_rebound, mode=mode)(X.copy(), Y.copy())
    assert_numeric_grad(dw, data_argument_rebound, (X.copy(), Y.copy()))
    dw = knet.grad(data_float_argument_rebound, mode=mode)(X.copy(), 0.7)
    assert_numeric_grad(dw, data_float_argument_rebound, (X.copy(), 0.7))
