"""Forward mode on the tape: the JVP as the transpose of the recorded (linear) pullback.

``make_vjp`` records a function once; its pullback ``u -> J^T u`` is linear
in ``u`` and made of differentiable operations, so recording
``<pullback(u), t>`` on a second tape and taking its gradient with respect to
``u`` gives ``J t`` exactly. This is the tape's forward mode, used for what
the compiler refuses; it costs about two reverse passes.
"""
import numpy as np

from . import tape
from .backend import module_of, is_array
from .box import deep_value
from .tree import tree_flatten, tree_unflatten


def vdot(a, b):
    """Sum of the products of matching leaves of two structures (None leaves skipped)."""
    total = 0.0
    for x, y in zip(tree_flatten(a)[0], tree_flatten(b)[0]):
        if x is None or y is None:
            continue
        if _complex(x) and not _complex(y):
            x = np.real(x)       # the adjoint of a real value is the real part of a complex one
        elif _complex(x):
            # an adjoint zbar = dL/da - i dL/db pairs with a tangent ta + i tb as Re(zbar t)
            total = total + np.sum(np.real(x * y))
            continue
        total = total + np.sum(x * y)
    return total


def _complex(x):
    return np.iscomplexobj(deep_value(x))


def zeros_like(x):
    """Zeros with the structure of ``x`` (float 0.0 for scalar leaves)."""
    leaves, spec = tree_flatten(x)
    return tree_unflatten(spec, [module_of(leaf).zeros_like(leaf) if is_array(leaf) else 0.0
                                 for leaf in leaves])


def tangent_through(pullback, out, tangents, wrap=lambda u: u):
    """``J t`` from a pullback ``u -> adjoints``: the gradient of ``<pullback(u), t>`` in ``u``.

    A complex leaf of ``out`` gets its cotangent as two real arrays ``u = p + iq``
    (the tape differentiates real values). Under knetc's convention (the adjoint
    of ``z = a + ib`` is ``dL/da - i dL/db``, see rules_complex) the pullback
    pairs ``u`` with the tangent as ``p . da - q . db``, so the tangent is
    ``d/dp - i d/dq`` of that pairing. An integer leaf (the indices ``np.unique``
    returns beside its values) is a constant: its cotangent stays zero and its
    tangent is 0.0.
    """
    leaves, spec = tree_flatten(out)
    complex_leaves = [_complex(leaf) for leaf in leaves]
    constant = [_integer(leaf) for leaf in leaves]
    zeros = []
    for leaf, c in zip(leaves, complex_leaves):
        z = module_of(leaf).zeros(np.shape(leaf), np.real(np.asarray(leaf)).dtype) if is_array(leaf) \
            else 0.0
        zeros.append([z, z] if c else z)
    varied = [z for z, k in zip(zeros, constant) if not k]

    def along(parts):
        parts = iter(parts)
        u = [z if k else _joined(next(parts), c) for z, k, c in zip(zeros, constant, complex_leaves)]
        return vdot(pullback(wrap(tree_unflatten(spec, u))), tangents)

    _, grads = tape.value_and_grad(along, (varied,))
    grads = iter(grads)
    return tree_unflatten(spec, [0.0 if k else _split(next(grads), c) for k, c in zip(constant, complex_leaves)])


def _joined(p, is_complex):
    return p[0] + 1j * p[1] if is_complex else p


def _split(g, is_complex):
    return g[0] - 1j * g[1] if is_complex else g


def _integer(x):
    """True for an integer or boolean array or NumPy scalar (a result held constant)."""
    x = deep_value(x)
    dtype = getattr(x, "dtype", None)
    return dtype is not None and dtype.kind in "iub"


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
