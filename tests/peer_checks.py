"""Checks in the style of the peer libraries' suites (autograd's ``check_grads``, JAX's
``check_grads``): one call checks a function's derivative every way knetc computes it.

``check_grads(fun, args)`` compares against central finite differences in float64:

- ``knet.grad`` compiled (``mode="source"``, which must really compile unless
  ``compiled=False``, in which case it must refuse loudly) and taped, and in
  ``mode="auto"``, which must be right either way;
- forward mode: ``knet.jvp`` along a random tangent equals ``<gradient, tangent>``,
  compiled (when ``compiled``) and taped;
- second order (``order=2``): the Hessian-vector product along a random ``v``
  equals the finite difference of the gradient along ``v``.
"""
import warnings

import numpy as np
import pytest

import knetc as knet
from knetc.testing import assert_tree_allclose, numeric_grad

_RNG = np.random.default_rng(20261201)


def random_like(tree, rng=_RNG):
    """A random tree with the structure, shapes and float-ness of ``tree``."""
    def leaf(a):
        if isinstance(a, np.ndarray):
            return rng.standard_normal(a.shape).astype(a.dtype if a.dtype.kind == "f" else float)
        return float(rng.standard_normal())
    return knet.tree_map(leaf, tree)


def vdot(a, b):
    """Sum of products of matching leaves."""
    return float(sum(np.sum(np.asarray(x, float) * np.asarray(y, float))
                     for x, y in zip(knet.tree_flatten(a)[0], knet.tree_flatten(b)[0])))


def _shifted(tree, direction, eps):
    return knet.tree_map(lambda a, d: a + eps * d, tree, direction)


def _with(args, wrt, value):
    args = list(args)
    args[wrt] = value
    return tuple(args)


def quietly(call, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", knet.FallbackWarning)
        return call(*args)


def check_grads(fun, args, wrt=0, compiled=True, order=1, rtol=1e-5, atol=1e-6, forward=True, tape=True):
    """Check ``fun``'s gradient wrt ``args[wrt]`` every way (see the module docstring).

    ``tape=False``: the function uses what the tape refuses (writes into arrays, NumPy
    reductions of lists of traced values); the tape must then raise a KnetError, and
    ``mode="auto"`` (which compiles) must still be right.
    """
    args = tuple(args)
    expected = numeric_grad(fun, args, wrt)
    g = knet.grad(fun, wrt=wrt, mode="source")
    if compiled:
        assert_tree_allclose(g(*args), expected, rtol=rtol, atol=atol)
        assert g.mode == "source", g.mode
    else:
        with pytest.raises(knet.UnsupportedError):
            g(*args)
    for mode in ("tape", "auto"):
        if mode == "tape" and not tape:
            with pytest.raises(knet.KnetError):
                knet.grad(fun, wrt=wrt, mode="tape")(*args)
            continue
        got = quietly(knet.grad(fun, wrt=wrt, mode=mode), *args)
        assert_tree_allclose(got, expected, rtol=rtol, atol=atol)
    if forward:
        t = random_like(args[wrt])
        tangents = [None] * len(args)
        tangents[wrt] = t
        want = vdot(expected, t)
        modes = ("source", "tape") if compiled else ("auto", "tape")
        for mode in modes if tape else modes[:1]:
            value, tangent = quietly(lambda: knet.jvp(fun, args, tuple(tangents), mode=mode))
            assert np.allclose(value, fun(*args), rtol=1e-12, atol=1e-12)
            assert np.isclose(float(np.asarray(tangent)), want, rtol=rtol, atol=atol), (mode, tangent, want)
    if order >= 2 and tape:
        v = random_like(args[wrt])
        eps = 1e-5
        grad_tape = knet.grad(fun, wrt=wrt, mode="tape")
        plus = grad_tape(*_with(args, wrt, _shifted(args[wrt], v, eps)))
        minus = grad_tape(*_with(args, wrt, _shifted(args[wrt], v, -eps)))
        fd = knet.tree_map(lambda p, m: (np.asarray(p) - np.asarray(m)) / (2 * eps), plus, minus)
        hv = knet.hvp(fun, wrt=wrt)(*args, v)
        assert_tree_allclose(knet.tree_map(np.asarray, hv), fd, rtol=1e-4, atol=1e-5)
    return expected
