"""Derivative rules of ``np.linalg``: det, slogdet, inv, pinv, solve, lstsq, cholesky, qr,
eigh, eigvalsh, eig, eigvals, svd, svdvals, norm, matrix_norm, vector_norm, cond, tensorinv,
tensorsolve.

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
- **Signs**: the sign output of ``slogdet`` has zero derivative (for real
  matrices; complex ones are refused when the sign is used).
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
from .rules import defnondiff, defvjp, unbroadcast
from .rules_complex import is_complex, real_if_real, refuse_complex


# --- helpers -----------------------------------------------------------------------
def _t(x):
    """Transpose the last two axes."""
    return np.swapaxes(x, -1, -2)


def _mat(g):
    """A scalar-per-matrix adjoint with two trailing axes of size 1."""
    return np.expand_dims(g, (-2, -1))


def _part(g, i, like):
    """Element ``i`` of a tuple result's adjoint (zeros where the caller gave None)."""
    gi = g[i] if g is not None else None
    return np.zeros_like(like) if gi is None else gi


def _plain(x):
    """The value inside a traced value (for tests on values, not differentiated)."""
    while hasattr(x, "_value"):
        x = x._value
    return x


def _used(gi):
    """False where an adjoint is None or all zeros (a result the loss does not use).

    A traced adjoint (higher order) always counts as used: even where its value is
    zero, its derivative need not be.
    """
    if gi is None:
        return False
    if hasattr(gi, "_value"):
        return True
    return bool(np.any(gi != 0))


def _masks(n, like):
    """Constant (strictly lower, diagonal) masks of n x n in ``like``'s module and float type."""
    xp = value_module(like)
    dtype = np.result_type(getattr(like, "dtype", np.float64), np.float32)
    eye = xp.eye(n, dtype=dtype)
    return xp.tri(n, k=-1, dtype=dtype), eye


def _fold_symmetric(s, upper):
    """The adjoint of a symmetric matrix read from one triangle: ``S + S.T`` off the
    diagonal of that triangle, the diagonal of ``S`` on it, 0 elsewhere.

    For a complex Hermitian matrix (read as ``a[i, j]`` in the triangle and
    ``conj(a[i, j])`` across it, the diagonal's real part only), ``S`` is made
    Hermitian and the triangle gets ``2 S.T`` and the diagonal ``Re S``.
    """
    s = (s + np.conj(_t(s))) * 0.5
    strict, eye = _masks(np.shape(s)[-1], s)
    if upper:
        strict = _t(strict)
    return 2.0 * _t(s) * strict + np.real(s) * eye


def _off_diagonal_inverse(d):
    """``F[..., i, j] = 1 / (d_j - d_i)`` off the diagonal, 0 on it."""
    diff = np.expand_dims(d, -2) - np.expand_dims(d, -1)
    _, eye = _masks(np.shape(d)[-1], d)
    return (1.0 - eye) / (diff + eye)


def _solve_right(b, r):
    """``b @ inv(r)`` (solve from the right)."""
    return _t(np.linalg.solve(_t(r), _t(b)))


# --- det, slogdet, inv, solve -------------------------------------------------------
def _det_vjp(g, ans, a):
    return real_if_real(_mat(g * ans) * _t(np.linalg.inv(a)), a)


def _slogdet_vjp(g, ans, a):
    sign, logdet = ans
    if is_complex(a) and _used(g[0] if g is not None else None):
        raise NotImplementedError("knetc: the sign of slogdet of a complex matrix depends on it; "
                                  "its derivative is not modelled (the log-determinant's is)")
    return real_if_real(_mat(_part(g, 1, logdet)) * _t(np.linalg.inv(a)), a)


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


def _qr_vjp(g, ans, a, mode="reduced"):
    refuse_complex("np.linalg.qr", a)
    m, n = np.shape(a)[-2], np.shape(a)[-1]
    if mode == "r":
        q = None
        r, gr, gq = ans, g, None
    elif mode == "reduced" or (mode == "complete" and m <= n):
        q, r = ans
        gq, gr = _part(g, 0, q), _part(g, 1, r)
    else:
        raise NotImplementedError(f"knetc: the derivative of np.linalg.qr(mode={mode!r}) is not modelled")
    if m < n:
        raise NotImplementedError("knetc: the derivative of np.linalg.qr is modelled for square and "
                                  "tall matrices (m >= n) only")
    if q is None:
        q = np.linalg.qr(a)[0]
        gq = np.zeros_like(q)
    mm = np.matmul(r, _t(gr)) - np.matmul(_t(gq), q)
    return _solve_right(gq + np.matmul(q, _copyltu(mm)), _t(r))


