"""scipy.signal.convolve and correlate beyond the OpInfo samples (tests/opinfo/cases_scipy_signal.py):
second derivatives through grad(grad), mixed precision, a hand-computed case, complex inputs
refused, the CuPy path of the VJPs."""
import os

import numpy as np
import pytest

import knetc as knet
from knetc.testing import assert_tree_allclose, numeric_grad

scipy_signal = pytest.importorskip("scipy.signal")
signal = scipy_signal

RNG = np.random.default_rng(12)
A = RNG.standard_normal((4, 5))
V = RNG.standard_normal((2, 3))
W = RNG.standard_normal((4, 5))


def smooth_loss(a, v):
    return np.sum(np.sin(signal.convolve(a, v, mode="same")) * W)


def corr_loss(a, v):
    c = signal.correlate(a, v, mode="full", method="direct")
    return np.sum(c ** 3)


@pytest.mark.parametrize("mode", ["source", "tape"])
@pytest.mark.parametrize("fun", [smooth_loss, corr_loss])
def test_gradient_matches_finite_differences(fun, mode):
    g = knet.grad(fun, wrt=(0, 1), mode=mode)
    got = g(A, V)
    assert g.mode == mode
    assert_tree_allclose(got, numeric_grad(fun, (A, V), wrt=(0, 1)), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("fun", [smooth_loss, corr_loss])
def test_grad_of_grad(fun):
    """The VJPs are convolve/correlate/pad/flip, so the gradient differentiates again (on the
    tape: the compiler does not take a function that calls a gradient object)."""
    u = RNG.standard_normal(A.shape)

    def directional(a, v):
        return np.sum(knet.grad(fun, wrt=0)(a, v) * u)

    for wrt in (0, 1):
        got = knet.grad(directional, wrt=wrt, mode="tape")(A, V)
        assert_tree_allclose(got, numeric_grad(directional, (A, V), wrt=wrt, eps=1e-5), rtol=1e-5, atol=1e-7)


def test_hvp_matches_finite_differences_of_the_gradient():
    u = RNG.standard_normal(V.shape)
    got = knet.hvp(smooth_loss, wrt=1)(A, V, u)
    gradient = knet.grad(smooth_loss, wrt=1)
    want = numeric_grad(lambda v: np.sum(gradient(A, v) * u), (V,), eps=1e-5)
    assert_tree_allclose(got, want, rtol=1e-5, atol=1e-7)


def test_float32_argument_gets_a_float32_gradient_beside_float64():
    a32 = A.astype(np.float32)
    ga, gv = knet.grad(smooth_loss, wrt=(0, 1), mode="source")(a32, V)
    assert ga.dtype == np.float32 and gv.dtype == np.float64
    want = knet.grad(smooth_loss, wrt=(0, 1))(a32.astype(np.float64), V)
    assert_tree_allclose((ga, gv), want, rtol=1e-4, atol=1e-5)


def test_hand_computed_1d_convolution():
    # c = convolve([a0, a1], [v0, v1]) = [a0 v0, a0 v1 + a1 v0, a1 v1]; d sum(c * w) / da
    a, v, w = np.array([1.5, -2.0]), np.array([0.5, 3.0]), np.array([1.0, 2.0, -1.0])
    ga, gv = knet.grad(lambda a, v: np.sum(signal.convolve(a, v) * w), wrt=(0, 1))(a, v)
    assert np.allclose(ga, [w[0] * v[0] + w[1] * v[1], w[1] * v[0] + w[2] * v[1]])
    assert np.allclose(gv, [w[0] * a[0] + w[1] * a[1], w[1] * a[0] + w[2] * a[1]])


@pytest.mark.parametrize("mode", ["source", "tape"])
def test_complex_input_is_refused(mode):
    kernel = np.array([1.0 + 1.0j, 0.5])

    def loss(a):
        return np.sum(np.abs(signal.convolve(a, kernel)))

    with pytest.raises(knet.KnetError, match="scipy.signal.convolve of complex inputs"):
        knet.grad(loss, mode=mode)(np.array([0.3, -0.7, 1.2]))


def test_rule_is_in_the_table():
    from knetc.runtime.rules import rule_for
    for fun in (signal.convolve, signal.correlate):
        rule = rule_for(fun)
        assert rule is not None and set(rule.keywords) == {"mode", "method"}


@pytest.mark.gpu
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_vjps_on_cupy_match_numpy(mode):
    if not knet.gpu_available():
        pytest.skip("needs CuPy and a CUDA device")
    import cupy
    from knetc.runtime.rules import rule_for
    for fun in (signal.convolve, signal.correlate):
        rule = rule_for(fun)
        ans = fun(A, V, mode=mode)
        g = RNG.standard_normal(ans.shape)
        for i in (0, 1):
            want = rule.vjp(i)(g, ans, A, V, mode=mode)
            got = rule.vjp(i)(cupy.asarray(g), cupy.asarray(ans), cupy.asarray(A), cupy.asarray(V), mode=mode)
            assert isinstance(got, cupy.ndarray)
            assert np.allclose(cupy.asnumpy(got), want, rtol=1e-6, atol=1e-8)


@pytest.mark.gpu
def test_cupyx_has_the_functions_marked_gpu():
    pytest.importorskip("cupy")
    import cupyx.scipy.signal
    from knetc.docs_table import SCIPY_ON_CUPY
    missing = [name for name in SCIPY_ON_CUPY
               if getattr(cupyx.scipy.signal, name.rsplit(".", 1)[1], None) is None]
    assert not missing, f"marked GPU in docs/functions.md but not in cupyx.scipy.signal: {missing}"


@pytest.mark.gpu
@pytest.mark.skipif(os.environ.get("SCIPY_ARRAY_API") != "1",
                    reason="SciPy hands CuPy arrays to cupyx.scipy only with SCIPY_ARRAY_API=1")
def test_gradient_on_cupy_matches_numpy():
    if not knet.gpu_available():
        pytest.skip("needs CuPy and a CUDA device")
    want = knet.grad(smooth_loss, wrt=(0, 1), mode="source")(A, V)
    global W
    saved, W = W, knet.to_gpu(W)
    try:
        got = knet.grad(smooth_loss, wrt=(0, 1), mode="source")(knet.to_gpu(A), knet.to_gpu(V))
    finally:
        W = saved
    assert_tree_allclose(knet.to_cpu(got), want, rtol=1e-6, atol=1e-8)
