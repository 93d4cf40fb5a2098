"""Peer-style checks of the differential operators (autograd's test_jacobian / test_wrappers,
JAX's jvp/vjp/jacfwd/jacrev/hessian tests): against finite differences and against each other,
for scalar, 0-d, float32 and structured inputs; and the regressions this suite found."""
import warnings

import numpy as np
import pytest

import knetc as knet
from knetc.testing import assert_tree_allclose, numeric_grad
from peer_checks import random_like, vdot

R = np.random.default_rng(3)
X3 = R.standard_normal(3)
X23 = R.standard_normal((2, 3))


def fd_jacobian(f, x, eps=1e-6):
    x = np.asarray(x, float)
    out = np.asarray(f(x))
    J = np.zeros(out.shape + x.shape)
    flat = J.reshape(out.shape + (-1,))
    for k in range(x.size):
        d = np.zeros(x.size)
        d[k] = eps
        d = d.reshape(x.shape)
        flat[..., k] = (np.asarray(f(x + d)) - np.asarray(f(x - d))) / (2 * eps)
    return J


def vector_fun(x):
    return np.tanh(x[:2] * x[1:]) * np.sum(x ** 2)


def matrix_fun(x):
    return np.sin(x @ x.T)


def outer_fun(v):
    return np.outer(v, v) * np.cos(v)


def scalar_fun(x):
    return np.sum(np.sin(x) * x[0]) + np.prod(x[:2]) ** 2


def gram_loss(a):
    return np.sum(np.tanh(a @ a.T))


def norm_cubed(a):
    return np.linalg.norm(a) ** 3


def structured(a):
    return {"s": np.sum(a), "t": [a * 2, np.cos(a)]}


JAC_CASES = [(vector_fun, X3), (matrix_fun, X23), (np.tanh, X23), (outer_fun, X3)]


