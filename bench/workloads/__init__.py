"""The benchmark workloads: one module each, same interface.

Each module defines

* ``NAME``, ``DESCRIPTION``, ``LR``, ``CLIP`` (global-norm gradient clip or None),
  ``STEPS_FULL`` (SGD steps of the paper's full run; ``STEPS_NOTE`` says how counted);
* ``init(seed)`` -> list of float32 parameter arrays (Knet layout);
* ``data(nbatches, seed)`` -> list of batches, each a tuple of float32 arrays
  passed to the loss after the parameters;
* ``loss(w, *batch)``: the model, written once as plain NumPy in the Knet
  tutorial style (features in rows, samples in columns);
* ``hand_value_and_grad(w, *batch)`` -> (loss, grads): a hand-written NumPy
  forward and backward pass of the same math (the reference; also CuPy-ready).
"""
import importlib

NAMES = ["linreg", "softmax", "mlp", "lenet", "charlm", "tiny", "loop"]


def load(name):
    if name not in NAMES:
        raise ValueError(f"unknown workload {name!r}; choose from {', '.join(NAMES)}")
    return importlib.import_module(f"{__name__}.{name}")
