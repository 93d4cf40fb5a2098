"""Compiled code is specialised on what its names denoted: a rebinding must compile again.

Each test computes a gradient, changes what a name denotes (a global, a loop
variable, an attribute, a class attribute, a closure cell, a helper redefined
in a later notebook cell, a rule registered again) and checks the gradient
again in every mode against finite differences: the old code must not come back.
"""
import types

import numpy as np
import pytest

import knetc as knet
from knetc.transform import guards
from guard_helpers import C, X, assert_grad, run_cell


def relu(z):
    return np.maximum(z, 0.0)


act = np.tanh


def uses_global_act(x):
    return np.sum(act(x) * C)


def test_global_function_rebound():
    global act
    g = knet.grad(uses_global_act)
    np.testing.assert_allclose(g(X), (1 - np.tanh(X) ** 2) * C)
    for new in (relu, np.sin, lambda z: z ** 3, np.tanh):
        act = new
        assert_grad(uses_global_act, compiled="source")
        np.testing.assert_allclose(g(X), knet.testing.numeric_grad(uses_global_act, [X]), rtol=1e-6)
    assert g.mode == "source"


def test_loop_variable_rebinds_the_reduction():
    """A loop at a cell's top level: the loop variable is a global."""
    ns = {"np": np, "assert_grad": assert_grad, "results": []}
    run_cell(ns, "for red in [np.sum, np.prod, np.max, np.sum]:\n"
                 "    def f(x):\n"
                 "        return red(np.sin(x) + 2)\n"
                 "    results.append(assert_grad(f, compiled='source'))\n")
    # np.sum came back: its gradient again, not np.max's
    np.testing.assert_allclose(ns["results"][3], np.cos(X))


def test_loop_variable_in_a_closure():
    results = []
    for red in [np.sum, np.prod, np.max]:
        def f(x):
            return red(np.sin(x) + 2)
        results.append(assert_grad(f))
    np.testing.assert_allclose(results[0], np.cos(X))


def test_loop_variable_through_one_grad_object():
    ns = {"np": np}
    run_cell(ns, "def f(x):\n    return np.sum(red(x) * x)\n")
    g = knet.grad(ns["f"])
    for red in (np.sin, np.cos, np.exp):
        ns["red"] = red
        np.testing.assert_allclose(g(X), knet.testing.numeric_grad(ns["f"], [X]), rtol=1e-6)


class Cfg:
    pass


cfg = Cfg()
cfg.act = np.tanh
cfg.sub = Cfg()
cfg.sub.scale = np.exp


def uses_cfg(x):
    return np.sum(cfg.act(x) + cfg.sub.scale(x))


def test_attribute_chain_rebound():
    g = knet.grad(uses_cfg)
    g(X)
    for a, b in ((np.sin, np.exp), (np.sin, np.sin), (np.cos, np.tanh)):
        cfg.act, cfg.sub.scale = a, b
        assert_grad(uses_cfg, compiled="source")
        np.testing.assert_allclose(g(X), knet.testing.numeric_grad(uses_cfg, [X]), rtol=1e-6)
    cfg.sub = Cfg()              # the middle of the chain replaced
    cfg.sub.scale = np.square
    assert_grad(uses_cfg, compiled="source")


class Layer:
    act = staticmethod(np.tanh)


def uses_class_attribute(x):
    return np.sum(Layer.act(x) * C)


def test_class_attribute_rebound():
    assert_grad(uses_class_attribute, compiled="source")
    Layer.act = staticmethod(np.cos)
    assert_grad(uses_class_attribute, compiled="source")
    Layer.act = staticmethod(relu)          # a user function now: compiled as a helper
    assert_grad(uses_class_attribute, compiled="source")


def test_module_attribute_rebound():
    mod = types.ModuleType("knetc_test_acts")
    mod.act = np.tanh
    ns = {"np": np, "mod": mod}
    run_cell(ns, "def f(x):\n    return np.sum(mod.act(x) ** 2)\n")
    g = knet.grad(ns["f"])
    g(X)
    mod.act = np.sin
    np.testing.assert_allclose(g(X), 2 * np.sin(X) * np.cos(X), rtol=1e-6)
    assert_grad(ns["f"])


def test_global_data_changes_kind():
    ns = {"np": np}
    run_cell(ns, "def f(x):\n    return np.sum(x * W[0])\n")
    ns["W"] = np.array([2., 3., 4.])          # W[0] is a number
    assert_grad(ns["f"], compiled="source")
    ns["W"] = [np.array([5., 6., 7.])]       # now a list: W[0] is an array
    assert_grad(ns["f"], compiled="source")
    np.testing.assert_allclose(knet.grad(ns["f"])(X), [5., 6., 7.])


