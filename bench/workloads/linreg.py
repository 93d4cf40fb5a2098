"""Linear regression on the Boston Housing data (Knet tutorial ``housing.jl``).

Full batch (506 houses), lr 0.1; the paper ran 10,000 steps.
"""
import numpy as np

from .. import common

NAME = "linreg"
DESCRIPTION = "LinReg, Housing, full batch (506), lr 0.1"
LR = 0.1
CLIP = None
STEPS_FULL = 10_000
STEPS_NOTE = "paper"


def init(seed=0):
    rng = np.random.default_rng(seed)
    return [(0.1 * rng.standard_normal((1, 13))).astype(np.float32),
            np.zeros((1, 1), np.float32)]


def data(nbatches=1, seed=0):
    x, y = common.load_housing()
    return [(np.ascontiguousarray(x, np.float32), np.ascontiguousarray(y, np.float32))]


def predict(w, x):
    return w[0] @ x + w[1]


def loss(w, x, y):
    return np.mean((predict(w, x) - y) ** 2)


def hand_value_and_grad(w, x, y):
    d = w[0] @ x + w[1] - y
    loss = (d * d).mean()
    g = d * (2 / d.size)
    return loss, [g @ x.T, g.sum(axis=1, keepdims=True)]
