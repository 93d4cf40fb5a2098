"""Tests of knetc.data: data folder resolution, the loaders and minibatch."""
import hashlib
import os
import pathlib

import numpy as np
import pytest

from knetc import data

SHARED = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _mnist_dir():
    for d in (os.environ.get("KNETC_DATA"), SHARED):
        if d and any((pathlib.Path(d) / sub / "train-images-idx3-ubyte.gz").is_file()
                     for sub in (".", "mnist")):
            return pathlib.Path(d)
    return None


needs_mnist = pytest.mark.skipif(_mnist_dir() is None, reason="MNIST files not found (set KNETC_DATA)")


def test_data_dir_resolution(monkeypatch, tmp_path):
    assert data.data_dir(tmp_path) == tmp_path
    monkeypatch.setenv("KNETC_DATA", str(tmp_path))
    assert data.data_dir() == tmp_path
    monkeypatch.delenv("KNETC_DATA")
    assert data.data_dir() == data.BUNDLED
    assert (data.BUNDLED / "housing.data").is_file()


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


def test_load_housing_falls_back_to_bundled(monkeypatch, tmp_path):
    monkeypatch.setenv("KNETC_DATA", str(tmp_path))  # a folder without housing.data
    x, _ = data.load_housing()
    assert x.shape == (13, 506)


def test_load_text():
    text = data.load_text()
    assert isinstance(text, str) and len(text) == 214325
    assert len(set(text)) == 84 and "\r" in text
    assert text.startswith("The Project Gutenberg EBook of The Song Of Hiawatha")


def test_missing_files_give_helpful_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="MNIST not found in .*KNETC_DATA"):
        data.load_mnist(tmp_path)
    with pytest.raises(FileNotFoundError, match="housing.data not found"):
        data.load_housing(tmp_path)


@needs_mnist
def test_load_mnist():
    xtrn, ytrn, xtst, ytst = data.load_mnist(_mnist_dir())
    assert xtrn.shape == (60000, 1, 28, 28) and xtst.shape == (10000, 1, 28, 28)
    assert xtrn.dtype == np.float32 and 0 <= xtrn.min() and xtrn.max() == 1
    assert ytrn.dtype == np.int64 and ytrn.shape == (60000,) and ytst.shape == (10000,)
    assert list(ytrn[:10]) == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert list(ytst[:10]) == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert list(np.bincount(ytst)) == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert abs(xtrn.mean() * 255 - 33.318) < 1e-2


def test_minibatch_columns():
    x = np.arange(2 * 10).reshape(2, 10)
    y = np.arange(10)
    mb = data.minibatch(x, y, 3)
    assert len(mb) == 4
    shapes = [(xb.shape, yb.shape) for xb, yb in mb]
    assert shapes == [((2, 3), (3,))] * 3 + [((2, 1), (1,))]
    np.testing.assert_array_equal(mb[1][0], x[:, 3:6])
    np.testing.assert_array_equal(mb[-1][1], [9])
    assert len(data.minibatch(x, y, 3, partial=False)) == 3
    assert [xb.shape for xb, _ in data.minibatch(x, y, 5, partial=False)] == [(2, 5), (2, 5)]


def test_minibatch_images_and_shuffle():
    x = np.arange(7 * 1 * 2 * 2, dtype=np.float32).reshape(7, 1, 2, 2)
    y = np.arange(7)
    mb = data.minibatch(x, y, 2, axis=0, shuffle=True, rng=0, partial=False)
    epoch1 = list(mb)
    epoch2 = list(mb)
    assert len(epoch1) == 3 and all(xb.shape == (2, 1, 2, 2) for xb, _ in epoch1)
    for xb, yb in epoch1:  # x and y stay paired
        np.testing.assert_array_equal(xb[:, 0, 0, 0], yb * 4)
    seen = np.concatenate([yb for _, yb in epoch1])
    assert len(set(seen.tolist())) == 6
    assert not all(np.array_equal(a[1], b[1]) for a, b in zip(epoch1, epoch2))  # reshuffled
    again = list(data.minibatch(x, y, 2, axis=0, shuffle=True, rng=0, partial=False))
    for (a, b), (c, d) in zip(epoch1, again):  # same seed, same order
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)


def test_minibatch_targets_in_rows():
    x, y = data.load_housing()
    batches = data.minibatch(x, y, 100)
    assert [yb.shape for _, yb in batches] == [(1, 100)] * 5 + [(1, 6)]
    with pytest.raises(ValueError):
        data.minibatch(x, y[:, :10], 100)
