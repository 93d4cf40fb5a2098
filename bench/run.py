"""Benchmark knetc against hand-written NumPy, HIPS autograd, PyTorch and JAX.

    python bench/run.py [--quick] [--workloads linreg mlp ...] [--systems handwritten knetc ...]
                        [--device cpu|gpu] [--json results.json]

For every workload all systems run in this one process, interleaved: first each
proves that its loss and gradient on the first batch equal the hand-written
reference's, then each is warmed up, then blocks of training steps (gradient +
SGD update) are timed in rotating order, several times; the median block gives
the seconds per step. See bench/README.md for the method.
"""
import argparse
import datetime
import gc
import json
import os
import platform
import statistics
import sys
import time
import traceback
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``bench`` and ``knetc`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _threads_from_argv(argv):
    """``--threads N`` must act before NumPy (OpenBLAS) is imported."""
    for i, a in enumerate(argv):
        if a == "--threads" and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith("--threads="):
            return a.split("=", 1)[1]
    return None


_THREADS = _threads_from_argv(sys.argv[1:]) if __name__ == "__main__" else None
if _THREADS:
    for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_var] = _THREADS
    os.environ["BENCH_THREADS"] = _THREADS  # torch.set_num_threads in systems/torch.py
    if _THREADS == "1":  # XLA's CPU backend: no intra-op thread pool
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                                   " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1").strip()

import numpy as np  # noqa: E402

from bench import common, systems, workloads  # noqa: E402

TOLERANCE = 1e-4  # relative error allowed against the reference (float32)

# The targets of issue 6: (numerator system, denominator system, bound, workloads).
# A ratio a/b of seconds per step must be <= bound ("<=") or >= bound (">=").
TARGETS = [
    ("knetc", "handwritten", "<=", 1.10, ("softmax", "mlp", "lenet", "charlm")),
    ("knetc", "handwritten", "<=", 1.5, ("linreg", "tiny")),
    ("autograd", "knetc", ">=", 3.0, ("linreg", "softmax", "mlp", "tiny", "loop")),
    ("autograd", "knetc", ">", 1.0, ("lenet", "charlm")),
    ("torch", "knetc", ">", 1.0, ("linreg", "softmax", "mlp", "tiny", "loop")),
    ("knetc-tape", "autograd", "<=", 1.0, tuple(workloads.NAMES)),
]

# How many batches of each workload to keep in memory (timing cycles through them).
BATCHES = {"quick": {"softmax": 50, "mlp": 50, "lenet": 10, "charlm": 2, "loop": 4},
           "full": {"softmax": 600, "mlp": 600, "lenet": 600, "charlm": None, "loop": 16}}

SETTINGS = {
    # warm-up seconds, seconds per timed block, repeats, most seconds of timed
    # blocks per system and workload (larger steps get fewer steps per block)
    "quick": dict(warmup=0.05, block=0.04, repeats=5, budget=1.5),
    "full": dict(warmup=0.5, block=0.25, repeats=11, budget=20.0),
}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def fmt_time(s):
    if s is None:
        return "-"
    if s < 1e-3:
        return f"{s * 1e6:.1f} µs"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def fmt_total(s):
    if s is None:
        return "-"
    if s < 60:
        return f"{s:.1f} s"
    if s < 3600:
        return f"{s / 60:.1f} min"
    return f"{s / 3600:.2f} h"


class Entry:
    """One system on one workload."""

    def __init__(self, name):
        self.name = name
        self.status = "ok"  # ok | FAILED | error | skipped
        self.note = ""
        self.runner = None
        self.w = None
        self.batches = None
        self.step = None
        self.first_call = None
        self.make_time = None
        self.err = None
        self.where = ""
        self.k = 1
        self.check_s = None
        self.est = None
        self.reps = 0
        self.times = []
        self.pos = 0
        self.driver_allocs = None  # GPU: allocations that reached the CUDA driver while timed

    def fail(self, status, note):
        self.status = status
        self.note = note
        self.runner = self.w = self.batches = self.step = None

    def block(self, k, collect=True):
        step, w, b, nb = self.step, self.w, self.batches, len(self.batches)
        if collect:
            gc.collect()
        t0 = time.perf_counter()
        for _ in range(k):
            step(w, b[self.pos % nb])
            self.pos += 1
        self.runner.sync(w)
        return time.perf_counter() - t0

    def to_json(self):
        d = {"status": self.status, "note": self.note, "first_call_s": self.first_call,
             "make_s": self.make_time, "max_rel_err": self.err, "worst": self.where,
             "steps_per_block": self.k, "block_s_per_step": self.times,
             "driver_allocations_timed": self.driver_allocs}
        d["s_per_step"] = statistics.median(self.times) if self.times else None
        return d


def run_workload(wl, mods, args, cfg):
    mode = "quick" if args.quick else "full"
    t0 = time.perf_counter()
    w0 = wl.init(args.seed)
    data = wl.data(BATCHES[mode].get(wl.NAME, 1), args.seed)  # charlm: None = the whole epoch
    log(f"[{wl.NAME}] data: {len(data)} batch(es), {time.perf_counter() - t0:.1f} s to load")

    # the reference, on NumPy, always (also when handwritten is not timed)
    ref_loss, ref_grads = wl.hand_value_and_grad([p.copy() for p in w0], *data[0])
    ref_loss = float(common.to_numpy(ref_loss))
    ref_grads = [common.to_numpy(g) for g in ref_grads]

    entries = []
    for name, mod in mods:
        e = Entry(name)
        entries.append(e)
        if mod is None:
            e.fail("skipped", args.unavailable[name])
            continue
        if args.quick and name in getattr(wl, "QUICK_SKIP", {}):
            e.fail("skipped", f"skipped in --quick: {wl.QUICK_SKIP[name]}")
            continue
        try:
            t = time.perf_counter()
            runner = mod.make(wl, args.device)
            e.make_time = time.perf_counter() - t
            w = runner.params(w0)
            batches = [runner.batch(b) for b in data]
            t = time.perf_counter()
            loss, grads = runner.grad(w, batches[0])
            runner.sync(grads)
            e.check_s = time.perf_counter() - t
            e.first_call = e.make_time + e.check_s
            loss = float(runner.numpy(loss))
            grads = [runner.numpy(g) for g in grads]
        except Exception as ex:  # noqa: BLE001
            msg = f"{type(ex).__name__}: {ex}".strip().splitlines()[0][:300]
            log(f"[{wl.NAME}] {name}: error: {msg}")
            if args.verbose:
                traceback.print_exc()
            e.fail("error", msg)
            continue
        e.err, e.where = common.compare(loss, grads, ref_loss, ref_grads)
        if not e.err <= args.tolerance:
            log(f"[{wl.NAME}] {name}: FAILED check: rel err {e.err:.2e} in {e.where}")
            e.fail("FAILED", f"rel err {e.err:.2e} in {e.where}")
            continue
        e.note = runner.describe() or ""
        e.runner, e.w, e.batches = runner, w, batches
        e.step = runner.make_step()
        log(f"[{wl.NAME}] {name}: check ok ({e.err:.1e}), first call {fmt_time(e.first_call)} {e.note}")

    live = [e for e in entries if e.status == "ok"]
    # what exists now (modules, data, compiled code) is never garbage: keep the
    # collector from walking it before every block (a full walk takes ~0.2 s
    # with torch and jax loaded)
    gc.collect()
    gc.freeze()
    try:
        time_steps(wl, live, cfg)
    finally:
        for e in live:
            e.runner = e.w = e.batches = e.step = None  # free memory before the next workload
        gc.unfreeze()
    return entries


def _driver_allocations(cfg):
    """On the GPU: device allocations so far that reached the CUDA driver through the
    counting memory pool knetc installs (CuPy systems share it); None on the CPU."""
    if cfg["device"] != "gpu" or not _cupy_ready():
        return None
    from knetc import device
    return device.memory_stats()["driver_allocations"]


def _cupy_ready():
    return "cupy" in sys.modules


def time_steps(wl, live, cfg):
    """Warm up every system, then time blocks of steps, interleaved."""
    # warm-up: blocks of 1, 2, 4, ... steps; the fastest block gives an estimate
    for e in live:
        try:
            if cfg["quick"] and e.check_s * cfg["repeats"] > cfg["budget"] and e.runner.warm_after_grad:
                e.est = e.check_s  # a huge step (charlm) in a quick run: the check call was the warm-up
                continue
            first = e.block(1, collect=False)  # may compile (jax's update): not an estimate
            if first * cfg["repeats"] > cfg["budget"]:  # a huge step (charlm): one warm-up step is enough
                e.est = first
                continue
            k, spent, est = 1, 0.0, float("inf")
            while True:
                dt = e.block(k, collect=False)
                spent += dt
                est = min(est, dt / k)  # robust to a stall
                if spent >= cfg["warmup"] and dt >= cfg["block"] / 4 or spent >= 4 * cfg["warmup"]:
                    break
                k *= 2
            e.est = est
        except Exception as ex:  # noqa: BLE001
            e.fail("error", f"during steps: {type(ex).__name__}: {ex}"[:300])
    live = [e for e in live if e.status == "ok"]
    if not live:
        return
    for e in live:  # huge steps (charlm) get fewer repeats, at least 3, and 1 step per block
        e.reps = cfg["repeats"]
        if e.est * e.reps > cfg["budget"]:
            e.reps = max(3, int(cfg["budget"] / e.est))
        e.k = max(1, min(round(cfg["block"] / e.est), int(cfg["budget"] / (e.reps * e.est))))
    for r in range(max(e.reps for e in live)):
        for e in live[r % len(live):] + live[:r % len(live)]:  # rotate who goes first
            if e.status != "ok" or len(e.times) >= e.reps:
                continue
            try:
                before = _driver_allocations(cfg)
                e.times.append(e.block(e.k) / e.k)
                if before is not None:
                    e.driver_allocs = (e.driver_allocs or 0) + _driver_allocations(cfg) - before
            except Exception as ex:  # noqa: BLE001
                e.fail("error", f"during steps: {type(ex).__name__}: {ex}"[:300])
    for e in live:
        if e.status == "ok":
            log(f"[{wl.NAME}] {e.name}: {fmt_time(statistics.median(e.times))}/step "
                f"({e.reps} x {e.k} steps)")


def machine():
    from knetc.device import cpu_name
    cpu = cpu_name()
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def _table(p, caption, head, rows):
    """A captioned markdown table: ``head`` the column titles, ``rows`` lists of cells."""
    p("")
    p(caption)
    p("")
    p("| " + " | ".join(head) + " |")
    p("|---" * len(head) + "|")
    for row in rows:
        p("| " + " | ".join(row) + " |")


def _step_cell(d, base, name):
    s = d.get("s_per_step")
    if s is None:
        return d.get("status", "-") if d.get("status") != "skipped" else "n/a"
    if base and name != "handwritten":
        return f"{fmt_time(s)} ({s / base:.2f}x)"
    return fmt_time(s)


def _first_call_cell(d):
    fc, s = d.get("first_call_s"), d.get("s_per_step")
    return fmt_time(fc) + (f" (+{fmt_time(max(fc - s, 0))})" if fc is not None and s else "")


def _check_cell(d, tolerance):
    if d.get("status") == "skipped":
        return "n/a"
    if d.get("max_rel_err") is None:
        return d.get("status", "-")
    tag = "ok" if d["max_rel_err"] <= tolerance else "FAILED"
    return f"{tag} {d['max_rel_err']:.0e}"


def _target_cell(r, a, b, workload):
    goal = next(((op, bound) for ta, tb, op, bound, ws in TARGETS
                 if (ta, tb) == (a, b) and workload in ws), None)
    sa, sb = r.get(a, {}).get("s_per_step"), r.get(b, {}).get("s_per_step")
    if goal is None or sa is None or sb is None:
        return f"{sa / sb:.2f}" if sa and sb else "-"
    op, bound = goal
    x = sa / sb
    ok = {"<=": x <= bound, ">=": x >= bound, ">": x > bound}[op]
    return f"{x:.2f} ({op} {bound:g}: {'met' if ok else '**missed**'})"


def report(results, wls, names, meta):
    out = []
    p = out.append
    p(f"Date: {meta['date']}  ")
    p(f"Machine: {meta['machine']}  ")
    p(f"Python {meta['python']}; " + "; ".join(meta["versions"].values()) + "  ")
    p(f"Mode: {meta['mode']}, device {meta['device']}, threads: {meta['threads']}; data from {meta['data']}")
    head = ["workload"] + names

    def rows(cell, *lead):
        """One row per workload: its name, ``lead(wl)`` cells, then ``cell(wl, n, d)`` per system."""
        return [[wl.NAME] + [f(wl) for f in lead] + [cell(wl, n, results[wl.NAME].get(n, {})) for n in names]
                for wl in wls]

    def base(wl):
        return results[wl.NAME].get("handwritten", {}).get("s_per_step")

    _table(p, "Seconds per training step (gradient + SGD update), median; in parentheses: ratio to handwritten.",
           head, rows(lambda wl, n, d: _step_cell(d, base(wl), n)))
    _table(p, "Projected time of the paper's full workload (steps x seconds per step; training steps only).",
           ["workload", "steps"] + names,
           rows(lambda wl, n, d: fmt_total(d["s_per_step"] * wl.STEPS_FULL) if d.get("s_per_step") is not None
                else "-", lambda wl: f"{wl.STEPS_FULL:,} ({wl.STEPS_NOTE})"))
    _table(p, "First call: setup plus the first gradient call, which includes compilation for knetc and jax "
           "(not in the times above); in parentheses: its excess over one timed step, about the compile time.",
           head, rows(lambda wl, n, d: _first_call_cell(d)))
    _table(p, f"Correctness on the first batch: largest relative error of loss and gradients vs the reference "
           f"(pass: < {meta['tolerance']:g}).", head, rows(lambda wl, n, d: _check_cell(d, meta["tolerance"])))
    if meta["device"] == "gpu":
        _table(p, "Allocations that reached the CUDA driver during the timed blocks (the CuPy systems share "
               "knetc's counting memory pool; 0 means the pool served every step):",
               head, rows(lambda wl, n, d: str(d.get("driver_allocations_timed", None)).replace("None", "-")))
    cols = list(dict.fromkeys((a, b) for a, b, *_ in TARGETS))
    _table(p, "Targets (ratios of seconds per step):", ["workload"] + [f"{a} / {b}" for a, b in cols],
           [[wl.NAME] + [_target_cell(results[wl.NAME], a, b, wl.NAME) for a, b in cols] for wl in wls])
    notes = []
    for n, why in meta["unavailable"].items():
        notes.append(f"- {n}: skipped: {why}")
    for wl in wls:
        for n in names:
            d = results[wl.NAME].get(n, {})
            if d.get("status") in ("FAILED", "error") or (
                    d.get("status") == "skipped" and n not in meta["unavailable"]):
                notes.append(f"- {wl.NAME} / {n}: {d['status']}: {d['note']}")
    for n in names:  # how knetc ran (source-to-source, or partly/wholly on its tape), compile times
        described = {wl.NAME: results[wl.NAME].get(n, {}).get("note", "") for wl in wls}
        described = {k: v.split(", ") for k, v in described.items() if v.startswith("mode=")}
        if described:
            modes = {k: v[0] for k, v in described.items()}
            kinds = sorted(set(modes.values()))
            if len(kinds) == 1:
                notes.append(f"- {n}: {kinds[0]} on every workload it ran")
            else:
                notes.append(f"- {n}: " + ", ".join(f"{k} {v}" for k, v in modes.items()))
            compiled = [f"{k} {v[1].replace('compiled in ', '')}" for k, v in described.items() if len(v) > 1]
            if compiled:
                notes.append(f"- {n}: code generation and compilation on the first call: " + ", ".join(compiled))
    if notes:
        p("")
        p("Notes:")
        p("")
        out.extend(notes)
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="short run (under 3 minutes on 2 cores)")
    ap.add_argument("--workloads", nargs="+", default=workloads.NAMES, choices=workloads.NAMES,
                    metavar="W", help=f"workloads to run (default all: {' '.join(workloads.NAMES)})")
    ap.add_argument("--systems", nargs="+", default=systems.NAMES, choices=systems.NAMES,
                    metavar="S", help=f"systems to compare (default all: {' '.join(systems.NAMES)})")
    ap.add_argument("--device", default="cpu", choices=["cpu", "gpu"],
                    help="gpu: CuPy for handwritten/knetc, torch CUDA, jax GPU")
    ap.add_argument("--json", metavar="FILE", help="also write the results as JSON to FILE")
    ap.add_argument("--repeats", type=int, help="timed blocks per system (median taken)")
    ap.add_argument("--budget", type=float, help="most seconds of timed blocks per system and workload")
    ap.add_argument("--threads", type=int, help="threads for every system (OpenBLAS, torch, XLA); "
                    "default: each library's own default. 1 gives steadier numbers on a busy machine")
    ap.add_argument("--tolerance", type=float, default=TOLERANCE,
                    help=f"largest relative error of the first-batch check (default {TOLERANCE:g}); "
                    "cuDNN's float32 convolutions need 3e-4 on LeNet (see README)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--verbose", action="store_true", help="print tracebacks of errors")
    args = ap.parse_args(argv)
    common.setup_data_env()
    mode = "quick" if args.quick else "full"
    cfg = dict(SETTINGS[mode], quick=args.quick, device=args.device)
    if args.device == "gpu":
        from knetc import device
        if device.gpu_available():
            device.configure_memory()   # knetc's counting pool, for every CuPy system
    if args.repeats:
        cfg["repeats"] = args.repeats
    if args.budget:
        cfg["budget"] = args.budget
    started = time.perf_counter()

    names = [n for n in systems.NAMES if n in args.systems]
    mods, args.unavailable, versions = [], {}, {}
    for n in names:
        try:
            mod = systems.load(n)
            why = mod.unavailable(args.device)
        except Exception as ex:  # noqa: BLE001
            mod, why = None, f"{type(ex).__name__}: {ex}"
        if why:
            args.unavailable[n] = why
            log(f"{n}: skipped: {why}")
            mod = None
        else:
            versions[n] = mod.version()
        mods.append((n, mod))
    versions = {v.split()[0]: v for v in versions.values()}  # one entry per package

    wls = [workloads.load(n) for n in workloads.NAMES if n in args.workloads]
    results = {}
    for wl in wls:
        entries = run_workload(wl, mods, args, cfg)
        results[wl.NAME] = {e.name: e.to_json() for e in entries}
        results[wl.NAME]["_workload"] = {"description": wl.DESCRIPTION, "steps_full": wl.STEPS_FULL,
                                         "steps_note": wl.STEPS_NOTE, "lr": wl.LR, "clip": wl.CLIP}
    meta = {"date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), "machine": machine(),
            "threads": args.threads or "library defaults",
            "python": platform.python_version(), "versions": versions, "mode": mode,
            "device": args.device, "data": common.data_source(), "settings": cfg,
            "unavailable": args.unavailable, "tolerance": args.tolerance,
            "wall_s": round(time.perf_counter() - started, 1)}
    text = report(results, wls, names, meta)
    print(text)
    print(f"\n(total run time {meta['wall_s']:.0f} s)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "results": results}, f, indent=1)
        log(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
