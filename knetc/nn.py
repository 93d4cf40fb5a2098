"""Neural-network toolkit in the spirit of Knet: activations, losses, conv/pool, parameters.

Every differentiable function here is a :func:`knetc.primitive` with its
derivative registered in the one rule table (``knetc.runtime.rules``), so the
compiler and the tape treat it as a single operation. All of them work on
NumPy and CuPy arrays alike (the module is chosen from the arguments) and keep
the floating dtype of their inputs.

Layouts follow Knet, translated to row-major NumPy:

* dense layers hold samples in columns: ``x`` is ``(features, N)``, weights
  ``(out, in)``, so a layer is ``w @ x + b`` with ``b`` of shape ``(out, 1)``;
  class scores are ``(classes, N)`` and the class axis is ``axis=0``;
* images are NCHW ``(N, C, H, W)``, conv filters ``(K, C, kh, kw)``, conv
  biases ``(1, K, 1, 1)``; :func:`mat` turns NCHW into the dense layout.
"""
import contextlib
import functools
import inspect
import math
import weakref

import numpy as np

from .runtime import gpu_kernels
from .runtime.backend import array_module, is_cupy_array
from .runtime.gradient_state import differentiating
from .runtime.rules import defnondiff, defvjp_gpu, primitive, unbroadcast
from .runtime.tree import ZERO

__all__ = [
    "relu", "sigm", "elu", "selu", "gelu", "lstm",
    "logsumexp", "logp", "logsoftmax", "softmax", "nll", "accuracy", "bce", "logistic", "sumabs2",
    "mat", "conv4", "pool", "dropout", "training", "is_training", "seed", "batchnorm", "bmm",
    "param", "param0", "xavier", "gaussian",
]


# --- helpers -------------------------------------------------------------------
def _xp(*xs):
    return array_module(*xs)


def _keep(a, x, axis, keepdims):
    """Give a reduction result ``a`` of ``x`` its reduced axes back (size 1)."""
    if keepdims or getattr(x, "ndim", 0) == 0:
        return a
    if axis is None:
        return _xp(a).reshape(a, (1,) * x.ndim)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    return _xp(a).expand_dims(a, tuple(ax % x.ndim for ax in axes))


def _pair(v, name):
    if isinstance(v, (tuple, list)):
        if len(v) != 2:
            raise ValueError(f"{name} must be an int or a pair of ints, got {v!r}")
        return int(v[0]), int(v[1])
    return int(v), int(v)


# --- activations ---------------------------------------------------------------
@primitive
def relu(x):
    """Rectified linear unit ``max(x, 0)``."""
    if is_cupy_array(x):
        return gpu_kernels.relu(x)          # one fused kernel
    return np.maximum(x, 0)


relu.defvjp(lambda g, ans, x: g * (ans > 0), keywords=())
defvjp_gpu(relu, lambda g, ans, x: gpu_kernels.relu_vjp(g, ans))


@primitive
def sigm(x):
    """Logistic sigmoid ``1 / (1 + exp(-x))``, computed stably as ``(1 + tanh(x/2)) / 2``."""
    if is_cupy_array(x):
        return gpu_kernels.sigm(x)
    return 0.5 * (np.tanh(0.5 * x) + 1)


sigm.defvjp(lambda g, ans, x: g * ans * (1 - ans), keywords=())
defvjp_gpu(sigm, lambda g, ans, x: gpu_kernels.sigm_vjp(g, ans))


@primitive
def elu(x):
    """Exponential linear unit: ``x`` for ``x > 0``, ``exp(x) - 1`` otherwise."""
    xp = _xp(x)
    return xp.where(x > 0, x, xp.expm1(xp.minimum(x, 0)))


elu.defvjp(lambda g, ans, x: g * _xp(x).where(x > 0, 1, ans + 1), keywords=())

_SELU_ALPHA = 1.6732632423543772
_SELU_LAMBDA = 1.0507009873554805


