"""Whole model programs of the kinds people differentiate with autograd, written for knetc.

Each is a small program of its own in the spirit of HIPS autograd's examples
(Gaussian process, VAE, black-box variational inference for a Bayesian neural
net, ICA, Gaussian mixture, HMM, fluid simulation, neural-net regression). Its
gradient is checked against central finite differences in float64, compiled
(``mode="auto"``, which must compile: ``g.mode == "source"``) and on the tape.
Programs that need rules of other areas say which; they run once those rules
are in the table.
"""
import numpy as np
import pytest

import knetc as knet
from knetc.runtime.rules import rule_for
from knetc.testing import assert_tree_allclose, numeric_grad

scipy = pytest.importorskip("scipy")
import scipy.linalg  # noqa: E402
import scipy.special  # noqa: E402
from scipy import stats  # noqa: E402
from scipy.special import logsumexp  # noqa: E402
from scipy.stats import norm  # noqa: E402


def needs(*funs):
    """Skip until every function of ``funs`` has a rule (rules of another area)."""
    missing = [getattr(f, "__name__", str(f)) for f in funs if rule_for(f) is None]
    return pytest.mark.skipif(bool(missing), reason=f"needs rules for {missing}")


def check(fun, args, wrt=0, compiled=True, rtol=1e-6, atol=1e-8):
    """The gradient in auto mode (compiled where ``compiled``) and on the tape, against finite differences."""
    want = numeric_grad(fun, args, wrt=wrt)
    g = knet.grad(fun, wrt=wrt)
    if compiled:
        assert_tree_allclose(g(*args), want, rtol=rtol, atol=atol)
        assert g.mode == "source", f"{fun.__name__} did not compile"
    else:
        with pytest.warns(knet.FallbackWarning):
            assert_tree_allclose(g(*args), want, rtol=rtol, atol=atol)
        assert g.mode == "tape"
    assert_tree_allclose(knet.grad(fun, wrt=wrt, mode="tape")(*args), want, rtol=rtol, atol=atol)


def rng(seed):
    return np.random.default_rng(seed)


# --- Gaussian process: marginal likelihood in the kernel's hyper-parameters -----------------------
def gp_kernel(params, x):
    log_length, log_signal = params[0], params[1]
    d = (x[:, None] - x[None, :]) / np.exp(log_length)
    return np.exp(2 * log_signal) * np.exp(-0.5 * d * d)


def gp_negative_log_marginal(params, x, y):
    K = gp_kernel(params, x) + (np.exp(2 * params[2]) + 1e-6) * np.eye(len(x))
    L = scipy.linalg.cholesky(K, lower=True)
    alpha = scipy.linalg.cho_solve((L, True), y)
    return 0.5 * y @ alpha + np.sum(np.log(np.diagonal(L))) + 0.5 * len(x) * np.log(2 * np.pi)


def test_gaussian_process_marginal_likelihood():
    x = np.linspace(-2, 2, 8)
    y = np.sin(2 * x) + 0.1 * rng(0).standard_normal(8)
    check(gp_negative_log_marginal, (np.array([-0.3, 0.2, -1.5]), x, y))


def gp_with_numpy_linalg(params, x, y):
    K = gp_kernel(params, x) + np.exp(2 * params[2]) * np.eye(len(x))
    sign, logdet = np.linalg.slogdet(K)
    return 0.5 * y @ np.linalg.solve(K, y) + 0.5 * logdet


@needs(np.linalg.solve, np.linalg.slogdet)    # rules-linalg
def test_gaussian_process_with_numpy_linalg():
    x = np.linspace(-2, 2, 7)
    check(gp_with_numpy_linalg, (np.array([-0.2, 0.1, -1.0]), x, np.cos(x)))


# --- variational autoencoder: reparameterised ELBO with fixed noise --------------------------------
def vae_negative_elbo(w, x, eps):
    h = np.tanh(x @ w["enc"] + w["enc_b"])
    mu, log_var = h @ w["mu"], h @ w["log_var"]
    z = mu + np.exp(0.5 * log_var) * eps                     # the reparameterisation trick
    logits = np.tanh(z @ w["dec_h"]) @ w["dec"]
    log_likelihood = np.sum(x * scipy.special.log_expit(logits) + (1 - x) * scipy.special.log_expit(-logits))
    kl = 0.5 * np.sum(np.exp(log_var) + mu * mu - 1 - log_var)
    return (kl - log_likelihood) / x.shape[0]


