"""Derivative rules of ``scipy.linalg`` (registered once the program imports it).

Matrices may be stacked (``(..., n, n)``) where SciPy 1.17 accepts stacks (``inv``, ``det``,
``solve``, ``cholesky``, ``solve_triangular``, ``cho_solve``, ``expm``, ``logm``, ``sqrtm``,
``lu``); a right-hand side ``b`` may be a vector. ``lu``, ``lu_factor``, ``lu_solve`` and
``eigh`` are in ``rules_scipy_decompositions`` (imported at the end). Where LAPACK
reads one triangle of its input (``cholesky``, ``solve_triangular``,
``cho_solve``'s factor), the derivative is that of the function SciPy
computes: zero in the triangle it ignores. For a symmetric matrix built from
parameters (``K = X @ X.T``) this gives the same gradient as the symmetric
one. VJPs are written with ``scipy.linalg`` and NumPy functions that have
rules (``sqrtm``'s uses ``solve_sylvester``, whose rule is here too), so second derivatives work.
"""
import numpy as np
import scipy.linalg
from scipy import linalg

from ..errors import KnetError
from .rules import ZERO_DERIVATIVE, defjvp, defvjp
from .scipy_linalg_helpers import _as_dtype, _plain, _tt

_TRANS = {0: 0, "N": 0, 1: 1, "T": 1, 2: 1, "C": 1}


def _mask(a, lower, unit_diagonal=False):
    """The entries of square ``a`` a triangular LAPACK routine reads, as a boolean matrix."""
    n = np.shape(a)[-1]
    tri = np.tri(n, dtype=bool)
    keep = tri if lower else tri.T
    if unit_diagonal:
        keep = keep & ~np.eye(n, dtype=bool)
    return keep


def _column(v, like):
    """``v`` as a matrix of columns when ``like`` (the right-hand side) is a vector."""
    return np.reshape(v, (np.shape(v)[0], 1)) if np.ndim(like) == 1 else v


# --- solve_triangular ------------------------------------------------------------------------------
def _solve_triangular_b(g, ans, a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False,
                        check_finite=True):
    t = _TRANS[trans]
    return _as_dtype(linalg.solve_triangular(a, g, trans=1 - t, lower=lower, unit_diagonal=unit_diagonal),
                     b)


def _solve_triangular_a(g, ans, a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False,
                        check_finite=True):
    gb = _column(_solve_triangular_b(g, ans, a, b, trans, lower, unit_diagonal), b)
    x = _column(ans, b)
    ga = -(gb @ np.swapaxes(x, -1, -2)) if _TRANS[trans] == 0 else -(x @ np.swapaxes(gb, -1, -2))
    return _as_dtype(np.where(_mask(a, lower, unit_diagonal), ga, 0), a)


defvjp(linalg.solve_triangular, _solve_triangular_a, _solve_triangular_b,
       name="scipy.linalg.solve_triangular", keywords=("trans", "lower", "unit_diagonal", "overwrite_b",
                                                       "check_finite"),
       a=_solve_triangular_a, b=_solve_triangular_b)


# --- cho_solve ---------------------------------------------------------------------------------------
def _cho_solve_b(g, ans, c_and_lower, b, overwrite_b=False, check_finite=True):
    return _as_dtype(linalg.cho_solve(c_and_lower, g), b)


def _cho_solve_factor(g, ans, c_and_lower, b, overwrite_b=False, check_finite=True):
    c, lower = c_and_lower
    gb = _column(linalg.cho_solve(c_and_lower, g), b)
    x = _column(ans, b)
    ga = -(gb @ np.swapaxes(x, -1, -2))
    sym = ga + np.swapaxes(ga, -1, -2)
    gc = sym @ c if lower else c @ sym         # A = L L^T, or A = U^T U
    return [_as_dtype(np.where(_mask(c, lower), gc, 0), c), None]


