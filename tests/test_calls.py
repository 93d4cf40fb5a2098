"""What is differentiated and called: per-function caches, methods, partials, callables, errors.

Two closures of one factory, two ``def layer(z, k=s)`` with different
defaults and the bound methods of two instances share a code object; each
must get its own gradient, compiled or on the tape. Methods, partials and
callable objects are differentiated in every mode; what cannot be is an
error that names it.
"""
import functools
import sys
import warnings

import numpy as np
import pytest

import knetc as knet
from guard_helpers import C, X, assert_grad


def refused(z):
    """Something the compiler refuses (so auto mode runs it on the tape)."""
    try:
        return z * 1.0
    finally:
        pass


# ---- closures of one factory ----------------------------------------------------
def make_compiled(a):
    def f(x):
        return np.sum(np.sin(x) * a)
    return f


def make_taped(a):
    def f(x):
        try:
            return np.sum(np.sin(x) * a)
        finally:
            pass
    return f


@pytest.mark.parametrize("make", [make_compiled, make_taped])
def test_closures_of_one_factory(make):
    for a in (1.0, 5.0, -2.0):
        assert_grad(make(a), expect=a * np.cos(X), modes=("auto", "tape"))
    if make is make_compiled:
        assert_grad(make(3.0), expect=3.0 * np.cos(X), modes=("source",))


@pytest.mark.parametrize("make", [make_compiled, make_taped])
def test_closures_of_one_factory_as_helpers(make):
    fs = [make(1.0), make(5.0)]

    def loss(x):
        total = 0.0
        for f in fs:
            total = total + f(x * 2.0)
        return total
    assert_grad(loss, expect=12.0 * np.cos(2 * X), modes=("auto", "tape"))


def test_closure_helper_on_the_tape_gets_its_own_cells():
    def make(a):
        def inner(z):
            try:
                return z * a
            finally:
                pass

        def loss(x):
            return np.sum(inner(x) ** 2)
        return loss
    for a in (2.0, 3.0):
        assert_grad(make(a), expect=2 * a * a * X, modes=("auto", "tape"))


def test_nested_def_reading_a_differentiated_variable_on_the_tape():
    def loss(x):
        def inner(z):
            try:
                return z * x
            finally:
                pass
        return np.sum(inner(np.sin(x)))
    assert_grad(loss, modes=("auto", "tape"))


# ---- defaults -------------------------------------------------------------------
def make_layer(s, taped=False):
    if taped:
        def layer(z, k=s):
            try:
                return z * k
            finally:
                pass
    else:
        def layer(z, k=s):
            return z * k
    return layer


@pytest.mark.parametrize("taped", [False, True])
def test_defaults_of_two_functions_of_one_code(taped):
    layers = [make_layer(2.0, taped), make_layer(7.0, taped)]

    def loss(x):
        return np.sum(layers[0](x)) + 10 * np.sum(layers[1](x))      # defaults used
    assert_grad(loss, expect=np.full(3, 72.0), modes=("auto", "tape"))

    def loss_kw(x):
        return np.sum(layers[1](z=x))
    assert_grad(loss_kw, expect=np.full(3, 7.0), modes=("auto", "tape"))
    for layer, k in zip(layers, (2.0, 7.0)):
        assert_grad(lambda x, layer=layer: np.sum(layer(x)), expect=np.full(3, k), modes=("auto", "tape"))


def make_kwonly(s):
    def f(x, *, k=s):
        return np.sum(x * k)
    return f


def test_keyword_only_defaults_and_the_tape():
    for s in (2.0, 4.0):
        assert_grad(make_kwonly(s), expect=np.full(3, s))
    g = knet.grad(make_kwonly(2.0), mode="tape")
    np.testing.assert_allclose(g(X, k=3.0), np.full(3, 3.0))


# ---- methods ----------------------------------------------------------------------
class Model:
    def __init__(self, w):
        self.w = w

    def loss(self, x):
        return np.sum(np.sin(x) * self.w)

    def taped_loss(self, x):
        try:
            return np.sum(np.sin(x) * self.w)
        finally:
            pass

    def ignores_self(self, x):
        return np.sum(x ** 2)

    def __call__(self, x):
        return np.sum(x ** 2 * self.w)


@pytest.mark.parametrize("name", ["loss", "taped_loss"])
def test_bound_methods_of_two_instances(name):
    for w in (1.0, 4.0, -3.0):
        modes = ("auto", "source", "tape") if name == "loss" else ("auto", "tape")
        assert_grad(getattr(Model(w), name), expect=w * np.cos(X), modes=modes)


def test_method_that_ignores_self():
    assert_grad(Model(1.0).ignores_self, expect=2 * X)


def test_bound_method_as_a_helper():
    models = [Model(2.0), Model(3.0)]

    def loss(x):
        return models[0].loss(x) + models[1].taped_loss(x)
    assert_grad(loss, expect=5.0 * np.cos(X), modes=("auto", "tape"))


