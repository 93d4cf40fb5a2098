"""The tape is sound: right gradients or clear errors, and no traced values left behind.

- A traced value reaching an argument whose rule has no VJP is an error
  naming the function, the argument and the user's line (never a zero).
- After a gradient call the caller's lists and dicts hold plain arrays, with
  the writes the function made into them (Knet's language-model idiom:
  ``s[0] = lstm(...)`` on a state list the loss was given), as in compiled code.
- Writing into a differentiated list or dict argument gives the right gradient.
- Keyword-only parameters work.
Every gradient is checked against central finite differences (float64).
"""
import math
import warnings

import numpy as np
import pytest

import knetc as knet
import knetc.nn as nn
from knetc.runtime.rules import defvjp, primitive
from knetc.testing import numeric_grad

R = np.random.default_rng(5)
H, B = 3, 2


def grad_in(f, mode, *args, wrt=0, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", knet.FallbackWarning)
        return knet.grad(f, wrt=wrt, mode=mode)(*args, **kwargs)


def assert_close(got, want):
    if isinstance(want, dict):
        assert set(got) == set(want)
        for k in want:
            assert_close(got[k], want[k])
    elif isinstance(want, (list, tuple)):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert_close(g, w)
    else:
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)


def assert_plain(x):
    """No traced value anywhere inside x."""
    if isinstance(x, dict):
        for v in x.values():
            assert_plain(v)
    elif isinstance(x, (list, tuple)):
        for v in x:
            assert_plain(v)
    else:
        # type(), not isinstance: a traced value passes isinstance(x, np.ndarray) in user code
        assert type(x) in (np.ndarray, float, int) or issubclass(type(x), np.generic), type(x)
        np.asarray(x)


def params():
    return [R.standard_normal((4 * H, H)) * 0.5, R.standard_normal((4 * H, 1)) * 0.1]


def fresh_state():
    return [R.standard_normal((H, B)) * 0.1, R.standard_normal((H, B)) * 0.1]


# --- Knet's language-model idiom: the loss writes the new state into the list it was given -------
def lm_loss(w, s, x):
    h, c = nn.lstm(w[0] @ s[0] + w[1] + x, s[1])
    s[0], s[1] = h, c
    return np.sum(h * h)


def lm_loss_two_steps(w, s, xs):
    total = 0.0
    for x in xs:
        s[0], s[1] = nn.lstm(w[0] @ s[0] + w[1] + x, s[1])
        total = total + np.sum(s[0] ** 2)
    return total


def lm_loss_dict_state(w, state, x):
    state["h"], state["c"] = nn.lstm(w[0] @ state["h"] + w[1] + x, state["c"])
    return np.sum(np.tanh(state["h"]))


def lm_loss_appends(w, hs, x):
    h, _ = nn.lstm(w[0] @ hs[-1] + w[1] + x, np.zeros((H, B)))
    hs.append(h)
    return np.sum(h)


def lm_loss_nested(w, model, x):
    layer = model["layers"][0]
    layer[0], layer[1] = nn.lstm(w[0] @ layer[0] + w[1] + x, layer[1])
    return np.sum(layer[0])


def _copy(s):
    if isinstance(s, dict):
        return {k: _copy(v) for k, v in s.items()}
    if isinstance(s, list):
        return [_copy(v) for v in s]
    if isinstance(s, tuple):
        return tuple(_copy(v) for v in s)
    return s.copy()


STATE_CASES = [
    (lm_loss, fresh_state, lambda: R.standard_normal((4 * H, B))),
    (lm_loss_two_steps, fresh_state, lambda: [R.standard_normal((4 * H, B)) for _ in range(2)]),
    (lm_loss_dict_state, lambda: dict(zip("hc", fresh_state())), lambda: R.standard_normal((4 * H, B))),
    (lm_loss_appends, lambda: [R.standard_normal((H, B))], lambda: R.standard_normal((4 * H, B))),
    (lm_loss_nested, lambda: {"layers": [fresh_state()]}, lambda: R.standard_normal((4 * H, B))),
]


