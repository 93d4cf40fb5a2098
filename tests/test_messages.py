"""What knetc tells the user: warnings point at the user's call, modes and sources are honest,
one problem gives one message."""
import copy
import inspect
import statistics
import warnings

import numpy as np
import pytest

import knetc as knet

X = np.array([0.3, -0.7, 1.2])


def _line_of(marker):
    """The line number in this file of the line containing ``marker`` (a comment)."""
    lines = inspect.getsource(inspect.getmodule(_line_of)).splitlines()
    return next(i for i, text in enumerate(lines, 1) if marker in text and "_line_of" not in text)


def _fallback_warnings(record):
    return [w for w in record if issubclass(w.category, knet.FallbackWarning)]


def test_fallback_warning_points_at_the_users_call():
    def taped(x):
        return sum(v * v for v in x)
    g = knet.grad(taped)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        dx = g(X)  # the call: marker-1
    (w,) = _fallback_warnings(record)
    assert w.filename == __file__ and w.lineno == _line_of("marker-1")
    np.testing.assert_allclose(dx, 2 * X)


def test_fallback_warning_of_a_helper_points_at_the_users_call():
    def helper(x):
        return sum(v * v for v in x)

    def loss(x):
        return helper(x) + np.sum(x)
    g = knet.grad(loss)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        dx = g(X)  # the call: marker-2
    (w,) = _fallback_warnings(record)
    assert "helper runs on the tape" in str(w.message)
    assert w.filename == __file__ and w.lineno == _line_of("marker-2")
    np.testing.assert_allclose(dx, 2 * X + 1)
    assert g.mode == "mixed"
    assert "# helper runs on the tape (no generated code): a generator expression" in g.source
    assert g.source.startswith("def loss_vjp(x, helper):")


def test_mode_before_the_first_call_does_not_guess():
    def taped(x):
        return sum(v * v for v in x)

    def compiled(x):
        return np.sum(x * x)
    g, h = knet.grad(taped), knet.grad(compiled)
    assert g.mode == h.mode == "not compiled yet"
    assert knet.grad(compiled, mode="tape").mode == "tape"
    with pytest.warns(knet.FallbackWarning):
        g(X)
    h(X)
    assert (g.mode, h.mode) == ("tape", "source")


def test_verbose_prints_the_real_mode(capsys):
    def helper(x):
        return sum(v * v for v in x)

    def loss(x):
        return helper(x) * 2.0
    g = knet.grad(loss, verbose=True)
    with pytest.warns(knet.FallbackWarning):
        np.testing.assert_allclose(g(X), 4 * X)
    out = capsys.readouterr().out
    assert "# knetc: compiled the gradient of loss (mode: mixed)" in out
    assert "# helper runs on the tape" in out
    g(X)
    assert capsys.readouterr().out == ""          # once


def test_missing_rule_is_one_message():
    @knet.primitive
    def no_rule(x):
        return x * 2.0

    def loss(x):
        return np.sum(no_rule(x))
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        with pytest.raises(knet.KnetError) as err:
            knet.grad(loss)(X)
    assert "no_rule" in str(err.value)
    assert _fallback_warnings(record) == []       # not a warning first and then the error


def test_wrt_of_the_wrong_type_says_so():
    def loss(w, x):
        return np.sum(w * x)
    with pytest.raises(knet.GradientInputError, match="wrt must be an argument index .* not str 'w'"):
        knet.grad(loss, wrt="w")(X, X)
    with pytest.raises(knet.GradientInputError, match="not bool True"):
        knet.grad(loss, wrt=True)(X, X)
    with pytest.raises(knet.GradientInputError, match="out of range: loss takes 2"):
        knet.grad(loss, wrt=2)(X, X)


def test_check_finite_warns_once():
    def loss(x):
        return np.sum(np.log(x))
    g = knet.grad(loss, check_finite=True)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        with pytest.raises(knet.KnetError, match="NaN or inf"):
            g(np.array([1.0, 0.0]))
    logs = [w for w in record if "divide by zero encountered in log" in str(w.message)]
    assert len(logs) == 1


def _mean_of_two(x):
    return statistics.mean([x[0] * 2.0, x[1]]) * x[2]


def test_library_helpers_are_refused_at_the_users_line_and_the_tape_names_it_too():
    # statistics.mean is Python source of the standard library: never compiled; on the
    # tape it fails inside statistics.py, and the message leads back to this file
    x = np.array([0.3, -0.7, 1.2])
    with pytest.raises(knet.UnsupportedError, match=r"statistics\.mean on a differentiated value.*test_messages\.py:\d+"):
        knet.grad(_mean_of_two, mode="source")(x)
    with pytest.raises(knet.KnetError, match=r"statistics\.py:\d+, called from .*test_messages\.py:\d+"):
        knet.grad(_mean_of_two, mode="tape")(x)


def test_copies_pass_the_gradient_in_both_modes():
    def f(w):
        v = copy.deepcopy(w)
        u = copy.copy(v)
        return np.sum(np.tanh(u["a"]) * w["b"])
    w = {"a": np.array([0.3, -0.7]), "b": np.array([0.5, 2.0])}
    want = {"a": (1 - np.tanh(w["a"]) ** 2) * w["b"], "b": np.tanh(w["a"]) * 1.0}
    for mode in ("source", "tape"):
        g = knet.grad(f, mode=mode)(w)
        np.testing.assert_allclose(g["a"], want["a"], rtol=1e-12)
        np.testing.assert_allclose(g["b"], want["b"], rtol=1e-12)
