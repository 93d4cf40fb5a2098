"""Is this float() of a traced value an explicit conversion, or a lost gradient?

Python calls ``__float__`` both for ``float(x)`` (the user asks for a plain
number, e.g. for control flow or logging) and when a C function needs a double:
``math.exp(x)`` through a name bound before tracing, ``a[i] = x`` into a NumPy
array, ``struct.pack``... In the second group the derivative would vanish
without a trace, so the tape's boxes ask this module, which reads the caller's
current bytecode instruction and its source positions (Python 3.11+):

* a call whose callee resolves to a float type (``float``, ``np.float64``,
  ``complex``) is an explicit conversion: allowed, unless the rule table gives
  that type a derivative (then the shims of :mod:`knetc.runtime.shims` record
  it where they are installed, and elsewhere it would lose the gradient);
* ``%`` string formatting and f-string formatting: allowed (no arithmetic);
* any other call (``exp(x)``, ``list(map(float, xs))``), an item assignment,
  or an unidentifiable caller: refused, with a description of the culprit.

Code objects without position information (Python 3.10, ``-X no_debug_ranges``)
cannot be analysed; there conversions are allowed.
"""
import dis
import types

import numpy as np

from .rules import rule_for

_ALLOW = "allow"
_CALLS = {"CALL", "CALL_FUNCTION_EX", "CALL_KW", "CALL_FUNCTION", "CALL_METHOD", "CALL_FUNCTION_KW"}
_FORMATTING = {"BINARY_OP", "BINARY_MODULO", "FORMAT_VALUE", "FORMAT_SIMPLE", "FORMAT_WITH_SPEC",
               "CONVERT_VALUE"}
_STORES = {"STORE_SUBSCR", "STORE_SLICE"}
_NAME_LOADS = {"LOAD_GLOBAL", "LOAD_NAME", "LOAD_FAST", "LOAD_FAST_CHECK", "LOAD_DEREF",
               "LOAD_CLASSDEREF", "LOAD_FROM_DICT_OR_DEREF", "LOAD_FROM_DICT_OR_GLOBALS"}
_ATTR_LOADS = {"LOAD_ATTR", "LOAD_METHOD"}

_PLANS = {}
_INSTRUCTIONS = {}


def float_conversion_culprit(frame):
    """None if ``float()`` of a traced value at ``frame``'s current instruction is explicit.

    Otherwise a short description of what is converting it ("exp (math.exp)",
    "an item assignment a[i] = x", ...), for the error message.
    """
    code = frame.f_code
    key = (code, frame.f_lasti)
    plan = _PLANS.get(key)
    if plan is None:
        plan = _PLANS[key] = _plan(code, frame.f_lasti)
    if plan is _ALLOW:
        return None
    if isinstance(plan, str):
        return plan
    base_op, base_name, attrs, text = plan
    obj = _resolve(frame, base_op, base_name, attrs)
    if obj is _UNRESOLVED:
        return f"the call {text}(...)"
    if isinstance(obj, type) and issubclass(obj, (float, complex, np.floating, np.complexfloating)):
        if rule_for(obj) is None:
            return None  # a conversion the rule table treats as a constant
        return f"the call {text}(...) ({_describe(obj)}, differentiable in knetc)"
    return f"the call {text}(...) ({_describe(obj)})"


def _instructions(code):
    ins = _INSTRUCTIONS.get(code)
    if ins is None:
        ins = _INSTRUCTIONS[code] = list(dis.get_instructions(code))
    return ins


def _extent(pos):
    return (pos.end_lineno, pos.end_col_offset)


def _plan(code, lasti):
    try:
        instructions = _instructions(code)
    except Exception:  # noqa: BLE001 - unreadable bytecode: cannot judge
        return _ALLOW
    current = next((i for i in instructions if i.offset == lasti), None)
    if current is None:
        return _ALLOW
    if current.opname in _STORES:
        return "an item assignment into an array (a[i] = x)"
    if current.opname in _FORMATTING:
        return _ALLOW
    pos = getattr(current, "positions", None)
    if pos is None or pos.lineno is None or pos.col_offset is None:
        return _ALLOW  # no position information: cannot judge
    if current.opname not in _CALLS:
        return f"the operation {current.opname} at line {pos.lineno}"
    # Instructions that start where the call starts and end before it: the
    # callee expression and its parts (``math``, then ``math.exp``).
    parts = [i for i in instructions
             if i.offset < lasti and i.positions is not None
             and i.positions.lineno == pos.lineno and i.positions.col_offset == pos.col_offset
             and i.positions.end_lineno is not None and _extent(i.positions) < _extent(pos)
             and i.opname not in ("PUSH_NULL", "PRECALL", "KW_NAMES", "CACHE")]
    if not parts:
        return f"a call at line {pos.lineno}"
    parts.sort(key=lambda i: (_extent(i.positions), i.offset), reverse=True)
    attrs = []
    for ins in parts:
        if ins.opname in _ATTR_LOADS:
            attrs.append(ins.argval)
            continue
        if ins.opname in _NAME_LOADS:
            attrs.reverse()
            text = ".".join([ins.argval] + attrs)
            return (ins.opname, ins.argval, tuple(attrs), text)
        break
    return f"a call at line {pos.lineno}"


_UNRESOLVED = object()


def _resolve(frame, op, name, attrs):
    missing = _UNRESOLVED
    if op in ("LOAD_FAST", "LOAD_FAST_CHECK", "LOAD_DEREF", "LOAD_CLASSDEREF", "LOAD_FROM_DICT_OR_DEREF"):
        obj = frame.f_locals.get(name, missing)
    elif op == "LOAD_NAME":
        obj = frame.f_locals.get(name, missing)
        if obj is missing:
            obj = frame.f_globals.get(name, frame.f_builtins.get(name, missing))
    else:
        obj = frame.f_globals.get(name, frame.f_builtins.get(name, missing))
    for attr in attrs:
        if obj is missing or not isinstance(obj, (types.ModuleType, type)):
            return missing  # getattr on arbitrary objects could run user code
        obj = getattr(obj, attr, missing)
    return obj


def _describe(obj):
    target = getattr(obj, "func", None) or obj  # functools.partial
    name = getattr(target, "__qualname__", None) or getattr(target, "__name__", None) or type(target).__name__
    module = getattr(target, "__module__", None)
    return f"{module}.{name}" if module and module != "builtins" else name
