"""Convolution and pooling on NCHW images (conv4, pool), and mat (NCHW to the dense layout)."""
import functools

import numpy as np

from ..runtime.rules import primitive
from ._common import _pair, _xp, in_nn


# --- reshaping ---------------------------------------------------------------------
@primitive
@in_nn
def mat(x):
    """NCHW ``(N, C, H, W)`` to the dense layout ``(C*H*W, N)`` (samples in columns).

    Arrays with 2 or fewer dimensions are returned unchanged: they are taken
    to be in the dense layout already (as Knet's ``mat`` of a matrix).
    """
    if x.ndim <= 2:
        return x
    return x.reshape(x.shape[0], -1).T


def _mat_vjp(g, ans, x):
    if x.ndim <= 2:
        return g
    return g.T.reshape(x.shape)


mat.defvjp(_mat_vjp, keywords=())


# --- convolution and pooling -----------------------------------------------------------
@functools.lru_cache(maxsize=256)
def _plan(xshape, kh, kw, ph, pw, sh, sw):
    """Output size and the strided slices of one window offset (computed once per shape)."""
    n, c, h, w = xshape
    hp, wp = h + 2 * ph, w + 2 * pw
    ho, wo = (hp - kh) // sh + 1, (wp - kw) // sw + 1
    if ho < 1 or wo < 1:
        raise ValueError(f"window {kh}x{kw} is larger than the padded input {hp}x{wp}")
    offsets = tuple((i, j, slice(i, i + sh * (ho - 1) + 1, sh), slice(j, j + sw * (wo - 1) + 1, sw))
                    for i in range(kh) for j in range(kw))
    return hp, wp, ho, wo, offsets


def _pad(x, ph, pw, fill=0):
    if not (ph or pw):
        return x
    xp = _xp(x)
    n, c, h, w = x.shape
    out = xp.full((n, c, h + 2 * ph, w + 2 * pw), fill, dtype=x.dtype)
    out[:, :, ph:ph + h, pw:pw + w] = x
    return out


def _im2col(x, kh, kw, ph, pw, sh, sw):
    """Columns ``(C*kh*kw, N*Ho*Wo)`` of ``x`` from one strided view and one copy."""
    xp = _xp(x)
    n, c = x.shape[:2]
    _, _, ho, wo, _ = _plan(x.shape, kh, kw, ph, pw, sh, sw)
    xpad = xp.ascontiguousarray(_pad(x, ph, pw))
    s0, s1, s2, s3 = xpad.strides
    win = xp.lib.stride_tricks.as_strided(
        xpad, shape=(c, kh, kw, n, ho, wo), strides=(s1, s2, s3, s0, s2 * sh, s3 * sw))
    return win.reshape(c * kh * kw, n * ho * wo), ho, wo


def _conv_args(w, x, padding, stride):
    if x.ndim != 4 or w.ndim != 4:
        raise ValueError(f"conv4 expects w (K, C, kh, kw) and x (N, C, H, W), got w{w.shape} x{x.shape}")
    if w.shape[1] != x.shape[1]:
        raise ValueError(f"conv4: w has {w.shape[1]} input channels but x has {x.shape[1]}")
    ph, pw = _pair(padding, "padding")
    sh, sw = _pair(stride, "stride")
    return w.shape[2], w.shape[3], ph, pw, sh, sw


@primitive
@in_nn
def conv4(w, x, padding=0, stride=1):
    """2-D convolution (cross-correlation, as cuDNN and Knet's conv4 compute it).

    ``w`` is ``(K, C, kh, kw)``, ``x`` is ``(N, C, H, W)``; the result is
    ``(N, K, H', W')`` with ``H' = (H + 2*padding - kh) // stride + 1``.
    ``padding`` and ``stride`` are ints or ``(h, w)`` pairs. On the CPU this
    is im2col from a strided view followed by one BLAS matrix product.
    """
    kh, kw, ph, pw, sh, sw = _conv_args(w, x, padding, stride)
    cols, ho, wo = _im2col(x, kh, kw, ph, pw, sh, sw)
    y = w.reshape(w.shape[0], -1) @ cols  # (K, N*Ho*Wo)
    return y.reshape(w.shape[0], x.shape[0], ho, wo).transpose(1, 0, 2, 3)