@primitive
def selu(x):
    """Scaled ELU (Klambauer et al. 2017): ``lambda * (x if x > 0 else alpha * (exp(x) - 1))``."""
    xp = _xp(x)
    return _SELU_LAMBDA * xp.where(x > 0, x, _SELU_ALPHA * xp.expm1(xp.minimum(x, 0)))


selu.defvjp(lambda g, ans, x: g * _xp(x).where(x > 0, _SELU_LAMBDA, ans + _SELU_LAMBDA * _SELU_ALPHA),
            keywords=())

_GELU_C = math.sqrt(2.0 / math.pi)


@primitive
def gelu(x):
    """GELU with the tanh approximation ``x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))``."""
    return 0.5 * x * (1 + _xp(x).tanh(_GELU_C * (x + 0.044715 * x * x * x)))


def _gelu_vjp(g, ans, x):
    t = _xp(x).tanh(_GELU_C * (x + 0.044715 * x * x * x))
    return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _GELU_C * (1 + 3 * 0.044715 * x * x))


gelu.defvjp(_gelu_vjp, keywords=())


@primitive
def lstm(gates, c, axis=0):
    """One LSTM cell step from pre-activation gates; returns ``(h, c_new)``.

    ``gates`` stacks the input, forget, output and candidate pre-activations
    (``i, f, o, g``, H rows each) along ``axis``, the first (Knet's ``(4H, B)``
    with ``c`` ``(H, B)``) or the last. ``c_new = sigm(f) * c + sigm(i) * tanh(g)``
    and ``h = sigm(o) * tanh(c_new)``. On CuPy arrays the step and its adjoint
    are one fused kernel each.
    """
    return tuple(gpu_kernels.lstm_cell(gates, c, axis))


def _lstm_vjp(k):
    def vjp(g, ans, gates, c, axis=0):
        dh, dc = (None if isinstance(d, type(ZERO)) else d for d in g)
        out = gpu_kernels.lstm_cell_vjp(dh, dc, gates, c, axis)[k]
        # a c that broadcasts against the gate blocks (H, 1) gets an adjoint of its own shape
        return unbroadcast(out, c) if k == 1 else out
    return vjp


lstm.defvjp(_lstm_vjp(0), _lstm_vjp(1), keywords=("axis",))


# --- log-sum-exp family -------------------------------------------------------------
def _logp_of(x, axis):
    """``x - logsumexp(x, axis)``: the body of :func:`logp`, also used by :func:`nll`."""
    if axis == 0 and is_cupy_array(x):
        return gpu_kernels.logp0(x)         # max, sum and write in one kernel per column
    return x - _lse(x, axis)


def _lse(x, axis):
    """log(sum(exp(x), axis)) with the reduced axes kept."""
    xp = _xp(x)
    m = xp.max(x, axis=axis, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0)
    return xp.log(xp.sum(xp.exp(x - m), axis=axis, keepdims=True)) + m


@primitive
def logsumexp(x, axis=0, keepdims=False):
    """``log(sum(exp(x), axis))`` computed stably; ``axis=None`` reduces everything."""
    if axis == 0 and is_cupy_array(x) and x.ndim:
        return gpu_kernels.logsumexp0(x, keepdims)      # one kernel per column
    r = _lse(x, axis)
    if keepdims:
        return r
    return _xp(r).squeeze(r, axis=axis) if axis is not None else r.reshape(())


def _logsumexp_vjp(g, ans, x, axis=0, keepdims=False):
    xp = _xp(x)
    return _keep(g, x, axis, keepdims) * xp.exp(x - _keep(ans, x, axis, keepdims))


def _logsumexp_vjp_gpu(g, ans, x, axis=0, keepdims=False):
    if axis == 0 and x.ndim:
        return gpu_kernels.logsumexp0_vjp(g, ans, x, keepdims)
    return _logsumexp_vjp(g, ans, x, axis, keepdims)


