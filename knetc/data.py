"""Data sets of the Knet benchmarks and a minibatch iterator.

Where files are looked for (:func:`data_dir`): an explicit ``path`` argument,
else the folder named by the ``KNETC_DATA`` environment variable, else the
package's bundled folder ``knetc/data/`` (which holds only the small files:
``housing.data`` and ``hiawatha.txt``). The loaders fall back to the bundled
folder for files that ``KNETC_DATA`` lacks.

Layouts follow Knet: dense data puts features in rows and samples in columns
(``x`` of shape ``(features, N)``), images are NCHW ``(N, C, H, W)`` with the
samples first. :func:`minibatch` therefore splits along the last axis by
default and takes ``axis=0`` for images.
"""
import gzip
import os
import pathlib

import numpy as np

from .runtime.backend import array_module

BUNDLED = pathlib.Path(__file__).resolve().parent / "data"

MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
               "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def data_dir(path=None):
    """The data folder: ``path`` if given, else ``$KNETC_DATA``, else the bundled ``knetc/data``."""
    if path is not None:
        return pathlib.Path(path).expanduser()
    env = os.environ.get("KNETC_DATA")
    if env:
        return pathlib.Path(env).expanduser()
    return BUNDLED


def _search_dirs(path):
    """Folders searched for a file: the explicit path only, or $KNETC_DATA then the bundled folder."""
    if path is not None:
        return [pathlib.Path(path).expanduser()]
    dirs = [data_dir()]
    if BUNDLED not in dirs:
        dirs.append(BUNDLED)
    return dirs


def _find_file(names, path, what, hint):
    """The first existing file among ``names`` (or ``path`` itself if it is a file)."""
    if path is not None and pathlib.Path(path).expanduser().is_file():
        return pathlib.Path(path).expanduser()
    dirs = _search_dirs(path)
    for d in dirs:
        for name in names:
            p = d / name
            if p.is_file():
                return p
    where = ", ".join(str(d) for d in dirs)
    raise FileNotFoundError(f"{what} not found in {where}: {hint} or set KNETC_DATA")


def load_housing(path=None, standardize=True):
    """Boston Housing as ``(x, y)`` float64 in Knet layout: x (13, 506), y (1, 506).

    ``path`` is the ``housing.data`` file or its folder. With ``standardize``
    each feature row gets mean 0 and standard deviation 1 (NumPy's ``std``,
    ``ddof=0``; Knet's loader divides by Julia's ``ddof=1`` std, a 0.1% difference).
    """
    f = _find_file(["housing.data"], path, "housing.data",
                   "put the UCI housing.data file there")
    data = np.loadtxt(f, dtype=np.float64).T  # (14, 506)
    x = np.ascontiguousarray(data[:13])
    y = np.ascontiguousarray(data[13:14])
    if standardize:
        x = (x - x.mean(axis=1, keepdims=True)) / x.std(axis=1, keepdims=True)
    return x, y


def _read_idx(f):
    """Read one (optionally gzipped) IDX file into a uint8 array shaped by its header."""
    opener = gzip.open if f.suffix == ".gz" else open
    with opener(f, "rb") as fh:
        raw = fh.read()
    magic = int.from_bytes(raw[0:4], "big")
    if magic >> 8 != 0x08:  # 0x08 = unsigned byte
        raise ValueError(f"{f}: not a ubyte IDX file (magic {magic:#010x})")
    ndim = magic & 0xFF
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_mnist(path=None, dtype=np.float32):
    """MNIST as ``(xtrn, ytrn, xtst, ytst)``.

    x is NCHW ``(N, 1, 28, 28)`` of ``dtype`` with values in [0, 1]; y holds
    int64 labels 0..9 of shape ``(N,)``. ``path`` is a folder holding the four
    IDX files (gzipped or not), directly or in a ``mnist/`` subfolder.
    Nothing is cached on disk.
    """
    dirs = _search_dirs(path)
    found = []
    for stem in MNIST_FILES:
        names = [stem + ".gz", stem, "mnist/" + stem + ".gz", "mnist/" + stem]
        try:
            found.append(_find_file(names, path, "MNIST", ""))
        except FileNotFoundError:
            where = ", ".join(str(d) for d in dirs)
            raise FileNotFoundError(
                f"MNIST not found in {where} (missing {stem}.gz): put the four IDX .gz files "
                f"({', '.join(s + '.gz' for s in MNIST_FILES)}) there or in its mnist/ subfolder, "
                f"or set KNETC_DATA") from None
    xtrn, ytrn, xtst, ytst = (_read_idx(f) for f in found)

    dt = np.dtype(dtype)

    def images(a):
        a = a.reshape(a.shape[0], 1, a.shape[1], a.shape[2])
        return a.astype(dt) / dt.type(255) if dt.kind == "f" else a.astype(dt)

    return images(xtrn), ytrn.astype(np.int64), images(xtst), ytst.astype(np.int64)


