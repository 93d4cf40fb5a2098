"""Hessians: ``hvp`` (Hessian-vector products) and ``hessian``, compiled where the compiler can.

The compiled path differentiates generated code twice. Forward mode compiles
``f``'s tangent program (:mod:`knetc.transform.forward`)::

    def loss_jvp(w, x, tw):  ...  return loss, tloss

``tloss = <grad f(w), tw>`` is a plain Python function of ``w`` (no closure, no
saved stack: forward mode runs once, in program order), so the reverse compiler
compiles its gradient like any user function, and that gradient is
``d/dw <grad f(w), tw> = H tw`` (H is symmetric): reverse mode over the tangent
program, two generated passes and no tape. (Forward mode over the generated
*gradient* would need a model of its pullback closure, its saved stack and its
``nonlocal`` writes; the tangent program has none of them.)

Where either pass does not compile, the product runs on the tape (reverse over
reverse) after a :class:`~knetc.FallbackWarning` naming the reason;
``mode="source"`` forbids that, ``mode="tape"`` asks for it.
"""
import functools
import linecache
import types
import warnings

import numpy as np

from .errors import FallbackWarning, GradientInputError, UnsupportedError
from .arguments import location, plain_function
from .transform.source import short_filename
from .compiled_report import uses_tape
from .operator_trees import check_float_tree, name_of, tangent_like, traced as _traced, wrt_tuple
from .jacobians import _assemble, _basis
from .operators import _with_defaults
from .runtime import tape
from .runtime.rules import Primitive
from .runtime.tree import match_structure, tree_flatten, tree_unflatten
from .transform import cache, forward_calls, tracebacks
from .transform import tangent_rules  # noqa: F401  (the reverse compiler reads tangent programs)

__all__ = ["hvp", "hessian"]

_MODES = ("auto", "source", "tape")
_WARNED = set()


