"""Tests of knetc.data: where files are looked for, downloading (from a local server), the
loaders and minibatch. No test touches the internet: downloads come from an HTTP server on
127.0.0.1 that the test starts, serving small IDX files the test builds."""
import gzip
import hashlib
import http.server
import os
import pathlib
import threading

import numpy as np
import pytest

from knetc import data

needs_mnist = pytest.mark.skipif(data.find_mnist() is None,
                                 reason="MNIST not found locally (KNETC_DATA, the cache or ../shared/data)")


# --- a local server and a private environment ------------------------------------------------
class _Handler(http.server.BaseHTTPRequestHandler):
    files = {}          # URL path -> bytes
    truncate = {}       # URL path -> bytes sent before the connection is closed
    requests = []

    def do_GET(self):
        self.requests.append(self.path)
        body = self.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        n = self.truncate.get(self.path, len(body))
        self.wfile.write(body[:n])
        self.wfile.flush()
        if n < len(body):
            self.close_connection = True

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    """A local HTTP server; yields (base URL, handler class to fill with files)."""
    handler = type("Handler", (_Handler,), {"files": {}, "truncate": {}, "requests": []})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", handler
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def private(monkeypatch, tmp_path):
    """No KNETC_DATA, a fresh cache under tmp_path, no ../shared/data: a machine that never saw MNIST."""
    monkeypatch.delenv("KNETC_DATA", raising=False)
    monkeypatch.delenv("KNETC_DOWNLOAD", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(data, "checkout_data_dir", lambda: None)
    return tmp_path


def _idx(array):
    a = np.asarray(array, dtype=np.uint8)
    header = (0x0800 + a.ndim).to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in a.shape)
    return gzip.compress(header + a.tobytes(), mtime=0)


def _tiny_mnist():
    """Four small gzipped IDX files: 6 training and 4 test images of 3x2 pixels."""
    rng = np.random.default_rng(0)
    arrays = {"train-images-idx3-ubyte.gz": rng.integers(0, 256, (6, 3, 2)),
              "train-labels-idx1-ubyte.gz": np.array([5, 0, 4, 1, 9, 2]),
              "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (4, 3, 2)),
              "t10k-labels-idx1-ubyte.gz": np.array([7, 2, 1, 0])}
    return arrays, {name: _idx(a) for name, a in arrays.items()}


def _serve_mnist(monkeypatch, server, prefix="/mnist/"):
    base, handler = server
    arrays, files = _tiny_mnist()
    for name, body in files.items():
        handler.files[prefix + name] = body
    monkeypatch.setattr(data, "MNIST_SHA256", {n: hashlib.sha256(b).hexdigest() for n, b in files.items()})
    monkeypatch.setattr(data, "MNIST_MIRRORS", (base + prefix,))
    return arrays, files, handler


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


