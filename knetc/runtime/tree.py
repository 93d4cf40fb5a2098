"""Parameter structures: arrays and floats nested in lists, tuples and dicts.

Gradients have exactly the structure of the argument they belong to. While a
gradient is being accumulated, containers are held as lists (for lists and
tuples) and dicts, so that entries can be added in place; ``match_structure``
gives the final value the argument's own container types.
"""
import numbers

import numpy as np

from ..errors import GradientInputError
from .backend import array_module, is_array

class _Zero:
    """The adjoint of a container slot nothing has reached yet.

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


def zero_slots(x):
    """An adjoint container for ``x`` whose slots start as ``ZERO`` (nothing allocated)."""
    if isinstance(x, dict):
        return dict.fromkeys(x, ZERO)
    return [ZERO] * len(x)


def zeros_like_tree(x):
    """Zeros with the structure of ``x`` (arrays keep shape and float dtype).

    Containers come back mutable (list for list and tuple) for accumulation.
    Values that cannot carry a gradient (ints, strings, None) give 0.0.
    """
    if is_array(x):
        if x.dtype.kind in "fc":
            return array_module(x).zeros_like(x)
        return array_module(x).zeros(x.shape)
    if isinstance(x, dict):
        return {k: zeros_like_tree(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [zeros_like_tree(v) for v in x]
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
    if a is ZERO or a is None:
        return b
    if b is ZERO or b is None:
        return a
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return [add_grad(x, y) for x, y in zip(a, b)]
    if isinstance(a, dict) and isinstance(b, dict):
        out = dict(a)
        for k, v in b.items():
            out[k] = add_grad(out[k], v) if k in out else v
        return out
    return a + b


def add_at(container, key, value):
    """Accumulate ``value`` into ``container[key]`` in place; returns the container."""
    container[key] = add_grad(container[key], value)
    return container


def match_structure(grad, like):
    """Give ``grad`` the container types and leaf kinds of ``like``.

    Array leaves become arrays of ``like``'s shape (zeros where no gradient
    reached them); float leaves become Python floats.
    """
    if grad is ZERO or grad is None:
        grad = 0.0
    if isinstance(like, dict):
        return {k: match_structure(grad[k] if isinstance(grad, dict) and k in grad else 0.0, v)
                for k, v in like.items()}
    if isinstance(like, (list, tuple)):
        items = [match_structure(grad[i] if isinstance(grad, (list, tuple)) and i < len(grad) else 0.0, v)
                 for i, v in enumerate(like)]
        return items if isinstance(like, list) else type(like)(*items) if _is_namedtuple(like) else tuple(items)
    if type(like) is np.ndarray and type(grad) is np.ndarray and grad.shape == like.shape \
            and grad.dtype == like.dtype:
        return grad
    if is_array(like):
        xp = array_module(like)
        if is_array(grad):
            if grad.shape != like.shape:
                grad = xp.broadcast_to(grad, like.shape)
            return grad.astype(like.dtype, copy=False) if grad.dtype != like.dtype else grad
        return xp.full(like.shape, grad, dtype=like.dtype)
    if is_array(grad) or isinstance(grad, np.generic):
        return float(grad.sum()) if getattr(grad, "ndim", 0) else float(grad)
    return float(grad)


def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def check_differentiable(x, argname="argument", path=""):
    """Raise :class:`GradientInputError` if ``x`` holds non-float leaves.

    A gradient with respect to an integer would silently be zero, so it is an
    error that names the argument and where inside it the integer sits.
    """
    if isinstance(x, dict):
        for k, v in x.items():
            check_differentiable(v, argname, f"{path}[{k!r}]")
        return
    if isinstance(x, (list, tuple)):
        for i, v in enumerate(x):
            check_differentiable(v, argname, f"{path}[{i}]")
        return
    where = f"{argname}{path}"
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
        f"{type(x).__name__} are not supported (use arrays, floats, lists, tuples or dicts)")


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
    """'list', 'tuple', 'dict', 'array' (arrays and numbers) or 'other'."""
    if isinstance(x, list):
        return "list"
    if isinstance(x, tuple):
        return "tuple"
    if isinstance(x, dict):
        return "dict"
    if is_array(x) or isinstance(x, numbers.Number):
        return "array"
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
    if isinstance(out, (list, tuple)):
        if not isinstance(grad, (list, tuple)) or len(grad) != len(out):
            raise GradientInputError(f"knetc: {path} has {len(out)} entries, "
                                     f"but the gradient has {_shape_text(grad)}")
        for i, (o, g) in enumerate(zip(out, grad)):
            write_into(o, g, accumulate, f"{path}[{i}]")
        return out
    if not is_array(out) or not is_array(grad) or out.shape != grad.shape:
        raise GradientInputError(f"knetc: {path} must be an array of shape {getattr(grad, 'shape', ())} "
                                 f"to receive the gradient, not {_shape_text(out)}")
    if array_module(out) is not array_module(grad):
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


# --- flatten / unflatten (after JAX's tree_util) -----------------------------------------
_REGISTERED = {}


def register_tree(cls, flatten, unflatten):
    """Let values of ``cls`` be containers: ``flatten(x) -> (children, meta)`` and
    ``unflatten(meta, children) -> x`` (``meta`` must compare with ==)."""
    _REGISTERED[cls] = (flatten, unflatten)


class TreeSpec:
    """The shape of a structure without its leaves (compares with ==)."""

    __slots__ = ("kind", "meta", "children")

    def __init__(self, kind, meta, children):
        self.kind, self.meta, self.children = kind, meta, tuple(children)

    def __eq__(self, other):
        return (isinstance(other, TreeSpec) and self.kind == other.kind and self.meta == other.meta
                and self.children == other.children)

    def __hash__(self):
        return hash((self.kind, self.children))

    def __repr__(self):
        if self.kind == "leaf":
            return "*"
        return f"{getattr(self.kind, '__name__', self.kind)}({', '.join(map(repr, self.children))})"


_LEAF = TreeSpec("leaf", None, ())


def tree_flatten(x):
    """``(leaves, spec)``: the leaves of ``x`` in order and its structure.

    Lists, tuples, namedtuples, dicts (in key order) and registered classes
    are containers; everything else (arrays, floats, None) is a leaf.
    """
    leaves = []
    return leaves, _flatten(x, leaves)


def _flatten(x, leaves):
    cls = type(x)
    if cls in _REGISTERED:
        children, meta = _REGISTERED[cls][0](x)
        return TreeSpec(cls, meta, [_flatten(c, leaves) for c in children])
    if isinstance(x, dict):
        keys = tuple(x)
        return TreeSpec(dict, keys, [_flatten(x[k], leaves) for k in keys])
    if isinstance(x, (list, tuple)):
        kind = cls if _is_namedtuple(x) else (list if isinstance(x, list) else tuple)
        return TreeSpec(kind, len(x), [_flatten(v, leaves) for v in x])
    leaves.append(x)
    return _LEAF


def tree_unflatten(spec, leaves):
    """The structure ``spec`` with ``leaves`` (any iterable) filled in."""
    return _unflatten(spec, iter(leaves))


def _unflatten(spec, it):
    if spec.kind == "leaf":
        return next(it)
    children = [_unflatten(c, it) for c in spec.children]
    if spec.kind is dict:
        return dict(zip(spec.meta, children))
    if spec.kind is list:
        return children
    if spec.kind is tuple:
        return tuple(children)
    if spec.kind in _REGISTERED:
        return _REGISTERED[spec.kind][1](spec.meta, children)
    return spec.kind(*children)          # a namedtuple


def tree_map(fun, tree, *rest):
    """``fun`` applied to each leaf of ``tree`` (and the matching leaves of ``rest``)."""
    leaves, spec = tree_flatten(tree)
    others = [tree_flatten(r)[0] for r in rest]
    return tree_unflatten(spec, [fun(*args) for args in zip(leaves, *others)])
