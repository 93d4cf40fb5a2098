"""PyTorch eager (define-by-run autograd), float32; CPU or ``--device gpu`` (CUDA).

The workload's loss source runs unchanged with ``np`` bound to a thin
NumPy-named namespace of torch functions (``np.sum(x, axis=0, keepdims=True)``
-> ``torch.sum(x, dim=0, keepdim=True)``, ...); LeNet's ``nn`` is
``F.conv2d`` / ``F.max_pool2d``. ``torch.set_num_threads`` is left at its default.
"""
import types

from .. import common
from .base import Runner

NAME = "torch"


def full_float32(torch):
    """IEEE float32 in matmuls and convolutions, like every other system (no TF32).

    cuDNN's fastest float32 convolutions (FFT, Winograd) miss the 1e-4 check on
    LeNet (relative error 1.9e-4 measured on an H100); deterministic algorithms pass.
    """
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.deterministic = True
    for backend in (getattr(torch.backends.cuda, "matmul", None), getattr(torch.backends.cudnn, "conv", None)):
        if backend is not None and hasattr(backend, "fp32_precision"):   # torch >= 2.9
            backend.fp32_precision = "ieee"


def unavailable(device="cpu"):
    try:
        import torch
    except ImportError:
        return "package torch not installed (pip install torch, the CPU wheel)"
    if device == "gpu" and not torch.cuda.is_available():
        return "torch has no CUDA device"
    return None


def version():
    import torch
    n = torch.get_num_threads()
    return f"torch {torch.__version__} ({n} thread{'' if n == 1 else 's'})"


def numpy_namespace(torch, device):
    """The NumPy functions the workloads use, as torch calls."""

    def maximum(a, b):
        if not isinstance(a, torch.Tensor):
            return torch.clamp_min(b, a)
        if not isinstance(b, torch.Tensor):
            return torch.clamp_min(a, b)
        return torch.maximum(a, b)

    def _reduce(f, x, axis, keepdims):
        return f(x) if axis is None else f(x, dim=axis, keepdim=keepdims)

    def zeros(shape, dtype=None):
        return torch.zeros(shape, dtype=dtype, device=device)

    return types.SimpleNamespace(
        maximum=maximum, tanh=torch.tanh, exp=torch.exp, log=torch.log,
        sum=lambda x, axis=None, keepdims=False: _reduce(torch.sum, x, axis, keepdims),
        mean=lambda x, axis=None, keepdims=False: _reduce(torch.mean, x, axis, keepdims),
        max=lambda x, axis=None, keepdims=False: _reduce(torch.amax, x, axis, keepdims),
        zeros=zeros, float32=torch.float32)


class TorchRunner(Runner):
    def __init__(self, wl, device):
        import os

        import torch
        if os.environ.get("BENCH_THREADS"):  # run.py --threads N (default: torch's own)
            torch.set_num_threads(int(os.environ["BENCH_THREADS"]))
        import torch.nn.functional as F
        self.torch = torch
        self.wl, self.device, self.lr, self.clip = wl, device, wl.LR, wl.CLIP
        self.dev = torch.device("cuda" if device == "gpu" else "cpu")
        if device == "gpu":
            full_float32(torch)
        names = {"np": numpy_namespace(torch, self.dev)}
        if hasattr(wl, "nn"):
            names["nn"] = types.SimpleNamespace(
                conv4=lambda w, x: F.conv2d(x, w), pool=lambda x: F.max_pool2d(x, 2),
                mat=lambda x: x.reshape(x.shape[0], -1).T)
        self.loss = common.port(wl, **names).loss

    def params(self, w):
        return [self.torch.tensor(p, device=self.dev).requires_grad_(True) for p in w]

    def batch(self, b):
        return tuple(self.torch.from_numpy(a).to(self.dev) for a in b)

    def grad(self, w, batch):
        loss = self.loss(w, *batch)
        return loss, self.torch.autograd.grad(loss, w)

    def make_step(self):
        torch, loss_fn, lr, clip = self.torch, self.loss, self.lr, self.clip

        def step(w, batch):
            loss = loss_fn(w, *batch)
            grads = torch.autograd.grad(loss, w)
            with torch.no_grad():
                scale = lr
                if clip is not None:
                    norm = float(torch.sqrt(sum((g * g).sum() for g in grads)))
                    if norm > clip:
                        scale = lr * clip / norm
                for p, g in zip(w, grads):
                    p.sub_(g, alpha=scale)
            return loss.detach()
        return step

    def sync(self, w=None):
        if self.dev.type == "cuda":
            self.torch.cuda.synchronize()


def make(wl, device="cpu"):
    return TorchRunner(wl, device)
