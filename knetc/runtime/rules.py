"""The one table of derivative rules, read by the compiler and by the tape.

A rule maps a differentiable callable to one vector-Jacobian product (VJP)
function per positional argument::

    defvjp(np.tanh, lambda g, ans, x: g * (1 - ans * ans))

Each VJP is called as ``vjp(g, ans, *args, **kwargs)``: ``g`` is the adjoint of
the result, ``ans`` the result itself, then the call's own arguments. It
returns the adjoint contribution for its argument, with that argument's shape.
VJPs are written with array operations that work on NumPy and CuPy alike
(``module_of(g)`` gives the right module where a constructor is needed).

A VJP whose body is a single ``return`` expression (or a lambda) is inlined by
the compiler into the generated code, so the rule reads as ordinary Python
there; longer VJPs are called by name.
"""
import functools
import importlib
import sys
import threading

import numpy as _np

from . import gpu_kernels
from .backend import module_of, is_cupy_array
from .tree import zeros_like_tree

_ndarray = _np.ndarray


class Rule:
    """The derivative rule of one callable: its name and per-argument VJPs."""

    __slots__ = ("fun", "name", "vjps", "kwvjps", "gpu_vjps", "keywords", "jvps", "zero_args", "plan")

    def __init__(self, fun, name, vjps, kwvjps, keywords=None):
        self.fun = fun
        self.name = name
        # ZERO_DERIVATIVE in place of a VJP: that argument's derivative is zero. The
        # tape treats it as a constant; compiled code gets zeros from _zero_vjp.
        self.zero_args = frozenset(i for i, v in enumerate(vjps) if v is ZERO_DERIVATIVE)
        self.vjps = tuple(_zero_vjp(i) if v is ZERO_DERIVATIVE else v for i, v in enumerate(vjps))
        self.kwvjps = kwvjps
        self.gpu_vjps = None      # the VJPs for CuPy arrays, when defvjp_gpu gave faster ones
        # The non-differentiated optional arguments the rule models, by name
        # (passed by position or keyword): ("axis", "keepdims"). None: not declared.
        self.keywords = None if keywords is None else tuple(keywords)
        self.jvps = ()            # forward-mode rules given by defjvp (see runtime/jvp_rules.py)
        self.plan = None          # binding.Plan: what the VJPs take, computed when first needed

    def vjp(self, argnum, gpu=False):
        """The VJP for positional argument ``argnum``, or None if it has none.

        With ``gpu=True`` a VJP registered by :func:`defvjp_gpu` is preferred.
        """
        vjps = self.gpu_vjps if gpu and self.gpu_vjps is not None else self.vjps
        return vjps[argnum] if argnum < len(vjps) else None

    def __repr__(self):
        return f"<Rule {self.name}: {len(self.vjps)} argument(s)>"


class _Zero:
    """Stands in :func:`defvjp` for an argument whose derivative is zero (a condition, a shape)."""

    def __repr__(self):
        return "ZERO_DERIVATIVE"


ZERO_DERIVATIVE = _Zero()


def _zero_vjp(argnum):
    """The VJP of an argument declared with ZERO_DERIVATIVE: zeros shaped like it."""
    def zero_vjp(g, ans, *args, **kwargs):
        return zeros_like_tree(args[argnum])
    return zero_vjp

_RULES = {}
_NONDIFF = {}
# Bumped by every registration (defvjp, defvjp_gpu, defnondiff): compiled code
# that inlined rules checks it on each call (knetc/transform/guards.py).
VERSION = [0]


def _key(fun):
    try:
        hash(fun)
        return fun
    except TypeError:
        return id(fun)


def _name_of(fun):
    name = getattr(fun, "__name__", None) or type(fun).__name__
    module = getattr(fun, "__module__", None)
    if module is None and type(fun).__name__ == "ufunc":
        module = "numpy"
    return f"{module}.{name}" if module else name


