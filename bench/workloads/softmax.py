"""Softmax regression on MNIST (Knet tutorial ``mnist.jl``): batch 100, lr 0.5, 10 epochs."""
import numpy as np

from . import mlp as _mlp

NAME = "softmax"
DESCRIPTION = "Softmax, MNIST, batch 100, lr 0.5"
LR = 0.5
CLIP = None
STEPS_FULL = 10 * 600
STEPS_NOTE = "10 epochs x 600"
HIDDEN = ()
data = _mlp.data


def init(seed=0):
    return _mlp.init_layers((784,) + HIDDEN + (10,), seed)


def predict(w, x):
    return w[0] @ x + w[1]


def logp(y):
    y = y - np.max(y, axis=0, keepdims=True)
    return y - np.log(np.sum(np.exp(y), axis=0, keepdims=True))


def loss(w, x, y):
    return -np.sum(y * logp(predict(w, x))) / y.shape[1]


hand_value_and_grad = _mlp.hand_value_and_grad