def load_text(path=None, encoding="ascii"):
    """A text file as one string; by default the bundled ``hiawatha.txt``.

    The file is decoded as ``encoding`` (ASCII by default) with line endings
    kept as they are, so Hiawatha's CRLFs stay and its vocabulary has 84
    characters, as in Knet's CharLM benchmark.
    """
    f = _find_file(["hiawatha.txt"], path, "hiawatha.txt",
                   "put the text file there (or pass its path)")
    return f.read_bytes().decode(encoding)


class Minibatches:
    """A list-like sequence of ``(xb, yb)`` batches; see :func:`minibatch`."""

    def __init__(self, x, y, batchsize, shuffle=False, rng=None, axis=-1, partial=True):
        if batchsize < 1:
            raise ValueError("batchsize must be positive")
        self.x, self.y = x, y
        self.axis = axis % x.ndim
        self.n = x.shape[self.axis]
        if y is not None and y.shape[-1] != self.n:
            raise ValueError(f"x has {self.n} samples along axis {axis} but y has "
                             f"{y.shape[-1]} along its last axis")
        self.batchsize = batchsize
        self.shuffle = shuffle
        self.partial = partial
        self.rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        self.order = None

    def __len__(self):
        full, rest = divmod(self.n, self.batchsize)
        return full + (1 if rest and self.partial else 0)

    def _take(self, a, axis, lo, hi):
        index = [slice(None)] * a.ndim
        if self.order is None:
            index[axis] = slice(lo, hi)
        else:  # fancy indexing (np.take would first copy a non-contiguous array whole)
            index[axis] = array_module(a).asarray(self.order[lo:hi])
        return a[tuple(index)]

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError("minibatch index out of range")
        lo, hi = i * self.batchsize, min((i + 1) * self.batchsize, self.n)
        xb = self._take(self.x, self.axis, lo, hi)
        if self.y is None:
            return xb
        return xb, self._take(self.y, self.y.ndim - 1, lo, hi)

    def __iter__(self):
        # A fresh permutation for every pass when shuffling (one per epoch).
        self.order = self.rng.permutation(self.n) if self.shuffle else None
        for i in range(len(self)):
            yield self[i]

    def __repr__(self):
        return (f"<{len(self)} minibatches of {self.batchsize} from {self.n} samples "
                f"(axis {self.axis}{', shuffled' if self.shuffle else ''})>")


def minibatch(x, y, batchsize, shuffle=False, rng=None, axis=-1, partial=True):
    """Split ``(x, y)`` into ``(xb, yb)`` batches of ``batchsize`` samples.

    Samples lie along ``axis`` of ``x`` (default the last axis: Knet's
    ``(features, N)`` layout; pass ``axis=0`` for NCHW images) and along the
    last axis of ``y`` (``(N,)`` labels or ``(1, N)`` targets); ``y`` may be
    None to batch ``x`` alone. Returns a list-like object (``len``, indexing,
    iteration). With ``shuffle`` every iteration uses a new permutation drawn
    from ``rng`` (a ``numpy.random.Generator`` or a seed); unshuffled batches
    are views. A smaller last batch is kept unless ``partial=False``.
    """
    return Minibatches(x, y, batchsize, shuffle=shuffle, rng=rng, axis=axis, partial=partial)
