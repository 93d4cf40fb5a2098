"""Finding the first generated line that produced a NaN or an infinity.

Used by ``knet.grad(f, check_finite=True)``: when a gradient is not finite,
the call is replayed under a line tracer that watches the locals of the
generated code and stops at the first line whose result is not finite.
"""
import linecache
import math
import sys
import warnings

import numpy as np

from ..arguments import seed
from ..errors import NonFiniteGradientError
from ..runtime.backend import module_of, is_array
from .source import short_filename
from .tracebacks import compiled_of
from ..runtime.structure import tree_leaves


def check_finite(name, grads, vjp, values, closure, seed_of=seed):
    """Raise NonFiniteGradientError naming the first generated line that made ``grads`` (of the
    gradient of ``name``, computed by ``vjp(*values, *closure)`` and the pullback seeded with
    ``seed_of(result)``) not finite; nothing if they are."""
    if is_finite_tree(grads):
        return

    def replay():   # silent: the run before already gave NumPy's warnings once
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            ans, pullback = vjp(*values, *closure)
            pullback(seed_of(ans))
    where = locate(replay)
    if where is None:
        raise NonFiniteGradientError(f"knetc: the gradient of {name} contains NaN or inf")
    compiled, line, user_line, var = where
    user_text = linecache.getline(compiled.user_filename, user_line).strip() if user_line else ""
    raise NonFiniteGradientError(
        f"knetc: the gradient of {name} contains NaN or inf; the first non-finite value "
        f"({var}) came from the generated line: {generated_line_text(compiled, line)}\n"
        f"  in the gradient of {short_filename(compiled.user_filename)}:{user_line}: {user_text}")


def is_finite_tree(x):
    """True when every float leaf of ``x`` is finite."""
    return not any(_bad(leaf) for leaf in tree_leaves(x))


def _bad(value):
    if is_array(value):
        return value.dtype.kind in "fc" and not bool(module_of(value).isfinite(value).all())
    if isinstance(value, float):
        return not math.isfinite(value)
    return False


def locate(run):
    """Run ``run()`` under a tracer watching all generated code.

    Returns ``(compiled, generated line, user line, variable)`` for the first
    line whose result is not finite, or None.
    """
    found = []
    seen = {}

    def tracer(frame, event, arg):
        if compiled_of(frame.f_code.co_filename) is None:
            return None
        return local_tracer

    def local_tracer(frame, event, arg):
        if found:
            return None
        if event in ("line", "return"):
            key = id(frame)
            prev_line = seen.get(key)
            if prev_line is not None:
                for name, value in frame.f_locals.items():
                    if _bad(value) and not _was_bad(frame, name, seen):
                        found.append((compiled_of(frame.f_code.co_filename), prev_line, name))
                        break
            seen[key] = frame.f_lineno
            _remember(frame, seen)
        return local_tracer

    old = sys.gettrace()
    sys.settrace(tracer)
    try:
        run()
    except Exception:
        pass
    finally:
        sys.settrace(old)
    if not found:
        return None
    compiled, line, name = found[0]
    return compiled, line, _nearest_user_line(compiled, line), name


def _remember(frame, seen):
    seen[("bad", id(frame))] = {n for n, v in frame.f_locals.items() if _bad(v)}


def _was_bad(frame, name, seen):
    return name in seen.get(("bad", id(frame)), set())


def _nearest_user_line(compiled, line):
    candidates = [g for g in compiled.line_map if g <= line]
    return compiled.line_map[max(candidates)] if candidates else None


def generated_line_text(compiled, line):
    """The text of a line of the generated module."""
    return linecache.getline(compiled.filename, line).strip()
