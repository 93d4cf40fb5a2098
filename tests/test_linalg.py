"""np.linalg beyond the OpInfo samples: symmetric inputs built by the user, the choices
rules_linalg documents, and the cases it refuses rather than guess."""
import numpy as np
import pytest

import knetc as knet
from knetc.testing import assert_tree_allclose, numeric_grad

R = np.random.default_rng(3)
B = R.standard_normal((4, 3))


def _both_modes(fun, args, wrt=0):
    want = numeric_grad(fun, args, wrt=wrt)
    for mode in ("source", "tape"):
        assert_tree_allclose(knet.grad(fun, wrt=wrt, mode=mode)(*args), want, rtol=1e-6, atol=1e-8)


def gp_like(b):
    k = b @ b.T + np.eye(4)                    # symmetric by construction
    chol = np.linalg.cholesky(k)
    w, v = np.linalg.eigh(k)
    return (np.sum(np.log(np.diagonal(chol))) + np.sum(w ** 1.5) + np.sum(v[:, -1] ** 2 * np.arange(4))
            + np.sum(np.linalg.eigvalsh(k, UPLO="U") ** 2))


def test_symmetric_matrix_built_by_the_user():
    _both_modes(gp_like, (B,))


def test_adjoint_of_a_symmetric_matrix_symmetrised_is_the_textbook_one():
    # d logdet(K) / dK = inv(K) for symmetric K; the rule gives the one-triangle form
    k = B @ B.T + np.eye(4)
    g = knet.grad(lambda a: 2 * np.sum(np.log(np.diagonal(np.linalg.cholesky(a)))), mode="tape")(k)
    assert np.allclose(np.triu(g, 1), 0)
    assert np.allclose((g + g.T) / 2, np.linalg.inv(k))


def test_eigvals_of_a_real_matrix_with_complex_eigenvalues():
    def f(a):
        return np.sum(np.abs(np.linalg.eigvals(a)) ** 2) + np.sum(np.real(np.linalg.eig(a)[0] ** 3))
    rotation = np.array([[0.3, -1.2, 0.1], [1.1, 0.2, 0.0], [0.2, 0.1, 2.0]])
    assert np.iscomplexobj(np.linalg.eigvals(rotation))
    _both_modes(f, (rotation,))


def test_norm_at_zero_has_zero_adjoint():
    def f(x):
        return np.linalg.norm(x) + np.linalg.norm(x, ord=1) + np.linalg.norm(x, ord=3)
    for mode in ("source", "tape"):
        assert np.array_equal(knet.grad(f, mode=mode)(np.zeros(3)), np.zeros(3))


def test_slogdet_sign_has_zero_derivative():
    a = np.eye(3) + 0.2 * R.standard_normal((3, 3))
    for mode in ("source", "tape"):
        g = knet.grad(lambda m: np.linalg.slogdet(m)[0] * 3.0, mode=mode)(a)
        assert np.array_equal(g, np.zeros((3, 3)))


@pytest.mark.filterwarnings("ignore:Arrays of 2-dimensional vectors:DeprecationWarning")
@pytest.mark.parametrize("mode", ["source", "tape"])
@pytest.mark.parametrize("fun, shape, message", [
    (lambda a: np.linalg.svd(a)[0], (4, 3), "full_matrices=False"),
    (lambda a: np.linalg.svd(a)[2][:, :2], (2, 4), "full_matrices=False"),
    (lambda a: np.linalg.qr(a, mode="complete")[0], (4, 3), "complete"),
    (lambda a: np.linalg.lstsq(a, np.ones(2), rcond=None)[0], (2, 4), "full column rank"),
    (lambda a: np.linalg.eig(a)[1], None, "real eigenvalues"),
    (lambda a: np.linalg.pinv(a * np.array([1.0, 1.0, 0.0])), (3, 3), "full rank"),
    (lambda a: np.linalg.pinv(a * np.array([1.0, 1.0, 0.1]), rcond=0.5), (4, 3), "full rank"),
], ids=["svd_full", "svd_full_wide", "qr_complete", "lstsq_wide", "eig_complex_vectors",
        "pinv_rank_deficient", "pinv_truncated"])
