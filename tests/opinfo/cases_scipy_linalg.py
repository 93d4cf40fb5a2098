"""OpInfos of scipy.linalg: triangular solves, Cholesky, LU, eigh, matrix functions; stacked
matrices where SciPy 1.17 takes them."""
import numpy as np

from . import OpInfo, Sample


def _spd(rng, n, dtype, batch=()):
    a = rng.standard_normal(batch + (n, n))
    return (a @ np.swapaxes(a, -1, -2) + n * np.eye(n)).astype(dtype)


def _well(rng, dtype, *shape):
    """Close to the identity (condition number ~2); LU pivots stay put under small steps."""
    return (0.3 * rng.standard_normal(shape) + np.eye(shape[-1])).astype(dtype)


def _general(rng, dtype, *shape):
    """Random matrices whose LU pivots are clearly chosen (no near tie between candidates)."""
    while True:
        a = rng.standard_normal(shape)
        cols = np.abs(np.reshape(a, (-1,) + shape[-2:]))
        top = np.sort(cols[..., :, 0], axis=-1)
        if np.all(top[..., -1] - top[..., -2] > 0.2):
            return (a + 0.5 * np.eye(shape[-1])).astype(dtype)


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
            Sample((up, v), {"trans": "N", "check_finite": False}, name="vector"),
            Sample((np.stack([lo, lo * 0.9 + np.eye(4, dtype=dtype) * 0.1]), np.stack([b, 2 * b])),
                   {"lower": True}, name="batched")]


def _cho_solve(rng, dtype):
    # the factor comes in a (c, lower) tuple, which the generic runner cannot differentiate
    # (its bool is not a float): tests/test_scipy.py checks the derivative in the factor
    lo = np.linalg.cholesky(_spd(rng, 4, np.float64)).astype(dtype)
    b = rng.standard_normal((4, 2)).astype(dtype)
    v = rng.standard_normal(4).astype(dtype)
    return [Sample(((lo, True), b), wrt=(1,), name="lower"),
            Sample(((lo.T.copy(), False), v), wrt=(1,), name="upper_vector"),
            Sample(((lo, True), b), {"check_finite": False}, wrt=(1,), name="check_finite"),
            Sample(((np.linalg.cholesky(_spd(rng, 3, np.float64, (2,))).astype(dtype), True),
                    rng.standard_normal((2, 3, 2)).astype(dtype)), wrt=(1,), name="batched")]


def _cholesky(rng, dtype):
    return [Sample((_spd(rng, 4, dtype),), name="upper"),
            Sample((_spd(rng, 3, dtype),), {"lower": True}, name="lower"),
            Sample((_spd(rng, 4, dtype), True), name="positional_lower"),
            Sample((_spd(rng, 3, dtype, (2,)),), name="batched"),
            Sample((_spd(rng, 3, dtype, (2,)),), {"lower": True}, name="batched_lower")]


def _expm(rng, dtype):
    return [Sample(((0.5 * rng.standard_normal((4, 4))).astype(dtype),)),
            Sample((np.array([[0.1, 1.0], [-1.0, 0.2]], dtype=dtype),), name="rotation"),
            Sample(((0.5 * rng.standard_normal((2, 3, 3))).astype(dtype),), name="batched")]


def _logm(rng, dtype):
    """Matrices with a real logarithm: SPD, and near the identity."""
    return [Sample((_spd(rng, 3, dtype),), name="spd"),
            Sample((_well(rng, dtype, 3, 3),), name="general"),
            Sample((_well(rng, dtype, 2, 3, 3),), name="batched")]


def _lu(rng, dtype):
    return [Sample((_general(rng, dtype, 4, 4),)), Sample((_general(rng, dtype, 2, 3, 3),), name="batched"),
            Sample((_general(rng, dtype, 4, 4),), {"permute_l": True}, name="permute_l"),
            Sample((_general(rng, dtype, 3, 3),), {"p_indices": True}, name="p_indices")]


def _lu_solve(rng, dtype):
    # (lu, piv) holds integer pivots: the generic runner differentiates b here, and
    # tests/test_scipy.py the packed factors (through lu_factor)
    import scipy.linalg
    a = _general(rng, np.float64, 4, 4)
    lu, piv = scipy.linalg.lu_factor(a)
    b, v = rng.standard_normal((4, 2)).astype(dtype), rng.standard_normal(4).astype(dtype)
    factors = (lu.astype(dtype), piv)
    return [Sample((factors, b), wrt=(1,)), Sample((factors, v), {"trans": 1}, wrt=(1,), name="trans"),
            Sample((factors, b, 2), wrt=(1,), name="positional_trans")]


