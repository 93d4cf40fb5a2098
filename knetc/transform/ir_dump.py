"""A readable dump of the IR and of each pipeline stage (``verbose=2``, ``knetc show --stages``).

:func:`dump` prints IR statements one per line, indented like Python, each
with the user's line number; :func:`stage_text` renders what a pass of
:mod:`~knetc.transform.pipeline` left in the unit, and :class:`StageLog`
collects those texts as the pipeline's ``report``.
"""
import ast

import gast

from . import ir


def dump(stmts, active=(), indent=0):
    """The IR statements ``stmts`` as text, one per line; targets in ``active`` are starred."""
    out = []
    for s in stmts:
        pad = "    " * indent
        head = _statement(s)
        mark = "*" if _target(s) in active else " "
        text = f"{pad}{head}"
        out.append(f"{mark} {text:<64} # line {s.line}" if s.line else f"{mark} {text}")
        for label, body in _blocks(s):
            if label:
                out.append(f"  {pad}{label}")
            out.append(dump(body, active, indent + 1) if body else f"  {pad}    pass")
    return "\n".join(out)


def _target(s):
    return getattr(s, "target", None) or getattr(s, "obj", None)


def _blocks(s):
    if isinstance(s, ir.If):
        return [("", s.body)] + ([("else:", s.orelse)] if s.orelse else [])
    if isinstance(s, (ir.For, ir.While)):
        return [("", s.body)]
    return []


def _statement(s):
    """One statement's head line."""
    if isinstance(s, ir.Assign):
        e = s.expr
        line = ir.plain_assignment(s)
        if line is None and isinstance(e, ir.HelperCall):
            args = [str(a) for a in e.args] + [f"{k}={v}" for k, v in e.kwargs]
            line = f"{s.target} = call {e.func}({', '.join(args)})"
        if line is None:
            line = f"{s.target} = {e!r}"
        kind = type(e).__name__
        return f"{line}    [{kind}{', ' + s.write + ' write' if s.write else ''}]"
    if isinstance(s, ir.SetItem):
        return f"{s.obj}[{s.index_src}] = {s.value}"
    if isinstance(s, ir.Append):
        return f"{s.value} = {s.obj}.pop()" if s.pop else f"{s.obj}.append({s.value})"
    if isinstance(s, ir.Effect):
        return f"{s.text}    [effect]"
    if isinstance(s, ir.If):
        return f"if {s.test}:"
    if isinstance(s, ir.For):
        return f"for {s.target} in {s.seq}:" + (f"    [break flag {s.brk}, count {s.count}]" if s.brk else "")
    if isinstance(s, ir.While):
        return f"while True:    [exit flag {s.brk}, count {s.count}]"
    if isinstance(s, ir.LocalDef):
        return f"def {s.name}(...)    [nested function, free: {', '.join(s.free) or '-'}]"
    return repr(s)


def _python(stmts):
    """gast statements (before lowering) as Python source."""
    module = gast.gast_to_ast(gast.Module(body=list(stmts), type_ignores=[]))
    return ast.unparse(ast.fix_missing_locations(module))


def stage_text(stage, unit, detail=None):
    """What the pass ``stage`` left in ``unit`` (``detail``: what the stage produced besides)."""
    if stage in ("parse", "jumps"):
        return _python(unit.body)
    if stage == "kinds":
        kinds = unit.kinds.kind
        return "\n".join(f"{name}: {kinds[name]}" for name in sorted(kinds)) or "(no variables)"
    if stage == "activity":
        active = sorted(unit.differentiated)
        return (dump(unit.body, unit.differentiated) + "\n" +
                f"differentiated (*): {', '.join(active) or 'nothing'}")
    if stage == "emit":
        fwd, rev = detail
        return ("forward:\n" + _lines(fwd) + "\nreverse:\n" + _lines(rev))
    if stage == "assemble":
        return detail.rstrip("\n")
    if stage == "compile":
        return f"compiled as {detail}"
    return dump(unit.body, unit.differentiated or ())


def _lines(lines):
    items = list(lines.items)
    least = min((ln.indent for ln in items), default=0)
    return "\n".join("    " * (ln.indent - least + 1) + ln.text for ln in items)


class StageLog:
    """A pipeline ``report`` that keeps ``(stage, text)`` for each stage, in order."""

    def __init__(self):
        self.stages = []
        self._last = None

    def __call__(self, stage, unit, detail):
        text = stage_text(stage, unit, detail)
        if stage == "kinds" or stage == "emit":
            self.stages.append((stage, text))
            return
        shown = "(unchanged)" if text == self._last else text
        self._last = text
        self.stages.append((stage, shown))

    def text(self):
        """All stages, each under a ``== stage ==`` heading."""
        return "\n".join(f"== {stage} ==\n{text}\n" for stage, text in self.stages)