def test_method_differentiated_with_respect_to_a_later_argument():
    class Two:
        def f(self, a, b):
            return np.sum(a * b ** 2)
    assert_grad(Two().f, args=(C, X), wrt=1, expect=2 * C * X)
    assert_grad(Two().f, args=(C, X), wrt=(0, 1), expect=(X ** 2, 2 * C * X))


def test_callable_object():
    assert_grad(Model(3.0), expect=6.0 * X)


def test_partial_binding_positional_and_keyword_arguments():
    def f(a, x, scale=1.0):
        return np.sum(a * x ** 2) * scale
    assert_grad(functools.partial(f, C), expect=2 * C * X)
    assert_grad(functools.partial(f, C, scale=3.0), expect=6 * C * X)
    assert_grad(functools.partial(f, scale=0.5), args=(C, X), wrt=1, expect=C * X)


def test_grad_object_in_source_mode_is_a_clear_error():
    inner = knet.grad(lambda y: np.sum(y ** 3))
    with pytest.raises(knet.UnsupportedError, match="knetc gradient object"):
        knet.grad(inner, mode="source")(X)


def test_builtin_in_source_mode_is_a_clear_error():
    with pytest.raises(knet.UnsupportedError, match="not a Python function"):
        knet.grad(np.sum, mode="source")(X)


def test_grad_of_a_function_that_calls_grad():
    def outer(x):
        g = knet.grad(lambda z: np.sum(z ** 3))
        return np.sum(g(x) * C)
    assert_grad(outer, expect=6 * X * C, modes=("auto", "tape"))
    inner = knet.grad(lambda z: np.sum(np.sin(z)))

    def outer2(x):
        return np.sum(inner(x) ** 2)
    assert_grad(outer2, expect=-2 * np.cos(X) * np.sin(X), modes=("auto", "tape"))


# ---- *args helpers, recursion, writable gradients, pullbacks ---------------------------
def star_helper(*xs):
    return xs[0] * xs[1]


def kw_helper(x, **options):
    return x * options["scale"]


def test_varargs_helpers_are_called_with_their_arguments():
    def loss(x):
        return np.sum(np.sin(star_helper(x, np.cos(x))))
    assert_grad(loss, modes=("auto", "tape"))

    def loss_kw(x):
        return np.sum(kw_helper(x, scale=3.0) ** 2)
    assert_grad(loss_kw, expect=18 * X, modes=("auto", "tape"))
    with pytest.raises(knet.UnsupportedError, match=r"star_helper, which takes \*args"):
        knet.grad(loss, mode="source")(X)


def deep(x, n):
    if n == 0:
        return x
    return deep(x, n - 1)


def test_deep_recursion_is_a_clear_error_or_works():
    def loss(x):
        return np.sum(deep(x, 600) ** 2)
    for mode in ("auto", "source"):
        try:
            got = knet.grad(loss, mode=mode)(X)
        except knet.KnetError as e:
            assert "recurs" in str(e) and "deep" in str(e)
            assert "test_calls.py:" in str(e)          # names where
        else:
            np.testing.assert_allclose(got, 2 * X)
    np.testing.assert_allclose(knet.grad(loss, mode="tape")(X), 2 * X)


@pytest.mark.parametrize("mode", ["auto", "source", "tape"])
def test_gradients_are_writable_arrays_the_caller_owns(mode):
    M = np.arange(6.0).reshape(2, 3) / 7

    def f(m):
        return np.sum(np.sum(m, axis=0))

    def g2(w):
        return np.sum(w[0]) + np.sum(w[1] * 2.0)
    d = knet.grad(f, mode=mode)(M)
    d *= 0.5
    np.testing.assert_allclose(d, np.full((2, 3), 0.5))
    assert d.base is None
    dw = knet.grad(g2, mode=mode)([M, M[0]])
    for leaf in dw:
        leaf *= 2.0
    np.testing.assert_allclose(dw[0], np.full((2, 3), 2.0))
    np.testing.assert_allclose(dw[1], np.full(3, 4.0))


def test_same_gradient_object_twice_gives_equal_independent_results():
    def f(x):
        return np.sum(np.sum(np.outer(x, C), axis=0))
    g = knet.grad(f)
    a, b = g(X), g(X)
    a *= 0
    np.testing.assert_allclose(b, np.full(3, C.sum()))


def test_helper_pullback_reused_by_a_loop():
    """The same compiled helper runs many times per gradient; each pullback once."""
    def step(h, x):
        return np.tanh(h * 0.5 + x)

    def loss(x):
        h = x * 0.0
        for _ in range(4):
            h = step(h, x)
        return np.sum(h)
    assert_grad(loss, compiled="source")


def test_fallback_warning_names_the_function_once():
    def f(x):
        return np.sum(refused(x))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        g = knet.grad(f)
        g(X)
        g(X)
    msgs = [str(w.message) for w in caught if issubclass(w.category, knet.FallbackWarning)]
    assert len(msgs) == 1 and "refused" in msgs[0]


