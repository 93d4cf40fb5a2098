"""Derivative rules of ``np.linalg``'s spectral functions: eigh, eigvalsh, eig, eigvals, svd,
svdvals (conventions: see :mod:`knetc.runtime.rules_linalg`).
"""
import numpy as np

from .backend import value_module
from .rules import defvjp
from .rules_complex import is_complex, real_if_real, refuse_complex
from .linalg_helpers import _fold_symmetric, _masks, _off_diagonal_inverse, _part, _t, _used


def _eigh_vjp(g, ans, a, UPLO="L"):
    w, v = ans
    gw, gv = _part(g, 0, w), (g[1] if g is not None and _used(g[1]) else None)
    if gv is not None:
        # complex eigenvectors have an arbitrary phase each: not modelled
        refuse_complex("np.linalg.eigh's eigenvectors", a)
    inner = np.expand_dims(np.real(gw), -1) * _masks(np.shape(w)[-1], w)[1]      # diag(gw)
    if gv is not None:
        inner = inner + _off_diagonal_inverse(w) * np.matmul(_t(v), gv)
    s = np.matmul(v, np.matmul(inner, np.conj(_t(v))))
    return _fold_symmetric(s, UPLO.upper() == "U")


def _eigvalsh_vjp(g, ans, a, UPLO="L"):
    v = np.linalg.eigh(a, UPLO=UPLO)[1]
    s = np.matmul(v * np.expand_dims(np.real(g), -2), np.conj(_t(v)))      # V diag(g) V^H
    return _fold_symmetric(s, UPLO.upper() == "U")


defvjp(np.linalg.eigh, _eigh_vjp, keywords=("UPLO",))
defvjp(np.linalg.eigvalsh, _eigvalsh_vjp, keywords=("UPLO",))


def _eig_adjoint(gw, gv, a, w, v):
    """The adjoint of ``w, v = eig(a)`` (distinct eigenvalues; vectors of unit norm).

    With ``W = inv(V)``: ``dw = diag(W dA V)`` and ``dV = V E - V diag(diag(V^T V E))``,
    ``E = F o (W dA V)``; eigenvector adjoints are modelled for real eigenvalues only.
    """
    winv = np.linalg.inv(v)
    inner = np.expand_dims(gw, -1) * _masks(np.shape(w)[-1], w)[1]
    if gv is not None:
        if is_complex(w):
            raise NotImplementedError("knetc: the derivative of np.linalg.eig's eigenvectors is "
                                      "modelled for real eigenvalues only (this matrix has complex ones)")
        vtg = np.matmul(_t(v), gv)
        _, eye = _masks(np.shape(w)[-1], w)
        ebar = vtg - np.matmul(np.matmul(_t(v), v), vtg * eye)
        inner = inner + _off_diagonal_inverse(w) * ebar
    return real_if_real(np.matmul(_t(winv), np.matmul(inner, _t(v))), a)


def _eig_vjp(g, ans, a):
    w, v = ans
    gv = g[1] if g is not None and _used(g[1]) else None
    return _eig_adjoint(_part(g, 0, w), gv, a, w, v)


def _eigvals_vjp(g, ans, a):
    w, v = np.linalg.eig(a)
    return _eig_adjoint(g, None, a, w, v)


defvjp(np.linalg.eig, _eig_vjp, keywords=())
defvjp(np.linalg.eigvals, _eigvals_vjp, keywords=())


def _svd_adjoint(gu, gs, gvh, a, u, s, vh):
    """The adjoint of the reduced ``u, s, vh = svd(a)`` (distinct nonzero singular values)."""
    v, gv = _t(vh), (None if gvh is None else _t(gvh))
    m, n = np.shape(a)[-2], np.shape(a)[-1]
    _, eye = _masks(np.shape(s)[-1], s)
    inner = np.expand_dims(gs, -1) * eye
    if gu is None and gv is None:    # d s_i = Re(u_i^H dA v_i): also for complex matrices
        return np.conj(np.matmul(u, np.matmul(inner, vh)))
    f = _off_diagonal_inverse(s * s)        # 1 / (s_j^2 - s_i^2)
    smat = np.expand_dims(s, -1) * eye
    out = 0.0
    if gu is not None:
        utgu = np.matmul(_t(u), gu)
        inner = inner + np.matmul(f * (utgu - _t(utgu)), smat)
        if m > np.shape(s)[-1]:
            xp = value_module(a)
            proj = xp.eye(m, dtype=u.dtype) - np.matmul(u, _t(u))
            out = out + np.matmul(np.matmul(proj, gu) / np.expand_dims(s, -2), vh)
    if gv is not None:
        vtgv = np.matmul(_t(v), gv)
        inner = inner + np.matmul(smat, f * (vtgv - _t(vtgv)))
        if n > np.shape(s)[-1]:
            xp = value_module(a)
            proj = xp.eye(n, dtype=v.dtype) - np.matmul(v, vh)
            out = out + np.matmul(u / np.expand_dims(s, -2), np.matmul(_t(gv), proj))
    return np.matmul(u, np.matmul(inner, vh)) + out


def _svd_vjp(g, ans, a, full_matrices=True, compute_uv=True, hermitian=False):
    if hermitian:
        refuse_complex("np.linalg.svd(hermitian=True)", a)
    if not compute_uv:
        u, s, vh = np.linalg.svd(a, full_matrices=False)
        out = _svd_adjoint(None, g, None, a, u, s, vh)
        return _fold_symmetric(out, False) if hermitian else out
    u, s, vh = ans
    gu = g[0] if g is not None and _used(g[0]) else None
    gvh = g[2] if g is not None and _used(g[2]) else None
    k = np.shape(s)[-1]
    if full_matrices and np.shape(a)[-2] != np.shape(a)[-1]:
        # the columns of u (rows of vh) beyond min(m, n) are not determined by a: only
        # a loss that does not use them has a derivative
        if (gu is not None and _used(gu[..., :, k:])) or (gvh is not None and _used(gvh[..., k:, :])):
            raise NotImplementedError("knetc: the derivative of np.linalg.svd(full_matrices=True) "
                                      "through the singular vectors beyond min(m, n) (which are not "
                                      "unique) is not modelled; use full_matrices=False")
        u, vh = u[..., :, :k], vh[..., :k, :]
        gu = None if gu is None else gu[..., :, :k]
        gvh = None if gvh is None else gvh[..., :k, :]
    if gu is not None or gvh is not None:
        refuse_complex("np.linalg.svd's singular vectors", a)   # a phase each: not modelled
    out = _svd_adjoint(gu, _part(g, 1, s), gvh, a, u, s, vh)
    return _fold_symmetric(out, False) if hermitian else out    # hermitian: reads the lower triangle


def _svdvals_vjp(g, ans, x):
    u, s, vh = np.linalg.svd(x, full_matrices=False)
    return _svd_adjoint(None, g, None, x, u, s, vh)


defvjp(np.linalg.svd, _svd_vjp, keywords=("full_matrices", "compute_uv", "hermitian"))
defvjp(np.linalg.svdvals, _svdvals_vjp, keywords=())
