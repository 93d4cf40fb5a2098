"""Tests of knetc.nn: forward values against naive references, VJPs against finite differences."""
import math

import numpy as np
import pytest

from knetc import nn
from knetc.runtime.rules import rule_for
from knetc.testing import check_vjp

RNG = np.random.default_rng(0)


def randn(*shape):
    return RNG.standard_normal(shape)


# --- naive references ---------------------------------------------------------------
def conv_ref(w, x, padding=0, stride=1):
    ph, pw = (padding, padding) if np.isscalar(padding) else padding
    sh, sw = (stride, stride) if np.isscalar(stride) else stride
    n, c, h, wd = x.shape
    k, _, kh, kw = w.shape
    xp = np.zeros((n, c, h + 2 * ph, wd + 2 * pw))
    xp[:, :, ph:ph + h, pw:pw + wd] = x
    ho, wo = (h + 2 * ph - kh) // sh + 1, (wd + 2 * pw - kw) // sw + 1
    y = np.zeros((n, k, ho, wo))
    for a in range(n):
        for b in range(k):
            for i in range(ho):
                for j in range(wo):
                    y[a, b, i, j] = np.sum(w[b] * xp[a, :, i * sh:i * sh + kh, j * sw:j * sw + kw])
    return y


def pool_ref(x, window=2, stride=None, padding=0, mode="max"):
    stride = window if stride is None else stride
    n, c, h, w = x.shape
    fill = -np.inf if mode == "max" else 0.0
    xp = np.full((n, c, h + 2 * padding, w + 2 * padding), fill)
    xp[:, :, padding:padding + h, padding:padding + w] = x
    ho, wo = (h + 2 * padding - window) // stride + 1, (w + 2 * padding - window) // stride + 1
    y = np.zeros((n, c, ho, wo))
    for i in range(ho):
        for j in range(wo):
            win = xp[:, :, i * stride:i * stride + window, j * stride:j * stride + window]
            y[:, :, i, j] = win.max(axis=(2, 3)) if mode == "max" else win.mean(axis=(2, 3))
    return y


# --- activations ------------------------------------------------------------------------
def test_activation_values():
    x = np.array([-3.0, -0.5, 0.0, 0.5, 3.0])
    np.testing.assert_allclose(nn.relu(x), np.maximum(x, 0))
    np.testing.assert_allclose(nn.sigm(x), 1 / (1 + np.exp(-x)), rtol=1e-14)
    np.testing.assert_allclose(nn.elu(x), np.where(x > 0, x, np.exp(x) - 1), rtol=1e-14)
    a, lam = 1.6732632423543772, 1.0507009873554805
    np.testing.assert_allclose(nn.selu(x), lam * np.where(x > 0, x, a * (np.exp(x) - 1)), rtol=1e-14)
    erf = np.vectorize(math.erf)
    np.testing.assert_allclose(nn.gelu(x), 0.5 * x * (1 + erf(x / math.sqrt(2))), atol=1e-3)
    assert np.all(np.isfinite(nn.sigm(np.array([-1000.0, 1000.0]))))


@pytest.mark.parametrize("f", [nn.relu, nn.sigm, nn.elu, nn.selu, nn.gelu, nn.sumabs2, nn.mat])
def test_float32_is_kept(f):
    x = randn(2, 3, 4, 5).astype(np.float32)
    assert f(x).dtype == np.float32


@pytest.mark.parametrize("f", [nn.relu, nn.sigm, nn.elu, nn.selu, nn.gelu, nn.sumabs2])
def test_activation_vjps(f):
    x = randn(3, 4)
    x[np.abs(x) < 1e-3] = 0.5  # keep away from the kinks
    check_vjp(f, (x,), 0)


# --- log-sum-exp family and losses ----------------------------------------------------------
@pytest.mark.parametrize("axis", [0, 1, -1, None])
def test_logsumexp(axis):
    x = randn(4, 5)
    expect = np.log(np.sum(np.exp(x), axis=axis))
    np.testing.assert_allclose(nn.logsumexp(x, axis=axis), expect, rtol=1e-12)
    check_vjp(nn.logsumexp, (x,), 0, kwargs={"axis": axis})
    check_vjp(nn.logsumexp, (x,), 0, kwargs={"axis": axis, "keepdims": True})
    big = np.array([[1000.0, 1000.0], [-1000.0, 0.0]])
    np.testing.assert_allclose(nn.logsumexp(big, axis=1), [1000 + math.log(2), 0.0])


