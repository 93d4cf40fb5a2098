"""A systematic suite in the spirit of the peer libraries' own (HIPS autograd's test_numpy /
test_systematic / test_linalg / test_scipy / test_jacobian, JAX's autodiff tests): each function
over many shapes, every broadcasting pair, every axis/keepdims, written as user code (lambdas,
methods, operators, keywords), checked by :func:`peer_checks.check_grads` against central finite
differences in float64, compiled and taped, reverse and forward, and second order where smooth."""
import itertools

import numpy as np
import pytest
import scipy.linalg as sl
import scipy.special as sp
from scipy import stats
from scipy.special import logsumexp

import knetc as knet
from knetc.testing import assert_tree_allclose, numeric_grad
from peer_checks import check_grads, quietly, random_like, vdot

R = np.random.default_rng(12)


def value(shape, rng=R):
    """A test input: a Python float for "s", a 0-d array for (), else a normal array."""
    if shape == "s":
        return float(rng.uniform(0.2, 0.9))
    if shape == ():
        return np.array(rng.uniform(-0.9, -0.2))
    return rng.standard_normal(shape)


# --- unary functions over shapes ----------------------------------------------------------
SHAPES = ["s", (), (1,), (3,), (2, 3), (2, 1, 3)]

UNARY = [
    ("sin", lambda x: np.sum(np.sin(x))),
    ("tanh_scaled", lambda x: np.sum(np.tanh(x) * 2.0)),
    ("exp", lambda x: np.sum(np.exp(x))),
    ("log_abs", lambda x: np.sum(np.log(np.abs(x) + 1.0))),
    ("sqrt", lambda x: np.sum(np.sqrt(x * x + 1.0))),
    ("cube", lambda x: np.sum(x ** 3)),
    ("half_power", lambda x: np.sum((x * x + 1.0) ** 0.5)),
    ("negative_power", lambda x: np.sum((x * x + 1.0) ** -1.5)),
    ("builtin_abs", lambda x: np.sum(abs(x) ** 3)),
    ("neg", lambda x: np.sum(-x * x)),
    ("rsub_square", lambda x: np.sum(2.0 - x) ** 2),
    ("rdiv", lambda x: np.sum(1.0 / (x * x + 1.0))),
    ("rpow", lambda x: np.sum(2.0 ** x)),
    ("arcsinh", lambda x: np.sum(np.arcsinh(x))),
    ("arctan", lambda x: np.sum(np.arctan(x))),
    ("arccos", lambda x: np.sum(np.arccos(np.tanh(x) * 0.9))),
    ("sinc", lambda x: np.sum(np.sinc(x))),
    ("cbrt", lambda x: np.sum(np.cbrt(x * x + 1.0))),
    ("expm1", lambda x: np.sum(np.expm1(x))),
    ("log1p", lambda x: np.sum(np.log1p(x * x))),
    ("square", lambda x: np.sum(np.square(x))),
    ("reciprocal", lambda x: np.sum(np.reciprocal(x * x + 2.0))),
    ("exp2", lambda x: np.sum(np.exp2(x))),
    ("log2", lambda x: np.sum(np.log2(x * x + 1.0))),
    ("log10", lambda x: np.sum(np.log10(x * x + 1.0))),
    ("deg2rad", lambda x: np.sum(np.sin(np.deg2rad(x * 90.0)))),
    ("logaddexp", lambda x: np.sum(np.logaddexp(x, 0.5))),
    ("clip_keywords", lambda x: np.sum(np.clip(x, a_min=-0.5, a_max=0.5) ** 2)),
    ("where", lambda x: np.sum(np.where(x > 0, x ** 2, -x))),
    ("maximum", lambda x: np.sum(np.maximum(x, 0.1) * x)),
    ("mean", lambda x: np.mean(x ** 2)),
    ("var", lambda x: np.var(x ** 2 + x)),
    ("prod", lambda x: np.prod(x + 2.0)),
    ("max", lambda x: np.max(x ** 2)),
    ("min", lambda x: np.min(x)),
    ("cumsum", lambda x: np.sum(np.cumsum(x) ** 2)),
    ("cumprod", lambda x: np.sum(np.cumprod(x + 1.5))),
    ("norm", lambda x: np.linalg.norm(x)),
    ("logsumexp_by_hand", lambda x: np.log(np.sum(np.exp(x)))),
    ("sign_times", lambda x: np.sum(np.sign(x) * x ** 2)),
    ("fabs", lambda x: np.sum(np.fabs(x) ** 3)),
    ("nan_to_num", lambda x: np.sum(np.nan_to_num(x) ** 2)),
    ("heaviside", lambda x: np.sum(np.heaviside(x, 0.5) * x)),
    ("round_plus", lambda x: np.sum(np.round(x) + x ** 2)),
    ("hypot", lambda x: np.sum(np.hypot(x, 2.0))),
    ("arctan2", lambda x: np.sum(np.arctan2(x, 2.0))),
    ("copysign", lambda x: np.sum(np.copysign(x, -1.0) * x)),
    ("float_power", lambda x: np.sum(np.float_power(x * x + 1.0, 1.5))),
    ("power_int", lambda x: np.sum(np.power(x, 2))),
    ("fmod", lambda x: np.sum(np.fmod(x, 0.7) * x)),
    ("sigmoid_by_hand", lambda x: np.sum(1 / (1 + np.exp(-x)))),
    ("logistic_sp", lambda x: np.sum(sp.expit(x) * x)),
    ("astype_float", lambda x: np.sum(np.asarray(x).astype(np.float64) ** 2)),
    ("ravel_dot", lambda x: np.dot(np.ravel(x), np.ravel(x))),
    ("float_of_0d", lambda x: float(np.sum(x ** 2)) * 0.0 + np.sum(x ** 3)),
]
SMOOTH = {"sin", "tanh_scaled", "exp", "sqrt", "cube", "half_power", "negative_power", "rdiv", "rpow",
          "arcsinh", "arctan", "arccos", "expm1", "log1p", "square", "reciprocal", "exp2", "log2",
          "logaddexp", "mean", "var", "prod", "cumsum", "cumprod", "logsumexp_by_hand", "hypot", "arctan2",
          "float_power", "sigmoid_by_hand", "logistic_sp", "ravel_dot"}


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name,fun", UNARY, ids=[n for n, _ in UNARY])
def test_unary(name, fun, shape):
    x = value(shape)
    check_grads(fun, (x,), order=2 if name in SMOOTH and shape in ("s", (), (3,)) else 1)


