"""VJPs of the runtime helpers a generated tangent program calls, so that the reverse compiler
can differentiate a tangent program (Hessian-vector products: :mod:`knetc.hessians`).

- ``zeros_like`` (a zero tangent) is constant;
- ``fit_tangent(t, ans)`` broadcasts ``t`` to ``ans``'s shape: its adjoint sums back
  (``ans`` gives only a shape);
- ``add_grad(a, b)`` adds two tangents: the adjoint goes to both;
- ``call_jvp(f, args, tangents)`` is a helper's primal and tangent: its adjoints are the
  pullback of the helper's own tangent program, compiled (``call_vjp`` on it) when the call
  passes positional arguments only, on the tape otherwise (keyword arguments, closures).

- ``transpose_jvp(vjp, t, ans, *args)`` (``J t`` as the transpose of a rule's VJP) is linear
  in ``t`` with adjoint ``vjp(g, ans, *args)``; ``elementwise_jvp`` (a diagonal VJP read as a
  JVP) likewise with adjoint ``elementwise_jvp(vjp, g, ...)`` summed to ``t``'s shape. Their
  adjoints in ``ans`` and the arguments (second derivatives of the rule) come from the tape,
  which differentiates the rule's VJP (rules are written in differentiable array operations).
"""
import inspect
import types

from ..errors import UnsupportedError
from ..operator_trees import float_leaf
from ..runtime import inplace, jvp_rules, tree
from ..runtime.rules import Primitive, ZERO_DERIVATIVE, defnondiff, defvjp, rule_for, unbroadcast
from ..runtime.tree import ZERO, tree_flatten, tree_unflatten
from . import forward_calls
from .cache import closure_values, current_mode
from .dispatch import call_vjp
from ..arguments import location
from ..runtime import tape
from ..runtime.tape_forward import vdot
from ..runtime.binding import plan_of
from ..runtime.rules import all_rules
from ..runtime.rules import VERSION


def _adjoint_like(g, x):
    """``g`` summed down to the shape of ``x`` (containers leaf by leaf); None for no value."""
    if g is None or g is ZERO or x is None:
        return None
    if isinstance(x, (list, tuple)):
        return [_adjoint_like(gi, xi) for gi, xi in zip(g, x)]
    if isinstance(x, dict):
        return {k: _adjoint_like(g[k], v) for k, v in x.items()}
    return unbroadcast(g, x)


defnondiff(tree.zeros_like_tree)
# the checks compiled code runs before a statement (see runtime/inplace.py): no value, no write
defnondiff(inplace.refuse_sequence)
defnondiff(inplace.refuse_shared_update)
defvjp(jvp_rules.fit_tangent, lambda g, ans, t, like: unbroadcast(g, t), ZERO_DERIVATIVE,
       name="fit_tangent")
defvjp(tree.add_grad, lambda g, ans, a, b: _adjoint_like(g, a), lambda g, ans, a, b: _adjoint_like(g, b),
       name="add_grad")


# --- the JVPs derived from VJPs ----------------------------------------------------------
def _real_only(*values):
    """These adjoints pair real values; a complex one is refused (a compiled hvp then falls back
    to the tape, which differentiates complex intermediates by its own rules)."""
    for v in values:
        for leaf in tree_flatten(v)[0]:
            # a leaf's dtype, never np.asarray of it: operands include objects such as np.r_,
            # which NumPy would iterate without end
            if isinstance(leaf, complex) or getattr(getattr(leaf, "dtype", None), "kind", "") == "c":
                raise UnsupportedError("the second derivative of a rule through a complex value in a "
                                       "compiled Hessian-vector product")


def _trusted(vjp):
    """Refuse (so knet.hvp uses the tape) a rule whose compiled second derivative is known wrong."""
    reason = getattr(vjp, "compiled_second_order", None)
    if reason is not None:
        raise UnsupportedError(reason)


def _transpose_t_vjp(g, out, vjp, t, ans, *args, **kwargs):
    _trusted(vjp)
    _real_only(g, t, ans, args)
    return _adjoint_like(vjp(g, ans, *args, **kwargs), t)


