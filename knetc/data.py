"""Data sets of the Knet benchmarks and a minibatch iterator.

Where files are looked for (:func:`search_dirs`), in this order:

1. an explicit ``path`` argument (then only there);
2. the folder named by the ``KNETC_DATA`` environment variable;
3. the per-user cache, ``$XDG_CACHE_HOME/knetc`` (default ``~/.cache/knetc``;
   ``%LOCALAPPDATA%\\knetc`` on Windows), see :func:`cache_dir`;
4. ``../shared/data`` beside a source checkout of knetc;
5. for Housing and Hiawatha, the copies bundled in the package (``knetc/data/``).

MNIST files may sit in a folder or in its ``mnist/`` subfolder, gzipped or
not. When they are found nowhere, :func:`load_mnist` downloads them from
their canonical mirror into the cache (``<cache>/mnist``, or into ``path``
when one is given), with a progress bar and a SHA-256 check; a file is
written under a temporary name and renamed only once complete and checked,
so an interrupted or corrupted download leaves nothing behind.
``download=False`` (or the environment variable ``KNETC_DOWNLOAD=0``)
forbids downloading. Relative paths are resolved and
every message shows absolute ones.

Layouts follow Knet: dense data puts features in rows and samples in columns
(``x`` of shape ``(features, N)``), images are NCHW ``(N, C, H, W)`` with the
samples first. :func:`minibatch` therefore splits along the last axis by
default and takes ``axis=0`` for images.
"""
import gzip
import hashlib
import numbers
import os
import pathlib
import sys
import tempfile
import urllib.error
import urllib.request

import numpy as np

from .errors import DataNotFoundError, DownloadError  # noqa: F401  (part of knetc.data's interface)
from .runtime.backend import module_of

BUNDLED = pathlib.Path(__file__).resolve().parent / "data"

# The canonical MNIST files (LeCun, Cortes and Burges; CC BY-SA 3.0), with their SHA-256.
# The mirrors are torchvision's, in its order; yann.lecun.com is the original home.
MNIST_MIRRORS = ("https://ossci-datasets.s3.amazonaws.com/mnist/",
                 "http://yann.lecun.com/exdb/mnist/")
MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
               "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


# --- where files are looked for ----------------------------------------------------------
def _absolute(p):
    return pathlib.Path(p).expanduser().resolve()


def cache_dir():
    """The per-user cache folder (it need not exist yet)."""
    if os.name == "nt" and os.environ.get("LOCALAPPDATA"):
        return _absolute(os.environ["LOCALAPPDATA"]) / "knetc"
    base = os.environ.get("XDG_CACHE_HOME") or "~/.cache"
    return _absolute(base) / "knetc"


def checkout_data_dir():
    """``../shared/data`` beside the source checkout knetc runs from, or None.

    Only a checkout counts (a folder holding ``pyproject.toml`` and the
    ``knetc`` package); an installed knetc has no such neighbour.
    """
    root = pathlib.Path(__file__).resolve().parents[1]
    shared = root.parent / "shared" / "data"
    if (root / "pyproject.toml").is_file() and shared.is_dir():
        return shared
    return None


def search_dirs(path=None):
    """The folders searched for data files, in order (absolute paths).

    ``path`` alone when it is given; else ``$KNETC_DATA``, the cache, the
    checkout's ``../shared/data`` (the bundled folder is searched last for the
    files it holds, by the loaders that use it).
    """
    if path is not None:
        return [_absolute(path)]
    dirs = []
    env = os.environ.get("KNETC_DATA")
    if env:
        dirs.append(_absolute(env))
    dirs.append(cache_dir())
    shared = checkout_data_dir()
    if shared is not None:
        dirs.append(shared)
    out = []
    for d in dirs:
        if d not in out:
            out.append(d)
    return out


def _find(names, dirs):
    """The first existing file ``d / name`` over ``dirs`` then ``names``, or None."""
    for d in dirs:
        for name in names:
            p = d / name
            if p.is_file():
                return p
    return None


def _find_file(names, path, what, hint, bundled=True):
    """A data file: ``path`` itself if it is a file, else the first match in the search folders."""
    if path is not None and _absolute(path).is_file():
        return _absolute(path)
    dirs = search_dirs(path)
    if bundled and path is None:
        dirs.append(BUNDLED)
    found = _find(names, dirs)
    if found is None:
        where = ", ".join(str(d) for d in dirs)
        raise DataNotFoundError(f"knetc: {what} not found in {where}: {hint}")
    return found


