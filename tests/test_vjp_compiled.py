"""knet.vjp on the compiled path: a pullback called many times with different cotangents equals
J^T u from the Jacobian, for array, container and scalar outputs; .mode reports how it ran."""
import warnings

import numpy as np
import pytest

import knetc as knet
from knetc.testing import assert_tree_allclose, numeric_grad
from tests.test_operators import FUNCTIONS, P, X, _random_like, containers, looped

R = np.random.default_rng(11)


def _jt_u(fun, args, u):
    """J^T u from the compiled-or-taped jacobian: sum over output leaves of u . J."""
    jac = knet.jacobian(fun, mode="fwd")(*args)
    out_leaves = knet.tree_flatten(u)[0]
    blocks = jac if isinstance(jac, (list, tuple)) else [jac]
    total = None
    for u_leaf, block in zip(out_leaves, blocks):
        term = knet.tree_map(lambda J: np.tensordot(np.asarray(u_leaf, float), J, axes=np.ndim(u_leaf)), block)
        total = term if total is None else knet.tree_map(np.add, total, term)
    return total


@pytest.mark.parametrize("fun, args", FUNCTIONS, ids=lambda v: getattr(v, "__name__", ""))
def test_pullback_called_three_times_equals_the_jacobian_transpose(fun, args):
    with warnings.catch_warnings():
        warnings.simplefilter("error")            # compiled: no fallback
        value, pullback = knet.vjp(fun, *args, mode="source")
        assert pullback.mode == "source"
        for _ in range(3):
            u = _random_like(value)
            got = pullback(u)
            expected = numeric_grad(lambda x: _inner(u, fun(x)), args)
            assert_tree_allclose(got, expected, rtol=1e-6, atol=1e-9)
            assert_tree_allclose(got, _jt_u(fun, args, u), rtol=1e-9, atol=1e-12)


def _inner(u, out):
    return sum(np.sum(np.asarray(a) * b) for a, b in zip(knet.tree_flatten(u)[0], knet.tree_flatten(out)[0]))


def test_compiled_and_taped_pullbacks_agree():
    value, compiled = knet.vjp(containers, P)
    _, taped = knet.vjp(containers, P, mode="tape")
    assert compiled.mode == "source" and taped.mode == "tape"
    for _ in range(3):
        u = [R.standard_normal(2), float(R.standard_normal())]
        assert_tree_allclose(compiled(u), taped(u), rtol=1e-12, atol=1e-14)


def test_scalar_output_and_tuple_wrt():
    value, pullback = knet.vjp(lambda a, b: np.sum(a * b), X, 2 * X, wrt=(0, 1), mode="source")
    for s in (1.5, -0.25, 3.0):
        da, db = pullback(s)
        assert_tree_allclose((da, db), (s * 2 * X, s * X), rtol=1e-12)


def test_has_aux_compiled():
    def with_aux(x):
        y = np.tanh(x) * 2
        return y, {"log": np.log(np.abs(x)), "n": 2}
    value, pullback, aux = knet.vjp(with_aux, X, has_aux=True, mode="source")
    assert pullback.mode == "source" and aux["n"] == 2
    np.testing.assert_array_equal(aux["log"], np.log(np.abs(X)))
    for _ in range(2):
        u = R.standard_normal(3)
        assert_tree_allclose(pullback(u), u * 2 * (1 - np.tanh(X) ** 2), rtol=1e-12)


def test_a_random_function_pulled_twice_is_refused():
    rng = np.random.default_rng(0)

    def noisy(x):
        return x * rng.standard_normal(3)
    value, pullback = knet.vjp(noisy, X)
    assert pullback.mode == "source"
    first = pullback(np.ones(3))
    np.testing.assert_allclose(first, value / X, rtol=1e-12)
    with pytest.raises(knet.KnetError, match="another result"):      # it runs noisy again: it must notice
        pullback(np.ones(3))
    value, taped = knet.vjp(noisy, X, mode="tape")                    # the tape records once
    np.testing.assert_allclose(taped(np.ones(3)), taped(np.ones(3)), rtol=0)


def test_a_cotangent_of_the_wrong_shape_is_an_error():
    _, pullback = knet.vjp(looped, X)
    with pytest.raises(knet.GradientInputError, match="shape"):
        pullback(np.ones(4))
    with pytest.raises(knet.GradientInputError, match="structure"):
        knet.vjp(containers, P)[1]([np.ones(2)])


def test_what_the_compiler_refuses_falls_back_with_a_warning():
    def guarded(x):
        try:
            y = x * 2
        except ValueError:
            y = x
        return y
    with pytest.warns(knet.FallbackWarning, match="try/except"):
        value, pullback = knet.vjp(guarded, X)
    assert pullback.mode == "tape"
    for s in (1.0, -2.0):
        np.testing.assert_allclose(pullback(s * np.ones(3)), 2 * s * np.ones(3), rtol=1e-12)
    with pytest.raises(knet.UnsupportedError, match="try/except"):
        knet.vjp(guarded, X, mode="source")


def test_vjp_and_hvp_inside_a_differentiated_function_nest_on_the_tape():
    C = np.array([1.0, 2.0, 3.0])

    def inner(z):
        return np.sin(z) * C

    def through_vjp(x):
        _, pullback = knet.vjp(inner, x)
        return np.sum(pullback(C) * x)

    def through_hvp(x):
        return np.sum(knet.hvp(lambda z: np.sum(inner(z)))(x, C) * x)
    for f in (through_vjp, through_hvp):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", knet.FallbackWarning)
            got = knet.grad(f)(X)
        np.testing.assert_allclose(got, numeric_grad(f, (X,)), rtol=1e-6, atol=1e-9)
