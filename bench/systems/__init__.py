"""The systems compared: one module each, same interface.

Each module defines ``NAME``, ``unavailable(device)`` (None, or why the system
cannot run: package missing, no GPU ...), ``version()`` and
``make(workload, device) -> Runner``. A :class:`Runner` holds the system's own
copy of the parameters and data and offers ``grad(w, batch) -> (loss, grads)``
(for the correctness check) and ``step(w, batch) -> loss`` (gradient plus SGD
update in place: ``make_step``), ``sync()`` (wait for queued device work) and
``numpy(x)``.
"""
import importlib

NAMES = ["handwritten", "knetc", "knetc-tape", "autograd", "torch", "jax"]


def load(name):
    if name not in NAMES:
        raise ValueError(f"unknown system {name!r}; choose from {', '.join(NAMES)}")
    return importlib.import_module(f"{__name__}.{name.replace('-', '_')}")