# --- downloading -------------------------------------------------------------------------
def download(url, dest, sha256, timeout=60, progress=True):
    """Download ``url`` to the file ``dest``, checking its SHA-256; returns ``dest``.

    The bytes go to a temporary file beside ``dest`` that is renamed only when
    the transfer is complete and the checksum matches; on any failure it is
    removed and a :class:`DownloadError` names the URL and the file.
    """
    from tqdm.auto import tqdm  # lazy: tqdm is optional
    dest = _absolute(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        digest, got, total = hashlib.sha256(), 0, None
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=timeout) as response:
                    total = int(response.headers.get("Content-Length") or 0) or None
                    with tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024,
                              desc=dest.name, disable=not progress, leave=False) as bar:
                        while True:
                            chunk = response.read(1 << 16)
                            if not chunk:
                                break
                            out.write(chunk)
                            digest.update(chunk)
                            got += len(chunk)
                            bar.update(len(chunk))
            except (urllib.error.URLError, OSError, ValueError) as e:
                raise DownloadError(f"knetc: downloading {url} failed after {got} bytes: {e}") from e
        if total is not None and got != total:
            raise DownloadError(f"knetc: downloading {url} was interrupted: got {got} of {total} bytes")
        if digest.hexdigest() != sha256:
            raise DownloadError(f"knetc: {url} has SHA-256 {digest.hexdigest()}, expected {sha256} "
                                f"(a corrupted or different file; nothing was kept)")
        os.replace(tmp, dest)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return dest


def _download_mnist(target, missing):
    """Download the ``missing`` MNIST .gz files into folder ``target``, trying each mirror."""
    for name in missing:
        errors = []
        for mirror in MNIST_MIRRORS:
            url = mirror + name
            print(f"knetc: downloading {url} to {target}", file=sys.stderr)
            try:
                download(url, target / name, MNIST_SHA256[name])
                break
            except DownloadError as e:
                errors.append(str(e).replace("knetc: ", "", 1))
        else:
            raise DownloadError(
                f"knetc: could not download MNIST's {name} into {target}:\n  "
                + "\n  ".join(errors) + "\n" + _place_by_hand(target))


def _place_by_hand(target):
    names = ", ".join(MNIST_SHA256)
    return (f"To place the files by hand, download {names} from {MNIST_MIRRORS[0]} and put them "
            f"in {target} (or in any folder named by the KNETC_DATA environment variable, "
            f"or pass path=FOLDER).")


# --- the loaders ---------------------------------------------------------------------------
def load_housing(path=None, standardize=True):
    """Boston Housing as ``(x, y)`` float64 in Knet layout: x (13, 506), y (1, 506).

    ``path`` is the ``housing.data`` file or its folder (default: the search
    folders, then the bundled copy). With ``standardize`` each feature row
    gets mean 0 and standard deviation 1 (NumPy's ``std``, ``ddof=0``; Knet's
    loader divides by Julia's ``ddof=1`` std, a 0.1% difference).
    """
    f = _find_file(["housing.data"], path, "housing.data",
                   "put the UCI housing.data file there, or pass its path")
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


def _mnist_names(stem):
    return [stem + ".gz", stem, "mnist/" + stem + ".gz", "mnist/" + stem]


def find_mnist(path=None):
    """The four MNIST files found in the search folders (never downloads), or None."""
    dirs = search_dirs(path)
    found = [_find(_mnist_names(stem), dirs) for stem in MNIST_FILES]
    return None if None in found else found


def _download_allowed(download):
    """``download``, or when None the ``KNETC_DOWNLOAD`` environment variable (default: allowed)."""
    if download is not None:
        return bool(download), "download=False"
    env = os.environ.get("KNETC_DOWNLOAD", "1").strip().lower()
    return env not in ("0", "false", "no", "off"), f"KNETC_DOWNLOAD={os.environ.get('KNETC_DOWNLOAD')}"


