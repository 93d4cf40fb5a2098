"""The constant table (``defnondiff``) audited: every entry has a zero derivative.

A function belongs in the table only if its derivative is zero wherever it
exists, for every argument. Each entry has samples here, away from its jumps;
perturbing any float argument by a small step must leave the result exactly
unchanged (so every central difference is zero). An entry without samples
fails ``test_every_constant_has_samples``: a wrong entry cannot come back
unnoticed. The functions that were wrongly constant (``np.full``,
``np.full_like``, ``np.arange``, ``np.linspace``, ``np.r_``, ``np.c_``) are
checked here as rules, against finite differences, in every mode.
"""
import builtins
import math
import warnings

import numpy as np
import pytest

from tests.test_numpy_choices import NONDIFF_SAMPLES

import knetc as knet
from knetc.runtime import inplace
import knetc.nn as nn
from knetc.runtime import rules
from knetc.testing import numeric_grad
from tests.test_numpy_choices import NONDIFF_SAMPLES

R = np.random.default_rng(7)


def frac(*shape):
    """Floats whose fractional part lies in [0.1, 0.4]: away from integers and halves."""
    return R.integers(-3, 4, shape) + R.uniform(0.1, 0.4, shape) * R.choice([-1.0, 1.0], shape)


def away(*shape):
    """Floats at least 0.2 away from zero."""
    return R.uniform(0.2, 2.0, shape) * R.choice([-1.0, 1.0], shape)


X = frac(3, 4)
Y = X + R.choice([-1.0, 1.0], X.shape) * R.uniform(0.2, 0.5, X.shape)      # never equal to X
SORTED = np.sort(R.uniform(-3, 3, 6))
BETWEEN = (SORTED[:-1] + SORTED[1:]) / 2                                # away from the edges
SCORES = R.standard_normal((4, 5))
LABELS = np.argmax(SCORES, axis=0)
INTS = R.integers(0, 8, (3, 4))

# function -> samples (args, kwargs); arrays of floats and Python floats are perturbed
SAMPLES = {
    np.shape: [((X,), {})], np.ndim: [((X,), {})], np.size: [((X,), {}), ((X,), {"axis": 1})],
    np.zeros_like: [((X,), {})], np.ones_like: [((X,), {}), ((X,), {"dtype": np.float32})],
    np.empty_like: [((X,), {})],
    np.zeros: [(((2, 3),), {})], np.ones: [(((2, 3),), {})], np.empty: [(((2, 3),), {})],
    np.eye: [((3,), {}), ((3, 4), {"k": 1})], np.identity: [((3,), {})],
    np.argmax: [((X,), {}), ((X,), {"axis": 0})], np.argmin: [((X,), {}), ((X,), {"axis": 1})],
    np.argsort: [((away(7),), {})], np.nonzero: [((away(3, 4),), {})],
    np.flatnonzero: [((away(5),), {})], np.argwhere: [((away(2, 3),), {})],
    np.count_nonzero: [((away(3, 4),), {})],
    np.searchsorted: [((SORTED, BETWEEN), {}), ((SORTED, 0.37 + SORTED[2]), {"side": "right"})],
    # the gap to the next float: constant between powers of two (where it jumps), so the samples
    # keep away from them, in both signs (float32, which this perturbation would promote to
    # float64, in tests/test_small_rules.py)
    np.spacing: [((np.array([1.5, -3.0, 0.75, 12.0, -0.3, 1e10 + 0.5]),), {}), ((2.5,), {})],
    np.floor: [((X,), {})], np.ceil: [((X,), {})],
    np.round: [((X,), {}), ((X / 10,), {"decimals": 1})], np.around: [((X,), {})],
    np.rint: [((X,), {})], np.trunc: [((X,), {})], np.fix: [((X,), {})],
    np.floor_divide: [((X * 3, 3.0 * np.ones_like(X) + 0.0), {}), ((frac(4), 1.0), {})],
    np.equal: [((X, Y), {})], np.not_equal: [((X, Y), {})], np.less: [((X, Y), {})],
    np.less_equal: [((X, Y), {})], np.greater: [((X, Y), {})], np.greater_equal: [((X, Y), {})],
    np.isnan: [((X,), {})], np.isfinite: [((X,), {})], np.isinf: [((X,), {})],
    np.isclose: [((X, X + 0.0), {}), ((X, Y), {})], np.allclose: [((X, X + 0.0), {}), ((X, Y), {})],
    np.array_equal: [((X, Y), {})],
    np.logical_and: [((away(3), away(3)), {})], np.logical_or: [((away(3), away(3)), {})],
    np.logical_not: [((away(3),), {})], np.logical_xor: [((away(3), away(3)), {})],
    np.bitwise_and: [((INTS, 5), {})], np.bitwise_or: [((INTS, 5), {})],
    np.bitwise_xor: [((INTS, 5), {})], np.invert: [((INTS,), {})],
    np.any: [((away(3, 4),), {}), ((X > 0,), {"axis": 0})], np.all: [((away(3, 4),), {})],
    np.result_type: [((X, 1.5), {})],
    builtins.len: [((X,), {}), (([1.5, 2.5],), {})], builtins.round: [((2.3,), {}), ((-1.7,), {})],
    builtins.int: [((2.3,), {}), ((-1.7,), {})], builtins.bool: [((0.7,), {})],
    math.floor: [((2.3,), {})], math.ceil: [((-1.7,), {})], math.isnan: [((0.3,), {})],
    math.isfinite: [((0.3,), {})],
    nn.accuracy: [((SCORES, LABELS), {})],
}


