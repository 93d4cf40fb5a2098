"""The dynamic tape: reverse-mode differentiation by running the function.

The user function runs as ordinary Python on boxed arguments (see
:mod:`knetc.runtime.box`), so any Python construct works -- recursion,
comprehensions, generators, try/except, ``with``, callable objects,
``functools``, builtins ``sum``/``max``/``min``, functions without source.
Each differentiable operation is recorded as a node; the backward pass is one
reverse loop over the node list (:mod:`knetc.runtime.tape_backward`), calling
the VJPs of the rule table (:mod:`knetc.runtime.rules`), the only place where
derivatives are written. This module checks and boxes the arguments, runs the
function, seeds the backward pass and gathers the gradients into the structure
of the arguments.

Higher order: ``value_and_grad`` called inside a differentiated function opens
a higher trace whose backward pass is itself recorded on the outer one, so
gradients of gradients and Hessian-vector products (:func:`hvp`) work.

While a trace is active (:mod:`knetc.runtime.tape_run`), the tape owns ``rules._TAPE_HOOK`` (so
:class:`~knetc.runtime.rules.Primitive` calls on boxes are recorded) and the
``math`` functions and ``float`` are shimmed (see :mod:`knetc.runtime.shims`).

``np.array([x, y])`` of traced values, which NumPy does not dispatch, is
recorded through the ``np`` of the differentiated function's module (bound to
the device NumPy of :mod:`knetc.runtime.creation` while it runs).

What cannot be recorded is an error, never a silently lost gradient:
a callable with no rule (:class:`~knetc.runtime.box_errors.NoRuleError`), and
conversions NumPy does not dispatch -- ``np.array``/``np.asarray`` of traced
values reached other than through that ``np``, item assignment into an array,
``math`` functions or ``float()`` reached outside the module of the
differentiated function (:class:`~knetc.errors.GradientInputError`; see
:mod:`knetc.runtime.convert`).
"""
import functools
import inspect

import numpy as np

from ..errors import GradientInputError
from .backend import module_of, is_array
from . import box_methods  # noqa: F401  (registers Box's method adapters)
from .box import Box, Trace, deep_unbox, deep_value, has_box
from .structure import flatten_one_level, is_record, tree_leaves
from .tree import check_differentiable, grad_children, match_structure
from .tape_backward import backward
from .tape_callers import as_tree, box_tree, containers_copy, restore_callers, snapshot, unbox_tree
from .tape_run import run

_ndarray = np.ndarray

def _argnums(wrt, nargs):
    multi = not isinstance(wrt, (int, np.integer))
    nums = tuple(wrt) if multi else (wrt,)
    out = []
    for i in nums:
        if not isinstance(i, (int, np.integer)) or isinstance(i, bool) or not -nargs <= i < nargs:
            raise GradientInputError(
                f"knetc: cannot differentiate with respect to argument {i!r}: the function was "
                f"called with {nargs} positional argument(s)")
        out.append(int(i) % nargs)
    return tuple(out), multi


def _param_name(fun, i):
    try:
        params = list(inspect.signature(fun).parameters.values())
    except (TypeError, ValueError):
        return None
    if i < len(params) and params[i].kind in (params[i].POSITIONAL_ONLY, params[i].POSITIONAL_OR_KEYWORD):
        return params[i].name
    return None


def _check(fun, args, i):
    a = args[i]
    if has_box(a):
        a = deep_unbox(a)
    try:
        check_differentiable(a, f"argument {i}")
    except GradientInputError:
        name = _param_name(fun, i)
        if name is None:
            raise
        check_differentiable(a, f"argument {i} ({name})")
        raise


# --- gradients with the structure of the arguments -----------------------------------------

