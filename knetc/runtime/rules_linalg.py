"""Derivative rules of ``np.linalg``: det, slogdet, inv, pinv, solve, lstsq, cholesky, qr here;
eigh, eigvalsh, eig, eigvals, svd, svdvals in ``rules_linalg_spectral``; norm, matrix_norm,
vector_norm, cond, tensorinv, tensorsolve in ``rules_linalg_norms`` (both imported at the end
of this module, and sharing its helpers). The conventions below hold for all three.

Every rule works on stacks of matrices (``(..., m, n)``) where NumPy does, and
is written with NumPy functions (``np.linalg.solve``, ``np.matmul``,
``np.swapaxes``...) so the tape differentiates it again for second
derivatives and CuPy arrays dispatch to CuPy.

Conventions, where the derivative needs a choice:

- **Symmetric inputs** (``cholesky``, ``eigh``, ``eigvalsh``): NumPy reads
  one triangle of the matrix (the lower one, or the upper for ``upper=True``
  / ``UPLO="U"``) and ignores the other. The rule gives the derivative of
  that function: the symmetric adjoint ``S`` of the textbook formula, folded
  onto the triangle read (``2 S`` off the diagonal, ``S`` on it, 0 in the
  other triangle), so it agrees with finite differences entry by entry. For
  a matrix built symmetric (``A = B @ B.T + c I``), every chain-rule
  gradient equals the one the symmetrised formula gives; the adjoint of such
  an ``A`` itself is triangular, and ``(G + G.T) / 2`` is its symmetric form.
- **Distinct values**: eigenvector and singular-vector adjoints divide by
  differences of eigenvalues (squared singular values); at a repeated value
  they are not defined (the result is inf/NaN, never a silent number).
- **Full rank**: ``pinv`` and ``lstsq`` assume the rank does not change
  locally (full rank; ``lstsq`` needs ``m >= n``); ``det``/``inv``/``solve``
  need a nonsingular matrix.
- **Norms at zero**: a norm is not differentiable where it is 0; the
  adjoint there is 0 (the subgradient of smallest size), as ``np.abs``'s
  is at 0. Ties of ``max``/``min`` (``ord=inf``, ``ord=1``...) share the
  adjoint equally.
- **Signs**: the sign output of ``slogdet`` has zero derivative for real
  matrices; for complex ones it is ``det / |det|``, differentiated as such.
- **Complex** inputs: ``det``, ``slogdet``'s log, ``inv``, ``solve`` and
  ``eigvals`` are holomorphic and follow :mod:`knetc.runtime.rules_complex`;
  the eigenvalues of a complex Hermitian matrix (``eigvalsh``, ``eigh``'s
  first result) and the singular values of a complex matrix (``svdvals``,
  ``svd``'s ``S``, the norms and ``cond`` made of them) are modelled too;
  complex eigenvectors and singular vectors (a free phase each), ``cholesky``,
  ``qr``, ``pinv``, ``lstsq`` and the tensor forms refuse complex inputs.
"""
import numpy as np

from .backend import value_module
from .rules import defvjp, unbroadcast
from .rules_complex import is_complex, real_if_real, refuse_complex
from .linalg_helpers import (_fold_symmetric, _mat, _masks, _off_diagonal_inverse,  # noqa: F401
                             _part, _plain, _solve_right, _t, _used)


# --- det, slogdet, inv, solve -------------------------------------------------------
def _det_vjp(g, ans, a):
    return real_if_real(_mat(g * ans) * _t(np.linalg.inv(a)), a)


def _slogdet_vjp(g, ans, a):
    sign, logdet = ans
    coefficient = _part(g, 1, logdet)
    if is_complex(a) and _used(g[0] if g is not None else None):
        # sign = det / |det| (complex): by np.sign's and det's rules, its adjoint through det is
        # i Im(g_sign * sign) per matrix; for real matrices the sign is piecewise constant
        coefficient = coefficient + 1j * np.imag(g[0] * sign)
    return real_if_real(_mat(coefficient) * _t(np.linalg.inv(a)), a)


defvjp(np.linalg.det, _det_vjp, keywords=())
defvjp(np.linalg.slogdet, _slogdet_vjp, keywords=())
defvjp(np.linalg.inv, lambda g, ans, a: real_if_real(-np.matmul(_t(ans), np.matmul(g, _t(ans))), a),
       keywords=())


def _solve_is_vector(b):
    return np.ndim(b) == 1       # NumPy 2: b is a vector only when it is 1-d


def _solve_vjp_a(g, ans, a, b):
    if _solve_is_vector(b):
        gb = np.linalg.solve(_t(a), np.expand_dims(g, -1))                 # (..., m, 1)
        ga = -np.matmul(gb, np.expand_dims(ans, -2))
    else:
        ga = -np.matmul(np.linalg.solve(_t(a), g), _t(ans))
    return real_if_real(unbroadcast(ga, a), a)


def _solve_vjp_b(g, ans, a, b):
    if _solve_is_vector(b):
        gb = np.linalg.solve(_t(a), np.expand_dims(g, -1))[..., 0]
    else:
        gb = np.linalg.solve(_t(a), g)
    return real_if_real(unbroadcast(gb, b), b)


defvjp(np.linalg.solve, _solve_vjp_a, _solve_vjp_b, keywords=())


# --- pinv, lstsq -----------------------------------------------------------------
def _pinv_adjoint(g, a, x):
    """The adjoint of ``x = pinv(a)`` at full (locally constant) rank."""
    m, n = np.shape(a)[-2], np.shape(a)[-1]
    xp = value_module(a)
    eye_m, eye_n = xp.eye(m, dtype=x.dtype), xp.eye(n, dtype=x.dtype)
    xt, gt = _t(x), _t(g)
    out = -np.matmul(xt, np.matmul(g, xt))
    out = out + np.matmul(eye_m - np.matmul(a, x), np.matmul(gt, np.matmul(x, xt)))
    out = out + np.matmul(np.matmul(xt, x), np.matmul(gt, eye_n - np.matmul(x, a)))
    return out


