"""has_aux=True on grad and value_and_grad: f returns (loss, aux); aux comes back as computed,
undifferentiated, never a traced value; compiled and on the tape."""
import warnings

import numpy as np
import pytest

import knetc as knet
from knetc.runtime.tree import tree_flatten
from knetc.testing import assert_tree_allclose, numeric_grad

RNG = np.random.default_rng(3)


def _stats(h):
    return {"mean": np.mean(h), "h": h}


def with_aux(x):
    h = np.tanh(x)
    loss = np.sum(h ** 2)
    aux = {"log": np.log(np.abs(x)), "count": 3, "name": "tanh", "pair": [h, h * 2], "stats": _stats(h)}
    return loss, aux


def early_return(x, c):
    if c > 0:
        return np.sum(x ** 2), x * 3
    for _ in range(2):
        x = x * 2
    return np.sum(x ** 3), np.sqrt(np.abs(x))


def list_params(w, x):
    pred = np.tanh(w[0] @ x + w[1])
    return np.sum(pred ** 2), pred


def loss_only(fun, *rest):
    return lambda x: fun(x, *rest)[0]


def assert_plain(aux):
    for leaf in tree_flatten(aux)[0]:
        assert type(leaf).__name__ != "Box", leaf


@pytest.mark.parametrize("mode", ["source", "tape"])
def test_grad_returns_the_gradient_and_aux_untouched(mode):
    x = RNG.normal(size=4)
    x[0] = 0.0                 # aux holds log(0) = -inf: its adjoint must not turn the gradient NaN
    gf = knet.grad(with_aux, has_aux=True, mode=mode)
    with np.errstate(divide="ignore"):
        g, aux = gf(x)
        _, expected = with_aux(x)
    assert gf.mode == mode
    assert np.all(np.isfinite(g))
    assert_tree_allclose(g, 2 * np.tanh(x) * (1 - np.tanh(x) ** 2), rtol=1e-12)
    assert_tree_allclose(aux, expected, rtol=0, atol=0)
    assert aux["count"] == 3 and aux["name"] == "tanh"
    assert_plain(aux)


@pytest.mark.parametrize("mode", ["source", "tape"])
def test_value_and_grad_returns_loss_aux_and_gradient(mode):
    x = RNG.normal(size=3)
    for c in (1.0, -1.0):
        vg = knet.value_and_grad(early_return, has_aux=True, mode=mode)
        (loss, aux), g = vg(x, c)
        exp_loss, exp_aux = early_return(x, c)
        assert loss == pytest.approx(exp_loss, rel=1e-12)
        np.testing.assert_allclose(aux, exp_aux, rtol=1e-12)
        assert_plain(aux)
        np.testing.assert_allclose(g, numeric_grad(loss_only(early_return, c), (x,)), rtol=1e-6, atol=1e-8)
        assert vg.mode == mode


@pytest.mark.parametrize("mode", ["source", "tape"])
def test_has_aux_with_a_list_parameter_and_a_tuple_wrt(mode):
    w, x = [RNG.normal(size=(3, 3)), RNG.normal(size=3)], RNG.normal(size=3)
    (gw, gx), pred = knet.grad(list_params, wrt=(0, 1), has_aux=True, mode=mode)(w, x)
    np.testing.assert_allclose(pred, np.tanh(w[0] @ x + w[1]), rtol=1e-12)
    assert_tree_allclose(gw, numeric_grad(lambda w: list_params(w, x)[0], (w,)), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gx, numeric_grad(lambda x: list_params(w, x)[0], (x,)), rtol=1e-6, atol=1e-8)


def test_a_result_that_is_not_a_written_pair_falls_back_to_the_tape():
    def packed(x):
        out = (np.sum(x ** 2), x)
        return out
    x = RNG.normal(size=3)
    gf = knet.grad(packed, has_aux=True)
    with pytest.warns(knet.FallbackWarning, match="has_aux=True"):
        g, aux = gf(x)
    assert gf.mode == "tape"
    np.testing.assert_allclose(g, 2 * x, rtol=1e-12)
    np.testing.assert_array_equal(aux, x)
    with pytest.raises(knet.UnsupportedError, match="has_aux"):
        knet.grad(packed, has_aux=True, mode="source")(x)


@pytest.mark.parametrize("mode", ["source", "tape"])
def test_a_function_that_returns_no_pair_is_an_error(mode):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", knet.FallbackWarning)
        with pytest.raises((knet.GradientInputError, knet.UnsupportedError)):
            knet.grad(lambda x: np.sum(x), has_aux=True, mode=mode)(np.ones(3))


def test_compiled_aux_is_left_out_of_the_adjoint():
    gf = knet.grad(with_aux, has_aux=True, mode="source")
    gf(np.array([0.5, 1.0]))
    assert "log" not in gf.source.split("_pullback")[1]       # nothing of aux in the backward pass