defvjp(linalg.cho_solve, _cho_solve_factor, _cho_solve_b, name="scipy.linalg.cho_solve",
       keywords=("overwrite_b", "check_finite"), c_and_lower=_cho_solve_factor, b=_cho_solve_b)


# --- cholesky ------------------------------------------------------------------------------------------
def _cholesky_a(g, ans, a, lower=False, overwrite_a=False, check_finite=True):
    L = ans if lower else _tt(ans)
    gL = g if lower else _tt(g)
    n = np.shape(L)[-1]
    # P = Phi(L^T gL): the lower triangle, diagonal halved; then S = L^-T P L^-1, symmetrised
    P = _tt(L) @ gL
    P = np.where(np.tri(n, dtype=bool), P, 0) - 0.5 * np.where(np.eye(n, dtype=bool), P, 0)
    X = linalg.solve_triangular(L, P, trans=1, lower=True)
    S = _tt(linalg.solve_triangular(L, _tt(X), trans=1, lower=True))
    sym = 0.5 * (S + _tt(S))
    # SciPy reads one triangle of a: the symmetric adjoint folded into it
    folded = sym + _tt(sym) - np.where(np.eye(n, dtype=bool), sym, 0)
    return _as_dtype(np.where(_mask(a, lower), folded, 0), a)


defvjp(linalg.cholesky, _cholesky_a, name="scipy.linalg.cholesky",
       keywords=("lower", "overwrite_a", "check_finite"), a=_cholesky_a)


# --- matrix functions ----------------------------------------------------------------------------------
def _frechet_adjoint(f, A, g):
    """The adjoint of the Frechet derivative of the matrix function ``f`` at ``A``, applied to
    ``g``: the Frechet derivative at ``A^T`` (f has a real power series), read off the upper
    right block of ``f([[A^T, g], [0, A^T]])``; stacked matrices too."""
    n = np.shape(A)[-1]
    At = _tt(A)
    top = np.concatenate([At, g], axis=-1)
    bottom = np.concatenate([np.zeros_like(At), At], axis=-1)
    return f(np.concatenate([top, bottom], axis=-2))[..., :n, n:]


def _expm_a(g, ans, A):
    return _as_dtype(_frechet_adjoint(linalg.expm, A, g), A)


defvjp(linalg.expm, _expm_a, name="scipy.linalg.expm", keywords=(), A=_expm_a)


def _logm_a(g, ans, A, disp=None):
    value = _plain(ans)
    if np.iscomplexobj(value) and not np.iscomplexobj(_plain(A)):
        # SciPy returns a complex logarithm of float32 input, with imaginary parts at rounding
        # level: the real logarithm, whose imaginary part has zero derivative
        scale = 1e3 * np.finfo(np.result_type(_plain(A), np.float32)).eps
        if np.any(np.abs(np.imag(value)) > scale * np.maximum(1.0, np.max(np.abs(value)))):
            raise KnetError("knetc: scipy.linalg.logm of this real matrix is complex (it has no real "
                            "logarithm: an eigenvalue on the negative real axis); its derivative is "
                            "modelled for real matrices with a real logarithm only")
    if np.iscomplexobj(_plain(A)):          # holomorphic: the same adjoint, complex
        return _frechet_adjoint(linalg.logm, A, g)
    return _as_dtype(np.real(_frechet_adjoint(linalg.logm, A, np.real(g))), A)


# disp= (deprecated) changes what logm returns: not modelled
defvjp(linalg.logm, _logm_a, name="scipy.linalg.logm", keywords=(), A=_logm_a)


def _sqrtm_a(g, ans, A, disp=None, blocksize=None):
    # S S = A: S dS + dS S = dA, so the adjoint solves S^T X + X S^T = g
    St = np.swapaxes(ans, -1, -2)
    return _as_dtype(np.real(scipy.linalg.solve_sylvester(St, St, g)), A)


# disp=False would return (sqrtm, error estimate): not modelled
defvjp(linalg.sqrtm, _sqrtm_a, name="scipy.linalg.sqrtm", keywords=(), A=_sqrtm_a)

