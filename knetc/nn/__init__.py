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
from . import activations, convolution, initialisation, losses, normalisation, regularisation  # noqa: F401
from .activations import elu, gelu, logp, logsoftmax, logsumexp, lstm, relu, selu, sigm, softmax
from .convolution import conv4, mat, pool
from .regularisation import dropout, is_training, seed, training
from .initialisation import gaussian, param, param0, xavier
from .losses import accuracy, bce, logistic, nll, sumabs2
from .normalisation import batchnorm, bmm

__all__ = [
    "relu", "sigm", "elu", "selu", "gelu", "lstm",
    "logsumexp", "logp", "logsoftmax", "softmax", "nll", "accuracy", "bce", "logistic", "sumabs2",
    "mat", "conv4", "pool", "dropout", "training", "is_training", "seed", "batchnorm", "bmm",
    "param", "param0", "xavier", "gaussian",
]

for _name in __all__:       # documented, and named in messages, as knetc.nn.<name>
    _fun = globals()[_name]
    if getattr(_fun, "__module__", "").startswith("knetc.nn."):
        _fun.__module__ = "knetc.nn"
del _name, _fun
