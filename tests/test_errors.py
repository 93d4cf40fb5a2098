"""Every user-facing error message, asserted word for word where it matters."""
import re
import warnings

import numpy as np
import pytest

import knetc as knet


def loss(w, x):
    h = w @ x
    return np.sum(h)


def test_non_scalar_result():
    with pytest.raises(knet.GradientInputError,
                       match=r"knetc: <lambda> returned an array of shape \(3,\), expected a scalar"):
        knet.grad(lambda x: x * 2.0)(np.ones(3))


def test_integer_parameter_names_the_argument():
    with pytest.raises(knet.GradientInputError,
                       match=r"cannot differentiate with respect to w: it is an integer array \(dtype int64\)"):
        knet.grad(loss)(np.arange(6).reshape(2, 3), np.ones((3, 2)))
    with pytest.raises(knet.GradientInputError, match=r"with respect to w\['b'\]\[1\]: it is an integer \(2\)"):
        knet.grad(lambda w: w["a"] * 1.0)({"a": 1.0, "b": [1.0, 2]})


def test_wrt_out_of_range():
    with pytest.raises(knet.GradientInputError, match=r"wrt=5 is out of range: loss takes 2 argument\(s\)"):
        knet.grad(loss, wrt=5)(np.ones((2, 3)), np.ones((3, 2)))


def test_shape_mismatch_is_reraised_with_the_users_line():
    with pytest.raises(ValueError, match="matmul") as e:
        knet.grad(loss)(np.ones((2, 3)), np.ones((4, 2)))
    note = "\n".join(e.value.__notes__)
    assert "knetc: raised while running the generated code for" in note
    assert f"test_errors.py:{loss.__code__.co_firstlineno + 1}: h = w @ x" in note


def test_nan_check_names_generated_and_user_line():
    def f(x):
        y = np.sqrt(x)
        return np.sum(y * 2)
    g = knet.grad(f, check_finite=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(FloatingPointError) as e:
            g(np.array([1.0, 0.0]))
    text = str(e.value)
    assert "the gradient of f contains NaN or inf" in text
    assert "(dx) came from the generated line: dx = zero_safe(dy, dy * 0.5 / y)" in text
    assert "test_errors.py:" in text and "y = np.sqrt(x)" in text
    np.testing.assert_allclose(g(np.array([1.0, 4.0])), [1.0, 0.5])   # finite: no error


def test_unsupported_construct_message():
    def f(x):
        with open(__file__):
            return np.sum(x)
    line = f.__code__.co_firstlineno + 1                  # the `with` line
    with pytest.raises(knet.UnsupportedError) as e:
        knet.grad(f, mode="source")(np.ones(2))
    assert re.fullmatch(rf"knetc: a with statement is not supported by the compiler "
                        rf"\((?:.*/)?tests/test_errors\.py:{line}:\d+\)", str(e.value)), str(e.value)
    assert (e.value.construct, e.value.lineno) == ("a with statement", line)
    assert f"{e.value.filename}:{e.value.lineno}".endswith(f"test_errors.py:{line}")


def test_no_rule_for_a_function_on_differentiated_values():
    def f(x):
        return np.sum(np.nextafter(x, 2.0))
    with pytest.raises(knet.UnsupportedError, match=r"np.nextafter on a differentiated value .*no derivative rule"):
        knet.grad(f, mode="source")(np.ones(4))


def test_verbose_prints_each_compilation_once(capsys):
    g = knet.grad(loss, verbose=True)
    g(np.ones((2, 3)), np.ones((3, 2)))
    g(np.ones((2, 3)), np.ones((3, 2)))
    out = capsys.readouterr().out
    assert out.count("# knetc: compiled the gradient of loss (mode: source)") == 1
    assert "def loss_vjp(w, x):" in out


def test_notebook_display():
    g = knet.grad(loss)
    g(np.ones((2, 3)), np.ones((3, 2)))
    md = g._repr_markdown_()
    assert md.startswith("**knetc gradient of loss (wrt=0), mode: source**")
    assert "```python\ndef loss_vjp(w, x):" in md
    assert "loss_vjp" in g._repr_html_()


def test_structure_change_recompiles_and_says_why(capsys):
    def f(w):
        total = 0.0
        for wi in w:
            total = total + np.sum(wi ** 2)
        return total
    g = knet.grad(f, verbose=True)
    np.testing.assert_allclose(g([np.ones(2), np.ones(3)])[1], 2 * np.ones(3))
    assert len(g([np.ones(2), np.ones(3), 1.5])) == 3
    out = capsys.readouterr().out
    assert ("# knetc: recompiling the gradient of f: the structure of w changed "
            "(list of 2 arrays -> list of 3 arrays/floats)") in out
