"""A Python loop of small operations: 50 iterations of x = tanh(W @ x + b),
W 32x32, loss = sum(x). Its "full run" is nominal."""
import numpy as np

from .. import common

NAME = "loop"
DESCRIPTION = "50 x (x = tanh(W @ x + b)), W 32x32, lr 0.01"
LR = 0.01
CLIP = None
STEPS_FULL = 10_000
STEPS_NOTE = "nominal"
ITERS = 50


def init(seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((32, 32)) / np.sqrt(32)).astype(np.float32),
            (0.1 * rng.standard_normal(32)).astype(np.float32)]


def data(nbatches=1, seed=0):
    rng = np.random.default_rng(seed + 1)
    return [(rng.standard_normal(32).astype(np.float32),) for _ in range(max(1, nbatches))]


def loss(w, x):
    for i in range(50):
        x = np.tanh(w[0] @ x + w[1])
    return np.sum(x)


def hand_value_and_grad(w, x):
    xp = common.array_module(x)
    W, b = w
    xs = [x]
    for _ in range(ITERS):
        x = xp.tanh(W @ x + b)
        xs.append(x)
    gW = xp.zeros_like(W)
    gb = xp.zeros_like(b)
    g = xp.ones_like(x)
    for k in range(ITERS, 0, -1):
        dz = g * (1 - xs[k] * xs[k])
        gW += xp.outer(dz, xs[k - 1])
        gb += dz
        g = W.T @ dz
    return x.sum(), [gW, gb]