def load_mnist(path=None, dtype=np.float32, download=None):
    """MNIST as ``(xtrn, ytrn, xtst, ytst)``, downloaded into the cache if needed.

    x is NCHW ``(N, 1, 28, 28)`` of ``dtype`` with values in [0, 1]; y holds
    int64 labels 0..9 of shape ``(N,)``. The four IDX files (gzipped or not)
    are looked for in the search folders (see the module docstring), directly
    or in a ``mnist/`` subfolder; ``path`` names the one folder to use. Missing
    files are downloaded into ``<cache>/mnist`` (into ``path`` when given)
    unless ``download=False`` (or, when ``download`` is None, the environment
    variable ``KNETC_DOWNLOAD=0``, for offline machines and test runs).
    """
    dirs = search_dirs(path)
    found = [_find(_mnist_names(stem), dirs) for stem in MNIST_FILES]
    if None in found:
        target = dirs[0] if path is not None else cache_dir() / "mnist"
        missing = [stem + ".gz" for stem, f in zip(MNIST_FILES, found) if f is None]
        allowed, why = _download_allowed(download)
        if not allowed:
            raise DataNotFoundError(
                f"knetc: MNIST not found (missing {', '.join(missing)}); looked in "
                f"{', '.join(str(d) for d in dirs)} and their mnist/ subfolders, and {why} "
                f"forbids downloading. " + _place_by_hand(target))
        _download_mnist(target, missing)
        found = [f if f is not None else target / (stem + ".gz") for stem, f in zip(MNIST_FILES, found)]
    xtrn, ytrn, xtst, ytst = (_read_idx(f) for f in found)

    dt = np.dtype(dtype)

    def images(a):
        a = a.reshape(a.shape[0], 1, a.shape[1], a.shape[2])
        return a.astype(dt) / dt.type(255) if dt.kind == "f" else a.astype(dt)

    return images(xtrn), ytrn.astype(np.int64), images(xtst), ytst.astype(np.int64)


def mnist(path=None, dtype=np.float32, download=None):
    """``load_mnist`` under Knet's name: ``xtrn, ytrn, xtst, ytst = knet.data.mnist()``."""
    return load_mnist(path, dtype=dtype, download=download)


def load_text(path=None, encoding="ascii"):
    """A text file as one string; by default ``hiawatha.txt`` (bundled with the package).

    ``path`` is the file or its folder; without it the search folders are
    looked through first, then the bundled copy. The file is decoded as
    ``encoding`` (ASCII by default) with line endings kept as they are, so
    Hiawatha's CRLFs stay and its vocabulary has 84 characters, as in Knet's
    CharLM benchmark.
    """
    f = _find_file(["hiawatha.txt"], path, "hiawatha.txt",
                   "put the text file there, or pass its path")
    return f.read_bytes().decode(encoding)


def hiawatha():
    """The text of Longfellow's *Song of Hiawatha* (Gutenberg #19), Knet's CharLM data."""
    return load_text()


# --- minibatches ---------------------------------------------------------------------------
class Minibatches:
    """A list-like sequence of ``(xb, yb)`` batches (or ``xb`` alone); see :func:`minibatch`."""

    def __init__(self, x, y, batchsize, shuffle=False, rng=None, axis=-1, partial=False):
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
            index[axis] = module_of(a).asarray(self.order[lo:hi])
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
                f"(axis {self.axis}{', shuffled' if self.shuffle else ''}"
                f"{', partial last batch kept' if self.partial else ''})>")


def minibatch(x, y=None, batchsize=None, shuffle=False, rng=None, axis=-1, partial=False):
    """Split ``(x, y)`` into ``(xb, yb)`` batches of ``batchsize`` samples, as Knet's ``minibatch``.

    ``minibatch(x, y, 100)`` or, for ``x`` alone, ``minibatch(x, 100)`` (then
    each batch is an ``xb``). Samples lie along ``axis`` of ``x`` (default the
    last axis: Knet's ``(features, N)`` layout; pass ``axis=0`` for NCHW
    images) and along the last axis of ``y`` (``(N,)`` labels or ``(1, N)``
    targets). Returns a list-like object (``len``, indexing, iteration). With
    ``shuffle`` every iteration uses a new permutation drawn from ``rng`` (a
    ``numpy.random.Generator`` or a seed); unshuffled batches are views. As in
    Knet, a smaller last batch is dropped unless ``partial=True``.
    """
    if batchsize is None:
        if not isinstance(y, numbers.Integral) or isinstance(y, bool):
            raise TypeError("knetc: minibatch(x, y, batchsize) or minibatch(x, batchsize): "
                            "the batch size is missing")
        y, batchsize = None, int(y)
    return Minibatches(x, y, batchsize, shuffle=shuffle, rng=rng, axis=axis, partial=partial)
