"""Differential operators beyond ``grad``: vjp, jvp, linearize, jacobians, Hessians, checkpoints.

Every operator here is built from two primitives of the tape
(:mod:`knetc.runtime.tape`):

- ``make_vjp``: run a function once, recording it; its pullback maps a
  cotangent of the result to the adjoints of the arguments, and can be called
  any number of times;
- the same pullback called on a *traced* cotangent ``u``: its VJPs are array
  operations, so ``<pullback(u), t>`` is recorded too, and its gradient with
  respect to ``u`` is the Jacobian-vector product ``J t`` (the VJP is linear
  in ``u``, so this is exact: forward mode by transposing reverse mode).

Structures follow JAX: a Jacobian of ``f: tree_in -> tree_out`` is a tree
shaped like ``tree_out`` whose leaves are trees shaped like ``tree_in`` of
arrays with shape ``out_leaf.shape + in_leaf.shape``.
"""
import functools
import inspect

import numpy as np

from .errors import GradientInputError
from .runtime import tape, tape_forward
from .transform import forward_calls
from .runtime.backend import array_module, is_array
from .runtime.rules import Primitive, defvjp
from .runtime.tree import tree_flatten, tree_unflatten

__all__ = ["vjp", "jvp", "linearize", "jacobian", "jacrev", "jacfwd", "hessian", "hvp",
           "elementwise_grad", "checkpoint", "jvp_source"]


# --- small helpers ------------------------------------------------------------------------
def _float_leaf(x):
    if isinstance(x, float):
        return True
    return (is_array(x) or isinstance(x, np.generic)) and np.asarray(x).dtype.kind == "f"


def _check_float_tree(x, what):
    leaves, _ = tree_flatten(x)
    for leaf in leaves:
        if not _float_leaf(leaf):
            kind = f"a {np.asarray(leaf).dtype} array" if is_array(leaf) else f"a {type(leaf).__name__}"
            raise GradientInputError(
                f"knetc: {what} holds {kind}; differentiated values must be floats or float arrays")


def _wrt_tuple(wrt, nargs):
    indices = wrt if isinstance(wrt, tuple) else (wrt,)
    for i in indices:
        if not isinstance(i, int) or isinstance(i, bool):
            raise GradientInputError(f"knetc: wrt must be an int or a tuple of ints, not {wrt!r}")
        if not -nargs <= i < nargs:
            raise GradientInputError(f"knetc: wrt={wrt!r} is out of range: the function takes {nargs} argument(s)")
    return tuple(i % nargs for i in indices)


def _tangent_like(primal, tangent):
    """``tangent`` with a Python number made an array where its primal leaf is an array
    (a 0-d array's tangent given as a float), so that array methods work on it."""
    p_leaves, spec = tree_flatten(primal)
    t_leaves, _ = tree_flatten(tangent)
    fixed = [array_module(p).asarray(t, dtype=np.asarray(p).dtype)
             if is_array(p) and isinstance(t, (int, float)) else t for p, t in zip(p_leaves, t_leaves)]
    return tree_unflatten(spec, fixed)


def _split_aux(out, has_aux, name):
    if not has_aux:
        return out, None
    if not isinstance(out, tuple) or len(out) != 2:
        raise GradientInputError(f"knetc: {name} was given has_aux=True, so it must return a pair "
                                 f"(output, aux); it returned {type(out).__name__}")
    return out


def _name(fun):
    return getattr(fun, "__name__", repr(fun))


# --- vjp and jvp ------------------------------------------------------------------------
def vjp(fun, *args, wrt=0, has_aux=False):
    """``(value, pullback)`` of ``fun(*args)``; ``pullback(cotangent)`` gives the adjoint.

    ``cotangent`` has the structure of the value (an array, a float, or nested
    lists/tuples/dicts of them); ``pullback`` returns the adjoint of
    ``args[wrt]`` (a tuple of adjoints when ``wrt`` is a tuple), each with the
    structure of its argument, and may be called any number of times. With
    ``has_aux=True``, ``fun`` returns ``(output, aux)``: the result is
    ``(output, pullback, aux)`` and ``aux`` is not differentiated.
    """
    indices = _wrt_tuple(wrt, len(args))
    record = tape.make_vjp(fun, indices)
    ans, pullback_all = record(*args)
    out, aux = _split_aux(ans, has_aux, _name(fun))

    def pullback(cotangent):
        seed = (cotangent, None) if has_aux else cotangent
        adjoints = pullback_all(seed)
        picked = tuple(adjoints[i] for i in indices)
        return picked if isinstance(wrt, tuple) else picked[0]

    return (out, pullback, aux) if has_aux else (out, pullback)


