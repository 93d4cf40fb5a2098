"""Zero adjoints stay zero through rules whose derivative is infinite or NaN somewhere.

``np.where(c, np.sqrt(x), 0)`` with ``x < 0`` unselected, ``np.where(c, a / b, 0)`` with
``b == 0`` unselected: the derivative there is 0, not ``0 * inf = NaN`` (issue 11). The rules
use :mod:`knetc.runtime.zero_safe`; a nonzero adjoint times an infinite derivative stays
infinite, and second derivatives are those of the plain product, also where an adjoint is 0 by
coincidence (the minimum of a loss).
"""
import warnings

import numpy as np
import pytest

import knetc as knet
from knetc.runtime.zero_safe import zero_safe
from knetc.testing import numeric_grad

MODES = ["source", "tape", "auto"]


# the selected positions; the unselected ones hold values where the branch is NaN or infinite
SELECT = np.array([False, False, True, True, False, True])
X = np.array([-1.5, 0.0, 0.4, 1.6, 1.0, 0.7])


def _where_sqrt(x):
    return np.sum(np.where(SELECT, np.sqrt(x), 0.0) + x)


def _where_log(x):
    return np.sum(np.where(SELECT, np.log(x), 2.0 * x))


def _where_divide(x):
    return np.sum(np.where(SELECT, 1.0 / x, 0.0) + x)


def _where_divide_numerator(x):
    return np.sum(np.where(SELECT, x / (x - 1.0), x))


def _where_power(x):
    return np.sum(np.where(SELECT, x ** 0.5, x))


def _where_arcsin(x):
    return np.sum(np.where(SELECT, np.arcsin(x - 1.0), 3.0 * x))


def _where_reciprocal(x):
    return np.sum(np.where(SELECT, np.reciprocal(x), 0.0) * 2.0 + x)


def _where_arctanh(x):
    return np.sum(np.where(SELECT, np.arctanh(x - 1.0), x))


def _where_sqrt_of_product(x):
    # the NaN is made upstream of sqrt: sqrt(x * x - 1) is NaN at the unselected |x| < 1
    return np.sum(np.where(SELECT, np.sqrt(x * x + 1.0) * np.sqrt(x - 0.2), 0.0) + 0.5 * x)


def _where_x_log_x(x):
    return np.sum(np.where(SELECT, x * np.log(x), 0.0) + x)


def _softplus(x):
    # exp overflows to inf at the unselected large input
    return np.sum(np.where(x > 20, x, np.log1p(np.exp(x))) * np.arange(1.0, 7.0))


def _where_sinh_cosh_overflow(x):
    return np.sum(np.where(x < 100, np.sinh(x) + np.cosh(x) + np.expm1(x) + np.exp2(x), x))


def _where_log_then_tanh(x):
    return np.sum(np.tanh(np.where(SELECT, np.log(x) * 2.0, x)) * np.arange(6.0))


PROGRAMS = [_where_sqrt, _where_log, _where_divide, _where_divide_numerator, _where_power,
            _where_arcsin, _where_reciprocal, _where_arctanh, _where_sqrt_of_product,
            _where_log_then_tanh, _where_x_log_x]
