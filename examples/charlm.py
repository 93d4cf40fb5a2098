"""Character-level LSTM language model (Knet's charlm benchmark) on Hiawatha.

One LSTM layer (embedding and hidden 256), batch 128, truncated BPTT over
100 characters, SGD lr 4.0 with global gradient-norm clipping at 3.0, as in
Knet's charlm.jl. The LSTM is written as in the Knet tutorial; the loss walks
the sequence and updates the state list ``s`` in place, so the state carries
over from one 100-character window to the next. Prints the mean per-character
training loss of each epoch; ``--generate N`` samples N characters at the end.

    python examples/charlm.py --epochs 1 --generate 300
    python examples/charlm.py --quick --show-gradient
"""
import argparse
import sys
import time

import numpy as np

try:
    import knetc as knet
except ImportError:  # running from a checkout without installing
    import pathlib
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
    import knetc as knet
from knetc import nn
from knetc.data import load_text
from knetc.runtime.backend import module_of
from knetc.train import SGD, progress, update


def lstm(weight, bias, hidden, cell, input):
    gates = np.hstack((input, hidden)) @ weight + bias
    h = hidden.shape[1]
    forget = nn.sigm(gates[:, :h])
    ingate = nn.sigm(gates[:, h:2 * h])
    outgate = nn.sigm(gates[:, 2 * h:3 * h])
    change = np.tanh(gates[:, 3 * h:])
    cell = cell * forget + ingate * change
    hidden = outgate * np.tanh(cell)
    return hidden, cell


def predict(w, hidden):
    return hidden @ w[3] + w[4]


def loss(w, s, sequence):
    total = 0.0
    count = 0
    for t in range(len(sequence) - 1):
        input = sequence[t] @ w[2]  # one-hot characters (batch, vocab) -> embeddings
        s[0], s[1] = lstm(w[0], w[1], s[0], s[1], input)  # the state carries the gradient over time
        ypred = predict(w, s[0])
        ynorm = nn.logp(ypred, axis=1)
        ygold = sequence[t + 1]
        total += np.sum(ygold * ynorm)
        count += ygold.shape[0]
    return -total / count


lossgradient = knet.value_and_grad(loss)  # Knet's gradloss: (loss, gradient)


def initweights(hidden, vocab, embed, winit, rng, dtype=np.float32):
    """Knet's charlm initialisation: winit * randn, zero biases, forget-gate bias 1."""
    w = [winit * rng.standard_normal((embed + hidden, 4 * hidden)),
         np.zeros((1, 4 * hidden)),
         winit * rng.standard_normal((vocab, embed)),
         winit * rng.standard_normal((hidden, vocab)),
         np.zeros((1, vocab))]
    w[1][0, :hidden] = 1.0  # forget gate bias
    return [a.astype(dtype) for a in w]


def initstate(batchsize, hidden, like):
    xp = module_of(like)
    return [xp.zeros((batchsize, hidden), like.dtype), xp.zeros((batchsize, hidden), like.dtype)]


def batchify(text, vocab, batchsize):
    """Character ids ``(steps, batchsize)``: column b reads the b-th contiguous slice of the text."""
    ids = np.fromiter((vocab[c] for c in text), dtype=np.int64, count=len(text))
    steps = len(ids) // batchsize
    return ids[:steps * batchsize].reshape(batchsize, steps).T


def onehots(ids, eye):
    """The one-hot matrices ``(batchsize, vocab)`` of rows of character ids."""
    return [eye[row] for row in ids]


def train(w, s, ids, eye, lr, gclip, seqlength, desc="train"):
    """One epoch of truncated BPTT; returns the mean per-character loss of its windows."""
    opt = SGD(lr=lr, gclip=gclip)  # clips the global norm of the whole gradient
    bar = progress(range(0, len(ids) - 1, seqlength), desc=desc, leave=False)
    for t in bar:
        sequence = onehots(ids[t:t + seqlength + 1], eye)
        lossval, dw = lossgradient(w, s, sequence)  # runs the loss: s now holds the final state
        update(w, dw, opt)
        bar.set_loss(lossval)
    bar.close()
    return bar.loss


