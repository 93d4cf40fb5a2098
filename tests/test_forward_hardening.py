"""Forward mode and compiled Hessian-vector products on the programs that once fooled them.

Each case was silently wrong before (found by ``python -m tests.adversarial.forward``):
a jvp is checked against ``<gradient, t>`` with the gradient from the tape, an hvp against
central differences of the gradient; what is refused must say so with the user's line.
"""
import copy
import warnings

import numpy as np
import pytest

import knetc as knet
from knetc.testing import assert_tree_allclose

C = np.array([1.0, 2.0, 3.0])
X = np.array([0.3, -0.7, 1.2])
T = np.array([1.0, 0.5, -1.0])
M = np.array([[0.5, -0.1, 0.2], [0.0, 0.4, -0.3], [0.1, 0.2, 0.3]])


def sum_initial(x):
    return np.sum(x ** 2, initial=5.0) ** 2


def builtin_sum_start(x):
    return np.sum(sum([x, x * 2.0], np.ones(3)) * C)


def pop_last(x):
    hs = [x * 2.0, x ** 3]
    last = hs.pop()
    return np.sum(last * C) + np.sum(hs[-1])


def zeros_like(v):          # a user's function with a runtime helper's name
    return v * 0.0 + 1.0


def uses_zeros_like(x):
    return np.sum(zeros_like(x) * x ** 2)


def add_grad(a, b):
    return a * b


def uses_add_grad(x):
    return np.sum(add_grad(x, x) * C)


def abs_of_complex(x):
    return np.sum(np.abs(x * (1 + 2j)))


def power_spectrum(x):
    return np.sum(np.abs(np.fft.fft(x)) ** 2)


def angle_of_complex(x):
    return np.sum(np.angle(x + 1j * C))


def complex_norm(x):
    return np.linalg.norm(x * (1 + 1j) + C)


JVP_CASES = [sum_initial, builtin_sum_start, pop_last, uses_zeros_like, uses_add_grad, abs_of_complex,
             power_spectrum, angle_of_complex, complex_norm]


@pytest.mark.parametrize("fun", JVP_CASES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("mode", ["source", "auto", "tape"])
def test_jvp_is_the_gradient_along_t(fun, mode):
    value, tangent = knet.jvp(fun, (X.copy(),), (T,), mode=mode)
    assert np.isclose(value, fun(X.copy()), rtol=1e-12)
    want = float(np.dot(knet.grad(fun, mode="tape")(X.copy()), T))
    assert np.isrealobj(tangent) and np.isclose(float(tangent), want, rtol=1e-9, atol=1e-12)


def _fd_hvp(fun, x, v, eps=1e-5):
    g = knet.grad(fun, mode="tape")
    return (g(x + eps * v) - g(x - eps * v)) / (2 * eps)


def _stats(v):
    return np.tanh(v), np.sum(v * v)


def tuple_helper(x):
    return _stats(x)[1] + np.sum(_stats(x)[0] * C)


@pytest.mark.parametrize("mode", ["source", "tape"])
def test_hvp_through_a_helper_returning_a_tuple(mode):
    assert_tree_allclose(knet.hvp(tuple_helper, mode=mode)(X.copy(), T), _fd_hvp(tuple_helper, X.copy(), T),
                         rtol=1e-6, atol=1e-8)


def _true_prod_hessian(x):
    n = len(x)
    return np.array([[0.0 if i == k else np.prod([x[j] for j in range(n) if j not in (i, k)])
                      for k in range(n)] for i in range(n)])


@pytest.mark.parametrize("x", [[0.3, -0.7, 1.2, 2.0], [0.3, 0.0, 1.2, 2.0], [0.0, 0.5, 0.0, 2.0],
                               [0.0, 0.0, 0.0, 2.0]], ids=["no zero", "one zero", "two zeros", "three zeros"])
@pytest.mark.parametrize("mode", ["source", "tape"])
def test_the_hessian_of_prod_at_zeros(x, mode):
    x = np.array(x)
    got = np.stack([knet.hvp(np.prod, mode="tape" if mode == "tape" else "auto")(x, e) for e in np.eye(4)]) \
        if mode == "tape" else np.stack([knet.hvp(lambda v: np.prod(v), mode=mode)(x, e) for e in np.eye(4)])
    np.testing.assert_allclose(got, _true_prod_hessian(x), rtol=1e-12, atol=1e-14)


def _step(s, v):
    s[0] = s[0] * 0.5 + v


def writes_state(x, s):
    _step(s, x)
    _step(s, x ** 2)
    return np.sum(s[0] * C)


def test_hvp_of_a_helper_writing_its_argument_is_refused_compiled_and_right_taped():
    with pytest.raises(knet.UnsupportedError, match=r"_step writing into s.*test_forward_hardening\.py:\d+"):
        knet.hvp(writes_state, mode="source")(X.copy(), [np.zeros(3)], T)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", knet.FallbackWarning)
        got = knet.hvp(writes_state)(X.copy(), [np.zeros(3)], T)
    want = (knet.grad(writes_state, mode="tape")(X + 1e-5 * T, [np.zeros(3)])
            - knet.grad(writes_state, mode="tape")(X - 1e-5 * T, [np.zeros(3)])) / 2e-5
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)


