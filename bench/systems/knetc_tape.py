"""knetc's tape (define-by-run) mode: ``knetc.value_and_grad(loss, mode="tape")``."""
from . import knetc as _compiled
from .base import gpu_unavailable

NAME = "knetc-tape"
version = _compiled.version


def unavailable(device="cpu"):
    why = _compiled.unavailable("cpu")
    if why:
        return why
    import inspect

    import knetc
    try:
        params = inspect.signature(knetc.value_and_grad).parameters
    except (TypeError, ValueError):
        params = {}
    if params and "mode" not in params and not any(p.kind == p.VAR_KEYWORD for p in params.values()):
        return "knetc.value_and_grad has no mode= argument yet"
    return gpu_unavailable() if device == "gpu" else None


def make(wl, device="cpu"):
    return _compiled.make(wl, device, mode="tape")
