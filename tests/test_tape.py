"""The dynamic tape (knetc.runtime.tape), checked against central finite differences."""
import collections
import functools
import math
import operator
from math import exp as imported_exp

import numpy as np
import pytest

import knetc
from knetc.errors import GradientInputError, KnetError
from knetc.runtime import box as boxmod
from knetc.runtime import rules
from knetc.runtime.tape import hvp, make_vjp, value_and_grad
from knetc.testing import assert_tree_allclose, numeric_grad

RNG = np.random.default_rng(0)


def check(fun, *args, wrt=0, kwargs=None, rtol=1e-5, atol=1e-7):
    """value_and_grad of ``fun`` against its value and finite-difference gradient."""
    value, grad = value_and_grad(fun, args, kwargs, wrt)
    expected = numeric_grad(fun, args, wrt=wrt, kwargs=kwargs)
    assert_tree_allclose(grad, expected, rtol=rtol, atol=atol)
    assert np.allclose(value, fun(*args, **(kwargs or {})))
    return value, grad


def vec(*shape):
    return RNG.standard_normal(shape)


# --- operations ------------------------------------------------------------------

def test_array_function_matches_finite_differences():
    w, x = vec(3, 4), vec(4)
    check(lambda w, x: np.sum(np.tanh(w @ x) ** 2), w, x)
    check(lambda w, x: np.sum(np.tanh(w @ x) ** 2), w, x, wrt=1)
    value, (gw, gx) = check(lambda w, x: np.sum(np.exp(w @ x)), w, x, wrt=(0, 1))
    assert gw.shape == (3, 4) and gx.shape == (4,)


def test_operators_and_reflected_forms():
    x = vec(3)
    check(lambda x: np.sum(2.0 - x * 3.0 + x / 2.0 + 1.0 / (2.0 + x * x) - (-x) + (+x)), x)
    check(lambda x: np.sum(2.0 ** x + x ** 2 + abs(x) * x), x)
    check(lambda x: np.sum(np.float64(2.0) * x + np.ones(3) * x - np.ones(3) / (x * x + 1)), x)
    a = vec(3, 3)
    check(lambda x: np.sum((a @ x) * (x @ a)), x)


def test_comparisons_return_plain_values():
    def f(x):
        mask = x > 0
        assert type(mask) is np.ndarray and mask.dtype == bool
        assert (x[0] <= 1e9) is True or (x[0] <= 1e9) == np.True_
        return np.sum(np.where(mask, x * x, 0.0))
    x = np.array([1.0, -2.0, 3.0])
    value, g = check(f, x)
    assert_tree_allclose(g, np.array([2.0, 0.0, 6.0]))


def test_indexing_iteration_len_attributes_methods():
    m = vec(3, 4)

    def f(m):
        assert len(m) == 3 and m.shape == (3, 4) and m.ndim == 2 and m.dtype == np.float64
        rows = [r for r in m]
        total = rows[0][1] * rows[2][3] + m[1, 2:].sum() + m[:, 0].max()
        return total + m.T[0, 1] + m.reshape(12)[5] * m.mean() + m.sum(axis=0)[1] + float(m.argmax())
    check(f, m)


def test_numpy_functions_from_user_code():
    x, y = vec(3), vec(2, 3)

    def f(x):
        c = np.concatenate([x, np.ones(2)])
        s = np.stack([x, 2 * x])
        w = np.where(x > 0, x, 0)
        return np.sum(np.tanh(c)) + np.sum(np.sum(s * y, axis=0) ** 2) + np.sum(w * w) + np.mean(np.exp(x))
    check(f, x)


def test_tuple_valued_function():
    x = vec(4)

    def f(x):
        a, b = np.split(x, 2)
        return np.sum(a * a) + np.sum(np.sin(b))
    check(f, x)

    def g(x):
        a, b = np.split(x, 2)
        return np.sum(a * a)  # b unused: its adjoint is zeros
    value, grad = check(g, x)
    assert np.all(grad[2:] == 0)