def test_unmodelled_cases_refuse(fun, shape, message, mode):
    a = np.array([[0.3, -1.2, 0.1], [1.1, 0.2, 0.0], [0.2, 0.1, 2.0]]) if shape is None \
        else np.eye(*shape) + 0.1 * R.standard_normal(shape)
    with pytest.raises(NotImplementedError, match=message):
        knet.grad(lambda x: np.sum(np.abs(fun(x))), mode=mode)(a)


def test_slogdet_sign_of_a_complex_matrix():
    """The sign of a complex determinant is det / |det|: differentiable (real and imaginary parts)."""
    c = R.standard_normal((3, 3))

    def f(a):
        sign, logdet = np.linalg.slogdet(a + 1j * c)
        return 2.0 * np.real(sign) - np.imag(sign) + 0.5 * logdet
    _both_modes(f, (np.eye(3) + 0.3 * R.standard_normal((3, 3)),))


def svd_full_matrices_through_the_determined_part(a):
    u, s, vh = np.linalg.svd(a)              # full_matrices=True by default
    w = np.linalg.svd(a.T)
    # singular vectors are defined up to sign: the loss must not depend on it
    return (np.sum(s ** 3) + np.sum(u[:, :3] ** 2 * np.arange(15.0).reshape(5, 3)) + np.sum(vh[0] ** 2 * vh[1] ** 2)
            + np.sum(w[2][:3] ** 4))


def test_svd_full_matrices_when_the_loss_uses_only_the_unique_part():
    _both_modes(svd_full_matrices_through_the_determined_part,
                (np.linalg.qr(R.standard_normal((5, 3)))[0] * np.array([3.0, 2.0, 1.0]),))


def test_einsum_of_many_operands_and_a_vector_chain():
    xs = [R.standard_normal((2, 2)) for _ in range(6)]

    def f(a, b, c, d, e, h):
        return np.einsum("ab,bc,cd,de,ef,fa->", a, b, c, d, e, h, optimize=True)
    _both_modes(f, tuple(xs), wrt=(0, 2, 5))


X = R.uniform(-2, 2, (7, 2))
Y = np.sin(X[:, 0]) + 0.1 * R.standard_normal(7)


def gp_negative_log_likelihood(params, x, y):
    """A Gaussian process's marginal likelihood (squared-exponential kernel) as a user writes it."""
    log_scale, log_length, log_noise = params[0], params[1], params[2]
    sq = np.sum((x[:, None, :] - x[None, :, :]) ** 2, axis=-1)
    k = np.exp(2 * log_scale) * np.exp(-0.5 * sq / np.exp(2 * log_length)) + np.exp(2 * log_noise) * np.eye(len(y))
    chol = np.linalg.cholesky(k)
    alpha = np.linalg.solve(k, y)
    return 0.5 * y @ alpha + np.sum(np.log(np.diagonal(chol))) + 0.5 * len(y) * np.log(2 * np.pi)


def gp_with_slogdet_and_inv(params, x, y):
    log_scale, log_length, log_noise = params[0], params[1], params[2]
    d = np.linalg.norm(x[:, None, :] - x[None, :, :] + 1e-3 * np.eye(len(y))[:, :, None], axis=-1)
    k = np.exp(2 * log_scale) * np.exp(-d / np.exp(log_length)) + np.exp(2 * log_noise) * np.eye(len(y))
    return 0.5 * y @ np.linalg.inv(k) @ y + 0.5 * np.linalg.slogdet(k)[1]


@pytest.mark.parametrize("fun", [gp_negative_log_likelihood, gp_with_slogdet_and_inv])
def test_gaussian_process_marginal_likelihood(fun):
    _both_modes(fun, (np.array([0.1, -0.2, -1.0]), X, Y))


def _first_vector_cubed(result):
    return np.sum(result[1][:, 0] ** 3)


