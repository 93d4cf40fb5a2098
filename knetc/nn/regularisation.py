"""Dropout (a regulariser), and the training flag that decides when it drops."""
import contextlib
import weakref

import numpy as np

from ..runtime.gradient_state import differentiating
from ..runtime.rules import primitive
from ._common import _xp, in_nn


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
@in_nn
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
