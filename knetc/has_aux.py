"""``has_aux=True`` for ``grad`` and ``value_and_grad``: ``f`` returns ``(loss, aux)``.

Only ``loss`` is differentiated; ``aux`` (any structure, possibly holding arrays
computed from the differentiated arguments) comes back as the forward pass
computed it, never a traced value, and no adjoint flows from it (not even zeros,
which would turn ``0 * inf`` into NaN in the gradient).

Compiled: the lowered function's result ``(loss, aux)`` is rewritten to
``(loss, _aux1)`` with ``_aux1 = aux`` a constant, so the activity analysis
leaves the whole aux computation out of the adjoint. On the tape: the pullback
is seeded with ``(1, None)``, and the tape seeds nothing for None.
"""
from .errors import GradientInputError
from .arguments import scalar_value, seed
from .runtime import tape
from .transform import cache, ir


def constant_aux(unit):
    """Make the second element of every ``return loss, aux`` of a lowered function a constant."""
    found = False
    for block in ir.blocks(unit.body):
        for s in list(block):
            if not (isinstance(s, ir.Assign) and s.target == unit.result):
                continue
            e = s.expr
            if isinstance(e, ir.Copy) and e.src == "None":     # the placeholder before an early return
                continue
            if not (isinstance(e, ir.Build) and e.kind == "tuple" and len(e.elts) == 2):
                raise unit.error_at(s.line, "has_aux=True on a function whose result is not written as a pair "
                                    "(return loss, aux)", "return the pair itself")
            aux = e.elts[1]
            constant = unit.names.temp("aux")
            block.insert(block.index(s), ir.Assign(line=s.line, target=constant, expr=ir.Const(aux, [aux])))
            e.elts[1] = constant
            found = True
    if not found:
        raise unit.error_at(unit.source.node.lineno, "has_aux=True on a function that returns no (loss, aux) pair")


def compiled_for(fun, active, values, mode):
    """``(vjp, used)`` as :func:`knetc.transform.cache.compiled_for`, for ``fun`` returning
    ``(loss, aux)``: the vjp's pullback takes ``(seed, None)``."""
    return cache.compiled_for(fun, tuple(active), values, mode, rewrite=constant_aux)


def split(ans, name):
    """``(loss, aux)`` from the result of a function called with has_aux=True."""
    if not isinstance(ans, tuple) or len(ans) != 2:
        raise GradientInputError(f"knetc: {name} was given has_aux=True, so it must return a pair "
                                 f"(loss, aux); it returned {type(ans).__name__}")
    return ans


def taped_value_and_grad(fun, args, kwargs, wrt):
    """``((loss, aux), gradients)`` on the tape: only ``loss`` is seeded."""
    indices = tuple(i % len(args) for i in (wrt if isinstance(wrt, tuple) else (wrt,)))
    ans, pullback = tape.make_vjp(fun, indices)(*args, **kwargs)
    loss, aux = split(ans, getattr(fun, "__name__", repr(fun)))
    value = scalar_value(loss, getattr(fun, "__name__", repr(fun)))
    adjoints = pullback((seed(loss), None))
    grads = tuple(adjoints[i] for i in indices)
    return (value, aux), (grads if isinstance(wrt, tuple) else grads[0])