def test_rebinding_data_does_not_recompile():
    """Arrays are guarded by type: a new batch in a global reuses the code."""
    ns = {"np": np}
    run_cell(ns, "def f(x):\n    return np.sum(x * D)\n")
    ns["D"] = np.ones(3)
    g = knet.grad(ns["f"])
    g(X)
    vjp = g._last[0]
    for k in range(3):
        ns["D"] = np.full(3, float(k))
        np.testing.assert_allclose(g(X), np.full(3, float(k)))
        assert g._last[0] is vjp


def test_builtin_shadowed_later():
    ns = {"np": np}
    run_cell(ns, "def f(x):\n    return np.sum(abs(x) * x)\n")
    assert_grad(ns["f"], compiled="source")
    ns["abs"] = np.sin                     # a global now shadows the builtin
    assert_grad(ns["f"], compiled="source")


def test_closure_cell_rebound_to_another_function():
    def make():
        act = np.tanh

        def f(x):
            return np.sum(act(x) * C)

        def set_act(a):
            nonlocal act
            act = a
        return f, set_act
    f, set_act = make()
    g = knet.grad(f)
    g(X)
    for a in (np.sin, relu, np.exp):
        set_act(a)
        np.testing.assert_allclose(g(X), knet.testing.numeric_grad(f, [X]), rtol=1e-6)
        assert_grad(f)


def test_closure_cell_changes_kind():
    def make(w):
        def f(x):
            return np.sum(x * w[0])
        return f
    assert_grad(make(np.array([2., 3., 4.])), compiled="source")
    assert_grad(make([np.array([5., 6., 7.])]), compiled="source")
    f = make(np.array([2., 3., 4.]))
    g = knet.grad(f)
    g(X)
    f.__closure__[0].cell_contents = [np.array([5., 6., 7.])]
    np.testing.assert_allclose(g(X), [5., 6., 7.])


def test_helper_redefined_in_a_later_cell():
    ns = {"np": np}
    run_cell(ns, "def helper(v):\n    return v * 2.0\n")
    run_cell(ns, "def loss(x):\n    return np.sum(helper(x) ** 2)\n")
    g = knet.grad(ns["loss"])
    np.testing.assert_allclose(g(X), 8 * X)
    run_cell(ns, "def helper(v):\n    return np.sin(v)\n")
    np.testing.assert_allclose(g(X), 2 * np.sin(X) * np.cos(X), rtol=1e-6)
    assert_grad(ns["loss"], compiled="source")


def test_helper_write_analysis_redefined_in_a_later_cell():
    """The caller's code depends on whether the helper writes into its argument."""
    ns = {"np": np}
    run_cell(ns, "def step(s, v):\n    return v\n")
    run_cell(ns, "def loss(x):\n    s = [x * 0.0]\n    step(s, x * 3.0)\n    return np.sum(s[0] * x) + np.sum(x)\n")
    assert_grad(ns["loss"], expect=np.ones(3))
    run_cell(ns, "def step(s, v):\n    s[0] = v\n    return v\n")     # now it writes
    assert_grad(ns["loss"], expect=6 * X + 1)


def test_transitive_helper_write_analysis():
    ns = {"np": np}
    run_cell(ns, "def leaf(s, v):\n    return v\n")
    run_cell(ns, "def mid(s, v):\n    leaf(s, v)\n    return v\n")
    run_cell(ns, "def loss(x):\n    s = [x * 0.0]\n    mid(s, x * 3.0)\n    return np.sum(s[0] * x) + np.sum(x)\n")
    assert_grad(ns["loss"], expect=np.ones(3), modes=("auto", "tape"))
    run_cell(ns, "def leaf(s, v):\n    s[0] = v\n    return v\n")
    assert_grad(ns["loss"], expect=6 * X + 1, modes=("auto", "tape"))


def test_defvjp_registered_again_takes_effect():
    ns = {"np": np, "knet": knet}
    run_cell(ns, "cube = knet.primitive(lambda x: x ** 3)\n"
                 "knet.defvjp(cube, lambda g, ans, x: g * 3 * x ** 2)\n"
                 "def f(x):\n"
                 "    return np.sum(cube(x))\n")
    cube, f = ns["cube"], ns["f"]
    g = knet.grad(f)
    np.testing.assert_allclose(g(X), 3 * X ** 2)
    # a deliberately different rule: the compiled code must use it (as the tape does)
    knet.defvjp(cube, lambda g, ans, x: g * 30 * x ** 2)
    for mode in ("auto", "source", "tape"):
        np.testing.assert_allclose(knet.grad(f, mode=mode)(X), 30 * X ** 2)
    np.testing.assert_allclose(g(X), 30 * X ** 2)


