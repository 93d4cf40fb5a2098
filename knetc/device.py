"""Devices: moving parameters between NumPy (CPU) and CuPy (GPU), and GPU memory.

The same model code runs on either device; the arrays passed in decide.
Nothing here imports CuPy until a GPU is asked for (``gpu_available()``,
``device="gpu"``, ``to_gpu``), so ``import knetc`` never needs CuPy.

Memory: the first time knetc puts an array on the GPU it installs its own
device memory pool (a ``cupy.cuda.MemoryPool`` whose underlying allocator
counts the allocations that reach the CUDA driver) and a pinned host memory
pool for transfers; :func:`memory_stats` reports both. A training loop that
has warmed up should make no new driver allocations: every step reuses the
blocks the pool already holds.
"""
import numbers
import platform
import threading
import weakref

import numpy as np

from .errors import KnetError
from .runtime.backend import holds_cupy, is_array, is_cupy_array
from .runtime.structure import flatten_one_level

__all__ = ["gpu_available", "array", "to_gpu", "to_cpu", "memory_stats", "configure_memory"]

_GPU = {}              # "available": the cached answer of gpu_available()
_LOCK = threading.Lock()


class _Memory:
    """knetc's installed pools and the counters of their base allocators."""

    def __init__(self):
        self.pool = None             # cupy.cuda.MemoryPool, or None before configure_memory
        self.pinned_pool = None      # cupy.cuda.PinnedMemoryPool
        self.driver_allocations = 0  # successful device allocations made by the pool's base allocator
        self.driver_bytes = 0        # bytes those allocations requested (freed ones included)
        self.pinned_allocations = 0
        self.pinned_bytes = 0        # pinned host bytes currently allocated by the pinned pool


_MEMORY = _Memory()


# --- availability ------------------------------------------------------------------
def gpu_available():
    """True if CuPy imports and sees at least one CUDA device; never raises.

    The answer is computed once and cached (it imports CuPy when installed).
    """
    if "available" not in _GPU:
        try:
            import cupy  # lazy: CuPy is optional (GPU only)
            _GPU["available"] = int(cupy.cuda.runtime.getDeviceCount()) > 0
        except Exception:  # noqa: BLE001 - no CuPy, no driver, no device: all mean "no GPU"
            _GPU["available"] = False
    return _GPU["available"]


def _cupy():
    """The cupy module, with knetc's memory pools installed; KnetError without a GPU."""
    if not gpu_available():
        raise KnetError(
            "knetc: no GPU available: CuPy is not installed or sees no CUDA device "
            "(install the matching CuPy wheel, e.g. pip install cupy-cuda12x, on a machine with "
            "an NVIDIA GPU; knetc.device.gpu_available() says whether one is usable)")
    import cupy  # lazy: CuPy is optional (GPU only)
    if _MEMORY.pool is None:
        configure_memory()
    return cupy


def _device_name(device):
    if device is None:
        return None
    name = str(device).lower()
    if name == "cpu":
        return "cpu"
    if name in ("gpu", "cuda"):
        return "gpu"
    raise ValueError(f"knetc: unknown device {device!r}: use 'cpu', 'gpu' or None")


# --- arrays and parameter structures ---------------------------------------------------
def _host_leaves(x):
    """A nested list/tuple with every CuPy array replaced by its NumPy copy."""
    if is_cupy_array(x):
        return x.get()
    if isinstance(x, (list, tuple)):
        return [_host_leaves(v) for v in x]
    return x


def array(x, device=None, dtype=None):
    """A new array with the data of ``x`` (an array, scalar or nested list) on ``device``.

    ``device`` is ``"cpu"`` (NumPy), ``"gpu"`` (CuPy) or None to stay where
    ``x`` is (a nested list goes to the GPU only if it holds CuPy arrays).
    ``dtype`` converts the result (default: keep ``x``'s). Always a copy.
    """
    where = _device_name(device)
    if where is None:
        where = "gpu" if holds_cupy(x) else "cpu"
    dt = None if dtype is None else np.dtype(dtype)
    if where == "cpu":
        if is_cupy_array(x):
            host = x.get()      # already a fresh copy
            return host if dt is None or host.dtype == dt else host.astype(dt)
        return np.array(_host_leaves(x), dtype=dt)
    cp = _cupy()
    try:
        return cp.array(x, dtype=dt)
    except (TypeError, ValueError):
        if is_cupy_array(x) or not holds_cupy(x):
            raise
        # a nested list of CuPy arrays that this CuPy cannot stack: go through the host
        return cp.array(np.array(_host_leaves(x)), dtype=dt)


def _map_tree(fun, x):
    """Apply ``fun`` to the array leaves of ``x``, keeping its containers' and records' types."""
    level = flatten_one_level(x)
    if level is None:
        return fun(x) if is_array(x) else x     # floats, ints, None, strings... stay as they are
    children, _, rebuild = level
    items = [_map_tree(fun, v) for v in children]
    if isinstance(x, dict) and type(x) is not dict:
        try:                    # OrderedDict and other dict subclasses built from pairs
            return type(x)(zip(x, items))
        except TypeError:
            return dict(zip(x, items))
    return rebuild(items)


def _cast(x, dtype):
    """Cast floating arrays to ``dtype`` (integer and boolean arrays keep theirs)."""
    if dtype is None or x.dtype.kind not in "fc":
        return x
    return x.astype(dtype, copy=False)


