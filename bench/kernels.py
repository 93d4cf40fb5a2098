"""Plain NumPy (or CuPy) convolution and pooling kernels, Knet semantics in
NumPy layout: images are (N, C, H, W), filters (O, C, kh, kw).

``conv4`` is a valid (no padding), stride-1 cross-correlation; ``pool`` is a
2x2 max pool with stride 2 whose gradient goes to the first maximum of each
window (cuDNN's and PyTorch's tie rule); ``mat`` flattens each image into a
column, as Knet's ``mat`` does. These are the kernels of the hand-written
reference and, wrapped as primitives, of the HIPS autograd LeNet. They are
also the fallback for knetc when ``knetc.nn`` is missing.
"""
import numpy as np


def _xp(x):
    if type(x).__module__.startswith("cupy"):
        import cupy
        return cupy
    return np


# --- convolution ------------------------------------------------------------------

def im2col(x, kh, kw):
    """(C*kh*kw, N*Ho*Wo) patch matrix of x (N, C, H, W)."""
    xp = _xp(x)
    n, c, h, w = x.shape
    ho, wo = h - kh + 1, w - kw + 1
    cols = xp.empty((c, kh, kw, n, ho, wo), x.dtype)
    xt = x.transpose(1, 0, 2, 3)
    for p in range(kh):
        for q in range(kw):
            cols[:, p, q] = xt[:, :, p:p + ho, q:q + wo]
    return cols.reshape(c * kh * kw, n * ho * wo)


def col2im(dcols, xshape, kh, kw):
    """Adjoint of :func:`im2col`: scatter-add patch adjoints back to an image."""
    xp = _xp(dcols)
    n, c, h, w = xshape
    ho, wo = h - kh + 1, w - kw + 1
    d = dcols.reshape(c, kh, kw, n, ho, wo)
    dx = xp.zeros((c, n, h, w), dcols.dtype)
    for p in range(kh):
        for q in range(kw):
            dx[:, :, p:p + ho, q:q + wo] += d[:, p, q]
    return dx.transpose(1, 0, 2, 3)


def conv4_forward(w, x):
    """(y, cols): y = conv4(w, x) (N, O, Ho, Wo) and the patch matrix for the backward."""
    o, c, kh, kw = w.shape
    n, _, h, wd = x.shape
    ho, wo = h - kh + 1, wd - kw + 1
    cols = im2col(x, kh, kw)
    y = (w.reshape(o, -1) @ cols).reshape(o, n, ho, wo).transpose(1, 0, 2, 3)
    return y, cols


def conv4_backward_w(dy, cols, wshape):
    o = wshape[0]
    dym = dy.transpose(1, 0, 2, 3).reshape(o, -1)
    return (dym @ cols.T).reshape(wshape)


def conv4_backward_x(dy, w, xshape):
    o, c, kh, kw = w.shape
    dym = dy.transpose(1, 0, 2, 3).reshape(o, -1)
    return col2im(w.reshape(o, -1).T @ dym, xshape, kh, kw)


def conv4(w, x):
    return conv4_forward(w, x)[0]


# --- pooling ----------------------------------------------------------------------

def _corners(x):
    """The four strided views x[:, :, i::2, j::2] of the 2x2 windows, in row-major order."""
    h, w = x.shape[2] // 2 * 2, x.shape[3] // 2 * 2
    return [x[:, :, i:h:2, j:w:2] for i in (0, 1) for j in (0, 1)]


def pool(x):
    """2x2 max pool, stride 2."""
    xp = _xp(x)
    a, b, c, d = _corners(x)
    y = xp.maximum(a, b)
    xp.maximum(y, c, out=y)
    xp.maximum(y, d, out=y)
    return y


def pool_backward(dy, x, y):
    """Adjoint of :func:`pool`: each window's gradient goes to its first maximum."""
    xp = _xp(dy)
    dx = xp.zeros(x.shape, dy.dtype)
    free = xp.ones(y.shape, bool)  # windows whose maximum is not found yet
    hit = xp.empty(y.shape, bool)
    for xv, dxv in zip(_corners(x), _corners(dx)):
        xp.equal(xv, y, out=hit)
        hit &= free
        free ^= hit
        xp.multiply(hit, dy, out=dxv)
    return dx


def mat(x):
    """Each image as one column: (N, C, H, W) -> (C*H*W, N)."""
    return x.reshape(x.shape[0], -1).T
