"""Failures the peer-style suite found in code other helpers owned, each fixed since (the
docstrings name the cause): silently wrong sequence results, NaN from std at zero spread,
where=, creation functions of differentiated values, missing SciPy rules autograd and JAX have."""
import warnings

import numpy as np
import pytest
import scipy.linalg as sl
import scipy.special as sp
from scipy.special import logsumexp

import knetc as knet
from knetc.testing import assert_tree_allclose, numeric_grad
from peer_checks import check_grads

R = np.random.default_rng(9)
A = R.standard_normal((2, 3))
SQ = R.standard_normal((3, 3)) + 3 * np.eye(3)


# --- numpy_rules.py ------------------------------------------------------------------------------
@pytest.mark.parametrize("x", [0.4, np.array(0.4), np.array([0.4])], ids=["float", "0d", "1"])
def test_std_of_a_single_element_has_zero_derivative(x):
    """np.std of one element is 0 whatever it is: the derivative is 0, not NaN. _std_vjp divides
    the centred value (0) by count * std (0): 0/0. Needs a safe division where std == 0."""
    def f(a):
        return np.std(a + 0.1 * a ** 2)
    for mode in ("source", "tape"):
        assert_tree_allclose(knet.grad(f, mode=mode)(x), 0.0 * np.asarray(x))


def test_std_of_constant_values_does_not_poison_the_gradient():
    """std(x * 0 + 1) + sum(x): the std term is constant, the gradient is 1 everywhere; the
    std VJP's 0/0 (zero spread) gives NaN, and NaN * 0 stays NaN through x * 0."""
    def f(x):
        return np.std(x * 0.0 + 1.0) + np.sum(x)
    for mode in ("source", "tape"):
        assert_tree_allclose(knet.grad(f, mode=mode)(np.ones(3)), np.ones(3))


def test_sum_where():
    """Silently wrong in every mode (issue 11, 5): np.sum(x ** 2, where=m) is differentiated as
    if there were no where=: the adjoint must be masked by it."""
    x = A

    def f(a):
        return np.sum(a ** 2, where=a > 0)
    for mode in ("source", "tape"):
        assert_tree_allclose(knet.grad(f, mode=mode)(x), np.where(x > 0, 2 * x, 0.0))


def linspace_of(x):
    return np.sum(np.linspace(x[0], x[1], 5) ** 2)


def full_of(x):
    return np.sum(np.full(3, x[0]) * np.arange(3.0))


@pytest.mark.parametrize("fun", [linspace_of, full_of], ids=["linspace", "full"])
def test_creation_functions_of_differentiated_values(fun):
    """Silent zero (issue 11, 4), also in compiled forward mode: np.linspace(x0, x1, n) and
    np.full(n, x0) are declared non-differentiable (lowered to ir.Const), so the dependence on
    the start/stop/fill value is dropped. Give them rules (linear in those arguments) or refuse."""
    x = np.array([0.3, 1.2])
    expected = numeric_grad(fun, (x,))
    for mode in ("source", "auto"):
        try:
            got = knet.grad(fun, mode=mode)(x)
        except knet.KnetError:
            continue                             # refusing is right too
        assert_tree_allclose(got, expected, rtol=1e-6)
    try:
        _, tangent = knet.jvp(fun, (x,), (np.ones(2),), mode="source")
    except knet.UnsupportedError:
        return
    assert np.isclose(tangent, np.sum(expected))


# --- analysis.py (LIST_RESULTS / TUPLE_RESULTS) --------------------------------------------------
def two_of(parts):
    return np.sum(parts[0] ** 2) + np.sum(parts[1]) * 5.0


def hsplit_to_helper(a):
    ps = np.hsplit(a, 3)
    return two_of(ps) + np.sum(ps[2] * 3.0)


def vsplit_to_helper(a):
    ps = np.vsplit(a, 3)
    return two_of(ps) + np.sum(ps[2] * 3.0)


