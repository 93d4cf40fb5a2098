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


# --- factorisations, matrix functions, refusals (what the generic OpInfo runner cannot reach) ----------
_R = np.random.default_rng(11)
_A = 0.3 * _R.standard_normal((4, 4)) + np.eye(4)
_B = _R.standard_normal((4, 2))
_G = _R.standard_normal((4, 2))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("trans", [0, 1])
def test_lu_solve_through_lu_factor(mode, trans):
    """lu_solve's derivative in its packed factors, chained through lu_factor, is that of solve."""
    def f(a, b):
        return np.sum(_G * scipy.linalg.lu_solve(scipy.linalg.lu_factor(a), b, trans=trans))
    got = knet.grad(f, wrt=(0, 1), mode=mode)(_A, _B)
    assert_tree_allclose(got, numeric_grad(f, (_A, _B), wrt=(0, 1)), rtol=1e-6, atol=1e-8)
    # the same as differentiating solve itself
    want = knet.grad(lambda a, b: np.sum(_G * np.linalg.solve(a.T if trans else a, b)), wrt=(0, 1))(_A, _B)
    assert_tree_allclose(got, want, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("mode", MODES)
def test_cho_solve_batched_factor(mode):
    """cho_solve of stacked factors (SciPy 1.17 batches it), differentiated in the factor."""
    a = _R.standard_normal((2, 3, 3))
    c = np.linalg.cholesky(a @ np.swapaxes(a, -1, -2) + 3 * np.eye(3))
    b, g = _R.standard_normal((2, 3, 2)), _R.standard_normal((2, 3, 2))

    def f(c, b):
        return np.sum(g * scipy.linalg.cho_solve((c, True), b))
    got = knet.grad(f, wrt=(0, 1), mode=mode)(c, b)
    want = numeric_grad(f, (c, b), wrt=(0, 1))
    assert_tree_allclose(got, want, rtol=1e-6, atol=1e-8)
    assert np.all(np.triu(got[0], 1) == 0)          # the triangle SciPy never reads


@pytest.mark.parametrize("mode", MODES)
def test_eigh_vectors_sign_invariant_loss(mode):
    """scipy.linalg.eigh's eigenvectors: SciPy may flip a vector's sign under a tiny change of the
    matrix (its choice), so the check uses a loss that does not see signs (v**2, v v^T)."""
    q, _ = np.linalg.qr(_R.standard_normal((4, 4)))
    s = (q * np.array([1.0, 1.7, 2.5, 3.4])) @ q.T
    weights = _R.standard_normal((4, 4))

    def f(a):
        w, v = scipy.linalg.eigh(a)
        return np.sum(weights * v ** 2) + np.sum(w * np.arange(4.0)) + np.sum((v[:, :1] @ v[:, :1].T) * weights)
    assert_tree_allclose(knet.grad(f, mode=mode)(s), numeric_grad(f, (s,)), rtol=1e-6, atol=1e-8)


def test_eigh_generalised_problem_is_refused():
    s = _A @ _A.T
    with pytest.raises(knet.KnetError, match="does not model b="):
        knet.grad(lambda a: np.sum(scipy.linalg.eigh(a, np.eye(4), eigvals_only=True)), mode="tape")(s)


def test_logm_without_a_real_logarithm_is_refused():
    """A real matrix with a negative eigenvalue has no real logarithm: SciPy returns a complex
    one, and knetc refuses instead of differentiating its real part."""
    a = np.diag([2.0, -1.5, 1.0]) + 0.1 * _R.standard_normal((3, 3))
    with pytest.raises(knet.KnetError, match="no real"):
        knet.grad(lambda m: np.sum(np.real(scipy.linalg.logm(m))), mode="tape")(a)


def test_logm_expm_round_trip_gradient():
    """logm(expm(A)) = A near 0: the gradient of sum(G * logm(expm(A))) is G."""
    a = 0.2 * _R.standard_normal((3, 3))
    g = _R.standard_normal((3, 3))
    for mode in MODES:
        got = knet.grad(lambda m: np.sum(g * scipy.linalg.logm(scipy.linalg.expm(m))), mode=mode)(a)
        assert_tree_allclose(got, g, rtol=1e-6, atol=1e-8)


def test_lu_of_a_rectangular_matrix_is_refused():
    with pytest.raises(knet.KnetError, match="square"):
        knet.grad(lambda a: np.sum(scipy.linalg.lu(a)[2]), mode="tape")(_R.standard_normal((3, 4)))


def test_gammasgn_has_zero_derivative_not_none():
    """gammasgn is piecewise constant: the gradient is exactly zero, in both modes."""
    x = np.array([-2.5, -0.5, 0.7, 3.0])
    for mode in MODES:
        got = knet.grad(lambda v: np.sum(scipy.special.gammasgn(v) * v ** 2), mode=mode)(x)
        assert_tree_allclose(got, 2 * x * scipy.special.gammasgn(x), rtol=1e-12, atol=0)


def test_cdf_shape_parameter_refusal_names_it():
    """cdf of gamma wrt its shape a has no closed form in SciPy: the error names the parameter."""
    with pytest.raises(knet.KnetError, match="shape parameter a"):
        knet.grad(lambda a: stats.gamma.cdf(1.3, a), mode="tape")(2.0)


@pytest.mark.parametrize("mode", MODES)
def test_factorisations_and_logm_of_complex_intermediates(mode):
    """logm, lu and solve_sylvester are holomorphic: their rules are right for complex matrices
    computed inside the function (the loss reads real and imaginary parts)."""
    a = np.eye(3) + 0.3 * _R.standard_normal((3, 3))
    g, h = _R.standard_normal((3, 3)), _R.standard_normal((3, 3))

    def f(m):
        z = m * (1 + 0.4j)
        log = scipy.linalg.logm(z)
        _, lower, upper = scipy.linalg.lu(z)
        x = scipy.linalg.solve_sylvester(z, 2 * np.eye(3) + 0j, g + 0j)
        return np.sum(g * np.real(log) + h * np.imag(log) + g * np.real(upper) + h * np.imag(lower)
                      + h * np.imag(x))
    assert_tree_allclose(knet.grad(f, mode=mode)(a), numeric_grad(f, (a,)), rtol=1e-6, atol=1e-8)
