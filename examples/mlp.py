"""Multi-layer perceptron on MNIST (Knet tutorial, "mlp").

One hidden layer of 64 ReLU units (``--hidden 64``; give several sizes for
more layers), negative log-likelihood, batch 100, SGD lr 0.5, 10 epochs
(about 97.5% test accuracy). MNIST is found in $KNETC_DATA, the per-user cache or
../shared/data beside the checkout, else downloaded into the cache (--data DIR: that folder).

    python examples/mlp.py
    python examples/mlp.py --quick --show-gradient
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
from knetc.data import load_mnist, minibatch
from knetc.train import SGD, mean_over, train_epoch


def predict(w, x):
    for i in range(0, len(w) - 2, 2):
        x = np.maximum(0, w[i] @ x + w[i + 1])
    return w[-2] @ x + w[-1]


def loss(w, x, ygold):
    return nn.nll(predict(w, x), ygold)


lossgradient = knet.grad(loss)


def train(w, data, lr, desc="train"):
    return train_epoch(lossgradient, w, data, SGD(lr=lr), desc)


def accuracy(w, data):
    return mean_over(lambda w, x, y: nn.accuracy(predict(w, x), y), w, data)


def avgloss(w, data):
    return mean_over(loss, w, data)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--hidden", type=int, nargs="*", default=[64], help="hidden layer sizes (default 64)")
    p.add_argument("--winit", type=float, default=0.1, help="initial weights are winit * randn (default 0.1)")
    p.add_argument("--epochs", type=int, default=10, help="passes over the training set (default 10)")
    p.add_argument("--batchsize", type=int, default=100, help="minibatch size (default 100)")
    p.add_argument("--lr", type=float, default=0.5, help="SGD learning rate (default 0.5)")
    p.add_argument("--seed", type=int, default=1, help="random seed")
    p.add_argument("--data", default=None, help="folder with the MNIST files (default: $KNETC_DATA, the cache, ../shared/data, else download)")
    p.add_argument("--quick", action="store_true", help="1 epoch on 10000 training images, 2000 test images")
    p.add_argument("--show-gradient", action="store_true", help="print the generated gradient code")
    if hasattr(knet, "to_gpu"):
        p.add_argument("--gpu", action="store_true", help="train on the GPU (CuPy)")
    args = p.parse_args(argv)

    xtrn, ytrn, xtst, ytst = load_mnist(args.data)
    if args.quick:
        xtrn, ytrn, xtst, ytst = xtrn[:10000], ytrn[:10000], xtst[:2000], ytst[:2000]
        args.epochs = 1
    xtrn, xtst = nn.mat(xtrn), nn.mat(xtst)  # (784, N) views: samples in columns
    rng = np.random.default_rng(args.seed)
    w = []
    sizes = [784] + list(args.hidden) + [10]
    for nin, nout in zip(sizes[:-1], sizes[1:]):
        w.append((args.winit * rng.standard_normal((nout, nin))).astype(np.float32))
        w.append(np.zeros((nout, 1), np.float32))
    if getattr(args, "gpu", False):
        w, xtrn, ytrn, xtst, ytst = (knet.to_gpu(a) for a in (w, xtrn, ytrn, xtst, ytst))
    dtrn = minibatch(xtrn, ytrn, args.batchsize, shuffle=True, rng=rng)
    dtst = minibatch(xtst, ytst, args.batchsize)
    if args.show_gradient:
        lossgradient(w, *dtrn[0])  # the code is generated on the first call
        print(lossgradient.source)

    report = lambda epoch: (epoch, avgloss(w, dtst), accuracy(w, dtst))  # noqa: E731
    history = [report(0)]
    print("epoch %d  test loss %.4f  test accuracy %.4f" % history[-1])
    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        train(w, dtrn, args.lr, desc=f"epoch {epoch}")
        history.append(report(epoch))
        print("epoch %d  test loss %.4f  test accuracy %.4f" % history[-1])
    elapsed = time.perf_counter() - start
    print(f"{args.epochs} epoch(s) in {elapsed:.1f} s; final test accuracy {history[-1][2]:.4f}")
    return {"losses": [h[1] for h in history], "accuracy": history[-1][2], "time": elapsed, "w": w}


if __name__ == "__main__":
    try:
        main()
    except (knet.data.DataNotFoundError, knet.data.DownloadError) as e:
        raise SystemExit(str(e))    # what to do, without a traceback