logsumexp.defvjp(_logsumexp_vjp, keywords=("axis", "keepdims"))
defvjp_gpu(logsumexp, _logsumexp_vjp_gpu)


@primitive
def logp(x, axis=0):
    """Log-probabilities ``x - logsumexp(x, axis)`` (log-softmax), numerically stable."""
    return _logp_of(x, axis)


def _logp_vjp(g, ans, x, axis=0):
    xp = _xp(g)
    return g - xp.exp(ans) * xp.sum(g, axis=axis, keepdims=True)


def _logp_vjp_gpu(g, ans, x, axis=0):
    return gpu_kernels.logp0_vjp(g, ans) if axis == 0 else _logp_vjp(g, ans, x, axis)


logp.defvjp(_logp_vjp, keywords=("axis",))
defvjp_gpu(logp, _logp_vjp_gpu)
logsoftmax = logp


@primitive
def softmax(x, axis=0):
    """Softmax along ``axis``: ``exp(x) / sum(exp(x), axis)``, numerically stable."""
    xp = _xp(x)
    e = xp.exp(x - xp.max(x, axis=axis, keepdims=True))
    return e / xp.sum(e, axis=axis, keepdims=True)


def _softmax_vjp(g, ans, x, axis=0):
    xp = _xp(g)
    return ans * (g - xp.sum(g * ans, axis=axis, keepdims=True))


softmax.defvjp(_softmax_vjp, keywords=("axis",))


# --- losses ------------------------------------------------------------------------
def _onehot(labels, like, axis):
    """Boolean one-hot of integer ``labels`` with the shape of ``like`` (classes along ``axis``)."""
    xp = _xp(like)
    axis = axis % like.ndim
    shape = [1] * like.ndim
    shape[axis] = like.shape[axis]
    classes = xp.arange(like.shape[axis]).reshape(shape)
    return classes == xp.expand_dims(xp.asarray(labels), axis)


@primitive
def nll(scores, labels, axis=0, average=True):
    """Negative log-likelihood of integer ``labels`` under ``softmax(scores, axis)``.

    Knet layout: ``scores`` is ``(classes, N)`` and ``labels`` ``(N,)`` with
    values in ``0..classes-1``. Returns the mean over samples (the sum with
    ``average=False``).
    """
    xp = _xp(scores)
    lp = _logp_of(scores, axis)
    idx = xp.expand_dims(xp.asarray(labels), axis % scores.ndim)
    total = -xp.sum(xp.take_along_axis(lp, idx, axis=axis))
    return total / np.size(labels) if average else total


def _nll_vjp(g, ans, scores, labels, axis=0, average=True):
    xp = _xp(scores)
    p = xp.exp(_logp_of(scores, axis))
    d = p - _onehot(labels, scores, axis)
    if average:
        g = g / np.size(labels)
    return g * d


nll.defvjp(_nll_vjp, None, keywords=("axis", "average"))


def accuracy(scores, labels, axis=0):
    """Fraction of samples whose highest score along ``axis`` is the correct label."""
    xp = _xp(scores)
    pred = xp.argmax(scores, axis=axis)
    return float(xp.mean(pred == xp.asarray(labels)))


defnondiff(accuracy)


@primitive
def bce(x, y, average=True):
    """Binary cross-entropy of logits ``x`` against labels ``y`` in {0, 1} (mean by default)."""
    xp = _xp(x)
    terms = xp.maximum(x, 0) - x * y + xp.log1p(xp.exp(-xp.abs(x)))
    total = xp.sum(terms)
    return total / terms.size if average else total


def _bce_dx(g, ans, x, y, average=True):
    d = sigm.fun(x) - y
    n = d.size if average else 1
    return unbroadcast(g * d / n, x)


def _bce_dy(g, ans, x, y, average=True):
    d = -x * _xp(x).ones_like(y)
    n = d.size if average else 1
    return unbroadcast(g * d / n, y)


bce.defvjp(_bce_dx, _bce_dy, keywords=("average",))


