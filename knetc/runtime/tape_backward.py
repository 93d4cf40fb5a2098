"""The tape's backward pass: one reverse loop over a trace's nodes, calling the rule table's VJPs.

:func:`backward` walks the nodes recorded by :mod:`knetc.runtime.box_record` from
the last seeded one down to the inputs. It owns the adjoint bookkeeping of that
walk: adjoints summed from several uses are accumulated in place into arrays the
pass allocated itself (never into an adjoint a rule returned, which may alias a
value), the adjoint of a basic slice ``x[idx]`` is written into a view of ``x``'s
adjoint, and an adjoint is brought to its value's float precision before use.
"""
import operator

import numpy as np

from . import rules as _rules
from .backend import module_of, is_array, is_cupy_array
from .indexing import _is_basic_index
from .tree import add_grad

_ndarray = np.ndarray

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
