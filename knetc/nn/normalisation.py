"""Batch normalisation, and batched matrix products (bmm)."""

from ..runtime.rules import primitive, unbroadcast
from ._common import _xp, in_nn


# --- normalisation and batched products --------------------------------------------------
def _bn_axes(x):
    """Axes reduced by batchnorm: samples (and pixels); the channel axis is kept."""
    if x.ndim == 2:
        return (1,)  # (features, N)
    return (0,) + tuple(range(2, x.ndim))  # (N, C, ...)


def _bn_shape(p, x):
    """``gamma``/``beta`` reshaped to broadcast against ``x`` (1-D vectors allowed)."""
    if getattr(p, "ndim", 0) == 1:
        shape = [1] * x.ndim
        shape[0 if x.ndim == 2 else 1] = p.shape[0]
        return p.reshape(shape)
    return p


def _bn_stats(x, eps):
    xp = _xp(x)
    axes = _bn_axes(x)
    mu = xp.mean(x, axis=axes, keepdims=True)
    xc = x - mu
    inv = 1 / xp.sqrt(xp.mean(xc * xc, axis=axes, keepdims=True) + eps)
    return axes, xc * inv, inv


@primitive
@in_nn
def batchnorm(x, gamma, beta, eps=1e-5):
    """Batch normalisation with the statistics of this batch (training mode).

    ``x`` is ``(features, N)`` (normalised per row) or NCHW (per channel over
    N, H, W); ``gamma`` and ``beta`` broadcast against it, e.g. ``(F, 1)`` or
    ``(1, C, 1, 1)``, or are 1-D vectors of length F or C.
    """
    _, xhat, _ = _bn_stats(x, eps)
    return _bn_shape(gamma, x) * xhat + _bn_shape(beta, x)


def _batchnorm_dx(g, ans, x, gamma, beta, eps=1e-5):
    xp = _xp(g, x)
    axes, xhat, inv = _bn_stats(x, eps)
    gx = g * _bn_shape(gamma, x)
    return inv * (gx - xp.mean(gx, axis=axes, keepdims=True)
                  - xhat * xp.mean(gx * xhat, axis=axes, keepdims=True))


def _batchnorm_dgamma(g, ans, x, gamma, beta, eps=1e-5):
    _, xhat, _ = _bn_stats(x, eps)
    return unbroadcast(g * xhat, _bn_shape(gamma, x)).reshape(gamma.shape)


def _batchnorm_dbeta(g, ans, x, gamma, beta, eps=1e-5):
    return unbroadcast(g, _bn_shape(beta, x)).reshape(beta.shape)


batchnorm.defvjp(_batchnorm_dx, _batchnorm_dgamma, _batchnorm_dbeta, keywords=("eps",))


@primitive
@in_nn
def bmm(a, b):
    """Batched matrix product over the last two axes (leading axes broadcast)."""
    return _xp(a, b).matmul(a, b)


bmm.defvjp(lambda g, ans, a, b: unbroadcast(_xp(g).matmul(g, _xp(b).swapaxes(b, -1, -2)), a),
           lambda g, ans, a, b: unbroadcast(_xp(g).matmul(_xp(a).swapaxes(a, -1, -2), g), b),
           keywords=())
