"""Parameter structures as gradients see them: zeros, sums, the argument's own types.

Gradients have exactly the structure of the argument they belong to. The
structure itself (what is a node, what is a leaf, paths, registration) is
:mod:`knetc.runtime.structure`; this module is what gradients need on top.

**Zero.** There is one symbolic zero, :data:`ZERO`: "no adjoint has reached
this value yet". ``is_zero(g)`` is true for it and for ``None``, which
pullbacks return for arguments nobody asked about (``None`` stays in that
role: "not requested" is not "requested and zero" at the API, where a
``None`` entry tells a caller no gradient was computed). The other spellings
are *materialised* zeros, kept because they differ in what they allocate:

* ``zero_slots(x)``: a container adjoint whose slots are ``ZERO`` (nothing allocated);
* ``zeros_like_tree(x)`` (public as ``knet.zeros_like``): real zero arrays,
  writable, for buffers and for adjoints accumulated in place;
* ``zeros_view(x)``: a read-only zero view (no allocation) for an adjoint only read;
* ``0.0`` as a leaf of ``match_structure``'s input: a float zero, broadcast to
  the leaf's shape when the gradient is finished.

While a gradient is being accumulated, list and tuple (and namedtuple)
adjoints are lists and dict adjoints dicts, so entries can be added in place;
the adjoint of a dataclass or registered-class value is either a value of its
class or a *sparse record adjoint*: a dict from child position to adjoint,
holding only the fields reached. ``match_structure`` gives the final value the
argument's own container types (the same class for records).
"""
import dataclasses
import numbers

import numpy as np

from ..errors import GradientInputError, KnetError
from .backend import module_of, is_array
from .structure import (_REGISTERED, STATIC_TYPES, GetAttrKey, TreeSpec, open_node,  # noqa: F401
                        flatten_one_level, is_namedtuple, is_record, keystr, register_tree, static_fields,
                        tree_flatten, tree_flatten_with_path, tree_leaves, tree_leaves_with_path, tree_map,
                        tree_structure, tree_unflatten)


class _Zero:
    """The adjoint of a value nothing has reached yet (the one symbolic zero).

    Only addition is defined (``ZERO + g`` is ``g``), so a slot that was
    never written cannot be used by mistake as a real value.
    """

    __slots__ = ()

    def __add__(self, other):
        return other

    __radd__ = __add__

    def __repr__(self):
        return "ZERO"


ZERO = _Zero()


def is_zero(g):
    """True for the symbolic zero ``ZERO`` and for ``None`` (no adjoint)."""
    return g is ZERO or g is None


def _is_plain_record(x):
    """A dataclass or registered-class value (a record that is not a tuple)."""
    return is_record(x) and not isinstance(x, tuple)


def zero_slots(x):
    """An adjoint container for ``x`` whose slots start as ``ZERO`` (nothing allocated)."""
    if type(x) is list:             # the common case first: this runs in every pullback
        return [ZERO] * len(x)
    if isinstance(x, dict):
        return dict.fromkeys(x, ZERO)
    if _is_plain_record(x):
        return {}                   # a sparse record adjoint: no field reached yet
    return [ZERO] * len(x)