@pytest.mark.parametrize("axis", [0, 1])
def test_logp_and_softmax(axis):
    x = randn(4, 5) * 3
    p = np.exp(x) / np.sum(np.exp(x), axis=axis, keepdims=True)
    np.testing.assert_allclose(nn.softmax(x, axis=axis), p, rtol=1e-12)
    np.testing.assert_allclose(nn.logp(x, axis=axis), np.log(p), rtol=1e-12, atol=1e-14)
    assert nn.logsoftmax is nn.logp
    check_vjp(nn.logp, (x,), 0, kwargs={"axis": axis})
    check_vjp(nn.softmax, (x,), 0, kwargs={"axis": axis})
    assert np.all(np.isfinite(nn.logp(x * 1000, axis=axis)))


def test_nll_and_accuracy():
    scores = randn(5, 7)
    labels = np.array([0, 4, 2, 2, 1, 3, 0])
    lp = scores - np.log(np.sum(np.exp(scores), axis=0))
    expect = -np.mean(lp[labels, np.arange(7)])
    np.testing.assert_allclose(nn.nll(scores, labels), expect, rtol=1e-12)
    np.testing.assert_allclose(nn.nll(scores, labels, average=False), 7 * expect, rtol=1e-12)
    np.testing.assert_allclose(nn.nll(scores.T, labels, axis=1), expect, rtol=1e-12)
    check_vjp(nn.nll, (scores, labels), 0)
    check_vjp(nn.nll, (scores.T.copy(), labels), 0, kwargs={"axis": 1, "average": False})
    assert nn.accuracy(scores, np.argmax(scores, axis=0)) == 1.0
    assert nn.accuracy(scores.T, labels, axis=1) == np.mean(np.argmax(scores, axis=0) == labels)
    assert rule_for(nn.nll).vjp(1) is None


def test_bce_and_logistic():
    x = randn(3, 4)
    y01 = (RNG.random((3, 4)) > 0.5).astype(float)
    p = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(nn.bce(x, y01), -np.mean(y01 * np.log(p) + (1 - y01) * np.log(1 - p)))
    ypm = 2 * y01 - 1
    np.testing.assert_allclose(nn.logistic(x, ypm), np.mean(np.log1p(np.exp(-ypm * x))))
    for f, y in ((nn.bce, y01), (nn.logistic, ypm)):
        check_vjp(f, (x, y), 0)
        check_vjp(f, (x, y), 1)
        check_vjp(f, (x, y), 0, kwargs={"average": False})
    assert np.isfinite(nn.bce(np.array([1000.0, -1000.0]), np.array([0.0, 1.0])))


def test_mat():
    x = randn(3, 2, 4, 5)
    m = nn.mat(x)
    assert m.shape == (40, 3)
    np.testing.assert_array_equal(m[:, 1], x[1].ravel())
    d = randn(6, 3)
    assert nn.mat(d) is d  # the dense layout already
    check_vjp(nn.mat, (x,), 0)
    check_vjp(nn.mat, (d,), 0)


# --- convolution and pooling ------------------------------------------------------------------
CONV_CASES = [
    ((3, 2, 3, 3), (2, 2, 7, 6), 0, 1),
    ((3, 2, 3, 3), (2, 2, 7, 6), 1, 1),
    ((2, 3, 3, 2), (2, 3, 8, 7), 1, 2),
    ((2, 1, 5, 5), (1, 1, 9, 9), 2, 3),
    ((2, 2, 3, 1), (2, 2, 6, 5), (2, 0), (1, 2)),
]


@pytest.mark.parametrize("wshape,xshape,padding,stride", CONV_CASES)
def test_conv4(wshape, xshape, padding, stride):
    w, x = randn(*wshape), randn(*xshape)
    kw = {"padding": padding, "stride": stride}
    np.testing.assert_allclose(nn.conv4(w, x, **kw), conv_ref(w, x, padding, stride), rtol=1e-10, atol=1e-12)
    check_vjp(nn.conv4, (w, x), 0, kwargs=kw)
    check_vjp(nn.conv4, (w, x), 1, kwargs=kw)


def test_conv4_float32_and_errors():
    w = randn(4, 3, 5, 5).astype(np.float32)
    x = randn(2, 3, 12, 12).astype(np.float32)
    y = nn.conv4(w, x)
    assert y.dtype == np.float32 and y.shape == (2, 4, 8, 8)
    np.testing.assert_allclose(y, conv_ref(w.astype(float), x.astype(float)), rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError):
        nn.conv4(randn(4, 2, 3, 3), x)
    with pytest.raises(ValueError):
        nn.conv4(w, randn(2, 3, 3, 3))


