"""Indexing: the rules of ``x[idx]`` and of functional assignment ``x[idx] = v``.

``getitem`` is ``operator.getitem`` itself, so the compiler (which rewrites
``x[i]``) and the tape (``Box.__getitem__``) find the same rule. Its adjoint is
``scatter(x, idx, g)``: zeros shaped like ``x`` with ``g`` added at ``idx``.
``setitem_array(x, idx, v)`` returns a copy of ``x`` with ``x[idx] = v``.

``scatter`` and ``setitem_array`` are primitives with rules of their own (the
adjoint of a scatter is a gather), so gradients of gradients work too.
"""
import numbers
import operator

import numpy as np

from ..errors import UnsupportedError
from .backend import module_of, is_array, is_cupy_array
from .rules import ZERO_DERIVATIVE, defvjp, primitive, unbroadcast
from .tree import zeros_like_tree

getitem = operator.getitem


def _is_basic_index(idx):
    """True for ints, slices, ``...`` and ``None`` (or tuples of them).

    Basic indices never select an element twice, so an adjoint can simply be
    assigned; integer arrays can repeat positions and must accumulate.
    """
    if isinstance(idx, tuple):
        return all(_is_basic_index(i) for i in idx)
    if isinstance(idx, (bool, np.bool_)):
        return False
    return (idx is None or idx is Ellipsis or isinstance(idx, (slice, numbers.Integral)))


def _repeats_possible(idx):
    """False when every array in an advanced index is a boolean mask."""
    parts = idx if isinstance(idx, tuple) else (idx,)
    for part in parts:
        if _is_basic_index(part):
            continue
        if isinstance(part, (bool, np.bool_)):
            continue
        kind = part.dtype.kind if is_array(part) else np.asarray(part).dtype.kind
        if kind != "b":
            return True
    return False


def _scatter_add(out, idx, g):
    """``out[idx] += g`` with repeated indices accumulating (NumPy or CuPy)."""
    if is_cupy_array(out):
        xp = module_of(out)
        if hasattr(xp.add, "at"):
            xp.add.at(out, idx, g)
        else:  # older CuPy
            import cupyx  # lazy: CuPy is optional (GPU only)
            cupyx.scatter_add(out, idx, g)
    else:
        np.add.at(out, idx, g)
    return out


@primitive
def scatter(x, idx, g):
    """Zeros shaped like ``x`` with ``g`` added at ``[idx]``: the adjoint of ``x[idx]``.

    For a list, tuple or dict ``x`` the result is a list (or dict) with ``g``
    at ``idx`` and zeros (``zeros_like_tree``) elsewhere.
    """
    if isinstance(x, dict):
        out = {k: zeros_like_tree(v) for k, v in x.items()}
        out[idx] = g
        return out
    if isinstance(x, (list, tuple)):
        out = [zeros_like_tree(v) for v in x]
        if isinstance(idx, slice):
            for i, gi in zip(range(len(x))[idx], g):
                out[i] = gi
        else:
            out[idx] = g
        return out
    xp = module_of(x, g)
    dtype = x.dtype if is_array(x) and x.dtype.kind in "fc" else getattr(g, "dtype", float)
    if getattr(getattr(g, "dtype", None), "kind", "") == "c" or isinstance(g, complex):
        dtype = np.promote_types(dtype, np.complex64)   # a complex cotangent (forward mode on the tape)
    out = xp.zeros(np.shape(x), dtype=dtype)
    if _is_basic_index(idx) or not _repeats_possible(idx):
        out[idx] = g
        return out
    return _scatter_add(out, idx, g)


@primitive
def setitem_array(x, idx, v):
    """A copy of the array ``x`` with ``[idx]`` set to ``v``; ``x`` is not modified.

    Where an integer-array ``idx`` repeats a position, NumPy keeps the last
    value written there; only that one receives the adjoint (see
    :func:`_setitem_value_vjp`).
    """
    xp = module_of(x)
    if is_array(v) and xp is np and np.may_share_memory(x, v) and _order_matters(x, idx, v):
        raise UnsupportedError(
            "x[idx] = v where v is a view of x that overlaps the elements written", None, None, None,
            "NumPy then writes element by element over what it reads, so the result is not that of "
            "a copy of v; copy the value first (x[idx] = v.copy())")
    out = xp.array(x, copy=True)
    out[idx] = v
    return out


_ID_TYPES = {8: np.int64, 4: np.int32, 2: np.int16, 1: np.int8}


def _root(a):
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def _order_matters(x, idx, v):
    """Whether NumPy's in-place ``x[idx] = v``, with ``v`` a view of ``x``'s memory, differs from
    writing a copy of ``v``: both are run on element ids laid out as ``x``'s buffer (True when
    that cannot be shown)."""
    root = _root(x)
    id_type = _ID_TYPES.get(root.itemsize)
    if _root(v) is not root or id_type is None or root.size >= np.iinfo(id_type).max \
            or not (root.flags.c_contiguous or root.flags.f_contiguous):
        return True
    order = "C" if root.flags.c_contiguous else "F"
    ids = np.arange(root.size, dtype=id_type).reshape(root.shape, order=order)
    ids = np.array(ids, order=order)

    def view(a):
        offset = a.__array_interface__["data"][0] - root.__array_interface__["data"][0]
        return np.ndarray(a.shape, id_type, buffer=ids, offset=offset, strides=a.strides)
    x_ids, v_ids = view(x), view(v)
    copied = x_ids.copy()
    copied[idx] = v_ids.copy()
    x_ids[idx] = v_ids
    return not np.array_equal(copied, x_ids)


def _written_last(x, idx):
    """A mask over ``x[idx]``: True for the writes of ``x[idx] = v`` that are not overwritten.

    The same assignment is run on element ids, so whichever write the array
    library keeps (NumPy: the last) is the one found.
    """
    xp = module_of(x)
    shape = xp.empty(np.shape(x), dtype=np.int8)[idx].shape
    ids = xp.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)
    marks = xp.full(np.shape(x), -1, dtype=np.int64)
    marks[idx] = ids
    return marks[idx] == ids


def _setitem_value_vjp(g, ans, x, idx, v):
    piece = g[idx]
    if not _is_basic_index(idx) and _repeats_possible(idx):
        piece = np.where(_written_last(x, idx), piece, 0.0)
    return unbroadcast(piece, v)


defvjp(operator.getitem, lambda g, ans, x, idx: scatter(x, idx, g), keywords=())
# scatter reads only the shape of x; setitem's index is not differentiable
defvjp(scatter, ZERO_DERIVATIVE, None, lambda g, ans, x, idx, piece: g[idx], keywords=())
defvjp(setitem_array, lambda g, ans, x, idx, v: setitem_array(g, idx, 0.0),
                      None,
                      _setitem_value_vjp,
       keywords=())
