"""Keyword-argument VJPs (``defvjp(f, v0, weight=vw)``): the rule itself, and gradients through
it in every mode, with respect to the keyword argument and to the positional one.

Until issue 11 no test exercised a keyword VJP at all.
"""
import warnings

import numpy as np
import pytest

import knetc as knet
from knetc.testing import assert_numeric_grad, check_vjp


@knet.primitive
def weighted(x, weight=1.0, offset=0.0):
    return np.tanh(x) * weight + offset


knet.defvjp(weighted, lambda g, ans, x, weight=1.0, offset=0.0: knet.unbroadcast(g * (1 - np.tanh(x) ** 2) * weight, x),
            weight=lambda g, ans, x, weight=1.0, offset=0.0: knet.unbroadcast(g * np.tanh(x), weight),
            offset=lambda g, ans, x, weight=1.0, offset=0.0: knet.unbroadcast(g, offset))

X = np.array([0.3, -0.7, 1.2])
W = np.array([1.5, -0.5, 2.0])


@pytest.mark.parametrize("kwargs", [{"weight": W}, {"weight": 0.7}, {"weight": W, "offset": 0.3},
                                    {"weight": W[:, None] * np.ones((3, 2))}])
def test_keyword_vjp_rule_matches_finite_differences(kwargs):
    x = X if np.ndim(kwargs["weight"]) < 2 else X[:, None]
    check_vjp(weighted, (x,), "weight", kwargs=kwargs)
    check_vjp(weighted, (x,), 0, kwargs=kwargs)
    if "offset" in kwargs:
        check_vjp(weighted, (x,), "offset", kwargs=kwargs)


def test_check_vjp_catches_a_wrong_keyword_vjp():
    @knet.primitive
    def scaled(x, weight=1.0):
        return x * weight
    knet.defvjp(scaled, lambda g, ans, x, weight=1.0: g * weight,
                weight=lambda g, ans, x, weight=1.0: g * x * 1.001)
    check_vjp(scaled, (X,), 0, kwargs={"weight": W})
    with pytest.raises(AssertionError, match="keyword argument 'weight'"):
        check_vjp(scaled, (X,), "weight", kwargs={"weight": W})
    with pytest.raises(AssertionError, match="no VJP"):
        check_vjp(scaled, (X,), "other", kwargs={"weight": W})


def loss_keyword(w, x):
    return np.sum(weighted(x, weight=w) ** 2)


def loss_keyword_both(w, x):
    return np.sum(weighted(x * w, weight=w, offset=np.sum(w) * 0.1) * np.arange(1.0, 4.0))


def loss_positional_x(x, w):
    return np.sum(weighted(np.sin(x), weight=w) * np.array([1.0, 2.0, -1.0]))


def _helper(v, w):
    return weighted(v, weight=w)


def loss_through_helper(w, x):
    return np.sum(_helper(x, w) ** 2)


@pytest.mark.parametrize("mode", ["auto", "source", "tape"])
@pytest.mark.parametrize("loss, args", [
    (loss_keyword, (W, X)), (loss_keyword_both, (W, X)), (loss_positional_x, (X, W)),
    (loss_through_helper, (W, X)), (loss_keyword, (0.7, X)),
])
def test_gradients_through_a_keyword_vjp(mode, loss, args):
    g = knet.grad(loss, mode=mode)
    with warnings.catch_warnings():
        warnings.simplefilter("error", knet.FallbackWarning)      # auto must compile it
        got = g(*args)
    assert g.mode == ("tape" if mode == "tape" else "source")
    assert_numeric_grad(got, loss, args)


@pytest.mark.parametrize("mode", ["auto", "source", "tape"])
def test_gradients_wrt_both_through_a_keyword_vjp(mode):
    got = knet.grad(loss_keyword_both, wrt=(0, 1), mode=mode)(W, X)
    assert_numeric_grad(got, loss_keyword_both, (W, X), wrt=(0, 1))
