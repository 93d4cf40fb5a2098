"""JAX: ``jax.jit(jax.value_and_grad(loss))`` of the workload's loss source with
``np`` bound to ``jax.numpy``, plus a jitted SGD update. CPU, or GPU with
``--device gpu`` (matmul precision set to full float32 there).

Python loops in the loss (charlm, loop) are unrolled by tracing, as a user who
writes the same code gets. Calls are asynchronous: timing blocks on the
parameters at the end of each block of steps.
"""
import types

from .. import common
from .base import Runner

NAME = "jax"


def unavailable(device="cpu"):
    try:
        import jax
    except ImportError:
        return "package jax not installed (pip install jax jaxlib)"
    if device == "gpu":
        try:
            jax.devices("gpu")
        except RuntimeError:
            return "jax has no GPU backend"
    return None


def version():
    import jax
    return f"jax {jax.__version__}"


class JaxRunner(Runner):
    warm_after_grad = False  # the SGD update is jitted separately, on the first step
    def __init__(self, wl, device):
        import jax
        import jax.numpy as jnp
        from jax import lax
        self.jax = jax
        self.wl, self.device, self.lr, self.clip = wl, device, wl.LR, wl.CLIP
        self.dev = jax.devices("gpu" if device == "gpu" else "cpu")[0]
        if device == "gpu":
            jax.config.update("jax_default_matmul_precision", "highest")
        names = {"np": jnp}
        if hasattr(wl, "nn"):
            def conv4(w, x):
                return lax.conv_general_dilated(x, w, (1, 1), "VALID",
                                                dimension_numbers=("NCHW", "OIHW", "NCHW"))

            def pool(x):
                return lax.reduce_window(x, -jnp.inf, lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")
            names["nn"] = types.SimpleNamespace(conv4=conv4, pool=pool,
                                                mat=lambda x: x.reshape(x.shape[0], -1).T)
        loss = common.port(wl, **names).loss
        self.value_and_grad = jax.jit(jax.value_and_grad(loss))
        lr, clip = self.lr, self.clip

        def update(w, g):
            scale = lr
            if clip is not None:
                norm = jnp.sqrt(sum(jnp.sum(gi * gi) for gi in g))
                scale = jnp.where(norm > clip, lr * clip / norm, lr)
            return [p - scale * gi for p, gi in zip(w, g)]
        self.update = jax.jit(update)

    def params(self, w):
        return [self.jax.device_put(p, self.dev) for p in w]

    def batch(self, b):
        return tuple(self.jax.device_put(a, self.dev) for a in b)

    def make_step(self):
        vg, update = self.value_and_grad, self.update

        def step(w, batch):
            loss, g = vg(w, *batch)
            w[:] = update(w, g)
            return loss
        return step

    def sync(self, w=None):
        if w is not None:
            self.jax.block_until_ready(w)


def make(wl, device="cpu"):
    return JaxRunner(wl, device)