BIG = np.array([1000.0, 0.5, -3.0, 2000.0, 1.5, -0.2])
OVERFLOWING = [_softplus, _where_sinh_cosh_overflow]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("f", PROGRAMS, ids=lambda f: f.__name__)
def test_unselected_singular_branch_has_zero_derivative(f, mode):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        got = knet.grad(f, mode=mode)(X.copy())
        expected = numeric_grad(f, (X.copy(),))
    assert np.isfinite(expected).all(), expected
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("f", OVERFLOWING, ids=lambda f: f.__name__)
def test_unselected_overflow_has_zero_derivative(f, mode):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        got = knet.grad(f, mode=mode)(BIG.copy())
        expected = numeric_grad(f, (BIG.copy(),))
    assert np.isfinite(expected).all(), expected
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("mode", MODES)
def test_selected_singularity_stays_infinite(mode):
    """sqrt at 0 with a nonzero adjoint: the derivative is +inf, not mended to 0."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        got = knet.grad(lambda x: np.sum(np.sqrt(x)), mode=mode)(np.array([0.0, 4.0]))
    assert got[0] == np.inf and got[1] == 0.25


def test_mend_on_arrays_scalars_and_dtypes():
    g = np.array([0.0, 2.0, 0.0, 1.0, 0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        r = g * np.array([np.inf, np.inf, np.nan, 3.0, 2.0])
        assert np.array_equal(zero_safe(g, r), [0.0, np.inf, 0.0, 3.0, 0.0])
        plain = np.array([1.0, 2.0])
        assert zero_safe(np.zeros(2), plain) is plain                 # finite: the same array
        assert zero_safe(0.0, 0.0 * np.inf) == 0.0
        assert zero_safe(np.float64(0.0), np.float64(np.nan)) == 0.0
        assert zero_safe(1.0, 0.25) == 0.25
        assert np.isnan(zero_safe(np.nan, np.nan))                     # a NaN adjoint is not hidden
        assert np.isnan(zero_safe(np.array([np.nan, 0.0]), np.array([np.nan, 1.0]))[0])
        r32 = zero_safe(np.zeros(3, np.float32), np.array([np.nan, 1, 2], np.float32))
        assert r32.dtype == np.float32 and np.array_equal(r32, [0, 1, 2])
        c = zero_safe(np.array([0j, 1 + 1j]), np.array([complex(np.nan, np.nan), 2 + 2j]))
        assert np.array_equal(c, [0j, 2 + 2j])


def _bowl(x):
    # the gradient of the outer square is 0 at x == 1 by coincidence (not by selection)
    return np.sum((np.sqrt(x) - 1.0) ** 2) + np.sum(np.log(x) ** 2)


def test_second_derivative_where_the_adjoint_is_zero_by_coincidence():
    """At the minimum x == 1 every adjoint into sqrt and log is exactly 0; the Hessian is
    still 2 * (1/2)^2 + 2 * 1 = 2.5 on the diagonal (a where-based mend would give 0)."""
    x = np.ones(3)
    h = knet.hessian(_bowl)(x)
    np.testing.assert_allclose(h, 2.5 * np.eye(3), rtol=1e-7)
    hv = numeric_grad(lambda y: knet.grad(_bowl, mode="tape")(y)[0], (x,))
    np.testing.assert_allclose(h[0], hv, rtol=1e-5)


def test_second_derivative_through_an_unselected_branch():
    f = lambda x: np.sum(np.where(x > 0, np.sqrt(x), x * x))
    x = np.array([-1.0, 4.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        h = knet.hessian(f)(x)
    np.testing.assert_allclose(h, np.diag([2.0, -0.25 * 4.0 ** -1.5]), rtol=1e-9)


def test_regular_rules_mend_only_after_a_selection_saw_a_non_finite_value():
    """multiply/exp/sin pay nothing on the dense path: only np.where's VJP, seeing a non-finite
    value it does not select, turns their mending on; a new top-level gradient turns it off."""
    from knetc.runtime import zero_safe as zs
    dense = knet.grad(lambda x: np.sum(np.exp(x) * x), mode="source")
    x = np.array([0.5, -1.0])
    np.testing.assert_allclose(dense(x), numeric_grad(lambda y: np.sum(np.exp(y) * y), (x,)), rtol=1e-6)
    assert zs.MENDING[0] is False
    entropy = knet.grad(lambda p: -np.sum(np.where(p > 0, p * np.log(p), 0.0)), mode="source")
    p = np.array([0.0, 0.25, 0.75])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        g = entropy(p)
    assert zs.MENDING[0] is True
    np.testing.assert_allclose(g, [0.0, -np.log(0.25) - 1, -np.log(0.75) - 1], rtol=1e-12)
    dense(x)
    assert zs.MENDING[0] is False


def test_static_forms_fold_in_generated_code():
    """x ** 2 and x / n (a Python number) keep their plain adjoint lines."""
    g = knet.grad(lambda w, n: np.sum(w ** 2) / n, mode="source")
    np.testing.assert_allclose(g(np.array([1.0, -2.0]), 4.0), [0.5, -1.0])
    assert "zero_safe(" not in g.source.split("** 2")[1].split("\n")[0]
    assert "regular_exponent" not in g.source