def test_many_uses_accumulate_without_aliasing():
    x, y = vec(3), vec(3)
    check(lambda x: np.sum(x * x + x * x + x + np.tanh(x) * x), x)
    _, (gx, gy) = value_and_grad(lambda x, y: np.sum(x + y), (x, y), wrt=(0, 1))
    assert gx is not gy
    gx += 1.0  # gradients are writable and independent
    assert_tree_allclose(gy, np.ones(3))


def test_float32_parameters_keep_their_dtype():
    x = vec(5).astype(np.float32)
    _, g = value_and_grad(lambda x: np.sum(np.tanh(x) * x), (x,))
    assert g.dtype == np.float32
    assert_tree_allclose(g, numeric_grad(lambda x: np.sum(np.tanh(x) * x), (x.astype(np.float64),)),
                         rtol=1e-4, atol=1e-5)


def test_size_one_array_result_is_a_scalar():
    x = vec(3)
    value, g = value_and_grad(lambda x: np.sum(x * x, keepdims=True), (x,))
    assert np.shape(value) == (1,)
    assert_tree_allclose(g, 2 * x)


# --- parameters --------------------------------------------------------------------

def test_nested_parameters_get_zeros_where_unused():
    p = {"w": vec(2, 3), "b": [vec(2), 0.5, (vec(3), 1.5)], "unused": {"z": vec(4), "s": 2.0}}
    x = vec(3)

    def loss(p, x):
        h = np.tanh(p["w"] @ x + p["b"][0])
        return np.sum(h * h) * p["b"][1] + np.sum(p["b"][2][0] * x)

    _, g = check(loss, p, x)
    assert isinstance(g["b"], list) and isinstance(g["b"][2], tuple)
    assert g["b"][2][1] == 0.0 and isinstance(g["b"][2][1], float)
    assert g["unused"]["z"].shape == (4,) and not g["unused"]["z"].any()
    assert g["unused"]["s"] == 0.0


def test_namedtuple_and_float_parameters():
    Params = collections.namedtuple("Params", "w b")
    p = Params(vec(3), 0.3)
    _, g = check(lambda p: np.sum(np.sin(p.w) * p.b) + p.b * p.b, p)
    assert isinstance(g, Params) and isinstance(g.b, float)
    check(lambda a, b: a * b * b + math.sin(a), 0.7, 1.3, wrt=(0, 1))


def test_unused_parameter_and_constant_result():
    x = vec(3)
    value, g = value_and_grad(lambda x, y: np.sum(y), (x, vec(2)))
    assert not g.any() and g.shape == (3,)
    value, g = value_and_grad(lambda x: 3.0, (x,))
    assert value == 3.0 and not g.any()


def test_integer_parameters_are_an_error():
    with pytest.raises(GradientInputError, match="dtype int64"):
        value_and_grad(lambda x: np.sum(x), (np.arange(3),))
    with pytest.raises(GradientInputError, match=r"\[1\]"):
        value_and_grad(lambda p: p[0] * 2.0, ([1.0, 2],))
    with pytest.raises(GradientInputError, match="out of range|positional"):
        value_and_grad(lambda x: x, (1.0,), wrt=3)


def test_non_scalar_result_is_an_error():
    with pytest.raises(GradientInputError, match=r"loss returned an array of shape \(3,\), expected a scalar"):
        value_and_grad(lambda x: x * 2.0, (vec(3),))
    with pytest.raises(GradientInputError, match="loss returned a tuple"):
        value_and_grad(lambda x: (x, x), (1.0,))


def test_kwargs_are_passed_through():
    x = vec(3)
    check(lambda x, scale=1.0: np.sum(x * x) * scale, x, kwargs={"scale": 3.0})


# --- Python constructs -------------------------------------------------------------------

def power(x, n):
    return 1.0 if n == 0 else x * power(x, n - 1)


