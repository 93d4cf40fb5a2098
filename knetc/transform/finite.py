"""Finding the first generated line that produced a NaN or an infinity.

Used by ``knet.grad(f, check_finite=True)``: when a gradient is not finite,
the call is replayed under a line tracer that watches the locals of the
generated code and stops at the first line whose result is not finite.
"""
import math
import sys

from ..errors import KnetError
from ..runtime.backend import array_module, is_array
from ..runtime.structure import tree_leaves


class NonFiniteGradientError(KnetError, FloatingPointError):
    """A gradient contained NaN or inf; the message names where it appeared."""


def is_finite_tree(x):
    """True when every float leaf of ``x`` is finite."""
    return not any(_bad(leaf) for leaf in tree_leaves(x))


def _bad(value):
    if is_array(value):
        return value.dtype.kind in "fc" and not bool(array_module(value).isfinite(value).all())
    if isinstance(value, float):
        return not math.isfinite(value)
    return False


def locate(run):
    """Run ``run()`` under a tracer watching all generated code.

    Returns ``(compiled, generated line, user line, variable)`` for the first
    line whose result is not finite, or None.
    """
    from .compiler import GENERATED
    found = []
    seen = {}

    def tracer(frame, event, arg):
        if frame.f_code.co_filename not in GENERATED:
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
                        found.append((GENERATED[frame.f_code.co_filename], prev_line, name))
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
    import linecache
    return linecache.getline(compiled.filename, line).strip()
