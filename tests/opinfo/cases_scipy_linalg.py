"""OpInfos of scipy.linalg: triangular solves, Cholesky, matrix functions (2-d matrices)."""
import numpy as np

from . import OpInfo, Sample


def _spd(rng, n, dtype):
    a = rng.standard_normal((n, n))
    return (a @ a.T + n * np.eye(n)).astype(dtype)


def _triangular(rng, n, lower, dtype):
    t = rng.standard_normal((n, n)) * 0.3 + np.diag(rng.uniform(1.0, 2.0, n))
    return (np.tril(t) if lower else np.triu(t)).astype(dtype)


def _solve_triangular(rng, dtype):
    lo, up = _triangular(rng, 4, True, dtype), _triangular(rng, 4, False, dtype)
    b = rng.standard_normal((4, 3)).astype(dtype)
    v = rng.standard_normal(4).astype(dtype)
    return [Sample((lo, b), {"lower": True}, name="lower"),
            Sample((up, b), name="upper"),
            Sample((lo, v), {"lower": True, "trans": 1}, name="lower_trans_vector"),
            Sample((up, b), {"trans": "T"}, name="upper_trans_T"),
            Sample((up, b, 2), name="positional_trans_C"),
            Sample((lo, b), {"lower": True, "unit_diagonal": True}, name="unit_diagonal"),
            Sample((up, v), {"trans": "N", "check_finite": False}, name="vector")]


def _cho_solve(rng, dtype):
    # the factor comes in a (c, lower) tuple, which the generic runner cannot differentiate
    # (its bool is not a float): tests/test_scipy.py checks the derivative in the factor
    lo = np.linalg.cholesky(_spd(rng, 4, np.float64)).astype(dtype)
    b = rng.standard_normal((4, 2)).astype(dtype)
    v = rng.standard_normal(4).astype(dtype)
    return [Sample(((lo, True), b), wrt=(1,), name="lower"),
            Sample(((lo.T.copy(), False), v), wrt=(1,), name="upper_vector"),
            Sample(((lo, True), b), {"check_finite": False}, wrt=(1,), name="check_finite")]


def _cholesky(rng, dtype):
    return [Sample((_spd(rng, 4, dtype),), name="upper"),
            Sample((_spd(rng, 3, dtype),), {"lower": True}, name="lower"),
            Sample((_spd(rng, 4, dtype), True), name="positional_lower")]


def _expm(rng, dtype):
    return [Sample(((0.5 * rng.standard_normal((4, 4))).astype(dtype),)),
            Sample((np.array([[0.1, 1.0], [-1.0, 0.2]], dtype=dtype),), name="rotation")]


def _sqrtm(rng, dtype):
    return [Sample((_spd(rng, 4, dtype),), name="spd"),
            Sample(((np.eye(3) * 2 + 0.3 * rng.standard_normal((3, 3))).astype(dtype),), name="general")]


OPS = [
    OpInfo("scipy.linalg.solve_triangular", _solve_triangular, requires="scipy"),
    OpInfo("scipy.linalg.cho_solve", _cho_solve, requires="scipy"),
    OpInfo("scipy.linalg.cholesky", _cholesky, requires="scipy"),
    OpInfo("scipy.linalg.expm", _expm, requires="scipy", rtol=1e-5),
    # its VJP solves a Sylvester equation, which has no rule: no second derivatives
    OpInfo("scipy.linalg.sqrtm", _sqrtm, requires="scipy", second_order=False, rtol=1e-5),
]