POOL_CASES = [
    {},
    {"window": 3},
    {"window": 3, "stride": 1},
    {"window": 3, "stride": 2, "padding": 1},
    {"mode": "avg"},
    {"mode": "avg", "window": 3, "stride": 1},
    {"mode": "avg", "window": 3, "stride": 2, "padding": 1},
]


@pytest.mark.parametrize("kw", POOL_CASES)
def test_pool(kw):
    x = randn(2, 3, 7, 8)
    np.testing.assert_allclose(nn.pool(x, **kw), pool_ref(x, **kw), rtol=1e-12, atol=1e-14)
    check_vjp(nn.pool, (x,), 0, kwargs=kw)


def test_pool_ties_send_the_gradient_once():
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 0, 0] = -1.0
    g = np.ones((1, 1, 2, 2))
    dx = rule_for(nn.pool).vjp(0)(g, nn.pool(x), x)
    np.testing.assert_array_equal(dx.reshape(2, 2, 2, 2).transpose(0, 2, 1, 3).reshape(4, 4).sum(1), [1] * 4)
    assert dx.sum() == 4 and dx[0, 0, 0, 0] == 0
    with pytest.raises(ValueError):
        nn.pool(x, mode="median")


# --- dropout, batchnorm, bmm -------------------------------------------------------------------
def test_dropout():
    x = np.ones((100, 100))
    assert nn.dropout(x, 0.5) is x  # not training
    assert not nn.is_training()
    with nn.training():
        assert nn.is_training()
        y = nn.dropout(x, 0.25, rng=1)
    assert not nn.is_training()
    assert set(np.unique(y)) == {0.0, 1 / 0.75}
    assert abs((y == 0).mean() - 0.25) < 0.02
    np.testing.assert_array_equal(y, nn.dropout(x, 0.25, training=True, rng=1))  # deterministic
    nn.seed(3)
    a = nn.dropout(x, 0.5, training=True)
    nn.seed(3)
    np.testing.assert_array_equal(a, nn.dropout(x, 0.5, training=True))
    assert nn.dropout(x.astype(np.float32), 0.5, training=True).dtype == np.float32
    check_vjp(nn.dropout, (randn(4, 5), 0.3), 0, kwargs={"training": True, "rng": 7})
    check_vjp(nn.dropout, (randn(4, 5), 0.3), 0)


