"""scipy.integrate.odeint by the adjoint method: gradients with respect to y0, t and args against a
closed form and against central differences of odeint itself, compiled and on the tape; what is
refused, and a small parameter fit."""
import numpy as np
import pytest

import knetc as knet
from knetc.testing import assert_tree_allclose, numeric_grad

integrate = pytest.importorskip("scipy.integrate")
odeint = integrate.odeint

MODES = ["source", "tape"]


# --- exponential decay: y' = -k y, y = y0 exp(-k (t - t0)) ------------------------------------
def decay(y, t, k):
    return -k * y


T = np.array([0.2, 0.7, 1.1, 1.8, 2.5])
WEIGHTS = np.array([0.5, -1.0, 2.0, 1.5, -0.3])


def decay_loss(y0, t, k):
    Y = odeint(decay, y0, t, args=(k,), rtol=1e-11, atol=1e-12)
    return np.sum(Y[:, 0] * WEIGHTS)


@pytest.mark.parametrize("mode", MODES)
def test_decay_value_and_gradients_match_the_closed_form(mode):
    y0, k = np.array([1.5]), 0.8
    e = np.exp(-k * (T - T[0]))
    value, (gy0, gt, gk) = knet.value_and_grad(decay_loss, wrt=(0, 1, 2), mode=mode)(y0, T, k)
    assert np.isclose(value, np.sum(WEIGHTS * y0[0] * e), rtol=1e-9)
    assert np.allclose(gy0, [np.sum(WEIGHTS * e)], rtol=1e-8)
    want_t = WEIGHTS * y0[0] * (-k) * e
    want_t[0] = -np.sum(want_t[1:])          # the decay is autonomous: shifting all times changes nothing
    assert np.allclose(gt, want_t, rtol=1e-7, atol=1e-10)
    assert np.isclose(gk, np.sum(WEIGHTS * y0[0] * -(T - T[0]) * e), rtol=1e-7)
    assert isinstance(gk, float) and gt.shape == T.shape and gy0.shape == y0.shape


def test_auto_mode_compiles_and_says_so():
    g = knet.grad(decay_loss, wrt=2)
    g(np.array([1.5]), T, 0.8)
    assert g.mode == "source"
    assert "odeint" in g.source


@pytest.mark.parametrize("mode", MODES)
def test_float_initial_value(mode):
    def loss(y0, k):
        return np.sum(odeint(decay, y0, T, args=(k,), rtol=1e-10, atol=1e-10))

    gy0, gk = knet.grad(loss, wrt=(0, 1), mode=mode)(1.5, 0.8)
    e = np.exp(-0.8 * (T - T[0]))
    assert isinstance(gy0, float) and np.isclose(gy0, np.sum(e), rtol=1e-7)
    assert np.isclose(gk, np.sum(1.5 * -(T - T[0]) * e), rtol=1e-6)


# --- a nonlinear 2-d system: Lotka-Volterra, parameters as floats and as an array ---------------
def lotka_volterra(y, t, alpha, rates, delta):
    prey, predator = y[0], y[1]
    return np.array([alpha * prey - rates[0] * prey * predator,
                     rates[1] * prey * predator - delta * predator])


T_LV = np.array([0.0, 0.6, 1.3, 2.0, 2.4])
W_LV = np.random.default_rng(3).standard_normal((5, 2))


def lv_loss(y0, t, alpha, rates, delta):
    Y = odeint(lotka_volterra, y0, t, args=(alpha, rates, delta), rtol=1e-10, atol=1e-10)
    return np.sum(W_LV * Y) + np.sum(Y[-1] ** 2)


LV_ARGS = (np.array([1.2, 0.8]), T_LV, 1.1, np.array([0.4, 0.3]), 0.9)


@pytest.mark.parametrize("mode", MODES)
def test_lotka_volterra_matches_finite_differences_of_odeint(mode):
    wrt = (0, 1, 2, 3, 4)
    got = knet.grad(lv_loss, wrt=wrt, mode=mode)(*LV_ARGS)
    want = numeric_grad(lv_loss, LV_ARGS, wrt=wrt, eps=1e-5)
    assert_tree_allclose(got, want, rtol=1e-5, atol=1e-7)


# --- a non-autonomous system: the adjoint of t[0] is not minus the sum of the others ----------
def forced(y, t, k, c):
    return -k * y + c * np.sin(3.0 * t) * y[::-1]


def forced_loss(y0, t, k, c):
    Y = odeint(forced, y0, t, args=(k, c), rtol=1e-10, atol=1e-10)
    return np.sum(np.cos(Y) * W_LV[:len(t)])


@pytest.mark.parametrize("mode", MODES)
def test_time_dependent_system_matches_finite_differences(mode):
    args = (np.array([0.7, -0.4]), np.array([0.3, 0.9, 1.4, 2.2]), 0.6, np.array([1.3, -0.5]))
    got = knet.grad(forced_loss, wrt=(0, 1, 2, 3), mode=mode)(*args)
    want = numeric_grad(forced_loss, args, wrt=(0, 1, 2, 3), eps=1e-5)
    assert_tree_allclose(got, want, rtol=1e-5, atol=1e-7)
    assert abs(got[1][0] + np.sum(got[1][1:])) > 1e-3     # the time shift does not hold here


@pytest.mark.parametrize("mode", MODES)
def test_positional_args_and_decreasing_times(mode):
    def loss(y0, k):
        return np.sum(odeint(decay, y0, T[::-1], (k,), rtol=1e-10, atol=1e-10) ** 2)

    args = (np.array([1.5]), 0.8)
    got = knet.grad(loss, wrt=(0, 1), mode=mode)(*args)
    assert_tree_allclose(got, numeric_grad(loss, args, wrt=(0, 1), eps=1e-5), rtol=1e-5, atol=1e-8)


