"""Parameter initialisation: xavier, gaussian, param, param0 (on the CPU or the GPU)."""
import inspect
import math

import numpy as np



# --- parameters ------------------------------------------------------------------------
def _fans(dims):
    """(fan_in, fan_out) as Knet's xavier computes them."""
    if len(dims) == 1:
        return dims[0], 1
    if len(dims) == 2:  # (out, in)
        return dims[1], dims[0]
    k = dims[0]  # conv (K, C, kh, kw): fan_out = K, fan_in = C*kh*kw (Knet; Caffe differs)
    return math.prod(dims) // k, k


def _rng(rng):
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def xavier(*dims, rng=None, dtype=np.float64):
    """Xavier/Glorot uniform init: U(-s, s) with ``s = sqrt(6 / (fan_in + fan_out))``.

    Fans as in Knet: ``(out, in)`` matrices use ``fan_in = in, fan_out = out``;
    ``(K, C, kh, kw)`` filters ``fan_in = C*kh*kw, fan_out = K``; vectors
    ``fan_in = n, fan_out = 1``.
    """
    fan_in, fan_out = _fans(dims)
    s = math.sqrt(6.0 / (fan_in + fan_out))
    return _rng(rng).uniform(-s, s, size=dims).astype(dtype)


def gaussian(*dims, scale=0.01, rng=None, dtype=np.float64):
    """Normal init with mean 0 and standard deviation ``scale``."""
    return (scale * _rng(rng).standard_normal(size=dims)).astype(dtype)


def _to_device(a, device):
    if device in (None, "cpu"):
        return a
    if device in ("gpu", "cuda") or str(device).startswith("cuda"):
        try:
            from ..device import to_gpu  # lazy: only for device="gpu" (knetc's memory pools)
        except ImportError:
            import cupy  # lazy: CuPy is optional (GPU only)
            return cupy.asarray(a)
        return to_gpu(a)
    raise ValueError(f"unknown device {device!r}: use 'cpu' or 'gpu'")


def param(*dims, init=xavier, dtype=np.float32, device="cpu", rng=None):
    """A parameter array of shape ``dims`` made by ``init`` (default :func:`xavier`).

    ``device="gpu"`` puts it on the GPU with CuPy. ``rng`` (a Generator or a
    seed) is passed to inits that take one; other callables are called as
    ``init(*dims)``.
    """
    try:
        takes_rng = "rng" in inspect.signature(init).parameters
    except (TypeError, ValueError):
        takes_rng = False
    a = init(*dims, rng=rng) if takes_rng else init(*dims)
    return _to_device(np.asarray(a, dtype=dtype), device)


def param0(*dims, dtype=np.float32, device="cpu"):
    """A parameter array of zeros (e.g. a bias)."""
    return _to_device(np.zeros(dims, dtype=dtype), device)