def meshgrid_to_helper(a):
    g = np.meshgrid(a[0], a[1])
    return two_of(g) + np.sum(g[1] ** 3)


def atleast_3d_to_helper(a):
    g = np.atleast_3d(a[0], a[1])
    return two_of(g) + np.sum(g[1] ** 3)


def logsumexp_sign_to_helper(a):
    g = logsumexp(a, b=np.array([1.0, -2.0, 3.0]), return_sign=True)
    return two_of(g) + np.sum(g[1] * g[0] ** 3)


@pytest.mark.parametrize("fun", [hsplit_to_helper, vsplit_to_helper, meshgrid_to_helper, atleast_3d_to_helper,
                                 logsumexp_sign_to_helper], ids=lambda f: f.__name__)
def test_sequence_results_passed_whole_to_a_helper(fun):
    """Silently wrong with mode="source": a rule returning a tuple/list that is not in
    analysis.LIST_RESULTS / TUPLE_RESULTS (hsplit, vsplit, meshgrid, atleast_3d of several
    arrays, logsumexp(return_sign=True)) is given the kind "array", so its adjoint is
    accumulated as one array when the whole result goes to a helper and is also indexed
    (np.split, in LIST_RESULTS, is right). Forward mode is right."""
    expected = numeric_grad(fun, (SQ,))
    g = knet.grad(fun, mode="source")
    assert_tree_allclose(g(SQ), expected, rtol=1e-5, atol=1e-6)


# --- lower.py / analysis.py: np.r_ and np.c_ ------------------------------------------------------
def r_concat(x):
    return np.sum(np.r_[x[0], x[1] ** 2] * np.arange(6.0))


def c_concat(x):
    return np.sum(np.c_[x[0], x[1] ** 2] * np.arange(2.0))


@pytest.mark.parametrize("fun", [r_concat, c_concat], ids=["r_", "c_"])
def test_index_concatenators_in_reverse_mode(fun):
    """Silent zero with mode="source" (issue 11, 4): np.r_[x, y] is lowered as a Subscript of a
    global whose *index* atoms hold the differentiated values; analysis.diff_reads counts only
    the subscripted object, so nothing upstream is active. Either model np.r_/np.c_ as a
    concatenation or refuse it (forward.py now refuses it for jvp)."""
    expected = numeric_grad(fun, (A,))
    try:
        got = knet.grad(fun, mode="source")(A)
    except knet.UnsupportedError:
        return                                   # refusing is right too
    assert_tree_allclose(got, expected, rtol=1e-5, atol=1e-6)


# --- source.py: lambdas the compiler cannot locate ------------------------------------------------
LOSSES = {"cube": lambda x: np.sum(x ** 3),
          "sine": lambda x: np.sum(np.sin(x))}
SAME_LINE = (lambda x: np.sum(x ** 3), lambda x: np.sum(np.sin(x)))


@pytest.mark.parametrize("fun", [LOSSES["cube"], LOSSES["sine"]], ids=["dict_value_1", "dict_value_2"])
def test_lambdas_as_dict_values_compile(fun):
    """A refusal, not a wrong value (auto mode tapes it): for the second entry,
    source._parse_fragment cannot parse the line `"sine": lambda x: ...}` alone (a dict entry
    with its key), so the lambda "cannot be located". Peer suites write such tables."""
    g = knet.grad(fun, mode="source")
    assert_tree_allclose(g(A), numeric_grad(fun, (A,)), rtol=1e-6)
    assert g.mode == "source"


@pytest.mark.parametrize("mode", ["source", "auto"])
def test_two_lambdas_on_one_line(mode):
    """Silently wrong (issue 11, 2): source._find_definition returns the first lambda of the
    line whose parameter names match, so the gradient of SAME_LINE[1] (sin) is that of
    SAME_LINE[0] (cube), with mode="source". The code object's co_positions (column) tells
    them apart; or refuse when two candidates match."""
    fun = SAME_LINE[1]
    g = knet.grad(fun, mode=mode)
    try:
        got = g(A)
    except knet.UnsupportedError:
        return                                   # refusing is right too
    assert_tree_allclose(got, np.cos(A), rtol=1e-10)