class HvpFunction:
    """``hvp(f)``: call it as ``product(*args, v)``; ``.mode`` says how the latest call ran
    ('source': both passes generated, 'mixed': some helper on the tape, 'tape')."""

    def __init__(self, fun, wrt=0, mode="auto"):
        if mode not in _MODES:
            raise ValueError(f"knetc: mode must be one of {_MODES}, not {mode!r}")
        self.fun, self.wrt, self.requested_mode = fun, wrt, mode
        self.mode = "not called yet"
        functools.update_wrapper(self, fun, updated=())

    def __call__(self, *args):
        *inputs, v = args
        indices = wrt_tuple(self.wrt, len(inputs))
        if _traced(inputs, v):         # inside a function being taped (a gradient of hvp): the tape nests
            self.mode = "tape"
            return tape.hvp(self.fun, _numpy_floats_at(inputs, self.wrt), v, wrt=self.wrt)
        for i in indices:
            check_float_tree(inputs[i], f"argument {i} of {name_of(self.fun)}")
        directions = v if isinstance(self.wrt, tuple) else (v,)
        if len(directions) != len(indices):
            raise GradientInputError(f"knetc: hvp with wrt={self.wrt!r} takes one direction per "
                                     "differentiated argument")
        for k, (d, i) in enumerate(zip(directions, indices)):
            if tree_flatten(d)[1] != tree_flatten(inputs[i])[1]:
                raise GradientInputError(f"knetc: hvp's direction {k} does not have the structure of argument {i}")
        directions = tuple(tangent_like(inputs[i], d) for d, i in zip(directions, indices))
        h = None
        if self.requested_mode == "source" and not _compilable(self.fun):
            raise UnsupportedError(f"mode='source' on {self.fun!r}", *location(plain_function(self.fun)[0]),
                                   detail="the compiled Hessian-vector product takes plain Python functions: "
                                          "use mode='auto' or 'tape'")
        if self.requested_mode != "tape" and _compilable(self.fun):
            h = self._compiled(list(inputs), indices, directions)
        if h is None:
            h = tape.hvp(self.fun, _numpy_floats_at(inputs, self.wrt), v, wrt=self.wrt)
            h = h if isinstance(self.wrt, tuple) else (h,)
            self.mode = "tape"
        out = tuple(_like(hi, inputs[i]) for hi, i in zip(h, indices))
        return out if isinstance(self.wrt, tuple) else out[0]

    def _compiled(self, inputs, indices, directions):
        """H v from reverse mode over the compiled tangent program, or None (the tape) after a warning."""
        fun, mode = self.fun, self.requested_mode
        tangent_rules.refresh()
        active = tuple(i in indices for i in range(len(inputs)))
        free = forward_calls.closure_values(fun)
        values, active = _with_defaults(fun, inputs, active)
        fn, used = forward_calls.jvp_of(fun, active + (False,) * len(free), values + free, mode)
        if used != "source":        # jvp_of warned, naming what forward mode refused
            return None
        jvp_args = [*values, *free, *directions]
        mask = tuple(i in indices for i in range(len(jvp_args)))
        program = _flat_program(fn)
        try:
            tangent_rules.refuse_helper_writes(fn, fun)
            with cache.requested_mode(mode):
                vjp, used = cache.compiled_for(program, mask, jvp_args, mode)
                if used != "source":
                    raise UnsupportedError(cache.FALLBACK_REASONS.get(program.__code__, "it does not compile"))
                saved, cache.TAPED_LOG[0] = cache.TAPED_LOG[0], set()
                try:     # which helpers run on the tape (known only once they run): .mode says 'mixed'
                    (value, tangent), pullback = vjp(*jvp_args)
                    adjoints = pullback((_zero(value), _one(tangent)))
                finally:
                    taped, cache.TAPED_LOG[0] = cache.TAPED_LOG[0], saved
                    if saved is not None:
                        saved |= taped
            reversed_on_tape = [f for f in taped if tracebacks.is_generated(f.__code__.co_filename)]
            if reversed_on_tape:
                # the tape reversing a tangent program that calls a helper's tangent (taped in
                # forward mode) gives wrong products: the whole product goes on the tape
                raise UnsupportedError(f"the reverse pass over {reversed_on_tape[0].__name__} on the tape, inside "
                                       "a compiled Hessian-vector product")
        except UnsupportedError as err:
            err = _at_users_line(err, fn.compiled, fun)
            if mode == "source":
                raise err
            _warn(fun, f"the reverse pass over its tangent program does not compile: {err}")
            return None
        self.mode = "mixed" if taped or uses_tape(vjp) else "source"
        return tuple(adjoints[i] for i in indices)


def _at_users_line(err, compiled, fun):
    """A refusal inside the generated tangent program, moved to the user's line it came from
    (one raised by a rule while it runs names the function's definition)."""
    if err.filename is None:
        return UnsupportedError(err.construct, *location(fun), detail=err.detail)
    if not err.filename.startswith("<knetc"):
        return err
    if not err.filename.startswith("<knetc tangent program"):      # a helper's generated code
        compiled = tracebacks.GENERATED.get(err.filename)
        if compiled is None:
            return UnsupportedError(err.construct, *location(fun), detail=err.detail)
    lines = [g for g in compiled.line_map if g <= (err.lineno or 0)]
    if not lines:
        return err
    return UnsupportedError(f"{err.construct} (in the tangent program the Hessian-vector product reverses)",
                            short_filename(compiled.user_filename), compiled.line_map[max(lines)], None,
                            err.detail)


_FLAT = {}