@pytest.mark.parametrize("mode", ["auto", "source", "tape"])
@pytest.mark.parametrize("loss, state, data", STATE_CASES, ids=[c[0].__name__ for c in STATE_CASES])
def test_state_written_by_the_loss_is_plain_afterwards(loss, state, data, mode):
    w, s0, x = params(), state(), data()
    want = numeric_grad(lambda w: loss(w, _copy(s0), x), (w,))   # a fresh state for each call
    expected_state = _copy(s0)
    loss(w, expected_state, x)                     # one plain call: the side effect to reproduce
    s = _copy(s0)
    if mode == "source":
        try:
            got = grad_in(loss, mode, w, s, x)
        except knet.UnsupportedError as e:      # refusing is allowed; then it names the line
            assert "test_tape_soundness.py:" in str(e)
            return
    else:
        got = grad_in(loss, mode, w, s, x)
    assert_close(got, want)
    assert_plain(s)
    assert_close(s, expected_state)
    # and the next call, fed the updated state, works and is right again
    s1 = _copy(s)
    want2 = numeric_grad(lambda w: loss(w, _copy(s1), x), (w,))
    assert_close(grad_in(loss, mode, w, s, x), want2)


def test_state_passed_by_keyword_is_plain_afterwards():
    w, s, x = params(), fresh_state(), R.standard_normal((4 * H, B))
    grad_in(lm_loss, "tape", w, x=x, s=s)
    assert_plain(s)


def test_hvp_leaves_no_boxes_in_a_closure_state_list():
    s = [np.zeros(3)]

    def f(x):
        s[0] = np.sin(x) * x
        return np.sum(s[0] ** 2)
    x, v = R.standard_normal(3), R.standard_normal(3)
    h = knet.hvp(f)(x, v)
    assert_plain(s)
    fd = (knet.grad(f, mode="tape")(x + 1e-5 * v) - knet.grad(f, mode="tape")(x - 1e-5 * v)) / 2e-5
    np.testing.assert_allclose(h, fd, rtol=1e-5, atol=1e-7)
    assert_plain(s)
    np.testing.assert_allclose(s[0], np.sin(x - 1e-5 * v) * (x - 1e-5 * v))


def test_gradient_of_gradient_leaves_no_boxes_in_a_state_argument():
    def f(x, s):
        s[0] = np.sin(x) * x
        return np.sum(s[0] ** 2)
    inner = knet.grad(f, mode="tape")
    v = R.standard_normal(3)

    def outer(x, s):
        return np.sum(inner(x, s) * v)
    x, s = R.standard_normal(3), [np.zeros(3)]
    got = knet.grad(outer, mode="tape")(x, s)
    assert_plain(s)
    assert_close(got, numeric_grad(lambda x: outer(x, [np.zeros(3)]), (x,)))


# --- writes into a differentiated list or dict argument ------------------------------------------
def doubles_first(w):
    w[0] = w[0] * 2
    return np.sum(w[0] * w[1])


def appends_and_reads(w):
    w.append(w[0] * 3)
    return np.sum(w[-1] * w[1]) + np.sum(w[0])


def overwrites_with_other(w):
    w[1] = w[0]
    return np.sum(w[1] * w[0])


def pops(w):
    v = w.pop()
    return np.sum(v * w[0])


def inserts_front(w):
    w.insert(0, np.tanh(w[1]))
    return np.sum(w[0] * w[2])


def nested_write(w):
    w[1][0] = w[1][0] ** 2 + w[0]
    return np.sum(w[1][0] * w[1][1])


def dict_write(d):
    d["a"] = d["a"] ** 2
    d["c"] = d["b"] * 3
    return np.sum(d["a"] * d["b"]) + np.sum(d["c"])


def loop_update(w):
    for i in range(len(w)):
        w[i] = np.sin(w[i]) * w[0]
    return np.sum(w[0] + 2 * w[1])


LIST_CASES = [
    (doubles_first, lambda: [R.standard_normal(3), R.standard_normal(3)]),
    (appends_and_reads, lambda: [R.standard_normal(3), R.standard_normal(3)]),
    (overwrites_with_other, lambda: [R.standard_normal(3), R.standard_normal(3)]),
    (pops, lambda: [R.standard_normal(3), R.standard_normal(3)]),
    (inserts_front, lambda: [R.standard_normal(3), R.standard_normal(3)]),
    (nested_write, lambda: [R.standard_normal(3), [R.standard_normal(3), R.standard_normal(3)]]),
    (dict_write, lambda: {"a": R.standard_normal(3), "b": R.standard_normal(3)}),
    (loop_update, lambda: [R.standard_normal(3), R.standard_normal(3)]),
]


