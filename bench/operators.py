"""Costs of the differential operators beyond grad, as ratios measured in one run.

- compiled ``jvp`` of the ``loop`` workload against one forward pass written by hand
  (target: at most 1.5x);
- ``hvp`` of the MLP loss against one gradient of it (target: at most 4x);
- ``jacobian`` of a 100 -> 100 function by forward and by reverse mode against a
  Python loop of 100 ``grad`` calls.

Run: ``python bench/operators.py`` (a few seconds; ``--repeats N`` for steadier numbers).
"""
import argparse
import pathlib
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
import knetc as knet  # noqa: E402
from bench.workloads import loop, mlp  # noqa: E402


def per_call(fun, repeats, budget=0.5):
    """Median seconds per call of ``fun()`` over ``repeats`` blocks of about ``budget/repeats`` s."""
    fun()
    start, n = time.perf_counter(), 0
    while time.perf_counter() - start < 0.05:
        fun()
        n += 1
    inner = max(1, int(n * budget / repeats / 0.05))
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(inner):
            fun()
        times.append((time.perf_counter() - t0) / inner)
    return float(np.median(times))


def loop_forward_by_hand(w, x):
    for _ in range(loop.ITERS):
        x = np.tanh(w[0] @ x + w[1])
    return np.sum(x)


def loop_jvp_by_hand(w, x, tw):
    """The value and its tangent along ``tw``, written by hand (forward mode)."""
    W, b = w
    tW, tb = tw
    tx = np.zeros_like(x)
    for _ in range(loop.ITERS):
        z = W @ x + b
        tz = tW @ x + W @ tx + tb
        x = np.tanh(z)
        tx = tz * (1 - x * x)
    return np.sum(x), np.sum(tx)


def bench_jvp(repeats):
    w = loop.init()
    (x,) = loop.data()[0]
    t = [np.ones_like(a) for a in w]
    value, tangent = knet.jvp(loop.loss, (w, x), (t, None), mode="source")
    assert np.allclose(tangent, loop_jvp_by_hand(w, x, t)[1], rtol=1e-4)
    jvp = per_call(lambda: knet.jvp(loop.loss, (w, x), (t, None), mode="source"), repeats)
    hand = per_call(lambda: loop_forward_by_hand(w, x), repeats)
    hand_jvp = per_call(lambda: loop_jvp_by_hand(w, x, t), repeats)
    return jvp, hand, hand_jvp


def mlp_loss(w, x, y):
    h = x
    for i in range(0, len(w) - 2, 2):
        h = np.maximum(0, w[i] @ h + w[i + 1])
    scores = w[-2] @ h + w[-1]
    scores = scores - np.max(scores, axis=0, keepdims=True)
    logp = scores - np.log(np.sum(np.exp(scores), axis=0, keepdims=True))
    return -np.sum(y * logp) / x.shape[1]


def bench_hvp(repeats):
    rng = np.random.default_rng(0)
    w = [a.astype(np.float64) for a in mlp.init()]
    x = rng.standard_normal((784, 100))
    y = np.eye(10)[:, rng.integers(0, 10, 100)]
    v = [rng.standard_normal(a.shape) for a in w]
    gradient = knet.grad(mlp_loss)
    hvp = knet.hvp(mlp_loss)
    return per_call(lambda: hvp(w, x, y, v), repeats), per_call(lambda: gradient(w, x, y), repeats)


def bench_jacobian(repeats):
    rng = np.random.default_rng(1)
    W = rng.standard_normal((100, 100)) / 10
    x = rng.standard_normal(100)

    def f(x):
        return np.tanh(W @ x)

    rows = [knet.grad(lambda x, k=k: f(x)[k]) for k in range(100)]
    fwd = per_call(lambda: knet.jacfwd(f)(x), repeats)
    rev = per_call(lambda: knet.jacrev(f)(x), repeats)
    loop_of_grads = per_call(lambda: np.stack([g(x) for g in rows]), repeats)
    return fwd, rev, loop_of_grads


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", knet.FallbackWarning)
    jvp, hand, hand_jvp = bench_jvp(args.repeats)
    hvp, grad = bench_hvp(args.repeats)
    fwd, rev, loop_of_grads = bench_jacobian(args.repeats)
    print("| measurement | time | ratio | target |")
    print("|---|---|---|---|")
    print(f"| compiled jvp of `loop` / forward pass by hand | {jvp * 1e6:.1f} µs / {hand * 1e6:.1f} µs "
          f"| {jvp / hand:.2f} | (reported: a tangent costs about two primal passes of ops) |")
    print(f"| compiled jvp of `loop` / the same jvp by hand | {jvp * 1e6:.1f} µs / {hand_jvp * 1e6:.1f} µs "
          f"| {jvp / hand_jvp:.2f} | <= 1.5 |")
    print(f"| hvp of the MLP loss / its gradient | {hvp * 1e3:.2f} ms / {grad * 1e3:.2f} ms "
          f"| {hvp / grad:.2f} | <= 4 |")
    print(f"| jacfwd of 100 -> 100 / loop of 100 grad calls | {fwd * 1e3:.2f} ms / {loop_of_grads * 1e3:.2f} ms "
          f"| {fwd / loop_of_grads:.2f} | (reported) |")
    print(f"| jacrev of 100 -> 100 / loop of 100 grad calls | {rev * 1e3:.2f} ms / {loop_of_grads * 1e3:.2f} ms "
          f"| {rev / loop_of_grads:.2f} | (reported) |")


if __name__ == "__main__":
    main()
