"""OpInfos of np.linalg: square, non-square and stacked matrices, well conditioned and away
from degenerate points (distinct eigenvalues and singular values, SPD for cholesky).

Symmetric-input functions (cholesky, eigh, eigvalsh) get symmetric samples; finite
differences then perturb single entries, which NumPy reads from one triangle only,
and the rules give exactly that function's derivative (see rules_linalg).
"""
import numpy as np

from . import OpInfo, Sample


def _r(rng, dtype, *shape):
    return rng.standard_normal(shape).astype(dtype)


def _well(rng, dtype, *shape):
    """Random matrices close to the identity (condition number ~2)."""
    n = shape[-1]
    return (0.3 * rng.standard_normal(shape) + np.eye(n)).astype(dtype)


def _spd(rng, dtype, *shape):
    n = shape[-1]
    b = rng.standard_normal(shape)
    return (b @ np.swapaxes(b, -1, -2) / n + np.eye(n)).astype(dtype)


def _sym_distinct(rng, dtype, *shape):
    """Symmetric matrices with eigenvalues spread at least ~0.5 apart."""
    n = shape[-1]
    q, _ = np.linalg.qr(rng.standard_normal(shape))
    w = np.arange(1, n + 1) * 0.8 + 0.1 * rng.standard_normal(shape[:-1])
    return ((q * np.expand_dims(w, -2)) @ np.swapaxes(q, -1, -2)).astype(dtype)


def _distinct_singular(rng, dtype, *shape):
    """Matrices with singular values spread apart (and away from 0)."""
    m, n = shape[-2], shape[-1]
    k = min(m, n)
    u, _ = np.linalg.qr(rng.standard_normal(shape[:-2] + (m, k)))
    v, _ = np.linalg.qr(rng.standard_normal(shape[:-2] + (n, k)))
    s = np.arange(k, 0, -1) * 0.7 + 0.3
    return ((u * s) @ np.swapaxes(v, -1, -2)).astype(dtype)


def _square(maker):
    def samples(rng, dtype):
        return [Sample((maker(rng, dtype, 3, 3),)), Sample((maker(rng, dtype, 1, 1),), name="1x1"),
                Sample((maker(rng, dtype, 2, 4, 4),), name="batched")]
    return samples


def _solve(rng, dtype):
    a, ab = _well(rng, dtype, 3, 3), _well(rng, dtype, 2, 3, 3)
    return [Sample((a, _r(rng, dtype, 3)), name="vector"), Sample((a, _r(rng, dtype, 3, 2)), name="matrix"),
            Sample((ab, _r(rng, dtype, 2, 3, 4)), name="batched"),
            Sample((ab, _r(rng, dtype, 3)), name="batched_vector"),
            Sample((ab, _r(rng, dtype, 3, 2)), name="batched_broadcast_b"),
            Sample((a, _r(rng, dtype, 2, 3, 2)), name="broadcast_a")]


def _pinv(rng, dtype):
    return [Sample((_distinct_singular(rng, dtype, 4, 3),), name="tall"),
            Sample((_distinct_singular(rng, dtype, 2, 5),), name="wide"),
            Sample((_well(rng, dtype, 3, 3),), name="square"),
            Sample((_distinct_singular(rng, dtype, 2, 4, 3),), name="batched"),
            Sample((_sym_distinct(rng, dtype, 3, 3),), {"hermitian": True}, name="hermitian"),
            Sample((_distinct_singular(rng, dtype, 4, 3),), {"rcond": 1e-10}, name="rcond"),
            Sample((_distinct_singular(rng, dtype, 4, 3),), {"rtol": 1e-8}, name="rtol")]


def _lstsq(rng, dtype):
    a = _distinct_singular(rng, dtype, 5, 3)
    return [Sample((a, _r(rng, dtype, 5)), {"rcond": None}, name="vector"),
            Sample((a, _r(rng, dtype, 5, 2)), {"rcond": None}, name="matrix"),
            Sample((_well(rng, dtype, 3, 3), _r(rng, dtype, 3, 2)), {"rcond": None}, name="square")]