@pytest.mark.parametrize("f, make", LIST_CASES, ids=[c[0].__name__ for c in LIST_CASES])
def test_writes_into_a_differentiated_argument_on_the_tape(f, make):
    w0 = make()
    want = numeric_grad(lambda w: f(_copy(w)), (w0,))
    after = _copy(w0)
    f(after)                                       # the side effect of one plain call
    w = _copy(w0)
    got = grad_in(f, "tape", w)
    # the gradient has the structure of the argument as it was passed in
    if isinstance(w0, dict):
        assert set(got) == set(w0)
        assert_close({k: got[k] for k in w0}, want)
    else:
        assert len(got) == len(w0)
        assert_close(got, want)
    assert_plain(w)
    assert_close(w, after)


# --- a traced value at an argument without a VJP -------------------------------------------------
@primitive
def half_rule(x, y):
    return x * np.cos(y)


defvjp(half_rule, lambda g, ans, x, y: g * np.cos(y))


@primitive
def list_rule(xs, scale):
    return scale * (xs[0] + xs[1])


defvjp(list_rule, None, lambda g, ans, xs, scale: np.sum(g * (xs[0] + xs[1])))


def uses_half(x, y):
    return np.sum(half_rule(x, y) ** 2)


def uses_half_nested(x, y):
    return np.sum(np.exp(half_rule(np.sin(x), y + x)))


def uses_list_rule(x, y):
    return np.sum(list_rule([x, y], 2.0))


def test_missing_vjp_is_an_error_naming_function_argument_and_line():
    x, y = R.standard_normal(3), R.standard_normal(3)
    for f, arg in ((uses_half, "argument 2 (y)"), (uses_half_nested, "argument 2 (y)"),
                   (uses_list_rule, "argument 1 (xs)")):
        for wrt in (1, (0, 1)) if f is not uses_list_rule else (0, 1):
            with pytest.raises(knet.KnetError) as info:
                grad_in(f, "tape", x, y, wrt=wrt)
            text = str(info.value)
            assert "half_rule" in text or "list_rule" in text, text
            assert arg in text, text
            assert "test_tape_soundness.py:" in text, text


def test_missing_vjp_in_auto_mode_is_an_error_too():
    x, y = R.standard_normal(3), R.standard_normal(3)
    with pytest.raises(knet.KnetError, match="half_rule"):
        grad_in(uses_half, "auto", x, y, wrt=1)
    with pytest.raises(knet.KnetError, match="half_rule"):
        grad_in(uses_half, "source", x, y, wrt=1)


def test_the_argument_with_a_vjp_is_still_right():
    x, y = R.standard_normal(3), R.standard_normal(3)
    for mode in ("auto", "source", "tape"):
        assert_close(grad_in(uses_half, mode, x, y, wrt=0), numeric_grad(uses_half, (x, y), 0))


def where_on_traced_condition(x):
    return np.sum(np.where(x, x ** 2, 0.0))


def test_zero_derivative_argument_is_not_an_error():
    # np.where's condition has a zero derivative: a traced condition is fine
    x = R.uniform(0.2, 1.0, 4) * R.choice([-1.0, 1.0], 4)
    assert_close(grad_in(where_on_traced_condition, "tape", x), numeric_grad(where_on_traced_condition, (x,)))
    x[1] = 0.0
    assert_close(grad_in(where_on_traced_condition, "tape", x), 2 * x * (x != 0))


def math_log_base(x, b):
    return math.log(x, b) * x


@pytest.mark.parametrize("mode", ["auto", "tape"])
def test_math_log_base_both_arguments(mode):
    got = grad_in(math_log_base, mode, 2.5, 3.0, wrt=(0, 1))
    assert_close(got, numeric_grad(math_log_base, (2.5, 3.0), (0, 1)))


# --- isinstance: a branch on it takes the plain call's path ------------------------------------
def isinstance_branch(x):
    if isinstance(x, np.ndarray):
        return np.sum(x ** 3)
    return np.sum(x)


def isinstance_intermediate(x):
    h = np.tanh(x) * 2
    return np.sum(h * h) if isinstance(h, np.ndarray) else 0.0


def isinstance_float_branch(w):
    a, b = w
    return a * b * 3 if isinstance(a, float) else a + b


