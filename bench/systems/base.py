"""The runner interface shared by all systems (NumPy-array version)."""
import numpy as np

from .. import common


class Runner:
    """A system set up for one workload. Subclasses set ``self.value_and_grad``
    (or override ``grad``) and, if not NumPy, the conversions."""

    # True when one ``grad`` call leaves nothing for the first ``step`` to
    # compile or set up (jax's jitted update is compiled on the first step)
    warm_after_grad = True

    def __init__(self, wl, device="cpu"):
        self.wl = wl
        self.device = device
        self.lr = wl.LR
        self.clip = wl.CLIP
        self.xp = np
        if device == "gpu":
            import cupy
            self.xp = cupy

    # data and parameters in the system's own arrays (copies: every system trains its own)
    def params(self, w):
        return [self.xp.array(p, copy=True) for p in w]

    def batch(self, b):
        return tuple(self.xp.asarray(a) for a in b)

    def grad(self, w, batch):
        return self.value_and_grad(w, *batch)

    def make_step(self):
        vg, lr, clip = self.value_and_grad, self.lr, self.clip

        def step(w, batch):
            loss, g = vg(w, *batch)
            common.sgd_numpy(w, g, lr, clip)
            return loss
        return step

    def sync(self, w=None):
        if self.xp is not np:
            self.xp.cuda.get_current_stream().synchronize()

    def describe(self):
        """Anything worth reporting about how the system ran (or None)."""
        return None

    def numpy(self, x):
        return common.to_numpy(x)


def gpu_unavailable():
    """None if CuPy sees a CUDA device, else why not."""
    try:
        import cupy
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return "no CUDA device"
    except Exception as e:  # noqa: BLE001
        return f"CuPy/CUDA unavailable ({type(e).__name__})"
    return None
