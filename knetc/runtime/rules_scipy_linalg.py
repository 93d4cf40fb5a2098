"""Derivative rules of ``scipy.linalg`` (registered once the program imports it).

Matrices are 2-d (a right-hand side ``b`` may be a vector). Where LAPACK
reads one triangle of its input (``cholesky``, ``solve_triangular``,
``cho_solve``'s factor), the derivative is that of the function SciPy
computes: zero in the triangle it ignores. For a symmetric matrix built from
parameters (``K = X @ X.T``) this gives the same gradient as the symmetric
one. VJPs are written with ``scipy.linalg`` and NumPy functions that have
rules (``sqrtm``'s uses ``solve_sylvester``, which has none: first order only).
"""
import numpy as np
import scipy.linalg
from scipy import linalg

from .rules import defjvp, defvjp

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


def _as_dtype(c, x):
    dtype = getattr(x, "dtype", None)
    if dtype is not None and dtype.kind == "f" and getattr(c, "dtype", dtype) != dtype:
        c = c.astype(dtype)
    return c


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
    L = ans if lower else np.swapaxes(ans, -1, -2)
    gL = g if lower else np.swapaxes(g, -1, -2)
    n = np.shape(L)[-1]
    # P = Phi(L^T gL): the lower triangle, diagonal halved; then S = L^-T P L^-1, symmetrised
    P = L.T @ gL
    P = np.where(np.tri(n, dtype=bool), P, 0) - 0.5 * np.where(np.eye(n, dtype=bool), P, 0)
    X = linalg.solve_triangular(L, P, trans=1, lower=True)
    S = linalg.solve_triangular(L, X.T, trans=1, lower=True).T
    sym = 0.5 * (S + S.T)
    # SciPy reads one triangle of a: the symmetric adjoint folded into it
    folded = sym + sym.T - np.where(np.eye(n, dtype=bool), sym, 0)
    return _as_dtype(np.where(_mask(a, lower), folded, 0), a)


defvjp(linalg.cholesky, _cholesky_a, name="scipy.linalg.cholesky",
       keywords=("lower", "overwrite_a", "check_finite"), a=_cholesky_a)


# --- matrix functions ----------------------------------------------------------------------------------
def _expm_a(g, ans, A):
    # the adjoint of the Frechet derivative at A is the Frechet derivative at A^T,
    # read off the upper right block of expm([[A^T, g], [0, A^T]])
    n = np.shape(A)[-1]
    At = A.T
    top = np.concatenate([At, g], axis=1)
    bottom = np.concatenate([np.zeros_like(At), At], axis=1)
    block = linalg.expm(np.concatenate([top, bottom], axis=0))
    return _as_dtype(block[:n, n:], A)


defvjp(linalg.expm, _expm_a, name="scipy.linalg.expm", keywords=(), A=_expm_a)


def _sqrtm_a(g, ans, A, disp=None, blocksize=None):
    # S S = A: S dS + dS S = dA, so the adjoint solves S^T X + X S^T = g
    St = np.swapaxes(ans, -1, -2)
    return _as_dtype(np.real(scipy.linalg.solve_sylvester(St, St, g)), A)


# disp=False would return (sqrtm, error estimate): not modelled
defvjp(linalg.sqrtm, _sqrtm_a, name="scipy.linalg.sqrtm", keywords=(), A=_sqrtm_a)

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
