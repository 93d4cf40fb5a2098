"""The choices the NumPy-surface rules make where finite differences cannot check them.

Ties, zeros, repeated indices, points without a derivative, arguments refused
loudly, and ``np.array`` of differentiated scalars in both modes.
"""
import math
import operator

import numpy as np
import pytest

import knetc as knet
from knetc.errors import KnetError
from knetc.runtime.rules import rule_for
from knetc.testing import assert_tree_allclose, numeric_grad


def vjp(fun, argnum, g, *args, **kwargs):
    return rule_for(fun).vjp(argnum)(g, fun(*args, **kwargs), *args, **kwargs)


def both_modes(fun, args, wrt=0):
    """The gradient in compiled and taped mode (they must agree)."""
    got = [knet.grad(fun, wrt=wrt, mode=mode)(*args) for mode in ("source", "tape")]
    assert_tree_allclose(got[0], got[1])
    return got[0]


def test_sort_ties_follow_the_stable_permutation():
    x = np.array([1.0, 3.0, 1.0])
    assert_tree_allclose(vjp(np.sort, 0, np.array([10.0, 20.0, 30.0]), x), np.array([10.0, 30.0, 20.0]))
    ans = np.partition(np.array([2.0, 2.0, 0.5, 4.0]), 1)
    got = rule_for(np.partition).vjp(0)(np.array([1.0, 2.0, 3.0, 4.0]), ans, np.array([2.0, 2.0, 0.5, 4.0]), 1)
    assert sorted(got.tolist()) == [1.0, 2.0, 3.0, 4.0] and got[2] == 1.0 and got[3] == 4.0


def test_cumprod_with_zeros_is_exact():
    x = np.array([2.0, 0.0, 3.0, 0.0, 1.5])
    g = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    want = [sum(g[j] * np.prod([x[k] for k in range(j + 1) if k != i]) for j in range(i, 5)) for i in range(5)]
    got = vjp(np.cumprod, 0, g, x)
    assert np.all(np.isfinite(got))
    assert_tree_allclose(got, np.array(want))


def test_order_statistics_take_the_middle_elements():
    assert_tree_allclose(vjp(np.median, 0, 1.0, np.array([3.0, 1.0, 2.0])), np.array([0.0, 0.0, 1.0]))
    assert_tree_allclose(vjp(np.median, 0, 1.0, np.array([4.0, 1.0, 3.0, 2.0])), np.array([0.0, 0.0, 0.5, 0.5]))
    # quantile 0.25 of 5 values sits on the second smallest
    assert_tree_allclose(vjp(np.quantile, 0, 2.0, np.array([5.0, 1.0, 4.0, 2.0, 3.0]), 0.25),
                         np.array([0.0, 0.0, 0.0, 2.0, 0.0]))


def test_no_nan_where_the_derivative_is_not_defined():
    zero = np.zeros(2)
    for fun in (np.hypot, np.arctan2):
        for argnum in (0, 1):
            assert_tree_allclose(vjp(fun, argnum, np.ones(2), zero, zero), zero)
    assert vjp(math.hypot, 0, 1.0, 0.0, 0.0) == 0.0
    assert_tree_allclose(vjp(np.sinc, 0, np.ones(3), np.array([0.0, 1.0, -1.0])), np.array([0.0, -1.0, 1.0]))


def test_nan_ignoring_functions_send_nothing_to_nan():
    x = np.array([1.0, np.nan, 3.0])
    assert_tree_allclose(vjp(np.fmax, 0, np.ones(3), x, np.array([np.nan, 0.0, 5.0])), np.array([1.0, 0.0, 0.0]))
    assert_tree_allclose(vjp(np.fmax, 1, np.ones(3), x, np.array([np.nan, 0.0, 5.0])), np.array([0.0, 1.0, 1.0]))
    assert_tree_allclose(vjp(np.nanmean, 0, 1.0, x), np.array([0.5, 0.0, 0.5]))
    assert_tree_allclose(vjp(np.nanmax, 0, 1.0, np.array([3.0, np.nan, 3.0])), np.array([0.5, 0.0, 0.5]))


