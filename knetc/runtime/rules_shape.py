"""Derivative rules of NumPy's reordering, stacking, splitting and insertion functions.

Every function here moves, copies or drops elements, so each adjoint puts
``g`` back where the elements came from (summing copies). Choices where the
derivative is not defined: ``sort`` and ``partition`` send each adjoint to the
element a stable sort puts there (equal values: the earlier one first);
``put_along_axis`` (knetc's functional form, see below) gives the written
positions of ``arr`` a zero adjoint and, where indices repeat, the adjoint
to the value NumPy actually kept.
"""
import numbers

import numpy as np

from .backend import module_of
from .indexing import scatter
from .numpy_rules import _along, _diagonal_adjoint, _inverse_perm, _split_like, _split_vjp
from .rules import defvjp, primitive, rule_for, unbroadcast

# Functions of any number of arrays get one VJP per position up to this many.
_MAX_ARGS = 32


# --- reordering --------------------------------------------------------------------------
def _tile_vjp(g, ans, A, reps):
    reps = (reps,) if isinstance(reps, numbers.Integral) else tuple(reps)
    d = max(np.ndim(A), len(reps))
    shape = (1,) * (d - np.ndim(A)) + np.shape(A)
    reps = (1,) * (d - len(reps)) + reps
    # ans's axis i holds reps[i] copies of A's axis i: split it in two and sum the copies
    split = tuple(n for pair in zip(reps, shape) for n in pair)
    copies = np.sum(np.reshape(g, split), axis=tuple(range(0, 2 * d, 2)))
    return unbroadcast(np.reshape(copies, np.shape(A)), A)


defvjp(np.tile, _tile_vjp, keywords=("reps",))
defvjp(np.roll, lambda g, ans, a, shift, axis=None: np.roll(g, np.negative(shift), axis),
       keywords=("shift", "axis"))
defvjp(np.rot90, lambda g, ans, m, k=1, axes=(0, 1): np.rot90(g, -k, axes), keywords=("k", "axes"))
defvjp(np.flipud, lambda g, ans, m: np.flipud(g), keywords=())
defvjp(np.fliplr, lambda g, ans, m: np.fliplr(g), keywords=())


def _rollaxis_perm(ndim, axis, start):
    """The axes ``np.rollaxis(a, axis, start)`` transposes ``a`` to (as NumPy computes them)."""
    axis %= ndim
    start = start + ndim if start < 0 else start
    if axis < start:
        start -= 1
    axes = [i for i in range(ndim) if i != axis]
    axes.insert(start, axis)
    return tuple(axes)


defvjp(np.rollaxis, lambda g, ans, a, axis, start=0:
       np.transpose(g, _inverse_perm(_rollaxis_perm(np.ndim(a), axis, start), np.ndim(a))),
       keywords=("axis", "start"))


def _unsort(g, a, axis):
    """``g`` given back to the elements of ``a`` in the order ``np.sort`` (stable) put them."""
    perm = np.argsort(a, axis=axis, kind="stable")
    return np.take_along_axis(g, np.argsort(perm, axis=axis), axis=axis)


def _sort_vjp(g, ans, a, axis=-1, kind=None, order=None, *, stable=None):
    if axis is None:
        return np.reshape(_unsort(g, np.ravel(a), 0), np.shape(a))
    return _unsort(g, a, axis)


def _partition_adjoint(g, a, ans, axis):
    # where each entry of ans came from: the element of a with the same (stable) rank
    source = np.take_along_axis(np.argsort(a, axis=axis, kind="stable"),
                                np.argsort(np.argsort(ans, axis=axis, kind="stable"), axis=axis), axis=axis)
    return np.take_along_axis(g, np.argsort(source, axis=axis), axis=axis)


def _partition_vjp(g, ans, a, kth, axis=-1, kind="introselect", order=None):
    if axis is None:
        return np.reshape(_partition_adjoint(g, np.ravel(a), ans, 0), np.shape(a))
    return _partition_adjoint(g, a, ans, axis)


defvjp(np.sort, _sort_vjp, keywords=("axis", "kind", "stable"))
defvjp(np.partition, _partition_vjp, keywords=("kth", "axis", "kind"))


# --- diagonals and triangles ----------------------------------------------------------------
def _diag_vjp(g, ans, v, k=0):
    if np.ndim(v) == 1:             # v became the k-th diagonal of a matrix
        return np.diagonal(g, k)
    return _diagonal_adjoint(g, v, k, 0, 1)   # the k-th diagonal of v was taken