def _flat_program(fn):
    """The generated tangent program ``fn`` as a module-level function: its runtime helpers
    (closure values of the code generator's factory) become globals beside the user's, so
    the reverse compiler resolves them as the rules they are. The user's globals are
    copied in again on every call: a global rebound since is seen."""
    entry = _FLAT.get(fn)
    if entry is None:
        compiled = fn.compiled
        filename = f"<knetc tangent program of {compiled.filename.strip('<>')}>"
        text = compiled.source
        linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
        helpers = dict(zip(fn.__code__.co_freevars, (c.cell_contents for c in fn.__closure__ or ())))
        space = {}
        exec(compile(text, filename, "exec"), space)
        program = types.FunctionType(space[fn.__name__].__code__, space, fn.__name__)
        if len(_FLAT) > 256:
            _FLAT.clear()
        entry = _FLAT[fn] = (program, helpers)
    program, helpers = entry
    space = program.__globals__
    space.update(fn.__globals__)
    space.update(helpers)
    return program


def _compilable(fun):
    return type(fun) is types.FunctionType and not isinstance(fun, Primitive) and hasattr(fun, "__code__")


def _warn(fun, why):
    code = getattr(fun, "__code__", None)
    if code in _WARNED:
        return
    _WARNED.add(code)
    warnings.warn(f"knetc: the Hessian-vector product of {name_of(fun)} runs on the tape: "
                  f"{why.replace('knetc: ', '')}", FallbackWarning, stacklevel=4)


def _zero(x):
    return x * 0.0


def _one(x):
    return x * 0.0 + 1.0


def _like(h, x):
    """The product shaped like the argument: zeros for untouched parts, floats for float leaves."""
    h = match_structure(h if h is not None else 0.0, x)
    x_leaves, spec = tree_flatten(x)
    h_leaves, _ = tree_flatten(h)
    return tree_unflatten(spec, [float(b) if isinstance(a, float) else b for a, b in zip(x_leaves, h_leaves)])


def hvp(fun, wrt=0, mode="auto"):
    """Hessian-vector product: ``hvp(f)(*args, v)`` = (d^2 f / dx^2) v for x = args[wrt].

    ``v`` has the structure of ``args[wrt]`` (a tuple of directions when
    ``wrt`` is a tuple), and so has the result. Compiled (reverse mode over
    the generated tangent program of ``f``: see the module docstring) where
    both passes compile; ``mode="tape"`` records instead, ``"source"``
    forbids the tape. ``hvp(f).mode`` reports how the latest call ran.
    """
    return HvpFunction(fun, wrt, mode)


def hessian(fun, wrt=0, mode="auto"):
    """The Hessian of scalar ``fun`` with respect to argument ``wrt``, as a function of the arguments.

    For an array argument of shape ``s`` the result has shape ``s + s``; for a
    structure, a tree of trees (``H[i][j]`` pairs leaf i with leaf j). Computed
    column by column as Hessian-vector products (:func:`hvp`, compiled where
    both passes compile).
    """
    product = HvpFunction(fun, wrt, mode)

    @functools.wraps(fun)
    def hessian_of(*args):
        (i,) = wrt_tuple(wrt, len(args))
        check_float_tree(args[i], f"argument {i} of {name_of(fun)}")
        leaves, spec = tree_flatten(args[i])
        rows = [[[] for _ in leaves] for _ in leaves]
        for a, leaf in enumerate(leaves):
            for k in range(int(np.size(leaf))):
                v = tree_unflatten(spec, _basis(leaves, a, k))
                column = product(*args, v)
                for b, piece in enumerate(tree_flatten(column)[0]):
                    rows[b][a].append(piece)
        hessian_of.mode = product.mode
        return _assemble(rows, leaves, spec, leaves, spec, "fwd")

    hessian_of.mode = "not called yet"
    return hessian_of


def _numpy_floats_at(args, wrt):
    """``args`` with the Python floats of ``args[wrt]`` as NumPy float64 scalars: the nested tape
    of a Hessian-vector product, seeded by a Python float, mistakes it for a non-scalar."""
    args = list(args)
    for i in (wrt if isinstance(wrt, tuple) else (wrt,)):
        leaves, spec = tree_flatten(args[i])
        args[i] = tree_unflatten(spec, [np.float64(x) if isinstance(x, float) else x for x in leaves])
    return tuple(args)
