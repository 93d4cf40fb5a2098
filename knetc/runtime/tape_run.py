"""Running a function on the tape: the namespaces rebound while a trace records.

While a trace is active the tape owns ``rules._TAPE_HOOK`` (so primitives on boxes are
recorded), the ``math`` functions and ``float`` are shimmed (:mod:`knetc.runtime.shims`),
the libraries' functions with rules too (:mod:`knetc.runtime.library_shims`), and ``np``
in the function's module is the device NumPy. :func:`run` calls the function so, and
turns the errors NumPy raises for traced values into knetc's own.
"""
import contextlib
import functools
import inspect
import os
import sys
import threading
import types

import numpy as np

from ..errors import GradientInputError, KnetError, UnsupportedError
from . import creation, library_shims, shims
from . import rules as _rules
from .box import deep_unbox
from .box_record import primitive_hook

_ndarray = np.ndarray
_numpy = sys.modules["numpy"]


# --- activation -----------------------------------------------------------------------

_LOCK = threading.Lock()
_ACTIVE = [0]


def _namespace_of(fun):
    """The globals of the Python function behind ``fun`` (partial, method, callable object)."""
    for _ in range(8):
        space = getattr(fun, "__globals__", None)
        if isinstance(space, dict):
            return space
        if isinstance(fun, functools.partial):
            fun = fun.func
        elif getattr(fun, "__func__", None) is not None:
            fun = fun.__func__
        elif isinstance(getattr(type(fun), "__call__", None), types.FunctionType):
            fun = type(fun).__call__
        else:
            return None
    return None


def _enter(fun):
    with _LOCK:
        _ACTIVE[0] += 1
        if _ACTIVE[0] == 1:
            _rules._TAPE_HOOK[0] = primitive_hook
            shims.patch(shims.MATH_NAMESPACE)
            library_shims.patch_libraries()
            shims.patch(shims.NUMPY_NAMESPACE)
    space = _namespace_of(fun)
    if space is not None:
        shims.patch(space)
        library_shims.patch(space)
    return space


def _exit(space):
    if space is not None:
        shims.unpatch(space)
        library_shims.unpatch(space)
    with _LOCK:
        _ACTIVE[0] -= 1
        if _ACTIVE[0] == 0:
            _rules._TAPE_HOOK[0] = None
            shims.unpatch(shims.MATH_NAMESPACE)
            library_shims.unpatch_libraries()
            shims.unpatch(shims.NUMPY_NAMESPACE)


def _device_scope(space, args, kwargs):
    """``np`` in the traced function's module becomes the device NumPy: with CuPy
    arguments ``np.zeros(...)`` goes to the GPU, and ``np.array([x, y])`` of traced
    values is recorded (NumPy does not dispatch it to the boxes)."""
    if space is not None and space.get("__name__", "").startswith("knetc."):
        space = None      # knetc's own functions (hvp's inner gradient) keep their numpy
    module = _numpy
    if "cupy" in sys.modules:
        module = creation.creation_module(deep_unbox(list(args)), deep_unbox(dict(kwargs or {})))
    if module is not _numpy or space is not None:
        return creation.creating_on(module, space)
    return contextlib.nullcontext()


def _keyword_only(fun, args, kwargs):
    """Values of keyword-only parameters passed in order after the positional ones
    (as ``grad`` binds a call) go back to their names."""
    code = getattr(fun, "__code__", None)
    if (code is None or not code.co_kwonlyargcount or code.co_flags & inspect.CO_VARARGS
            or len(args) <= code.co_argcount or isinstance(fun, types.MethodType)):
        return args, kwargs
    names = code.co_varnames[code.co_argcount:code.co_argcount + code.co_kwonlyargcount]
    extra = args[code.co_argcount:]
    if len(extra) > len(names):
        return args, kwargs
    kwargs = dict(kwargs or {})
    kwargs.update(zip(names, extra))
    return args[:code.co_argcount], kwargs


def run(fun, args, kwargs, trace=None):
    """Call ``fun`` with the tape active; knetc's errors instead of NumPy's for traced values."""
    space = _enter(fun)
    args, kwargs = _keyword_only(fun, args, kwargs)
    try:
        with _device_scope(space, args, kwargs):
            return fun(*args, **kwargs)
    except (ValueError, TypeError, AttributeError) as e:
        _refuse_masked_arrays(e)
        if isinstance(e.__cause__, KnetError) or isinstance(e.__context__, KnetError):
            # NumPy's C code (m.fill(x), y[0] = x into a float array) called __float__ on a
            # traced value, which raised knetc's error; NumPy replaced it with its own
            raise (e.__cause__ if isinstance(e.__cause__, KnetError) else e.__context__) from None
        if (isinstance(e, TypeError) and "'Box'" in str(e)) or "__array__ method not producing an array" in str(e):
            _refuse_box_in_library(e)
        if not isinstance(e, ValueError):
            raise
        if trace is not None and trace.frozen and "read-only" in str(e):
            raise GradientInputError(
                "knetc: an array used in a differentiated operation was then modified in place "
                "(the tape keeps a reference to it, so the gradient would silently change): "
                "assign a new array instead, e.g. a = a + 1 rather than a += 1, "
                "or copy it before the update") from e
        raise
    finally:
        if trace is not None:
            _thaw(trace.frozen)
        _exit(space)


_MASKED = os.sep + os.path.join("numpy", "ma") + os.sep
_LIBRARY_DIRS = (os.path.dirname(_numpy.__file__), os.path.dirname(os.path.dirname(__file__)))


def _user_frame(e, stop=None):
    """``(file, line)`` of the innermost frame of ``e``'s traceback outside NumPy and knetc
    (before the first frame whose file contains ``stop``), and whether ``stop`` was reached."""
    tb, user = e.__traceback__, None
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if stop is not None and stop in name:
            return user, True
        if not name.startswith(_LIBRARY_DIRS):
            user = (name, tb.tb_lineno)
        tb = tb.tb_next
    return user, False


def _refuse_masked_arrays(e):
    """NumPy's masked arrays cannot hold traced values: say so, with the user's line."""
    user, masked = _user_frame(e, _MASKED)
    if masked:
        raise UnsupportedError("numpy.ma (a masked array) of a differentiated value", *(user or (None, None)),
                               detail="knetc does not support masked arrays; use np.where(mask, x, 0.0) "
                                      "or np.sum(x, where=~mask) instead") from e


def _refuse_box_in_library(e):
    """A call that takes only real ndarrays (``np.ndarray.sum(x)``, a C extension) got a
    traced value: knetc's error, with the user's line, instead of a TypeError about a Box."""
    user, _ = _user_frame(e)
    raise UnsupportedError(f"a call that accepts only plain arrays, given a differentiated value ({e})",
                           *(user or (None, None)),
                           detail="on the tape a differentiated value is a knetc Box, not an ndarray: "
                                  "call the NumPy function (np.sum(x)) or the method (x.sum()) instead") from e


def _thaw(frozen):
    """Make frozen arrays writable again; a view waits until its base is."""
    pending = list(reversed(frozen))
    frozen.clear()
    while pending:
        left = []
        for v in pending:
            try:
                v.flags.writeable = True
            except ValueError:
                left.append(v)
        if len(left) == len(pending):
            break           # bases that were read-only to begin with
        pending = left
