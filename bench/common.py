"""Shared helpers of the benchmark: paths, data access, ports and comparisons."""
import os
import types
from pathlib import Path

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent


def default_data_dir():
    """``KNETC_DATA`` if set, else the ``shared/data`` folder beside the repository."""
    env = os.environ.get("KNETC_DATA")
    if env:
        return Path(env)
    return REPO_ROOT.parent / "shared" / "data"


def setup_data_env():
    """Point ``KNETC_DATA`` at the shared data folder unless the user set it."""
    if "KNETC_DATA" not in os.environ:
        d = REPO_ROOT.parent / "shared" / "data"
        if d.is_dir():
            os.environ["KNETC_DATA"] = str(d)


# --- data ---------------------------------------------------------------------
# knetc.data is the real loader; until it exists (or if it fails to import) the
# files are read directly, the same way, by the tiny shim below.

def _knetc_data():
    try:
        import knetc.data as kd
    except Exception:  # noqa: BLE001 - missing or broken: fall back to the shim
        return None
    return kd


def load_housing():
    """x (13, 506) float64 standardized features, y (1, 506) float64 prices."""
    kd = _knetc_data()
    if kd is not None and hasattr(kd, "load_housing"):
        return kd.load_housing(path=None, standardize=True)
    a = np.loadtxt(default_data_dir() / "housing.data")
    x = a[:, :13].T.copy()
    y = a[:, 13:].T.copy()
    x = (x - x.mean(axis=1, keepdims=True)) / x.std(axis=1, keepdims=True)
    return x, y


def _idx(path, offset):
    import gzip
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def load_mnist(dtype=np.float32):
    """xtrn (60000,1,28,28) in [0,1], ytrn int64 (60000,), xtst, ytst."""
    kd = _knetc_data()
    if kd is not None and hasattr(kd, "load_mnist"):
        return kd.load_mnist(path=None, dtype=dtype)
    d = default_data_dir() / "mnist"
    out = []
    for part in ("train", "t10k"):
        x = _idx(d / f"{part}-images-idx3-ubyte.gz", 16).reshape(-1, 1, 28, 28)
        y = _idx(d / f"{part}-labels-idx1-ubyte.gz", 8).astype(np.int64)
        out += [(x / np.asarray(255, dtype)).astype(dtype), y]
    return tuple(out)


def load_text():
    """The whole of hiawatha.txt (Gutenberg header and CRs kept: 84 symbols)."""
    kd = _knetc_data()
    if kd is not None and hasattr(kd, "load_text"):
        return kd.load_text(path=None)
    return (default_data_dir() / "hiawatha.txt").read_bytes().decode("ascii")


def data_source():
    """Which loader served the data (for the report)."""
    kd = _knetc_data()
    return "knetc.data" if kd is not None and hasattr(kd, "load_mnist") else "bench shim"


def onehot(labels, nclass, dtype=np.float32):
    """(nclass, len(labels)) one-hot columns (Knet layout)."""
    y = np.zeros((nclass, len(labels)), dtype)
    y[labels, np.arange(len(labels))] = 1
    return y


# --- ports: the same loss source with other array modules ----------------------

def port(module, **names):
    """The functions of ``module`` re-bound to globals where ``names`` replace
    its own (e.g. ``np=autograd.numpy``). The code objects are the very same,
    so every system runs the one loss written in the workload file.

    Returns a namespace with every function of the module.
    """
    g = dict(vars(module))
    g.update(names)
    ns = types.SimpleNamespace()
    for key, val in list(g.items()):
        if isinstance(val, types.FunctionType) and val.__module__ == module.__name__:
            f = types.FunctionType(val.__code__, g, val.__name__, val.__defaults__, val.__closure__)
            f.__kwdefaults__ = val.__kwdefaults__
            g[key] = f
            setattr(ns, key, f)
    return ns


# --- SGD on NumPy / CuPy arrays (handwritten, autograd, knetc systems) -----------

def sgd_numpy(w, g, lr, clip=None):
    """In-place SGD ``w -= lr * g``; with ``clip``, the gradient's global norm
    is clipped to ``clip`` first (the CharLM setting)."""
    if clip is not None:
        norm = float(sum(float((gi * gi).sum()) for gi in g)) ** 0.5
        if norm > clip:
            lr = lr * clip / norm
    for p, gi in zip(w, g):
        p -= lr * gi


# --- comparison -----------------------------------------------------------------

def relerr(a, b):
    """Norm-wise relative error of ``a`` against the reference ``b`` (float64).

    Robust to tiny values: a reference whose norm is (near) zero is compared
    with an absolute floor instead of being divided by ~0.
    """
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    if a.shape != b.shape:
        return float("inf")
    nb = float(np.linalg.norm(b.ravel()))
    diff = float(np.linalg.norm((a - b).ravel()))
    return diff / max(nb, 1e-6)


def compare(loss, grads, ref_loss, ref_grads):
    """(max relative error, description) of a loss and gradient list vs the reference."""
    if len(grads) != len(ref_grads):
        return float("inf"), f"{len(grads)} gradients, expected {len(ref_grads)}"
    scale = max(float(np.linalg.norm(np.asarray(g, np.float64).ravel())) for g in ref_grads)
    errs = [relerr(loss, ref_loss)]
    for g, r in zip(grads, ref_grads):
        g = np.asarray(g, np.float64)
        r = np.asarray(r, np.float64)
        if g.shape != r.shape:
            return float("inf"), f"gradient shape {g.shape}, expected {r.shape}"
        nr = float(np.linalg.norm(r.ravel()))
        # floor: 1e-6 of the largest gradient, so an all-but-zero gradient
        # does not turn float32 round-off into a huge relative error
        errs.append(float(np.linalg.norm((g - r).ravel())) / max(nr, 1e-6 * scale, 1e-30))
    worst = max(errs)
    which = "loss" if errs.index(worst) == 0 else f"grad[{errs.index(worst) - 1}]"
    return worst, which


def to_numpy(x):
    """A NumPy array from NumPy, CuPy, torch or JAX values."""
    if hasattr(x, "detach"):  # torch
        return x.detach().cpu().numpy()
    if type(x).__module__.startswith("cupy"):
        return x.get()
    return np.asarray(x)


def array_module(x):
    """numpy, or cupy for CuPy arrays (for the CuPy-ready hand-written code)."""
    if type(x).__module__.startswith("cupy"):
        import cupy
        return cupy
    return np
