"""Activations and the log-sum-exp family: relu, sigm, elu, selu, gelu, lstm, logsumexp, logp, softmax."""
import math

import numpy as np  # noqa: F401

from ..runtime import gpu_kernels
from ..runtime.backend import is_cupy_array
from ..runtime.rules import defvjp_gpu, primitive, unbroadcast
from ..runtime.tree import is_zero
from ._common import _keep, _xp, in_nn


# --- activations ---------------------------------------------------------------
@primitive
@in_nn
def relu(x):
    """Rectified linear unit ``max(x, 0)``."""
    if is_cupy_array(x):
        return gpu_kernels.relu(x)          # one fused kernel
    return np.maximum(x, 0)


relu.defvjp(lambda g, ans, x: g * (ans > 0), keywords=())
defvjp_gpu(relu, lambda g, ans, x: gpu_kernels.relu_vjp(g, ans))


@primitive
@in_nn
def sigm(x):
    """Logistic sigmoid ``1 / (1 + exp(-x))``, computed stably as ``(1 + tanh(x/2)) / 2``."""
    if is_cupy_array(x):
        return gpu_kernels.sigm(x)
    return 0.5 * (np.tanh(0.5 * x) + 1)


sigm.defvjp(lambda g, ans, x: g * ans * (1 - ans), keywords=())
defvjp_gpu(sigm, lambda g, ans, x: gpu_kernels.sigm_vjp(g, ans))


@primitive
@in_nn
def elu(x):
    """Exponential linear unit: ``x`` for ``x > 0``, ``exp(x) - 1`` otherwise."""
    xp = _xp(x)
    return xp.where(x > 0, x, xp.expm1(xp.minimum(x, 0)))


elu.defvjp(lambda g, ans, x: g * _xp(x).where(x > 0, 1, ans + 1), keywords=())

_SELU_ALPHA = 1.6732632423543772
_SELU_LAMBDA = 1.0507009873554805


@primitive
@in_nn
def selu(x):
    """Scaled ELU (Klambauer et al. 2017): ``lambda * (x if x > 0 else alpha * (exp(x) - 1))``."""
    xp = _xp(x)
    return _SELU_LAMBDA * xp.where(x > 0, x, _SELU_ALPHA * xp.expm1(xp.minimum(x, 0)))


selu.defvjp(lambda g, ans, x: g * _xp(x).where(x > 0, _SELU_LAMBDA, ans + _SELU_LAMBDA * _SELU_ALPHA),
            keywords=())

_GELU_C = math.sqrt(2.0 / math.pi)


@primitive
@in_nn
def gelu(x):
    """GELU with the tanh approximation ``x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))``."""
    return 0.5 * x * (1 + _xp(x).tanh(_GELU_C * (x + 0.044715 * x * x * x)))


def _gelu_vjp(g, ans, x):
    t = _xp(x).tanh(_GELU_C * (x + 0.044715 * x * x * x))
    return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _GELU_C * (1 + 3 * 0.044715 * x * x))


gelu.defvjp(_gelu_vjp, keywords=())


@primitive
@in_nn
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
        dh, dc = (None if is_zero(d) else d for d in g)
        out = gpu_kernels.lstm_cell_vjp(dh, dc, gates, c, axis)[k]
        # a c that broadcasts against the gate blocks (H, 1) gets an adjoint of its own shape
        return unbroadcast(out, c) if k == 1 else out
    return vjp


lstm.defvjp(_lstm_vjp(0), _lstm_vjp(1), keywords=("axis",))
lstm.returns_tuple = True      # (h, c): the compiler models the result as a tuple


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
@in_nn
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
@in_nn
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
@in_nn
def softmax(x, axis=0):
    """Softmax along ``axis``: ``exp(x) / sum(exp(x), axis)``, numerically stable."""
    xp = _xp(x)
    e = xp.exp(x - xp.max(x, axis=axis, keepdims=True))
    return e / xp.sum(e, axis=axis, keepdims=True)


def _softmax_vjp(g, ans, x, axis=0):
    xp = _xp(g)
    return ans * (g - xp.sum(g * ans, axis=axis, keepdims=True))


softmax.defvjp(_softmax_vjp, keywords=("axis",))