def _push(state, v):
    state[0].append(v * 2.0)


def appends_nested(x):
    state = [[x]]
    _push(state, np.sin(x))
    return np.sum(state[0][-1] * C)


def test_forward_mode_refuses_a_taped_helper_writing_a_differentiated_container():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", knet.FallbackWarning)
        with pytest.raises(knet.UnsupportedError, match=r"_push, run on the tape, writing into a differentiated"):
            knet.jvp(appends_nested, (X.copy(),), (T,))
    value, tangent = knet.jvp(appends_nested, (X.copy(),), (T,), mode="tape")
    assert np.isclose(tangent, np.dot(2 * np.cos(X) * C, T))


def test_the_tangent_of_a_copy():
    def f(w):
        v = copy.deepcopy(w)
        return np.sum(np.tanh(v[0]) * w[1])
    w = [X.copy(), C.copy()]
    t = [T, np.ones(3)]
    for mode in ("source", "tape"):
        _, tangent = knet.jvp(f, (w,), (t,), mode=mode)
        g = knet.grad(f, mode="tape")(w)
        assert np.isclose(tangent, np.dot(g[0], t[0]) + np.dot(g[1], t[1]))


def _combine(**parts):
    return parts["a"] * parts["b"]


def kwargs_helper(x):
    return np.sum(_combine(a=x, b=np.sin(x)))


def _total(*vs):
    return vs[0] * vs[1]


def varargs_helper(x):
    return np.sum(_total(x, np.cos(x)) * C)


@pytest.mark.parametrize("fun", [kwargs_helper, varargs_helper], ids=lambda f: f.__name__)
def test_helpers_with_varargs_in_forward_mode_and_hvp(fun):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", knet.FallbackWarning)
        _, tangent = knet.jvp(fun, (X.copy(),), (T,))
        assert np.isclose(tangent, np.dot(knet.grad(fun, mode="tape")(X.copy()), T), rtol=1e-9)
        assert_tree_allclose(knet.hvp(fun)(X.copy(), T), _fd_hvp(fun, X.copy(), T), rtol=1e-6, atol=1e-8)


class _Net:
    def __init__(self, k):
        self.k = k

    def loss(self, w):
        return np.sum(np.sin(w) * self.k)


def _scaled(x, s=1.0):
    return np.sum(np.tanh(x) * s)


