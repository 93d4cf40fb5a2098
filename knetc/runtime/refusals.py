"""Loud refusals inside derivative rules: an argument or option a rule does not model.

A VJP that meets something it has no model of raises :class:`~knetc.KnetError`
naming it, rather than returning a gradient that ignores it.
"""
from ..errors import KnetError


def refuse(what):
    """A VJP that raises: the argument it stands for is not differentiable here."""
    def vjp(g, ans, *args, **kwargs):
        raise KnetError(f"knetc: differentiating {what} is not supported")
    vjp.__name__ = "refused_vjp"
    return vjp


def refuse_option(function, name, value, default):
    """Raise unless the option ``name`` of ``function`` is at its default (the rule does not
    model it: e.g. an option that writes into the input, which the adjoint then reads)."""
    if default is None or isinstance(default, bool):
        unchanged = value is default or (default is not None and type(value) is bool and value == default)
    else:
        unchanged = value is default or value == default
    if not unchanged:
        raise KnetError(f"knetc: the derivative rule of {function} does not model {name}={value!r}; "
                        f"leave it at its default")