def _elementwise_t_vjp(g, out, vjp, t, ans, *args, **kwargs):
    _trusted(vjp)
    _real_only(g, t, ans, args)
    return _adjoint_like(jvp_rules.elementwise_jvp(vjp, g, ans, *args, **kwargs), t)


def _taped_partial(fun, position):
    """The VJP of ``fun(vjp, t, ans, *args)`` in argument ``position`` (>= 2), from the tape.

    For ``transpose_jvp`` (``J t`` with ``J^T = vjp``) it is the gradient of
    ``<vjp(g, ans, *args), t>`` (``<g, J t> = <J^T g, t>``), one tape and no tape
    inside it; for ``elementwise_jvp``, the gradient of ``<g, elementwise_jvp(...)>``.
    """
    def partial(g, out, vjp, t, *operands, **kwargs):
        _trusted(vjp)
        k = position - 2
        _real_only(g, t, operands)
        if fun is jvp_rules.transpose_jvp:
            def pairing(*ops):
                return vdot(vjp(g, *ops, **kwargs), t)
        else:
            def pairing(*ops):
                return vdot(g, fun(vjp, t, *ops, **kwargs))
        return _grad_in(pairing, operands, k)
    return partial


def _grad_in(pairing, operands, k):
    """The gradient of ``pairing(*operands)`` in operand ``k``; its integer leaves (the rank
    that ``lstsq`` returns beside its arrays) are held constant and get a zero."""
    leaves, spec = tree_flatten(operands[k])
    floats = [i for i, leaf in enumerate(leaves) if float_leaf(leaf)]
    if len(floats) == len(leaves):
        return tape.value_and_grad(pairing, operands, None, k)[1]

    def of_floats(values):
        full = list(leaves)
        for i, v in zip(floats, values):
            full[i] = v
        ops = list(operands)
        ops[k] = tree_unflatten(spec, full)
        return pairing(*ops)
    grads = tape.value_and_grad(of_floats, ([leaves[i] for i in floats],), None, 0)[1]
    full = [0.0] * len(leaves)
    for i, g in zip(floats, grads):
        full[i] = g
    return tree_unflatten(spec, full)


_SLOTS = 10      # t, ans and up to eight operands of the rule
_KEYWORDS = [frozenset()]
_SEEN_VERSION = [None]


def _rule_keywords():
    """Every argument name some rule takes: the keywords ``transpose_jvp``/``elementwise_jvp``
    pass on to the rule's VJP, which the rule's own binding vetted when the tangent program
    was compiled."""
    names = set()
    for rule in all_rules().values():
        names |= plan_of(rule).modelled
        for v in rule.vjps:
            try:
                names.update(list(inspect.signature(v).parameters)[2:])
            except (TypeError, ValueError):
                pass
    return frozenset(names)


def refresh():
    """(Re-)register the rules of the derived JVPs when rules with new argument names appeared
    (SciPy's, registered when the program imports it)."""
    if _SEEN_VERSION[0] == VERSION[0]:
        return
    names = _rule_keywords()
    if names <= _KEYWORDS[0]:
        _SEEN_VERSION[0] = VERSION[0]
        return
    _KEYWORDS[0] = names | _KEYWORDS[0]
    for fun, t_vjp in ((jvp_rules.transpose_jvp, _transpose_t_vjp), (jvp_rules.elementwise_jvp, _elementwise_t_vjp)):
        defvjp(fun, None, t_vjp, *[_taped_partial(fun, p) for p in range(2, _SLOTS)],
               name=fun.__name__, keywords=tuple(sorted(_KEYWORDS[0])))
    _SEEN_VERSION[0] = VERSION[0]


refresh()


# --- call_jvp ------------------------------------------------------------------------------
_LAST = {}


