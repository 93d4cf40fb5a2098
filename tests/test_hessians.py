"""hvp and hessian: reverse mode over the compiled tangent program, against finite differences
of knet.grad (float64), compiled and on the tape, for the program shapes users write."""
import warnings

import numpy as np
import pytest

import knetc as knet
from knetc.runtime import jvp_rules, tree
from knetc.runtime.tree import tree_flatten, tree_unflatten
from knetc.testing import assert_tree_allclose, check_vjp
from knetc.transform import forward_calls

RNG = np.random.default_rng(7)
C = np.array([1.0, -2.0, 0.5, 3.0])


def rnd(*shape):
    return RNG.normal(size=shape)


# --- the programs --------------------------------------------------------------------------
def straight(x):
    return np.sum(np.sin(x) * x ** 3) + np.sum(np.exp(x) * C)


def loop(x):
    h = x
    for _ in range(3):
        h = np.cos(h) * h + 0.1 * h ** 2
    return np.sum(h)


def while_loop(x):
    s, k = 0.0, 0
    while k < 3:
        s = s + np.sum(np.sin(x * (k + 1)))
        k += 1
    return s


def branch(x):
    if np.sum(x) > 0:
        return np.sum(np.exp(x) * x)
    return np.sum(x ** 4)


def _layer(w, b, h):
    return np.tanh(w @ h + b)


def helpers(w, x):
    return np.sum(_layer(w[0], w[1], x) ** 2)


def _scaled(a, scale=1.0):
    return np.sin(a) * scale


def helper_keywords(x):
    return np.sum(_scaled(x, scale=x[0]) ** 2)


def dict_params(p):
    return np.sum(np.tanh(p["a"] * p["b"])) + np.sum(p["a"] ** 3)


def reductions(x):
    return np.prod(x) + np.sum(np.cumprod(x)) + np.max(x ** 2)


def scalar(x):
    return x ** 3 * np.sin(x)


def mlp_loss(w, x, y):
    h = x
    for i in range(0, len(w) - 2, 2):
        h = np.maximum(0, w[i] @ h + w[i + 1])
    scores = w[-2] @ h + w[-1]
    scores = scores - np.max(scores, axis=0, keepdims=True)
    logp = scores - np.log(np.sum(np.exp(scores), axis=0, keepdims=True))
    return -np.sum(y * logp) / x.shape[1]


X, Y = rnd(4, 5), np.eye(3)[:, RNG.integers(0, 3, 5)]
MLP_W = [rnd(6, 4), rnd(6, 1), rnd(3, 6), rnd(3, 1)]

PROGRAMS = {
    "straight": (straight, (rnd(4),)),
    "loop": (loop, (rnd(4),)),
    "while": (while_loop, (rnd(3),)),
    "branch_then": (branch, (np.abs(rnd(4)),)),
    "branch_else": (branch, (-np.abs(rnd(4)),)),
    "helpers_list": (helpers, ([rnd(3, 3), rnd(3)], rnd(3))),
    "helper_keywords": (helper_keywords, (rnd(4),)),
    "dict": (dict_params, ({"a": rnd(3), "b": rnd(3)},)),
    "reductions": (reductions, (rnd(4),)),
    "scalar": (scalar, (0.7,)),
    "mlp": (mlp_loss, (MLP_W, X, Y)),
}


def direction(x):
    leaves, spec = tree_flatten(x)
    return tree_unflatten(spec, [rnd(*np.shape(leaf)) if np.ndim(leaf) else 0.3 for leaf in leaves])


def fd_hvp(fun, args, v, eps=1e-5):
    """(grad(x + eps v) - grad(x - eps v)) / 2 eps, from knet.grad."""
    g = knet.grad(fun)
    leaves, spec = tree_flatten(args[0])
    shift = tree_flatten(v)[0]
    plus = tree_unflatten(spec, [a + eps * b for a, b in zip(leaves, shift)])
    minus = tree_unflatten(spec, [a - eps * b for a, b in zip(leaves, shift)])
    gp, gm = tree_flatten(g(plus, *args[1:]))[0], tree_flatten(g(minus, *args[1:]))[0]
    return tree_unflatten(spec, [(np.asarray(a) - np.asarray(b)) / (2 * eps) for a, b in zip(gp, gm)])


@pytest.mark.parametrize("name", sorted(PROGRAMS))
@pytest.mark.parametrize("mode", ["source", "tape"])
def test_hvp_against_finite_differences_of_grad(name, mode):
    fun, args = PROGRAMS[name]
    v = direction(args[0])
    product = knet.hvp(fun, mode=mode)
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # the compiled path must not fall back
        got = product(*args, v)
    assert product.mode == mode
    assert tree_flatten(got)[1] == tree_flatten(args[0])[1]
    assert_tree_allclose(got, fd_hvp(fun, args, v), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["straight", "loop", "helpers_list", "dict", "mlp"])
def test_compiled_and_taped_hvp_agree(name):
    fun, args = PROGRAMS[name]
    v = direction(args[0])
    assert_tree_allclose(knet.hvp(fun)(*args, v), knet.hvp(fun, mode="tape")(*args, v), rtol=1e-9, atol=1e-10)