def _cholesky(rng, dtype):
    return [Sample((_spd(rng, dtype, 3, 3),)), Sample((_spd(rng, dtype, 2, 4, 4),), name="batched"),
            Sample((_spd(rng, dtype, 3, 3),), {"upper": True}, name="upper")]


def _qr(rng, dtype):
    return [Sample((_distinct_singular(rng, dtype, 3, 3),), name="square"),
            Sample((_distinct_singular(rng, dtype, 5, 3),), name="tall"),
            Sample((_distinct_singular(rng, dtype, 2, 4, 3),), name="batched"),
            Sample((_distinct_singular(rng, dtype, 4, 3),), {"mode": "reduced"}, name="reduced"),
            Sample((_distinct_singular(rng, dtype, 4, 3),), {"mode": "r"}, name="r"),
            Sample((_distinct_singular(rng, dtype, 3, 3),), {"mode": "complete"}, name="complete_square"),
            Sample((_distinct_singular(rng, dtype, 4, 3), "r"), name="positional_r"),
            Sample((_wide(rng, dtype, 3, 5),), name="wide"),
            Sample((_wide(rng, dtype, 2, 2, 4),), name="wide_batched"),
            Sample((_wide(rng, dtype, 3, 5),), {"mode": "complete"}, name="wide_complete"),
            Sample((_wide(rng, dtype, 3, 4),), {"mode": "r"}, name="wide_r")]


def _wide(rng, dtype, *shape):
    """m < n, with a well-conditioned leading m x m block (the one Q comes from)."""
    m, n = shape[-2], shape[-1]
    return np.concatenate([_well(rng, np.float64, *shape[:-1], m), rng.standard_normal(shape[:-1] + (n - m,))],
                          axis=-1).astype(dtype)


def _eigh(rng, dtype):
    return [Sample((_sym_distinct(rng, dtype, 3, 3),)), Sample((_sym_distinct(rng, dtype, 2, 4, 4),), name="batched"),
            Sample((_sym_distinct(rng, dtype, 3, 3),), {"UPLO": "U"}, name="upper"),
            Sample((_sym_distinct(rng, dtype, 3, 3),), {"UPLO": "L"}, name="lower"),
            Sample((_sym_distinct(rng, dtype, 3, 3), "U"), name="positional_upper")]


def _eig(rng, dtype):
    """Real symmetric matrices (real eigenvalues), and a non-symmetric one with real eigenvalues."""
    t = np.triu(0.4 * rng.standard_normal((3, 3)), 1) + np.diag([1.0, 2.0, 3.2])
    p = _well(rng, np.float64, 3, 3)
    nonsym = (p @ t @ np.linalg.inv(p)).astype(dtype)
    return [Sample((_sym_distinct(rng, dtype, 3, 3),), name="symmetric"),
            Sample((_sym_distinct(rng, dtype, 2, 3, 3),), name="batched"),
            Sample((nonsym,), name="nonsymmetric_real_eigenvalues")]


def _svd(rng, dtype):
    return [Sample((_distinct_singular(rng, dtype, 3, 3),), {"full_matrices": False}, name="square"),
            Sample((_distinct_singular(rng, dtype, 5, 3),), {"full_matrices": False}, name="tall"),
            Sample((_distinct_singular(rng, dtype, 2, 4),), {"full_matrices": False}, name="wide"),
            Sample((_distinct_singular(rng, dtype, 2, 4, 3),), {"full_matrices": False}, name="batched"),
            Sample((_distinct_singular(rng, dtype, 3, 3),), name="square_full"),
            Sample((_distinct_singular(rng, dtype, 4, 3), False), name="positional_reduced"),
            Sample((_distinct_singular(rng, dtype, 4, 3), False, False), name="positional_values"),
            Sample((_distinct_singular(rng, dtype, 4, 3),), {"compute_uv": False}, name="values_only"),
            Sample((_distinct_singular(rng, dtype, 2, 3, 5),), {"compute_uv": False}, name="values_batched"),
            Sample((_sym_distinct(rng, dtype, 3, 3),), {"hermitian": True}, name="hermitian"),
            Sample((_sym_distinct(rng, dtype, 3, 3),), {"hermitian": True, "compute_uv": False},
                   name="hermitian_values")]


