"""SciPy support: optional and lazy, every spelling of a call in both modes, loud refusals.

The derivatives themselves are checked function by function through the
OpInfos of tests/opinfo/cases_scipy_*.py; this file checks what those cannot.
"""
import os
import pathlib
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import knetc as knet
from knetc.testing import assert_tree_allclose, numeric_grad

scipy = pytest.importorskip("scipy")
import scipy.linalg  # noqa: E402
import scipy.special  # noqa: E402
import scipy.stats  # noqa: E402
from scipy import stats  # noqa: E402
from scipy.special import logsumexp  # noqa: E402
from scipy.stats import norm  # noqa: E402

MODES = ["source", "tape"]


ROOT = pathlib.Path(__file__).resolve().parents[1]


def _run(code, tmp_path):
    """Run ``code`` as a script (the compiler reads its source) in a fresh interpreter."""
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(code))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, str(script), str(ROOT)], capture_output=True, text=True, cwd=str(ROOT),
                          env=env, timeout=120)


def test_importing_knetc_does_not_import_scipy(tmp_path):
    result = _run("""
        import sys
        import numpy as np
        import knetc as knet
        def f(x):
            return np.sum(np.tanh(x) ** 2)
        for mode in ("source", "tape"):
            knet.grad(f, mode=mode)(np.ones(3))
        assert knet.__file__.startswith(sys.argv[1]), knet.__file__
        assert not any(m == "scipy" or m.startswith("scipy.") for m in sys.modules), "scipy imported"
        print("ok")
    """, tmp_path)
    assert result.returncode == 0 and "ok" in result.stdout, result.stderr


def test_rules_register_when_scipy_is_imported_after_knetc(tmp_path):
    result = _run("""
        import numpy as np
        import knetc as knet
        import scipy.special
        def f(x):
            return scipy.special.logsumexp(scipy.special.gammaln(x))
        x = np.array([0.5, 1.5, 3.0])
        for mode in ("source", "tape"):
            g = knet.grad(f, mode=mode)(x)
            w = scipy.special.softmax(scipy.special.gammaln(x)) * scipy.special.digamma(x)
            assert np.allclose(g, w, rtol=1e-12), (mode, g, w)
        print("ok")
    """, tmp_path)
    assert result.returncode == 0 and "ok" in result.stdout, result.stderr


def test_submodules_first_imported_while_the_tape_records(tmp_path):
    result = _run("""
        import numpy as np
        import knetc as knet
        import scipy                      # scipy.special and scipy.stats import on first use
        def f(x):
            return scipy.special.logsumexp(x) + np.sum(scipy.stats.norm.logpdf(x, 0.5, 2.0))
        x = np.array([0.1, 0.7])
        want = scipy.special.softmax(x) - (x - 0.5) / 4.0
        assert np.allclose(knet.grad(f, mode="tape")(x), want, rtol=1e-12)
        print("ok")
    """, tmp_path)
    assert result.returncode == 0 and "ok" in result.stdout, result.stderr


# --- every spelling, positional and keyword parameters, both modes ------------------------------
def spelled_short(x, m, s):
    return np.sum(norm.logpdf(x, m, s))


def spelled_module(x, m, s):
    return np.sum(stats.norm.logpdf(x, loc=m, scale=s))


def spelled_full(x, m, s):
    return np.sum(scipy.stats.norm.logpdf(x, m, scale=s))


def spelled_imported(x, m, s):
    return logsumexp(x * s, b=m)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("fun", [spelled_short, spelled_module, spelled_full, spelled_imported])
def test_every_spelling_in_both_modes(fun, mode):
    x = np.array([0.3, -1.2, 2.0])
    m = np.array([0.5, 1.5, 0.2])
    g = knet.grad(fun, wrt=(0, 1, 2), mode=mode)
    got = g(x, m, 1.7)
    assert g.mode == mode
    assert_tree_allclose(got, numeric_grad(fun, (x, m, 1.7), wrt=(0, 1, 2)), rtol=1e-7, atol=1e-9)


def list_logsumexp(a, b):
    return logsumexp([a, 2.0 * b], b=[1.0, b])


def list_logpdf(a, b):
    return np.sum(stats.norm.logpdf([a, b], 0.5, [2.0, b]))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("fun", [list_logsumexp, list_logpdf])
def test_list_arguments(fun, mode):
    got = knet.grad(fun, wrt=(0, 1), mode=mode)(0.3, 1.2)
    assert_tree_allclose(got, numeric_grad(fun, (0.3, 1.2), wrt=(0, 1)), rtol=1e-7, atol=1e-9)
    second = knet.grad(lambda a, b: knet.grad(fun, wrt=1, mode="tape")(a, b), mode="tape")(0.3, 1.2)
    assert_tree_allclose(second, numeric_grad(lambda a: knet.grad(fun, wrt=1)(a, 1.2), (0.3,)),
                         rtol=1e-6, atol=1e-8)


def test_compiled_code_calls_the_distribution_as_written():
    g = knet.grad(spelled_module, mode="source")
    g(np.ones(2), np.zeros(2), 1.0)
    assert "stats.norm.logpdf(x, loc=m, scale=s)" in g.source


def test_shims_are_removed_after_tracing():
    original = scipy.special.logsumexp
    knet.grad(spelled_short, mode="tape")(np.ones(2), np.zeros(2), 1.0)
    knet.grad(spelled_imported, mode="tape")(np.ones(2), np.ones(2), 1.0)
    assert "logpdf" not in vars(scipy.stats.norm)
    assert scipy.special.logsumexp is original and logsumexp is original
    assert spelled_imported.__globals__["logsumexp"] is original