def test_jvp_of_bound_methods_and_partials():
    import functools
    for fun in (_Net(C).loss, functools.partial(_scaled, s=3.0), functools.partial(_scaled, s=C)):
        want = np.dot(knet.grad(fun, mode="tape")(X.copy()), T)
        for mode in ("auto", "tape"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", knet.FallbackWarning)
                assert np.isclose(knet.jvp(fun, (X.copy(),), (T,), mode=mode)[1], want, rtol=1e-9)
    assert np.isclose(knet.jvp(_Net(C).loss, (X.copy(),), (T,), mode="source")[1],
                      np.dot(np.cos(X) * C, T), rtol=1e-12)


def lstm_loss(w):
    gates = w @ np.array([[0.5, -0.2], [0.1, 0.3]])
    h, c = knet.lstm(gates, np.array([[0.1, -0.2], [0.3, 0.05]]))
    return np.sum(h * np.array([[1.0, 2.0], [-1.0, 0.5]])) + np.sum(c)


def test_hvp_through_lstm_compiled():
    w = np.arange(16.0).reshape(8, 2) / 10.0 - 0.7
    v = np.cos(np.arange(16.0)).reshape(8, 2)
    product = knet.hvp(lstm_loss, mode="source")
    assert_tree_allclose(product(w, v), _fd_hvp(lstm_loss, w, v), rtol=1e-6, atol=1e-8)


_SQ = eval("lambda t: t * t * 3.0")     # a helper without source: its tangent runs on the tape


def sourceless_helper(x):
    return np.sum(_SQ(x) * C)


def test_hvp_through_a_helper_without_source_uses_the_tape():
    with pytest.warns(knet.FallbackWarning, match="whose tangent runs on the tape"):
        got = knet.hvp(sourceless_helper)(X.copy(), T)
    np.testing.assert_allclose(got, 6.0 * C * T, rtol=1e-12)


def _down(v, n):
    return v if n == 0 else _down(np.sin(v), n - 1)


def deep(x):
    return np.sum(_down(x, 2000))


def test_forward_mode_recursion_past_the_limit_is_a_clear_error():
    with pytest.raises(knet.UnsupportedError, match=r"recursion of _down deeper than Python's limit"):
        knet.jvp(deep, (X.copy(),), (T,), mode="source")


def builtin_sum_of_an_empty_list(x):
    hs = []
    return np.sum(np.cos(sum(hs, np.zeros((1, 3)) + x)[0, 1]) * x)


def test_the_tangent_of_sum_over_an_empty_list_keeps_the_start_shape():
    for mode in ("source", "tape"):
        _, tangent = knet.jvp(builtin_sum_of_an_empty_list, (X.copy(),), (T,), mode=mode)
        want = np.dot(knet.grad(builtin_sum_of_an_empty_list, mode="tape")(X.copy()), T)
        assert np.isclose(tangent, want, rtol=1e-12)


def _arctan_chain(a, ws):
    for q in ws:
        a = np.arctan(q @ a)
    return a ** 2


def replaces_element_after_the_call(x):
    hs = [np.outer(x, C)]
    t = _arctan_chain(x * 0.5, hs)
    hs[-1] = np.mean(t) * M
    return np.sum(hs[-1])


def test_hvp_sees_a_list_as_it_was_when_a_helper_got_it():
    # reversing the tangent program, call_jvp's adjoint runs the helper's tangent again at
    # pullback time: it must get the list as it was at the call, not after hs[-1] = ...
    # (in a tuple of arguments, so the list is copied inside the tuple)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", knet.FallbackWarning)
        got = knet.hvp(replaces_element_after_the_call)(X.copy(), T)
    assert_tree_allclose(got, _fd_hvp(replaces_element_after_the_call, X.copy(), T), rtol=1e-6, atol=1e-8)


def _taped_tangent(v):
    try:                      # forward mode does not compile try/except: its tangent is taped
        return np.sin(v)
    except FloatingPointError:
        return v


def _calls_taped_tangent(v):
    return _taped_tangent(v) * 2 + v


def _two_levels_to_a_taped_tangent(x):
    return np.sum(_calls_taped_tangent(x) * np.array([1.0, 2.0, 3.0]))


def test_hvp_whose_tangent_program_is_reversed_on_the_tape_goes_on_the_tape():
    # _calls_taped_tangent's tangent program, reversed on the tape, called the taped tangent of
    # _taped_tangent: the product came out with [1, 2, 3] replaced by their sum (session 7)
    x, t = np.array([0.3, -0.7, 1.2]), np.array([1.0, 0.5, -0.25])
    want = -2 * np.sin(x) * np.array([1.0, 2.0, 3.0]) * t
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        h = knet.hvp(_two_levels_to_a_taped_tangent, mode="auto")
        assert_tree_allclose(h(x, t), want, rtol=1e-10)
    assert h.mode == "tape"