def isinstance_in_a_helper(x):
    def scale(v):
        return v * 2 if isinstance(v, (np.ndarray, np.generic)) else v
    return np.sum(scale(x) * x)


def calls_tolist(x):
    return sum(x.tolist()) + sum(sum(r) for r in np.outer(x, x).tolist())


def sorts_in_place(x):
    y = x * 1.0
    y.sort()
    return np.sum(y * np.arange(3.0))


@pytest.mark.parametrize("mode", ["auto", "tape"])
@pytest.mark.parametrize("f, arg", [(isinstance_branch, np.array([0.3, -0.7, 1.2])),
                                    (isinstance_intermediate, np.array([0.3, -0.7, 1.2])),
                                    (isinstance_float_branch, [0.7, -1.3]),
                                    (isinstance_in_a_helper, np.array([0.3, -0.7, 1.2]))])
def test_isinstance_branches_follow_the_plain_call(f, arg, mode):
    assert_close(grad_in(f, mode, arg), numeric_grad(f, (arg,)))


def type_is_ndarray_branch(x):
    if type(x) is np.ndarray:
        return np.sum(x ** 3)
    return np.sum(x)


def type_of_float_branch(w):
    a, b = w
    return a * b if type(a) is float else a - b


@pytest.mark.parametrize("f, arg", [(type_is_ndarray_branch, np.array([0.3, -0.7, 1.2])),
                                    (type_of_float_branch, [0.7, -1.3])])
def test_type_branches_in_the_differentiated_module_follow_the_plain_call(f, arg):
    assert_close(grad_in(f, "tape", arg), numeric_grad(f, (arg,)))
    assert type is __builtins__["type"] if isinstance(__builtins__, dict) else type is __builtins__.type


def test_traced_values_look_like_their_values_and_errors_say_so():
    seen = []

    def f(x):
        seen.append((isinstance(x, np.ndarray), type(x).__name__, isinstance(type, type)))
        return np.sum(x * x)
    knet.grad(f, mode="tape")(np.ones(3))
    assert seen == [(True, "ndarray", True)]          # documented in the README
    with pytest.raises(AttributeError, match=r"'sort'.*test_tape_soundness\.py:\d+.*type\(x\) is Box"):
        knet.grad(sorts_in_place, mode="tape")(np.ones(3))
    with pytest.raises(knet.KnetError):
        knet.grad(sorts_in_place, mode="tape")(np.ones(3))


def test_tolist_of_a_traced_array():
    x = R.standard_normal(3)
    assert_close(grad_in(calls_tolist, "tape", x), numeric_grad(calls_tolist, (x,)))


# --- keyword-only parameters -------------------------------------------------------------------
def kwonly(w, *, lam=0.5, power=2):
    return np.sum(w[0] * w[1]) + lam * np.sum(w[0] ** power)


def kwonly_no_default(x, *, scale):
    return np.sum(np.sin(x) * scale)


@pytest.mark.parametrize("mode", ["auto", "source", "tape"])
def test_keyword_only_parameters(mode):
    w = [R.standard_normal(3), R.standard_normal(3)]
    want = numeric_grad(kwonly, (w,), kwargs={"lam": 2.0, "power": 3})
    assert_close(grad_in(kwonly, mode, w, lam=2.0, power=3), want)
    assert_close(grad_in(kwonly, mode, w), numeric_grad(kwonly, (w,)))
    x = R.standard_normal(4)
    assert_close(grad_in(kwonly_no_default, mode, x, scale=1.5),
                 numeric_grad(kwonly_no_default, (x,), kwargs={"scale": 1.5}))


# --- in-place updates on the tape: rebinding where nothing else sees the array, else an error ----
def iadd_unshared(x):
    h = x * 1.0
    h += x
    h *= 2.0
    total = 0.0
    for i in range(3):
        total += np.sum(h * i)
    return total


def iadd_in_container_slot(x):
    d = {"a": x * 2.0}
    d["a"] += x
    hs = [np.sin(x)]
    hs[0] *= 3.0
    return np.sum(d["a"] * hs[0])


def scalar_iadd_of_traced(x):
    s = np.sum(x)
    t = s
    t += 1.0            # a scalar: rebinding is what Python does for it too
    return s * t


@pytest.mark.parametrize("f", [iadd_unshared, iadd_in_container_slot, scalar_iadd_of_traced])
def test_inplace_updates_nothing_else_sees_are_right(f):
    x = R.standard_normal(3)
    assert_close(grad_in(f, "tape", x), numeric_grad(f, (x,)))