def jvp(fun, primals, tangents, has_aux=False, mode="auto"):
    """``(value, tangent)``: ``fun(*primals)`` and its derivative along ``tangents``.

    ``primals`` and ``tangents`` are tuples with one entry per argument of
    ``fun`` (JAX's convention); each tangent has its primal's structure (None
    for an argument that is held constant, such as data or an index), and the
    tangent of the output has the output's. ``mode="auto"`` compiles a
    tangent program (forward mode, source to source; ``jvp_source(fun)`` shows
    it) and falls back to the tape for what the compiler refuses;
    ``"source"`` forbids the fallback, ``"tape"`` records. With
    ``has_aux=True``, ``fun`` returns ``(output, aux)`` and the result is
    ``(value, tangent, aux)``.
    """
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise GradientInputError(f"knetc: jvp got {len(primals)} primal(s) but {len(tangents)} tangent(s)")
    for k, (p, t) in enumerate(zip(primals, tangents)):
        if t is None:
            continue
        _check_float_tree(p, f"primal {k}")
        if tree_flatten(p)[1] != tree_flatten(t)[1]:
            raise GradientInputError(f"knetc: tangent {k} does not have the structure of primal {k}")
    if mode not in ("auto", "source", "tape"):
        raise ValueError(f"knetc: mode must be 'auto', 'source' or 'tape', not {mode!r}")
    tangents = tuple(t if t is None else _tangent_like(p, t) for p, t in zip(primals, tangents))
    active = tuple(t is not None for t in tangents)
    if mode != "tape" and hasattr(fun, "__code__") and not isinstance(fun, Primitive):
        free = forward_calls.closure_values(fun)
        values, active = _with_defaults(fun, primals, active)
        fn, _ = forward_calls.jvp_of(fun, active + (False,) * len(free), values + free, mode)
        with forward_calls.requested_mode(mode):
            ans, tangent = fn(*values, *free, *[t for t in tangents if t is not None])
        _LAST_JVP[fun] = fn
    else:
        ans, tangent = tape_forward.jvp(fun, primals, tangents, active, has_aux)
        if has_aux:
            return ans[0], tangent, ans[1]
        return ans, tangent
    out, aux = _split_aux(ans, has_aux, _name(fun))
    if has_aux:
        tangent = tangent[0] if isinstance(tangent, (list, tuple)) else tangent
    _check_float_tree(out, f"the output of {_name(fun)}")
    return (out, tangent, aux) if has_aux else (out, tangent)


_LAST_JVP = {}


def _with_defaults(fun, primals, active):
    """Every parameter's value (the defaults of those not given) and the active mask to match:
    the compiled JVP takes all of them, in order."""
    params = list(inspect.signature(fun).parameters.values())
    if len(params) <= len(primals) or any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
        return list(primals), active
    bound = inspect.signature(fun).bind(*primals)
    bound.apply_defaults()
    values = [bound.arguments[p.name] for p in params]
    return values, active + (False,) * (len(values) - len(primals))


def jvp_source(fun):
    """The generated tangent program of ``fun`` from its latest compiled :func:`jvp` call."""
    fn = _LAST_JVP.get(fun)
    compiled = getattr(fn, "compiled", None)
    if compiled is None:
        return f"# the tangent of {_name(fun)} runs on the tape (or jvp has not been called): no generated code\n"
    out, seen, todo = [], set(), [compiled]
    while todo:
        c = todo.pop(0)
        if id(c) in seen:
            continue
        seen.add(id(c))
        out.append(c.source)
        todo.extend(forward_calls.latest_compiled(f) for f in getattr(c, "helper_funs", []))
        todo = [t for t in todo if t is not None]
    return "\n\n".join(out)


def linearize(fun, *primals):
    """``(value, f_jvp)``: ``f_jvp(*tangents)`` is the JVP at ``primals`` (recorded once)."""
    record = tape.make_vjp(fun, tuple(range(len(primals))))
    out, pullback = record(*primals)
    _check_float_tree(out, f"the output of {_name(fun)}")

    def f_jvp(*tangents):
        _, tangent_out = tape.value_and_grad(lambda u: tape_forward.vdot(pullback(u), tangents),
                                             (tape_forward.zeros_like(out),))
        return tangent_out

    return out, f_jvp


# --- Jacobians ----------------------------------------------------------------------------
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


