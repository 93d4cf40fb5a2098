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

While a trace is active, the tape owns ``rules._TAPE_HOOK`` (so
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
import contextlib
import functools
import inspect
import operator
import os
import sys
import threading
import types

import numpy as np

from ..errors import GradientInputError, KnetError, UnsupportedError
from . import creation, library_shims, shims
from . import rules as _rules
from .backend import array_module, is_array, is_cupy_array
from .indexing import _is_basic_index
from .box import Box, Trace, deep_unbox, deep_value, has_box, primitive_hook
from .tree import add_grad, check_differentiable, match_structure

__all__ = ["value_and_grad", "make_vjp", "hvp", "backward"]

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
        module = creation.array_module(deep_unbox(list(args)), deep_unbox(dict(kwargs or {})))
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


def _run(fun, args, kwargs, trace=None):
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


def _refuse_masked_arrays(e):
    """NumPy's masked arrays cannot hold traced values: say so, with the user's line."""
    tb, user, masked = e.__traceback__, None, False
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if _MASKED in name:
            masked = True
            break
        if not name.startswith(_LIBRARY_DIRS):
            user = (name, tb.tb_lineno)
        tb = tb.tb_next
    if masked:
        raise UnsupportedError("numpy.ma (a masked array) of a differentiated value", *(user or (None, None)),
                               detail="knetc does not support masked arrays; use np.where(mask, x, 0.0) "
                                      "or np.sum(x, where=~mask) instead") from e


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


# --- parameters --------------------------------------------------------------------------

def _box_tree(x, trace):
    """``x`` with every leaf replaced by an input box of ``trace``."""
    cls = type(x)
    if cls is list:
        return [_box_tree(v, trace) for v in x]
    if cls is tuple:
        return tuple(_box_tree(v, trace) for v in x)
    if cls is dict:
        return {k: _box_tree(v, trace) for k, v in x.items()}
    if isinstance(x, tuple):  # namedtuple
        items = [_box_tree(v, trace) for v in x]
        return cls(*items) if hasattr(cls, "_fields") else cls(items)
    if isinstance(x, (list, dict)):
        return _box_tree(list(x) if isinstance(x, list) else dict(x), trace)
    nodes = trace.nodes
    nodes.append(None)
    return Box(x, trace, len(nodes) - 1)


class _Snapshot:
    """A boxed container as it was handed to the function: the object and its items then."""

    __slots__ = ("obj", "items")

    def __init__(self, obj, items):
        self.obj = obj
        self.items = items


def _snapshot(boxed):
    """The containers of a boxed argument before the call (the boxes themselves are shared).

    The gradient is gathered from this, not from the containers the function
    may have written into (``w[0] = 2 * w[0]`` must not make the adjoint of
    the new value the gradient of the old one).
    """
    cls = type(boxed)
    if cls is dict:
        return _Snapshot(boxed, {k: _snapshot(v) for k, v in boxed.items()})
    if cls is list or isinstance(boxed, tuple):
        return _Snapshot(boxed, [_snapshot(v) for v in boxed])
    return boxed


def _as_tree(snap):
    """The snapshot as plain lists and dicts of the input boxes (for gathering)."""
    if type(snap) is not _Snapshot:
        return snap
    items = snap.items
    if type(items) is dict:
        return {k: _as_tree(v) for k, v in items.items()}
    return [_as_tree(v) for v in items]


def _same(value, snap):
    return value is (snap.obj if type(snap) is _Snapshot else snap)


def _write_back(original, boxed, snap, trace):
    """Give the caller's containers the writes the function made into their boxed copies.

    A gradient call has the side effects of one call of the function, as in
    compiled code: ``w[0] = 2 * w[0]`` or ``hs.append(h)`` on a differentiated
    list leaves the plain values in the caller's list.
    """
    if type(snap) is not _Snapshot:
        return
    items = snap.items
    if isinstance(original, list) and type(boxed) is list:
        kept = [i < len(items) and _same(b, items[i]) for i, b in enumerate(boxed)]
        if len(boxed) != len(items) or not all(kept):
            new = [original[i] if keep else _unbox_tree(b, trace) for i, (b, keep) in enumerate(zip(boxed, kept))]
            original[:] = new
        for i, keep in enumerate(kept):
            if keep:
                _write_back(original[i], boxed[i], items[i], trace)
    elif isinstance(original, dict) and type(boxed) is dict:
        for k in [k for k in original if k not in boxed]:
            del original[k]
        for k, b in boxed.items():
            if k in items and _same(b, items[k]) and k in original:
                _write_back(original[k], b, items[k], trace)
            else:
                original[k] = _unbox_tree(b, trace)
    elif isinstance(original, tuple) and isinstance(boxed, tuple):
        for o, b, sn in zip(original, boxed, items):
            _write_back(o, b, sn, trace)


def _scrub(x, trace, seen):
    """Replace, in place, the boxes of ``trace`` that the function stored in the
    caller's lists and dicts (``s[0] = lstm(...)`` on a state list) by their values."""
    if id(x) in seen:
        return
    cls = type(x)
    if isinstance(x, list):
        seen.add(id(x))
        for i, v in enumerate(x):
            if type(v) is Box:
                if v._trace is trace:
                    x[i] = _unbox_tree(v, trace)
            elif isinstance(v, tuple):
                x[i] = _scrubbed_tuple(v, trace, seen)
            else:
                _scrub(v, trace, seen)
    elif isinstance(x, dict):
        seen.add(id(x))
        for k, v in x.items():
            if type(v) is Box:
                if v._trace is trace:
                    x[k] = _unbox_tree(v, trace)
            elif isinstance(v, tuple):
                x[k] = _scrubbed_tuple(v, trace, seen)
            else:
                _scrub(v, trace, seen)
    elif cls is tuple or isinstance(x, tuple):
        _scrubbed_tuple(x, trace, seen)


def _scrubbed_tuple(t, trace, seen):
    """``t``, or a new tuple of the same type with the boxes of ``trace`` in it (also in
    nested tuples) replaced by their values (``s[0] = (h, c)`` on a state list); the lists
    and dicts in it are scrubbed in place."""
    items, changed = [], False
    for v in t:
        if type(v) is Box and v._trace is trace:
            v, changed = _unbox_tree(v, trace), True
        elif isinstance(v, tuple):
            w = _scrubbed_tuple(v, trace, seen)
            changed, v = changed or w is not v, w
        else:
            _scrub(v, trace, seen)
        items.append(v)
    if not changed:
        return t
    return type(t)(*items) if hasattr(type(t), "_fields") else type(t)(items)


def _restore_callers(fun, args, kwargs, argnums, boxed, snaps, trace):
    """After the run: the caller's containers (the arguments', and those the
    function's closure holds) contain plain values, never boxes of ``trace``."""
    seen = set()
    for i in argnums:
        _write_back(args[i], boxed[i], snaps[i], trace)
    for i, a in enumerate(args):
        if i not in argnums:
            _scrub(a, trace, seen)
    for a in (kwargs or {}).values():
        _scrub(a, trace, seen)
    _scrub_closure(fun, trace, seen, 3)
    _scrub_globals(fun, trace, seen)


def _scrub_globals(fun, trace, seen):
    """Scrub the module-level lists and dicts the function's code names (``SEEN.append(v)``)."""
    code = getattr(fun, "__code__", None)
    space = getattr(fun, "__globals__", None)
    if code is None or not isinstance(space, dict):
        return
    for name in _global_names(code):
        value = space.get(name)
        if type(value) is list or type(value) is dict:
            _scrub(value, trace, seen)


_GLOBAL_NAMES = {}


def _global_names(code):
    """The global names read by ``code`` and the code nested in it (cached)."""
    names = _GLOBAL_NAMES.get(code)
    if names is None:
        found, stack = set(), [code]
        while stack:
            c = stack.pop()
            found.update(c.co_names)
            stack.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
        if len(_GLOBAL_NAMES) > 4096:
            _GLOBAL_NAMES.clear()
        names = _GLOBAL_NAMES[code] = tuple(sorted(found))
    return names


def _scrub_closure(fun, trace, seen, depth):
    """Scrub the lists and dicts in ``fun``'s closure, and in the closures of the
    functions it closes over (``hvp`` wraps the user's function in one)."""
    for cell in getattr(fun, "__closure__", None) or ():
        try:
            contents = cell.cell_contents
        except ValueError:         # an empty cell
            continue
        if isinstance(contents, (list, dict)):
            _scrub(contents, trace, seen)
        elif depth > 1 and isinstance(contents, types.FunctionType) and id(contents) not in seen:
            seen.add(id(contents))
            _scrub_closure(contents, trace, seen, depth - 1)


def _unbox_tree(x, trace):
    """``x`` with the boxes of ``trace`` (at any depth of containers) replaced by their values."""
    cls = type(x)
    if cls is Box:
        return x._value if x._trace is trace else x
    if cls is list:
        return [_unbox_tree(v, trace) for v in x]
    if isinstance(x, tuple):
        items = [_unbox_tree(v, trace) for v in x]
        return cls(*items) if hasattr(cls, "_fields") else tuple(items)
    if cls is dict:
        return {k: _unbox_tree(v, trace) for k, v in x.items()}
    return x


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
        out = array_module(x).zeros(x.shape, dtype=x.dtype)
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
        return 0.0


def _finish_nested(grad, like):
    if isinstance(like, dict):
        return {k: _finish_nested(grad[k] if isinstance(grad, dict) and k in grad else 0.0, v)
                for k, v in like.items()}
    if isinstance(like, (list, tuple)):
        items = [_finish_nested(grad[i] if isinstance(grad, (list, tuple)) and i < len(grad) else 0.0, v)
                 for i, v in enumerate(like)]
        if isinstance(like, list):
            return items
        return type(like)(*items) if hasattr(type(like), "_fields") else tuple(items)
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
        return array_module(d).ones(d.shape, dtype)
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
        boxed[i] = _box_tree(args[i], trace)
        snaps[i] = _snapshot(boxed[i])
        likes[i] = containers_copy(args[i])
    out = _run(fun, boxed, kwargs, trace)
    _restore_callers(fun, args, kwargs, argnums, boxed, snaps, trace)
    inputs = list(args)
    for i in argnums:
        inputs[i] = _as_tree(snaps[i])
    return trace, inputs, likes, out


def containers_copy(x):
    """``x`` with its lists, tuples and dicts copied (the leaves shared)."""
    cls = type(x)
    if cls is list:
        return [containers_copy(v) for v in x]
    if cls is dict:
        return {k: containers_copy(v) for k, v in x.items()}
    if isinstance(x, tuple):
        items = [containers_copy(v) for v in x]
        return cls(*items) if hasattr(cls, "_fields") else cls(items)
    if isinstance(x, (list, dict)):
        return containers_copy(list(x) if isinstance(x, list) else dict(x))
    return x


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
        ans = _unbox_tree(out, trace)

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
    else:
        return np.sum(g * v)
    total = 0.0
    for t in terms:
        total = total + t
    return total
