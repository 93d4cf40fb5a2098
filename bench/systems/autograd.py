"""HIPS autograd: the workload's loss source with ``np`` bound to ``autograd.numpy``.

LeNet's conv4 and pool are the bench NumPy kernels made autograd primitives
(autograd has no convolution of its own that a user would pick for this).
CPU only.
"""
from .. import common, kernels
from .base import Runner

NAME = "autograd"


def unavailable(device="cpu"):
    if device != "cpu":
        return "CPU only"
    try:
        import autograd  # noqa: F401
    except ImportError:
        return "package autograd not installed (pip install autograd)"
    return None


def version():
    import importlib.metadata
    return f"autograd {importlib.metadata.version('autograd')}"


_NN = {}


def _nn():
    if not _NN:
        import types
        from autograd.extend import defvjp, primitive

        @primitive
        def conv4(w, x):
            return kernels.conv4(w, x)

        @primitive
        def pool(x):
            return kernels.pool(x)

        defvjp(conv4,
               lambda ans, w, x: lambda g: kernels.conv4_backward_w(
                   g, kernels.im2col(x, w.shape[2], w.shape[3]), w.shape),
               lambda ans, w, x: lambda g: kernels.conv4_backward_x(g, w, x.shape))
        defvjp(pool, lambda ans, x: lambda g: kernels.pool_backward(g, x, ans))
        _NN["nn"] = types.SimpleNamespace(conv4=conv4, pool=pool, mat=kernels.mat)
    return _NN["nn"]


def make(wl, device="cpu"):
    import autograd
    import autograd.numpy as anp
    names = {"np": anp}
    if hasattr(wl, "nn"):
        names["nn"] = _nn()
    ns = common.port(wl, **names)
    r = Runner(wl, device)
    r.value_and_grad = autograd.value_and_grad(ns.loss)
    return r
