"""LeNet on MNIST (Knet tutorial, "lenet").

conv 5x5x20 - relu - maxpool 2 - conv 5x5x50 - relu - maxpool 2 - dense 500
(relu) - dense 10, on NCHW images; negative log-likelihood, batch 100, SGD
lr 0.1 (about 99% test accuracy; 98% or more after 1 epoch). MNIST is
found in $KNETC_DATA, the per-user cache or ../shared/data beside the
checkout, else downloaded into the cache (--data DIR: that folder).

    python examples/lenet.py --epochs 1
    python examples/lenet.py --quick --show-gradient
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
    n = len(w) - 4
    for i in range(0, n, 2):
        x = nn.pool(nn.relu(nn.conv4(w[i], x) + w[i + 1]))
    for i in range(n, len(w) - 2, 2):
        x = nn.relu(w[i] @ nn.mat(x) + w[i + 1])
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
    p.add_argument("--epochs", type=int, default=3, help="passes over the training set (default 3)")
    p.add_argument("--batchsize", type=int, default=100, help="minibatch size (default 100)")
    p.add_argument("--lr", type=float, default=0.1, help="SGD learning rate (default 0.1)")
    p.add_argument("--seed", type=int, default=1, help="random seed")
    p.add_argument("--data", default=None, help="folder with the MNIST files (default: $KNETC_DATA, the cache, ../shared/data, else download)")
    p.add_argument("--quick", action="store_true", help="1 epoch on 6000 training images, 1000 test images")
    p.add_argument("--show-gradient", action="store_true", help="print the generated gradient code")
    if hasattr(knet, "to_gpu"):
        p.add_argument("--gpu", action="store_true", help="train on the GPU (CuPy)")
    args = p.parse_args(argv)

    xtrn, ytrn, xtst, ytst = load_mnist(args.data)
    if args.quick:
        xtrn, ytrn, xtst, ytst = xtrn[:6000], ytrn[:6000], xtst[:1000], ytst[:1000]
        args.epochs = 1
    rng = np.random.default_rng(args.seed)
    w = [nn.param(20, 1, 5, 5, rng=rng), nn.param0(1, 20, 1, 1),
         nn.param(50, 20, 5, 5, rng=rng), nn.param0(1, 50, 1, 1),
         nn.param(500, 800, rng=rng), nn.param0(500, 1),
         nn.param(10, 500, rng=rng), nn.param0(10, 1)]
    if getattr(args, "gpu", False):
        w, xtrn, ytrn, xtst, ytst = (knet.to_gpu(a) for a in (w, xtrn, ytrn, xtst, ytst))
    dtrn = minibatch(xtrn, ytrn, args.batchsize, shuffle=True, rng=rng, axis=0)  # NCHW: samples first
    dtst = minibatch(xtst, ytst, args.batchsize, axis=0)
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
