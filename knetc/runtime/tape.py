"""The dynamic tape: reverse-mode differentiation by running the function.

The user function runs as ordinary Python on boxed arguments (see
:mod:`knetc.runtime.box`), so any Python construct works -- recursion,
comprehensions, generators, try/except, ``with``, callable objects,
``functools``, builtins ``sum``/``max``/``min``, functions without source.
Each differentiable operation is recorded as a node; the backward pass is one
reverse loop over the node list, calling the VJPs of the rule table
(:mod:`knetc.runtime.rules`), the only place where derivatives are written.

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
a callable with no rule (:class:`~knetc.runtime.box.NoRuleError`), and
conversions NumPy does not dispatch -- ``np.array``/``np.asarray`` of traced
values reached other than through that ``np``, item assignment into an array,
``math`` functions or ``float()`` reached outside the module of the
differentiated function (:class:`~knetc.errors.GradientInputError`; see
:mod:`knetc.runtime.convert`).
"""
import functools
import inspect
import operator
import sys

import numpy as np

from ..errors import GradientInputError
from . import rules as _rules
from .backend import module_of, is_array, is_cupy_array
from .indexing import _is_basic_index
from . import box_methods  # noqa: F401  (registers Box's method adapters)
from .box import Box, Trace, deep_unbox, deep_value, has_box
from .structure import flatten_one_level, is_record, tree_leaves
from .tree import add_grad, check_differentiable, grad_children, match_structure
from .tape_callers import as_tree, box_tree, containers_copy, restore_callers, snapshot, unbox_tree
from .tape_run import run

_ndarray = np.ndarray
_numpy = sys.modules["numpy"]

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


# --- the backward pass ----------------------------------------------------------------

def backward(trace, seeds):
    """Adjoints of the nodes of ``trace``, given ``seeds``: pairs (node index, adjoint).

    Returns a list indexed by node; entries of inputs (leaves) are kept, the
    others are released once used. Adjoints summed from several uses are
    accumulated in place into arrays the pass allocated itself; an adjoint is
    brought to its value's float precision before it is used.
    """
    nodes = trace.nodes
    adj = [None] * len(nodes)
    owned = set()
    start = -1
    for idx, g in seeds:
        _accumulate(adj, owned, idx, g)
        if idx > start:
            start = idx
    ndarray = _ndarray
    for i in range(start, -1, -1):
        g = adj[i]
        if g is None:
            continue
        node = nodes[i]
        if node is None:  # an input: keep its adjoint
            continue
        adj[i] = None
        rule, ans, args, kwargs, parents = node
        if type(g) is ndarray and type(ans) is ndarray and g.dtype is not ans.dtype:
            g = _same_precision(g, ans)
        if rule is _GETITEM and _slice_into(adj, owned, g, args, parents):
            continue
        vjps = rule.gpu_vjps if rule.gpu_vjps is not None and is_cupy_array(g) else rule.vjps
        for argnum, p in parents:
            vjp = vjps[argnum] if type(argnum) is int else rule.kwvjps[argnum]
            c = vjp(g, ans, *args, **kwargs) if kwargs else vjp(g, ans, *args)
            if c is None:
                continue
            if type(p) is int:
                old = adj[p]
                if old is None:
                    adj[p] = c
                elif (type(old) is ndarray and type(c) is ndarray and p in owned
                      and old.shape == c.shape and old.dtype == c.dtype):
                    old += c
                else:
                    _accumulate(adj, owned, p, c)
            else:
                for path, q in p:
                    piece = c
                    for k in path:
                        piece = piece[k]
                    _accumulate(adj, owned, q, piece)
    return adj


_GETITEM = _rules.rule_for(operator.getitem)


def _slice_into(adj, owned, g, args, parents):
    """The adjoint of ``x[idx]`` for a basic index: written into a view of x's adjoint.

    The first read allocates x's adjoint (zeros, then ``[idx] = g``); later
    reads add ``g`` into ``adj[idx]`` in place, so reading slices of an array
    (the gates of an LSTM) costs no full-size temporary per read. Returns
    False where the general rule must run (traced adjoints, containers,
    advanced indices, an adjoint the pass does not own).
    """
    x, idx = args
    if len(parents) != 1 or parents[0][0] != 0 or not is_array(x) or not is_array(g) \
            or x.dtype.kind not in "fc" or not _is_basic_index(idx):
        return False
    p = parents[0][1]
    if type(p) is not int:
        return False
    old = adj[p]
    if old is None:
        out = module_of(x).zeros(x.shape, dtype=x.dtype)
        out[idx] = g
        adj[p] = out
        owned.add(p)
        return True
    if p in owned and is_array(old) and old.shape == x.shape and old.dtype == x.dtype:
        old[idx] += g
        return True
    return False


def _same_precision(g, ans):
    """``g`` in ``ans``'s float dtype: a rule that promoted a float32 adjoint to
    float64 would otherwise make every later product mixed-precision (and NumPy
    runs mixed float32/float64 matmuls without BLAS, some 40 times slower)."""
    if g.dtype != ans.dtype and g.dtype.kind == "f" and ans.dtype.kind == "f":
        return g.astype(ans.dtype)
    return g


def _accumulate(adj, owned, p, c):
    if c is None:
        return
    old = adj[p]
    if old is None:
        adj[p] = c
        return
    if (p in owned and type(old) is _ndarray and type(c) is _ndarray
            and old.shape == c.shape and old.dtype == c.dtype):
        old += c
        return
    if type(old) in (list, tuple, dict):
        new = add_grad(old, c)
    else:
        new = old + c
    adj[p] = new
    if type(new) is _ndarray:
        owned.add(p)


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