def _label(fun):
    return f"{getattr(fun, '__module__', '')}.{getattr(fun, '__name__', fun)}"


# constants of the other rule modules, with samples where they are defined or here
SAMPLES.update(NONDIFF_SAMPLES)
SAMPLES.update({
    np.linalg.matrix_rank: [((away(3, 3),), {})],
    np.einsum_path: [(("ij,jk->ik", away(2, 3), away(3, 2)), {"optimize": "greedy"})],
    knet.zeros_like: [((X,), {}), (([X, 1.5],), {})],          # zeros of a tree (tangent programs use it)
    # the compiled code's checks (tangent programs keep them): None for values they let through
    inplace.refuse_sequence: [((X, "f.py:1"), {})],
    inplace.refuse_shared_update: [((1.5, "f.py:1"), {})],
})


def test_every_constant_has_samples():
    missing = [_label(f) for f in rules._NONDIFF.values() if f not in SAMPLES]
    assert not missing, (f"constant-table entries without samples in tests/test_constants.py: {missing}; "
                         f"add samples away from the function's jumps")


def _float_leaves(args, kwargs):
    """Positions of the float arguments: ('a', i) or ('k', name)."""
    out = [("a", i) for i, a in enumerate(args) if _is_float(a)]
    return out + [("k", k) for k, v in kwargs.items() if _is_float(v)]


def _is_float(v):
    if isinstance(v, bool):
        return False
    if isinstance(v, float):
        return True
    return isinstance(v, np.ndarray) and v.dtype.kind == "f"


def _perturbed(args, kwargs, where, step):
    args, kwargs = list(args), dict(kwargs)
    kind, key = where
    v = args[key] if kind == "a" else kwargs[key]
    if isinstance(v, np.ndarray):
        v = v + step * R.choice([-1.0, 1.0], v.shape)
    else:
        v = v + step
    if kind == "a":
        args[key] = v
    else:
        kwargs[key] = v
    return args, kwargs


def _same(a, b, values=True):
    if isinstance(a, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y, values) for x, y in zip(a, b))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and a.dtype == b.dtype and (not values or np.array_equal(a, b))
    return a == b and type(a) is type(b)


CASES = [(f, args, kwargs) for f, samples in SAMPLES.items() for args, kwargs in samples]


@pytest.mark.parametrize("fun, args, kwargs", CASES, ids=[f"{_label(c[0])}-{i}" for i, c in enumerate(CASES)])
def test_constant_is_locally_constant(fun, args, kwargs):
    assert rules.is_nondiff(fun), f"{_label(fun)} left the constant table: drop its samples"
    base = fun(*args, **kwargs)
    values = fun not in (np.empty, np.empty_like)          # their values are unspecified
    for where in _float_leaves(args, kwargs):
        for step in (1e-6, -1e-6, 3e-7):
            a, kw = _perturbed(args, kwargs, where, step)
            out = fun(*a, **kw)
            assert _same(out, base, values), (
                f"{_label(fun)} changed when {where} moved by {step}: it is not a constant")
            if values and not isinstance(base, (tuple, list)) and _is_float(np.asarray(base)) and np.size(base):
                weights = R.standard_normal(np.shape(base))
                fd = (np.sum(weights * np.asarray(out)) - np.sum(weights * np.asarray(base))) / step
                assert fd == 0.0


# --- the constants through grad, in every mode: sign/floor/... are zero-derivative --------
x0 = frac(5)


def sign_times(x):
    return np.sum(np.sign(x) * x * x)


def floor_times(x):
    return np.sum(np.floor(3 * x) * x + np.ceil(x) * np.round(x) * x)


def rint_trunc(x):
    return np.sum(np.rint(x) * np.trunc(2 * x) * np.fix(x) * x)


def compare_where(x):
    return np.sum(np.where(np.greater(x, 0.1), x * x, -x) + np.argmax(x) * x)


