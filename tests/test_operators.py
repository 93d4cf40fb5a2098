"""vjp, jvp, linearize, jacobians, Hessians, elementwise_grad and checkpoint, against finite
differences and against each other (float64)."""
import tracemalloc

import numpy as np
import pytest

import knetc as knet
from knetc.testing import assert_tree_allclose, numeric_grad

R = np.random.default_rng(7)
X = np.array([0.3, -0.7, 1.2])


def helper(w, x):
    return np.tanh(w * x) + x ** 2


def straight(x):
    return np.sin(x) * np.sum(x ** 2) + helper(0.5, x)


def looped(x):
    h = x
    for k in range(3):
        h = np.tanh(h * (k + 1.0)) + x
    return h


def branched(x):
    if np.sum(x) > 0:
        return x ** 3
    return np.exp(x)


def containers(p):
    a = p["a"] @ p["b"]
    return [a, np.sum(p["a"] ** 2) * p["c"]]


P = {"a": R.standard_normal((2, 3)), "b": R.standard_normal(3), "c": 0.7}
FUNCTIONS = [(straight, (X,)), (looped, (X,)), (branched, (X,)), (branched, (-X - 1,)),
             (containers, (P,))]


def _flat(tree):
    return np.concatenate([np.ravel(np.asarray(leaf, dtype=float)) for leaf in knet.tree_flatten(tree)[0]])


def _random_like(tree):
    return knet.tree_map(lambda leaf: R.standard_normal(np.shape(leaf)) if np.ndim(leaf) else
                         float(R.standard_normal()), tree)


def _numeric_jvp(fun, x, t, eps=1e-6):
    plus = fun(knet.tree_map(lambda a, b: a + eps * b, x, t))
    minus = fun(knet.tree_map(lambda a, b: a - eps * b, x, t))
    return knet.tree_map(lambda p, m: (p - m) / (2 * eps), plus, minus)