defvjp(np.linalg.qr, _qr_vjp, keywords=("mode",))


# --- eigh, eig, svd -------------------------------------------------------------------
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


# --- norms ---------------------------------------------------------------------------
def _unit(x):
    """``d|x|/dx`` in the adjoint convention: sign(x), or conj(x)/|x| for complex (0 at 0)."""
    if not is_complex(x):
        return np.sign(x)
    mag = np.abs(x)
    return np.conj(x) / np.where(mag == 0, 1.0, mag)


def _conj_value(x):
    """``unit(x) * |x|`` written without the sign: its own derivative is right at zeros of
    ``x`` (sign(x) * |x| has derivative 0 there, which made second derivatives of the
    2-norm wrong at points with a zero component)."""
    return np.conj(x) if is_complex(x) else x


def _safe(d):
    return np.where(d == 0, 1.0, d)


def _share_extreme(values, ans, axes):
    """1/(number of ties) where ``values`` reach ``ans`` (kept dims) along ``axes``, else 0."""
    hit = np.equal(values, ans)
    return hit / np.sum(hit, axis=axes, keepdims=True)


def _vector_norm_adjoint(g, ans, x, ord, axes):
    """The adjoint of the ``ord``-norm of ``x`` over ``axes``; ``g`` and ``ans`` keep their dims."""
    mag = np.abs(x)
    if ord is None or ord == 2:
        return g * _conj_value(x) / _safe(ans)
    if ord == np.inf or ord == -np.inf:
        return g * _unit(x) * _share_extreme(mag, ans, axes)
    if ord == 0:
        return np.zeros_like(mag) * g
    if ord == 1:
        return g * _unit(x)
    p = float(ord)
    # d (sum |x|^p)^(1/p) = |x|^(p-1) unit(x) / ans^(p-1); 0 where |x| = 0 for p < 1
    safe_mag = _safe(mag)
    scale = np.where(mag == 0, 0.0, safe_mag ** (p - 1)) / _safe(ans) ** (p - 1)
    return np.where(ans == 0, 0.0, g * scale) * _unit(x)


def _matrix_norm_adjoint(g, ans, x, ord):
    """The adjoint of a matrix norm over the last two axes; ``g``/``ans`` keep both dims."""
    if ord in (None, "fro"):
        return g * _conj_value(x) / _safe(ans)
    if ord in (1, -1):            # max/min over columns of the column sums of |x|
        sums = np.sum(np.abs(x), axis=-2, keepdims=True)
        return g * _unit(x) * _share_extreme(sums, ans, (-1,))
    if ord in (np.inf, -np.inf):  # over rows of the row sums
        sums = np.sum(np.abs(x), axis=-1, keepdims=True)
        return g * _unit(x) * _share_extreme(sums, ans, (-2,))
    u, s, vh = np.linalg.svd(x, full_matrices=False)     # d s_i = Re(u_i^H dx v_i)
    if ord == "nuc":
        return g * np.conj(np.matmul(u, vh))
    if ord in (2, -2):            # the largest / smallest singular value
        k = 0 if ord == 2 else -1
        return g * np.conj(np.expand_dims(u[..., :, k], -1) * np.expand_dims(vh[..., k, :], -2))
    raise ValueError(f"knetc: invalid norm order {ord!r} for matrices")


def _keep(g, axes, keepdims):
    """A reduction's adjoint (or result) with its reduced axes back, as size 1."""
    return g if keepdims else np.expand_dims(g, axes)


def _norm_vjp(g, ans, x, ord=None, axis=None, keepdims=False):
    nd = np.ndim(x)
    if axis is None and (ord is None or nd == 1):
        axes = tuple(range(nd))
        matrix = False
    elif axis is None:
        axes, matrix = (0, 1), True
    elif isinstance(axis, tuple) and len(axis) == 2:
        axes, matrix = tuple(a % nd for a in axis), True
    else:
        axes = (axis if isinstance(axis, tuple) else (axis,))
        axes, matrix = tuple(a % nd for a in axes), False
    if ord is None and axis is None:
        matrix = False          # ord=None: the 2-norm of the flattened array
    gk, ak = _keep(g, axes, keepdims), _keep(ans, axes, keepdims)
    if not matrix:
        return real_if_real(_vector_norm_adjoint(gk, ak, x, ord, axes), x)
    moved = np.moveaxis(x, axes, (-2, -1))
    out = _matrix_norm_adjoint(np.moveaxis(gk, axes, (-2, -1)), np.moveaxis(ak, axes, (-2, -1)), moved, ord)
    return real_if_real(np.moveaxis(out, (-2, -1), axes), x)