# --- tape.py / shims.py ---------------------------------------------------------------------------
def test_tape_hvp_of_a_python_float():
    """tape.hvp(f, (0.7,), 1.0) raises "loss returned a float, expected a scalar": tracing
    tape.hvp's own grad_dot_v binds `float` to shims.TracedFloat in tape.py's namespace, so
    _seed's `d.__class__ is float` fails for a real float. (knet.hessian / knet.hvp now pass
    NumPy float64 scalars to avoid it.)"""
    from knetc.runtime import tape
    assert np.isclose(tape.hvp(lambda a: a ** 3, (0.7,), 1.0), 4.2)


def make_grad_sum(fun):
    def outer(z):
        return np.sum(knet.grad(fun)(z))
    return outer


def test_closures_of_one_factory_do_not_share_a_taped_gradient():
    """Silently wrong (issue 11, 3): two closures from one factory that the compiler refuses
    (here: a call of the computed knet.grad(fun)) fall back to the tape, and the second gets the
    first one's gradient: the fallback cache is keyed by the code object, not the closure."""
    x = np.array([0.5, 1.0])
    cube, sine = make_grad_sum(lambda a: np.sum(a ** 3)), make_grad_sum(lambda a: np.sum(np.sin(a)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", knet.FallbackWarning)
        assert_tree_allclose(knet.grad(cube)(x), 6 * x)
        assert_tree_allclose(knet.grad(sine)(x), -np.sin(x))


# --- rules_scipy_*.py: functions autograd / JAX differentiate -----------------------------------------
P = np.array([0.7, 1.3, 2.1])
MISSING_SPECIAL = [
    ("j0", lambda x: np.sum(sp.j0(x))),
    ("j1", lambda x: np.sum(sp.j1(x))),
    ("y0", lambda x: np.sum(sp.y0(x))),
    ("y1", lambda x: np.sum(sp.y1(x))),
    ("jn", lambda x: np.sum(sp.jn(2, x))),
    ("yn", lambda x: np.sum(sp.yn(2, x))),
    ("rgamma", lambda x: np.sum(sp.rgamma(x))),
    ("gammainc_x", lambda x: np.sum(sp.gammainc(1.5, x))),
    ("gammaincc_x", lambda x: np.sum(sp.gammaincc(1.5, x))),
    ("betainc_x", lambda x: np.sum(sp.betainc(2.0, 3.0, x / 3.0))),
    ("ndtri", lambda x: np.sum(sp.ndtri(x / 3.0))),
]


@pytest.mark.parametrize("name,fun", MISSING_SPECIAL, ids=[n for n, _ in MISSING_SPECIAL])
def test_scipy_special_functions_autograd_differentiates(name, fun):
    """No rule (HIPS autograd's scipy.special has them: Bessel j0/j1/y0/y1/jn/yn, rgamma,
    gammasgn, gammainc/gammaincc and betainc wrt x; ndtri is in JAX)."""
    check_grads(fun, (P,))


MISSING_LINALG = [
    ("inv", lambda a: np.sum(sl.inv(a) ** 2)),
    ("det", lambda a: sl.det(a)),
    ("solve", lambda a: np.sum(sl.solve(a, np.arange(3.0)))),
]


@pytest.mark.parametrize("name,fun", MISSING_LINALG, ids=[n for n, _ in MISSING_LINALG])
def test_scipy_linalg_functions_jax_differentiates(name, fun):
    """No rule for scipy.linalg inv/det/solve/lu_solve/eigh (JAX's jax.scipy.linalg tests
    differentiate them; the np.linalg versions have rules)."""
    x = SQ
    check_grads(fun, (x,))