def tuple_result_used_whole_and_indexed(a):
    r = np.linalg.eigh(a)
    q = np.linalg.qr(a)
    return _first_vector_cubed(r) + np.sum(r[0] ** 2) + _first_vector_cubed(q) + np.sum(q[0])


def _left_vector_cubed(result):
    return np.sum(result[0][:, 0] ** 3)


def tuple_result_used_whole_twice(a):
    s = np.linalg.svd(a, full_matrices=False)
    return _left_vector_cubed(s) + _left_vector_cubed(s) + np.linalg.slogdet(a)[1]


def array_result_modes(a):
    r = np.linalg.qr(a, mode="r")
    s = np.linalg.svd(a, compute_uv=False)
    return np.sum(r[0] * 2.0) + np.sum(s[1:] ** 2)


@pytest.mark.parametrize("fun", [tuple_result_used_whole_and_indexed, tuple_result_used_whole_twice,
                                 array_result_modes])
def test_tuple_results_passed_whole_accumulate_as_containers(fun):
    # the adjoint of eigh's (w, v) gets a contribution from a helper and one from r[0]
    _both_modes(fun, (B.T @ B / 10 + np.diag([1.0, 1.6, 2.3]),))


def einsum_with_a_precomputed_path(x):
    a = np.reshape(np.arange(12.0), (3, 4)) / 7
    path = np.einsum_path("ij,j->i", a, x, optimize="greedy")[0]
    return np.sum(np.einsum("ij,j->i", a, x, optimize=path) ** 2)


def test_einsum_path_is_a_constant_and_a_path_is_accepted():
    _both_modes(einsum_with_a_precomputed_path, (R.standard_normal(4),))


def _random_einsums(count, seed=1):
    """Random einsum calls: 1-3 operands, repeated labels, ellipses, size-1 broadcasting,
    implicit and explicit outputs (the calls NumPy accepts)."""
    import random
    pick, rng = random.Random(seed), np.random.default_rng(seed)
    calls = []
    while len(calls) < count:
        sizes = {c: pick.randint(1, 3) for c in "abcd"}
        ellipsis = pick.random() < 0.3
        ell_shape = tuple(pick.randint(1, 2) for _ in range(pick.randint(1, 2)))
        specs, shapes = [], []
        for _ in range(pick.randint(1, 3)):
            labels = "".join(pick.choice("abcd") for _ in range(pick.randint(0, 3)))
            shape = [sizes[c] for c in labels]
            if ellipsis and pick.random() < 0.7:
                e = ell_shape[len(ell_shape) - pick.randint(0, len(ell_shape)):]
                labels, shape = "..." + labels, [1 if pick.random() < 0.3 else n for n in e] + shape
            specs.append(labels)
            shapes.append(tuple(shape))
        subscripts = ",".join(specs)
        if pick.random() < 0.5:
            used = sorted(set(subscripts.replace(".", "")))
            subscripts += "->" + ("..." if "..." in subscripts else "") + "".join(
                pick.sample(used, pick.randint(0, len(used))))
        operands = [rng.standard_normal(s) for s in shapes]
        try:
            weights = rng.standard_normal(np.shape(np.einsum(subscripts, *operands)))
        except ValueError:
            continue
        calls.append((subscripts, operands, weights))
    return calls


@pytest.mark.parametrize("subscripts, operands, weights", _random_einsums(40),
                         ids=[c[0] for c in _random_einsums(40)])
def test_random_einsums(subscripts, operands, weights):
    loss = [lambda a: np.sum(weights * np.einsum(subscripts, a)),
            lambda a, b: np.sum(weights * np.einsum(subscripts, a, b)),
            lambda a, b, c: np.sum(weights * np.einsum(subscripts, a, b, c))][len(operands) - 1]
    wrt = tuple(range(len(operands)))
    got = knet.grad(loss, wrt=wrt, mode="tape")(*operands)
    assert_tree_allclose(got, numeric_grad(loss, operands, wrt=wrt), rtol=1e-6, atol=1e-8)