# --- solve_sylvester, solve_banded ----------------------------------------------------------------------
# X solves A X + X B = Q; the adjoint Y of Q solves A^T Y + Y B^T = G, then dA = -Y X^T, dB = -X^T Y
def _sylvester_q(g, ans, a, b, q):
    return _as_dtype(linalg.solve_sylvester(_tt(a), _tt(b), g), q)


def _sylvester_a(g, ans, a, b, q):
    return _as_dtype(-(linalg.solve_sylvester(_tt(a), _tt(b), g) @ _tt(ans)), a)


def _sylvester_b(g, ans, a, b, q):
    return _as_dtype(-(_tt(ans) @ linalg.solve_sylvester(_tt(a), _tt(b), g)), b)


defvjp(linalg.solve_sylvester, _sylvester_a, _sylvester_b, _sylvester_q, name="scipy.linalg.solve_sylvester",
       keywords=(), a=_sylvester_a, b=_sylvester_b, q=_sylvester_q)


def _band_indices(l_and_u, ab):
    """Rows and columns of the matrix entries ``ab`` stores (``ab[u + i - j, j] = A[i, j]``), and
    which of them lie inside the matrix."""
    lower, upper = l_and_u
    k, n = np.shape(ab)
    j = np.broadcast_to(np.arange(n), (k, n))
    i = np.arange(k)[:, None] - upper + j
    inside = (i >= 0) & (i < n)
    return np.clip(i, 0, n - 1), j, inside


def _banded_dense(l_and_u, ab):
    """The square matrix ``ab`` stands for, built with differentiable operations."""
    n = np.shape(ab)[1]
    rows, cols = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    k = rows - cols + l_and_u[1]
    band = (k >= 0) & (k < np.shape(ab)[0])
    return np.where(band, ab[np.clip(k, 0, np.shape(ab)[0] - 1), cols], 0)


def _solve_banded_b(g, ans, l_and_u, ab, b, overwrite_ab=False, overwrite_b=False, check_finite=True):
    return _as_dtype(np.linalg.solve(_tt(_banded_dense(l_and_u, ab)), g), b)


def _solve_banded_ab(g, ans, l_and_u, ab, b, overwrite_ab=False, overwrite_b=False, check_finite=True):
    gb = _column(np.linalg.solve(_tt(_banded_dense(l_and_u, ab)), g), b)
    ga = -(gb @ _tt(_column(ans, b)))
    i, j, inside = _band_indices(l_and_u, ab)
    return _as_dtype(np.where(inside, ga[i, j], 0), ab)


defvjp(linalg.solve_banded, ZERO_DERIVATIVE, _solve_banded_ab, _solve_banded_b, name="scipy.linalg.solve_banded",
       keywords=("check_finite",), l_and_u=ZERO_DERIVATIVE, ab=_solve_banded_ab, b=_solve_banded_b)


# Forward mode: the tangent of S = sqrtm(A) solves S dS + dS S = dA (solve_sylvester has no
# rule, so the VJP cannot be transposed on the tape; the JVP is written out instead).
defjvp(linalg.sqrtm, lambda t, ans, A, disp=None, blocksize=None:
       _as_dtype(np.real(scipy.linalg.solve_sylvester(ans, ans, t)), A))


# scipy.linalg's inv, det and solve compute what np.linalg's do: the same VJPs (their options,
# such as overwrite_a= or assume_a=, are refused: keywords=() models none)
from .rules import rule_for  # noqa: E402

for _sp, _np_fun, _name in [(linalg.inv, np.linalg.inv, "inv"), (linalg.det, np.linalg.det, "det"),
                            (linalg.solve, np.linalg.solve, "solve")]:
    _rule = rule_for(_np_fun)
    if _rule is not None:
        defvjp(_sp, *_rule.vjps, name=f"scipy.linalg.{_name}", keywords=())

from . import rules_scipy_decompositions  # noqa: E402,F401  (registers its rules)