def floordiv(x):
    return np.sum(np.floor_divide(x, 0.7) * x)


@pytest.mark.parametrize("f", [sign_times, floor_times, rint_trunc, compare_where, floordiv])
@pytest.mark.parametrize("mode", ["auto", "source", "tape"])
def test_zero_derivative_functions_in_every_mode(f, mode):
    want = numeric_grad(f, (x0,))
    got = knet.grad(f, mode=mode)(x0)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)


# --- the functions that were wrongly constant: rules now, in every mode --------------------
w0 = np.array([0.3, -0.7, 1.2])
C = np.array([1.0, 2.0, 3.0])
K6 = np.arange(6.0) - 2.5


def full_fill(x):
    return np.sum(np.full(3, x[0]) * C) + np.sum(np.full((2, 3), x) * x)


def full_like_fill(x):
    return np.sum(np.full_like(x, x[1]) * C * x) + np.sum(np.full_like(x, 2.0) * x)


def full_like_shape(x):
    return np.sum(np.full_like(x, x[2] * x[0], shape=(2, 2)) ** 2)


def arange_start(x):
    return np.sum(np.arange(x[0], x[0] + 3) * C)


def arange_step(x):
    return np.sum(np.arange(x[2], 4.05, x[2] * 0.5 + 0.6) ** 2)


def arange_stop_only(x):
    return np.sum(np.arange(x[2] + 3.0) * x[0])


def linspace_ends(x):
    return np.sum(np.linspace(x[0], x[1], 5) * np.arange(5.0))


def linspace_no_endpoint(x):
    return np.sum(np.linspace(x[1], x[2] * 2, 4, endpoint=False) ** 2)


def linspace_arrays(x):
    return np.sum(np.linspace(x[:2], x[1:], 3, axis=1) * K6.reshape(2, 3))


def r_items(x):
    return np.sum(np.r_[x, 2.0, x[:2] * 3] * K6)


def r_scalar_first(x):
    return np.sum(np.r_[x[1], x] * K6[:4])


def c_columns(x):
    return np.sum(np.c_[x, C * x] * K6.reshape(3, 2))


CREATED = [full_fill, full_like_fill, full_like_shape, arange_start, arange_step, arange_stop_only,
           linspace_ends, linspace_no_endpoint, linspace_arrays, r_items, r_scalar_first, c_columns]


@pytest.mark.parametrize("f", CREATED)
@pytest.mark.parametrize("mode", ["auto", "tape"])
def test_arrays_built_from_values_are_differentiable(f, mode):
    want = numeric_grad(f, (w0,))
    assert np.any(want != 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", knet.FallbackWarning)
        got = knet.grad(f, mode=mode)(w0)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)


def r_directive(x):
    return np.sum(np.r_["0,2", x, x[::-1] * 2] * K6.reshape(2, 3))


def r_slice(x):
    return np.sum(np.r_[x, 0:3] * K6)


@pytest.mark.parametrize("f", CREATED + [r_directive])
def test_arrays_built_from_values_compile(f):
    g = knet.grad(f, mode="source")
    np.testing.assert_allclose(g(w0), numeric_grad(f, (w0,)), rtol=1e-6, atol=1e-8)
    assert g.mode == "source"


def test_a_slice_inside_r_is_left_to_the_tape():
    with pytest.raises(knet.UnsupportedError, match=r"slice inside np\.r_.*test_constants\.py:\d+"):
        knet.grad(r_slice, mode="source")(w0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", knet.FallbackWarning)
        np.testing.assert_allclose(knet.grad(r_slice)(w0), numeric_grad(r_slice, (w0,)), rtol=1e-6)


def test_full_with_an_integer_dtype_is_refused():
    def f(x):
        return np.sum(np.full(3, x[0], dtype=int) * C)
    for mode in ("source", "tape"):
        with pytest.raises(knet.KnetError, match="dtype"):
            knet.grad(f, mode=mode)(w0)


def fromiter_traced(x):
    v = np.fromiter((x[i] * 2.0 for i in range(3)), dtype=float)
    return np.sum(v * C)


def array_of_traced_scalars(x):
    m = np.array([[x[0], x[1]], [x[2], 1.0]])
    return np.sum(m @ m) + np.sum(np.asarray(x) * C)


@pytest.mark.parametrize("f", [fromiter_traced, array_of_traced_scalars])
@pytest.mark.parametrize("mode", ["auto", "tape"])
def test_arrays_from_traced_elements(f, mode):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", knet.FallbackWarning)
        got = knet.grad(f, mode=mode)(w0)
    np.testing.assert_allclose(got, numeric_grad(f, (w0,)), rtol=1e-6, atol=1e-8)