def generate(w, chars, n, rng, start="\n"):
    """Sample ``n`` characters from the model, one at a time, starting after ``start``."""
    eye = module_of(w[0]).eye(len(chars), dtype=w[0].dtype)
    s = initstate(1, w[3].shape[0], w[0])
    k = chars.index(start) if start in chars else 0
    out = []
    for _ in range(n):
        s[0], s[1] = lstm(w[0], w[1], s[0], s[1], eye[[k]] @ w[2])
        p = nn.softmax(predict(w, s[0]), axis=1)
        p = np.asarray(p.get() if hasattr(p, "get") else p, dtype=np.float64).ravel()
        k = int(rng.choice(len(p), p=p / p.sum()))
        out.append(chars[k])
    return "".join(out)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=1, help="passes over the text (default 1)")
    p.add_argument("--hidden", type=int, default=256, help="LSTM hidden size (default 256)")
    p.add_argument("--embed", type=int, default=256, help="embedding size (default 256)")
    p.add_argument("--batchsize", type=int, default=128, help="parallel sequences (default 128)")
    p.add_argument("--seqlength", type=int, default=100, help="BPTT length (default 100)")
    p.add_argument("--lr", type=float, default=4.0, help="SGD learning rate (default 4.0)")
    p.add_argument("--gclip", type=float, default=3.0, help="clip the gradient norm at this value (default 3.0)")
    p.add_argument("--winit", type=float, default=0.3, help="initial weights are winit * randn (default 0.3)")
    p.add_argument("--chars", type=int, default=0, help="train on only the first N characters (default all)")
    p.add_argument("--generate", type=int, default=0, metavar="N", help="sample N characters after training")
    p.add_argument("--seed", type=int, default=1, help="random seed")
    p.add_argument("--text", default=None, help="text file (default the bundled hiawatha.txt)")
    p.add_argument("--quick", action="store_true",
                   help="hidden/embed 128, batch 32, BPTT 25, first 20000 characters, 2 epochs")
    p.add_argument("--show-gradient", action="store_true", help="print the generated gradient code")
    if hasattr(knet, "to_gpu"):
        p.add_argument("--gpu", action="store_true", help="train on the GPU (CuPy)")
    args = p.parse_args(argv)
    if args.quick:
        args.hidden = args.embed = 128
        args.batchsize, args.seqlength, args.chars, args.epochs = 32, 25, 20000, 2

    text = load_text(args.text)
    chars = sorted(set(text))
    vocab = {c: i for i, c in enumerate(chars)}
    if args.chars:
        text = text[:args.chars]
    ids = batchify(text, vocab, args.batchsize)
    rng = np.random.default_rng(args.seed)
    w = initweights(args.hidden, len(chars), args.embed, args.winit, rng)
    eye = np.eye(len(chars), dtype=np.float32)
    if getattr(args, "gpu", False):
        w, eye = knet.to_gpu(w), knet.to_gpu(eye)
    s = initstate(args.batchsize, args.hidden, w[0])
    if args.show_gradient:  # the code is generated on the first call
        lossgradient(w, initstate(args.batchsize, args.hidden, w[0]), onehots(ids[:3], eye))
        print(lossgradient.source)
    print(f"{len(text)} characters, vocabulary {len(chars)}, {ids.shape[0]} steps of batch "
          f"{args.batchsize} per epoch, BPTT {args.seqlength}")

    first = float(loss(w, initstate(args.batchsize, args.hidden, w[0]),
                       onehots(ids[:args.seqlength + 1], eye)))
    print(f"epoch 0  loss per character {first:.4f} (first window, untrained)")
    losses = [first]
    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        losses.append(train(w, s, ids, eye, args.lr, args.gclip, args.seqlength, desc=f"epoch {epoch}"))
        print(f"epoch {epoch}  mean training loss per character {losses[-1]:.4f}  "
              f"({time.perf_counter() - start:.1f} s)")
    elapsed = time.perf_counter() - start
    print(f"{args.epochs} epoch(s) in {elapsed:.1f} s")
    sample = ""
    if args.generate:
        sample = generate(w, chars, args.generate, rng)
        print(sample)
    return {"losses": losses, "time": elapsed, "sample": sample, "w": w}


if __name__ == "__main__":
    main()