class _Gather:
    __slots__ = ("trace", "adj", "seen", "nested")

    def __init__(self, trace, adj, seen):
        self.trace = trace
        self.adj = adj
        self.seen = seen  # ids of arrays handed out: a second use gets a copy
        self.nested = False

    def tree(self, boxed):
        cls = type(boxed)
        if cls is Box:
            if boxed._trace is not self.trace:
                self.nested = True
                return 0.0
            if type(boxed._value) is Box:
                self.nested = True
            g = self.adj[boxed._idx] if self.adj is not None else None
            if g is None:
                return 0.0
            if type(g) is Box:
                self.nested = True
            elif is_array(g):
                if id(g) in self.seen or (type(g) is _ndarray and not g.flags.writeable):
                    g = g.copy()
                self.seen.add(id(g))
            return g
        if isinstance(boxed, dict):
            return {k: self.tree(v) for k, v in boxed.items()}
        if isinstance(boxed, (list, tuple)):
            return [self.tree(v) for v in boxed]
        if is_record(boxed):
            return [self.tree(v) for v in flatten_one_level(boxed)[0]]
        return 0.0


def _finish_nested(grad, like):
    level = flatten_one_level(like)
    if level is not None:
        children, keys, rebuild = level
        return rebuild([_finish_nested(g, v) for g, v in zip(grad_children(grad, like, keys), children)])
    if type(grad) is Box:
        return grad
    return match_structure(grad, deep_value(like))


def _grad_of(boxed, like, trace, adj, seen):
    gather = _Gather(trace, adj, seen)
    grad = gather.tree(boxed)
    if gather.nested:
        return _finish_nested(grad, like)
    return match_structure(grad, like)


def _seed(value):
    """The adjoint that starts the backward pass of a scalar loss (raises otherwise)."""
    d = deep_value(value)
    if type(d) is float or (isinstance(d, int) and not isinstance(d, bool)):
        return 1.0
    if is_array(d) or isinstance(d, (complex, np.complexfloating)):
        if np.iscomplexobj(d):
            raise GradientInputError(
                f"knetc: loss returned a complex value ({np.asarray(d).dtype}), expected a real "
                f"scalar (take np.real, np.abs or np.imag of it)")
    if is_array(d):
        if d.size != 1:
            raise GradientInputError(
                f"knetc: loss returned an array of shape {tuple(d.shape)}, expected a scalar "
                f"(a float or an array with one element)")
        dtype = d.dtype if d.dtype.kind in "fc" else np.float64
        return module_of(d).ones(d.shape, dtype)
    if isinstance(d, np.generic) and d.dtype.kind in "fiuc":
        return d.dtype.type(1) if d.dtype.kind in "fc" else 1.0  # keep float32 float32
    raise GradientInputError(
        f"knetc: loss returned a {type(d).__name__}, expected a scalar "
        f"(a float or an array with one element)")


def _record(fun, args, kwargs, argnums):
    """Check and box the differentiated arguments, then run ``fun`` on a new trace.

    Returns the trace, the input boxes of each differentiated argument and a
    copy of its containers (both with the structure it had before the call),
    and the result; afterwards the caller's containers hold plain values.
    """
    for i in argnums:
        _check(fun, args, i)
    trace = Trace()
    boxed = list(args)
    snaps = {}
    likes = list(args)
    for i in argnums:
        boxed[i] = box_tree(args[i], trace)
        snaps[i] = snapshot(boxed[i])
        likes[i] = containers_copy(args[i])
    out = run(fun, boxed, kwargs, trace)
    restore_callers(fun, args, kwargs, argnums, boxed, snaps, trace)
    inputs = list(args)
    for i in argnums:
        inputs[i] = as_tree(snaps[i])
    return trace, inputs, likes, out


# --- public API ----------------------------------------------------------------------------

