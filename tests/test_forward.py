"""Compiled forward mode: the tangent program of straight-line code, helpers, loops, branches,
indexing and containers, against central differences (float64), and its generated code."""
import warnings

import numpy as np
import pytest

import knetc as knet
from knetc.testing import assert_tree_allclose

R = np.random.default_rng(3)
W = R.standard_normal((4, 3))
B = R.standard_normal((4, 1))
X = R.standard_normal((3, 5))


def layer(w, b, x, act=np.tanh):
    return act(w @ x + b)


def straight(w, b, x):
    h = layer(w, b, x)
    return np.sum(h * h) / x.shape[1] + np.mean(np.exp(-h))


def with_loop(w, b, x):
    h = x[:3] * 1.0
    for k in range(3):
        h = np.tanh(w[:3] @ h + b[:3]) + 0.1 * k * h
    return np.sum(h)


def with_while(w, b, x):
    total, k = 0.0, 0
    h = np.sum(w * w)
    while total < 10.0 and k < 20:
        total = total + h
        k += 1
    return total * np.sum(b)


def with_branch(w, b, x):
    s = np.sum(w)
    if s > 0:
        y = np.sum(np.sin(w) * s)
    else:
        y = np.sum(np.cos(w)) * s
    return y + np.sum(b ** 3)


def with_containers(p, x):
    hs = []
    for name in ["a", "b"]:
        hs.append(np.tanh(p[name] @ x))
    stacked = np.concatenate(hs, axis=0)
    pair = (stacked, p["c"])
    return np.sum(pair[0] ** 2) * pair[1] + hs[1][0, 0]


def with_setitem(w, b, x):
    out = {"m": w * 2.0}
    vs = []
    vs.append(np.sum(w))
    out["v"] = vs
    y = np.zeros((4, 3))
    y[1:] = w[1:] ** 2
    y[0] = w[0] * b[0]
    return np.sum(y) + out["v"][0] * np.sum(out["m"])


def with_keywords(w, b, x):
    return np.sum(layer(w, b, x, act=np.sin)) + np.sum(np.max(w, axis=1, keepdims=True) * b)


def with_reductions(w, b, x):
    return np.prod(np.sum(w ** 2, axis=0)) + np.std(w) + np.var(b, ddof=1) + np.max(w)


def with_tuple_return(w, b, x):
    def pieces(a):
        return np.sum(a), np.sum(a ** 2)
    s1, s2 = pieces(w)
    return s1 * s2


PROGRAMS = [straight, with_loop, with_while, with_branch, with_setitem, with_keywords,
            with_reductions, with_tuple_return]


def _directional(fun, args, tangents, eps):
    plus = [a + eps * t if t is not None else a for a, t in zip(args, tangents)]
    minus = [a - eps * t if t is not None else a for a, t in zip(args, tangents)]
    return (fun(*plus) - fun(*minus)) / (2 * eps)


def _check(fun, args, tangents, mode="source"):
    value, tangent = knet.jvp(fun, args, tangents, mode=mode)
    assert np.isclose(value, fun(*args), rtol=1e-12)
    estimates = [_directional(fun, args, tangents, eps) for eps in (1e-6, 1e-5)]
    assert abs(estimates[0] - estimates[1]) < 1e-5 * max(1, abs(estimates[0])), "a kink"
    assert any(abs(tangent - e) <= 1e-6 * max(1, abs(e)) for e in estimates), (tangent, estimates)


@pytest.mark.parametrize("mode", ["source", "tape"])
@pytest.mark.parametrize("fun", PROGRAMS, ids=lambda f: f.__name__)
def test_tangent_program_against_finite_differences(fun, mode):
    if mode == "tape" and fun is with_setitem:
        with pytest.raises(knet.GradientInputError, match="assign"):    # loud: the tape cannot
            knet.jvp(fun, [W, B, X], [W, B, None], mode="tape")
        return
    for sign in (1.0, -1.0):          # both sides of the branches
        args = [sign * W, B, X]
        tangents = [R.standard_normal(W.shape), R.standard_normal(B.shape), None]
        with warnings.catch_warnings():
            warnings.simplefilter("error")      # no fallback to the tape
            _check(fun, args, tangents, mode)