class Affine:
    def __init__(self, a):
        self.a = a

    def __call__(self, x):
        return self.apply(x) * self.a

    def apply(self, x):
        return np.tanh(x) + 1.0


class Quiet:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_recursion_comprehension_generator():
    x = vec(3)
    check(lambda x: np.sum(power(x, 4)), x)
    check(lambda x: sum([np.sum(x[i] * x) for i in range(3)]), x)
    check(lambda x: sum(np.sum(np.sin(r)) for r in x), x)
    check(lambda x: np.sum(np.stack([x[i] ** 2 for i in range(3)])), x)


def test_try_except_and_with():
    def f(x):
        try:
            y = x * 2.0
            raise ValueError
        except ValueError:
            y = y + np.exp(x)
        finally:
            y = y * 1.5
        with Quiet():
            y = y * y
        return np.sum(y)
    check(f, vec(3))


def test_callable_object_method_and_functools():
    x = vec(3)
    check(lambda x: np.sum(Affine(2.0)(x)), x)
    scaled = functools.partial(np.multiply, 3.0)
    check(lambda x: np.sum(scaled(x) * x), x)
    check(lambda x: np.sum(functools.reduce(operator.mul, [x, x, np.sin(x)])), x)
    check(lambda x: np.sum(functools.reduce(lambda a, b: a + b * b, [x, 2 * x, x], 0.0)), x)


def test_builtin_sum_max_min():
    a, b = 0.4, -1.2
    check(lambda a, b: sum([a, b, a * b]) + max(a, b) + min([a * a, b * b, 5.0]), a, b, wrt=(0, 1))
    x = vec(4)
    check(lambda x: max(np.sum(x), np.sum(x * x)) + sum(x) * 2.0, x)


def test_function_without_source():
    namespace = {"np": np}
    exec("def f(x):\n    return np.sum(np.sin(x) * x)", namespace)
    check(namespace["f"], vec(3))
    g = eval("lambda x: x * x * 3.0")
    check(g, 0.5)


def test_method_as_the_differentiated_function():
    check(Affine(0.5).apply.__call__, 0.3)
    check(lambda x: Affine(0.5)(x), 0.3)


# --- primitives and missing rules -----------------------------------------------------------

@knetc.primitive
def _cube(x):
    return x * x * x


_cube.defvjp(lambda g, ans, x: g * 3 * x * x)


@knetc.primitive
def _no_vjp(x):
    return x


def test_user_primitive_is_one_node():
    x = vec(3)
    check(lambda x: np.sum(_cube(x)), x)
    assert rules._TAPE_HOOK[0] is None  # released after the trace


def test_missing_rule_is_an_error_naming_the_callable():
    with pytest.raises(KnetError, match="_no_vjp"):
        value_and_grad(lambda x: _no_vjp(x), (1.0,))
    twice = np.frompyfunc(lambda v: v, 1, 1)
    with pytest.raises(KnetError, match="no derivative rule for the NumPy ufunc"):
        value_and_grad(lambda x: np.sum(twice(x)), (vec(2),))
    with pytest.raises(KnetError, match="math.erf"):
        value_and_grad(lambda x: math.erf(x), (0.5,))
    with pytest.raises(AttributeError, match="no_such_method"):
        value_and_grad(lambda x: x.no_such_method(), (vec(2),))


def test_state_is_restored_after_an_error():
    original_exp = math.exp

    def fails(x):
        assert math.exp is not original_exp and rules._TAPE_HOOK[0] is not None
        raise RuntimeError("boom")
    with pytest.raises(RuntimeError, match="boom"):
        value_and_grad(fails, (1.0,))
    assert math.exp is original_exp and rules._TAPE_HOOK[0] is None
    assert "float" not in globals()


def test_in_place_updates_of_traced_values_are_errors():
    def f(x):
        a = np.zeros(2)
        a += x
        return np.sum(a)
    with pytest.raises(GradientInputError, match="in place"):
        value_and_grad(f, (vec(2),))
    with pytest.raises(GradientInputError, match="in-place"):
        value_and_grad(lambda x: x.__setitem__(0, 1.0), (vec(2),))