def zeros_like_tree(x):
    """Zeros with the structure of ``x`` (arrays keep shape and float dtype).

    Lists and tuples come back as lists, dicts as dicts (mutable, for
    accumulation); dataclasses and registered classes as their own class.
    Values that cannot carry a gradient (ints, strings, None) give 0.0.
    """
    if is_array(x):
        if x.dtype.kind in "fc":
            return module_of(x).zeros_like(x)
        return module_of(x).zeros(x.shape)
    if isinstance(x, dict):
        return {k: zeros_like_tree(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [zeros_like_tree(v) for v in x]
    level = flatten_one_level(x)
    if level is not None:
        return level[2]([zeros_like_tree(c) for c in level[0]])
    return 0.0


_ZERO_BUFFERS = {}


def zeros_view(x):
    """Zeros shaped like ``x`` without allocating them: a read-only NumPy view.

    For an adjoint that is never returned and only read (the adjoint of a data
    argument's entry value); other values get ``zeros_like_tree``.
    """
    if type(x) is np.ndarray and x.dtype.kind == "f":
        buffer = _ZERO_BUFFERS.get(x.dtype)
        if buffer is None:
            buffer = np.zeros(1, x.dtype)
            buffer.setflags(write=False)
            _ZERO_BUFFERS[x.dtype] = buffer
        return np.ndarray(x.shape, x.dtype, buffer, 0, (0,) * x.ndim)
    return zeros_like_tree(x)


def add_grad(a, b):
    """Add two adjoints of the same value; works on arrays, floats and containers."""
    if is_zero(a):
        return b
    if is_zero(b):
        return a
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return [add_grad(x, y) for x, y in zip(a, b)]
    if isinstance(a, dict) and isinstance(b, dict):
        out = dict(a)
        for k, v in b.items():
            out[k] = add_grad(out[k], v) if k in out else v
        return out
    if _is_plain_record(a) or _is_plain_record(b):
        return _add_records(a, b)
    return a + b


def _add_records(a, b):
    """A record adjoint plus a record adjoint or a sparse one (dict: position -> adjoint)."""
    record = a if _is_plain_record(a) else b
    children, _, rebuild = flatten_one_level(record)
    other = b if record is a else a
    if isinstance(other, dict):
        extra = [other.get(i, ZERO) for i in range(len(children))]
    else:
        extra = flatten_one_level(other)[0]
    return rebuild([add_grad(x, y) for x, y in zip(children, extra)])


def add_at(container, key, value):
    """Accumulate ``value`` into ``container[key]`` in place; returns the container."""
    container[key] = add_grad(container[key], value)
    return container


def field_position(record, name):
    """The child position of ``record.name``, or None for a constant (a static field).

    Raises :class:`~knetc.errors.KnetError` for an attribute that is not a
    field (a property, a method, a value a registered flatten leaves out).
    """
    children, keys, _ = flatten_one_level(record)
    for i, k in enumerate(keys):
        if type(k) is GetAttrKey and k.idx == name:
            return i
    if dataclasses.is_dataclass(record) and name in static_fields(record):
        return None
    if type(record) in _REGISTERED:
        value = getattr(record, name)
        hits = [i for i, c in enumerate(children) if c is value]
        if len(hits) == 1:
            return hits[0]
        if not hits and isinstance(value, STATIC_TYPES):
            return None
        if len(hits) > 1:
            raise KnetError(f"knetc: cannot tell which child of {type(record).__name__} .{name} is: "
                            f"children {hits} are the same object (compiled code finds a registered "
                            "class's fields by identity); use mode='tape', or pass distinct arrays")
    raise KnetError(f"knetc: cannot differentiate {type(record).__name__}.{name}: it is not one of the "
                    f"fields knetc differentiates for {type(record).__name__} (its tree children); "
                    "read the fields themselves, or register the class with knet.register_tree")


def match_structure(grad, like):
    """Give ``grad`` the container types and leaf kinds of ``like``.

    Array leaves become arrays of ``like``'s shape (zeros where no gradient
    reached them); float leaves become Python floats; records come back as
    their own class (a dataclass's static fields keep ``like``'s values).
    """
    if type(like) is np.ndarray and type(grad) is np.ndarray and grad.shape == like.shape \
            and grad.dtype == like.dtype:
        return grad
    if is_zero(grad):
        grad = 0.0
    node = open_node(like)
    if node is not None:
        kind, children, rebuild, meta, _ = node
        parts = _child_grads(grad, like, kind, children, meta)
        return rebuild([match_structure(g, c) for g, c in zip(parts, children)])
    if is_array(like):
        xp = module_of(like)
        if is_array(grad):
            if grad.shape != like.shape:
                grad = xp.broadcast_to(grad, like.shape)
            return grad.astype(like.dtype, copy=False) if grad.dtype != like.dtype else grad
        return xp.full(like.shape, grad, dtype=like.dtype)
    if is_array(grad) or isinstance(grad, np.generic):
        return float(grad.sum()) if getattr(grad, "ndim", 0) else float(grad)
    return float(grad)


def grad_children(grad, like, keys):
    """The adjoints of ``like``'s children inside the (partial) adjoint ``grad``."""
    kind, children, _, meta, _ = open_node(like)
    return _child_grads(grad, like, kind, children, meta)


def _child_grads(grad, like, kind, children, meta):
    n = len(children)
    if kind is dict:
        return [grad.get(k, 0.0) for k in meta] if isinstance(grad, dict) else [0.0] * n
    if kind is list or kind is tuple or isinstance(like, tuple):
        if isinstance(grad, (list, tuple)):
            return [grad[i] if i < len(grad) else 0.0 for i in range(n)]
        return [0.0] * n
    if isinstance(grad, dict):                  # a sparse record adjoint
        return [grad.get(i, 0.0) for i in range(n)]
    if type(grad) in (list, tuple):             # gathered by position (the tape)
        return [grad[i] if i < len(grad) else 0.0 for i in range(n)]
    if type(grad) is type(like):
        return flatten_one_level(grad)[0]
    return [0.0] * n


def check_differentiable(x, argname="argument", path=""):
    """Raise :class:`GradientInputError` if ``x`` holds non-float leaves.

    A gradient with respect to an integer would silently be zero, so it is an
    error that names the argument and where inside it the integer sits.
    A dataclass's static fields (ints, strings) are constants, not leaves.
    """
    if all(_fine_leaf(leaf) for leaf in tree_leaves(x)):
        return                      # the common case: no paths to build
    for where, leaf in tree_leaves_with_path(x):
        _check_leaf(leaf, f"{argname}{path}{keystr(where)}")


def _fine_leaf(x):
    """A real float array or a float: a leaf _check_leaf lets through."""
    if type(x) is np.ndarray:
        return x.dtype.kind == "f"
    return type(x) is float


def _check_leaf(x, where):
    if is_array(x):
        if x.dtype.kind == "c":
            raise GradientInputError(
                f"knetc: cannot differentiate with respect to {where}: it is a complex array; "
                f"knetc differentiates real inputs (complex values may appear in between): "
                f"pass the real and imaginary parts as two float arrays")
        if x.dtype.kind not in "fc":
            raise GradientInputError(
                f"knetc: cannot differentiate with respect to {where}: it is an integer array "
                f"(dtype {x.dtype}), not floating point (use e.g. x.astype(np.float64))")
        return
    if isinstance(x, (bool, np.bool_)) or (isinstance(x, numbers.Integral)):
        raise GradientInputError(
            f"knetc: cannot differentiate with respect to {where}: it is an integer ({x!r}); "
            f"pass a float such as {float(x)!r}")
    if isinstance(x, numbers.Real) or isinstance(x, np.floating):
        return
    raise GradientInputError(
        f"knetc: cannot differentiate with respect to {where}: values of type "
        f"{type(x).__name__} are not supported (use arrays, floats, lists, tuples, dicts, "
        f"namedtuples, dataclasses or classes registered with knet.register_tree)")


def call_signature(args):
    """A cheap key of the arguments' kinds and dtypes, or None (then use the slow path).

    Arrays give their dtype, flat lists and tuples their type and their
    elements' dtypes or types, floats and ints their type. Equal keys mean
    equal structures (container types and keys) and equal differentiability checks.
    """
    sig = []
    for v in args:
        t = type(v)
        if t is np.ndarray:
            sig.append(v.dtype)
        elif t is list or t is tuple:
            inner = [t]
            for e in v:
                te = type(e)
                if te is np.ndarray:
                    inner.append(e.dtype)
                elif te is float or te is int:
                    inner.append(te)
                else:
                    return None
            sig.append(tuple(inner))
        elif t is float or t is int:
            sig.append(t)
        else:
            return None
    return tuple(sig)


def kind_of(x):
    """'list', 'tuple', 'dict', 'array' (arrays and numbers), 'record' (a dataclass or
    registered-class value; namedtuples are tuples) or 'other'."""
    if isinstance(x, list):
        return "list"
    if isinstance(x, tuple):
        return "tuple"
    if isinstance(x, dict):
        return "dict"
    if is_array(x) or isinstance(x, numbers.Number):
        return "array"
    if is_record(x):
        return "record"
    return "other"


def write_into(out, grad, accumulate=False, path="out"):
    """Store ``grad`` into the preallocated structure ``out`` (same containers, array leaves).

    Each array leaf of ``out`` receives the matching leaf of ``grad`` in place
    (``out[...] = g``, or ``out += g`` with ``accumulate``), so the caller's
    gradient buffers are reused from call to call. Returns ``out``. A leaf that
    is not an array of the gradient's shape, or a container that differs, is
    a :class:`~knetc.errors.GradientInputError` naming where.
    """
    if isinstance(out, dict):
        if not isinstance(grad, dict) or set(grad) != set(out):
            raise GradientInputError(f"knetc: {path} is a dict with keys {sorted(map(str, out))}, "
                                     f"but the gradient has {_shape_text(grad)}")
        for k in out:
            write_into(out[k], grad[k], accumulate, f"{path}[{k!r}]")
        return out
    if isinstance(out, (list, tuple)) and not is_namedtuple(out):
        if not isinstance(grad, (list, tuple)) or len(grad) != len(out):
            raise GradientInputError(f"knetc: {path} has {len(out)} entries, "
                                     f"but the gradient has {_shape_text(grad)}")
        for i, (o, g) in enumerate(zip(out, grad)):
            write_into(o, g, accumulate, f"{path}[{i}]")
        return out
    if is_record(out):
        if type(grad) is not type(out) and not (is_namedtuple(out) and type(grad) in (list, tuple)):
            raise GradientInputError(f"knetc: {path} is a {type(out).__name__}, "
                                     f"but the gradient has {_shape_text(grad)}")
        children, keys, _ = flatten_one_level(out)
        grads = list(grad) if type(grad) in (list, tuple) else flatten_one_level(grad)[0]
        for k, o, g in zip(keys, children, grads):
            write_into(o, g, accumulate, f"{path}{k}")
        return out
    if not is_array(out) or not is_array(grad) or out.shape != grad.shape:
        raise GradientInputError(f"knetc: {path} must be an array of shape {getattr(grad, 'shape', ())} "
                                 f"to receive the gradient, not {_shape_text(out)}")
    if module_of(out) is not module_of(grad):
        raise GradientInputError(f"knetc: {path} is on another device than the gradient "
                                 "(allocate the buffers like the parameters, e.g. knetc.zeros_like(w))")
    if accumulate:
        out += grad
    else:
        out[...] = grad
    return out


def _shape_text(x):
    if isinstance(x, dict):
        return f"a dict with keys {sorted(map(str, x))}"
    if isinstance(x, (list, tuple)):
        return f"a {type(x).__name__} of {len(x)}"
    if is_array(x):
        return f"an array of shape {tuple(x.shape)}"
    return type(x).__name__