def _svdvals(rng, dtype):
    return [Sample((_distinct_singular(rng, dtype, 4, 3),)), Sample((_distinct_singular(rng, dtype, 2, 3, 5),))]


def _x(rng, dtype, *shape):
    """Entries away from 0 and from each other in magnitude (no kinks of |x|, no ties of max)."""
    n = int(np.prod(shape))
    mags = 0.4 + 0.17 * rng.permutation(n) + 0.05 * rng.random(n)     # no equal sums either
    return (mags * rng.choice([-1.0, 1.0], n)).reshape(shape).astype(dtype)


def _norm(rng, dtype):
    v, m, t = _x(rng, dtype, 5), _x(rng, dtype, 3, 4), _x(rng, dtype, 2, 3, 4)
    samples = [Sample((v,)), Sample((m,)), Sample((t,), name="flattened_3d")]
    for ord_ in (None, 2, 1, -1, np.inf, -np.inf, 0, 3, 0.5, -2.5):
        samples.append(Sample((v,), {"ord": ord_}, wrt=(0,), name=f"vector_ord_{ord_}"))
        samples.append(Sample((t,), {"ord": ord_, "axis": 1}, wrt=(0,), name=f"axis_ord_{ord_}"))
    for ord_ in (None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf):
        mm = _distinct_singular(rng, dtype, 3, 4) if ord_ in ("nuc", 2, -2) else m
        tt = _distinct_singular(rng, dtype, 2, 3, 4) if ord_ in ("nuc", 2, -2) else t
        samples.append(Sample((mm,), {"ord": ord_}, wrt=(0,), name=f"matrix_ord_{ord_}"))
        samples.append(Sample((tt,), {"ord": ord_, "axis": (1, 2)}, wrt=(0,), name=f"matrix_axes_ord_{ord_}"))
        samples.append(Sample((np.swapaxes(tt, 0, 2).copy(),), {"ord": ord_, "axis": (2, 0), "keepdims": True},
                              wrt=(0,), name=f"matrix_axes_reversed_keepdims_{ord_}"))
    samples += [Sample((t,), {"axis": -1, "keepdims": True}, name="keepdims"),
                Sample((t,), {"axis": (0, 2)}, name="axes_fro"),
                Sample((t, 2, 0), name="positional"),
                Sample((m, "nuc", (0, 1), True), name="positional_matrix"),
                Sample((m,), {"keepdims": True}, name="keepdims_all")]
    return samples


