"""The generated code stays quiet (issue 13, item 6): cheap loop values are recomputed in the
reverse loop instead of saved, a plain ``while a and b`` needs no skip flag, the rule table's
private helpers show under public names. Each test also checks the gradient against central
finite differences."""
import importlib.util
import re
import sys
import textwrap

import numpy as np

import knetc as knet
from knetc.testing import assert_tree_allclose, numeric_grad
from knetc.transform.pipeline import compile_vjp

R = np.random.default_rng(13)


def predict(w, x):
    for i in range(0, len(w), 2):
        x = np.maximum(0, w[i] @ x + w[i + 1])
    return x


def mlp(w, x, y):
    return np.sum((predict(w, x) - y) ** 2) / y.shape[1]


def weighted(w, x):
    s = 0.0
    for i in range(len(w)):
        s = s + np.sum(np.tanh(w[i] * x))
    return s


def whiles(w, x):
    s = 0.0
    k = 0
    while np.sum(x) > 0.5 and k < 10:
        x = np.tanh(w @ x)
        s = s + np.sum(x)
        k = k + 1
    return s


def _layers():
    return [R.standard_normal((3, 3)), R.standard_normal((3, 1)), R.standard_normal((2, 3)),
            R.standard_normal((2, 1))]


def _pushed(source):
    return re.findall(r"_stack\.append\((\w+)\)", source)


def _bound_to(source, name):
    """The right-hand sides ``name`` is assigned in ``source``."""
    return re.findall(rf"^\s*{re.escape(name)} = (.*)$", source, re.M)


def _check_gradient(f, args):
    assert_tree_allclose(knet.grad(f, mode="source")(*args), numeric_grad(f, args), rtol=1e-5, atol=1e-7)


def test_loop_over_w_i_saves_no_w_i():
    # a tuple's elements cannot be replaced between the forward pass and the pullback
    args = (tuple(R.standard_normal(4) for _ in range(3)), R.standard_normal(4))
    source = compile_vjp(weighted, (True, False), args).source
    for name in _pushed(source):
        assert not any(rhs.startswith("w[") for rhs in _bound_to(source, name)), source
    pullback = source.split("def weighted_pullback")[1]
    assert re.search(r"^\s*_t\d+ = w\[i\]$", pullback, re.M), source    # recomputed where it is read
    _check_gradient(weighted, args)


def test_a_list_element_is_read_from_the_copy_taken_at_entry():
    # a caller may replace the element of a list it passed to a helper before the helper's
    # pullback runs (hs[-1] = ...): the pullback reads the elements the forward pass used,
    # from a shallow copy of the list taken at entry, instead of saving each one
    args = ([R.standard_normal(4) for _ in range(3)], R.standard_normal(4))
    source = compile_vjp(weighted, (True, False), args).source
    assert not any(rhs.startswith("w[") for name in _pushed(source) for rhs in _bound_to(source, name)), source
    assert _bound_to(source, "w_at_entry") == ["list(w)"], source
    pullback = source.split("def weighted_pullback")[1]
    assert re.search(r"^\s*_t\d+ = w_at_entry\[i\]$", pullback, re.M), source
    _check_gradient(weighted, args)


def test_pullback_uses_the_list_elements_of_its_forward_pass():
    w, x = [R.standard_normal(4) for _ in range(3)], R.standard_normal(4)
    expected = numeric_grad(weighted, (w, x))
    value, pullback = compile_vjp(weighted, (True, False), (w, x)).fn(w, x)
    w[1] = R.standard_normal(4)          # the caller replaces an element before the pullback
    w.append(R.standard_normal(4))
    assert_tree_allclose(pullback(1.0)[0], expected, rtol=1e-5, atol=1e-7)


def test_a_list_the_function_writes_into_is_saved_not_copied():
    def f(w, x):
        s = 0.0
        for i in range(len(w)):
            s = s + np.sum(np.tanh(w[i] * x))
            w[i] = w[i] * 2.0
        return s
    args = ([R.standard_normal(4) for _ in range(3)], R.standard_normal(4))
    source = compile_vjp(f, (True, False), args).source
    assert "w_at_entry" not in source, source
    # f writes into the caller's list: each evaluation gets a list of its own
    got = knet.grad(f, mode="source")(list(args[0]), args[1])
    assert_tree_allclose(got, numeric_grad(lambda w, x: f(list(w), x), args), rtol=1e-5, atol=1e-7)