def to_gpu(tree, dtype=None):
    """Copy every array of a parameter structure to the GPU (CuPy); containers keep their types.

    Python floats and other non-array leaves stay as they are; CuPy arrays
    are kept (not copied). ``dtype`` (e.g. ``np.float32``) converts the
    floating arrays. Raises :class:`knetc.KnetError` when no GPU is available.
    """
    cp = _cupy()
    dt = None if dtype is None else np.dtype(dtype)

    def move(a):
        if is_cupy_array(a):
            return _cast(a, dt)
        return cp.asarray(_cast(np.asarray(a), dt))
    return _map_tree(move, tree)


def to_cpu(tree, dtype=None):
    """Copy every CuPy array of a parameter structure to NumPy; containers keep their types.

    NumPy arrays and non-array leaves are returned as they are (a NumPy-only
    structure comes back equal, not copied); ``dtype`` converts the floating arrays.
    """
    dt = None if dtype is None else np.dtype(dtype)

    def move(a):
        return _cast(a.get() if is_cupy_array(a) else a, dt)
    return _map_tree(move, tree)


# --- memory ------------------------------------------------------------------------
def _counted_device_malloc(size):
    """The device pool's base allocator: one ``cudaMalloc`` per call, counted."""
    import cupy  # lazy: CuPy is optional (GPU only)
    ptr = cupy.cuda.MemoryPointer(cupy.cuda.Memory(size), 0)
    _MEMORY.driver_allocations += 1
    _MEMORY.driver_bytes += size
    return ptr


def _release_pinned(size):
    _MEMORY.pinned_bytes -= size


def _counted_pinned_malloc(size):
    """The pinned pool's base allocator: one ``cudaHostAlloc`` per call, counted."""
    import cupy  # lazy: CuPy is optional (GPU only)
    flags = getattr(cupy.cuda.runtime, "hostAllocPortable", 0)
    mem = cupy.cuda.PinnedMemory(size, flags)
    _MEMORY.pinned_allocations += 1
    _MEMORY.pinned_bytes += size
    try:                         # count the bytes back when the pool releases the block
        weakref.finalize(mem, _release_pinned, size)
    except TypeError:            # not weak-referenceable in this CuPy: keep the running total
        pass
    return cupy.cuda.PinnedMemoryPointer(mem, 0)


def _set_limit(pool, limit):
    if limit is None:
        return
    if isinstance(limit, float) and 0 < limit <= 1:
        pool.set_limit(fraction=limit)
    elif isinstance(limit, numbers.Integral) and limit >= 0:
        pool.set_limit(size=int(limit))
    else:
        raise ValueError(f"knetc: memory limit must be a byte count (int >= 0) or a fraction "
                         f"in (0, 1], got {limit!r}")


def configure_memory(limit=None):
    """Install knetc's GPU memory pool and pinned host memory pool (once; later calls keep them).

    ``limit`` caps the device pool: bytes (int, 0 for no cap) or a fraction
    of the GPU's memory (float in (0, 1]); None leaves the cap as it is
    (``CUPY_GPU_MEMORY_LIMIT`` is honoured). Called automatically the first
    time knetc makes a GPU array; call it yourself to set a limit. Arrays
    made earlier stay in CuPy's default pool. Raises
    :class:`knetc.KnetError` when no GPU is available. Returns :func:`memory_stats`.
    """
    if not gpu_available():
        raise KnetError("knetc: configure_memory needs a GPU, and none is available "
                        "(CuPy missing or no CUDA device)")
    import cupy  # lazy: CuPy is optional (GPU only)
    with _LOCK:
        if _MEMORY.pool is None:
            pool = cupy.cuda.MemoryPool(_counted_device_malloc)
            pinned = cupy.cuda.PinnedMemoryPool(_counted_pinned_malloc)
            cupy.cuda.set_allocator(pool.malloc)
            cupy.cuda.set_pinned_memory_allocator(pinned.malloc)
            _MEMORY.pool, _MEMORY.pinned_pool = pool, pinned
        _set_limit(_MEMORY.pool, limit)
    return memory_stats()


def memory_stats():
    """GPU memory counters as a dict (zeros and ``device: "cpu"`` without a GPU).

    ``bytes_in_use``: bytes of live GPU arrays; ``bytes_held``: bytes the
    pools hold from the driver (in use or cached for reuse);
    ``driver_allocations``: how many allocations knetc's pool sent to the
    CUDA driver so far (constant in a warmed-up training loop);
    ``pinned_bytes``: pinned host memory held for transfers; also
    ``free_blocks``, ``limit`` and ``driver_bytes``.
    """
    stats = {"device": "cpu", "bytes_in_use": 0, "bytes_held": 0, "driver_allocations": 0,
             "driver_bytes": 0, "pinned_bytes": 0, "free_blocks": 0, "limit": 0}
    if not gpu_available():
        return stats
    import cupy  # lazy: CuPy is optional (GPU only)
    if _MEMORY.pool is None:
        configure_memory()
    pool, default = _MEMORY.pool, cupy.get_default_memory_pool()
    pools = [pool] if default is pool else [pool, default]   # arrays made before knetc's pool
    stats.update(
        device="gpu",
        bytes_in_use=sum(int(p.used_bytes()) for p in pools),
        bytes_held=sum(int(p.total_bytes()) for p in pools),
        driver_allocations=_MEMORY.driver_allocations,
        driver_bytes=_MEMORY.driver_bytes,
        pinned_bytes=max(_MEMORY.pinned_bytes, 0),
        free_blocks=int(pool.n_free_blocks()),
        limit=int(pool.get_limit()),
    )
    return stats


def cpu_name():
    """The CPU's model name (from /proc/cpuinfo where there is one), for benchmark and figure notes."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return cpu