def _matrix_norm(rng, dtype):
    m, t = _x(rng, dtype, 3, 4), _x(rng, dtype, 2, 3, 4)
    samples = [Sample((m,)), Sample((t,), {"keepdims": True}, name="keepdims")]
    for ord_ in ("fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf):
        mm = _distinct_singular(rng, dtype, 2, 3, 4) if ord_ in ("nuc", 2, -2) else t
        samples.append(Sample((mm,), {"ord": ord_}, wrt=(0,), name=f"ord_{ord_}"))
    return samples


def _vector_norm(rng, dtype):
    v, t = _x(rng, dtype, 5), _x(rng, dtype, 2, 3, 4)
    samples = [Sample((v,)), Sample((t,), name="all_axes"), Sample((t,), {"axis": (0, 2)}, name="two_axes"),
               Sample((t,), {"axis": 1, "keepdims": True}, name="keepdims"),
               Sample((t,), {"keepdims": True}, name="all_keepdims")]
    for ord_ in (2, 1, -1, np.inf, -np.inf, 0, 3, 0.5):
        samples.append(Sample((t,), {"ord": ord_, "axis": -1}, wrt=(0,), name=f"ord_{ord_}"))
    return samples


def _cond(rng, dtype):
    samples = [Sample((_distinct_singular(rng, dtype, 3, 3),)), Sample((_distinct_singular(rng, dtype, 4, 3),),
                                                                      name="tall"),
               Sample((_distinct_singular(rng, dtype, 2, 3, 3),), name="batched")]
    for p in (2, -2, "fro", "nuc", 1, -1, np.inf, -np.inf):
        samples.append(Sample((_x(rng, dtype, 3, 3) + 3 * np.eye(3, dtype=dtype),), {"p": p}, wrt=(0,),
                              name=f"p_{p}"))
    samples.append(Sample((_distinct_singular(rng, dtype, 3, 3), 2), name="positional"))
    return samples


def _tensorinv(rng, dtype):
    return [Sample((_well(rng, dtype, 6, 6).reshape(6, 2, 3),), {"ind": 1}, name="ind1"),
            Sample((_well(rng, dtype, 6, 6).reshape(2, 3, 6),), name="ind2"),
            Sample((_well(rng, dtype, 4, 4).reshape(2, 2, 2, 2),), {"ind": 2}, name="four_d")]


def _tensorsolve(rng, dtype):
    a = _well(rng, dtype, 6, 6).reshape(2, 3, 6)
    a2 = np.moveaxis(_well(rng, dtype, 6, 6).reshape(6, 2, 3), 0, 1).copy()      # (2, 6, 3)
    return [Sample((a, _r(rng, dtype, 2, 3))), Sample((a2, _r(rng, dtype, 2, 3)), {"axes": (1,)}, name="axes"),
            Sample((_well(rng, dtype, 4, 4), _r(rng, dtype, 4)), name="matrix")]


_NUMPY_ONLY_KEYWORDS = {"hermitian", "rtol", "upper"}     # CuPy's functions lack them


def _on_cupy(samples, cupy=True):
    """The samples CuPy can run (``cupy=True``), or the others."""
    def pick(rng, dtype):
        return [s for s in samples(rng, dtype) if cupy != bool(_NUMPY_ONLY_KEYWORDS & set(s.kwargs))]
    return pick


OPS = [
    OpInfo("np.linalg.det", _square(_well), gpu=True),
    OpInfo("np.linalg.slogdet", _square(_well), gpu=True),
    OpInfo("np.linalg.inv", _square(_well), gpu=True),
    OpInfo("np.linalg.solve", _solve, gpu=True),
    OpInfo("np.linalg.pinv", _on_cupy(_pinv), gpu=True),
    OpInfo("np.linalg.pinv", _on_cupy(_pinv, False), name="np.linalg.pinv:numpy_keywords"),
    OpInfo("np.linalg.lstsq", _lstsq, gpu=True),
    OpInfo("np.linalg.cholesky", _on_cupy(_cholesky), gpu=True),
    OpInfo("np.linalg.cholesky", _on_cupy(_cholesky, False), name="np.linalg.cholesky:upper"),
    OpInfo("np.linalg.qr", _qr, gpu=True),
    # eigenvectors and singular vectors are defined up to sign, and CuPy may choose other
    # signs than NumPy (the sample losses depend on them): their GPU comparison is left out
    OpInfo("np.linalg.eigh", _eigh),
    OpInfo("np.linalg.eigvalsh", _eigh, gpu=True),
    OpInfo("np.linalg.eig", _eig),
    OpInfo("np.linalg.eigvals", _eig),
    OpInfo("np.linalg.svd", _on_cupy(_svd)),
    OpInfo("np.linalg.svd", lambda rng, dtype: [s for s in _on_cupy(_svd)(rng, dtype)
                                                if s.kwargs.get("compute_uv") is False],
           name="np.linalg.svd:values", gpu=True),
    OpInfo("np.linalg.svd", _on_cupy(_svd, False), name="np.linalg.svd:hermitian"),
    OpInfo("np.linalg.svdvals", _svdvals),
    OpInfo("np.linalg.norm", _norm, gpu=True),
    OpInfo("np.linalg.matrix_norm", _matrix_norm),
    OpInfo("np.linalg.vector_norm", _vector_norm),
    OpInfo("np.linalg.cond", _cond),
    OpInfo("np.linalg.tensorinv", _tensorinv),
    OpInfo("np.linalg.tensorsolve", _tensorsolve),
]