def _conv4_dw(g, ans, w, x, padding=0, stride=1):
    kh, kw, ph, pw, sh, sw = _conv_args(w, x, padding, stride)
    cols, _, _ = _im2col(x, kh, kw, ph, pw, sh, sw)
    gmat = g.transpose(1, 0, 2, 3).reshape(w.shape[0], -1)  # (K, N*Ho*Wo)
    # cols @ gmat.T puts the long axis where BLAS is fastest (2-3x over gmat @ cols.T)
    return (cols @ gmat.T).T.reshape(w.shape)


def _conv4_dx(g, ans, w, x, padding=0, stride=1):
    xp = _xp(g, x)
    kh, kw, ph, pw, sh, sw = _conv_args(w, x, padding, stride)
    n, c, h, wd = x.shape
    hp, wp, ho, wo, offsets = _plan(x.shape, kh, kw, ph, pw, sh, sw)
    gmat = g.transpose(1, 0, 2, 3).reshape(w.shape[0], -1)
    dcols = (w.reshape(w.shape[0], -1).T @ gmat).reshape(c, kh, kw, n, ho, wo)
    dx = xp.zeros((c, n, hp, wp), dtype=dcols.dtype)  # channels first: no transposes in the loop
    for i, j, si, sj in offsets:  # col2im: one vectorised add per kernel offset
        dx[:, :, si, sj] += dcols[:, i, j]
    return xp.ascontiguousarray(dx[:, :, ph:ph + h, pw:pw + wd].transpose(1, 0, 2, 3))


conv4.defvjp(_conv4_dw, _conv4_dx, keywords=("padding", "stride"))


def _pool_args(x, window, stride, padding, mode):
    if x.ndim != 4:
        raise ValueError(f"pool expects x (N, C, H, W), got shape {x.shape}")
    if mode not in ("max", "avg"):
        raise ValueError(f"pool mode must be 'max' or 'avg', got {mode!r}")
    kh, kw = _pair(window, "window")
    sh, sw = _pair(window if stride is None else stride, "stride")
    ph, pw = _pair(padding, "padding")
    return kh, kw, ph, pw, sh, sw


@primitive
@in_nn
def pool(x, window=2, stride=None, padding=0, mode="max"):
    """2-D pooling of NCHW ``x`` over ``window`` (stride defaults to the window).

    ``mode="max"`` takes the maximum (padding never wins); ``mode="avg"``
    averages with the padding counted as zeros (Knet's/cuDNN's default
    average mode). The output is ``(N, C, H', W')`` with
    ``H' = (H + 2*padding - window) // stride + 1``.
    """
    kh, kw, ph, pw, sh, sw = _pool_args(x, window, stride, padding, mode)
    _, _, ho, wo, offsets = _plan(x.shape, kh, kw, ph, pw, sh, sw)
    xp = _xp(x)
    xpad = _pad(x, ph, pw, -np.inf if mode == "max" else 0)
    out = None
    for _, _, si, sj in offsets:  # one vectorised op per window offset
        v = xpad[:, :, si, sj]
        if out is None:
            out = v.copy()
        elif mode == "max":
            xp.maximum(out, v, out=out)
        else:
            out += v
    if mode == "avg":
        out /= kh * kw
    return out


def _pool_vjp(g, ans, x, window=2, stride=None, padding=0, mode="max"):
    xp = _xp(g, x)
    kh, kw, ph, pw, sh, sw = _pool_args(x, window, stride, padding, mode)
    hp, wp, ho, wo, offsets = _plan(x.shape, kh, kw, ph, pw, sh, sw)
    n, c, h, w = x.shape
    disjoint = sh >= kh and sw >= kw  # windows do not overlap: write instead of add
    dx = xp.zeros((n, c, hp, wp), dtype=g.dtype)
    if mode == "avg":
        ga = g / (kh * kw)
        for _, _, si, sj in offsets:
            if disjoint:
                dx[:, :, si, sj] = ga
            else:
                dx[:, :, si, sj] += ga
    else:
        # The gradient goes to the first maximum of each window (row-major order).
        xpad = _pad(x, ph, pw, -np.inf)
        free = xp.ones(ans.shape, dtype=bool)
        hit = xp.empty(ans.shape, dtype=bool)
        for _, _, si, sj in offsets:
            xp.equal(xpad[:, :, si, sj], ans, out=hit)
            hit &= free
            xp.greater(free, hit, out=free)  # free and not hit
            if disjoint:
                xp.multiply(hit, g, out=dx[:, :, si, sj])
            else:
                dx[:, :, si, sj] += hit * g
    return dx[:, :, ph:ph + h, pw:pw + w] if (ph or pw) else dx


pool.defvjp(_pool_vjp, keywords=("window", "stride", "padding", "mode"))
