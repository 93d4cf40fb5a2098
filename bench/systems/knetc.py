"""knetc, compiled: ``knetc.value_and_grad(loss)`` of the workload's own loss
(the NumPy source itself, no port). NumPy on CPU; CuPy arrays with ``--device gpu``.
"""
from .. import common, kernels
from .base import Runner, gpu_unavailable

NAME = "knetc"
MODE = None  # the default: compiled source-to-source gradient


def unavailable(device="cpu"):
    try:
        import knetc
    except ImportError as e:
        return f"knetc not importable ({e})"
    if not hasattr(knetc, "value_and_grad"):
        return "knetc.value_and_grad does not exist yet"
    return gpu_unavailable() if device == "gpu" else None


def version():
    import knetc
    return f"knetc {knetc.__version__}"


_NN = {}


def fallback_nn():
    """bench.kernels' conv4/pool as knetc primitives (used while knetc.nn lacks them)."""
    if not _NN:
        import types

        import knetc

        conv4 = knetc.primitive(kernels.conv4)
        pool = knetc.primitive(kernels.pool)
        knetc.defvjp(conv4,
                     lambda g, ans, w, x: kernels.conv4_backward_w(
                         g, kernels.im2col(x, w.shape[2], w.shape[3]), w.shape),
                     lambda g, ans, w, x: kernels.conv4_backward_x(g, w, x.shape))
        knetc.defvjp(pool, lambda g, ans, x: kernels.pool_backward(g, x, ans))
        _NN["nn"] = types.SimpleNamespace(conv4=conv4, pool=pool, mat=kernels.mat)
    return _NN["nn"]


def loss_of(wl):
    """The workload's loss, as is, unless its ``nn`` is the bench fallback."""
    if getattr(wl, "nn", None) is kernels:
        return common.port(wl, nn=fallback_nn()).loss
    return wl.loss


class KnetcRunner(Runner):
    def describe(self):
        """The mode knetc reports after the first call ('source', 'mixed' or 'tape') and,
        for compiled code, the time spent generating and compiling it."""
        mode = getattr(self.value_and_grad, "mode", "?")
        seconds = getattr(self.value_and_grad, "compile_seconds", 0.0)
        return f"mode={mode}" + (f", compiled in {seconds * 1e3:.0f} ms" if seconds else "")


def make(wl, device="cpu", mode=MODE):
    import knetc
    r = KnetcRunner(wl, device)
    loss = loss_of(wl)
    r.value_and_grad = knetc.value_and_grad(loss) if mode is None else knetc.value_and_grad(loss, mode=mode)
    return r
