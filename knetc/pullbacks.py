"""``knet.vjp``'s compiled path: a pullback that can be called any number of times.

A generated pullback consumes what its forward pass saved (the loop stack, restored
variables), so it runs once. :class:`Pullback` uses it for the first cotangent and,
for each further one, runs the compiled forward pass again for a fresh pullback. The
new result must equal the first exactly: a function that draws random numbers, or
whose arguments were changed in place since, gives a different one, and the pullback
raises rather than pairing the cotangent with another point. On the tape the recorded
pullback is reused as is.
"""
import numpy as np

from .errors import GradientInputError, KnetError, UnsupportedError
from . import has_aux as aux_outputs
from .api import GradFunction
from .compiled_report import uses_tape
from .arguments import location
from .gradients import owned_list, unalias
from .runtime.backend import module_of, is_array
from .runtime.tree import match_structure, tree_flatten
from .transform import cache
from .operator_trees import traced as _traced


class Pullback:
    """``pullback(cotangent)`` -> the adjoint of the differentiated argument(s).

    ``.mode``: 'source' (compiled), 'mixed' (a helper on the tape) or 'tape'.
    """

    def __init__(self, name, out, adjoints_of, picked, multi, mode):
        self.__name__ = f"pullback of {name}"
        self._name = name
        self._out = out
        self._adjoints_of = adjoints_of     # seed -> one adjoint per parameter
        self._picked = picked               # [(index, value of that argument)]
        self._multi = multi
        self.mode = mode

    def __call__(self, cotangent):
        _check_cotangent(cotangent, self._out, self._name)
        adjoints = self._adjoints_of(cotangent)
        if _traced(adjoints):       # taped inside a function being taped: traced adjoints, as they are
            grads = [adjoints[i] for i, _ in self._picked]
            return tuple(grads) if self._multi else grads[0]
        grads = owned_list(unalias([match_structure(adjoints[i] if adjoints[i] is not None else 0.0, v)
                                    for i, v in self._picked]))
        return tuple(grads) if self._multi else grads[0]

    def __repr__(self):
        return f"<knetc pullback of {self._name} mode={self.mode}>"


def _check_cotangent(cotangent, out, name):
    c_leaves, c_spec = tree_flatten(cotangent)
    o_leaves, o_spec = tree_flatten(out)
    if len(c_leaves) != len(o_leaves) or (c_spec != o_spec and not _same_shape_of_containers(cotangent, out)):
        raise GradientInputError(f"knetc: the cotangent given to the pullback of {name} does not have the "
                                 "structure of its output")
    for c, o in zip(c_leaves, o_leaves):
        if np.shape(c) != np.shape(o) and (is_array(o) or np.ndim(c)):
            raise GradientInputError(f"knetc: the cotangent given to the pullback of {name} has a leaf of shape "
                                     f"{np.shape(c)} where the output has {np.shape(o)}")


def _same_shape_of_containers(a, b):
    """Lists and tuples are interchangeable in a cotangent (a tuple output, a list cotangent)."""
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same_shape_of_containers(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_shape_of_containers(a[k], b[k]) for k in a)
    return not isinstance(a, (list, tuple, dict)) and not isinstance(b, (list, tuple, dict))


def compiled_vjp(fun, args, wrt, mode, has_aux):
    """``(out, Pullback, aux)`` through the compiler, or None where ``fun`` is not a Python
    function it can take (then the caller records on the tape). Raises UnsupportedError only
    with ``mode="source"``."""
    probe = GradFunction(fun, wrt=wrt, mode=mode)
    if not probe._compilable:
        return None
    values = probe._bind(args, {})
    indices = probe._wrt_indices(len(values))
    active = probe._active_cache[len(values)]
    target = probe._target
    compiled_for = aux_outputs.compiled_for if has_aux else cache.compiled_for
    vjp, used = compiled_for(target, active, values, mode)
    if used != "source":      # the tape's vjp: the caller records once instead (its pullback is reusable)
        cache.warn_fallback(target, cache.FALLBACK_REASONS.get(target.__code__, "the compiler refused it"))
        return None
    closure = cache.closure_values(target)
    if getattr(vjp.compiled, "mutated", None):
        if mode == "source":
            raise UnsupportedError(f"knet.vjp of {target.__name__}, which writes into a differentiated argument",
                                   *location(target), detail="running it again would write again")
        return None

    def run():
        saved, cache.TAPED_LOG[0] = cache.TAPED_LOG[0], set()
        try:
            with cache.requested_mode(mode):
                ans, pullback = vjp(*values, *closure)
        finally:
            taped, cache.TAPED_LOG[0] = cache.TAPED_LOG[0], saved
        return ans, pullback, taped

    ans, first, taped = run()
    out, aux = aux_outputs.split(ans, target.__name__) if has_aux else (ans, None)
    pending = [first]

    def adjoints_of(cotangent):
        pullback, pending[0] = pending[0], None
        if pullback is None:           # a generated pullback runs once: a fresh forward pass
            again, pullback, _ = run()
            if not _identical(again, ans):
                raise KnetError(f"knetc: the pullback of {target.__name__} was called again, and running "
                                f"{target.__name__} again gave another result (random numbers, or an argument "
                                "changed in place since knet.vjp): call knet.vjp again, or use mode='tape', which "
                                "records once")
        seed = (cotangent, None) if has_aux else cotangent
        with cache.requested_mode(mode):
            return pullback(seed)

    picked = [(i, values[i]) for i in indices]
    used = "mixed" if taped or uses_tape(vjp) else "source"
    pullback = Pullback(target.__name__, out, adjoints_of, picked, isinstance(wrt, tuple), used)
    return out, pullback, aux


def _identical(a, b):
    a_leaves, a_spec = tree_flatten(a)
    b_leaves, b_spec = tree_flatten(b)
    if a_spec != b_spec or len(a_leaves) != len(b_leaves):
        return False
    for x, y in zip(a_leaves, b_leaves):
        if is_array(x) or is_array(y):
            if np.shape(x) != np.shape(y) or not bool(module_of(x).array_equal(x, y, equal_nan=True)):
                return False
        elif x != y and not (x != x and y != y):
            return False
    return True