# --- binary functions: every broadcasting pair ------------------------------------------------
BSHAPES = ["s", (), (1,), (3,), (2, 3), (2, 1), (1, 3), (2, 1, 3)]

BINARY = [
    ("add", lambda x, y: np.sum(np.sin(x + y))),
    ("sub", lambda x, y: np.sum((x - y) ** 2)),
    ("mul", lambda x, y: np.sum(x * y * x)),
    ("div", lambda x, y: np.sum(x / (y * y + 1.0))),
    ("pow", lambda x, y: np.sum((x * x + 1.0) ** y)),
    ("maximum", lambda x, y: np.sum(np.maximum(x, y))),
    ("arctan2", lambda x, y: np.sum(np.arctan2(x, y + 3.0))),
    ("hypot", lambda x, y: np.sum(np.hypot(x, y))),
    ("logaddexp", lambda x, y: np.sum(np.logaddexp(x, y))),
    ("where", lambda x, y: np.sum(np.where(x > y, x * y, x + y))),
    ("add_fn", lambda x, y: np.sum(np.add(x, y) ** 2)),
    ("true_divide", lambda x, y: np.sum(np.true_divide(x, 2.0 + y * y))),
    ("fmin", lambda x, y: np.sum(np.fmin(x, y) * x)),
]
PAIRS = [(a, b) for a, b in itertools.product(BSHAPES, BSHAPES) if not (a == "s" and b == "s")]


@pytest.mark.parametrize("sx,sy", PAIRS, ids=[f"{a}-{b}" for a, b in PAIRS])
@pytest.mark.parametrize("name,fun", BINARY, ids=[n for n, _ in BINARY])
def test_binary_broadcasting(name, fun, sx, sy):
    x, y = value(sx), value(sy)
    for wrt in (0, 1):
        check_grads(fun, (x, y), wrt=wrt, forward=(sx, sy) in PAIRS[::5])


# --- reductions: every axis and keepdims ------------------------------------------------------
AXES = [None, 0, 1, 2, -1, (0, 1), (0, 2), (1, 2), (0, 1, 2)]
REDUCTIONS = [np.sum, np.mean, np.prod, np.max, np.min, np.amax, np.std, np.var, np.nansum, np.nanmean,
              np.ptp, np.median]


def reduced(fn, axis, keepdims):
    def loss(x):
        r = fn(x, axis=axis, keepdims=keepdims)
        return np.sum(np.sin(r) * 1.3)
    return loss


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("fn", REDUCTIONS, ids=lambda f: f.__name__)
def test_reduction_axes(fn, axis, keepdims):
    x = R.standard_normal((2, 3, 4))
    check_grads(reduced(fn, axis, keepdims), (x,), forward=axis in (None, 1, (0, 2)))


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES, ids=str)
def test_logsumexp_axes(axis, keepdims):
    def loss(x):
        return np.sum(np.sin(logsumexp(x, axis=axis, keepdims=keepdims)) * 1.3)
    check_grads(loss, (R.standard_normal((2, 3, 4)),), forward=axis in (None, 1, (0, 2)))


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 1), (1, 2)], ids=str)
def test_norm_axes(axis, keepdims):
    x = R.standard_normal((2, 3, 4))
    check_grads(reduced(np.linalg.norm, axis, keepdims), (x,))


