"""knetc: a source-to-source automatic differentiation compiler for Python + NumPy."""
from .errors import FallbackWarning, GradientInputError, KnetError, UnsupportedError
from .runtime import numpy_rules as _numpy_rules  # noqa: F401  (registers the rules)
from .runtime.rules import defvjp, primitive, unbroadcast

__version__ = "0.1.0"
from .api import GradFunction, grad, gradloss, value_and_grad
from .show import show