def _call_jvp_adjoints(g, ans, fun, args, tangents, kwargs=None, kw_tangents=None, free_tangents=None):
    """The adjoints of ``call_jvp``'s arguments: ``(None, d_args, d_tangents, d_kwargs, d_kw_tangents,
    d_free_tangents)``, computed once per pullback call (each argument's VJP asks in turn)."""
    target = getattr(fun, "__code__", None)
    if target is not None and target.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS):
        raise UnsupportedError(f"{fun.__name__}, which takes *args or **kwargs, inside a compiled "
                               "Hessian-vector product", *location(fun))
    key = (id(g), id(ans), id(args), id(tangents))
    hit = _LAST.get("entry")
    if hit is not None and hit[0] == key:
        return hit[1]
    g = tuple(tree.zeros_like_tree(a) if gi is None or gi is ZERO else gi for gi, a in zip(g, ans))
    if kwargs or kw_tangents or free_tangents or not _plain(fun):
        result = _taped_adjoints(g, fun, args, tangents, kwargs, kw_tangents, free_tangents)
    else:
        result = _compiled_adjoints(g, fun, args, tangents)
    _LAST["entry"] = (key, result, (g, ans, args, tangents))    # keep them alive: ids stay unique
    return result


def refuse_helper_writes(jvp_fn, fun):
    """Refuse reversing the tangent program ``jvp_fn`` of ``fun`` when it calls a helper that writes
    into its arguments or outside its locals: the reverse pass does not follow those writes."""
    compiled = getattr(jvp_fn, "compiled", None)
    for line, func, written in getattr(compiled, "helper_writes", ()):
        what = ", ".join(written) if isinstance(written, list) else written
        raise UnsupportedError(f"{func} writing into {what}, inside a compiled Hessian-vector product",
                               location(fun)[0], line,
                               detail="the reverse pass over the tangent program does not follow the write")


def _plain(fun):
    # (a helper taking *args or **kwargs was refused above, in _call_jvp_adjoints)
    return type(fun) is types.FunctionType and not isinstance(fun, Primitive) and rule_for(fun) is None


def _compiled_adjoints(g, fun, args, tangents):
    """The pullback of ``fun``'s compiled tangent program at these arguments."""
    sig = inspect.signature(fun)
    bound = sig.bind(*args)
    bound.apply_defaults()
    names = list(sig.parameters)
    values = [bound.arguments[n] for n in names]
    given = list(tangents) + [None] * (len(values) - len(tangents))
    free = closure_values(fun)
    active = tuple(t is not None for t in given) + (False,) * len(free)
    fn, used = forward_calls.jvp_of(fun, active, values + free, current_mode())
    if used != "source":
        # the tape differentiating the tape's forward mode of the helper gave wrong products
        raise UnsupportedError(f"{fun.__name__}, whose tangent runs on the tape, inside a compiled "
                               "Hessian-vector product", *location(fun))
    refuse_helper_writes(fn, fun)
    live = [t for t in given if t is not None]
    call_args = [*values, *free, *live]
    mask = tuple(i < len(args) and _differentiable(args[i]) for i in range(len(values))) \
        + (False,) * len(free) + (True,) * len(live)
    _, pullback = call_vjp(fn, mask, *call_args)
    adjoints = pullback(g)
    d_args = [adjoints[i] for i in range(len(args))]
    it = iter(adjoints[len(values) + len(free):])
    d_tangents = [next(it) if t is not None else None for t in tangents]
    return (None, tuple(d_args), tuple(d_tangents), None, None, None)


def _taped_adjoints(g, fun, args, tangents, kwargs, kw_tangents, free_tangents):

    def run(a, t, kw, kt, ft):
        return forward_calls.call_jvp(fun, a, t, kw, kt, ft)
    inputs = (args, tangents, kwargs or {}, kw_tangents or {}, free_tangents or {})
    _, pullback = tape.make_vjp(run, (0, 1, 2, 3, 4))(*inputs)
    return (None,) + tuple(pullback(g))


def _differentiable(x):
    leaves, _ = tree_flatten(x)
    return bool(leaves) and all(float_leaf(leaf) for leaf in leaves)


def _vjp_of(position):
    return lambda g, ans, fun, args, tangents, kwargs=None, kw_tangents=None, free_tangents=None: \
        _call_jvp_adjoints(g, ans, fun, args, tangents, kwargs, kw_tangents, free_tangents)[position]


defvjp(forward_calls.call_jvp, None, *[_vjp_of(p) for p in range(1, 6)], name="call_jvp")
