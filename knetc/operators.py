"""Differential operators beyond ``grad``: vjp, jvp, linearize, elementwise_grad, checkpoint.

Jacobians are in :mod:`knetc.jacobians`, Hessians in :mod:`knetc.hessians`.
``vjp`` compiles the function where it can (:mod:`knetc.pullbacks`:
a pullback callable any number of times) and records it on the tape
(:mod:`knetc.runtime.tape`) otherwise; ``jvp`` compiles a tangent program
(:mod:`knetc.transform.forward`) and falls back to the tape's forward mode, the
transpose of a recorded pullback (:mod:`knetc.runtime.tape_forward`).

Structures follow JAX: a Jacobian of ``f: tree_in -> tree_out`` is a tree
shaped like ``tree_out`` whose leaves are trees shaped like ``tree_in`` of
arrays with shape ``out_leaf.shape + in_leaf.shape``.
"""
import functools
import inspect
import types

from .arguments import location, plain_function
from .errors import GradientInputError, UnsupportedError
from .runtime import tape, tape_forward
from .transform import forward_calls, tracebacks
from .runtime.backend import module_of, is_array
from .runtime.rules import Primitive, defvjp
from .runtime.tree import tree_flatten, tree_unflatten
from .operator_trees import (check_float_tree as _check_float_tree, float_leaf as _float_leaf,
                             name_of as _name, split_aux as _split_aux, tangent_like as _tangent_like,
                             vdot as _vdot, wrt_tuple as _wrt_tuple, zeros_like as _zeros_like)
from .operator_trees import traced as _traced
from .pullbacks import Pullback
from . import pullbacks

__all__ = ["vjp", "jvp", "linearize", "elementwise_grad", "checkpoint", "jvp_source"]


# --- vjp and jvp ------------------------------------------------------------------------
def vjp(fun, *args, wrt=0, has_aux=False, mode="auto"):
    """``(value, pullback)`` of ``fun(*args)``; ``pullback(cotangent)`` gives the adjoint.

    ``cotangent`` has the structure of the value (an array, a float, or nested
    lists/tuples/dicts of them); ``pullback`` returns the adjoint of
    ``args[wrt]`` (a tuple of adjoints when ``wrt`` is a tuple), each with the
    structure of its argument, and may be called any number of times.
    ``mode="auto"`` compiles ``fun`` (each call after the first runs the
    compiled forward pass again, see :mod:`knetc.pullbacks`) and records it on
    the tape where the compiler refuses it; ``"source"`` forbids the tape,
    ``"tape"`` records. ``pullback.mode`` says which ran. With
    ``has_aux=True``, ``fun`` returns ``(output, aux)``: the result is
    ``(output, pullback, aux)`` and ``aux`` is not differentiated.
    """
    if mode not in ("auto", "source", "tape"):
        raise ValueError(f"knetc: mode must be 'auto', 'source' or 'tape', not {mode!r}")
    indices = _wrt_tuple(wrt, len(args))
    traced = _traced(args)         # inside a function being taped: the tape nests
    for i in indices:
        if not traced:
            _check_float_tree(args[i], f"argument {i} of {_name(fun)}")
    if mode != "tape" and not traced:
        compiled = pullbacks.compiled_vjp(fun, args, wrt, mode, has_aux)
        if compiled is not None:
            out, pullback, aux = compiled
            return (out, pullback, aux) if has_aux else (out, pullback)
        if mode == "source":
            raise UnsupportedError(f"mode='source' on {fun!r}",
                                   detail="it is not a Python function the compiler can take: use mode='auto'")
    record = tape.make_vjp(fun, indices)
    ans, pullback_all = record(*args)
    out, aux = _split_aux(ans, has_aux, _name(fun))

    def adjoints_of(cotangent):
        return pullback_all((cotangent, None) if has_aux else cotangent)

    pullback = Pullback(_name(fun), out, adjoints_of, [(i, args[i]) for i in indices], isinstance(wrt, tuple),
                        "tape")
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
    # a bound method or a partial: its function, with the bound values held constant
    target, bound, bound_kwargs = plain_function(fun) if not isinstance(fun, Primitive) else (fun, (), {})
    if mode == "source" and not isinstance(fun, Primitive) and (type(target) is not types.FunctionType
                                                                 or bound_kwargs):
        raise UnsupportedError(f"mode='source' on {fun!r}", *location(target),
                               detail="compiled forward mode takes Python functions (bound methods and "
                                      "partials without keywords too): use mode='auto' or 'tape'")
    if mode != "tape" and type(target) is types.FunctionType and not bound_kwargs:
        free = forward_calls.closure_values(target)
        values, active = _with_defaults(target, (*bound, *primals), (False,) * len(bound) + active)
        fn, _ = forward_calls.jvp_of(target, active + (False,) * len(free), values + free, mode)
        with forward_calls.requested_mode(mode):
            try:
                ans, tangent = fn(*values, *free, *[t for t in tangents if t is not None])
            except Exception as exc:
                tracebacks.annotate(exc)        # a refusal when it runs gets the user's line
                raise
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
        _, tangent_out = tape.value_and_grad(lambda u: _vdot(pullback(u), tangents), (_zeros_like(out),))
        return tangent_out

    return out, f_jvp


def elementwise_grad(fun, wrt=0):
    """The gradient of ``sum(fun(...))`` with respect to argument ``wrt``: for functions whose
    Jacobian is diagonal (elementwise), the derivative of each output element at its input
    (autograd's ``elementwise_grad``): one pullback of a cotangent of ones."""
    @functools.wraps(fun)
    def elementwise(*args):
        out, pullback = vjp(fun, *args, wrt=wrt)
        leaves, spec = tree_flatten(out)
        ones = [module_of(leaf).ones_like(leaf) if is_array(leaf) else 1.0 for leaf in leaves]
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
