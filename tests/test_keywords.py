"""Rules own their optional arguments, in compiled code and on the tape.

A rule models the options it declares (``keywords=``) and nothing else: a
modelled option must give the right gradient (checked against central finite
differences in float64, in auto, source and tape mode), any other option is
refused naming the function, the option and the user's line. Differentiated
arguments passed by keyword are differentiated, not dropped.
"""
import warnings

import numpy as np
import pytest

import knetc as knet
import knetc.nn as nn
from knetc.runtime.rules import defvjp, primitive
from knetc.testing import numeric_grad

MODES = ["auto", "source", "tape"]
R = np.random.default_rng(11)
X = R.standard_normal((3, 4))
V = R.standard_normal(5)
M = R.standard_normal((3, 4)) > 0
M[0] = True                       # no column is empty
ROWMASK = np.array([True, False, True, True])
W = R.standard_normal((3, 4))


def grad_in(f, mode, *args, wrt=0):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", knet.FallbackWarning)
        return knet.grad(f, wrt=wrt, mode=mode)(*args)


def check(f, *args, mode, wrt=0):
    want = numeric_grad(f, args, wrt)
    got = grad_in(f, mode, *args, wrt=wrt)
    if isinstance(wrt, tuple):
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-8)
    else:
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)
    return want


# --- modelled options: where=, initial=, mode=, dtype= --------------------------------------
def sum_where(x):
    return np.sum(x * W, where=M)


def sum_axis_where(x):
    return np.sum(np.sum(x ** 2, axis=1, where=ROWMASK) * np.arange(3.0))


def sum_where_keepdims_method(x):
    return np.sum(x.sum(axis=0, keepdims=True, where=M) * W[:1])


def mean_where(x):
    return np.mean(x * W, where=M)


def mean_axis_where(x):
    return np.sum(np.mean(np.sin(x), axis=0, where=M) * np.arange(4.0))


def prod_where(x):
    return np.sum(np.prod(x, axis=1, where=ROWMASK) * np.arange(3.0))


def sum_initial(x):
    return np.sum(x, initial=2.5) ** 2


def sum_axis_initial(x):
    return np.sum(np.sum(x, axis=0, initial=-1.0) ** 2)


def prod_initial(x):
    return np.sum(np.prod(x, axis=0, initial=1.7))


def max_initial_x_wins(x):
    return np.max(x, initial=-10.0) * 3


def max_initial_wins(x):
    return np.max(x, initial=10.0) * 3 + np.sum(x)


def max_initial_some_columns(x):
    return np.sum(np.max(x, axis=0, initial=0.0) * np.arange(1.0, 5.0))


def min_where_initial(x):
    return np.sum(np.min(x, axis=1, where=M, initial=5.0) * np.arange(1.0, 4.0))


def take_clip(x):
    return np.sum(np.take(x, [0, 13, -20, 5], mode="clip") * np.arange(4.0))


def take_wrap(x):
    return np.sum(np.take(x, [1, -5, 9], axis=1, mode="wrap") * W[:, :3])


def take_wrap_method(x):
    return np.sum(x.take([0, 14, -1], mode="wrap") ** 2)


def sum_float_dtype(x):
    return np.sum(x * W, dtype=np.float64) + np.mean(x, dtype="float64")


def cumsum_axis_dtype(x):
    return np.sum(np.cumsum(x, axis=1, dtype=np.float64) * W)


MODELLED = [sum_where, sum_axis_where, sum_where_keepdims_method, mean_where, mean_axis_where,
            prod_where, sum_initial, sum_axis_initial, prod_initial, max_initial_x_wins,
            max_initial_wins, max_initial_some_columns, min_where_initial, take_clip, take_wrap,
            take_wrap_method, sum_float_dtype, cumsum_axis_dtype]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("f", MODELLED)
def test_modelled_options_give_the_right_gradient(f, mode):
    check(f, X, mode=mode)


def test_modelled_options_compile():
    for f in MODELLED:
        g = knet.grad(f, mode="auto")
        g(X)
        assert g.mode == "source", f.__name__


def test_where_and_initial_change_the_gradient():
    # the options are not silently ignored: the gradient differs from the plain reduction's
    assert not np.allclose(numeric_grad(sum_where, (X,)), W)
    assert np.allclose(numeric_grad(max_initial_wins, (X,)), np.ones_like(X))


# --- differentiated arguments passed by keyword -----------------------------------------------
def sum_by_keyword(x):
    return np.sum(a=x * W)


def mean_by_keyword_axis(x):
    return np.sum(np.mean(a=x ** 2, axis=0) * np.arange(4.0))


def dot_by_keyword(x):
    return np.sum(np.dot(W.T, b=x))


def clip_bounds_by_keyword(lo):
    return np.sum(np.clip(X, min=lo, max=lo + 1.0))


def clip_bounds_positional(lo):
    return np.sum(np.clip(X, lo, 0.9) ** 2)


def batchnorm_keywords(gamma, beta):
    return np.sum(nn.batchnorm(X, gamma=gamma, beta=beta) * W)