def test_conversions_that_would_lose_the_gradient_are_errors():
    def store(x):
        a = np.zeros(3)
        a[:2] = x
        return np.sum(a)
    with pytest.raises(GradientInputError):
        value_and_grad(store, (vec(2),))
    with pytest.raises(GradientInputError):
        value_and_grad(lambda x: np.sum(np.asarray(x)), (vec(2),))


# --- math on scalars ------------------------------------------------------------------------

def test_math_functions_on_scalars():
    def f(x):
        return (math.exp(x) * math.sin(x) + math.log(x) + math.log(x, 2.0) + math.sqrt(x)
                + math.tanh(x) + math.pow(x, 2.5) + math.cos(x) ** 2 + math.atan(x) + math.hypot(x, 2.0)
                + math.fsum([x, x * x]) + math.expm1(x) + math.floor(x))
    check(f, 1.3)
    value, g = value_and_grad(lambda x: math.exp(x), (0.5,))
    assert isinstance(value, float) and g == pytest.approx(math.exp(0.5))
    assert math.exp is not None and math.exp.__module__ == "math" and isinstance(math.exp(0.0), float)


def test_math_names_imported_into_the_module_are_recorded():
    check(lambda x: imported_exp(x) * x, 0.7)
    assert imported_exp is math.exp  # restored after the trace


def test_math_in_helpers_and_on_size_one_arrays():
    namespace = {}
    exec("import math\ndef h(x):\n    return math.exp(x) * math.sqrt(x)", namespace)
    check(lambda x: namespace["h"](x) + 1.0, 0.8)
    check(lambda x: math.exp(x[0]) * math.sin(np.sum(x)), vec(1))


def test_math_through_a_stale_name_elsewhere_is_an_error():
    namespace = {}
    exec("from math import exp\ndef h(x):\n    return exp(x)", namespace)
    with pytest.raises(GradientInputError, match="math.exp"):
        value_and_grad(lambda x: namespace["h"](x), (0.8,))


def test_float_and_bool_for_control_flow():
    def f(x):
        if float(x) > 1.0 and bool(x > 0):
            return x * x
        return -x
    assert value_and_grad(f, (2.0,)) == (4.0, 4.0)
    assert value_and_grad(f, (0.5,)) == (-0.5, -1.0)
    # float() follows the rule table: the identity if it has a rule, a constant otherwise
    _, g = value_and_grad(lambda x: float(x) * x, (3.0,))
    assert g == (6.0 if rules.rule_for(float) is not None else 3.0)
    _, g = value_and_grad(lambda x: np.sum(np.zeros(2, dtype=float) + x) if isinstance(2.0, float) else x, (vec(2),))
    assert_tree_allclose(g, np.ones(2))


# --- higher order -----------------------------------------------------------------------

def grad_of(fun, wrt=0):
    return lambda *args: value_and_grad(fun, args, wrt=wrt)[1]


def test_second_and_third_derivatives():
    d = grad_of
    assert d(d(lambda x: x ** 3))(2.0) == pytest.approx(12.0)
    assert d(d(d(lambda x: x ** 4)))(1.5) == pytest.approx(24 * 1.5)
    assert d(d(lambda x: math.exp(2 * x)))(0.3) == pytest.approx(4 * math.exp(0.6))
    check(d(lambda x: np.sin(x) * x * x), 0.9)
    check(lambda x: np.sum(d(lambda y: np.sum(np.tanh(y) * y[0]))(x) ** 2), vec(3))


def test_second_derivative_through_broadcasting():
    x = vec(3)
    inner = lambda s: value_and_grad(lambda s: np.sum(np.tanh(s * x)), (s,))[1]  # noqa: E731
    check(inner, 0.7)
    check(lambda m: np.sum(grad_of(lambda m: np.sum(np.sin(m + x) * m))(m) ** 2), vec(2, 3))