def _matrix_norm_vjp(g, ans, x, *, keepdims=False, ord="fro"):
    gk, ak = _keep(g, (-2, -1), keepdims), _keep(ans, (-2, -1), keepdims)
    return real_if_real(_matrix_norm_adjoint(gk, ak, x, ord), x)


def _vector_norm_vjp(g, ans, x, *, axis=None, keepdims=False, ord=2):
    nd = np.ndim(x)
    listed = axis if isinstance(axis, tuple) else (axis,)
    axes = tuple(range(nd)) if axis is None else tuple(a % nd for a in listed)
    if axis is None and not keepdims:
        gk, ak = np.reshape(g, (1,) * nd), np.reshape(ans, (1,) * nd)
    else:
        gk, ak = _keep(g, axes, keepdims), _keep(ans, axes, keepdims)
    return real_if_real(_vector_norm_adjoint(gk, ak, x, ord, axes), x)


defvjp(np.linalg.norm, _norm_vjp, keywords=("ord", "axis", "keepdims"))
defvjp(np.linalg.matrix_norm, _matrix_norm_vjp, keywords=("keepdims", "ord"))
defvjp(np.linalg.vector_norm, _vector_norm_vjp, keywords=("axis", "keepdims", "ord"))



# --- cond, tensorinv, tensorsolve -------------------------------------------------------
def _inv_adjoint(g, xi):
    """The adjoint of ``x`` for ``xi = inv(x)`` given the adjoint ``g`` of ``xi``."""
    return -np.matmul(_t(xi), np.matmul(g, _t(xi)))


def _cond_vjp(g, ans, x, p=None):
    if is_complex(ans):              # NumPy < 2.4 returns cond of a complex matrix as complex (+0j):
        g = np.real(g)               # its imaginary part is identically 0, so its adjoint drops
    if p in (None, 2, -2):           # a ratio of the extreme singular values
        u, s, vh = np.linalg.svd(x, full_matrices=False)
        _, eye = _masks(np.shape(s)[-1], s)
        big, small = s[..., :1], s[..., -1:]
        top, bottom = (big, small) if p != -2 else (small, big)
        first, last = (eye[0], eye[-1]) if p != -2 else (eye[-1], eye[0])
        gs = np.expand_dims(g, -1) * (first / bottom - top / (bottom * bottom) * last)
        return _svd_adjoint(None, gs, None, x, u, s, vh)
    xi = np.linalg.inv(x)            # norm(x, p) * norm(inv(x), p)
    n1, n2 = np.linalg.norm(x, p, axis=(-2, -1)), np.linalg.norm(xi, p, axis=(-2, -1))
    direct = _matrix_norm_adjoint(_mat(g * n2), _mat(n1), x, p)
    through_inverse = _matrix_norm_adjoint(_mat(g * n1), _mat(n2), xi, p)
    return direct + _inv_adjoint(through_inverse, xi)


defvjp(np.linalg.cond, _cond_vjp, keywords=("p",))


def _tensorinv_vjp(g, ans, a, ind=2):
    refuse_complex("np.linalg.tensorinv", a)
    rows = int(np.prod(np.shape(a)[:ind]))
    ainv = np.reshape(ans, (-1, rows))
    return np.reshape(_inv_adjoint(np.reshape(g, np.shape(ainv)), ainv), np.shape(a))


defvjp(np.linalg.tensorinv, _tensorinv_vjp, keywords=("ind",))


def _tensorsolve_parts(g, ans, a, b, axes):
    refuse_complex("np.linalg.tensorsolve", a, b)
    order = list(range(np.ndim(a)))
    if axes is not None:             # NumPy moves these axes of a to the end, in this order
        for k in axes:
            order.remove(k % np.ndim(a))
            order.append(k % np.ndim(a))
    moved = np.transpose(a, order)
    mat = np.reshape(moved, (int(np.size(b)), -1))
    gb = np.linalg.solve(_t(mat), np.reshape(g, (-1,)))
    ga = -np.reshape(gb, (-1, 1)) * np.reshape(ans, (1, -1))
    back = [0] * len(order)
    for position, axis in enumerate(order):
        back[axis] = position
    return np.transpose(np.reshape(ga, np.shape(moved)), back), np.reshape(gb, np.shape(b))


defvjp(np.linalg.tensorsolve, lambda g, ans, a, b, axes=None: _tensorsolve_parts(g, ans, a, b, axes)[0],
                              lambda g, ans, a, b, axes=None: _tensorsolve_parts(g, ans, a, b, axes)[1],
       keywords=("axes",))
defnondiff(np.linalg.matrix_rank)      # an integer