def hessian(fun, wrt=0):
    """The Hessian of scalar ``fun`` with respect to argument ``wrt``, as a function of the arguments.

    For an array argument of shape ``s`` the result has shape ``s + s``; for a
    structure, a tree of trees (``H[i][j]`` pairs leaf i with leaf j). Computed
    column by column as Hessian-vector products.
    """
    @functools.wraps(fun)
    def hessian_of(*args):
        (i,) = _wrt_tuple(wrt, len(args))
        _check_float_tree(args[i], f"argument {i} of {_name(fun)}")
        args = _numpy_floats_at(args, i)
        leaves, spec = tree_flatten(args[i])
        rows = [[[] for _ in leaves] for _ in leaves]
        for a, leaf in enumerate(leaves):
            for k in range(int(np.size(leaf))):
                v = tree_unflatten(spec, _basis(leaves, a, k))
                column = tape.hvp(fun, tuple(args), v, wrt=i)
                for b, piece in enumerate(tree_flatten(column)[0]):
                    rows[b][a].append(piece)
        return _assemble(rows, leaves, spec, leaves, spec, "fwd")

    return hessian_of


def hvp(fun, wrt=0):
    """Hessian-vector product: ``hvp(f)(*args, v)`` = (d^2 f / dx^2) v for x = args[wrt]."""
    def product(*args):
        *inputs, v = args
        floats = tree_flatten(inputs[wrt])[0] if isinstance(wrt, int) else None
        h = tape.hvp(fun, _numpy_floats_at(inputs, wrt), v, wrt=wrt)
        if floats is None:
            return h
        h_leaves, spec = tree_flatten(h)      # a float argument gets float entries back
        return tree_unflatten(spec, [float(b) if isinstance(a, float) else b
                                     for a, b in zip(floats, h_leaves)])
    return product


def _numpy_floats_at(args, wrt):
    """``args`` with the Python floats of ``args[wrt]`` as NumPy float64 scalars: the nested tape
    of a Hessian-vector product, seeded by a Python float, mistakes it for a non-scalar."""
    args = list(args)
    for i in (wrt if isinstance(wrt, tuple) else (wrt,)):
        leaves, spec = tree_flatten(args[i])
        args[i] = tree_unflatten(spec, [np.float64(x) if isinstance(x, float) else x for x in leaves])
    return tuple(args)


def elementwise_grad(fun, wrt=0):
    """The gradient of ``sum(fun(...))`` with respect to argument ``wrt``: for functions whose
    Jacobian is diagonal (elementwise), the derivative of each output element at its input
    (autograd's ``elementwise_grad``): one pullback of a cotangent of ones."""
    @functools.wraps(fun)
    def elementwise(*args):
        out, pullback = vjp(fun, *args, wrt=wrt)
        leaves, spec = tree_flatten(out)
        ones = [array_module(leaf).ones_like(leaf) if is_array(leaf) else 1.0 for leaf in leaves]
        return pullback(tree_unflatten(spec, ones))

    return elementwise


# --- checkpointing -------------------------------------------------------------------------
def checkpoint(fun):
    """``fun`` as one differentiable step whose intermediate values are not kept.

    The forward pass runs ``fun`` on plain values and keeps only its arguments
    and result; the backward pass runs it again on the tape to get the adjoint.
    Use it as a decorator on a helper called in a loop (``@knet.checkpoint``)
    or as ``knet.checkpoint(f)(...)``; compiled code and the tape treat it as
    one primitive.
    """
    try:
        params = list(inspect.signature(fun).parameters.values())
    except (TypeError, ValueError):
        raise GradientInputError(f"knetc: checkpoint needs a function with a signature, not {fun!r}")
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
        raise GradientInputError("knetc: checkpoint does not take functions with *args or **kwargs")
    prim = Primitive(fun)
    last = {}

    def adjoints(g, ans, args, kwargs):
        # Each argument's VJP asks in turn: recompute once per (g, ans) pair.
        key = (id(g), id(ans), tuple(id(a) for a in args))
        hit = last.get("entry")
        if hit is None or hit[0] != key:
            active = tuple(i for i, a in enumerate(args) if _differentiable_tree(a))
            _, pullback = tape.make_vjp(fun, active)(*args, **kwargs)
            hit = (key, pullback(g), (g, ans, args))   # keep g, ans, args alive: ids stay unique
            last["entry"] = hit
        return hit[1]

    def vjp_of(i):
        return lambda g, ans, *args, **kwargs: adjoints(g, ans, args, kwargs)[i]

    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    defvjp(prim, *[vjp_of(i) for i in range(len(positional))], name=f"checkpoint({_name(fun)})",
           keywords=tuple(p.name for p in params if p.kind is p.KEYWORD_ONLY))
    return prim


def _differentiable_tree(x):
    leaves, _ = tree_flatten(x)
    return bool(leaves) and all(_float_leaf(leaf) or type(leaf).__name__ == "Box" for leaf in leaves)
