"""Forward mode on the tape: the JVP as the transpose of the recorded (linear) pullback.

``make_vjp`` records a function once; its pullback ``u -> J^T u`` is linear
in ``u`` and made of differentiable operations, so recording
``<pullback(u), t>`` on a second tape and taking its gradient with respect to
``u`` gives ``J t`` exactly. This is the tape's forward mode, used for what
the compiler refuses; it costs about two reverse passes.
"""
import numpy as np

from . import tape
from .backend import array_module, is_array
from .tree import tree_flatten, tree_unflatten


def vdot(a, b):
    """Sum of the products of matching leaves of two structures (None leaves skipped)."""
    total = 0.0
    for x, y in zip(tree_flatten(a)[0], tree_flatten(b)[0]):
        if x is None or y is None:
            continue
        total = total + np.sum(x * y)
    return total


def zeros_like(x):
    """Zeros with the structure of ``x`` (float 0.0 for scalar leaves)."""
    leaves, spec = tree_flatten(x)
    return tree_unflatten(spec, [array_module(leaf).zeros_like(leaf) if is_array(leaf) else 0.0
                                 for leaf in leaves])


def tangent_through(pullback, out, tangents, wrap=lambda u: u):
    """``J t`` from a pullback ``u -> (adjoint per argument)``: the gradient of ``<pullback(u), t>``."""
    def along(u):
        return vdot(pullback(wrap(u)), tangents)

    _, tangent = tape.value_and_grad(along, (zeros_like(out),))
    return tangent


def jvp(fun, primals, tangents, active, has_aux=False):
    """``(ans, tangent)`` of ``fun(*primals)`` along ``tangents`` (None where not ``active``).

    With ``has_aux``, ``ans`` is ``(output, aux)`` and the tangent is the output's.
    """
    record = tape.make_vjp(fun, tuple(i for i, a in enumerate(active) if a))
    ans, pullback = record(*primals)
    out = ans[0] if has_aux else ans
    picked = tuple(t if a else None for t, a in zip(tangents, active))
    wrap = (lambda u: (u, None)) if has_aux else (lambda u: u)
    return ans, tangent_through(pullback, out, picked, wrap)
