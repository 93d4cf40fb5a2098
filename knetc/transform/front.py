"""The front end's first passes: parse, jumps, lower.

* :func:`parse` consumes the user's function; it guarantees the unit's
  ``source`` (gast node, file, lines), ``params`` and ``freevars``, the set of
  ``locals``, a :class:`~knetc.transform.unit.NameGenerator` that avoids every
  name the function uses, the name of the ``result``, the compile-time
  ``values`` of parameters and closure cells, and ``active_params``. It
  refuses ``*args``, ``**kwargs`` and positional-only parameters.
* :func:`jumps` rewrites ``return``, ``break`` and ``continue`` into
  assignments to the result and flag tests (:mod:`~knetc.transform.jumps`),
  so the body is straight-line code with ``if``, ``for`` and ``while``.
* :func:`lower` turns that body into the IR (:mod:`~knetc.transform.ir`,
  one operation per statement, names resolved in ``scope``) in ``body``.
"""
import gast

from ..runtime import creation
from .jumps import JumpLowering, flatten
from .lower import Lowerer
from .resolve import Scope
from .source import get_function_source
from .syntax import assigned_names
from .unit import NameGenerator


def parse(unit):
    """The function's source, parameters and names (see module docstring)."""
    fun = unit.fun
    unit.source = get_function_source(fun)
    node = unit.source.node
    if isinstance(node, gast.FunctionDef):
        args = node.args
        if args.vararg or args.kwarg or args.posonlyargs:
            raise unit.source.error("*args, **kwargs or positional-only parameters", node)
        body = node.body
    else:  # lambda
        args = node.args
        body = [gast.Return(value=node.body)]
        gast.copy_location(body[0], node)
    unit.body = body
    unit.params = [a.id for a in args.args] + [a.id for a in args.kwonlyargs]
    unit.freevars = list(fun.__code__.co_freevars)
    unit.locals = set(unit.params) | assigned_names(node) | set(unit.freevars)
    unit.names = NameGenerator(unit.locals | _all_names(node), unit.locals)
    fname = fun.__name__ if fun.__name__.isidentifier() else "f"
    unit.result = unit.names.fresh(fname if fname not in unit.locals else "result")
    unit.locals.add(unit.result)
    unit.on_gpu = creation.on_gpu(*unit.param_values)
    values = dict(zip(unit.params, unit.param_values))
    for name, cell in zip(unit.freevars, fun.__closure__ or ()):
        try:
            values[name] = cell.cell_contents
        except ValueError:
            pass
    unit.values = values
    unit.active_params = [p for p, a in zip(unit.params + unit.freevars, unit.active) if a]


def jumps(unit):
    """``return``/``break``/``continue`` become assignments and flags (gast statements still)."""
    done = unit.names.temp("done")
    lowering = JumpLowering(unit.names.temp, unit.result, done)
    unit.body = flatten(lowering.function_body(list(unit.body)))


def lower(unit):
    """gast statements -> IR statements, names resolved against the function's globals and closure."""
    scope = Scope(unit.fun)
    for v in unit.freevars:       # closure values arrive as parameters
        scope.closure.pop(v, None)
    unit.scope = scope
    lowerer = Lowerer(unit.source, scope, unit.names, unit.locals, unit.runtime_name)
    for s in unit.body:
        lowerer.stmt(s)
    unit.body = lowerer.out
    unit.device_module = lowerer.device_module
    unit.plain_loops = lowerer.plain_loops
    unit.int_names = lowerer.int_names


def _all_names(node):
    return {n.id for n in gast.walk(node) if isinstance(n, gast.Name)}