def test_shims_are_removed_when_the_function_raises():
    def fails(x):
        norm.logpdf(x)
        raise RuntimeError("user error")
    with pytest.raises(RuntimeError, match="user error"):
        knet.grad(fails, mode="tape")(np.ones(2))
    assert "logpdf" not in vars(scipy.stats.norm)


def test_second_derivative_through_a_distribution():
    def f(x):
        return np.sum(stats.t.logpdf(x, 3.0, 0.5, 2.0))
    x = np.array([0.1, 1.0, -2.0])
    hessian_diagonal = knet.grad(lambda x: np.sum(knet.grad(f, mode="tape")(x)), mode="tape")(x)
    # d2/dx2 of log t density: (df+1)(z^2 - df) / (df + z^2)^2 / scale^2
    z = (x - 0.5) / 2.0
    assert_tree_allclose(hessian_diagonal, 4.0 * (z * z - 3.0) / (3.0 + z * z) ** 2 / 4.0, rtol=1e-9)


# --- cho_solve: the factor inside its (c, lower) tuple --------------------------------------------
def _spd(n, seed=0):
    a = np.random.default_rng(seed).standard_normal((n, n))
    return a @ a.T + n * np.eye(n)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("lower", [True, False])
def test_cho_solve_in_the_factor(mode, lower):
    c = np.linalg.cholesky(_spd(4))
    if not lower:
        c = c.T.copy()
    b = np.random.default_rng(1).standard_normal((4, 2))
    weights = np.random.default_rng(2).standard_normal((4, 2))

    def f(c, b):
        return np.sum(weights * scipy.linalg.cho_solve((c, lower), b))
    got = knet.grad(f, wrt=(0, 1), mode=mode)(c, b)
    assert_tree_allclose(got, numeric_grad(f, (c, b), wrt=(0, 1)), rtol=1e-6, atol=1e-9)


def test_gaussian_log_likelihood_through_cholesky_and_cho_solve_second_order():
    y = np.random.default_rng(3).standard_normal(4)

    def f(a):
        K = a @ a.T + np.eye(4)
        L = scipy.linalg.cholesky(K, lower=True)
        return -0.5 * y @ scipy.linalg.cho_solve((L, True), y) - np.sum(np.log(np.diagonal(L)))
    a = np.random.default_rng(4).standard_normal((4, 4))
    v = np.random.default_rng(5).standard_normal((4, 4))
    got = knet.hvp(f)(a, v)
    want = numeric_grad(lambda a: np.sum(knet.grad(f, mode="tape")(a) * v), (a,))
    assert_tree_allclose(got, want, rtol=1e-5, atol=1e-8)


# --- refusals: loud, naming the function ------------------------------------------------------------
def frozen(x):
    return np.sum(norm(0.0, 2.0).logpdf(x))


def no_rule_method(x):
    return np.sum(stats.gumbel_r.logpdf(x))


def no_rule_function(x):
    return np.sum(scipy.linalg.polar(np.outer(x, x) + np.eye(2)))


@pytest.mark.parametrize("fun, named, on_tape", [
    (frozen, "logpdf", "scipy.stats.norm(...).logpdf"),
    (no_rule_method, "gumbel_r.logpdf", "scipy.stats.gumbel_r.logpdf"),
    # SciPy 1.17 wraps scipy.linalg functions in a batching decorator, whose name the tape reports
    (no_rule_function, "scipy.linalg.polar", "")])
def test_no_rule_is_an_error_naming_the_function(fun, named, on_tape):
    x = np.array([0.2, 0.7])
    with pytest.raises(knet.UnsupportedError, match=re.escape(named)):
        knet.grad(fun, mode="source")(x)
    with pytest.raises(knet.KnetError, match=re.escape(f"{on_tape} was called") + ".*no derivative rule"):
        knet.grad(fun, mode="tape")(x)


def test_frozen_distributions_say_so_on_the_tape():
    with pytest.raises(knet.KnetError, match="Frozen distributions"):
        knet.grad(frozen, mode="tape")(np.array([0.2, 0.7]))


def test_the_compiler_never_compiles_scipy_source():
    from knetc.transform.lower import is_user_function
    assert not is_user_function(scipy.linalg.inv)
    assert not is_user_function(scipy.special.zeta)


def test_a_scipy_ufunc_without_a_rule_is_named_on_the_tape():
    with pytest.raises(knet.KnetError, match="scipy.special"):
        knet.grad(lambda x: np.sum(scipy.special.zeta(x, 2.0)), mode="tape")(np.array([2.5, 3.0]))


@pytest.mark.parametrize("mode", MODES)
def test_missing_derivatives_raise(mode):
    x = np.array([0.5, 1.5])
    with pytest.raises(knet.KnetError, match="shape parameter df"):
        knet.grad(lambda df: np.sum(stats.t.cdf(x, df)), mode=mode)(np.array([2.0, 3.0]))
    with pytest.raises(knet.KnetError, match="order v"):
        knet.grad(lambda v: np.sum(scipy.special.iv(v, x)), mode=mode)(np.array([0.5, 1.5]))


def test_rules_declare_the_keywords_they_model():
    from knetc.runtime.rules import rule_for
    assert rule_for(scipy.special.logsumexp).keywords == ("axis", "b", "keepdims", "return_sign")
    assert rule_for(norm.logpdf).keywords == ("loc", "scale")
    assert rule_for(stats.beta.cdf).keywords == ("a", "b", "loc", "scale")
    assert set(rule_for(stats.gamma.logpdf).kwvjps) == {"x", "a", "loc", "scale"}


def test_numeric_grad_perturbs_fortran_ordered_arrays():
    a = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    assert_tree_allclose(numeric_grad(lambda a: np.sum(a * a), (a,)), 2 * a, rtol=1e-8)