def defvjp(fun, *vjps, name=None, keywords=None, **kwvjps):
    """Register the VJPs of ``fun``: one per positional argument, None for none.

    A differentiated argument with no VJP (None, or past the last one) is an
    error; ``ZERO_DERIVATIVE`` instead declares that argument's derivative zero.
    Keyword VJPs (``defvjp(f, v0, weight=vw)``) cover arguments that are
    usually passed by name. ``keywords`` names the other optional arguments
    the rule models (``keywords=("axis", "keepdims")``), passed by position
    or by name; any other optional argument a call passes (not None, not its
    default) is refused in both modes (see :mod:`knetc.runtime.binding`).
    Without ``keywords``, the named optional parameters of the VJPs are the
    modelled ones. Returns ``fun`` so it can be used as a decorator helper.
    Registering again replaces the earlier rule.
    """
    _RULES[_key(fun)] = Rule(fun, name or _name_of(fun), tuple(vjps), dict(kwvjps), keywords)
    VERSION[0] += 1
    return fun


def defjvp(fun, *jvps):
    """Register the JVPs of ``fun``, one per positional argument (None for none).

    Each is called as ``jvp(t, ans, *args, **kwargs)``: ``t`` is the tangent
    of that argument, ``ans`` the result; it returns the result's tangent
    contribution. ``fun`` needs a rule first (:func:`defvjp`); where no JVP is
    given, forward mode derives one from the VJP (see
    :mod:`knetc.runtime.jvp_rules`). Returns ``fun``.
    """
    rule = rule_for(fun)
    if rule is None:
        raise ValueError(f"knetc: {_name_of(fun)} has no rule yet: register its VJPs with defvjp first")
    rule.jvps = tuple(jvps)
    return fun


def defvjp_gpu(fun, *vjps):
    """Register faster VJPs of ``fun`` for CuPy arrays (fused kernels), one per argument.

    They compute the same derivative as the VJPs given to :func:`defvjp`,
    which stay the definition (and run on NumPy, on traced values, and where
    this gives None); the GPU tests check that both agree. Compiled code
    specialised for CuPy arguments and the tape on CuPy values use them.
    """
    rule = rule_for(fun)
    if rule is None:
        raise ValueError(f"knetc: {_name_of(fun)} has no rule yet: register its VJPs with defvjp first")
    fast = list(vjps) + [None] * (len(rule.vjps) - len(vjps))
    rule.gpu_vjps = tuple(f if f is not None else v for f, v in zip(fast, rule.vjps))
    VERSION[0] += 1
    return fun


def defnondiff(*funs):
    """Declare callables whose results are constants (shape, argmax, zeros...)."""
    for fun in funs:
        _NONDIFF[_key(fun)] = fun
    VERSION[0] += 1


def rule_for(fun):
    """The :class:`Rule` registered for ``fun``, or None."""
    try:
        rule = _RULES.get(_key(fun))
    except TypeError:
        return None
    if rule is None and _OPTIONAL and "scipy" in sys.modules and any(m in sys.modules for m in _OPTIONAL):
        load_optional_rules()
        return _RULES.get(_key(fun))
    return rule


# The rules of optional libraries, by the library module they need: knetc never
# imports SciPy itself, so each set registers on the first lookup that misses
# once the program has imported its module (and when the tape starts recording).
_OPTIONAL = {
    "scipy.special": "knetc.runtime.rules_scipy_special",
    "scipy.stats": "knetc.runtime.rules_scipy_stats",
    "scipy.linalg": "knetc.runtime.rules_scipy_linalg",
    "scipy.signal": "knetc.runtime.rules_scipy_signal",
    "scipy.integrate": "knetc.runtime.rules_scipy_integrate",
}


def load_optional_rules():
    """Register the rules of the optional libraries the program has imported; True if any."""
    loaded = False
    with _LOADING:      # another thread's lookup waits here until the rules are in
        while True:     # (importing one library may import another)
            ready = [lib for lib in _OPTIONAL if lib in sys.modules and lib not in _IMPORTING]
            if not ready:
                return loaded
            for library in ready:
                _IMPORTING.add(library)   # a lookup while the rules import must not recurse
                try:
                    importlib.import_module(_OPTIONAL[library])
                finally:
                    _IMPORTING.discard(library)
                    _OPTIONAL.pop(library, None)
                loaded = True