# --- where files are looked for ----------------------------------------------------------------
def test_search_order_env_cache_checkout(monkeypatch, tmp_path):
    monkeypatch.setenv("KNETC_DATA", str(tmp_path / "env"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    shared = tmp_path / "shared"
    monkeypatch.setattr(data, "checkout_data_dir", lambda: shared)
    assert data.search_dirs() == [tmp_path / "env", tmp_path / "xdg" / "knetc", shared]
    assert data.search_dirs(tmp_path / "explicit") == [tmp_path / "explicit"]
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert data.cache_dir() == pathlib.Path("~/.cache/knetc").expanduser().resolve()


def test_relative_paths_are_resolved(monkeypatch, private):
    monkeypatch.chdir(private)
    monkeypatch.setenv("KNETC_DATA", "relative/data")
    assert data.search_dirs()[0] == private / "relative" / "data"
    with pytest.raises(FileNotFoundError) as err:
        data.load_mnist(download=False)
    assert str(private / "relative" / "data") in str(err.value)
    with pytest.raises(FileNotFoundError) as err:
        data.load_mnist("elsewhere", download=False)
    assert str(private / "elsewhere") in str(err.value)


def test_the_first_folder_that_has_the_file_wins(monkeypatch, private):
    env, cache = private / "env", data.cache_dir()
    for folder, value in ((env, "1.5"), (cache, "2.5")):
        folder.mkdir(parents=True)
        (folder / "housing.data").write_text(" ".join([value] * 14) + "\n" + " ".join(["0"] * 14) + "\n")
    monkeypatch.setenv("KNETC_DATA", str(env))
    assert data.load_housing(standardize=False)[1][0, 0] == 1.5
    monkeypatch.delenv("KNETC_DATA")
    assert data.load_housing(standardize=False)[1][0, 0] == 2.5     # then the cache
    (cache / "housing.data").unlink()
    assert data.load_housing(standardize=False)[1][0, 0] == 24.0    # then the bundled copy


def test_checkout_data_dir_is_beside_this_checkout():
    root = pathlib.Path(__file__).resolve().parents[1]
    expected = root.parent / "shared" / "data"
    assert data.checkout_data_dir() == (expected if expected.is_dir() else None)


# --- downloading ----------------------------------------------------------------------------
def test_download_into_the_cache_then_reuse(monkeypatch, server, private, capsys):
    arrays, _, handler = _serve_mnist(monkeypatch, server)
    xtrn, ytrn, xtst, ytst = data.mnist()
    assert xtrn.shape == (6, 1, 3, 2) and xtst.shape == (4, 1, 3, 2) and xtrn.dtype == np.float32
    np.testing.assert_array_equal(xtrn[:, 0] * 255, arrays["train-images-idx3-ubyte.gz"])
    assert list(ytrn) == [5, 0, 4, 1, 9, 2] and list(ytst) == [7, 2, 1, 0]
    cached = data.cache_dir() / "mnist"
    assert _leftovers(cached) == sorted(data.MNIST_SHA256)        # the four files, nothing else
    assert len(handler.requests) == 4
    assert f"downloading {data.MNIST_MIRRORS[0]}train-images-idx3-ubyte.gz to {cached}" in capsys.readouterr().err
    data.load_mnist()                                             # found in the cache: no request
    assert len(handler.requests) == 4


def test_download_into_an_explicit_path(monkeypatch, server, private):
    _serve_mnist(monkeypatch, server)
    target = private / "mine"
    data.load_mnist(target)
    assert _leftovers(target) == sorted(data.MNIST_SHA256)
    assert not (data.cache_dir() / "mnist").exists()


def test_download_false_forbids_it_and_says_what_to_do(monkeypatch, server, private):
    _, _, handler = _serve_mnist(monkeypatch, server)
    with pytest.raises(data.DataNotFoundError) as err:
        data.load_mnist(download=False)
    text = str(err.value)
    assert "download=False" in text and "train-images-idx3-ubyte.gz" in text
    assert str(data.cache_dir() / "mnist") in text and data.MNIST_MIRRORS[0] in text
    assert "KNETC_DATA" in text and "by hand" in text
    assert handler.requests == []
    monkeypatch.setenv("KNETC_DOWNLOAD", "0")         # the switch for offline machines and test runs
    with pytest.raises(data.DataNotFoundError, match="KNETC_DOWNLOAD=0 forbids downloading"):
        data.load_mnist()
    assert handler.requests == []


def test_the_test_suite_never_downloads():
    assert os.environ.get("KNETC_DOWNLOAD") == "0"    # set by tests/conftest.py


def test_corrupted_file_is_refused_and_not_kept(monkeypatch, server, private):
    _, files, handler = _serve_mnist(monkeypatch, server)
    bad = bytearray(files["t10k-images-idx3-ubyte.gz"])
    bad[-5] ^= 0xFF
    handler.files["/mnist/t10k-images-idx3-ubyte.gz"] = bytes(bad)
    with pytest.raises(data.DownloadError) as err:
        data.load_mnist()
    text = str(err.value)
    assert "SHA-256" in text and data.MNIST_MIRRORS[0] + "t10k-images-idx3-ubyte.gz" in text
    cached = data.cache_dir() / "mnist"
    assert str(cached) in text and "by hand" in text
    # the files before it were kept, the bad one and its temporary file are gone
    assert _leftovers(cached) == ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]


def test_interrupted_transfer_leaves_nothing(monkeypatch, server, private):
    _, files, handler = _serve_mnist(monkeypatch, server)
    handler.truncate["/mnist/train-labels-idx1-ubyte.gz"] = 10
    with pytest.raises(data.DownloadError) as err:
        data.load_mnist()
    assert "train-labels-idx1-ubyte.gz" in str(err.value)
    assert "interrupted" in str(err.value) or "failed" in str(err.value)
    assert _leftovers(data.cache_dir() / "mnist") == ["train-images-idx3-ubyte.gz"]
    del handler.truncate["/mnist/train-labels-idx1-ubyte.gz"]
    assert data.load_mnist()[1].shape == (6,)                   # a second try completes it


def test_next_mirror_is_tried(monkeypatch, server, private):
    base, handler = server
    _serve_mnist(monkeypatch, server, prefix="/good/")
    monkeypatch.setattr(data, "MNIST_MIRRORS", (base + "/missing/", base + "/good/"))
    assert data.load_mnist()[3].shape == (4,)
    assert handler.requests[:2] == ["/missing/train-images-idx3-ubyte.gz", "/good/train-images-idx3-ubyte.gz"]


def test_unreachable_server_names_url_and_folder(monkeypatch, server, private):
    _serve_mnist(monkeypatch, server)
    monkeypatch.setattr(data, "MNIST_MIRRORS", ("http://127.0.0.1:9/mnist/",))  # discard port: refused
    with pytest.raises(data.DownloadError) as err:
        data.load_mnist()
    text = str(err.value)
    assert "http://127.0.0.1:9/mnist/train-images-idx3-ubyte.gz" in text
    assert str(data.cache_dir() / "mnist") in text
    assert _leftovers(data.cache_dir() / "mnist") == []


def test_mnist_checksums_are_the_canonical_files():
    shared = data.checkout_data_dir()
    if shared is None or not (shared / "mnist" / "t10k-labels-idx1-ubyte.gz").is_file():
        pytest.skip("no canonical MNIST copy beside this checkout")
    for name, sha in data.MNIST_SHA256.items():
        assert hashlib.sha256((shared / "mnist" / name).read_bytes()).hexdigest() == sha


# --- the loaders --------------------------------------------------------------------------------
def test_bundled_files_match_shared_copies():
    text = (data.BUNDLED / "hiawatha.txt").read_bytes()
    assert len(text) == 214325
    assert hashlib.sha256(text).hexdigest() == (
        "c1f1725c6e9a8d96ac34de046f2c9ee320b49ed27f724dc51f85c643b715748f")


def test_load_housing():
    x, y = data.load_housing()
    assert x.shape == (13, 506) and y.shape == (1, 506)
    assert x.dtype == np.float64 and y.dtype == np.float64
    np.testing.assert_allclose(x.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(x.std(axis=1), 1, rtol=1e-12)
    assert y[0, 0] == 24.0 and abs(y.mean() - 22.533) < 1e-3
    raw, _ = data.load_housing(standardize=False)
    assert raw[0, 0] == 0.00632 and raw[5, 0] == 6.575


def test_load_housing_falls_back_to_bundled(monkeypatch, private):
    monkeypatch.setenv("KNETC_DATA", str(private))  # a folder without housing.data
    x, _ = data.load_housing()
    assert x.shape == (13, 506)


def test_load_text():
    text = data.load_text()
    assert text == data.hiawatha()
    assert isinstance(text, str) and len(text) == 214325
    assert len(set(text)) == 84 and "\r" in text
    assert text.startswith("The Project Gutenberg EBook of The Song Of Hiawatha")


def test_missing_files_give_helpful_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="MNIST not found"):
        data.load_mnist(tmp_path, download=False)
    with pytest.raises(FileNotFoundError, match=f"housing.data not found in {tmp_path}"):
        data.load_housing(tmp_path)


@needs_mnist
def test_load_mnist():
    xtrn, ytrn, xtst, ytst = data.load_mnist(download=False)
    assert xtrn.shape == (60000, 1, 28, 28) and xtst.shape == (10000, 1, 28, 28)
    assert xtrn.dtype == np.float32 and 0 <= xtrn.min() and xtrn.max() == 1
    assert ytrn.dtype == np.int64 and ytrn.shape == (60000,) and ytst.shape == (10000,)
    assert list(ytrn[:10]) == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert list(ytst[:10]) == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert list(np.bincount(ytst)) == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert abs(xtrn.mean() * 255 - 33.318) < 1e-2


# --- minibatch ----------------------------------------------------------------------------------
def test_minibatch_columns():
    x = np.arange(2 * 10).reshape(2, 10)
    y = np.arange(10)
    mb = data.minibatch(x, y, 3)                       # Knet's default: the partial batch is dropped
    assert len(mb) == 3
    assert [(xb.shape, yb.shape) for xb, yb in mb] == [((2, 3), (3,))] * 3
    np.testing.assert_array_equal(mb[1][0], x[:, 3:6])
    np.testing.assert_array_equal(mb[-1][1], [6, 7, 8])
    kept = data.minibatch(x, y, 3, partial=True)
    assert len(kept) == 4
    np.testing.assert_array_equal(kept[-1][1], [9])
    assert [xb.shape for xb, _ in data.minibatch(x, y, 5)] == [(2, 5), (2, 5)]


def test_minibatch_without_y():
    x = np.arange(2 * 25).reshape(2, 25)
    mb = data.minibatch(x, 10)
    assert len(mb) == 2
    np.testing.assert_array_equal(mb[1], x[:, 10:20])
    assert [b.shape for b in data.minibatch(x, np.int64(10), partial=True)] == [(2, 10), (2, 10), (2, 5)]
    assert len(data.minibatch(x, None, 5)) == 5
    with pytest.raises(TypeError, match="batch size is missing"):
        data.minibatch(x, np.arange(25))


def test_minibatch_images_and_shuffle():
    x = np.arange(7 * 1 * 2 * 2, dtype=np.float32).reshape(7, 1, 2, 2)
    y = np.arange(7)
    mb = data.minibatch(x, y, 2, axis=0, shuffle=True, rng=0)
    epoch1 = list(mb)
    epoch2 = list(mb)
    assert len(epoch1) == 3 and all(xb.shape == (2, 1, 2, 2) for xb, _ in epoch1)
    for xb, yb in epoch1:  # x and y stay paired
        np.testing.assert_array_equal(xb[:, 0, 0, 0], yb * 4)
    seen = np.concatenate([yb for _, yb in epoch1])
    assert len(set(seen.tolist())) == 6
    assert not all(np.array_equal(a[1], b[1]) for a, b in zip(epoch1, epoch2))  # reshuffled
    again = list(data.minibatch(x, y, 2, axis=0, shuffle=True, rng=0))
    for (a, b), (c, d) in zip(epoch1, again):  # same seed, same order
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)


def test_minibatch_targets_in_rows():
    x, y = data.load_housing()
    assert [yb.shape for _, yb in data.minibatch(x, y, 100)] == [(1, 100)] * 5
    assert [yb.shape for _, yb in data.minibatch(x, y, 100, partial=True)] == [(1, 100)] * 5 + [(1, 6)]
    with pytest.raises(ValueError):
        data.minibatch(x, y[:, :10], 100)
