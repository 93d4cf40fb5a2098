"""What a gradient object reports about the code behind it.

:class:`knetc.api.GradFunction` (and ``knet.vjp``, ``knet.hvp``) show what their
latest call ran: whether a helper went to the tape (``.mode`` 'mixed'), the
generated source of the function and of every helper it compiled, with a line
for each helper that ran on the tape and why, the seconds spent compiling,
and, for ``verbose``, how an argument's structure changed between compiles.
Nothing here runs on the per-call path.
"""
from .runtime.backend import is_array
from .runtime.structure import is_record, tree_leaves
from .transform import cache


def uses_tape(vjp):
    """True when ``vjp`` runs on the tape, or its compiled code calls a helper that does."""
    compiled = getattr(vjp, "compiled", None)
    if compiled is None or getattr(vjp, "taped", None):
        return True
    for f in getattr(compiled, "helper_funs", []):
        if cache.mode_of(f) == "tape":
            return True
    return False


def collect_compiled(compiled, seen=None):
    """``compiled`` and the compiled code of the helpers it calls, each once."""
    seen = seen if seen is not None else set()
    if id(compiled) in seen:
        return []
    seen.add(id(compiled))
    out = [compiled]
    for f in getattr(compiled, "helper_funs", []):
        sub = cache.latest_compiled(f)
        if sub is not None:
            out.extend(collect_compiled(sub, seen))
    return out


def taped_helpers(compiled_list, recorded=()):
    """``(name, reason)`` of the helpers these compiled functions call that run on the tape
    (``recorded``: those a run saw going to the tape)."""
    out = {}
    funs = [f for c in compiled_list for f in getattr(c, "helper_funs", [])] + list(recorded)
    for f in funs:
        code = getattr(f, "__code__", None)
        if cache.mode_of(f) == "tape" and code not in out:
            reason = cache.fallback_reason(f) or "the compiler cannot handle it"
            out[code] = (getattr(f, "__name__", repr(f)), reason.replace("knetc: ", "", 1))
    return list(out.values())


def generated_source(last, name):
    """The generated Python behind ``last`` (a gradient's ``(vjp, mode)`` of its latest call, or
    None) and the helpers it compiled, with a comment for each helper on the tape."""
    vjp = last[0] if last else None
    compiled = getattr(vjp, "compiled", None)
    if compiled is None:
        if last is not None:
            return f"# {name} runs on the tape: no generated code\n"
        return f"# {name} has not been called yet: the code is generated on the first call\n"
    parts = collect_compiled(compiled)
    taped = [f"# {helper} runs on the tape (no generated code): {reason}\n"
             for helper, reason in taped_helpers(parts, getattr(vjp, "taped", ()))]
    return "\n\n".join([c.source for c in parts] + taped)


def compile_seconds(last):
    """Seconds spent generating and compiling the code behind ``last`` (helpers included)."""
    vjp = last[0] if last else None
    compiled = getattr(vjp, "compiled", None)
    if compiled is None:
        return 0.0
    return sum(c.compile_seconds for c in collect_compiled(compiled))


def describe_structure(x):
    """'list of 4 arrays', 'dict with keys a, b', 'array', 'float'."""
    if isinstance(x, (list, tuple)):
        kinds = sorted({"array" if is_array(v) else type(v).__name__ for v in x})
        return f"{type(x).__name__} of {len(x)} {'/'.join(k + 's' for k in kinds)}"
    if isinstance(x, dict):
        return f"dict with keys {', '.join(map(str, x))}"
    if is_record(x):
        return f"{type(x).__name__} of {len(tree_leaves(x))} leaves"
    return "array" if is_array(x) else type(x).__name__