def test_put_along_axis_is_functional_and_the_kept_value_gets_the_adjoint():
    arr, idx = np.zeros((1, 3)), np.array([[1, 1]])
    values = np.array([[5.0, 7.0]])
    out = knet.put_along_axis(arr, idx, values, 1)
    assert arr.sum() == 0 and out[0, 1] in (5.0, 7.0)
    kept = 0 if out[0, 1] == 5.0 else 1
    gv = vjp(knet.put_along_axis, 2, np.ones((1, 3)), arr, idx, values, 1)
    assert gv[0, kept] == 1.0 and gv[0, 1 - kept] == 0.0
    assert_tree_allclose(vjp(knet.put_along_axis, 0, np.ones((1, 3)), arr, idx, values, 1), np.array([[1.0, 0, 1.0]]))


def test_array_of_differentiated_scalars_in_both_modes():
    def f(x, y):
        v = np.array([x * y, y, 2.0])
        return np.sum(v ** 2)

    got = both_modes(f, (1.5, -0.5), wrt=(0, 1))
    assert_tree_allclose(got, (2 * 1.5 * 0.25, 2 * 1.5 ** 2 * -0.5 + 2 * -0.5))

    def g(x):
        m = np.array([[x[0], x[1]], [np.sin(x[1]), 1.0]])
        return np.sum(m @ m)

    x = np.array([0.3, 0.8])
    assert_tree_allclose(both_modes(g, (x,)), numeric_grad(g, (x,)), rtol=1e-6)
    # second derivative through the tape's record of np.array
    assert knet.hvp(lambda x: np.sum(np.array([x * x, 3.0 * x]) ** 2))(0.5, 1.0) == pytest.approx(12 * 0.25 + 18)


def test_stack_of_differentiated_scalars_in_both_modes():
    def f(x, y):
        return np.sum(np.stack([x * y, np.float64(2.0) * y]) ** 2)

    assert_tree_allclose(both_modes(f, (1.5, -0.5), wrt=(0, 1)), numeric_grad(f, (1.5, -0.5), wrt=(0, 1)), rtol=1e-6)


def test_operator_and_math_calls_compile():
    # operator.add's VJP is a conditional expression: inlined after another contribution
    # to dx it must be parenthesised (dx = dx + (a if c else b))
    def f(x, y):
        return np.sum(operator.mul(operator.add(x, y), operator.truediv(x, 2.0))) + math.atan2(y[0], 1.5)

    x, y = np.array([0.4, -1.2]), np.array([0.7, 0.2])
    assert knet.grad(f, wrt=(0, 1), mode="source")(x, y) is not None
    assert_tree_allclose(both_modes(f, (x, y), wrt=(0, 1)), numeric_grad(f, (x, y), wrt=(0, 1)), rtol=1e-6)
    h = knet.grad(lambda t: math.asinh(t) * math.erf(t) + math.cbrt(t) + math.fmod(t, 0.3), mode="source")
    want = numeric_grad(lambda t: math.asinh(t) * math.erf(t) + math.cbrt(t) + math.fmod(t, 0.3), (0.7,))
    assert h(0.7) == pytest.approx(want, rel=1e-6)


def test_list_concatenation_by_operator_add():
    g = [1.0, 2.0, 3.0]
    assert vjp(operator.add, 0, g, [0.5], [0.1, 0.2]) == [1.0]
    assert vjp(operator.add, 1, g, [0.5], [0.1, 0.2]) == [2.0, 3.0]
    with pytest.raises(KnetError, match="operator.mul"):
        vjp(operator.mul, 0, [1.0, 1.0], [0.5], 2)


def _pad_with_zeros(vector, width, axis, kwargs):
    """A user-written np.pad mode: the derivative rule has no model of what it does."""
    vector[:width[0]] = 0.0
    vector[len(vector) - width[1]:] = 0.0