def test_variational_autoencoder():
    r = rng(1)
    D, H, Z, N = 6, 5, 2, 4
    w = {"enc": 0.5 * r.standard_normal((D, H)), "enc_b": 0.1 * r.standard_normal(H),
         "mu": 0.5 * r.standard_normal((H, Z)), "log_var": 0.5 * r.standard_normal((H, Z)),
         "dec_h": 0.5 * r.standard_normal((Z, H)), "dec": 0.5 * r.standard_normal((H, D))}
    x = (r.uniform(size=(N, D)) > 0.5).astype(float)
    check(vae_negative_elbo, (w, x, r.standard_normal((N, Z))))


# --- Bayesian neural net by black-box stochastic variational inference -----------------------------
def bnn_predict(weights, x):
    w1 = weights[:6].reshape(1, 6)
    b1, w2, b2 = weights[6:12], weights[12:18], weights[18]
    return np.tanh(x[:, None] @ w1 + b1) @ w2 + b2


def bnn_negative_elbo(variational, x, y, eps):
    mean, log_std = variational[0], variational[1]
    total = 0.0
    for s in range(eps.shape[0]):
        weights = mean + np.exp(log_std) * eps[s]
        log_prior = np.sum(norm.logpdf(weights, 0.0, 1.0))
        log_likelihood = np.sum(stats.norm.logpdf(y, loc=bnn_predict(weights, x), scale=0.1))
        total = total + log_prior + log_likelihood
    entropy = np.sum(log_std) + 0.5 * len(log_std) * (1 + np.log(2 * np.pi))
    return -(total / eps.shape[0] + entropy)


def test_bayesian_neural_net_black_box_svi():
    r = rng(2)
    x = np.linspace(-1, 1, 6)
    y = np.cos(3 * x) + 0.05 * r.standard_normal(6)
    variational = [0.3 * r.standard_normal(19), -1.0 + 0.1 * r.standard_normal(19)]
    check(bnn_negative_elbo, (variational, x, y, r.standard_normal((3, 19))), rtol=1e-5)


# --- independent component analysis: log-likelihood of an unmixing matrix ---------------------------
def ica_log_likelihood(W, x):
    sources = x @ W.T
    sign, logdet = np.linalg.slogdet(W)
    return np.sum(stats.logistic.logpdf(sources)) + x.shape[0] * logdet


@needs(np.linalg.slogdet)                     # rules-linalg
def test_ica_log_likelihood():
    r = rng(3)
    check(ica_log_likelihood, (np.eye(3) + 0.3 * r.standard_normal((3, 3)), r.standard_normal((10, 3))))


def ica_log_likelihood_triangular(params, x):
    # the same model with a triangular unmixing matrix: log|det W| from its diagonal
    W = np.where(np.tri(3, dtype=bool), params, 0.0) + 2.0 * np.eye(3)
    return np.sum(stats.logistic.logpdf(x @ W.T)) + x.shape[0] * np.sum(np.log(np.abs(np.diagonal(W))))


def test_ica_log_likelihood_triangular():
    r = rng(3)
    check(ica_log_likelihood_triangular, (0.3 * r.standard_normal((3, 3)), r.standard_normal((10, 3))))


# --- Gaussian mixture: log-likelihood with logsumexp over components --------------------------------
def gmm_log_likelihood(params, x):
    log_weights = scipy.special.log_softmax(params["logits"])
    means, log_scales = params["means"], params["log_scales"]
    per_component = []
    for k in range(len(log_weights)):
        per_component.append(log_weights[k] + np.sum(norm.logpdf(x, means[k], np.exp(log_scales[k])), axis=1))
    return np.sum(logsumexp(np.stack(per_component, axis=1), axis=1))