# --- refusals --------------------------------------------------------------------------------
def decay_tfirst(t, y, k):
    return -k * y


def loss_tfirst(k):
    return np.sum(odeint(decay_tfirst, np.array([1.0]), T, args=(k,), tfirst=True))


def loss_full_output(k):
    out, info = odeint(decay, np.array([1.0]), T, args=(k,), full_output=True)
    return np.sum(out)


def loss_tcrit(k):
    return np.sum(odeint(decay, np.array([1.0]), T, args=(k,), tcrit=T[-1:]))


def loss_dfun(k):
    return np.sum(odeint(decay, np.array([1.0]), T, args=(k,), Dfun=jacobian_of_decay))


def jacobian_of_decay(y, t, k):
    return np.array([[-k]])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("loss, what", [(loss_tfirst, "tfirst"), (loss_full_output, "full_output"),
                                        (loss_tcrit, "tcrit"), (loss_dfun, "Dfun")])
def test_unmodelled_options_are_refused(loss, what, mode):
    with pytest.raises(knet.KnetError, match=what):
        knet.grad(loss, mode=mode)(0.8)


@pytest.mark.parametrize("mode", MODES)
def test_args_entry_holding_a_list_of_numbers_is_refused(mode):
    def rates(y, t, ks):
        return -ks[0] * y + ks[1]

    def loss(k):
        return np.sum(odeint(rates, np.array([1.0]), T, args=([k, 0.5],)))

    with pytest.raises(knet.KnetError, match=r"args\[0\] is a list holding numbers"):
        knet.grad(loss, mode=mode)(0.8)


@pytest.mark.parametrize("mode", MODES)
def test_complex_args_entry_is_refused(mode):
    def rates(y, t, k, z):
        return -k * y * np.abs(z)

    def loss(k):
        return np.sum(odeint(rates, np.array([1.0]), T, args=(k, k * (1 + 2j))))

    with pytest.raises(knet.KnetError, match=r"args\[1\] is complex"):
        knet.grad(loss, mode=mode)(0.8)


def test_func_closing_over_a_differentiated_value_is_refused():
    y0 = np.array([1.0])

    def loss(k):
        def rate(y, t):
            return -k * y
        return np.sum(odeint(rate, y0, T))

    with pytest.raises(knet.UnsupportedError, match="closes over the differentiated k"):
        knet.grad(loss, mode="source")(0.8)
    with pytest.raises(knet.KnetError, match="odeint's func uses a traced"):
        knet.grad(loss, mode="tape")(0.8)


def test_func_closing_over_a_constant_is_fine():
    scale = np.array([2.0])

    def loss(k):
        def rate(y, t, k):
            return -k * scale * y
        return np.sum(odeint(rate, np.array([1.0]), T, args=(k,), rtol=1e-10, atol=1e-10))

    for mode in MODES:
        got = knet.grad(loss, mode=mode)(0.8)
        assert np.isclose(got, numeric_grad(loss, (0.8,), eps=1e-5), rtol=1e-6)


def test_second_derivatives_and_forward_mode_are_refused_by_name():
    def loss(k):
        return np.sum(odeint(decay, np.array([1.5]), T, args=(k,)) ** 2)

    with pytest.raises(knet.KnetError, match="second derivatives and forward mode of scipy.integrate.odeint"):
        knet.grad(knet.grad(loss, mode="tape"), mode="tape")(0.8)
    with pytest.raises(knet.KnetError, match="scipy.integrate.odeint"):
        knet.hvp(loss, mode="tape")(0.8, 1.0)
    with pytest.raises(knet.KnetError, match="scipy.integrate.odeint"):
        knet.jvp(loss, (0.8,), (1.0,))


# --- in the spirit of autograd's ode_net: fit a decay rate by gradient descent -----------------
def test_fitting_a_decay_rate_reduces_the_loss():
    times = np.linspace(0.0, 3.0, 12)
    observed = 2.0 * np.exp(-1.3 * times)

    def fit_loss(k):
        Y = odeint(decay, np.array([2.0]), times, args=(k,), rtol=1e-8, atol=1e-10)
        return np.mean((Y[:, 0] - observed) ** 2)

    gradient = knet.value_and_grad(fit_loss)
    k, losses = 0.4, []
    for _ in range(8):
        value, dk = gradient(k)
        losses.append(value)
        k -= 0.5 * dk
    assert gradient.mode == "source"
    assert losses[-1] < 1e-2 * losses[0] and all(b < a for a, b in zip(losses, losses[1:]))
    assert abs(k - 1.3) < 0.05


def test_pullback_called_twice_and_float32_initial_value():
    """The three VJPs share one backward integration per adjoint g; a second pullback call with
    another g integrates again, and a gradient changed in place does not change the next one."""
    y0 = np.array([1.5], dtype=np.float32)

    def trajectory(y0, k):
        return odeint(decay, y0, T, args=(k,), rtol=1e-10, atol=1e-10)

    _, pullback = knet.vjp(trajectory, y0, 0.8, wrt=(0, 1))
    e = np.exp(-0.8 * (T - T[0]))
    for weights in (np.ones((5, 1)), WEIGHTS[:, None]):
        first = pullback(weights)
        first[0][...] *= 100.0
        gy0, gk = pullback(weights)
        assert gy0.dtype == np.float32
        assert np.allclose(gy0, [np.sum(weights[:, 0] * e)], rtol=1e-6)
        assert np.isclose(gk, np.sum(weights[:, 0] * 1.5 * -(T - T[0]) * e), rtol=1e-6)