def test_batchnorm():
    x = randn(4, 6) * 3 + 2
    gamma, beta = randn(4, 1), randn(4, 1)
    y = nn.batchnorm(x, gamma, beta)
    xhat = (y - beta) / gamma
    np.testing.assert_allclose(xhat.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(xhat.var(axis=1), 1, rtol=1e-5)
    for i in range(3):
        check_vjp(nn.batchnorm, (x, gamma, beta), i)
    x4 = randn(3, 2, 3, 3)
    g1, b1 = randn(2), randn(2)
    y4 = nn.batchnorm(x4, g1, b1)
    np.testing.assert_allclose(((y4 - b1[:, None, None]) / g1[:, None, None]).mean(axis=(0, 2, 3)), 0, atol=1e-12)
    for i in range(3):
        check_vjp(nn.batchnorm, (x4, g1, b1), i)
    check_vjp(nn.batchnorm, (x4, randn(1, 2, 1, 1), randn(1, 2, 1, 1)), 1)


def test_bmm():
    a, b = randn(3, 2, 4), randn(3, 4, 5)
    np.testing.assert_allclose(nn.bmm(a, b), np.einsum("bij,bjk->bik", a, b))
    check_vjp(nn.bmm, (a, b), 0)
    check_vjp(nn.bmm, (a, b), 1)
    shared = randn(4, 5)  # broadcast over the batch
    np.testing.assert_allclose(nn.bmm(a, shared), np.einsum("bij,jk->bik", a, shared))
    check_vjp(nn.bmm, (a, shared), 1)


# --- parameters -----------------------------------------------------------------------------
def test_params():
    w = nn.param(20, 1, 5, 5, rng=0)
    assert w.shape == (20, 1, 5, 5) and w.dtype == np.float32
    s = math.sqrt(6 / (25 + 20))  # Knet's fans: C*kh*kw in, K out
    assert np.abs(w).max() <= s
    np.testing.assert_array_equal(w, nn.param(20, 1, 5, 5, rng=0))
    d = nn.param(500, 800, rng=1)
    assert np.abs(d).max() <= math.sqrt(6 / 1300) and abs(d.std() - math.sqrt(6 / 1300) / math.sqrt(3)) < 1e-3
    assert nn.param0(10, 1).shape == (10, 1) and not nn.param0(10, 1).any()
    g = nn.gaussian(1000, 100, scale=0.1, rng=2)
    assert g.dtype == np.float64 and abs(g.std() - 0.1) < 1e-3
    assert nn.param(3, 4, init=nn.gaussian, dtype=np.float64).dtype == np.float64
    assert nn.param(3, 4, init=lambda *d: np.ones(d)).sum() == 12
    assert nn.xavier(3, 4).dtype == np.float64


# --- knetc.grad through the toolkit ------------------------------------------------------------
knetc = pytest.importorskip("knetc")
needs_grad = pytest.mark.skipif(not hasattr(knetc, "grad"), reason="knetc.grad is not available")
MODES = ["auto", "tape"]


def _check_grad(loss, args, mode, rtol=1e-6, atol=1e-8):
    """The gradient in ``mode`` against finite differences at two steps; in auto mode the
    toolkit must compile (every nn function has a rule), not fall back to the tape."""
    import warnings
    from knetc.testing import assert_numeric_grad
    g = knetc.grad(loss, mode=mode)
    with warnings.catch_warnings():
        warnings.simplefilter("error", knetc.FallbackWarning)
        got = g(*args)
    assert g.mode == ("tape" if mode == "tape" else "source"), f"mode={mode!r} ran as {g.mode!r}"
    assert_numeric_grad(got, loss, args, 0, rtol=rtol, atol=atol)


def _lenet_loss(w, x, y):
    h = nn.pool(nn.relu(nn.conv4(w[0], x, padding=1) + w[1]))
    h = nn.pool(nn.elu(nn.conv4(w[2], h, stride=2) + w[3]), window=2, stride=1, mode="avg")
    return nn.nll(w[4] @ nn.mat(h) + w[5], y)


@needs_grad
@pytest.mark.parametrize("mode", MODES)
def test_grad_small_convnet(mode):
    w = [randn(3, 2, 3, 3), randn(1, 3, 1, 1), randn(4, 3, 3, 3), randn(1, 4, 1, 1), randn(5, 16), randn(5, 1)]
    x, y = randn(2, 2, 14, 14), np.array([1, 4])
    _check_grad(_lenet_loss, (w, x, y), mode)


def _activations_loss(w, x):
    h = nn.sigm(w["a"] @ x)
    h = nn.selu(h) + nn.gelu(h) * nn.relu(w["b"])
    h = nn.batchnorm(h, w["gamma"], w["beta"])
    s = nn.logsumexp(h, axis=0) + nn.softmax(h, axis=1)[0] - nn.logp(h)[1]
    return (nn.sumabs2(s) + nn.bce(h, np.ones_like(h)) + nn.logistic(h[0], -np.ones(x.shape[1]))
            + np.sum(nn.bmm(w["c"], h[None]) ** 2) / 10 + np.sum(nn.dropout(h, 0.5, training=True, rng=3)))


@needs_grad
@pytest.mark.parametrize("mode", MODES)
def test_grad_activations_and_losses(mode):
    w = {"a": randn(4, 3), "b": randn(4, 1) + 0.05, "gamma": randn(4, 1), "beta": randn(4, 1), "c": randn(2, 2, 4)}
    _check_grad(_activations_loss, (w, randn(3, 5)), mode)


def _lstm(weight, bias, hidden, cell, input):
    gates = np.hstack((input, hidden)) @ weight + bias
    h = hidden.shape[1]
    forget = nn.sigm(gates[:, :h])
    ingate = nn.sigm(gates[:, h:2 * h])
    outgate = nn.sigm(gates[:, 2 * h:3 * h])
    change = np.tanh(gates[:, 3 * h:])
    cell = cell * forget + ingate * change
    hidden = outgate * np.tanh(cell)
    return hidden, cell


def _charlm_loss(w, s, sequence):
    total = 0.0
    count = 0
    for t in range(len(sequence) - 1):
        s[0], s[1] = _lstm(w[0], w[1], s[0], s[1], sequence[t] @ w[2])
        ynorm = nn.logp(s[0] @ w[3] + w[4], axis=1)
        ygold = sequence[t + 1]
        total += np.sum(ygold * ynorm)
        count += ygold.shape[0]
    return -total / count


@needs_grad
@pytest.mark.parametrize("mode", MODES)
def test_grad_lstm_with_state_list(mode):
    vocab, embed, hidden, batch = 5, 3, 2, 2
    w = [randn(embed + hidden, 4 * hidden), randn(1, 4 * hidden), randn(vocab, embed),
         randn(hidden, vocab), randn(1, vocab)]
    eye = np.eye(vocab)
    sequence = [eye[RNG.integers(0, vocab, batch)] for _ in range(4)]

    def loss(w, sequence):  # a fresh state on every call, as numeric_grad calls it many times
        return _charlm_loss(w, [np.zeros((batch, hidden)), np.zeros((batch, hidden))], sequence)

    _check_grad(loss, (w, sequence), mode)
    s = [np.zeros((batch, hidden)), np.zeros((batch, hidden))]
    knetc.grad(_charlm_loss, mode=mode)(w, s, sequence)
    assert np.abs(s[0]).sum() > 0  # the state list was updated by the forward pass, as in Knet


def _step(w, s, x):
    s[0] = np.tanh(w @ s[0] + x)  # the callee stores an active value into the caller's list
    return s[0]


def _loss_callee_mutates_state(w, s, xs):
    total = 0.0
    for x in xs:
        total = total + np.sum(_step(w, s, x))
    return total


@needs_grad
@pytest.mark.parametrize("mode", ["auto", "source", "tape"])
def test_grad_state_list_mutated_in_callee(mode):
    w, xs = randn(2, 2), [randn(2, 1) for _ in range(3)]

    def loss(w, xs):
        return _loss_callee_mutates_state(w, [np.ones((2, 1))], xs)

    _check_grad(loss, (w, xs), mode)


def _lstm_composed(gates, c, axis):
    i, f, o, g = np.split(gates, 4, axis=axis)
    c_new = nn.sigm(f) * c + nn.sigm(i) * np.tanh(g)
    return nn.sigm(o) * np.tanh(c_new), c_new


@pytest.mark.parametrize("axis, gshape, cshape", [(0, (8, 3), (2, 3)), (-1, (3, 8), (3, 2)),
                                                   (0, (8, 3), (2, 1))])
def test_lstm_cell_equals_its_composition_and_differentiates(axis, gshape, cshape):
    gates, c = randn(*gshape), randn(*cshape)
    h, c_new = nn.lstm(gates, c, axis=axis)
    want_h, want_c = _lstm_composed(gates, c, axis)
    np.testing.assert_allclose(h, want_h, rtol=1e-12)
    np.testing.assert_allclose(c_new, want_c, rtol=1e-12)
    # a broadcast c (2, 1) against gates' (2, 3) blocks gets an adjoint of its own shape
    for dh, dc in [(randn(*h.shape), randn(*h.shape)), (randn(*h.shape), None), (None, randn(*h.shape))]:
        rule = rule_for(nn.lstm)
        for k, arg in enumerate((gates, c)):
            got = rule.vjp(k)((dh, dc), (h, c_new), gates, c, axis)

            def project(v, k=k):
                args = [gates, c]
                args[k] = v
                out = _lstm_composed(*args, axis)
                return sum(np.sum(o * d) for o, d in zip(out, (dh, dc)) if d is not None)
            eps, num = 1e-6, np.zeros_like(arg)
            for idx in np.ndindex(arg.shape):
                e = np.zeros_like(arg)
                e[idx] = eps
                num[idx] = (project(arg + e) - project(arg - e)) / (2 * eps)
            assert np.shape(got) == np.shape(arg), (k, np.shape(got), np.shape(arg))
            np.testing.assert_allclose(got, num, rtol=1e-6, atol=1e-8)


def lstm_cell_loss(w, xs):
    """A language-model loss over ``nn.lstm`` steps (also run on CuPy by test_gpu.py)."""
    H = w[1].shape[1]
    h = np.zeros((H, xs.shape[2]))
    c = np.zeros((H, xs.shape[2]))
    total = 0.0
    for t in range(xs.shape[0]):
        h, c = nn.lstm(w[0] @ xs[t] + w[1] @ h + w[2], c)
        total = total + np.sum(nn.logp(w[3] @ h) * xs[t])
    return -total


@needs_grad
@pytest.mark.parametrize("mode", ["source", "tape"])
def test_grad_through_lstm_cell_in_a_loop(mode):
    H, V, B, T = 3, 5, 4, 3
    w = [randn(4 * H, V), randn(4 * H, H), randn(4 * H, 1), randn(V, H)]
    _check_grad(lstm_cell_loss, (w, randn(T, V, B)), mode)
