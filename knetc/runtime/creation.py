"""Arrays created inside a model land on the device of the model's arguments.

``h = np.zeros((H, B))`` in a loss has no array argument, so NumPy's dispatch
cannot send it to CuPy. For the same code to run on either device:

* the compiler rewrites such calls to ``xp.zeros((H, B))``, with
  ``xp = creation_module(w, x, y)`` computed once from the function's arguments
  (see :data:`CREATION` for the functions concerned), and code compiled for
  CuPy arguments runs helpers that take no differentiated argument through
  :func:`call_on_gpu`;
* the tape, while it records a function, binds the names of that function's
  globals that refer to ``numpy`` to :data:`DEVICE_NUMPY`, which creates
  arrays with the module of the arguments being traced (and records
  ``np.array([x, y])`` of traced values) and forwards everything else to NumPy.

Nothing here imports CuPy: with NumPy arguments the module is ``numpy``.
"""
import sys
import threading
import types

import numpy as np

from .backend import holds_cupy
from .rebinding import Rebinding
from .box import has_box
from .box_record import record
from .rules import rule_for

# NumPy functions that build an array from shapes, scalars or lists -> their
# name in an array module (NumPy's and CuPy's share these names).
_NAMES = ["zeros", "ones", "empty", "full", "eye", "identity", "arange", "linspace",
          "array", "asarray", "ascontiguousarray"]
_RANDOM = ["rand", "randn", "random", "random_sample", "uniform", "normal", "standard_normal",
           "randint", "binomial"]
CREATION = {getattr(np, n): n for n in _NAMES}
CREATION.update({getattr(np.random, n): "random." + n for n in _RANDOM})


def creation_module(*values):
    """The module that creates new arrays on the device of a function's arguments ``values``:
    ``cupy`` if any value (or an array inside a list, tuple or dict) is a CuPy array, else
    ``numpy``. (:func:`knetc.runtime.backend.module_of` is the module of given arrays.)"""
    if "cupy" not in sys.modules:
        return np
    if any(holds_cupy(v) for v in values):
        import cupy  # lazy: CuPy is optional (GPU only)
        return cupy
    return np


def on_gpu(*values):
    """True when CuPy arrays are among ``values``: code compiled for them uses the GPU's rules."""
    return creation_module(*values) is not np


# --- the tape: numpy's creation functions follow the traced arguments ------------------------
_CURRENT = threading.local()


def current_module():
    """The array module of the arguments the tape is recording in this thread (default numpy)."""
    return getattr(_CURRENT, "module", np)


def set_current_module(module):
    """Make ``module`` the current one in this thread; returns the previous one."""
    previous = current_module()
    _CURRENT.module = module
    return previous


# np.array / np.asarray of traced values (np.array([x, y]) of differentiated
# scalars) do not dispatch to the boxes: the tape records them here.
_CONVERSIONS = {"array": np.array, "asarray": np.asarray}


def _creator(path):
    head, _, name = path.rpartition(".")
    conversion = _CONVERSIONS.get(path)

    def create(*args, **kwargs):
        if conversion is not None and args:
            if has_box(args[0]):
                return record(create, rule_for(conversion), args, kwargs)
        module = current_module()
        if head:
            module = getattr(module, head)
        return getattr(module, name)(*args, **kwargs)
    create.__name__ = name
    create.__doc__ = f"numpy.{path} on the device of the arguments being traced."
    return create


class _DeviceNumpy(types.ModuleType):
    """Stands for ``numpy`` in a traced function's globals: creation follows the device."""

    def __init__(self, name, target, overrides):
        super().__init__(name)
        self._target = target
        self.__dict__.update(overrides)

    def __getattr__(self, attr):         # everything else is NumPy's own
        return getattr(self._target, attr)

    def __dir__(self):
        return dir(self._target)


DEVICE_RANDOM = _DeviceNumpy("numpy.random", np.random,
                             {n: _creator("random." + n) for n in _RANDOM})
DEVICE_NUMPY = _DeviceNumpy("numpy", np, dict({n: _creator(n) for n in _NAMES}, random=DEVICE_RANDOM))


_BOUND = {}   # id(namespace) -> (its size when scanned, the names bound to numpy)


def _numpy_names(namespace):
    """The names of ``namespace`` bound to ``numpy`` (rescanned when its size changes: the
    tape rebinds them on every traced call)."""
    size = len(namespace)
    cached = _BOUND.get(id(namespace))
    if cached is None or cached[0] != size:
        if len(_BOUND) > 4096:       # namespaces of exec'd code come and go
            _BOUND.clear()
        cached = _BOUND[id(namespace)] = (size, tuple(k for k, v in namespace.items() if v is np))
    return [(k, np, DEVICE_NUMPY) for k in cached[1] if namespace.get(k) is np]


_REBINDING = Rebinding(_numpy_names)


def bind_device_numpy(namespace):
    """Rebind the names of ``namespace`` that refer to ``numpy`` to :data:`DEVICE_NUMPY` (counted)."""
    _REBINDING.apply(namespace)


def unbind_device_numpy(namespace):
    """Undo one :func:`bind_device_numpy`; the last one restores ``numpy``."""
    _REBINDING.undo(namespace)


class creating_on:
    """Context manager: while inside, ``numpy``'s creation functions, reached through the
    names of ``namespace`` (a module's globals, or None) that refer to ``numpy``, use
    ``module``. (A class rather than a generator: the tape enters one per traced call.)"""

    __slots__ = ("module", "namespace", "previous")

    def __init__(self, module, namespace):
        self.module = module
        self.namespace = namespace

    def __enter__(self):
        self.previous = set_current_module(self.module)
        if self.namespace is not None:
            bind_device_numpy(self.namespace)

    def __exit__(self, *exc):
        if self.namespace is not None:
            unbind_device_numpy(self.namespace)
        set_current_module(self.previous)
        return False


def call_on_gpu(fun, *args, **kwargs):
    """Call ``fun`` with the names of its module that refer to ``numpy`` creating arrays on the GPU.

    Code compiled for CuPy arguments calls helpers that take no differentiated
    argument (``h = init_state(H, B)``) through this, so that the arrays they
    create land where the model runs.
    """
    import cupy  # lazy: CuPy is optional (GPU only)
    with creating_on(cupy, getattr(fun, "__globals__", None)):
        return fun(*args, **kwargs)