def iadd_alias(x):
    a = x * 1.0
    b = a
    b += x
    return np.sum(a * x)


def imul_slice_view(x):
    a = x * 1.0
    v = a[:2]
    v *= 3.0
    return np.sum(a * a)


def iadd_row_of_matrix(x):
    m = np.outer(x, x)
    for row in m:
        row += 1.0
    return np.sum(m)


def iadd_after_view_taken(x):
    a = x * 1.0
    v = a[1:]
    a -= 1.0
    return np.sum(v * v)


def helper_scales_in_place(x):
    def scale(v):
        v *= 3.0
    y = x * 1.0
    scale(y)
    return np.sum(y * y)


def iadd_argument(x):
    x += 1.0
    return np.sum(x * x)


def iadd_aliased_in_list(x):
    h = np.tanh(x)
    hs = [h]
    h += 1.0
    return np.sum(hs[0] * x)


@pytest.mark.parametrize("f", [iadd_alias, imul_slice_view, iadd_row_of_matrix, iadd_after_view_taken,
                               helper_scales_in_place, iadd_argument, iadd_aliased_in_list])
def test_inplace_updates_others_would_see_are_errors(f):
    with pytest.raises(knet.KnetError, match=r"in place.*test_tape_soundness\.py:\d+"):
        grad_in(f, "tape", R.standard_normal(3))


def sets_shape(x):
    y = np.concatenate([x, x])
    y.shape = (2, 3)
    return np.sum(y * np.arange(6.0).reshape(2, 3))


def test_setting_shape_on_a_traced_array_is_an_error_naming_the_line():
    with pytest.raises(knet.KnetError, match=r"x\.shape.*test_tape_soundness\.py:\d+"):
        grad_in(sets_shape, "tape", R.standard_normal(3))
    x = R.standard_normal(3)
    assert knet.grad(lambda x: np.sum(x * x.shape[0]), mode="tape")(x).shape == (3,)


def operator_iadd_call(x):
    y = x * 2.0
    z = __import__("operator").iadd(y, x)      # NumPy: y and z are one array, 3x
    return np.sum(y * np.arange(3.0)) + np.sum(z)


def dunder_imul_call(x):
    y = x * 2.0
    y.__imul__(x)
    return np.sum(y)


def augmented_assignments(x):
    y = x * 2.0
    y += x
    y *= 2.0
    hs = [x * 1.0]
    hs[0] -= x * 3
    return np.sum(y * np.arange(3.0)) + np.sum(hs[0])


@pytest.mark.parametrize("f", [operator_iadd_call, dunder_imul_call])
def test_an_in_place_operator_called_as_a_function_is_an_error(f):
    # the tape rebinds the name an augmented assignment assigns; a call has no such name
    with pytest.raises(knet.KnetError, match=r"operator\.i.*test_tape_soundness\.py:\d+"):
        grad_in(f, "tape", R.standard_normal(3))


def test_augmented_assignments_on_the_tape_stay_right():
    x = R.standard_normal(3)
    got = knet.grad(augmented_assignments, mode="tape")(x)
    np.testing.assert_allclose(got, numeric_grad(augmented_assignments, (x,)), rtol=1e-7)


class _CachingModel:
    """A model that keeps its last activation on self, as PyTorch-style code does."""

    def __init__(self):
        self.h = None

    def loss(self, x):
        self.h = np.tanh(x)
        return np.sum(self.h ** 2)


_LATEST = []


def _records_latest(x):
    _LATEST.clear()
    _LATEST.append(x * 2.0)
    return np.sum(x * _LATEST[0])


@pytest.mark.parametrize("operator", ["grad", "hvp", "hessian"])
def test_no_traced_value_is_left_in_attributes_or_globals(operator):
    model = _CachingModel()
    x = R.standard_normal(3)
    for fun, left in [(model.loss, lambda: model.h), (_records_latest, lambda: _LATEST[0])]:
        if operator == "grad":
            knet.grad(fun, mode="tape")(x)
        elif operator == "hvp":
            knet.hvp(fun, mode="tape")(x, np.ones(3))
        else:
            knet.hessian(fun)(x)
        assert type(left()) is np.ndarray, (operator, type(left()))