@primitive
def logistic(x, y, average=True):
    """Logistic loss ``log(1 + exp(-y*x))`` of scores ``x`` and labels ``y`` in {-1, 1}."""
    xp = _xp(x)
    z = -y * x
    terms = xp.maximum(z, 0) + xp.log1p(xp.exp(-xp.abs(z)))
    total = xp.sum(terms)
    return total / terms.size if average else total


def _logistic_dx(g, ans, x, y, average=True):
    d = -y * sigm.fun(-y * x)
    n = d.size if average else 1
    return unbroadcast(g * d / n, x)


def _logistic_dy(g, ans, x, y, average=True):
    d = -x * sigm.fun(-y * x)
    n = d.size if average else 1
    return unbroadcast(g * d / n, y)


logistic.defvjp(_logistic_dx, _logistic_dy, keywords=("average",))


@primitive
def sumabs2(x):
    """Sum of squares ``sum(x**2)`` (an L2 penalty)."""
    return _xp(x).sum(x * x)


sumabs2.defvjp(lambda g, ans, x: 2 * g * x, keywords=())


# --- reshaping ---------------------------------------------------------------------
@primitive
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


# --- dropout -------------------------------------------------------------------------
# As in Knet.jl, dropout drops while a gradient is being taken and is the identity
# otherwise (prediction, evaluation); ``training(flag)`` overrides that for a block.
_TRAINING = [None]          # None: automatic; True/False: set by a training(flag) block
_RNG = [np.random.default_rng()]
_MASKS = {}


def is_training():
    """True when :func:`dropout` drops: inside a gradient call, unless a ``training(flag)`` block says otherwise."""
    return differentiating() if _TRAINING[0] is None else _TRAINING[0]


@contextlib.contextmanager
def training(flag=True):
    """Context manager that forces training mode on (``training()``) or off (``training(False)``).

    By default :func:`dropout` is active exactly while a gradient is being
    taken (``lossgradient(w, x, y)``), as in Knet.jl, and inactive in plain
    calls such as ``predict(w, x)`` for evaluation. ``with training(False):``
    keeps dropout off inside a gradient call (e.g. to check gradients against
    finite differences); ``with training():`` turns it on in plain calls.
    """
    old = _TRAINING[0]
    _TRAINING[0] = bool(flag)
    try:
        yield
    finally:
        _TRAINING[0] = old


def seed(n):
    """Seed the generator that :func:`dropout` uses when given no ``rng``."""
    _RNG[0] = np.random.default_rng(n)


def _uniform(shape, rng, xp):
    if rng is None:
        rng = _RNG[0]
    elif not isinstance(rng, np.random.Generator):
        rng = np.random.default_rng(rng)
    u = rng.random(shape, dtype=np.float32)
    return u if xp is np else xp.asarray(u)


@primitive
def dropout(x, p, training=None, rng=None):
    """Zero each entry of ``x`` with probability ``p``, scaling the rest by ``1/(1-p)``.

    As in Knet.jl it is active while a gradient is being taken and returns
    ``x`` unchanged otherwise (see :func:`is_training`); ``training=True`` or
    ``False`` decides for this call, and a ``with knetc.nn.training(flag):``
    block for a whole block. The mask is drawn from ``rng`` (a
    ``numpy.random.Generator`` or a seed), else from the generator set by
    :func:`seed`, so runs are reproducible.
    """
    active = is_training() if training is None else training
    if not active or p <= 0:
        return x
    xp = _xp(x)
    if p >= 1:
        return xp.zeros_like(x)
    mask = (_uniform(x.shape, rng, xp) >= p).astype(x.dtype) * (1.0 / (1.0 - p))
    ans = x * mask
    _remember_mask(ans, mask)
    return ans


