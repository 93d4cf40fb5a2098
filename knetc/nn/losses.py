"""Losses and metrics: nll, accuracy, bce, logistic, sumabs2 (class scores along ``axis``)."""
import numpy as np

from ..runtime.rules import defnondiff, primitive, unbroadcast
from ._common import _xp, in_nn
from .activations import _logp_of, sigm


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
@in_nn
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
@in_nn
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
@in_nn
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
@in_nn
def sumabs2(x):
    """Sum of squares ``sum(x**2)`` (an L2 penalty)."""
    return _xp(x).sum(x * x)


sumabs2.defvjp(lambda g, ans, x: 2 * g * x, keywords=())
