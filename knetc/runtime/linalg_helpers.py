"""Helpers shared by the ``np.linalg`` rule modules (transposes, masks, symmetric folds)."""
import numpy as np

from .backend import value_module

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
