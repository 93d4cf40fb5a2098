"""Per-call cost of a cached compiled gradient on the ``tiny`` and ``linreg`` workloads.

    python bench/call_overhead.py [--calls 500] [--blocks 40]

Rows: ``knet.grad(loss)(w, *data)`` after its first call (compiled, cached: the plan
of its call signature, the guard, the generated code, the gradient handed back), and
the generated vjp and pullback called directly, without the API around them. Each
figure is the minimum over ``--blocks`` blocks of ``--calls`` calls, in CPU time
(``time.process_time``): on a shared machine the minimum of short blocks is the
uncontended cost. About 10 seconds.
"""
import argparse
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import knetc as knet  # noqa: E402
from bench.workloads import linreg, tiny  # noqa: E402


def best_seconds(fn, args, calls, blocks):
    """The least CPU seconds per call of ``fn(*args)`` over ``blocks`` blocks of ``calls`` calls."""
    best = float("inf")
    for _ in range(blocks):
        start = time.process_time()
        for _ in range(calls):
            fn(*args)
        best = min(best, (time.process_time() - start) / calls)
    return best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--blocks", type=int, default=40)
    opts = parser.parse_args(argv)
    for workload in (tiny, linreg):
        args = (workload.init(), *workload.data()[0])
        g = knet.grad(workload.loss)
        g(*args)
        assert g.mode == "source", g.mode
        vjp = g._last[0]

        def generated(*values):
            ans, pullback = vjp(*values)
            pullback(type(ans)(1.0))
        api = best_seconds(g, args, opts.calls, opts.blocks)
        alone = best_seconds(generated, args, opts.calls, opts.blocks)
        print(f"{workload.NAME:7s} knet.grad {api * 1e6:6.2f} us/call   generated vjp + pullback alone "
              f"{alone * 1e6:6.2f} us   around them {(api - alone) * 1e6:5.2f} us")


if __name__ == "__main__":
    main()