def test_gaussian_mixture_log_likelihood():
    r = rng(4)
    params = {"logits": r.standard_normal(3), "means": r.standard_normal((3, 2)),
              "log_scales": 0.2 * r.standard_normal((3, 2))}
    check(gmm_log_likelihood, (params, r.standard_normal((12, 2))))


# --- hidden Markov model: the forward algorithm, logsumexp in a loop ---------------------------------
def hmm_log_likelihood(params, observations):
    log_start = scipy.special.log_softmax(params["start"])
    log_transition = scipy.special.log_softmax(params["transition"], axis=1)
    log_emission = scipy.special.log_softmax(params["emission"], axis=1)
    alpha = log_start + log_emission[:, observations[0]]
    for t in range(1, len(observations)):
        alpha = logsumexp(alpha[:, None] + log_transition, axis=0) + log_emission[:, observations[t]]
    return logsumexp(alpha)


def test_hmm_forward_algorithm():
    r = rng(5)
    params = {"start": r.standard_normal(3), "transition": r.standard_normal((3, 3)),
              "emission": r.standard_normal((3, 4))}
    check(hmm_log_likelihood, (params, [0, 2, 1, 3, 3, 0, 1]))


# --- fluid simulation: advection and diffusion on a periodic grid, a loop of stencils -----------------
def shift(u, k):
    """``u`` moved by ``k`` cells along axis 0 on a periodic grid (what np.roll(u, k, 0) does)."""
    return np.concatenate([u[-k:], u[:-k]], axis=0)


def simulate(u, velocity, steps, dt=0.05, nu=0.1):
    for _ in range(steps):
        laplacian = shift(u, 1) + shift(u, -1) - 2 * u
        upwind = u - shift(u, 1)
        u = u + dt * (nu * laplacian - velocity * upwind)
    return u


def fluid_loss(u0, velocity, target):
    return np.sum((simulate(u0, velocity, 12) - target) ** 2)


def test_fluid_simulation():
    r = rng(6)
    x = np.linspace(0, 2 * np.pi, 16, endpoint=False)
    target = np.sin(x - 0.5)
    check(fluid_loss, (np.sin(x) + 0.1 * r.standard_normal(16), 0.8, target), wrt=(0, 1))


def fluid_loss_2d(u0, target):
    u = u0
    for _ in range(8):
        neighbours = (np.roll(u, 1, axis=0) + np.roll(u, -1, axis=0) + np.roll(u, 1, axis=1)
                      + np.roll(u, -1, axis=1))
        u = u + 0.1 * (neighbours - 4 * u) - 0.2 * np.diff(u, axis=0, append=u[:1])
    return np.sum((u - target) ** 2)


@needs(np.roll, np.diff)                      # rules-numpy
def test_fluid_simulation_2d_with_roll_and_diff():
    r = rng(7)
    check(fluid_loss_2d, (r.standard_normal((6, 6)), r.standard_normal((6, 6))))


# --- neural-net regression -------------------------------------------------------------------------------
def mlp(w, x):
    for i in range(0, len(w) - 2, 2):
        x = np.tanh(x @ w[i] + w[i + 1])
    return x @ w[-2] + w[-1]


def regression_loss(w, x, y):
    residual = mlp(w, x) - y
    return np.mean(residual ** 2) + 1e-3 * sum(np.sum(wi * wi) for wi in w[::2])


def regression_loss_compiled(w, x, y):
    residual = mlp(w, x) - y
    penalty = 0.0
    for i in range(0, len(w), 2):
        penalty = penalty + np.sum(w[i] * w[i])
    return np.mean(residual ** 2) + 1e-3 * penalty


def test_neural_net_regression():
    r = rng(8)
    sizes = [1, 6, 6, 1]
    w = []
    for m, n in zip(sizes[:-1], sizes[1:]):
        w += [0.7 * r.standard_normal((m, n)), 0.1 * r.standard_normal(n)]
    x = np.linspace(-2, 2, 10)[:, None]
    y = np.sin(x) * x
    check(regression_loss_compiled, (w, x, y))
    check(regression_loss, (w, x, y), compiled=False)    # a generator expression: the tape
