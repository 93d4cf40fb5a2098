"""Shared checks for the guard, source-identity and call tests."""
import itertools
import linecache
import warnings

import numpy as np

import knetc as knet
from knetc.testing import numeric_grad

MODES = ("auto", "source", "tape")
X = np.array([0.3, -0.7, 1.2])
C = np.array([1., 2., 3.])
_cells = itertools.count()


def assert_grad(f, args=(X,), wrt=0, modes=MODES, expect=None, compiled=None):
    """The gradient of ``f`` in each mode equals finite differences (or ``expect``).

    ``compiled``: the mode 'auto' must report ('source' or 'tape'); None: either.
    A fresh GradFunction per mode, so the per-function caches are tested too.
    """
    want = numeric_grad(f, [np.array(a, dtype=float) if isinstance(a, np.ndarray) else a for a in args], wrt) \
        if expect is None else expect
    for mode in modes:
        g = knet.grad(f, wrt=wrt, mode=mode)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", knet.FallbackWarning)
            got = g(*args)
        np.testing.assert_allclose(np.asarray(got, float), np.asarray(want, float), rtol=1e-6, atol=1e-9,
                                   err_msg=f"mode={mode} ({g.mode})")
        if mode == "auto" and compiled is not None:
            assert g.mode == compiled, (g.mode, compiled)
    return want


def run_cell(namespace, text):
    """Run ``text`` as a notebook cell does: its own file name, its source in linecache."""
    name = f"<knetc-test-cell-{next(_cells)}>"
    linecache.cache[name] = (len(text), None, text.splitlines(True), name)
    exec(compile(text, name, "exec"), namespace)
    return namespace