def test_compiled_pullback_called_twice_is_a_clear_error():
    from knetc.transform import cache

    def loss(w, x):
        h = x
        for i in range(3):
            h = np.tanh(w[i] @ h)
        return np.sum(h)
    rng = np.random.default_rng(0)
    w, x = [rng.standard_normal((3, 3)) for _ in range(3)], rng.standard_normal(3)
    vjp, mode = cache.compiled_for(loss, (True, False), [w, x])
    assert mode == "source"
    _, pullback = vjp(w, x)
    first = pullback(1.0)
    with pytest.raises(knet.KnetError, match="called a second time"):
        pullback(1.0)
    _, again = vjp(w, x)          # a new forward call gives a new pullback
    for a, b in zip(first[0], again(1.0)[0]):
        np.testing.assert_allclose(a, b)


def test_nested_function_with_a_differentiated_default_is_loud():
    def f(x):
        g = lambda z, a=x: z * a        # noqa: E731
        return np.sum(g(C) ** 2)
    assert_grad(f, expect=2 * C * C * X, modes=("tape", "auto"), compiled="tape")   # refused, then taped
    with pytest.raises(knet.UnsupportedError, match="default") as e:
        knet.grad(f, mode="source")(X)
    assert "test_calls.py:" in str(e.value)


def test_decorator_over_a_differentiated_value_is_loud():
    def scaled_by(a):
        def deco(fn):
            def w(z):
                return fn(z) * a
            return w
        return deco

    def f(x):
        @scaled_by(x[0])
        def g(z):
            return z ** 2
        return g(3.0) + x[1]
    assert_grad(f, expect=np.array([9.0, 1.0, 0.0]), modes=("tape",))
    with pytest.raises(knet.UnsupportedError, match="decorat"):
        knet.grad(f, mode="source")(X)


class Affine:
    def __init__(self, w):
        self.w = w

    def __call__(self, z):
        return z * self.w


def test_callables_from_outside_hold_constants():
    """A layer object or a partial made outside the loss: its numbers are constants, as on the tape."""
    def f(x, fn):
        return np.sum(fn(x) ** 2)
    assert_grad(f, args=(X, Affine(2.0)), expect=8 * X)
    assert_grad(f, args=(X, functools.partial(lambda a, z: a * z, 3.0)), expect=18 * X)
    layers = [Affine(0.5), Affine(-1.5)]

    def chain(x):
        for layer in layers:
            x = np.tanh(layer(x))
        return np.sum(x * C)
    assert_grad(chain, compiled="source")


def test_callables_made_from_differentiated_values_are_refused():
    def affine(a, z):
        return a * z + 1.0

    def with_partial(x):
        g = functools.partial(affine, x)
        return np.sum(g(C) ** 2)

    def with_object(x):
        layer = Affine(x)
        return np.sum(layer(C) ** 2)

    def make(a):
        return lambda z: z * a

    def with_returned_closure(x):
        fs = [make(x[0]), make(x[1])]
        first, second = fs[0], fs[1]
        return first(2.0) + second(3.0)
    for f in (with_partial, with_object, with_returned_closure):
        assert_grad(f, modes=("auto", "tape"), compiled="tape")
        with pytest.raises(knet.UnsupportedError, match="(function value made from|function computed from a|closes over the) differentiated") as e:
            knet.grad(f, mode="source")(X)
        assert "test_calls.py:" in str(e.value)


def test_partial_without_numbers_from_compiled_code():
    def act_layer(z, act=np.sin):
        return act(z) * 2.0

    def f(x, fn):
        return np.sum(fn(x))
    assert_grad(f, args=(X, functools.partial(act_layer, act=np.cos)), expect=-2 * np.sin(X))

    class Net:
        def __init__(self):
            self.act = np.tanh

        def apply(self, z):
            return self.act(z)
    assert_grad(f, args=(X, Net().apply), expect=1 - np.tanh(X) ** 2, modes=("auto", "tape"))


@pytest.mark.parametrize("module_name", ["numpy_helpers", "knetc_utils", "mathtools", "scipyish"])
def test_a_user_module_named_like_a_library_is_analysed_as_user_code(module_name, tmp_path, monkeypatch):
    # a prefix test took these for NumPy, knetc, math or SciPy: their helpers' writes went unseen
    (tmp_path / f"{module_name}.py").write_text(
        "import numpy as np\n"
        "_SEEN = 0\n"
        "def note(v):\n"
        "    global _SEEN\n"
        "    return _SEEN\n"
        "def layer(v):\n"
        "    note(v)\n"
        "    return np.sin(v)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    module = __import__(module_name)
    from knetc.transform.effects import writes_outside
    assert writes_outside(module.layer) == "a global statement in note()"

    layer = module.layer

    def loss(x):
        return np.sum(layer(x) * np.array([1.0, 2.0, 3.0]))
    with pytest.raises(knet.UnsupportedError, match="global statement"):
        knet.grad(loss, mode="source")(np.ones(3))
    assert np.allclose(knet.grad(loss, mode="tape")(np.ones(3)), np.cos(1.0) * np.array([1.0, 2.0, 3.0]))
    sys.modules.pop(module_name, None)