def batchnorm_reordered(gamma, beta):
    return np.sum(nn.batchnorm(X, beta=beta, gamma=gamma) * W)


def batchnorm_x_by_keyword(x):
    return np.sum(nn.batchnorm(x=x, gamma=np.ones((3, 1)), beta=np.zeros((3, 1))) * W)


def bce_target_by_keyword(y):
    return nn.bce(X, y=y)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("f", [sum_by_keyword, mean_by_keyword_axis, dot_by_keyword,
                               batchnorm_x_by_keyword])
def test_differentiated_argument_by_keyword(f, mode):
    want = check(f, X, mode=mode)
    assert np.any(want != 0)


@pytest.mark.parametrize("mode", MODES)
def test_clip_bounds_are_differentiated(mode):
    for f in (clip_bounds_by_keyword, clip_bounds_positional):
        for lo in (-0.3, np.array([[-0.5], [0.1], [-1.2]])):
            want = check(f, lo, mode=mode)
            assert np.all(np.asarray(want) != 0)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("f", [batchnorm_keywords, batchnorm_reordered])
def test_batchnorm_parameters_by_keyword(f, mode):
    gamma, beta = R.standard_normal((3, 1)), R.standard_normal((3, 1))
    check(f, gamma, beta, mode=mode, wrt=(0, 1))


@pytest.mark.parametrize("mode", MODES)
def test_bce_target_by_keyword(mode):
    x = 1 / (1 + np.exp(-X))
    check(lambda y: nn.bce(x, y=y), R.uniform(0.2, 0.8, X.shape), mode="tape")
    check(bce_target_by_keyword_sig, R.uniform(0.2, 0.8, X.shape), mode=mode)


def bce_target_by_keyword_sig(y):
    return nn.bce(1 / (1 + np.exp(-X)), y=y)


# --- options a rule does not model are refused, in both modes -----------------------------------
def var_where(x):
    return np.var(x, where=M)


def std_correction(x):
    return np.std(x, correction=1)


def exp_out(x):
    buf = np.zeros_like(x)
    return np.sum(np.exp(x, out=buf))


def exp_positional_out(x):
    buf = np.zeros_like(x)
    return np.sum(np.exp(x, buf))


def add_where(x):
    return np.sum(np.add(x, W, where=M, out=None))


def multiply_casting(x):
    return np.sum(np.multiply(x, W, casting="unsafe"))


def sum_int_dtype(x):
    return np.sum(x * 10, dtype=int) * 1.0 + np.sum(x)


def cumsum_int_dtype(x):
    return np.sum(np.cumsum(x, dtype=np.int64) * 1.0)


def concatenate_casting(x):
    return np.sum(np.concatenate([x, W], casting="unsafe"))


def linspace_retstep(x):
    v, step = np.linspace(x[0, 0], x[0, 1], 5, retstep=True)
    return np.sum(v) * step


def take_out(x):
    buf = np.zeros(2)
    return np.sum(np.take(x, [0, 1], out=buf))


def reshape_then_var_where(x):
    return np.sum(x.reshape(12).var(where=M.reshape(12)))


REFUSED = [(var_where, "where"), (std_correction, "correction"), (exp_out, "out"),
           (exp_positional_out, "out"), (add_where, "where"), (multiply_casting, "casting"),
           (sum_int_dtype, "dtype"), (cumsum_int_dtype, "dtype"), (concatenate_casting, "casting"),
           (linspace_retstep, "retstep"), (take_out, "out"), (reshape_then_var_where, "where")]


@pytest.mark.parametrize("f, option", REFUSED, ids=[f.__name__ for f, _ in REFUSED])
def test_unmodelled_options_are_refused_by_the_compiler(f, option):
    with pytest.raises(knet.UnsupportedError, match=rf"{option}.*test_keywords\.py:\d+"):
        knet.grad(f, mode="source")(X)


@pytest.mark.filterwarnings("ignore:'where' used without 'out'")
@pytest.mark.parametrize("f, option", REFUSED, ids=[f.__name__ for f, _ in REFUSED])
@pytest.mark.parametrize("mode", ["tape", "auto"])
def test_unmodelled_options_are_refused_on_the_tape(f, option, mode):
    with pytest.raises(knet.KnetError, match=rf"{option}"):
        grad_in(f, mode, X)
    try:
        grad_in(f, mode, X)
    except knet.KnetError as e:
        assert "test_keywords.py:" in str(e), str(e)


def test_defaults_and_none_are_accepted():
    def f(x):
        return (np.sum(x, axis=None, out=None, keepdims=False, where=True) + np.var(x, ddof=0)
                + np.sum(np.exp(x, out=None, casting="same_kind")) + np.sum(np.take(x, [1], mode="raise")))
    for mode in MODES:
        check(f, X, mode=mode)


# --- user rules: the optional parameters their VJPs name, or what they declare -------------------
@primitive
def scaled(x, scale=1.0, shift=0.0):
    return scale * x + shift


defvjp(scaled, lambda g, ans, x, scale=1.0, shift=0.0: g * scale)