@pytest.mark.parametrize("mode", ["source", "tape"])
def test_tangents_of_structures(mode):
    p = {"a": R.standard_normal((2, 3)), "b": R.standard_normal((2, 3)), "c": 0.7}

    def flat(q):
        return with_containers(q, X)

    t = {"a": R.standard_normal((2, 3)), "b": R.standard_normal((2, 3)), "c": 0.3}
    value, tangent = knet.jvp(flat, (p,), (t,), mode=mode)
    eps = 1e-6
    moved = lambda s: flat({k: p[k] + s * t[k] for k in p})      # noqa: E731
    assert abs(tangent - (moved(eps) - moved(-eps)) / (2 * eps)) < 1e-6


def test_vector_output_and_data_argument():
    f = lambda w, x: np.tanh(w @ x)           # noqa: E731
    t = R.standard_normal(W.shape)
    value, tangent = knet.jvp(f, (W, X), (t, None), mode="source")
    expected = (1 - np.tanh(W @ X) ** 2) * (t @ X)
    assert_tree_allclose(tangent, expected, rtol=1e-12)


def test_generated_code_reads_like_the_function():
    knet.jvp(straight, (W, B, X), (W, B, None), mode="source")
    source = knet.jvp_source(straight)
    assert "def straight_jvp(w, b, x, tw, tb):" in source
    assert "# Tangent of: h = layer(w, b, x)" in source
    assert "h, th = call_jvp(layer, (w, b, x), (tw, tb, None))" in source
    assert "def layer_jvp(w, b, x, act, tw, tb):" in source
    assert "_stack" not in source                      # forward mode saves nothing


def test_jvp_matches_vjp_transpose_in_compiled_mode():
    t = [R.standard_normal(W.shape), R.standard_normal(B.shape), None]
    _, tangent = knet.jvp(with_loop, (W, B, X), t, mode="source")
    gw, gb = knet.grad(with_loop, wrt=(0, 1), mode="source")(W, B, X)
    assert abs(tangent - (np.sum(gw * t[0]) + np.sum(gb * t[1]))) < 1e-10


def test_a_helper_the_compiler_refuses_runs_on_the_tape_with_a_warning():
    def odd(w):
        try:
            return np.sum(w ** 2)
        except ValueError:
            return 0.0

    def outer(w):
        return odd(w) * 3.0

    with pytest.warns(knet.FallbackWarning, match="tangent of odd runs on the tape"):
        value, tangent = knet.jvp(outer, (W,), (np.ones_like(W),))
    assert abs(tangent - 6 * np.sum(W)) < 1e-10
    with pytest.raises(knet.UnsupportedError, match="try"):
        knet.jvp(odd, (W,), (np.ones_like(W),), mode="source")


def test_user_primitive_with_its_own_jvp():
    calls = []

    @knet.primitive
    def cube(x):
        return x ** 3

    cube.defvjp(lambda g, ans, x: g * 3 * x ** 2)
    cube.defjvp(lambda t, ans, x: calls.append(1) or t * 3 * x ** 2)
    value, tangent = knet.jvp(lambda x: np.sum(cube(x)), (W,), (np.ones_like(W),), mode="source")
    assert calls and abs(tangent - np.sum(3 * W ** 2)) < 1e-10


def test_every_rule_with_a_vjp_has_a_jvp():
    from knetc.runtime.jvp_rules import jvp_plan
    from knetc.runtime.rules import all_rules
    missing = []
    for rule in all_rules().values():
        for i, vjp in enumerate(rule.vjps):
            if vjp is not None and jvp_plan(rule.fun, i)[0] is None:
                missing.append(f"{rule.name} argument {i}")
    assert not missing, missing