def value_and_grad(fun, args, kwargs=None, wrt=0):
    """Run ``fun(*args, **kwargs)`` on the tape; return ``(value, gradient)``.

    ``wrt`` is the index of the differentiated positional argument, or a tuple
    of indices (then the gradient is a tuple, one entry per index). A
    differentiated argument is an array, a float, or lists/tuples/dicts of
    them; its gradient has exactly its structure, with zeros for entries the
    value does not depend on. The value must be a scalar (a float, or an array
    with one element); anything else raises
    :class:`~knetc.errors.GradientInputError`, as do integer arguments.

    ``fun`` may itself call ``value_and_grad`` (gradients of gradients).
    """
    args = tuple(args)
    if kwargs is None:
        kwargs = {}
    argnums, multi = _argnums(wrt, len(args))
    trace, boxed, likes, out = _record(fun, args, kwargs, argnums)
    ours = type(out) is Box and out._trace is trace
    value = out._value if ours else out
    seed = _seed(value)
    adj = backward(trace, ((out._idx, seed),)) if ours else None
    seen = set()
    grads = tuple(_grad_of(boxed[i], likes[i], trace, adj, seen) for i in argnums)
    return value, (grads if multi else grads[0])


def make_vjp(fun, active_argnums):
    """Tape ``fun`` for use from compiled code (mixed mode).

    Returns ``vjp_call(*args, **kwargs) -> (ans, pullback)``: ``ans`` is
    ``fun``'s result (an array, a float, or lists/tuples/dicts of them) and
    ``pullback(g)``, with ``g`` of ``ans``'s structure (None or zeros where
    unused), returns a tuple with one adjoint per positional argument of the
    call: the gradient, shaped like the argument, for the arguments in
    ``active_argnums`` (an int or a tuple of ints), None for the others.
    ``pullback`` may be called more than once.
    """
    if isinstance(active_argnums, (int, np.integer)):
        active_argnums = (active_argnums,)
    active_argnums = tuple(active_argnums)

    def vjp_call(*args, **kwargs):
        active, _ = _argnums(active_argnums, len(args))
        trace, boxed, likes, out = _record(fun, args, kwargs, active)
        ans = unbox_tree(out, trace)

        def pullback(g):
            seeds = []
            _seeds(out, g, trace, seeds)
            adj = backward(trace, seeds) if seeds else None
            seen = {id(seed) for _, seed in seeds}  # never hand the caller's g back
            return tuple(_grad_of(boxed[i], likes[i], trace, adj, seen) if i in active else None
                         for i in range(len(args)))

        return ans, pullback

    functools.update_wrapper(vjp_call, fun, assigned=("__name__", "__qualname__", "__doc__"))
    return vjp_call


def _seeds(out, g, trace, seeds):
    if g is None:
        return
    cls = type(out)
    if cls is Box:
        if out._trace is trace and not (isinstance(g, (int, float)) and g == 0):
            seeds.append((out._idx, g))
    elif isinstance(out, (list, tuple)):
        for o, gi in zip(out, g):
            _seeds(o, gi, trace, seeds)
    elif isinstance(out, dict):
        for k, o in out.items():
            if k in g:
                _seeds(o, g[k], trace, seeds)
    elif is_record(out):
        for o, gi in zip(flatten_one_level(out)[0], flatten_one_level(g)[0] if type(g) is type(out) else g):
            _seeds(o, gi, trace, seeds)


def hvp(fun, args, v, wrt=0, kwargs=None):
    """Hessian-vector product of the scalar function ``fun`` at ``args``, times ``v``.

    ``v`` has the structure of the differentiated argument(s) (a tuple of them
    when ``wrt`` is a tuple); so has the result. Computed as the gradient of
    ``vdot(gradient of fun, v)``, the inner gradient taken on a nested tape.
    """
    def grad_dot_v(*a):
        _, g = value_and_grad(fun, a, kwargs, wrt)
        return _vdot(g, v)

    _, h = value_and_grad(grad_dot_v, args, None, wrt)
    return h


def _vdot(g, v):
    if isinstance(g, dict):
        terms = [_vdot(g[k], v[k]) for k in g]
    elif isinstance(g, (list, tuple)):
        terms = [_vdot(a, b) for a, b in zip(g, v)]
    elif is_record(g):
        terms = [_vdot(a, b) for a, b in zip(tree_leaves(g), tree_leaves(v))]
    else:
        return np.sum(g * v)
    total = 0.0
    for t in terms:
        total = total + t
    return total
