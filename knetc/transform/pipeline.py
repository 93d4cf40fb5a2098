"""The compiler as a list of passes: ``knet.grad(f)``'s function in, a compiled vjp out.

Each pass takes the :class:`~knetc.transform.unit.Unit` and fills or rewrites
part of it; its module's docstring says what it consumes and guarantees.
``report(stage, unit, detail)``, when given, is called after each stage
(``verbose=2`` and ``knetc show --stages`` print the IR with it, see
:mod:`~knetc.transform.ir_dump`).
"""
import time

from . import analysis, compiler, containers, fence, front, sequences, support
from .ir_dump import StageLog
from .reverse import ReverseEmitter
from .unit import Unit

# The front end, shared by reverse and forward mode: (stage name, pass).
FRONT_END = (
    ("parse", front.parse),                        # source, parameters, names
    ("jumps", front.jumps),                        # return/break/continue -> flags
    ("lower", front.lower),                        # gast -> IR, one operation per statement
    ("kinds", analysis.infer_kinds),               # array, list, tuple, dict of every variable
    ("containers", containers.rewrite),            # list/tuple arithmetic, a[i] = v on arrays
    ("fence", fence.check),                        # refuse what has no model; runtime checks
    ("dict loops", sequences.iterate_dicts),       # for k in d binds keys
    ("list snapshots", sequences.snapshot_lists),  # rules see lists as they were
    ("activity", analysis.mark_active),            # which variables are differentiated
    ("traced callees", fence.refuse_traced_callees),
)

# Reverse mode only, between the front end and the emitter.
REVERSE_ONLY = (
    ("replaced elements", sequences.keep_replaced),   # hs[i] = v binds the element it replaces
)


def front_end(fun, active, param_values, report=None, rewrite=None):
    """Run the front-end passes over ``fun`` for an activity mask and the call's values;
    ``rewrite(unit)``, if given, edits the IR after the container rewrites (has_aux makes
    the aux output a constant there)."""
    unit = Unit(fun, active, param_values)
    for stage, run in FRONT_END:
        run(unit)
        if stage == "containers" and rewrite is not None:
            rewrite(unit)
            analysis.infer_kinds(unit)
        if report is not None:
            report(stage, unit, None)
    return unit


def compile_vjp(fun, active, param_values, report=None, rewrite=None):
    """Compile ``fun``'s vjp for the active-parameter mask and argument values (a CompiledVJP);
    ``rewrite`` as in :func:`front_end`."""
    started = time.perf_counter()
    unit = front_end(fun, active, param_values, report, rewrite)
    for stage, run in REVERSE_ONLY:
        run(unit)
        _report(report, stage, unit, None)
    emitter = ReverseEmitter(unit)
    fwd, rev = emitter.emit()
    _report(report, "emit", unit, (fwd, rev))
    name, text = compiler.assemble_vjp(unit, emitter, fwd, rev)
    _report(report, "assemble", unit, compiler.readable(text))
    compiled = compiler.build(unit, name, text, support.runtime_objects(unit.runtime))
    compiled.guard = compiler.guard_of(unit)
    compiled.compile_seconds = time.perf_counter() - started
    _report(report, "compile", unit, compiled.filename)
    return compiled


def stages(fun, active, param_values):
    """The text of every stage of compiling ``fun`` (``verbose=2``, ``knetc show --stages``)."""
    log = StageLog()
    compile_vjp(fun, active, param_values, report=log)
    return log.text()


def _report(report, stage, unit, detail):
    if report is not None:
        report(stage, unit, detail)