defvjp(np.diag, _diag_vjp, keywords=("k",))
defvjp(np.diagflat, lambda g, ans, v, k=0: unbroadcast(np.reshape(np.diagonal(g, k), np.shape(v)), v),
       keywords=("k",))
# a 1-d m is broadcast to a square matrix first: unbroadcast sums its rows
defvjp(np.triu, lambda g, ans, m, k=0: unbroadcast(np.triu(g, k), m), keywords=("k",))
defvjp(np.tril, lambda g, ans, m, k=0: unbroadcast(np.tril(g, k), m), keywords=("k",))


# --- gathering along an axis ----------------------------------------------------------------
def _along_axis_index(arr, indices, axis):
    """The advanced index ``arr[...]`` that ``np.take_along_axis(arr, indices, axis)`` reads."""
    xp = module_of(indices)
    ndim = np.ndim(arr)
    axis %= ndim
    index = []
    for i, n in enumerate(np.shape(arr)):
        if i == axis:
            index.append(indices)
        else:
            index.append(xp.reshape(xp.arange(n), (1,) * i + (n,) + (1,) * (ndim - i - 1)))
    return tuple(index)


def _take_along_axis_vjp(g, ans, arr, indices, axis=-1):
    if axis is None:
        return np.reshape(scatter(np.ravel(arr), indices, g), np.shape(arr))
    return scatter(arr, _along_axis_index(arr, indices, axis), g)   # repeated indices add up


defvjp(np.take_along_axis, _take_along_axis_vjp, keywords=("axis",))


@primitive
def put_along_axis(arr, indices, values, axis):
    """A copy of ``arr`` with ``values`` put at ``indices`` along ``axis``.

    The functional form of ``np.put_along_axis`` (which writes into ``arr``
    and returns None, so it has no derivative): differentiable with respect
    to ``arr`` and ``values``. Where ``indices`` repeat, the value NumPy
    keeps gets the adjoint.
    """
    xp = module_of(arr, values)
    out = xp.array(arr, copy=True)
    xp.put_along_axis(out, indices, values, axis)
    return out


def _put_arr_vjp(g, ans, arr, indices, values, axis):
    written = put_along_axis(module_of(g).zeros(np.shape(arr), dtype=bool), indices, True, axis)
    return np.where(written, 0.0, g)


def _put_values_vjp(g, ans, arr, indices, values, axis):
    if axis is None:
        return _put_values_vjp(np.ravel(g), None, np.ravel(arr), indices, values, 0)
    xp = module_of(indices)
    gathered = np.take_along_axis(g, indices, axis=axis)
    # which of the written values NumPy kept: write their ids, read them back
    ids = xp.reshape(xp.arange(np.size(gathered)), np.shape(gathered))
    kept = np.take_along_axis(put_along_axis(xp.full(np.shape(arr), -1), indices, ids, axis), indices, axis)
    return unbroadcast(np.where(np.equal(kept, ids), gathered, 0.0), values)


defvjp(put_along_axis, _put_arr_vjp, None, _put_values_vjp, keywords=("axis",))


# --- selecting ------------------------------------------------------------------------------------
def _compress_vjp(g, ans, condition, a, axis=None, out=None):
    picked = module_of(g).asarray(np.nonzero(condition)[0])
    if axis is None:
        return np.reshape(scatter(np.ravel(a), picked, g), np.shape(a))
    return scatter(a, _along(a, axis, picked), g)


def _extract_vjp(g, ans, condition, arr):
    picked = module_of(g).asarray(np.nonzero(np.ravel(condition))[0])
    return np.reshape(scatter(np.ravel(arr), picked, g), np.shape(arr))


def _choose_vjp(g, ans, a, choices, out=None, mode="raise"):
    n = len(choices)
    index = np.mod(a, n) if mode == "wrap" else (np.clip(a, 0, n - 1) if mode == "clip" else a)
    return [unbroadcast(np.where(np.equal(index, k), g, 0.0), c) for k, c in enumerate(choices)]