_LOADING = threading.RLock()
_IMPORTING = set()


def is_nondiff(fun):
    """True if ``fun`` is declared to give results with no derivative."""
    try:
        return _key(fun) in _NONDIFF
    except TypeError:
        return False


def all_rules():
    """A snapshot of the registered rules (for tests and documentation)."""
    return dict(_RULES)


class Primitive:
    """A user function treated as one differentiable operation.

    Created by :func:`primitive`. Calling it runs the function; the compiler
    never looks inside it, and the tape records it as one node. Give it a
    derivative with ``defvjp(prim, vjp0, vjp1, ...)`` or ``@prim.defvjp``.
    """

    def __init__(self, fun):
        functools.update_wrapper(self, fun)
        self.fun = fun

    def __call__(self, *args, **kwargs):
        hook = _TAPE_HOOK[0]
        if hook is not None:
            return hook(self, args, kwargs)
        return self.fun(*args, **kwargs)

    def defvjp(self, *vjps, keywords=None, **kwvjps):
        """Register this primitive's VJPs (see :func:`defvjp`)."""
        defvjp(self, *vjps, name=_name_of(self.fun), keywords=keywords, **kwvjps)
        return self

    def defjvp(self, *jvps):
        """Register this primitive's JVPs (see :func:`defjvp`)."""
        defjvp(self, *jvps)
        return self

    def __repr__(self):
        return f"<knetc primitive {_name_of(self.fun)}>"

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        return functools.partial(self, obj)


# The tape installs a function here that records primitive calls whose
# arguments are boxed; it returns plain results otherwise.
_TAPE_HOOK = [None]


def primitive(fun):
    """Decorator: make ``fun`` a primitive whose derivative you define.

    Example::

        @knet.primitive
        def logsumexp(x):
            m = np.max(x)
            return m + np.log(np.sum(np.exp(x - m)))

        knet.defvjp(logsumexp, lambda g, ans, x: g * np.exp(x - ans))
    """
    return Primitive(fun)


def unbroadcast(g, x):
    """Sum the adjoint ``g`` down to the shape of ``x`` (undo broadcasting)."""
    if type(g) is _ndarray and type(x) is _ndarray:
        if g.dtype.kind == "c" and x.dtype.kind != "c":
            g = g.real                # a real operand's adjoint is real (see rules_complex)
        shape = x.shape
        if g.shape == shape:
            return g                  # the common case, kept cheap
        gshape = g.shape
        if len(gshape) == len(shape):  # sum over the broadcast axes; the method skips np.sum's wrapper
            axes = []
            for i in range(len(shape)):
                if shape[i] != gshape[i]:
                    if shape[i] != 1:
                        break
                    axes.append(i)
            else:
                return g.sum(axis=tuple(axes), keepdims=True)
    if _is_complex(g) and not _is_complex(x):
        g = _np.real(g)
    shape = getattr(x, "shape", None)
    if shape is None:  # Python scalar
        return _to_scalar(g) if getattr(g, "ndim", 0) or hasattr(g, "shape") else g
    gshape = getattr(g, "shape", ())
    if gshape == shape:
        return g
    if is_cupy_array(g):
        return gpu_kernels.unbroadcast_to(g, shape)      # one reduction kernel
    xp = module_of(g, x)
    if not hasattr(g, "shape"):
        g = xp.asarray(g)
    extra = g.ndim - len(shape)
    if extra > 0:
        g = g.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    if g.shape != shape:
        g = xp.broadcast_to(g, shape)
    return g


def _is_complex(x):
    dtype = getattr(x, "dtype", None)
    return dtype.kind == "c" if dtype is not None else isinstance(x, complex)


def _to_scalar(g):
    total = g.sum()
    return total.item() if hasattr(total, "item") else float(total)

