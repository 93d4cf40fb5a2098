"""MLP with one hidden layer of 64 ReLU units on MNIST (Knet ``mnist.jl``,
``--hidden 64``): batch 100, lr 0.5, 10 epochs."""
import numpy as np

from .. import common

NAME = "mlp"
DESCRIPTION = "MLP-64 ReLU, MNIST, batch 100, lr 0.5"
LR = 0.5
CLIP = None
STEPS_FULL = 10 * 600
STEPS_NOTE = "10 epochs x 600"
HIDDEN = (64,)
BATCH = 100


def init_layers(sizes, seed=0):
    rng = np.random.default_rng(seed)
    w = []
    for nin, nout in zip(sizes[:-1], sizes[1:]):
        w.append((0.1 * rng.standard_normal((nout, nin))).astype(np.float32))
        # small non-zero biases: no ReLU input is exactly 0 on the check batch
        # (systems differ in the subgradient they pick there)
        w.append((0.01 * rng.standard_normal((nout, 1))).astype(np.float32))
    return w


def init(seed=0):
    return init_layers((784,) + HIDDEN + (10,), seed)


_MNIST = {}


def data(nbatches=600, seed=0):
    """The first ``nbatches`` training minibatches: x (784, 100), one-hot y (10, 100)."""
    if "trn" not in _MNIST:
        xtrn, ytrn, _, _ = common.load_mnist(np.float32)
        _MNIST["trn"] = (xtrn.reshape(len(xtrn), -1), ytrn)
    x, y = _MNIST["trn"]
    n = min(nbatches, len(x) // BATCH)
    return [(np.ascontiguousarray(x[i * BATCH:(i + 1) * BATCH].T),
             common.onehot(y[i * BATCH:(i + 1) * BATCH], 10)) for i in range(n)]


def predict(w, x):
    for i in range(0, len(w) - 2, 2):
        x = np.maximum(0, w[i] @ x + w[i + 1])
    return w[-2] @ x + w[-1]


def logp(y):
    y = y - np.max(y, axis=0, keepdims=True)
    return y - np.log(np.sum(np.exp(y), axis=0, keepdims=True))


def loss(w, x, y):
    return -np.sum(y * logp(predict(w, x))) / y.shape[1]


def hand_value_and_grad(w, x, y):
    """Forward and backward of any ReLU MLP / softmax regression, by hand."""
    xp = common.array_module(x)
    acts = [x]
    for i in range(0, len(w) - 2, 2):
        x = w[i] @ x + w[i + 1]
        x = xp.maximum(x, 0)
        acts.append(x)
    z = w[-2] @ x + w[-1]
    z -= z.max(axis=0, keepdims=True)
    e = xp.exp(z)
    s = e.sum(axis=0, keepdims=True)
    n = y.shape[1]
    loss = -(y * (z - xp.log(s))).sum() / n
    dz = (e / s - y) / n  # softmax minus one-hot, per sample mean
    grads = [None] * len(w)
    for i in range(len(w) - 2, -1, -2):
        h = acts[i // 2]
        grads[i] = dz @ h.T
        grads[i + 1] = dz.sum(axis=1, keepdims=True)
        if i:
            dz = (w[i].T @ dz) * (h > 0)
    return loss, grads