def _pinv_vjp(g, ans, a, rcond=None, hermitian=False, *, rtol=None):
    refuse_complex("np.linalg.pinv", a)
    # rcond/rtol only decide which singular values count: the formula needs all of them kept
    s = np.linalg.svd(_plain(a), compute_uv=False)
    m, n = np.shape(a)[-2], np.shape(a)[-1]
    tol = rcond if rcond is not None else rtol if rtol is not None else max(m, n) * np.finfo(s.dtype).eps
    if np.any(s <= tol * np.max(s, axis=-1, keepdims=True)):
        raise NotImplementedError("knetc: the derivative of np.linalg.pinv is modelled at full rank "
                                  "only (this matrix has singular values below the cutoff)")
    out = _pinv_adjoint(g, a, ans)
    return _fold_symmetric(out, False) if hermitian else out    # hermitian: reads the lower triangle


defvjp(np.linalg.pinv, _pinv_vjp, keywords=("rcond", "hermitian", "rtol"))


def _lstsq_parts(g, ans, a, b):
    refuse_complex("np.linalg.lstsq", a, b)
    x, residuals, rank, s = ans
    m, n = np.shape(a)
    if m < n or rank < n:
        raise NotImplementedError("knetc: the derivative of np.linalg.lstsq is modelled for full "
                                  "column rank (m >= n, rank n) only")
    vector = np.ndim(b) == 1
    gx = _part(g, 0, x)
    if vector:
        gx, x2, b2 = np.expand_dims(gx, -1), np.expand_dims(x, -1), np.expand_dims(b, -1)
    else:
        x2, b2 = x, b
    c = np.linalg.inv(np.matmul(_t(a), a))               # (A^T A)^-1
    cg = np.matmul(c, gx)
    r = b2 - np.matmul(a, x2)                            # the residual
    ga = np.matmul(r, _t(cg)) - np.matmul(np.matmul(a, cg), _t(x2))
    gb = np.matmul(a, cg)
    if np.size(residuals) and g is not None and g[1] is not None:   # sum of squared residuals
        gr = 2.0 * r * g[1]
        ga = ga - np.matmul(gr, _t(x2))
        gb = gb + gr
    if g is not None and _used(g[3]):                      # the singular values of a
        u, sv, vh = np.linalg.svd(a, full_matrices=False)
        ga = ga + _svd_adjoint(None, g[3], None, a, u, sv, vh)
    return ga, (gb[..., 0] if vector else gb)


defvjp(np.linalg.lstsq, lambda g, ans, a, b, rcond=None: _lstsq_parts(g, ans, a, b)[0],
                        lambda g, ans, a, b, rcond=None: _lstsq_parts(g, ans, a, b)[1],
       keywords=("rcond",))


# --- cholesky, qr ---------------------------------------------------------------------
def _cholesky_vjp(g, ans, a, *, upper=False):
    refuse_complex("np.linalg.cholesky", a)
    l_, gl = (_t(ans), _t(g)) if upper else (ans, g)
    strict, eye = _masks(np.shape(a)[-1], a)
    phi = np.matmul(_t(l_), gl) * (strict + 0.5 * eye)   # lower triangle, half diagonal
    # S = L^-T phi L^-1, then made symmetric
    s = np.linalg.solve(_t(l_), _t(np.linalg.solve(_t(l_), _t(phi))))
    return _fold_symmetric(s, upper)


defvjp(np.linalg.cholesky, _cholesky_vjp, keywords=("upper",))


def _copyltu(m):
    strict, eye = _masks(np.shape(m)[-1], m)
    low = m * strict
    return low + _t(low) + m * eye


def _qr_square_adjoint(gq, gr, q, r):
    """The adjoint of A (m >= n) from those of Q and R in A = Q R."""
    mm = np.matmul(r, _t(gr)) - np.matmul(_t(gq), q)
    return _solve_right(gq + np.matmul(q, _copyltu(mm)), _t(r))


def _qr_vjp(g, ans, a, mode="reduced"):
    refuse_complex("np.linalg.qr", a)
    m, n = np.shape(a)[-2], np.shape(a)[-1]
    if mode == "r":
        q, r = np.linalg.qr(a)
        gq, gr = np.zeros_like(q), g
    elif mode == "reduced" or (mode == "complete" and m <= n):
        q, r = ans
        gq, gr = _part(g, 0, q), _part(g, 1, r)
    else:
        raise NotImplementedError(f"knetc: the derivative of np.linalg.qr(mode={mode!r}) is not modelled")
    if m >= n:
        return _qr_square_adjoint(gq, gr, q, r)
    # wide (m < n): A = [X Y] with X = Q U square and Y = Q V, R = [U V]; V = Q^T Y feeds
    # Q's adjoint, and Q depends on X alone
    y, gu, gv = a[..., m:], gr[..., :m], gr[..., m:]
    gx = _qr_square_adjoint(gq + np.matmul(y, _t(gv)), gu, q, r[..., :m])
    return np.concatenate([gx, np.matmul(q, gv)], axis=-1)


defvjp(np.linalg.qr, _qr_vjp, keywords=("mode",))


from . import rules_linalg_norms  # noqa: E402,F401  (registers its rules)
from .rules_linalg_spectral import _svd_adjoint  # noqa: E402  (lstsq's adjoint; registers the rules)