@pytest.mark.parametrize("fun, args, kwargs, what", [
    (np.pad, (np.ones((2, 2)), 1), {"mode": _pad_with_zeros}, "mode=<function>"),
    (np.quantile, (np.arange(4.0), 0.3), {"method": "nearest"}, "method='nearest'"),
    (np.gradient, (np.arange(4.0), 0.5), {}, "spacing"),
    (np.interp, (np.array([0.5]), np.array([0.0, 1.0]), np.array([1.0, 2.0])), {}, "xp"),
])
def test_arguments_without_a_derivative_are_refused(fun, args, kwargs, what):
    argnum = 1 if what in ("spacing", "xp") else 0
    with pytest.raises(KnetError, match=what.split("=")[0] if what in ("spacing", "xp") else "derivative|rule"):
        vjp(fun, argnum, np.ones(np.shape(fun(*args, **kwargs))), *args, **kwargs)


def test_in_place_put_along_axis_is_refused_on_the_tape():
    def f(a):
        np.put_along_axis(a, np.array([0]), 1.0, 0)
        return np.sum(a)

    with pytest.raises(KnetError, match="put_along_axis"):
        knet.grad(f, mode="tape")(np.ones(3))
    with pytest.raises(KnetError, match="constant_values"):
        rule_for(np.pad).kwvjps["constant_values"](np.ones(4), None, np.ones(2), 1, constant_values=(1.0, 2.0))


def test_piecewise_refuses_closures():
    def f(x, w):
        scaled = lambda v: w * v     # noqa: E731  (w would get no gradient)
        return np.sum(np.piecewise(x, [x < 0], [scaled, 1.0]))

    for mode in ("source", "tape"):
        with pytest.raises(KnetError):
            knet.grad(f, wrt=(0, 1), mode=mode)(np.array([-1.0, 0.5]), 2.0)


@pytest.mark.parametrize("fun, args, kwargs", [
    (np.median, (np.array([3.0, 1.0, 2.0]),), {"overwrite_input": True}),
    (np.quantile, (np.array([3.0, 1.0, 2.0]), 0.3), {"overwrite_input": True}),
    (np.nan_to_num, (np.array([np.nan, 1.0]),), {"copy": False}),
    (np.interp, (np.array([0.5]), np.array([0.0, 1.0]), np.array([1.0, 2.0])), {"period": 2.0}),
    (np.average, (np.array([1.0, 2.0]),), {"returned": True}),
])
def test_options_the_rules_do_not_model_are_refused(fun, args, kwargs):
    ans = fun(*[np.copy(a) if isinstance(a, np.ndarray) else a for a in args], **kwargs)
    g = [np.ones(np.shape(a)) for a in ans] if isinstance(ans, tuple) else np.ones(np.shape(ans))
    with pytest.raises(KnetError, match=list(kwargs)[0]):
        rule_for(fun).vjp(0)(g, ans, *args, **kwargs)


# The constants rules_elementwise declares, with samples away from their jumps (the format of
# tests/test_constants.py's SAMPLES): perturbing a float argument leaves the result unchanged.
NONDIFF_SAMPLES = {
    operator.floordiv: [((7.3, 2.0), {}), ((np.array([5.2, -3.3]), 1.5), {})],
    operator.eq: [((1.3, 2.0), {})], operator.ne: [((1.3, 2.0), {})], operator.lt: [((1.3, 2.0), {})],
    operator.le: [((1.3, 2.0), {})], operator.gt: [((1.3, 2.0), {})], operator.ge: [((1.3, 2.0), {})],
    operator.not_: [((1.3,), {})], operator.truth: [((1.3,), {})],
    math.trunc: [((2.4,), {}), ((-1.6,), {})], math.isinf: [((2.4,), {})],
    math.isclose: [((2.4, 2.9), {})],
}


@pytest.mark.parametrize("fun", list(NONDIFF_SAMPLES), ids=lambda f: f.__name__)
def test_declared_constants_do_not_change(fun):
    from knetc.runtime.rules import is_nondiff
    assert is_nondiff(fun)
    for args, kwargs in NONDIFF_SAMPLES[fun]:
        for i, a in enumerate(args):
            if isinstance(a, (float, np.ndarray)):
                moved = list(args)
                moved[i] = a + 1e-4
                assert np.array_equal(fun(*moved, **kwargs), fun(*args, **kwargs)), (fun, i)
