"""knetc: a source-to-source automatic differentiation compiler for Python + NumPy."""
import sys as _sys
from types import ModuleType as _ModuleType

if _sys.version_info < (3, 11):   # also for a checkout used without installing (pip checks requires-python)
    raise ImportError("knetc requires Python 3.11 or newer (it notes the user's file:line on errors with "
                      f"BaseException.add_note); this is Python {_sys.version.split()[0]}")

from .errors import FallbackWarning, GradientInputError, KnetError, UnsupportedError
from .runtime import numpy_rules as _numpy_rules  # noqa: F401  (registers the rules)
from .runtime import rules_elementwise as _rules_elementwise  # noqa: F401
from .runtime import rules_reductions as _rules_reductions  # noqa: F401
from .runtime import rules_shape as _rules_shape  # noqa: F401
from .runtime import rules_signal as _rules_signal  # noqa: F401
from .runtime import rules_complex as _rules_complex  # noqa: F401
from .runtime import rules_products as _rules_products  # noqa: F401
from .runtime import rules_linalg as _rules_linalg  # noqa: F401
from .runtime import rules_fft as _rules_fft  # noqa: F401
from .runtime import rules_records as _rules_records  # noqa: F401
from .runtime.rules import defjvp, defnondiff, defvjp, defvjp_gpu, primitive, unbroadcast
from .runtime.rules_shape import put_along_axis
from .runtime.tree import zeros_like_tree as zeros_like
from .api import GradFunction, grad, gradloss, value_and_grad
from .show import show
# the dispatchers generated code calls back into (they put call_vjp, call_jvp in the runtime table)
from .transform import dispatch as _dispatch, forward_calls as _forward_calls  # noqa: F401
from . import data, device, nn, train
from .data import minibatch
from .device import array, configure_memory, gpu_available, memory_stats, to_cpu, to_gpu
from .nn import (accuracy, batchnorm, bce, bmm, conv4, dropout, elu, gaussian, gelu, logistic,
                 logp, logsoftmax, logsumexp, lstm, mat, nll, param, param0, pool, relu, selu, sigm,
                 softmax, sumabs2, xavier)
from .train import (SGD, Adadelta, Adagrad, Adam, Momentum, Nesterov, Rmsprop, load, optimizers,
                    progress, save, update)
from .operators import checkpoint, elementwise_grad, jvp, jvp_source, linearize, vjp
from .jacobians import jacfwd, jacobian, jacrev
from .hessians import hessian, hvp
from .runtime.tree import (keystr, register_tree, tree_flatten, tree_flatten_with_path, tree_leaves,  # noqa: F401
                           tree_leaves_with_path, tree_map, tree_structure, tree_unflatten)


__version__ = "0.1.0"

# the public names: functions, classes and the toolkit's modules, not the internal modules
# (api, errors, runtime, transform, show) that importing the package binds as attributes
_PUBLIC_MODULES = ("data", "device", "nn", "train")
__all__ = sorted(name for name, value in list(globals().items()) if not name.startswith("_")
                 and (not isinstance(value, _ModuleType) or name in _PUBLIC_MODULES))
