"""knetc: a source-to-source automatic differentiation compiler for Python + NumPy."""
import sys as _sys
from types import ModuleType as _ModuleType

if _sys.version_info < (3, 11):   # also for a checkout used without installing (pip checks requires-python)
    raise ImportError("knetc requires Python 3.11 or newer (it notes the user's file:line on errors with "
                      f"BaseException.add_note); this is Python {_sys.version.split()[0]}")

from .errors import FallbackWarning, GradientInputError, KnetError, UnsupportedError
from .runtime import numpy_rules as _numpy_rules  # noqa: F401  (registers the rules)
from .runtime.rules import defnondiff, defvjp, defvjp_gpu, primitive, unbroadcast
from .runtime.tree import zeros_like_tree as zeros_like
from .api import GradFunction, grad, gradloss, value_and_grad
from .show import show
from . import data, device, nn, train
from .data import minibatch
from .device import array, configure_memory, gpu_available, memory_stats, to_cpu, to_gpu
from .nn import (accuracy, batchnorm, bce, bmm, conv4, dropout, elu, gaussian, gelu, logistic,
                 logp, logsoftmax, logsumexp, lstm, mat, nll, param, param0, pool, relu, selu, sigm,
                 softmax, sumabs2, xavier)
from .train import (SGD, Adadelta, Adagrad, Adam, Momentum, Nesterov, Rmsprop, load, optimizers,
                    progress, save, update)


def hvp(fun, wrt=0):
    """Hessian-vector product: ``hvp(f)(*args, v)`` = (d^2 f / dx^2) v for x = args[wrt]."""
    from .runtime import tape

    def product(*args):
        *inputs, v = args
        return tape.hvp(fun, tuple(inputs), v, wrt=wrt)
    return product


__version__ = "0.1.0"

# the public names: functions, classes and the toolkit's modules, not the internal modules
# (api, errors, runtime, transform, show) that importing the package binds as attributes
_PUBLIC_MODULES = ("data", "device", "nn", "train")
__all__ = sorted(name for name, value in list(globals().items()) if not name.startswith("_")
                 and (not isinstance(value, _ModuleType) or name in _PUBLIC_MODULES))
