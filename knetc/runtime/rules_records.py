"""Reading a field of a record parameter (a namedtuple, dataclass or registered class).

Compiled code reads ``p.w`` of a record ``p`` as ``field_read(p, 'w')``: the
value is ``getattr(p, 'w')``, which must be an array or a number (a field
holding a container is refused, so the kinds the compiler assumed hold); its
adjoint is the record's *sparse* adjoint holding only that field (see
:mod:`knetc.runtime.tree`): a list with ``ZERO`` slots for a namedtuple, a dict
``{position: g}`` for other records, nothing for a static dataclass field.
"""
import numbers

from ..errors import KnetError
from .backend import is_array
from .rules import defjvp, defvjp, primitive
from .structure import STATIC_TYPES, is_record
from .tree import ZERO, field_position, is_namedtuple, is_zero


@primitive
def field_read(record, name):
    """``getattr(record, name)`` for a field holding an array or a number (else a KnetError).

    A primitive, so the compiler's alias analysis knows the result is part of
    ``record`` (``v = p.w; v *= 2`` writes into the caller's array), not a new value.
    """
    if not is_record(record):
        raise KnetError(f"knetc: compiled code read .{name} of a {type(record).__name__} as a field of a "
                        "record (a namedtuple, dataclass or registered class); run with mode='tape'")
    value = getattr(record, name)
    if not (is_array(value) or isinstance(value, (numbers.Number,) + STATIC_TYPES)):
        raise KnetError(f"knetc: compiled code read {type(record).__name__}.{name} as an array, but it holds a "
                        f"{type(value).__name__} (run with mode='tape', or call the gradient again: "
                        "values of another structure are compiled afresh)")
    return value


def field_adjoint(record, name, g):
    """The adjoint of ``record`` when only its field ``name`` has adjoint ``g``."""
    if is_namedtuple(record):
        out = [ZERO] * len(record)
        out[type(record)._fields.index(name)] = g
        return out
    position = field_position(record, name)
    return {} if position is None else {position: g}


def field_tangent(t, record, name):
    """The tangent of ``record.name`` given the record's tangent ``t`` (same structure)."""
    if is_zero(t):
        return 0.0
    if is_namedtuple(record) and isinstance(t, (list, tuple)):
        return t[type(record)._fields.index(name)]
    if isinstance(t, dict):
        position = field_position(record, name)
        return 0.0 if position is None else t.get(position, 0.0)
    return getattr(t, name)


defvjp(field_read, lambda g, ans, record, name: field_adjoint(record, name, g), None)
defjvp(field_read, lambda t, ans, record, name: field_tangent(t, record, name), None)
