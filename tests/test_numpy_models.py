"""Small models in the style of HIPS autograd's examples, built on the NumPy-surface rules.

Each is differentiated compiled and on the tape and checked against central
finite differences: a fluid step (np.roll stencils, semi-Lagrangian advection
with np.floor and gathered neighbours), stick-breaking weights (np.cumprod), a
robust regression (np.median, np.sort, np.average with learned weights), and a
smoothed signal (np.pad, np.convolve, np.diff, np.tile).
"""
import numpy as np
import pytest

import knetc as knet
from knetc.testing import assert_tree_allclose, numeric_grad

R = np.random.default_rng(7)


def laplacian(f):
    return np.roll(f, 1, 0) + np.roll(f, -1, 0) + np.roll(f, 1, 1) + np.roll(f, -1, 1) - 4 * f


def advect(f, vx, vy):
    """Move ``f`` along the velocity (vx, vy), reading it back with bilinear interpolation."""
    n = f.shape[0]
    rows, cols = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    x = rows - vx
    y = cols - vy
    x0, y0 = np.floor(x), np.floor(y)
    tx, ty = x - x0, y - y0
    i0, j0 = x0.astype(int) % n, y0.astype(int) % n
    i1, j1 = (i0 + 1) % n, (j0 + 1) % n
    return ((1 - tx) * ((1 - ty) * f[i0, j0] + ty * f[i0, j1])
            + tx * ((1 - ty) * f[i1, j0] + ty * f[i1, j1]))


def fluid_loss(density, vx, vy):
    for _ in range(3):
        density = advect(density + 0.1 * laplacian(density), vx, vy)
        vx = vx + 0.05 * laplacian(vx)
    return np.sum((density - np.flipud(density)) ** 2)


def stick_breaking_loss(logits, x):
    fractions = 1 / (1 + np.exp(-logits))
    remaining = np.cumprod(1 - fractions)
    weights = fractions * np.concatenate([np.ones(1), remaining[:-1]])
    return -np.sum(np.log(weights @ np.exp(-(x[None, :] - np.arange(4.0)[:, None]) ** 2)))


def robust_loss(w, b, x, y):
    residual = y - (x @ w + b)
    scale = np.median(np.abs(residual - np.median(residual)))
    trimmed = np.sort(residual ** 2)[: -2]
    weights = np.exp(-np.abs(x @ w))
    return np.average(residual ** 2, weights=weights) / scale + np.mean(trimmed)


def smooth_loss(signal, kernel):
    padded = np.pad(signal, 2, mode="wrap")
    smooth = np.convolve(padded, kernel, mode="valid")
    tiled = np.tile(smooth, 2)
    return np.sum(np.diff(tiled) ** 2) + np.sum(np.abs(np.diff(smooth, n=2)))


CASES = [
    ("fluid", fluid_loss, (R.uniform(0, 1, (6, 6)), R.uniform(-0.7, 0.7, (6, 6)) + 0.013,
                           R.uniform(-0.7, 0.7, (6, 6)) + 0.011), (0, 1, 2)),
    ("stick_breaking", stick_breaking_loss, (R.standard_normal(4), R.uniform(0, 3, 7)), (0,)),
    ("robust", robust_loss, (R.standard_normal(3), 0.3, R.standard_normal((9, 3)), R.standard_normal(9)), (0, 1)),
    ("smooth", smooth_loss, (R.standard_normal(8), np.array([0.25, 0.5, 0.25])), (0, 1)),
]


@pytest.mark.parametrize("mode", ["source", "tape"])
@pytest.mark.parametrize("name, loss, args, wrt", CASES, ids=[c[0] for c in CASES])
def test_model_gradient(name, loss, args, wrt, mode):
    g = knet.grad(loss, wrt=wrt, mode=mode)
    got = g(*args)
    assert g.mode == mode
    assert_tree_allclose(got, numeric_grad(loss, args, wrt=wrt), rtol=1e-5, atol=1e-7)
