"""GPU benchmark: training steps of the five Knet models, knetc on CuPy against PyTorch CUDA.

    python bench/gpu.py [--quick] [--workloads linreg softmax mlp lenet charlm] [--repeats 7]

For each model (bench/workloads: linreg, softmax, mlp, lenet, charlm) both
systems train their own copy of the parameters in this one process, float32:
knetc compiles the workload's NumPy loss and runs it on CuPy arrays; PyTorch
runs the same loss source with torch functions (skipped when torch or CUDA is
missing). First each gradient is checked on the first batch against the
hand-written NumPy reference; then, after warm-up, blocks of training steps
(gradient + SGD update, device synchronised at the end of the block) are
timed in turn, and the median block gives the time per step. For knetc the
table also gives how many allocations reached the CUDA driver during the
timed steps (knetc's memory pool should make it 0).

Prints a markdown table. Without CuPy and a CUDA device it exits with a
"no GPU" message (status 1).
"""
import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``bench`` and ``knetc`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

MODELS = ["linreg", "softmax", "mlp", "lenet", "charlm"]
TOLERANCE = 1e-4          # float32 relative error allowed against the NumPy reference
BATCHES = {"quick": {"softmax": 20, "mlp": 20, "lenet": 5, "charlm": 1},
           "full": {"softmax": 100, "mlp": 100, "lenet": 50, "charlm": 4}}
SETTINGS = {"quick": dict(warmup=3, block=0.05, repeats=5, budget=2.0),
            "full": dict(warmup=10, block=0.25, repeats=11, budget=20.0)}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def gpu_or_exit():
    """The cupy module, or exit with a clear message when there is no usable GPU."""
    from knetc import device
    if not device.gpu_available():
        raise SystemExit("bench/gpu.py: no GPU: CuPy is not installed or sees no CUDA device "
                         "(install e.g. cupy-cuda12x on a machine with an NVIDIA GPU); nothing to time")
    import cupy
    return cupy


def gpu_name(cp):
    try:
        name = cp.cuda.runtime.getDeviceProperties(cp.cuda.Device().id)["name"]
        return name.decode() if isinstance(name, bytes) else str(name)
    except Exception:  # noqa: BLE001
        return "CUDA device"


def fmt(s):
    if s is None:
        return "-"
    return f"{s * 1e6:.0f} µs" if s < 1e-3 else f"{s * 1e3:.2f} ms" if s < 1 else f"{s:.2f} s"


class Entry:
    """One system on one model: its runner, parameters, batches and timings."""

    def __init__(self, name):
        self.name, self.status, self.note = name, "ok", ""
        self.runner = self.w = self.batches = self.step = None
        self.err = None
        self.times, self.pos, self.k = [], 0, 1
        self.allocs = None            # knetc: driver allocations during the timed blocks

    def fail(self, status, note):
        self.status, self.note = status, note
        self.runner = self.w = self.batches = self.step = None

    def block(self, k):
        step, w, b = self.step, self.w, self.batches
        t0 = time.perf_counter()
        for _ in range(k):
            step(w, b[self.pos % len(b)])
            self.pos += 1
        self.runner.sync(w)
        return time.perf_counter() - t0


def run_model(wl, mods, cfg, mode, seed):
    from bench import common
    from knetc import device
    w0 = wl.init(seed)
    n = BATCHES[mode].get(wl.NAME, 1)
    data = wl.data(n, seed)
    ref_loss, ref_grads = wl.hand_value_and_grad([p.copy() for p in w0], *data[0])
    ref_loss, ref_grads = float(common.to_numpy(ref_loss)), [common.to_numpy(g) for g in ref_grads]
    entries = []
    for name, mod in mods:
        e = Entry(name)
        entries.append(e)
        if mod is None:
            e.fail("n/a", "unavailable")
            continue
        try:
            runner = mod.make(wl, "gpu")
            w = runner.params(w0)
            batches = [runner.batch(b) for b in data]
            loss, grads = runner.grad(w, batches[0])
            runner.sync(grads)
            e.err, where = common.compare(float(runner.numpy(loss)), [runner.numpy(g) for g in grads],
                                          ref_loss, ref_grads)
        except Exception as ex:  # noqa: BLE001
            e.fail("error", f"{type(ex).__name__}: {ex}".splitlines()[0][:200])
            log(f"[{wl.NAME}] {name}: {e.note}")
            continue
        if not e.err <= TOLERANCE:
            e.fail("FAILED", f"rel err {e.err:.1e} in {where}")
            log(f"[{wl.NAME}] {name}: FAILED check ({e.note})")
            continue
        e.runner, e.w, e.batches, e.step = runner, w, batches, runner.make_step()
    live = [e for e in entries if e.status == "ok"]
    for e in live:                    # warm-up: compile, fill the memory pool, estimate a step
        try:
            e.block(1)
            t = e.block(max(1, cfg["warmup"] - 1)) / max(1, cfg["warmup"] - 1)
            e.k = max(1, min(round(cfg["block"] / t), int(cfg["budget"] / (cfg["repeats"] * t))))
        except Exception as ex:  # noqa: BLE001
            e.fail("error", f"during steps: {type(ex).__name__}: {ex}"[:200])
    live = [e for e in live if e.status == "ok"]
    before = device.memory_stats()["driver_allocations"]
    knetc_allocs = 0
    for r in range(cfg["repeats"]):
        for e in live[r % max(len(live), 1):] + live[:r % max(len(live), 1)]:
            if e.status != "ok":
                continue
            try:
                a0 = device.memory_stats()["driver_allocations"]
                e.times.append(e.block(e.k) / e.k)
                if e.name == "knetc":
                    knetc_allocs += device.memory_stats()["driver_allocations"] - a0
            except Exception as ex:  # noqa: BLE001
                e.fail("error", f"during steps: {type(ex).__name__}: {ex}"[:200])
    for e in live:
        if e.name == "knetc":
            e.allocs = knetc_allocs
        if e.times:
            log(f"[{wl.NAME}] {e.name}: {fmt(statistics.median(e.times))}/step ({len(e.times)} x {e.k} steps)")
    log(f"[{wl.NAME}] driver allocations during all timed blocks: "
        f"{device.memory_stats()['driver_allocations'] - before}")
    return entries


def table(results, names, meta):
    out = [f"GPU: {meta['gpu']}; {meta['versions']}; Python {meta['python']}; mode {meta['mode']}, float32",
           "",
           "Seconds per training step (gradient + SGD update), median of the timed blocks.",
           ""]
    head = ["model"] + [f"{n} ({'CuPy' if n == 'knetc' else 'CUDA'})" for n in names]
    if "torch" in names and "knetc" in names:
        head.append("knetc / torch")
    head += ["check (rel. err.)", "knetc driver allocs while timed"]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---|" * len(head))
    for model, entries in results.items():
        by = {e.name: e for e in entries}
        cells = [model]
        for n in names:
            e = by[n]
            cells.append(fmt(statistics.median(e.times)) if e.times else e.status)
        if "torch" in names and "knetc" in names:
            k, t = by["knetc"].times, by["torch"].times
            cells.append(f"{statistics.median(k) / statistics.median(t):.2f}x" if k and t else "-")
        cells.append(", ".join(f"{e.name} {e.err:.0e}" if e.err is not None else f"{e.name} {e.status}"
                               for e in entries))
        cells.append("-" if by.get("knetc") is None or by["knetc"].allocs is None else str(by["knetc"].allocs))
        out.append("| " + " | ".join(cells) + " |")
    notes = [f"- {model} / {e.name}: {e.status}: {e.note}" for model, entries in results.items()
             for e in entries if e.status not in ("ok", "n/a") and e.note]
    notes += [f"- {n}: {why}" for n, why in meta["unavailable"].items()]
    if notes:
        out += ["", "Notes:", ""] + notes
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer batches, shorter timing")
    ap.add_argument("--workloads", nargs="+", default=MODELS, choices=MODELS, metavar="W",
                    help=f"models to run (default: {' '.join(MODELS)})")
    ap.add_argument("--repeats", type=int, help="timed blocks per system (median taken)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    cp = gpu_or_exit()

    from bench import common, systems, workloads
    from knetc import device
    common.setup_data_env()
    device.configure_memory()
    mode = "quick" if args.quick else "full"
    cfg = dict(SETTINGS[mode])
    if args.repeats:
        cfg["repeats"] = args.repeats

    names, mods, unavailable, versions = [], [], {}, []
    for n in ("knetc", "torch"):
        try:
            mod = systems.load(n)
            why = mod.unavailable("gpu")
        except Exception as ex:  # noqa: BLE001 - e.g. torch not installed
            mod, why = None, f"{type(ex).__name__}: {ex}"
        if why:
            unavailable[n] = why
            log(f"{n}: skipped: {why}")
            mod = None
        else:
            versions.append(mod.version())
        names.append(n)
        mods.append((n, mod))
    versions.append(f"cupy {cp.__version__}")

    results = {}
    for name in args.workloads:
        wl = workloads.load(name)
        try:
            results[name] = run_model(wl, mods, cfg, mode, args.seed)
        except FileNotFoundError as ex:                 # MNIST missing: the others still run
            log(f"[{name}] skipped: {ex}")
            e = Entry("knetc")
            e.fail("no data", str(ex).splitlines()[0][:200])
            results[name] = [e] + [Entry(n) for n in names[1:]]
            for other in results[name][1:]:
                other.fail("no data", "")
    meta = {"gpu": gpu_name(cp), "versions": "; ".join(versions), "python": platform.python_version(),
            "mode": mode, "unavailable": unavailable}
    print(table(results, names, meta))
    stats = device.memory_stats()
    print(f"\nknetc memory: {stats['bytes_in_use'] / 2**20:.1f} MiB in use, {stats['bytes_held'] / 2**20:.1f} MiB "
          f"held, {stats['driver_allocations']} driver allocations in all, "
          f"{stats['pinned_bytes'] / 2**20:.1f} MiB pinned")
    return 0


if __name__ == "__main__":
    sys.exit(main())
