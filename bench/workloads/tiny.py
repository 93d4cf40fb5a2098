"""A tiny function: the gradient of sum(tanh(w*x) + w*w) on 10-element vectors.

Measures the fixed per-call cost of each system. Its "full run" is nominal.
"""
import numpy as np

from .. import common

NAME = "tiny"
DESCRIPTION = "sum(tanh(w*x) + w*w), 10-vectors, lr 0.1"
LR = 0.1
CLIP = None
STEPS_FULL = 10_000
STEPS_NOTE = "nominal"


def init(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(10).astype(np.float32)]


def data(nbatches=1, seed=0):
    rng = np.random.default_rng(seed + 1)
    return [(rng.standard_normal(10).astype(np.float32),)]


def loss(w, x):
    return np.sum(np.tanh(w[0] * x) + w[0] * w[0])


def hand_value_and_grad(w, x):
    xp = common.array_module(x)
    t = xp.tanh(w[0] * x)
    return (t + w[0] * w[0]).sum(), [(1 - t * t) * x + 2 * w[0]]