def test_hvp_of_a_float_argument_is_a_float():
    h = knet.hvp(scalar)(0.7, 0.3)
    assert isinstance(h, float)
    exact = (6 * 0.7 * np.sin(0.7) + 6 * 0.7 ** 2 * np.cos(0.7) - 0.7 ** 3 * np.sin(0.7)) * 0.3
    assert abs(h - exact) < 1e-12


@pytest.mark.parametrize("mode", ["source", "tape"])
def test_hessian_against_finite_differences_of_grad(mode):
    x = rnd(4)
    hess = knet.hessian(straight, mode=mode)
    H = hess(x)
    assert hess.mode == mode
    columns = [fd_hvp(straight, (x,), e) for e in np.eye(4)]
    np.testing.assert_allclose(H, np.stack(columns, axis=1), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(H, H.T, rtol=1e-10, atol=1e-12)
    exact = np.diag(6 * x * np.sin(x) + 6 * x ** 2 * np.cos(x) - x ** 3 * np.sin(x) + np.exp(x) * C)
    np.testing.assert_allclose(H, exact, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mode", ["source", "tape"])
def test_hessian_of_a_list_parameter_pairs_leaves(mode):
    w, x = [rnd(2, 2), rnd(2)], rnd(2)
    H = knet.hessian(helpers, mode=mode)(w, x)
    assert np.shape(H[0][0]) == (2, 2, 2, 2) and np.shape(H[0][1]) == (2, 2, 2) and np.shape(H[1][1]) == (2, 2)
    e = [np.zeros((2, 2)), np.zeros(2)]
    e[1][1] = 1.0               # the column of b[1]
    column = fd_hvp(helpers, (w, x), e)
    np.testing.assert_allclose(H[0][1][..., 1], column[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(H[1][1][:, 1], column[1], rtol=1e-5, atol=1e-6)


def test_hvp_with_a_tuple_wrt():
    def f(a, b):
        return np.sum(np.sin(a) * b ** 2)
    a, b, va, vb = rnd(3), rnd(3), rnd(3), rnd(3)
    ha, hb = knet.hvp(f, wrt=(0, 1))(a, b, (va, vb))
    np.testing.assert_allclose(ha, -np.sin(a) * b ** 2 * va + 2 * np.cos(a) * b * vb, rtol=1e-12)
    np.testing.assert_allclose(hb, 2 * np.cos(a) * b * va + 2 * np.sin(a) * vb, rtol=1e-12)


def test_what_the_reverse_pass_refuses_falls_back_with_a_reason():
    def nested(x):
        def inner(z):
            return np.sum(np.exp(z * x))
        return inner(x) ** 2
    x, v = rnd(3), rnd(3)
    product = knet.hvp(nested)
    with pytest.warns(knet.FallbackWarning, match="Hessian-vector product of nested runs on the tape"):
        got = product(x, v)
    assert product.mode == "tape"
    assert_tree_allclose(got, fd_hvp(nested, (x,), v), rtol=1e-5, atol=1e-6)
    with pytest.raises(knet.UnsupportedError):
        knet.hvp(nested, mode="source")(x, v)


def test_a_rebound_global_is_seen():
    global C
    x, v = rnd(4), rnd(4)
    saved = C
    try:
        first = knet.hvp(straight)(x, v)
        C = 2 * saved
        second = knet.hvp(straight)(x, v)
    finally:
        C = saved
    np.testing.assert_allclose(second - first, np.exp(x) * saved * v, rtol=1e-10)


def test_hvp_refuses_a_direction_of_another_structure():
    with pytest.raises(knet.GradientInputError):
        knet.hvp(helpers)([rnd(3, 3), rnd(3)], rnd(3), [rnd(3, 3)])


# --- the rules the reverse pass over a tangent program uses -----------------------------
def test_rules_of_the_tangent_program_helpers():
    check_vjp(jvp_rules.fit_tangent, (rnd(3, 1), rnd(3, 4)), 0)
    check_vjp(tree.add_grad, (rnd(3), rnd(3)), 0)
    check_vjp(tree.add_grad, (rnd(3), rnd(3)), 1)
    cumprod_vjp = knet.runtime.rules.rule_for(np.cumprod).vjp(0)
    x = rnd(4)
    for k in (1, 2, 3):    # t, ans, x of transpose_jvp (ans and x: second derivatives of the rule)
        check_vjp(jvp_rules.transpose_jvp, (cumprod_vjp, rnd(4), np.cumprod(x), x), k)
    tanh_vjp = knet.runtime.rules.rule_for(np.tanh).vjp(0)
    z = rnd(3, 2)
    for k in (1, 2, 3):
        check_vjp(jvp_rules.elementwise_jvp, (tanh_vjp, rnd(3, 2), np.tanh(z), z), k)


def test_call_jvp_adjoints_compiled_and_taped():
    """call_jvp's VJP (a helper's primal and tangent) in its arguments and tangents."""
    a, b, ta, tb = rnd(3), rnd(3), rnd(3), rnd(3)
    check_vjp(forward_calls.call_jvp, (_layer_sum, (a, b), (ta, None)), 1)
    check_vjp(forward_calls.call_jvp, (_layer_sum, (a, b), (ta, tb)), 2)
    check_vjp(forward_calls.call_jvp, (_scaled, (a,), (ta,), {"scale": 2.0}, {}), 1)


def _layer_sum(a, b):
    return np.sum(np.tanh(a * b)), np.sin(a)