def test_mlp_layers_recompute_w_i_and_i_plus_1():
    w, x, y = tuple(_layers()), R.standard_normal((3, 4)), R.standard_normal((2, 4))
    source = compile_vjp(predict, (True, False), (w, x)).source
    pushed = _pushed(source)
    for name in pushed:
        for rhs in _bound_to(source, name):
            assert not (rhs.startswith("w[") or rhs == "i + 1"), source
    assert len(pushed) == 3, source          # w[i] @ x, the sum before np.maximum, and x
    pullback = source.split("def predict_pullback")[1]
    assert "= i + 1" in pullback and "_stack.pop()" in pullback
    _check_gradient(mlp, (w, x, y))


def test_recomputed_value_read_before_its_binding_is_saved_instead():
    def f(w, x):
        s = 0.0
        for i in range(len(w)):
            if i > 0:
                s = s + np.sum(a * x)     # the previous iteration's a
            a = w[i]
        return s
    args = ([R.standard_normal(3) for _ in range(3)], R.standard_normal(3))
    source = compile_vjp(f, (True, True), args).source
    assert "a" in _pushed(source), source
    _check_gradient(f, args)


def test_value_bound_twice_is_saved_instead():
    def f(w, x):
        s = 0.0
        a = x
        for i in range(len(w)):
            s = s + np.sum(a * x)
            a = w[i]
        return s
    args = ([R.standard_normal(3) for _ in range(3)], R.standard_normal(3))
    source = compile_vjp(f, (True, True), args).source
    assert "a" in _pushed(source), source
    _check_gradient(f, args)


def test_while_and_has_no_skip_flag_and_saves_no_test():
    args = (R.standard_normal((3, 3)) * 0.3, np.abs(R.standard_normal((3, 4))) + 0.3)
    source = compile_vjp(whiles, (True, False), args).source
    assert "_skip" not in source and "_brk" not in source, source
    assert len(source.splitlines()) < 66, source     # 83 lines before
    assert len(_pushed(source)) == 4, source         # w @ x, x, np.sum(x) and s; no flags
    assert not any(name.startswith("_c") for name in _pushed(source)), source
    _check_gradient(whiles, args)


def test_while_that_breaks_keeps_its_flags():
    def f(w, x):
        k = 0
        while np.sum(x) > 0.5:
            x = np.tanh(w @ x)
            k = k + 1
            if k > 3:
                break
        return np.sum(x)
    args = (R.standard_normal((3, 3)) * 0.3, np.abs(R.standard_normal((3, 4))) + 0.3)
    source = compile_vjp(f, (True, False), args).source
    assert "_brk" in source
    _check_gradient(f, args)


def test_private_rule_helpers_show_under_public_names():
    w, x = _layers(), R.standard_normal((3, 4))
    source = compile_vjp(predict, (True, False), (w, x)).source
    assert "extreme_vjp(" in source and "_extreme_vjp" not in source, source


def _module(tmp_path, name, text):
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(text))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _rule_module(tmp_path, name, factor):
    return _module(tmp_path, name, f"""
        import numpy as np
        import knetc as knet

        def _scale(g, x):
            return g * {factor} * x

        @knet.primitive
        def {name}(x):
            return {factor / 2} * x ** 2

        knet.defvjp({name}, lambda g, ans, x: _scale(g, x))
    """)


def test_two_rules_with_one_private_global_name_keep_their_own(tmp_path):
    _rule_module(tmp_path, "quiet_rule_a", 2.0)
    _rule_module(tmp_path, "quiet_rule_b", 6.0)
    user = _module(tmp_path, "quiet_rule_user", """
        import numpy as np
        from quiet_rule_a import quiet_rule_a
        from quiet_rule_b import quiet_rule_b

        def f(x):
            return np.sum(quiet_rule_a(x) + quiet_rule_b(x))
    """)
    x = R.standard_normal(4)
    np.testing.assert_allclose(knet.grad(user.f, mode="source")(x), 8.0 * x)
    source = compile_vjp(user.f, (True,), (x,)).source
    assert "scale(" in source and "scale_2(" in source, source