def _eigh(rng, dtype):
    """Symmetric, eigenvalues ~0.8 apart; SciPy's eigenvector signs must not flip nearby, so
    samples are drawn until they do not (a sign flip is a jump of SciPy's choice, not of the rule)."""
    import scipy.linalg
    out = []
    for kwargs, name in (({}, ""), ({"lower": False}, "upper"), ({"eigvals_only": True}, "values_only"),
                         ({"lower": False, "eigvals_only": True}, "upper_values_only"),
                         ({"driver": "evd"}, "driver")):
        while True:
            q, _ = np.linalg.qr(rng.standard_normal((3, 3)))
            a = (q * (np.arange(1, 4) * 0.8)) @ q.T
            probe = {k: v for k, v in kwargs.items() if k != "eigvals_only"}
            signs = np.sign(scipy.linalg.eigh(a, **probe)[1])
            steps = np.eye(9).reshape(9, 3, 3)
            if all(np.array_equal(np.sign(scipy.linalg.eigh(a + s * e, **probe)[1]), signs)
                   for e in steps for s in (1e-6, -1e-6, 1e-5, -1e-5, 2e-5, -2e-5)):
                break
        out.append(Sample((a.astype(dtype),), kwargs, name=name))
    return out


def _eigvalsh(rng, dtype):
    a = _spd(rng, 3, dtype)
    return [Sample((a,)), Sample((a,), {"lower": False}, name="upper")]


def _sqrtm(rng, dtype):
    return [Sample((_spd(rng, 4, dtype),), name="spd"),
            Sample(((np.eye(3) * 2 + 0.3 * rng.standard_normal((3, 3))).astype(dtype),), name="general"),
            Sample((_spd(rng, 3, dtype, (2,)),), name="batched")]


def _sylvester(rng, dtype):
    a = _well(rng, dtype, 3, 3) + 2 * np.eye(3, dtype=dtype)      # spectra of a and -b apart
    b = _well(rng, dtype, 2, 2) + np.eye(2, dtype=dtype)
    return [Sample((a, b, rng.standard_normal((3, 2)).astype(dtype))),
            Sample((a, _well(rng, dtype, 3, 3), rng.standard_normal((3, 3)).astype(dtype)), name="square")]


def _banded(rng, dtype):
    """A diagonally dominant banded matrix in SciPy's storage, ab[u + i - j, j] = A[i, j]; the
    entries of ab outside the matrix (corners) are read by nobody: zero gradient."""
    n, out = 5, []
    for lower, upper in ((1, 1), (2, 0), (0, 2)):
        ab = 0.3 * rng.standard_normal((lower + upper + 1, n))
        ab[upper] = rng.uniform(2.0, 3.0, n)
        out.append(Sample(((lower, upper), ab.astype(dtype), rng.standard_normal((n, 2)).astype(dtype)),
                          wrt=(1, 2), name=f"l{lower}_u{upper}"))
    out.append(Sample(((1, 1), out[0].args[1], rng.standard_normal(n).astype(dtype)), wrt=(1, 2), name="vector"))
    return out


def _batched_square(rng, dtype):
    return [Sample((_well(rng, dtype, 3, 3),)), Sample((_well(rng, dtype, 2, 3, 3),), name="batched")]


def _solve(rng, dtype):
    return [Sample((_well(rng, dtype, 3, 3), rng.standard_normal((3, 2)).astype(dtype))),
            Sample((_well(rng, dtype, 3, 3), rng.standard_normal(3).astype(dtype)), name="vector"),
            Sample((_well(rng, dtype, 2, 3, 3), rng.standard_normal((2, 3, 2)).astype(dtype)), name="batched")]


OPS = [
    OpInfo("scipy.linalg.inv", _batched_square, requires="scipy"),
    OpInfo("scipy.linalg.det", _batched_square, requires="scipy"),
    OpInfo("scipy.linalg.solve", _solve, requires="scipy"),
    OpInfo("scipy.linalg.logm", _logm, requires="scipy", rtol=1e-5),
    OpInfo("scipy.linalg.lu", _lu, requires="scipy"),
    OpInfo("scipy.linalg.lu_factor", lambda rng, dtype: [Sample((_general(rng, dtype, 4, 4),))],
           requires="scipy"),
    OpInfo("scipy.linalg.lu_solve", _lu_solve, requires="scipy"),
    OpInfo("scipy.linalg.eigh", _eigh, requires="scipy", rtol=1e-5),
    OpInfo("scipy.linalg.eigvalsh", _eigvalsh, requires="scipy"),
    OpInfo("scipy.linalg.solve_sylvester", _sylvester, requires="scipy", rtol=1e-5),
    OpInfo("scipy.linalg.solve_banded", _banded, requires="scipy"),
    OpInfo("scipy.linalg.solve_triangular", _solve_triangular, requires="scipy"),
    OpInfo("scipy.linalg.cho_solve", _cho_solve, requires="scipy"),
    OpInfo("scipy.linalg.cholesky", _cholesky, requires="scipy"),
    OpInfo("scipy.linalg.expm", _expm, requires="scipy", rtol=1e-5),
    # its VJP solves a Sylvester equation, which has a rule: second derivatives too
    OpInfo("scipy.linalg.sqrtm", _sqrtm, requires="scipy", rtol=1e-5),
]
