"""Jacobians: ``jacobian`` (``jacrev``, ``jacfwd``), one pullback per output element or one JVP
per input element, assembled with JAX's structure: a tree shaped like the output whose leaves
are trees shaped like the input of arrays of shape ``out_leaf.shape + in_leaf.shape``."""
import functools

import numpy as np

from .operators import jvp
from .runtime import tape
from .runtime.backend import is_array
from .runtime.tree import tree_flatten, tree_unflatten
from .operator_trees import (check_float_tree as _check_float_tree, name_of as _name, split_aux as _split_aux,
                             wrt_tuple as _wrt_tuple)

__all__ = ["jacobian", "jacrev", "jacfwd"]


def _basis(leaves, k_leaf, k):
    """A tree of zeros like ``leaves`` with a one at flat position ``k`` of leaf ``k_leaf``."""
    out = []
    for j, leaf in enumerate(leaves):
        if is_array(leaf):
            z = np.zeros(np.shape(leaf), dtype=np.result_type(leaf, np.float32))
            if j == k_leaf:
                z.reshape(-1)[k] = 1.0
        else:
            z = 1.0 if j == k_leaf else 0.0
        out.append(z)
    return out


def _assemble(rows_by_out, out_leaves, out_spec, in_leaves, in_spec, order):
    """The JAX-shaped Jacobian from per-element derivatives.

    ``rows_by_out[j][i]`` is a list over the elements of the ``order`` side of
    arrays for the other side; ``order`` is "rev" (elements of output leaf j,
    each giving input-shaped pieces) or "fwd" (elements of input leaf i, each
    giving output-shaped pieces).
    """
    blocks = []
    for j, out_leaf in enumerate(out_leaves):
        per_in = []
        for i, in_leaf in enumerate(in_leaves):
            pieces = [np.asarray(p, dtype=float) for p in rows_by_out[j][i]]
            if order == "rev":
                block = np.stack(pieces).reshape(np.shape(out_leaf) + np.shape(in_leaf))
            else:
                stacked = np.stack(pieces, axis=-1)
                block = stacked.reshape(np.shape(out_leaf) + np.shape(in_leaf))
            per_in.append(block)
        blocks.append(tree_unflatten(in_spec, per_in))
    return tree_unflatten(out_spec, blocks)


def _jacobian_rev(fun, args, indices, multi, has_aux):
    record = tape.make_vjp(fun, indices)
    ans, pullback = record(*args)
    out, aux = _split_aux(ans, has_aux, _name(fun))
    in_tree = tuple(args[i] for i in indices) if multi else args[indices[0]]
    in_leaves, in_spec = tree_flatten(in_tree)
    out_leaves, out_spec = tree_flatten(out)
    rows = [[[] for _ in in_leaves] for _ in out_leaves]
    for j, leaf in enumerate(out_leaves):
        for k in range(int(np.size(leaf))):
            cotangent = tree_unflatten(out_spec, _basis(out_leaves, j, k))
            adjoints = pullback((cotangent, None) if has_aux else cotangent)
            picked = tuple(adjoints[i] for i in indices) if multi else adjoints[indices[0]]
            for i, piece in enumerate(tree_flatten(picked)[0]):
                rows[j][i].append(piece)
    return _assemble(rows, out_leaves, out_spec, in_leaves, in_spec, "rev"), aux


def _jacobian_fwd(fun, args, indices, multi, has_aux):
    """One JVP per input element, compiled where ``fun`` compiles (:func:`jvp`)."""
    in_tree = tuple(args[i] for i in indices) if multi else args[indices[0]]
    in_leaves, in_spec = tree_flatten(in_tree)
    rows, out_leaves, out_spec, aux = None, None, None, None
    for i, leaf in enumerate(in_leaves):
        for k in range(int(np.size(leaf))):
            direction = tree_unflatten(in_spec, _basis(in_leaves, i, k))
            chosen = direction if multi else (direction,)
            tangents = [None] * len(args)
            for position, t in zip(indices, chosen):
                tangents[position] = t
            result = jvp(fun, args, tangents, has_aux=has_aux)
            out, column = result[0], result[1]
            aux = result[2] if has_aux else None
            if rows is None:
                out_leaves, out_spec = tree_flatten(out)
                rows = [[[] for _ in in_leaves] for _ in out_leaves]
            for j, piece in enumerate(tree_flatten(column)[0]):
                rows[j][i].append(piece)
    if rows is None:        # no input elements: an empty Jacobian
        return _jacobian_rev(fun, args, indices, multi, has_aux)
    return _assemble(rows, out_leaves, out_spec, in_leaves, in_spec, "fwd"), aux


def _size(tree):
    return sum(int(np.size(leaf)) for leaf in tree_flatten(tree)[0])


def jacobian(fun, wrt=0, mode="auto", has_aux=False):
    """The Jacobian of ``fun`` with respect to argument ``wrt``, as a function of the arguments.

    ``mode`` is "rev" (one pullback per output element), "fwd" (one JVP per
    input element) or "auto" (the cheaper of the two by the sizes of the
    differentiated input and of the output). The result is shaped like the
    output, each leaf shaped like the input, with array shape
    ``output_leaf.shape + input_leaf.shape`` (a tuple over ``wrt`` when it is a
    tuple). With ``has_aux=True`` it returns ``(jacobian, aux)``.
    """
    if mode not in ("auto", "rev", "fwd"):
        raise ValueError(f"knetc: jacobian mode must be 'auto', 'rev' or 'fwd', not {mode!r}")

    @functools.wraps(fun)
    def jacobian_of(*args):
        indices = _wrt_tuple(wrt, len(args))
        multi = isinstance(wrt, tuple)
        for i in indices:
            _check_float_tree(args[i], f"argument {i} of {_name(fun)}")
        chosen = mode
        if chosen == "auto":
            n_in = _size(tuple(args[i] for i in indices))
            out = fun(*args)
            out = out[0] if has_aux else out
            chosen = "fwd" if n_in < _size(out) else "rev"
        build = _jacobian_fwd if chosen == "fwd" else _jacobian_rev
        jac, aux = build(fun, args, indices, multi, has_aux)
        return (jac, aux) if has_aux else jac

    return jacobian_of


jacrev = functools.partial(jacobian, mode="rev")
jacrev.__doc__ = "The Jacobian by reverse mode: ``jacobian(fun, wrt, mode='rev')``."
jacfwd = functools.partial(jacobian, mode="fwd")
jacfwd.__doc__ = "The Jacobian by forward mode: ``jacobian(fun, wrt, mode='fwd')``."