def test_gradient_through_an_inner_gradient_closing_over_outer_values():
    # d/dy [ d/dx (x * y * y) ] = 2 y
    f = lambda y: value_and_grad(lambda x: x * y * y, (1.5,))[1]  # noqa: E731
    assert value_and_grad(f, (0.7,))[1] == pytest.approx(1.4)


def test_hvp_matches_finite_difference_hessian():
    a = vec(3, 3)
    a = a + a.T
    x, v = vec(3), vec(3)
    fun = lambda x: 0.5 * x @ a @ x + np.sum(np.sin(x) * x) + np.sum(x ** 3) * x[0]  # noqa: E731
    hessian = np.stack([numeric_grad(lambda x: value_and_grad(fun, (x,))[1][i], (x,)) for i in range(3)])
    assert_tree_allclose(hvp(fun, (x,), v), hessian @ v, rtol=1e-5, atol=1e-6)


def test_hvp_with_structured_parameters():
    p = {"w": vec(2, 3), "s": 0.5}
    v = {"w": vec(2, 3), "s": 1.0}
    x = vec(3)

    def fun(p, x):
        return np.sum(np.tanh(p["w"] @ x) ** 2) * p["s"] + p["s"] ** 3

    def directional(p, t):
        q = {"w": p["w"] + t * v["w"], "s": p["s"] + t * v["s"]}
        return value_and_grad(fun, (q, x))[1]
    eps = 1e-5
    plus, minus = directional(p, eps), directional(p, -eps)
    expected = {k: (plus[k] - minus[k]) / (2 * eps) for k in p}
    assert_tree_allclose(hvp(fun, (p, x), v), expected, rtol=1e-5, atol=1e-6)


# --- mixed mode protocol ----------------------------------------------------------------------

def test_make_vjp_protocol():
    def f(a, b, c, flag):
        return (a * b, [np.sin(a), 2.0]), c * 2.0

    x = vec(3)
    ans, pullback = make_vjp(f, (0, 1))(x, 3.0, vec(2), True)
    (prod, (sin, two)), c2 = ans
    assert_tree_allclose(prod, 3.0 * x)
    assert_tree_allclose(sin, np.sin(x))
    assert two == 2.0 and not isinstance(prod, boxmod.Box)

    g = ((np.ones(3), [np.full(3, 2.0), 0.0]), None)
    ga, gb, gc, gflag = pullback(g)
    assert gc is None and gflag is None
    assert_tree_allclose(ga, 3.0 + 2.0 * np.cos(x))
    assert gb == pytest.approx(np.sum(x)) and isinstance(gb, float)
    again = pullback(((None, [np.ones(3), None]), np.ones(2)))
    assert_tree_allclose(again[0], np.cos(x))
    assert again[1] == 0.0


def test_make_vjp_scalar_result_and_unused_argument():
    ans, pullback = make_vjp(lambda a, b: a * 2.0, (0, 1))(1.5, vec(2))
    assert ans == 3.0
    ga, gb = pullback(0.5)
    assert ga == 1.0 and gb.shape == (2,) and not gb.any()


def test_make_vjp_never_returns_the_seed_itself():
    g = np.ones(3)
    ans, pullback = make_vjp(lambda a: a, 0)(vec(3))
    (ga,) = pullback(g)
    assert ga is not g
    assert_tree_allclose(ga, g)


def test_make_vjp_matches_finite_differences():
    p = [vec(2, 3), vec(2)]
    x = vec(3)

    def f(p, x):
        return np.tanh(p[0] @ x + p[1])

    g = vec(2)
    ans, pullback = make_vjp(f, 0)(p, x)
    gp, gx = pullback(g)
    assert gx is None
    expected = numeric_grad(lambda p: np.sum(f(p, x) * g), (p,))
    assert_tree_allclose(gp, expected)
