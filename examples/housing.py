"""Linear regression on the Boston Housing data (Knet tutorial, "housing").

    python examples/housing.py             # 10 full-batch SGD steps at lr 0.1
    python examples/housing.py --show-gradient
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
from knetc.data import load_housing
from knetc.train import SGD, update


def predict(w, x):
    return w[0] @ x + w[1]


def loss(w, x, y):
    return np.sum((y - predict(w, x)) ** 2) / y.shape[1]


lossgradient = knet.grad(loss)


def train(w, data, lr=0.1):
    opt = SGD(lr=lr)
    for x, y in data:
        dw = lossgradient(w, x, y)
        update(w, dw, opt)
    return w


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=10, help="full-batch SGD steps (default 10)")
    p.add_argument("--lr", type=float, default=0.1, help="learning rate (default 0.1)")
    p.add_argument("--seed", type=int, default=1, help="random seed for the initial weights")
    p.add_argument("--quick", action="store_true", help="a short run (the full run is already quick)")
    p.add_argument("--show-gradient", action="store_true", help="print the generated gradient code")
    if hasattr(knet, "to_gpu"):
        p.add_argument("--gpu", action="store_true", help="train on the GPU (CuPy)")
    args = p.parse_args(argv)

    x, y = load_housing()
    rng = np.random.default_rng(args.seed)
    w = [0.1 * rng.standard_normal((1, 13)), np.zeros((1, 1))]
    if getattr(args, "gpu", False):
        w, x, y = knet.to_gpu(w), knet.to_gpu(x), knet.to_gpu(y)
    if args.show_gradient:
        lossgradient(w, x, y)  # the code is generated on the first call
        print(lossgradient.source)

    start = time.perf_counter()
    losses = [float(loss(w, x, y))]
    print(f"step  0  loss {losses[0]:.4f}")
    for step in range(1, args.steps + 1):
        train(w, [(x, y)], args.lr)
        losses.append(float(loss(w, x, y)))
        print(f"step {step:2d}  loss {losses[-1]:.4f}")
    elapsed = time.perf_counter() - start
    print(f"{args.steps} steps in {elapsed:.2f} s")
    return {"losses": losses, "time": elapsed, "w": w}


if __name__ == "__main__":
    main()
