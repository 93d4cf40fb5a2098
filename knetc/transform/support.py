"""What generated code calls: the one table of runtime helpers.

Generated functions are built inside a factory whose parameters are the
helpers they call (see :func:`knetc.transform.compiler.build`); ``RUNTIME``
maps each helper's name to the object passed. The emitters ask the unit for
a helper by this name (``unit.runtime_name("zeros_like")``) and the unit
renames it where the user's function uses the name already.

Two entries are the dispatchers generated code calls back into for user
helpers: ``call_vjp`` (:mod:`~knetc.transform.dispatch`) and ``call_jvp``
(:mod:`~knetc.transform.forward_calls`). They compile what they call, so
they sit above the compiler; each puts its entry point in this table with
:func:`provide` when it is imported (``knetc/__init__.py`` imports both).
"""
import builtins

from ..errors import KnetError
from ..runtime import creation, entry_values, jvp_rules, tree

# Builtins the generated code calls (range, len...): a user's global of that name must not reach it.
BUILTIN_NAMES = ("range", "len", "min", "list", "tuple", "bool", "reversed", "slice")


def pullback_reused(name):
    """Generated pullbacks consume what their forward pass saved: a second call is an error."""
    raise KnetError(f"knetc: the pullback of {name} was called a second time; a compiled pullback "
                    "runs once per forward call (call the vjp again for another pullback)")


RUNTIME = {
    **{n: getattr(builtins, n) for n in BUILTIN_NAMES},
    "zeros_like": tree.zeros_like_tree,
    "zeros_view": tree.zeros_view,
    "entry_value": entry_values.entry_value,
    "zero_slots": tree.zero_slots,
    "add_grad": tree.add_grad,
    "add_at": tree.add_at,
    "creation_module": creation.creation_module,
    "call_on_gpu": creation.call_on_gpu,
    "pullback_reused": pullback_reused,
    "fit_tangent": jvp_rules.fit_tangent,
    "elementwise_jvp": jvp_rules.elementwise_jvp,
    "transpose_jvp": jvp_rules.transpose_jvp,
    # "call_vjp", "call_jvp": put here by the dispatchers (provide)
}


def provide(fun):
    """Decorator: a dispatcher generated code calls by ``fun.__name__`` (call_vjp, call_jvp)."""
    RUNTIME[fun.__name__] = fun
    return fun


def runtime_objects(names):
    """``{generated name: object}`` for ``{helper: generated name}`` (``unit.runtime``); names
    that are not helpers (the emitter's own variables, such as ``_stack``) are left out."""
    return {generated: RUNTIME[base] for base, generated in names.items() if base in RUNTIME}
