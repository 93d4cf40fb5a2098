"""Derivative rules of ``scipy.linalg``'s factorisations: ``lu``, ``lu_factor``, ``lu_solve``,
``eigh`` and ``eigvalsh`` (registered with the other ``scipy.linalg`` rules).

LU (square matrices, ``A = P L U`` with a unit lower triangular ``L``): with
``X = L^-1 P^T dA U^-1``, ``dL = L tril(X, -1)`` and ``dU = triu(X) U``, so the adjoint of
``A`` is ``P L^-T (tril(L^T gL, -1) + triu(gU U^T)) U^-T``. ``lu_factor``'s packed result
``lu`` holds ``L`` below the diagonal and ``U`` on and above it; its pivots ``piv`` are
integers (no derivative). ``lu_solve`` differentiates in ``b`` and in the packed factors.
The derivative exists where the pivoting does not change (no tie between pivot candidates).

``eigh`` is ``np.linalg.eigh``'s rule (distinct eigenvalues; SciPy reads the lower triangle by
default, ``lower=False`` the upper one); the generalised problem (``b=``) and the subset
options are not modelled.
"""
import numpy as np
from scipy import linalg

from ..errors import KnetError
from .rules import defjvp, defvjp, rule_for
from .scipy_linalg_helpers import _as_dtype, _plain, _tt


def _square(name, a):
    m, n = np.shape(a)[-2:]
    if m != n:
        raise KnetError(f"knetc: the derivative of scipy.linalg.{name} is modelled for square "
                        f"matrices only (this one is {m} x {n})")


def _unit_lower(lu):
    n = np.shape(lu)[-1]
    return np.where(np.tri(n, k=-1, dtype=bool), lu, 0) + np.eye(n, dtype=np.result_type(lu))


def _upper(lu):
    return np.where(np.tri(np.shape(lu)[-1], k=-1, dtype=bool), 0, lu)


def _factor_adjoint(gl, gu, l_, u):
    """``L^-T (tril(L^T gL, -1) + triu(gU U^T)) U^-T``: the adjoint of ``P^T A`` (``P^T A = L U``)."""
    n = np.shape(l_)[-1]
    f = np.where(np.tri(n, k=-1, dtype=bool), _tt(l_) @ gl, 0) + \
        np.where(np.tri(n, k=-1, dtype=bool), 0, gu @ _tt(u))
    left = linalg.solve_triangular(l_, f, trans=1, lower=True, unit_diagonal=True)      # L^-T F
    return _tt(linalg.solve_triangular(u, _tt(left), lower=False))                        # ... U^-T


def _permutation(piv):
    """LAPACK's row interchanges as a permutation: ``A[perm] = L U``."""
    piv = np.asarray(_plain(piv))
    perm = np.arange(len(piv))
    for i, j in enumerate(piv.tolist()):
        perm[i], perm[j] = perm[j], perm[i]
    return perm


# --- lu -------------------------------------------------------------------------------------------
def _lu_a(g, ans, a, permute_l=False, overwrite_a=False, check_finite=True, p_indices=False):
    _square("lu", a)
    if permute_l:                   # (P L, U): P and L from the factorisation again
        p, l_, u = linalg.lu(a)
        gpl, gu = g
        gl = None if gpl is None else _tt(p) @ gpl
    else:
        p, l_, u = ans
        _, gl, gu = g
        if p_indices:               # p holds the rows of the identity that make P
            p = np.eye(np.shape(a)[-1], dtype=np.result_type(_plain(l_)))[_plain(p)]
    gl = np.zeros_like(l_) if gl is None else gl
    gu = np.zeros_like(u) if gu is None else gu
    return _as_dtype(p @ _factor_adjoint(gl, gu, l_, u), a)


defvjp(linalg.lu, _lu_a, name="scipy.linalg.lu", keywords=("permute_l", "check_finite", "p_indices"),
       a=_lu_a)


# --- lu_factor, lu_solve --------------------------------------------------------------------------
def _lu_factor_a(g, ans, a, overwrite_a=False, check_finite=True):
    _square("lu_factor", a)
    lu, piv = ans
    glu = g[0] if isinstance(g, (tuple, list)) else g
    l_, u = _unit_lower(lu), _upper(lu)
    gl = np.where(np.tri(np.shape(lu)[-1], k=-1, dtype=bool), glu, 0)
    inner = _factor_adjoint(gl, _upper(glu), l_, u)
    inverse = np.argsort(_permutation(piv))
    return _as_dtype(inner[inverse], a)


defvjp(linalg.lu_factor, _lu_factor_a, name="scipy.linalg.lu_factor", keywords=("check_finite",),
       a=_lu_factor_a)

_TRANS = {0: 0, "N": 0, 1: 1, "T": 1, 2: 1, "C": 1}


def _column(v, like):
    return np.reshape(v, (np.shape(v)[0], 1)) if np.ndim(like) == 1 else v