def _resize_vjp(g, ans, a, new_shape):
    # the flattened a repeats cyclically: sum the copies of each element
    n, total = np.size(a), np.size(g)
    if n == 0 or total == 0:
        return module_of(g).zeros(np.shape(a))
    copies = -(-total // n)
    flat = np.pad(np.ravel(g), (0, copies * n - total))
    return unbroadcast(np.reshape(np.sum(np.reshape(flat, (copies, n)), axis=0), np.shape(a)), a)


defvjp(np.compress, None, _compress_vjp, keywords=("axis",))
defvjp(np.extract, None, _extract_vjp, keywords=())
defvjp(np.choose, None, _choose_vjp, keywords=("mode",))
defvjp(np.resize, _resize_vjp, keywords=("new_shape",))


# --- stacking and splitting -------------------------------------------------------------------
def _unstack_vjp(g, ans, x, *, axis=0):
    pieces = [gi if gi is not None else module_of(ai).zeros(np.shape(ai)) for gi, ai in zip(g, ans)]
    return np.stack(pieces, axis=axis)


if hasattr(np, "unstack"):            # NumPy 2.1
    defvjp(np.unstack, _unstack_vjp, keywords=("axis",))
if hasattr(np, "matrix_transpose"):   # NumPy 2.0
    defvjp(np.matrix_transpose, lambda g, ans, x: np.swapaxes(g, -1, -2), keywords=())


def _column_stack_vjp(g, ans, tup):
    shapes = [np.shape(a) if np.ndim(a) >= 2 else (np.size(a), 1) for a in tup]
    return _split_like(g, tup, 1, shapes)


def _block_depth(arrays):
    return 1 + _block_depth(arrays[0]) if isinstance(arrays, list) else 0


def _block_zeros(arrays):
    """``arrays`` with every leaf replaced by zeros of its shape (to measure sub-blocks)."""
    if isinstance(arrays, list):
        return [_block_zeros(a) for a in arrays]
    return np.zeros(np.shape(arrays))


def _block_split(g, arrays, depth, level):
    if not isinstance(arrays, list):      # a leaf, promoted to g's number of dimensions
        return unbroadcast(np.reshape(g, np.shape(arrays)), arrays)
    # the items of this level were concatenated along axis -(depth - level)
    axis = np.ndim(g) - (depth - level)
    sizes = []
    for item in arrays:
        shape = np.shape(np.block(_block_zeros(item)))
        sizes.append(shape[len(shape) - (depth - level)] if len(shape) >= depth - level else 1)
    bounds = np.cumsum(sizes)[:-1].tolist()
    return [_block_split(p, item, depth, level + 1)
            for p, item in zip(np.split(g, bounds, axis=axis), arrays)]


def _block_vjp(g, ans, arrays):
    return _block_split(g, arrays, _block_depth(arrays), 0)


defvjp(np.block, _block_vjp, keywords=())


def _atleast_3d_shape(a):
    shape = np.shape(a)
    return {0: (1, 1, 1), 1: (1,) + shape + (1,), 2: shape + (1,)}.get(len(shape), shape)


def _dstack_vjp(g, ans, tup):
    return _split_like(g, tup, 2, [_atleast_3d_shape(a) for a in tup])


defvjp(np.column_stack, _column_stack_vjp, keywords=())
defvjp(np.row_stack, *rule_for(np.vstack).vjps, keywords=())
defvjp(np.dstack, _dstack_vjp, keywords=())
defvjp(np.hsplit, lambda g, ans, ary, indices_or_sections:
       _split_vjp(g, ans, ary, indices_or_sections, axis=1 if np.ndim(ary) > 1 else 0),
       keywords=("indices_or_sections",))
defvjp(np.vsplit, lambda g, ans, ary, indices_or_sections: _split_vjp(g, ans, ary, indices_or_sections, axis=0),
       keywords=("indices_or_sections",))
defvjp(np.dsplit, lambda g, ans, ary, indices_or_sections: _split_vjp(g, ans, ary, indices_or_sections, axis=2),
       keywords=("indices_or_sections",))


def _piece(g, ans, i, n):
    """The adjoint of piece ``i`` of a result that is a list when ``n > 1``."""
    if n == 1:
        return g
    gi = g[i]
    return gi if gi is not None else module_of(ans[i]).zeros(np.shape(ans[i]))


def _atleast_3d_vjp(i):
    def vjp(g, ans, *arys):
        return unbroadcast(np.reshape(_piece(g, ans, i, len(arys)), np.shape(arys[i])), arys[i])
    vjp.__name__ = f"atleast_3d_vjp_{i}"
    return vjp


defvjp(np.atleast_3d, *[_atleast_3d_vjp(i) for i in range(_MAX_ARGS)], keywords=("arys",))


def _meshgrid_vjp(i):
    def vjp(g, ans, *xi, copy=True, sparse=False, indexing="xy"):
        n = len(xi)
        axis = 1 - i if indexing == "xy" and n > 1 and i < 2 else i   # 'xy' swaps the first two
        gi = _piece(g, ans, i, 2)                                     # meshgrid always returns a tuple
        summed = np.sum(gi, axis=tuple(d for d in range(n) if d != axis))
        return unbroadcast(np.reshape(summed, np.shape(xi[i])), xi[i])
    vjp.__name__ = f"meshgrid_vjp_{i}"
    return vjp


defvjp(np.meshgrid, *[_meshgrid_vjp(i) for i in range(_MAX_ARGS)], keywords=("xi", "copy", "sparse", "indexing"))


def _vander_vjp(g, ans, x, N=None, increasing=False):
    n = np.shape(ans)[1]
    xp = module_of(g, x)
    powers = xp.arange(n) if increasing else xp.arange(n - 1, -1, -1)
    # d x^p / dx = p x^(p-1); the p = 0 column has no derivative (and no 0^-1)
    slope = powers * np.expand_dims(x, -1) ** np.maximum(powers - 1, 0)
    return np.sum(g * slope, axis=-1)


defvjp(np.vander, _vander_vjp, keywords=("N", "increasing"))


# --- append, insert, delete ----------------------------------------------------------------------
def _append_vjp_arr(g, ans, arr, values, axis=None):
    if axis is None:
        return unbroadcast(np.reshape(g[:np.size(arr)], np.shape(arr)), arr)
    return g[_along(g, axis, slice(0, np.shape(arr)[axis]))]


def _append_vjp_values(g, ans, arr, values, axis=None):
    if axis is None:
        return unbroadcast(np.reshape(g[np.size(arr):], np.shape(values)), values)
    return unbroadcast(g[_along(g, axis, slice(np.shape(arr)[axis], None))], values)


defvjp(np.append, _append_vjp_arr, _append_vjp_values, keywords=("axis",))


def _insert_vjp_arr(g, ans, arr, obj, values, axis=None):
    # insert the ids 1..size of arr's elements, zeros for the values: arr's elements are where ids > 0
    xp = module_of(g)
    ids = xp.reshape(xp.arange(1, np.size(arr) + 1), np.shape(arr))
    placed = np.insert(ids, obj, xp.zeros(np.shape(values), dtype=ids.dtype), axis)
    return unbroadcast(np.reshape(g[placed > 0], np.shape(arr)), arr)


def _insert_vjp_values(g, ans, arr, obj, values, axis=None):
    # insert the ids 1..size of values (broadcast as NumPy does), zeros for arr; sum g per id
    xp = module_of(g)
    ids = xp.reshape(xp.arange(1, np.size(values) + 1), np.shape(values))
    placed = np.insert(xp.zeros(np.shape(arr), dtype=ids.dtype), obj, ids, axis)
    at = placed > 0
    flat = scatter(xp.zeros(np.size(values), dtype=np.result_type(g)), placed[at] - 1, g[at])
    return unbroadcast(np.reshape(flat, np.shape(values)), values)


def _delete_vjp(g, ans, arr, obj, axis=None):
    xp = module_of(g)
    kept = np.delete(xp.reshape(xp.arange(np.size(arr)), np.shape(arr)), obj, axis)
    flat = scatter(xp.zeros(np.size(arr), dtype=np.result_type(g)), np.ravel(kept), np.ravel(g))
    return unbroadcast(np.reshape(flat, np.shape(arr)), arr)


defvjp(np.insert, _insert_vjp_arr, None, _insert_vjp_values, keywords=("obj", "axis"))
defvjp(np.delete, _delete_vjp, keywords=("obj", "axis"))


# sliding_window_view: every window reads elements of x; their adjoints add up where windows overlap
def _sliding_window_vjp(g, ans, x, window_shape, axis=None, *, subok=False, writeable=False):
    xp = module_of(g, x)
    positions = np.lib.stride_tricks.sliding_window_view(np.reshape(np.arange(np.size(x)), np.shape(x)),
                                                         window_shape, axis)
    return np.reshape(scatter(np.ravel(x), xp.asarray(positions), g), np.shape(x))


defvjp(np.lib.stride_tricks.sliding_window_view, _sliding_window_vjp, keywords=("axis", "subok"))
