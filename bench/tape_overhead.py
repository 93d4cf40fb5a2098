"""Per-operation overhead of recording: a Python loop of small operations.

    python bench/tape_overhead.py [--iters 200] [--size 10] [--repeats 7]

The function is ``for i in range(iters): x = np.tanh(w * x + 0.5)`` on vectors
of ``size`` elements, then ``np.sum(x)``: 3 operations per iteration, so the
arrays are too small for the arithmetic to matter and the time per operation is
the system's own overhead. Rows:

* plain NumPy forward (the floor);
* knetc's tape recording the forward pass (``knetc.runtime.tape.make_vjp``),
  and tape forward + backward (``knetc.value_and_grad(f, mode="tape")``);
* HIPS autograd recording the forward pass (``autograd.make_vjp``), and
  forward + backward (``autograd.value_and_grad``);
* knetc compiled forward + backward (``knetc.value_and_grad(f)``);
* a hand-written NumPy forward + backward, and PyTorch eager, for reference.

Columns: microseconds per call, per operation, and per operation above plain
NumPy's forward (the recording overhead). Medians of ``--repeats`` timings.
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

ITERS = 200


def f(w, x):
    for i in range(ITERS):
        x = np.tanh(w * x + 0.5)
    return np.sum(x)


def hand(w, x):
    xs = []
    for i in range(ITERS):
        xs.append(x)
        x = np.tanh(w * x + 0.5)
    ys = x
    g = np.ones_like(x)
    gw = np.zeros_like(w)
    for i in range(ITERS - 1, -1, -1):
        dz = g * (1 - ys * ys)
        gw += dz * xs[i]
        g = dz * w
        ys = xs[i]
    return np.sum(x), gw


def timeit(fn, repeats, min_time=0.05):
    fn()  # warm (and compile)
    n, t = 1, 0.0
    while True:  # calls per timing so that one timing lasts min_time
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        t = time.perf_counter() - t0
        if t >= min_time:
            break
        n *= 2
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        times.append((time.perf_counter() - t0) / n)
    return statistics.median(times)


def main(argv=None):
    global ITERS
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--iters", type=int, default=200, help="loop iterations (3 operations each)")
    ap.add_argument("--size", type=int, default=10, help="vector length")
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args(argv)
    ITERS = args.iters
    nops = 3 * ITERS + 1
    rng = np.random.default_rng(0)
    w = rng.standard_normal(args.size).astype(np.float32)
    x = rng.standard_normal(args.size).astype(np.float32)

    rows, notes = [], []
    ref_g = hand(w, x)[1]

    def add(name, fn, grad_of=None):
        if grad_of is not None:  # check the gradient before timing it
            g = np.asarray(grad_of())
            err = float(np.linalg.norm(g - ref_g) / np.linalg.norm(ref_g))
            if not err < 1e-4:
                notes.append(f"{name}: gradient differs from the hand-written one (rel err {err:.1e}); not timed")
                return
        rows.append((name, timeit(fn, args.repeats)))

    add("NumPy forward (plain)", lambda: f(w, x))
    add("hand-written NumPy forward + backward", lambda: hand(w, x), lambda: hand(w, x)[1])
    try:
        import knetc
        try:
            from knetc.runtime.tape import make_vjp
            rec = make_vjp(f, 0)
            add("knetc tape: record forward", lambda: rec(w, x))
        except ImportError as e:
            notes.append(f"knetc tape forward-only entry point missing: {e}")
        try:
            tape = knetc.value_and_grad(f, mode="tape")
            add("knetc tape: forward + backward", lambda: tape(w, x), lambda: tape(w, x)[1])
        except Exception as e:  # noqa: BLE001
            notes.append(f"knetc tape: {type(e).__name__}: {e}")
        try:
            comp = knetc.value_and_grad(f)
            add("knetc compiled: forward + backward", lambda: comp(w, x), lambda: comp(w, x)[1])
        except Exception as e:  # noqa: BLE001
            notes.append(f"knetc compiled: {type(e).__name__}: {e}")
    except ImportError as e:
        notes.append(f"knetc not importable: {e}")
    try:
        import autograd
        import autograd.numpy as anp

        from bench import common
        fa = common.port(sys.modules[__name__], np=anp).f
        rec = autograd.make_vjp(fa, 0)
        add("autograd: record forward", lambda: rec(w, x))
        vg = autograd.value_and_grad(fa)
        add("autograd: forward + backward", lambda: vg(w, x), lambda: vg(w, x)[1])
    except ImportError:
        notes.append("autograd not installed")
    try:
        import torch
        tw = torch.tensor(w, requires_grad=True)
        tx = torch.tensor(x)

        def tf():
            y = tx
            for i in range(ITERS):
                y = torch.tanh(tw * y + 0.5)
            return torch.sum(y)

        def tgrad():
            return torch.autograd.grad(tf(), tw)[0]
        add("torch eager: record forward", tf)
        add("torch eager: forward + backward", tgrad, lambda: tgrad().numpy())
    except ImportError:
        notes.append("torch not installed")

    base = rows[0][1]
    print(f"Loop of {ITERS} x (multiply, add, tanh) + sum = {nops} operations on float32 vectors "
          f"of {args.size}; median of {args.repeats}.\n")
    print("| system | µs per call | µs per op | overhead per op vs NumPy forward |")
    print("|---|---|---|---|")
    for name, t in rows:
        over = "-" if t is base else f"{(t - base) / nops * 1e6:+.2f} µs"
        print(f"| {name} | {t * 1e6:.1f} | {t / nops * 1e6:.2f} | {over} |")
    for n in notes:
        print(f"\n- {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
