"""The reference: a hand-written NumPy (or CuPy) forward and backward pass of
each workload's math (``hand_value_and_grad`` in the workload file)."""
import numpy as np

from .base import Runner, gpu_unavailable

NAME = "handwritten"


def unavailable(device="cpu"):
    return gpu_unavailable() if device == "gpu" else None


def version():
    return f"numpy {np.__version__}"


def make(wl, device="cpu"):
    r = Runner(wl, device)
    r.value_and_grad = wl.hand_value_and_grad
    return r