@pytest.mark.parametrize("fun, args", FUNCTIONS, ids=lambda v: getattr(v, "__name__", ""))
def test_jvp_against_finite_differences(fun, args):
    t = _random_like(args[0])
    value, tangent = knet.jvp(fun, args, (t,))
    assert_tree_allclose(_as_lists(value), _as_lists(fun(*args)), rtol=1e-12)
    assert_tree_allclose(_as_lists(tangent), _as_lists(_numeric_jvp(fun, args[0], t)), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("fun, args", FUNCTIONS, ids=lambda v: getattr(v, "__name__", ""))
def test_jvp_is_the_transpose_of_vjp(fun, args):
    t = _random_like(args[0])
    value, tangent = knet.jvp(fun, args, (t,))
    u = _random_like(value)
    _, pullback = knet.vjp(fun, *args)
    lhs = float(_flat(tangent) @ _flat(u))
    rhs = float(_flat(t) @ _flat(pullback(u)))
    assert abs(lhs - rhs) < 1e-10 * max(1.0, abs(lhs))


def test_vjp_pullback_called_many_times_gives_each_cotangent_its_adjoint():
    _, pullback = knet.vjp(looped, X)
    for _ in range(3):
        u = R.standard_normal(3)
        expected = numeric_grad(lambda x: np.sum(u * looped(x)), (X,))
        assert_tree_allclose(pullback(u), expected, rtol=1e-6, atol=1e-9)


def test_vjp_of_scalar_and_container_outputs_and_tuple_wrt():
    value, pullback = knet.vjp(lambda a, b: np.sum(a * b), X, 2 * X, wrt=(0, 1))
    da, db = pullback(1.5)
    assert_tree_allclose((da, db), (3.0 * X, 1.5 * X), rtol=1e-12)
    value, pullback = knet.vjp(containers, P)
    u = [R.standard_normal(2), 0.3]
    expected = numeric_grad(lambda p: np.sum(u[0] * containers(p)[0]) + u[1] * containers(p)[1], (P,))
    assert_tree_allclose(pullback(u), expected, rtol=1e-6, atol=1e-9)


def test_has_aux_returns_aux_untouched():
    def with_aux(x):
        return np.sum(x ** 2), {"norm": np.sqrt(np.sum(x * x)), "n": 3}

    value, pullback, aux = knet.vjp(with_aux, X, has_aux=True)
    assert aux["n"] == 3 and type(aux["norm"]) is not knet.runtime.box.Box and abs(aux["norm"] - np.linalg.norm(X)) < 1e-12
    assert_tree_allclose(pullback(1.0), 2 * X, rtol=1e-12)
    value, tangent, aux = knet.jvp(with_aux, (X,), (np.ones(3),), has_aux=True)
    assert abs(tangent - 2 * np.sum(X)) < 1e-12 and aux["n"] == 3
    jac, aux = knet.jacobian(lambda x: (x ** 2, "tag"), has_aux=True)(X)
    assert aux == "tag"
    assert_tree_allclose(jac, np.diag(2 * X), rtol=1e-12)


def test_linearize_reuses_one_recording():
    value, f_jvp = knet.linearize(looped, X)
    for _ in range(2):
        t = R.standard_normal(3)
        assert_tree_allclose(f_jvp(t), _numeric_jvp(looped, X, t), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("fun, args", FUNCTIONS, ids=lambda v: getattr(v, "__name__", ""))
def test_jacfwd_equals_jacrev_equals_finite_differences(fun, args):
    forward = knet.jacfwd(fun)(*args)
    reverse = knet.jacrev(fun)(*args)
    assert_tree_allclose(_as_lists(forward), _as_lists(reverse), rtol=1e-10, atol=1e-12)
    out_leaves, out_spec = knet.tree_flatten(fun(*args))
    blocks = knet.tree_flatten(reverse)[0]
    in_leaves = knet.tree_flatten(args[0])[0]
    k = 0
    for j, out_leaf in enumerate(out_leaves):
        for flat in range(int(np.size(out_leaf))):
            def element(x, j=j, flat=flat):
                return float(np.ravel(knet.tree_flatten(fun(x))[0][j])[flat])
            expected = knet.tree_flatten(numeric_grad(element, (args[0],)))[0]
            for i, in_leaf in enumerate(in_leaves):
                block = blocks[j * len(in_leaves) + i]
                assert block.shape == np.shape(out_leaf) + np.shape(in_leaf)
                row = block.reshape(int(np.size(out_leaf)), -1)[flat]
                np.testing.assert_allclose(row, np.ravel(expected[i]), rtol=1e-6, atol=1e-8)
                k += 1
    assert k > 0


def test_jacobian_shapes_follow_jax():
    A = R.standard_normal((4, 3))
    jac = knet.jacobian(lambda x: A @ x)(X)
    np.testing.assert_allclose(jac, A, rtol=1e-12)
    jac = knet.jacobian(lambda m: m * 2.0)(np.ones((2, 3)))
    assert jac.shape == (2, 3, 2, 3) and np.allclose(jac.reshape(6, 6), 2 * np.eye(6))
    ja, jb = knet.jacobian(lambda a, b: a * b, wrt=(0, 1))(X, 2 * X)
    np.testing.assert_allclose(ja, np.diag(2 * X)) and np.testing.assert_allclose(jb, np.diag(X))
    assert np.shape(knet.jacobian(lambda x: np.sum(x ** 2))(X)) == (3,)


def test_jacobian_of_100_to_100_both_modes():
    W = R.standard_normal((100, 100)) / 10
    f = lambda x: np.tanh(W @ x)       # noqa: E731
    x = R.standard_normal(100)
    expected = (1 - np.tanh(W @ x) ** 2)[:, None] * W
    np.testing.assert_allclose(knet.jacfwd(f)(x), expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(knet.jacrev(f)(x), expected, rtol=1e-10, atol=1e-12)


def test_hessian_against_finite_differences_of_grad():
    def f(x):
        return np.sum(np.sin(x) * x[0]) + np.sum(x ** 3) * np.cos(x[1])

    H = knet.hessian(f)(X)
    gradient = knet.grad(f)
    expected = np.stack([numeric_grad(lambda x: gradient(x)[k], (X,)) for k in range(3)])
    np.testing.assert_allclose(H, expected, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(H, H.T, rtol=1e-12)


def test_hessian_of_a_structure_pairs_leaves():
    p = {"a": X, "b": 0.5}
    H = knet.hessian(lambda p: np.sum(p["a"] ** 2) * p["b"] ** 2)(p)
    np.testing.assert_allclose(H["a"]["a"], 2 * 0.25 * np.eye(3), rtol=1e-12)
    np.testing.assert_allclose(H["a"]["b"], 4 * 0.5 * X, rtol=1e-12)
    assert abs(H["b"]["b"] - 2 * np.sum(X ** 2)) < 1e-12


def test_hvp_matches_hessian():
    def f(x):
        return np.sum(np.exp(x) * x[2])

    v = R.standard_normal(3)
    np.testing.assert_allclose(knet.hvp(f)(X, v), knet.hessian(f)(X) @ v, rtol=1e-12)


def test_elementwise_grad():
    np.testing.assert_allclose(knet.elementwise_grad(np.tanh)(X), 1 - np.tanh(X) ** 2, rtol=1e-12)
    np.testing.assert_allclose(knet.elementwise_grad(lambda x: x ** 3)(np.ones((2, 2))), 3 * np.ones((2, 2)))


def test_operators_refuse_integers_and_bad_wrt():
    with pytest.raises(knet.GradientInputError, match="int"):
        knet.jvp(lambda x: x * 2, (np.arange(3),), (np.ones(3),))
    with pytest.raises(knet.GradientInputError, match="out of range"):
        knet.vjp(lambda x: x, X, wrt=3)
    with pytest.raises(knet.GradientInputError, match="structure"):
        knet.jvp(lambda x: x, ([X, X],), ([X],))
    with pytest.raises(knet.GradientInputError, match="pair"):
        knet.vjp(lambda x: x, X, has_aux=True)


# --- checkpointing -----------------------------------------------------------------------
@knet.checkpoint
def heavy_step(h, w):
    # many intermediates of h's size per step; only h and the result are kept
    for k in range(8):
        h = np.tanh(h * w + 0.1 * k)
    return h


def plain_step(h, w):
    for k in range(8):
        h = np.tanh(h * w + 0.1 * k)
    return h


def run_checkpointed(w, h, steps):
    for _ in range(steps):
        h = heavy_step(h, w)
    return np.sum(h)


def run_plain(w, h, steps):
    for _ in range(steps):
        h = plain_step(h, w)
    return np.sum(h)


@pytest.mark.parametrize("mode", ["source", "tape"])
def test_checkpoint_keeps_the_gradient(mode):
    w, h = 0.9, R.standard_normal(5)
    g = knet.grad(run_checkpointed, wrt=(0, 1), mode=mode)
    got = g(w, h, 4)
    assert g.mode == mode
    expected = knet.grad(run_plain, wrt=(0, 1), mode=mode)(w, h, 4)
    assert_tree_allclose(got, expected, rtol=1e-12)
    assert_tree_allclose(got, numeric_grad(run_plain, (w, h, 4), wrt=(0, 1)), rtol=1e-6, atol=1e-9)


def _peak(fun, *args):
    tracemalloc.start()
    tracemalloc.reset_peak()
    fun(*args)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


@pytest.mark.parametrize("mode", ["source", "tape"])
def test_checkpoint_memory_grows_with_steps_not_with_intermediates(mode):
    w, h = 0.9, R.standard_normal(20_000)       # 160 kB per value
    state = h.nbytes
    checkpointed = knet.grad(run_checkpointed, wrt=0, mode=mode)
    plain = knet.grad(run_plain, wrt=0, mode=mode)
    checkpointed(w, h, 2), plain(w, h, 2)       # compile outside the measurement
    c10, c20 = _peak(checkpointed, w, h, 10), _peak(checkpointed, w, h, 20)
    p10, p20 = _peak(plain, w, h, 10), _peak(plain, w, h, 20)
    per_step_checkpointed = (c20 - c10) / 10
    per_step_plain = (p20 - p10) / 10
    assert per_step_checkpointed > 0.5 * state             # the step's input and output are kept
    assert per_step_checkpointed < 3.5 * state             # ... but not its 8 intermediates
    assert per_step_plain > 6 * state                      # without checkpointing they are
    assert c20 < 0.5 * p20


def _as_lists(x):
    if isinstance(x, dict):
        return {k: _as_lists(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_as_lists(v) for v in x]
    return x
