"""Character-level LSTM language model on The Song of Hiawatha (Knet ``charlm.jl``):
embedding and hidden size 256, batch 128, BPTT 100, lr 4.0, gradient clip 3.0,
1 epoch.

The text is split into 128 parallel streams (the columns); each step trains on
one window of 100 characters of every stream. The LSTM state starts at zero in
every window (the paper carried it over between windows; that changes nothing
in the cost of a step). Inputs and targets are one-hot columns, as in Knet.
"""
import numpy as np

from .. import common

NAME = "charlm"
DESCRIPTION = "CharLM LSTM 256/256, Hiawatha, batch 128, BPTT 100, lr 4.0, clip 3.0"
LR = 4.0
CLIP = 3.0
# jax traces the 100-step Python loop into one XLA program: compiling it takes about
# a minute on 2 cores, too long for a quick run
QUICK_SKIP = {"jax": "its XLA compile of the 100 unrolled LSTM steps takes about a minute"}
EMBED = 256
HIDDEN = 256
BATCH = 128
BPTT = 100

_TEXT = {}


def _text():
    if "ids" not in _TEXT:
        text = common.load_text()
        vocab = sorted(set(text))
        index = {ch: i for i, ch in enumerate(vocab)}
        _TEXT["ids"] = np.array([index[ch] for ch in text], np.int64)
        _TEXT["vocab"] = len(vocab)
    return _TEXT["ids"], _TEXT["vocab"]


def nwindows():
    ids, _ = _text()
    return (len(ids) // BATCH - 1) // BPTT


STEPS_NOTE = "1 epoch"


def init(seed=0):
    _, vocab = _text()
    rng = np.random.default_rng(seed)

    def randn(*shape, scale):
        return (scale * rng.standard_normal(shape)).astype(np.float32)

    h, e = HIDDEN, EMBED
    return [randn(4 * h, e, scale=1 / np.sqrt(e)),      # input weights (gates i,f,o,g stacked)
            randn(4 * h, h, scale=1 / np.sqrt(h)),      # recurrent weights
            randn(4 * h, 1, scale=0.01),                # gate biases
            randn(e, vocab, scale=1.0),                 # embedding
            randn(vocab, h, scale=1 / np.sqrt(h)),      # output weights
            randn(vocab, 1, scale=0.01)]                # output bias


def data(nbatches=None, seed=0):
    """Windows of one-hot characters: x (100, V, 128) inputs, y (100, V, 128) next chars."""
    ids, vocab = _text()
    ncol = len(ids) // BATCH
    streams = ids[:ncol * BATCH].reshape(BATCH, ncol)  # each row one contiguous stream
    n = nwindows() if nbatches is None else min(nbatches, nwindows())
    out = []
    for k in range(n):
        chunk = streams[:, k * BPTT:(k + 1) * BPTT + 1]           # (128, 101)
        seq = np.zeros((BPTT + 1, vocab, BATCH), np.float32)
        seq[np.arange(BPTT + 1)[:, None], chunk.T, np.arange(BATCH)[None, :]] = 1
        out.append((seq[:-1], seq[1:]))
    return out


def sigm(x):
    return 1 / (1 + np.exp(-x))


def lstm(w, h, c, x):
    H = h.shape[0]
    gates = w[0] @ x + w[1] @ h + w[2]
    ingate = sigm(gates[:H])
    forget = sigm(gates[H:2 * H])
    outgate = sigm(gates[2 * H:3 * H])
    change = np.tanh(gates[3 * H:])
    c = forget * c + ingate * change
    h = outgate * np.tanh(c)
    return h, c


def logp(y):
    y = y - np.max(y, axis=0, keepdims=True)
    return y - np.log(np.sum(np.exp(y), axis=0, keepdims=True))


def loss(w, x, y):
    H = w[1].shape[1]
    B = x.shape[2]
    h = np.zeros((H, B), dtype=x.dtype)
    c = np.zeros((H, B), dtype=x.dtype)
    total = 0.0
    for t in range(x.shape[0]):
        h, c = lstm(w, h, c, w[3] @ x[t])
        ypred = w[4] @ h + w[5]
        total = total + np.sum(y[t] * logp(ypred))
    return -total / (x.shape[0] * B)


def hand_value_and_grad(w, x, y):
    xp = common.array_module(x)
    Wx, Wh, b, We, Wy, by = w
    T, _, B = x.shape
    H = Wh.shape[1]
    n = T * B
    h = xp.zeros((H, B), x.dtype)
    c = xp.zeros((H, B), x.dtype)
    es, hs, cs, gs, tcs, ps = [], [h], [c], [], [], []
    total = 0
    for t in range(T):
        e = We @ x[t]
        a = Wx @ e + Wh @ h + b
        g = xp.empty_like(a)
        g[:3 * H] = 1 / (1 + xp.exp(-a[:3 * H]))
        g[3 * H:] = xp.tanh(a[3 * H:])
        c = g[H:2 * H] * c + g[:H] * g[3 * H:]
        tc = xp.tanh(c)
        h = g[2 * H:3 * H] * tc
        z = Wy @ h + by
        z -= z.max(axis=0, keepdims=True)
        ez = xp.exp(z)
        s = ez.sum(axis=0, keepdims=True)
        total = total + (y[t] * (z - xp.log(s))).sum()
        es.append(e)
        hs.append(h)
        cs.append(c)
        gs.append(g)
        tcs.append(tc)
        ps.append(ez / s)
    loss = -total / n
    gWx, gWh, gb, gWe, gWy, gby = (xp.zeros_like(p) for p in w)
    dh = xp.zeros((H, B), x.dtype)
    dc = xp.zeros((H, B), x.dtype)
    da = xp.empty((4 * H, B), x.dtype)
    for t in range(T - 1, -1, -1):
        dz = (ps[t] - y[t]) / n
        gWy += dz @ hs[t + 1].T
        gby += dz.sum(axis=1, keepdims=True)
        dh += Wy.T @ dz
        g, tc = gs[t], tcs[t]
        i, f, o, u = g[:H], g[H:2 * H], g[2 * H:3 * H], g[3 * H:]
        dc += dh * o * (1 - tc * tc)
        da[:H] = dc * u * i * (1 - i)
        da[H:2 * H] = dc * cs[t] * f * (1 - f)
        da[2 * H:3 * H] = dh * tc * o * (1 - o)
        da[3 * H:] = dc * i * (1 - u * u)
        gWx += da @ es[t].T
        gWh += da @ hs[t].T
        gb += da.sum(axis=1, keepdims=True)
        gWe += (Wx.T @ da) @ x[t].T
        dh = Wh.T @ da
        dc = dc * f
    return loss, [gWx, gWh, gb, gWe, gWy, gby]


def __getattr__(name):
    # STEPS_FULL needs the text; computed on first use
    if name == "STEPS_FULL":
        return nwindows()
    raise AttributeError(name)