@primitive
def scaled_kw(x, scale=1.0, shift=0.0):
    return scale * x + shift


defvjp(scaled_kw, lambda g, ans, x, **kwargs: g * kwargs.get("scale", 1.0))


@primitive
def declared(x, scale=1.0, power=1):
    return scale * x ** power


def _declared_vjp(g, ans, x, scale=1.0, power=1):
    return g * scale * power * x ** (power - 1)


defvjp(declared, _declared_vjp, keywords=("scale",))


def uses_scaled(x):
    return np.sum(scaled(x, scale=3.0, shift=2.0) * W)


def uses_scaled_positional(x):
    return np.sum(scaled(x, 3.0, 2.0) * W)


def uses_scaled_kw_plain(x):
    return np.sum(scaled_kw(x) * W)


def uses_scaled_kw_option(x):
    return np.sum(scaled_kw(x, scale=3.0) * W)


def uses_declared(x):
    return np.sum(declared(x, scale=2.0) * W)


def uses_declared_undeclared(x):
    return np.sum(declared(x, power=2) * W)


def uses_declared_undeclared_positional(x):
    return np.sum(declared(x, 2.0, 3) * W)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("f", [uses_scaled, uses_scaled_positional, uses_scaled_kw_plain, uses_declared])
def test_user_rules_model_their_named_options(f, mode):
    check(f, X, mode=mode)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("f, option", [(uses_scaled_kw_option, "scale"), (uses_declared_undeclared, "power"),
                                       (uses_declared_undeclared_positional, "power")])
def test_user_rules_refuse_what_they_do_not_model(f, option, mode):
    with pytest.raises(knet.KnetError, match=option):
        grad_in(f, mode, X)


# --- a differentiated argument with no VJP is an error, never a zero ------------------------------
@primitive
def mix(x, y):
    return x * np.sin(y)


defvjp(mix, lambda g, ans, x, y: g * np.sin(y))


@primitive
def mix_none(x, y):
    return x * np.sin(y)


defvjp(mix_none, lambda g, ans, x, y: g * np.sin(y), None)


def loss_mix(x, y):
    return np.sum(mix(x, y))


def loss_mix_keyword(x, y):
    return np.sum(mix(x, y=y))


def loss_mix_none(x, y):
    return np.sum(mix_none(x, y))


def loss_clip_hi_by_position(x, y):
    return np.sum(np.clip(x, None, y))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("f", [loss_mix, loss_mix_keyword, loss_mix_none])
def test_missing_vjp_is_an_error(f, mode):
    x, y = X, R.standard_normal((3, 4))
    np.testing.assert_allclose(grad_in(f, mode, x, y, wrt=0), numeric_grad(f, (x, y), 0), rtol=1e-6)
    with pytest.raises(knet.KnetError, match=r"mix"):
        grad_in(f, mode, x, y, wrt=1)
    with pytest.raises(knet.KnetError, match=r"mix"):
        grad_in(f, mode, x, y, wrt=(0, 1))


def test_missing_vjp_error_names_argument_and_line():
    with pytest.raises(knet.KnetError) as info:
        grad_in(loss_mix, "tape", X, X, wrt=1)
    text = str(info.value)
    assert "argument 2 (y)" in text and "test_keywords.py:" in text, text
    with pytest.raises(knet.KnetError) as info:
        grad_in(loss_mix_keyword, "tape", X, X, wrt=1)
    assert "y=" in str(info.value) or "(y)" in str(info.value), str(info.value)


@pytest.mark.parametrize("mode", MODES)
def test_clip_upper_bound_alone(mode):
    x = X.copy()
    y = np.where(np.abs(x - 0.3) < 0.1, 0.5, 0.3)
    check(loss_clip_hi_by_position, x, y, mode=mode, wrt=(0, 1))


def sum_dtype_variable(x):
    dt = np.float64
    return np.sum(x * W, dtype=dt)


def test_a_dtype_the_compiler_cannot_see_is_refused_there_and_right_on_the_tape():
    with pytest.raises(knet.UnsupportedError, match=r"test_keywords\.py:\d+.*dtype= is given by a variable"):
        knet.grad(sum_dtype_variable, mode="source")(X)
    for mode in ("auto", "tape"):
        check(sum_dtype_variable, X, mode=mode)


# --- a differentiated option: sum's initial= has its own VJP; max's has none ---------------------
def sum_traced_initial(x):
    return np.sum(np.sum(x, axis=0, initial=x[0, 0] * 2) ** 2)


def max_traced_initial(x):
    return np.max(x, initial=x[0, 0] + 5.0)


def clip_lo_by_name(x):
    return np.sum(np.clip(W, a_min=x[0, 0], a_max=x[0, 1] + 2.0) ** 2)


@pytest.mark.parametrize("mode", MODES)
def test_traced_options(mode):
    check(sum_traced_initial, X, mode=mode)
    x = X.copy()
    x[0, 1] = 0.4
    check(clip_lo_by_name, x, mode=mode)
    with pytest.raises(knet.KnetError, match="initial"):
        grad_in(max_traced_initial, mode, X)