def _remember_mask(ans, mask):
    """Keep the mask of a dropout result for its VJP, for as long as the result lives."""
    key = id(ans)
    try:
        _MASKS[key] = (weakref.ref(ans), mask)
        weakref.finalize(ans, _MASKS.pop, key, None)
    except TypeError:  # arrays without weak references: keep the latest few strongly
        _MASKS[key] = (lambda: ans, mask)
        while len(_MASKS) > 256:
            _MASKS.pop(next(iter(_MASKS)))


def _dropout_vjp(g, ans, x, p, training=None, rng=None):
    if ans is x:
        return g
    entry = _MASKS.get(id(ans))
    if entry is not None and entry[0]() is ans:
        mask = entry[1]
    else:  # the mask is gone: rebuild it from the result (exact where x != 0)
        mask = (ans != 0) * (1.0 / (1.0 - p)) if p < 1 else 0 * g
    return g * mask


dropout.defvjp(_dropout_vjp, keywords=("training", "rng"))


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
def bmm(a, b):
    """Batched matrix product over the last two axes (leading axes broadcast)."""
    return _xp(a, b).matmul(a, b)


bmm.defvjp(lambda g, ans, a, b: unbroadcast(_xp(g).matmul(g, _xp(b).swapaxes(b, -1, -2)), a),
           lambda g, ans, a, b: unbroadcast(_xp(g).matmul(_xp(a).swapaxes(a, -1, -2), g), b),
           keywords=())


# --- parameters ------------------------------------------------------------------------
def _fans(dims):
    """(fan_in, fan_out) as Knet's xavier computes them."""
    if len(dims) == 1:
        return dims[0], 1
    if len(dims) == 2:  # (out, in)
        return dims[1], dims[0]
    k = dims[0]  # conv (K, C, kh, kw): fan_out = K, fan_in = C*kh*kw (Knet; Caffe differs)
    return math.prod(dims) // k, k


def _rng(rng):
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def xavier(*dims, rng=None, dtype=np.float64):
    """Xavier/Glorot uniform init: U(-s, s) with ``s = sqrt(6 / (fan_in + fan_out))``.

    Fans as in Knet: ``(out, in)`` matrices use ``fan_in = in, fan_out = out``;
    ``(K, C, kh, kw)`` filters ``fan_in = C*kh*kw, fan_out = K``; vectors
    ``fan_in = n, fan_out = 1``.
    """
    fan_in, fan_out = _fans(dims)
    s = math.sqrt(6.0 / (fan_in + fan_out))
    return _rng(rng).uniform(-s, s, size=dims).astype(dtype)


def gaussian(*dims, scale=0.01, rng=None, dtype=np.float64):
    """Normal init with mean 0 and standard deviation ``scale``."""
    return (scale * _rng(rng).standard_normal(size=dims)).astype(dtype)


def _to_device(a, device):
    if device in (None, "cpu"):
        return a
    if device in ("gpu", "cuda") or str(device).startswith("cuda"):
        try:
            from .device import to_gpu  # lazy: only for device="gpu" (knetc's memory pools)
        except ImportError:
            import cupy  # lazy: CuPy is optional (GPU only)
            return cupy.asarray(a)
        return to_gpu(a)
    raise ValueError(f"unknown device {device!r}: use 'cpu' or 'gpu'")


def param(*dims, init=xavier, dtype=np.float32, device="cpu", rng=None):
    """A parameter array of shape ``dims`` made by ``init`` (default :func:`xavier`).

    ``device="gpu"`` puts it on the GPU with CuPy. ``rng`` (a Generator or a
    seed) is passed to inits that take one; other callables are called as
    ``init(*dims)``.
    """
    try:
        takes_rng = "rng" in inspect.signature(init).parameters
    except (TypeError, ValueError):
        takes_rng = False
    a = init(*dims, rng=rng) if takes_rng else init(*dims)
    return _to_device(np.asarray(a, dtype=dtype), device)


def param0(*dims, dtype=np.float32, device="cpu"):
    """A parameter array of zeros (e.g. a bias)."""
    return _to_device(np.zeros(dims, dtype=dtype), device)