X34 = R.standard_normal((3, 4))
METHOD_CASES = [
    ("sum_axis", lambda x: np.sum(x.sum(axis=1) ** 2)),
    ("mean_keepdims", lambda x: np.sum(x.mean(axis=0, keepdims=True) * x)),
    ("max_axis", lambda x: np.sum(x.max(axis=1))),
    ("prod_all", lambda x: x.prod()),
    ("std_axis", lambda x: x.std(axis=0).sum()),
    ("var_ddof", lambda x: x.var(axis=1, ddof=1).sum()),
    ("std_ddof_fn", lambda x: np.sum(np.std(x, axis=0, ddof=1))),
    ("cumsum_axis", lambda x: np.sum(np.cumsum(x, axis=1) ** 2)),
    ("cumsum_method", lambda x: np.sum(x.cumsum(axis=0) ** 2)),
    ("cumprod_axis", lambda x: np.sum(np.cumprod(x, axis=0))),
    ("average_weights", lambda x: np.average(x, axis=1, weights=np.arange(1.0, 5.0)).sum() ** 2),
    ("percentile", lambda x: np.percentile(x, 30, axis=0).sum()),
    ("quantile_list", lambda x: np.quantile(x, [0.2, 0.7]).sum()),
    ("norm_fro", lambda x: np.linalg.norm(x, ord="fro")),
    ("norm_nuc", lambda x: np.linalg.norm(x, ord="nuc")),
    ("norm_2_matrix", lambda x: np.linalg.norm(x, ord=2)),
    ("norm_3_rows", lambda x: np.linalg.norm(x, ord=3, axis=1).sum()),
    ("norm_1_vector", lambda x: np.linalg.norm(x[0], ord=1)),
    ("norm_inf_vector", lambda x: np.linalg.norm(x[1], ord=np.inf)),
    ("logsumexp_b", lambda x: logsumexp(x, b=np.arange(1.0, 5.0), axis=1).sum()),
    ("logsumexp_sign", lambda x: logsumexp(x[0], b=np.array([1.0, -2.0, 3.0, 0.5]), return_sign=True)[0]),
    ("T_matmul", lambda x: np.sum(x.T @ x)),
    ("dot_method", lambda x: np.sum(x.dot(x.T) ** 2)),
    ("clip_method", lambda x: np.sum(x.clip(-0.5, 0.5) ** 2)),
    ("clip_min_keyword", lambda x: np.sum(x.clip(min=-0.3) ** 2)),
    ("reshape_method", lambda x: np.sum(x.reshape(2, -1) ** 3 * np.arange(6.0))),
]


@pytest.mark.parametrize("name,fun", METHOD_CASES, ids=[n for n, _ in METHOD_CASES])
def test_methods_and_reduction_options(name, fun):
    check_grads(fun, (X34,))


@pytest.mark.parametrize("point", [np.array([0.0, 3.0, 4.0]), np.array([0.0, 0.0, 2.0])], ids=["one", "two"])
def test_norm_with_zero_components(point):
    """At a point with zero components (not the origin) the norm is smooth: the gradient is x/|x|."""
    funs = (lambda x: np.linalg.norm(x),
            lambda x: np.linalg.norm(x, ord=2),
            lambda x: np.sqrt(np.sum(x ** 2)))
    for fun in funs:
        check_grads(fun, (point,), order=2)
        assert_tree_allclose(knet.grad(fun)(point), point / np.linalg.norm(point))


def test_norm_axis_with_zero_columns():
    x = np.array([[0.0, 3.0, 1.0], [0.0, 4.0, 0.0]]) + np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    check_grads(lambda a: np.sum(np.linalg.norm(a, axis=0)), (x,))
    check_grads(lambda a: np.sum(np.linalg.norm(a, axis=1, keepdims=True) * a), (x,))


def test_max_with_ties_splits_evenly():
    """Ties share the adjoint (autograd and JAX's convention); the sum is the derivative of max(x + c)."""
    x = np.array([1.0, 3.0, 3.0])
    for mode in ("source", "tape"):
        g = knet.grad(lambda a: np.max(a), mode=mode)(x)
        assert_tree_allclose(g, np.array([0.0, 0.5, 0.5]))

