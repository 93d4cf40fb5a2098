"""Writes with a repeated index: NumPy keeps the last value written, so only it
gets the adjoint (``y[[0, 0]] = x[:2]``: ``dx = [0, g0]``), in compiled code,
in auto mode, and in the rule itself (what the tape and higher orders use)."""
import numpy as np
import pytest

import knetc as knet
from knetc.runtime.indexing import setitem_array
from knetc.runtime.rules import rule_for
from knetc.testing import check_vjp, numeric_grad

R = np.random.default_rng(3)
C = np.array([1.0, 2.0, 3.0])
x0 = np.array([0.3, -0.7, 1.2])


def pair_on_one(x):
    y = np.zeros(3)
    y[[0, 0]] = x[:2]
    return np.sum(y * C)


def three_writes(x):
    y = x * 0.5
    y[[1, 0, 1]] = x * x
    return np.sum(y * C)


def scalar_twice(x):
    y = np.ones(3)
    y[[2, 2]] = x[0]
    return np.sum(y * C * x)


def rows_repeated(x):
    Y = np.zeros((3, 3))
    Y[[0, 2, 0]] = np.outer(x, C)
    return np.sum(Y * np.arange(9.0).reshape(3, 3))


def two_d_index(x):
    Y = np.zeros((2, 2))
    Y[[0, 0, 1], [1, 1, 0]] = x
    return np.sum(Y * np.array([[1.0, 2.0], [3.0, 4.0]]))


def mask_write(x):
    y = x * 2
    y[x > 0] = x[x > 0] ** 2
    return np.sum(y * C)


def no_repeat(x):
    y = np.zeros(4)
    y[[3, 0, 1]] = x
    return np.sum(y * np.arange(1.0, 5.0))


CASES = [pair_on_one, three_writes, scalar_twice, rows_repeated, two_d_index, mask_write, no_repeat]


@pytest.mark.parametrize("mode", ["auto", "source"])
@pytest.mark.parametrize("f", CASES)
def test_repeated_index_write_gradient(f, mode):
    want = numeric_grad(f, (x0,))
    got = knet.grad(f, mode=mode)(x0)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)


def test_only_the_last_write_gets_the_adjoint():
    np.testing.assert_array_equal(knet.grad(pair_on_one)(x0), [0.0, 1.0, 0.0])


@pytest.mark.parametrize("idx, v", [
    (np.array([0, 0]), R.standard_normal((2, 5))),
    (np.array([1, 3, 1, 1]), R.standard_normal((4, 5))),
    (np.array([2, 2]), 1.5),
    ((np.array([0, 0, 1]), np.array([4, 4, 2])), R.standard_normal(3)),
    ((slice(None), np.array([1, 1])), R.standard_normal((4, 2))),
])
def test_setitem_rule_against_finite_differences(idx, v):
    x = R.standard_normal((4, 5))
    check_vjp(setitem_array, (x, idx, v), 0)
    check_vjp(setitem_array, (x, idx, v), 2)


def test_setitem_value_adjoint_is_exact_on_repeats():
    x = np.zeros(3)
    g = np.array([10.0, 20.0, 30.0])
    vjp = rule_for(setitem_array).vjp(2)
    idx = np.array([0, 2, 0])
    v = np.array([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(vjp(g, setitem_array(x, idx, v), x, idx, v), [0.0, 30.0, 10.0])