def test_defvjp_of_a_numpy_function_registered_again():
    from knetc.runtime.rules import rule_for
    old = rule_for(np.sinh)
    f = run_cell({"np": np}, "def f(x):\n    return np.sum(np.sinh(x))\n")["f"]
    try:
        for mode in ("auto", "source"):
            np.testing.assert_allclose(knet.grad(f, mode=mode)(X), np.cosh(X))
        knet.defvjp(np.sinh, lambda g, ans, x: g * 2.0)
        for mode in ("auto", "source", "tape"):
            np.testing.assert_allclose(knet.grad(f, mode=mode)(X), 2.0 * np.ones(3))
    finally:
        knet.defvjp(np.sinh, *old.vjps, keywords=old.keywords, **old.kwvjps)
    np.testing.assert_allclose(knet.grad(f)(X), np.cosh(X))


def test_unrelated_registration_keeps_the_code():
    def f(x):
        return np.sum(np.tanh(x) * C)
    g = knet.grad(f)
    g(X)
    vjp = g._last[0]
    other = knet.primitive(lambda x: x)
    knet.defvjp(other, lambda g, ans, x: g)
    g(X)
    assert g._last[0] is vjp


def test_guard_failure_is_described():
    ns = {"np": np, "act": np.tanh}
    run_cell(ns, "def f(x):\n    return np.sum(act(x))\n")
    g = knet.grad(ns["f"])
    g(X)
    compiled = g._last[0].compiled
    assert compiled.guard.failure(ns["f"]) is None
    ns["act"] = np.sin
    assert compiled.guard.failure(ns["f"]) == "what act denotes changed"
    assert not compiled.guard.check(ns["f"])


def test_alternating_bindings_reuse_their_code():
    ns = {"np": np, "act": np.tanh}
    run_cell(ns, "def f(x):\n    return np.sum(act(x))\n")
    g = knet.grad(ns["f"])
    seen = {}
    for a in (np.tanh, np.sin, np.tanh, np.sin):
        ns["act"] = a
        g(X)
        seen.setdefault(a, g._last[0])
        assert g._last[0] is seen[a]


def test_bound_method_attribute_is_guarded_by_function_and_instance():
    class Model:
        def __init__(self, k):
            self.k = k

        def act(self, z):
            return np.sin(z) * self.k
    ns = {"np": np, "model": Model(2.0)}
    run_cell(ns, "def f(x):\n    return np.sum(model.act(x))\n")
    assert_grad(ns["f"], modes=("auto", "tape"))
    ns["model"] = Model(5.0)
    assert_grad(ns["f"], modes=("auto", "tape"), expect=5.0 * np.cos(X))


def test_container_kinds():
    assert guards.container_kinds([1.0, [2.0]]) == (list, ("array", "list"))
    assert guards.container_kinds({"a": (1,)}) == (dict, (("a", "tuple"),))


def test_code_object_replaced():
    ns = {"np": np, "C": C}
    run_cell(ns, "def h(z):\n    return np.sin(z)\n"
                 "def other(z):\n    return np.exp(z)\n"
                 "def f(x):\n    return np.sum(h(x) * C)\n"
                 "def g(x):\n    return np.sum(np.sin(x))\n"
                 "def g_other(x):\n    return np.sum(np.exp(x) * C)\n")
    gf, gg = knet.grad(ns["f"]), knet.grad(ns["g"])
    np.testing.assert_allclose(gf(X), np.cos(X) * C)
    np.testing.assert_allclose(gg(X), np.cos(X))
    ns["h"].__code__ = ns["other"].__code__          # the helper's code
    ns["g"].__code__ = ns["g_other"].__code__        # the differentiated function's own
    np.testing.assert_allclose(gf(X), np.exp(X) * C)
    np.testing.assert_allclose(gg(X), np.exp(X) * C)
    assert_grad(ns["f"], expect=np.exp(X) * C)
    assert_grad(ns["g"], expect=np.exp(X) * C)


def test_verbose_says_what_changed(capsys):
    ns = {"np": np, "act": np.tanh}
    run_cell(ns, "def f(x):\n    return np.sum(act(x))\n")
    g = knet.grad(ns["f"], verbose=True)
    g(X)
    capsys.readouterr()
    ns["act"] = np.sin
    np.testing.assert_allclose(g(X), np.cos(X))
    out = capsys.readouterr().out
    assert "recompiling the gradient of f: what act denotes changed" in out


def test_no_recompilation_in_a_training_loop(monkeypatch):
    """New batches, new closures per step, parameters updated: one compile."""
    from knetc.transform import pipeline
    calls = []
    real = pipeline.compile_vjp
    monkeypatch.setattr(pipeline, "compile_vjp", lambda *a, **k: calls.append(a[0]) or real(*a, **k))

    def make_loss(batch):
        def loss(w):
            return np.sum((w[0] @ batch - 1.0) ** 2) + np.sum(np.tanh(w[1]))
        return loss
    rng = np.random.default_rng(0)
    w = [rng.standard_normal((2, 3)), rng.standard_normal(2)]
    for step in range(5):
        batch = rng.standard_normal((3, 4))
        dw = knet.grad(make_loss(batch))(w)
        w = [p - 0.1 * d for p, d in zip(w, dw)]
    assert len(calls) == 1