@pytest.mark.parametrize("mode", ["fwd", "rev", "auto"])
@pytest.mark.parametrize("fun,x", JAC_CASES, ids=lambda c: getattr(c, "__name__", "x"))
def test_jacobian_against_finite_differences(fun, x, mode):
    assert_tree_allclose(knet.jacobian(fun, mode=mode)(x), fd_jacobian(fun, x), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("fun,x", JAC_CASES, ids=lambda c: getattr(c, "__name__", "x"))
def test_jacfwd_equals_jacrev(fun, x):
    assert_tree_allclose(knet.jacfwd(fun)(x), knet.jacrev(fun)(x), rtol=1e-10, atol=1e-12)


HESS_CASES = [(scalar_fun, X3), (gram_loss, X23), (norm_cubed, X3 + 2), (norm_cubed, np.array([0.0, 1.0, -2.0]))]


@pytest.mark.parametrize("fun,x", HESS_CASES, ids=["scalar_fun", "gram_loss", "norm_cubed", "norm_cubed_zero"])
def test_hessian_symmetric_and_fd_of_grad(fun, x):
    H = knet.hessian(fun)(x)
    assert_tree_allclose(H, fd_jacobian(knet.grad(fun, mode="source"), x), rtol=1e-5, atol=1e-6)
    flat = H.reshape(x.size, x.size)
    assert_tree_allclose(flat, flat.T, rtol=1e-10, atol=1e-10)
    v = R.standard_normal(x.shape)
    assert_tree_allclose(knet.hvp(fun)(x, v), np.tensordot(H, v, axes=v.ndim), rtol=1e-8, atol=1e-10)


WEIGHTS = np.arange(1.0, 7.0).reshape(2, 3)


def weighted_grad_of_gram(z):
    return np.sum(knet.grad(gram_loss)(z) * WEIGHTS)


def weighted_grad_of_norm(z):
    return np.sum(knet.grad(norm_cubed)(z) * WEIGHTS[0])


@pytest.mark.parametrize("outer,inner,x", [(weighted_grad_of_gram, gram_loss, X23),
                                           (weighted_grad_of_norm, norm_cubed, X3 + 2)],
                         ids=["gram_loss", "norm_cubed"])
def test_grad_of_grad(outer, inner, x):
    """grad of a function that calls grad (the compiler refuses it: auto mode tapes it)."""
    weights = WEIGHTS if x.ndim == 2 else WEIGHTS[0]
    expected = numeric_grad(lambda z: np.sum(knet.grad(inner, mode="source")(z) * weights), (x,))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", knet.FallbackWarning)
        assert_tree_allclose(knet.grad(outer)(x), expected, rtol=1e-5, atol=1e-6)
    assert_tree_allclose(knet.grad(outer, mode="tape")(x), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("fun,x", [(vector_fun, X3), (matrix_fun, X23), (structured, X23)],
                         ids=["vector_fun", "matrix_fun", "structured"])
def test_jvp_is_the_transpose_of_vjp(fun, x):
    t = R.standard_normal(x.shape)
    out, jt = knet.jvp(fun, (x,), (t,), mode="source")
    _, jt_tape = knet.jvp(fun, (x,), (t,), mode="tape")
    assert_tree_allclose(jt_tape, jt, rtol=1e-10, atol=1e-12)
    out2, pullback = knet.vjp(fun, x)
    assert_tree_allclose(out2, out)
    u = random_like(out)
    assert np.isclose(vdot(u, jt), vdot(pullback(u), t), rtol=1e-9)
    # the pullback is linear and can be called again, with other cotangents
    first = pullback(u)
    assert_tree_allclose(pullback(knet.tree_map(lambda o: 3.0 * o, u)), 3.0 * first, rtol=1e-10)
    assert_tree_allclose(pullback(u), first, rtol=0, atol=0)
    _, f_jvp = knet.linearize(fun, x)
    assert_tree_allclose(f_jvp(t), jt, rtol=1e-10, atol=1e-12)


ELEMENTWISE = [np.tanh, lambda z: z ** 3 + np.sin(z), lambda z: np.where(z > 0, z, 0.1 * z)]


@pytest.mark.parametrize("x", [0.3, np.array(0.4), X23, R.standard_normal(1)], ids=["float", "0d", "2x3", "1"])
@pytest.mark.parametrize("k", range(len(ELEMENTWISE)))
def test_elementwise_grad(k, x):
    fun = ELEMENTWISE[k]
    jac = fd_jacobian(fun, np.atleast_1d(x)).reshape(np.size(x), np.size(x))
    got = knet.elementwise_grad(fun)(x)
    assert np.shape(got) == np.shape(x)
    assert_tree_allclose(np.asarray(got), np.diagonal(jac).reshape(np.shape(x)), rtol=1e-5, atol=1e-7)


def test_value_and_grad():
    v, g = knet.value_and_grad(scalar_fun)(X3)
    assert np.isclose(v, scalar_fun(X3))
    assert_tree_allclose(g, numeric_grad(scalar_fun, (X3,)), rtol=1e-6)


def test_float32_stays_float32():
    x = X23.astype(np.float32)
    W = R.standard_normal((3, 4))
    for mode in ("source", "tape"):
        assert knet.grad(lambda a: np.sum(np.tanh(a) ** 2), mode=mode)(x).dtype == np.float32
        assert knet.grad(lambda a: np.sum(a * 2.5 + a ** 2), mode=mode)(x).dtype == np.float32
        assert knet.grad(lambda a: np.sum((a @ W) ** 2), mode=mode)(x).dtype == np.float32
        _, t = knet.jvp(lambda a: np.tanh(a) * 2.0, (x,), (np.ones_like(x),), mode=mode)
        assert t.dtype == np.float32
    assert knet.elementwise_grad(np.tanh)(x).dtype == np.float32
    _, pullback = knet.vjp(np.tanh, x)
    assert pullback(np.ones_like(x)).dtype == np.float32


@pytest.mark.parametrize("x", [0.7, np.array(0.7), np.float64(0.7)], ids=["float", "0d", "float64"])
def test_python_scalar_and_0d_arguments(x):
    def f(a):
        return a ** 3 + np.sin(a)

    want = 3 * 0.49 + np.cos(0.7)
    for mode in ("source", "tape"):
        g = knet.grad(f, mode=mode)(x)
        assert np.isclose(g, want) and np.shape(g) == np.shape(x)
        _, t = knet.jvp(f, (x,), (1.0,), mode=mode)        # a float tangent, also for a 0-d array
        assert np.isclose(t, want)
    assert np.isclose(knet.hessian(f)(x), 6 * 0.7 - np.sin(0.7))
    assert np.isclose(knet.hvp(f)(x, 2.0), 2 * (6 * 0.7 - np.sin(0.7)))
    assert np.isclose(knet.jacobian(f)(x), want)
    assert np.isclose(knet.elementwise_grad(f)(x), want)
    assert np.isclose(knet.vjp(f, x)[1](1.0), want)


def test_float_tangent_of_0d_array_reaches_array_methods():
    def f(a):
        return a.T * 2.0 + a.sum()

    x = np.array(0.6)
    for mode in ("source", "tape"):
        value, t = knet.jvp(f, (x,), (1.0,), mode=mode)
        assert np.isclose(value, 1.8) and np.isclose(t, 3.0)


def test_integer_arrays_in_arithmetic_with_parameters():
    k = np.arange(6).reshape(2, 3)

    def f(a, k):
        return np.sum(a * k + k ** 2 * a ** 2 - k // 2 * a)

    for mode in ("source", "tape"):
        assert_tree_allclose(knet.grad(f, mode=mode)(X23, k), k + 2 * k ** 2 * X23 - k // 2)
    with pytest.raises(knet.KnetError):
        knet.grad(f, wrt=1)(X23, k)


def test_has_aux():
    out, pullback, aux = knet.vjp(lambda a: (a ** 2, "aux"), X3, has_aux=True)
    assert aux == "aux"
    assert_tree_allclose(pullback(np.ones(3)), 2 * X3)
    J, aux = knet.jacobian(lambda a: (a ** 2, 5), has_aux=True)(X3)
    assert aux == 5
    assert_tree_allclose(J, np.diag(2 * X3))
    _, t, aux = knet.jvp(lambda a: (a ** 2, 5), (X3,), (np.ones(3),), has_aux=True)
    assert_tree_allclose(t, 2 * X3)


@pytest.mark.parametrize("mode", ["fwd", "rev"])
def test_jacobian_of_several_arguments(mode):
    b = R.standard_normal(2)
    Ja, Jb = knet.jacobian(lambda a, b: a * np.sum(b ** 2), wrt=(0, 1), mode=mode)(X3, b)
    assert_tree_allclose(Ja, np.eye(3) * np.sum(b ** 2))
    assert_tree_allclose(Jb, np.outer(X3, 2 * b))


def test_jacobian_of_structures():
    def f(p):
        return {"y": p["w"] @ p["x"], "z": p["w"].sum()}

    p = {"w": R.standard_normal((2, 3)), "x": R.standard_normal(3)}
    Jf, Jr = knet.jacfwd(f)(p), knet.jacrev(f)(p)
    assert_tree_allclose(Jf, Jr)
    assert Jf["y"]["w"].shape == (2, 2, 3) and Jf["z"]["x"].shape == (3,)
    assert_tree_allclose(Jf["y"]["x"], p["w"])


def test_hessian_wrt_second_argument():
    H = knet.hessian(lambda a, b: np.sum(a * b ** 3), wrt=1)(X3, X3 + 1)
    assert_tree_allclose(H, np.diag(6 * X3 * (X3 + 1)))


def test_jacobian_of_scalar_output_and_scalar_input():
    assert_tree_allclose(knet.jacobian(lambda a: np.sum(a ** 2))(X3), 2 * X3)
    assert_tree_allclose(knet.jacobian(lambda s: np.array([s, s ** 2]))(0.5), np.array([1.0, 1.0]))


# --- regressions found by this suite ------------------------------------------------------------
def r_concat(x):
    return np.sum(np.r_[x[0], x[1] ** 2] * np.arange(6.0))


def c_concat(x):
    return np.sum(np.c_[x[0], x[1] ** 2] * np.arange(2.0))


@pytest.mark.parametrize("fun", [r_concat, c_concat], ids=["r_", "c_"])
@pytest.mark.parametrize("mode", ["source", "tape", "auto"])
def test_index_concatenators_of_differentiated_values_in_forward_mode(fun, mode):
    """np.r_[x, y] of differentiated values: its tangent was a silent 0 (now a rule in both modes)."""
    t = np.random.default_rng(5).standard_normal(X23.shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", knet.FallbackWarning)
        value, tangent = knet.jvp(fun, (X23,), (t,), mode=mode)
    eps = 1e-6
    expected = (fun(X23 + eps * t) - fun(X23 - eps * t)) / (2 * eps)
    assert abs(tangent - expected) < 1e-6 * max(1.0, abs(expected))


def test_index_concatenator_of_constants_still_compiles_in_forward_mode():
    def f(x):
        return np.sum(x * np.r_[1.0, 2.0, 3.0])

    _, t = knet.jvp(f, (X3,), (np.ones(3),), mode="source")
    assert np.isclose(t, 6.0)


def test_second_derivative_of_norm_at_a_zero_component():
    """The VJP used sign(x) * |x|, whose derivative is 0 where x is 0: H[0, 0] was 0, not 1/|x|."""
    x = np.array([0.0, 3.0, 4.0])
    expected = (np.eye(3) - np.outer(x, x) / 25.0) / 5.0
    for fun in (np.linalg.norm, lambda a: np.linalg.norm(a, ord="fro" if a.ndim == 2 else None)):
        assert_tree_allclose(knet.hessian(fun)(x), expected, rtol=1e-10, atol=1e-12)
    m = np.array([[0.0, 3.0], [4.0, 0.0]])
    H = knet.hessian(lambda a: np.linalg.norm(a, ord="fro"))(m).reshape(4, 4)
    flat = m.reshape(-1)
    assert_tree_allclose(H, (np.eye(4) - np.outer(flat, flat) / 25.0) / 5.0, rtol=1e-10, atol=1e-12)


def test_interp_with_lists():
    def f(fp):
        return np.sum(np.interp([0.5, 1.5, 2.5], [0.0, 1.0, 2.0], fp) ** 2)

    def g(x):
        return np.sum(np.interp(x, [0.0, 1.0, 2.0], [1.0, 3.0, 2.0]))

    fp = np.array([0.3, -0.2, 0.9])
    xs = np.array([0.25, 1.5])
    for mode in ("source", "tape"):
        assert_tree_allclose(knet.grad(f, mode=mode)(fp), numeric_grad(f, (fp,)), rtol=1e-6)
        assert_tree_allclose(knet.grad(g, mode=mode)(xs), np.array([2.0, -1.0]), rtol=1e-6)


# --- forward mode and Jacobians of whole programs (compiled where the compiler models them) ------
SQ = R.standard_normal((3, 3)) + 3 * np.eye(3)


def layer(a, b=2.0):
    return np.tanh(a * b)


def eigh_program(x):
    w, v = np.linalg.eigh(x + x.T)
    return np.sum(w * np.arange(3.0)) + np.sum(v[:, 0] ** 2 * np.arange(3.0))


def qr_program(x):
    q, r = np.linalg.qr(x)
    return np.sum(q ** 2 * np.arange(3.0)) + np.sum(np.diag(r))


def slogdet_program(x):
    s, logdet = np.linalg.slogdet(x)
    return s * logdet


def split_loop(x):
    out = 0.0
    for p in np.split(x, 3, axis=0):
        out = out + np.sum(p ** 2)
    return out


def helper_loop(x):
    h = x
    for i in range(3):
        h = layer(h, b=0.5 * (i + 1)) @ x
    return np.sum(h)


def dict_and_list(x):
    d = {"a": x, "b": x.T}
    acc = []
    for k in ["a", "b"]:
        acc.append(np.sum(d[k] * np.arange(3.0)))
    return acc[0] * acc[1]


def svd_program(x):
    u, s, vt = np.linalg.svd(x)
    return np.sum(s ** 2) + np.sum(u[:, 0] * vt[0]) ** 2


def while_data(x):
    k = 0
    t = 0.0
    while t < 5.0 and k < 10:
        t = t + np.sum(x ** 2) * 0.1
        k += 1
    return t * np.sum(x)


def running_max(x):
    out = x[0]
    for row in x[1:]:
        out = np.maximum(out, row) * 1.5
    return np.sum(out)


PROGRAMS = [eigh_program, qr_program, slogdet_program, split_loop, helper_loop, dict_and_list, svd_program,
            while_data, running_max]


@pytest.mark.parametrize("fun", PROGRAMS, ids=lambda f: f.__name__)
def test_programs_forward_reverse_and_jacfwd(fun):
    expected = numeric_grad(fun, (SQ,))
    t = R.standard_normal(SQ.shape)
    for mode in ("source", "tape"):
        assert_tree_allclose(knet.grad(fun, mode=mode)(SQ), expected, rtol=1e-5, atol=1e-6)
        _, tangent = knet.jvp(fun, (SQ,), (t,), mode=mode)
        assert np.isclose(tangent, np.sum(expected * t), rtol=1e-5, atol=1e-7)
    assert_tree_allclose(knet.jacfwd(fun)(SQ), expected, rtol=1e-5, atol=1e-6)
    assert_tree_allclose(knet.jacrev(fun)(SQ), expected, rtol=1e-5, atol=1e-6)


@knet.checkpoint
def checkpointed_step(h, w):
    return np.tanh(w @ h)


def checkpointed_loop(w, h):
    for _ in range(4):
        h = checkpointed_step(h, w)
    return np.sum(h ** 2)


def test_checkpoint_every_operator():
    w, h = R.standard_normal((3, 3)), R.standard_normal(3)
    for wrt in (0, 1):
        expected = numeric_grad(checkpointed_loop, (w, h), wrt)
        for mode in ("source", "tape"):
            assert_tree_allclose(knet.grad(checkpointed_loop, wrt=wrt, mode=mode)(w, h), expected,
                                 rtol=1e-5, atol=1e-7)
    t = R.standard_normal(w.shape)
    for mode in ("source", "tape"):
        _, tangent = knet.jvp(checkpointed_loop, (w, h), (t, None), mode=mode)
        assert np.isclose(tangent, np.sum(numeric_grad(checkpointed_loop, (w, h)) * t), rtol=1e-5)
    H = knet.hessian(checkpointed_loop, wrt=1)(w, h)
    assert_tree_allclose(H, fd_jacobian(lambda z: knet.grad(checkpointed_loop, wrt=1)(w, z), h),
                         rtol=1e-5, atol=1e-6)