def test_how_each_jvp_is_derived():
    from knetc.runtime.jvp_rules import jvp_plan
    assert jvp_plan(np.tanh, 0)[0] == "elementwise"
    assert jvp_plan(np.sum, 0)[0] == "linear"
    assert jvp_plan(np.matmul, 1)[0] == "linear"
    assert jvp_plan(np.prod, 0)[0] == "transpose"
    assert jvp_plan(np.maximum, 0)[0] == "explicit"


@pytest.mark.parametrize("fun, kwargs", [(np.prod, {"axis": 1}), (np.var, {"ddof": 1}),
                                         (np.std, {}), (np.max, {"axis": 0}), (np.cumsum, {"axis": 1})])
def test_the_transposed_vjp_is_the_jvp(fun, kwargs):
    from knetc.runtime.jvp_rules import rule_jvp
    x = R.uniform(0.5, 2.0, (3, 4))
    t = R.standard_normal((3, 4))
    got = rule_jvp(fun, 0, t, fun(x, **kwargs), (x,), kwargs)
    eps = 1e-6
    expected = (fun(x + eps * t, **kwargs) - fun(x - eps * t, **kwargs)) / (2 * eps)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-9)


# ---- found by the fuzzer (tests/fuzz/run.py, forward mode) --------------------------------
def _loss_with_default(x, k=0.7):
    return np.sum(np.tanh(x) * k)


@pytest.mark.parametrize("mode", ["auto", "source"])
def test_a_parameter_left_to_its_default(mode):
    """themes seed 25 (``def loss(x, k=s)``): the compiled JVP takes every parameter; jvp passed
    only the given ones, so the tangent landed in ``k``'s place (TypeError: missing 'tx')."""
    x, t = np.array([0.3, -0.5, 0.9]), np.array([1.0, 2.0, -1.0])
    value, tangent = knet.jvp(_loss_with_default, (x,), (t,), mode=mode)
    assert np.isclose(value, _loss_with_default(x))
    assert np.isclose(tangent, np.sum((1 - np.tanh(x) ** 2) * 0.7 * t), rtol=1e-12)


def _closure_over_w(w, x):
    def scaled(t, k=0.25):                     # reads w of the enclosing function
        return 0.9 / (np.abs(w["p0"]) + 1.0) * t
    f = lambda a: np.log(a * a + 1.0) * np.sum(w["p0"])     # noqa: E731
    acc = np.zeros(3)
    acc += np.tanh(np.mean(w["p0"]))           # the tape refuses this: the compiler must take it
    return np.sum(scaled(np.tanh(w["p0"]))) + np.sum(f(x)) + np.sum(acc * acc)


def test_a_nested_function_reading_differentiated_values():
    """fuzz seeds 1000422, 2000566: a nested def / lambda closing over ``w`` was refused by the
    forward compiler, and the tape (mode='auto') refused the program's ``acc += ...``: now the
    closure's tangent program gets the tangents of the enclosing values it reads."""
    w, x = {"p0": np.array([0.3, -0.4, 0.8])}, np.array([1.0, -2.0, 0.5])
    t = {"p0": np.array([0.5, 1.0, -1.5])}
    with warnings.catch_warnings():
        warnings.simplefilter("error")           # no fallback to the tape
        value, tangent = knet.jvp(_closure_over_w, (w, x), (t, None), mode="source")
    moved = lambda s: _closure_over_w({"p0": w["p0"] + s * t["p0"]}, x)     # noqa: E731
    assert np.isclose(value, moved(0.0))
    assert abs(tangent - (moved(1e-6) - moved(-1e-6)) / 2e-6) < 1e-7
    grad = knet.grad(_closure_over_w, mode="source")(w, x)
    assert np.isclose(tangent, np.sum(grad["p0"] * t["p0"]), rtol=1e-12)
    assert "{'w': tw}" in knet.jvp_source(_closure_over_w)