def _lu_solve_b(g, ans, lu_and_piv, b, trans=0, overwrite_b=False, check_finite=True):
    return _as_dtype(linalg.lu_solve(lu_and_piv, g, trans=1 - _TRANS[trans]), b)


def _lu_solve_factors(g, ans, lu_and_piv, b, trans=0, overwrite_b=False, check_finite=True):
    lu, piv = lu_and_piv
    gb = _column(linalg.lu_solve(lu_and_piv, g, trans=1 - _TRANS[trans]), b)
    x = _column(ans, b)
    ga = -(gb @ _tt(x)) if _TRANS[trans] == 0 else -(x @ _tt(gb))     # the adjoint of A = P L U
    ga = ga[_permutation(piv)]                                        # of P^T A = L U
    l_, u = _unit_lower(lu), _upper(lu)
    glu = np.where(np.tri(np.shape(lu)[-1], k=-1, dtype=bool), ga @ _tt(u), 0) + _upper(_tt(l_) @ ga)
    return [_as_dtype(glu, lu), None]


defvjp(linalg.lu_solve, _lu_solve_factors, _lu_solve_b, name="scipy.linalg.lu_solve",
       keywords=("trans", "check_finite"), lu_and_piv=_lu_solve_factors, b=_lu_solve_b)


# --- eigh, eigvalsh -------------------------------------------------------------------------------
def _uplo(lower):
    return "L" if lower else "U"


def _eigh_a(g, ans, a, b=None, *, lower=True, eigvals_only=False, overwrite_a=False, overwrite_b=False,
            type=1, check_finite=True, subset_by_index=None, subset_by_value=None, driver=None):
    if b is not None:
        raise KnetError("knetc: the derivative of scipy.linalg.eigh's generalised problem (b=) is "
                        "not modelled")
    if eigvals_only:
        return rule_for(np.linalg.eigvalsh).vjp(0)(g, ans, a, _uplo(lower))
    return rule_for(np.linalg.eigh).vjp(0)(g, ans, a, _uplo(lower))


def _eigvalsh_a(g, ans, a, b=None, *, lower=True, overwrite_a=False, overwrite_b=False, type=1,
                check_finite=True, subset_by_index=None, subset_by_value=None, driver=None):
    return _eigh_a(g, ans, a, b, lower=lower, eigvals_only=True)


# Open bug: the compiled Hessian-vector product (reverse over the tangent program) of scipy.linalg's
# eigh gives zeros; knet.hvp refuses it there and uses the tape, which is right (tests/test_opinfo.py).
_eigh_a.compiled_second_order = _eigvalsh_a.compiled_second_order = (
    "the compiled second derivative of scipy.linalg.eigh is not trusted yet (open bug)")

_EIGH = ("lower", "eigvals_only", "check_finite", "driver")
defvjp(linalg.eigh, _eigh_a, name="scipy.linalg.eigh", keywords=_EIGH, a=_eigh_a)
defvjp(linalg.eigvalsh, _eigvalsh_a, name="scipy.linalg.eigvalsh", keywords=("lower", "check_finite", "driver"),
       a=_eigvalsh_a)


# --- forward mode: the tangents of the factors (the pivots' tangent is zero) ------------------------
def _factor_tangents(t, p, l_, u):
    """``dL = L tril(X, -1)``, ``dU = triu(X) U`` with ``X = L^-1 P^T dA U^-1``."""
    n = np.shape(l_)[-1]
    y = linalg.solve_triangular(l_, _tt(p) @ t, lower=True, unit_diagonal=True)          # L^-1 P^T dA
    x = _tt(linalg.solve_triangular(u, _tt(y), trans=1, lower=False))                     # ... U^-1
    strict = np.tri(n, k=-1, dtype=bool)
    return l_ @ np.where(strict, x, 0), np.where(strict, 0, x) @ u


def _lu_jvp(t, ans, a, permute_l=False, overwrite_a=False, check_finite=True, p_indices=False):
    if permute_l:
        p, l_, u = linalg.lu(a)
        dl, du = _factor_tangents(t, p, l_, u)
        return p @ dl, du
    p, l_, u = ans
    pmat = np.eye(np.shape(a)[-1], dtype=np.result_type(_plain(l_)))[_plain(p)] if p_indices else p
    dl, du = _factor_tangents(t, pmat, l_, u)
    return (np.zeros(np.shape(p)) if p_indices else np.zeros_like(p)), dl, du


def _lu_factor_jvp(t, ans, a, overwrite_a=False, check_finite=True):
    lu, piv = ans
    n = np.shape(lu)[-1]
    perm = _permutation(piv)
    p = np.eye(n, dtype=np.result_type(_plain(lu)))[:, perm]       # A[perm] = P^T A
    dl, du = _factor_tangents(t, p, _unit_lower(lu), _upper(lu))
    return dl + du, np.zeros(np.shape(piv))


defjvp(linalg.lu, _lu_jvp)
defjvp(linalg.lu_factor, _lu_factor_jvp)
