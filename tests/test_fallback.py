"""Automatic fallback to the tape, mixed mode, and higher-order gradients through the API."""
import warnings

import numpy as np
import pytest

import knetc as knet
from knetc.testing import assert_tree_allclose, numeric_grad

rng = np.random.default_rng(7)


def guarded_tanh(x):
    try:
        return np.tanh(x)
    except ValueError:
        return x


def mixed_loss(w, x):
    return np.sum(guarded_tanh(w @ x) ** 2)


def comprehension_loss(w):
    return sum(np.sum(wi ** 2) for wi in w)


def test_helper_falls_back_alone_and_caller_stays_compiled():
    w, x = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    g = knet.grad(mixed_loss)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        dw = g(w, x)
        g(w, x)
    messages = [str(r.message) for r in rec if issubclass(r.category, knet.FallbackWarning)]
    assert len(messages) == 1                       # told once per function
    assert messages[0].startswith("knetc: guarded_tanh runs on the tape: try/except is not supported")
    assert "test_fallback.py:14" in messages[0]
    assert g.mode == "mixed"
    assert "call_vjp(guarded_tanh" in g.source      # the caller is still generated code
    assert_tree_allclose(dw, numeric_grad(mixed_loss, (w, x), 0), rtol=1e-5)


def test_whole_function_on_tape_and_mode_source_forbids_it():
    w = [rng.standard_normal(3), rng.standard_normal((2, 2))]
    with pytest.warns(knet.FallbackWarning, match="comprehension"):
        g = knet.grad(comprehension_loss)
        dw = g(w)
    assert g.mode == "tape"
    assert_tree_allclose(dw, [2 * w[0], 2 * w[1]])
    with pytest.raises(knet.UnsupportedError, match="generator expression"):
        knet.grad(comprehension_loss, mode="source")(w)


def test_forced_tape_mode():
    g = knet.grad(mixed_loss, mode="tape")
    w, x = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    assert_tree_allclose(g(w, x), knet.grad(mixed_loss)(w, x), rtol=1e-10)
    assert g.mode == "tape"


def test_grad_of_grad():
    d2 = knet.grad(knet.grad(lambda x: x ** 3 + np.sin(x)))
    assert d2(0.7) == pytest.approx(6 * 0.7 - np.sin(0.7))
