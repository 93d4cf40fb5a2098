"""Training helpers: optimizers, a progress bar, and saving/loading parameters.

Optimizers update a parameter structure IN PLACE: an array, or arrays nested
in lists, tuples, dicts, namedtuples, dataclasses and registered classes
(float leaves of lists, dicts and non-frozen dataclasses are written back
into their container), given a gradient of the same structure (what
``knetc.grad`` returns)::

    opt = Adam(lr=0.001, gclip=5.0)     # or optimizers(w, Adam, lr=0.001)
    for x, y in data:
        g = lossgradient(w, x, y)
        update(w, g, opt)               # or opt.update(w, g)

One optimizer object serves the whole structure and keeps per-array state
(momentum, moments...) in the order of the structure's leaves. ``gclip > 0``
first scales the whole gradient so that its global L2 norm (over all leaves)
is at most ``gclip``. Update rules and default hyper-parameters follow Knet.
"""
from .checkpoint import load, save
from .loop import Progress, mean_over, progress, train_epoch
from .optimizers import (SGD, Adadelta, Adagrad, Adam, Momentum, Nesterov, Optimizer, Rmsprop,  # noqa: F401
                         adadelta, adagrad, adam, gnorm, momentum, nesterov, optimizers, rmsprop, sgd, update)

__all__ = ["Optimizer", "SGD", "Momentum", "Nesterov", "Adagrad", "Rmsprop", "Adadelta", "Adam",
           "sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam",
           "optimizers", "update", "gnorm", "progress", "Progress", "save", "load"]
