"""LeNet on MNIST (Knet tutorial ``lenet.jl``): conv5x5x20-pool-conv5x5x50-pool-
dense500-dense10, ReLU, batch 100, lr 0.1, 1 epoch.

NumPy layout of Knet's (W,H,C,N) arrays: images (N, C, H, W), filters
(O, C, 5, 5), conv biases (1, C, 1, 1); after ``mat`` samples are columns.
``conv4``/``pool``/``mat`` come from ``knetc.nn`` when it has them, else from
``bench.kernels`` (the same semantics).
"""
import numpy as np

from .. import common

NAME = "lenet"
DESCRIPTION = "LeNet, MNIST, batch 100, lr 0.1"
LR = 0.1
CLIP = None
STEPS_FULL = 600
STEPS_NOTE = "1 epoch x 600"
BATCH = 100


def _resolve_nn():
    try:
        import knetc.nn as knn
        if all(hasattr(knn, f) for f in ("conv4", "pool", "mat")):
            return knn
    except Exception:  # noqa: BLE001 - knetc.nn not written yet
        pass
    from .. import kernels
    return kernels


nn = None  # bound lazily by ``init``/``data`` (see _resolve_nn)


def _bind():
    global nn
    if nn is None:
        nn = _resolve_nn()


def init(seed=0):
    _bind()
    rng = np.random.default_rng(seed)

    def xavier(*shape, fan_in, fan_out):
        s = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-s, s, shape).astype(np.float32)

    def bias(*shape):
        # small non-zero biases: no ReLU input is exactly 0 on the check batch
        return (0.01 * rng.standard_normal(shape)).astype(np.float32)

    return [xavier(20, 1, 5, 5, fan_in=25, fan_out=500), bias(1, 20, 1, 1),
            xavier(50, 20, 5, 5, fan_in=500, fan_out=1250), bias(1, 50, 1, 1),
            xavier(500, 800, fan_in=800, fan_out=500), bias(500, 1),
            xavier(10, 500, fan_in=500, fan_out=10), bias(10, 1)]


_MNIST = {}


def data(nbatches=600, seed=0):
    """The first ``nbatches`` minibatches: x (100, 1, 28, 28), one-hot y (10, 100)."""
    _bind()
    if "trn" not in _MNIST:
        xtrn, ytrn, _, _ = common.load_mnist(np.float32)
        _MNIST["trn"] = (xtrn, ytrn)
    x, y = _MNIST["trn"]
    n = min(nbatches, len(x) // BATCH)
    return [(np.ascontiguousarray(x[i * BATCH:(i + 1) * BATCH]),
             common.onehot(y[i * BATCH:(i + 1) * BATCH], 10)) for i in range(n)]


def predict(w, x):
    for i in range(0, 4, 2):
        x = nn.pool(np.maximum(0, nn.conv4(w[i], x) + w[i + 1]))
    x = nn.mat(x)
    x = np.maximum(0, w[4] @ x + w[5])
    return w[6] @ x + w[7]


def logp(y):
    y = y - np.max(y, axis=0, keepdims=True)
    return y - np.log(np.sum(np.exp(y), axis=0, keepdims=True))


def loss(w, x, y):
    return -np.sum(y * logp(predict(w, x))) / y.shape[1]


def hand_value_and_grad(w, x, y):
    from .. import kernels as K
    xp = common.array_module(x)
    # forward, keeping what the backward needs
    a1, cols1 = K.conv4_forward(w[0], x)
    r1 = xp.maximum(a1 + w[1], 0)
    p1 = K.pool(r1)
    a2, cols2 = K.conv4_forward(w[2], p1)
    r2 = xp.maximum(a2 + w[3], 0)
    p2 = K.pool(r2)
    h0 = K.mat(p2)
    h1 = xp.maximum(w[4] @ h0 + w[5], 0)
    z = w[6] @ h1 + w[7]
    z -= z.max(axis=0, keepdims=True)
    e = xp.exp(z)
    s = e.sum(axis=0, keepdims=True)
    n = y.shape[1]
    loss = -(y * (z - xp.log(s))).sum() / n
    # backward
    dz = (e / s - y) / n
    g = [None] * 8
    g[6] = dz @ h1.T
    g[7] = dz.sum(axis=1, keepdims=True)
    dh1 = (w[6].T @ dz) * (h1 > 0)
    g[4] = dh1 @ h0.T
    g[5] = dh1.sum(axis=1, keepdims=True)
    dp2 = (w[4].T @ dh1).T.reshape(p2.shape)
    da2 = K.pool_backward(dp2, r2, p2) * (r2 > 0)
    g[2] = K.conv4_backward_w(da2, cols2, w[2].shape)
    g[3] = da2.sum(axis=(0, 2, 3), keepdims=True)
    dp1 = K.conv4_backward_x(da2, w[2], p1.shape)
    da1 = K.pool_backward(dp1, r1, p1) * (r1 > 0)
    g[0] = K.conv4_backward_w(da1, cols1, w[0].shape)
    g[1] = da1.sum(axis=(0, 2, 3), keepdims=True)
    return loss, g
