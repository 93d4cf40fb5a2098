"""Fuzz knetc with random programs from the command line.

    python tests/fuzz/run.py --n 5000 --seed 0
    python tests/fuzz/run.py --n 200 --seed 7000 --out /tmp/fails --minimize
    python tests/fuzz/run.py --only 317 --show          # one program, its report
    KNETC_FUZZ_KNOWN_BUGS=1 python tests/fuzz/run.py --n 500   # known bugs back in
    python tests/fuzz/run.py --themes --n 2000                # issue 11's themes (themes.py)

Each seed gives one program (tests/fuzz/programs.py); its gradient from
``knet.grad(mode="source")``, from ``mode="tape"`` and from finite differences
must agree; then forward mode along a random tangent ``t`` of ``w`` (data ``x``
held constant): ``knet.jvp(loss, (w, x), (t, None))`` in mode="source", "tape"
and "auto", the central difference along ``t`` (two steps) and ``<gradient, t>``
must agree (status 'fwd-mismatch' / 'fwd-error' otherwise; the report shows
``knet.jvp_source(loss)``). ``--themes`` runs issue 11's theme programs in
reverse and forward mode (``--forward-only``: forward only). Prints progress, the number of programs tried and compiled, the
counts by status and every failing program, which is also saved (its source,
with the report as a docstring) under ``--out``. Exit status 1 on any failure.
"""
import argparse
import ast
import collections
import copy
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import programs  # noqa: E402


def _blocks(lines):
    """(start, stop) line ranges of statements: a line and the lines indented under it."""
    out = []
    for i, line in enumerate(lines):
        text = line.strip()
        if not text or text.startswith(("import ", '"""', "def loss(")):
            continue
        ind = len(line) - len(line.lstrip())
        j = i + 1
        while j < len(lines) and (not lines[j].strip() or len(lines[j]) - len(lines[j].lstrip()) > ind):
            j += 1
        out.append((i, j))
    return out


def minimize(case, result, directory, budget_s=300):
    """Remove statements while the program still fails the same way (same status,
    same last line of message); returns the smaller source."""
    def signature(res):
        lines = (res.message or "").strip().splitlines()
        if res.status in ("mismatch", "fwd-mismatch"):      # which comparisons failed
            if res.status == "fwd-mismatch":
                lines = [line for line in lines if line.endswith(": disagree")]
            return tuple(sorted(line.split(":")[0] for line in lines))
        errors = [line for line in lines if line and not line.startswith(" ") and ":" in line
                  and line.split(":")[0].replace(".", "").isidentifier()]
        return errors[-1][:60] if errors else ""

    key = signature(result)
    at_second_point = "second point" in (result.message or "")

    def same(res):
        return res.status == result.status and signature(res) == key

    lines = case.source.splitlines()
    start = time.time()
    changed = True
    while changed and time.time() - start < budget_s:
        changed = False
        for i, j in sorted(_blocks(lines), key=lambda b: b[0] - b[1]):
            ind = len(lines[i]) - len(lines[i].lstrip())
            for cand in (lines[:i] + lines[j:], lines[:i] + [" " * ind + "pass"] + lines[j:]):
                if cand == lines:
                    continue
                src = "\n".join(cand) + "\n"
                try:
                    ast.parse(src)
                except SyntaxError:
                    continue
                trial = programs.Case(case.seed, src, copy.deepcopy(case.w), copy.deepcopy(case.x),
                                      set(case.features))
                if same(programs.check_case(trial, directory, second_point=at_second_point, timeout=60)):
                    lines = cand
                    changed = True
                    break
            if changed:
                break
    return "\n".join(lines) + "\n"


def save(res, out, minimized=None):
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, f"seed_{res.seed}_{res.status}.py")
    report = res.report().replace('"""', "'''")
    with open(path, "w") as f:
        f.write(f'"""knetc fuzz failure\n\n{report}"""\n\n')
        f.write(minimized if minimized is not None else res.source)
    return path


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1000, help="number of programs (default 1000)")
    ap.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    ap.add_argument("--only", type=int, nargs="*", help="run exactly these seeds")
    ap.add_argument("--out", default=None, help="folder for failing programs "
                    "(default: a new folder under the temp directory)")
    ap.add_argument("--every", type=int, default=100, help="progress line every N programs")
    ap.add_argument("--minimize", action="store_true", help="also save a minimised program per failure")
    ap.add_argument("--show", action="store_true", help="print the full report of every failure")
    ap.add_argument("--features", action="store_true", help="print how often each construct occurred")
    ap.add_argument("--timeout", type=int, default=120, help="seconds per program (default 120)")
    ap.add_argument("--themes", action="store_true",
                    help="run the theme programs of tests/fuzz/themes.py in auto/source/tape mode "
                    "(reverse, then forward with knet.jvp) instead")
    ap.add_argument("--forward-only", action="store_true",
                    help="with --themes: only the forward-mode (knet.jvp) runs of the theme programs")
    args = ap.parse_args(argv)
    if args.themes:
        return run_themes(args)

    seeds = args.only if args.only else list(range(args.seed, args.seed + args.n))
    out = args.out or tempfile.mkdtemp(prefix="knetc-fuzz-failures-")
    work = tempfile.mkdtemp(prefix="knetc-fuzz-")
    included = sorted(programs._included_bugs())
    print(f"knetc fuzz: {len(seeds)} programs, seeds {seeds[0]}..{seeds[-1]}; "
          f"known bugs {'included: ' + ', '.join(included) if included else 'excluded'}; "
          f"failures go to {out}", flush=True)

    counts = collections.Counter()
    features = collections.Counter()
    failed = []
    compiled = 0
    start = time.time()
    for k, seed in enumerate(seeds, 1):
        case = programs.generate(seed)
        features.update(case.features)
        res = programs.check_case(case, work, timeout=args.timeout)
        counts[res.status] += 1
        compiled += res.compiled_ok
        if res.failed:
            failed.append(res)
            first = (res.message or "").strip().splitlines()
            print(f"FAIL seed {seed}: {res.status}: {first[-1][:300] if first else ''}", flush=True)
            minimized = None
            if args.minimize:
                minimized = minimize(case, res, work)
                save(res, out, None)
                path = save(programs.Result(**{**res.__dict__, "status": res.status + "_min"}), out, minimized)
            else:
                path = save(res, out)
            print(f"     saved {path}", flush=True)
            if args.show:
                print(res.report(), flush=True)
        if k % args.every == 0 or k == len(seeds):
            rate = k / max(time.time() - start, 1e-9)
            print(f"[{k}/{len(seeds)}] {rate:.1f} programs/s, compiled {compiled}, "
                  f"{dict(sorted(counts.items()))}", flush=True)

    print(f"\nprograms tried: {len(seeds)}")
    print(f"compiled (mode='source' returned a gradient): {compiled}")
    print(f"by status: {dict(sorted(counts.items()))}")
    if args.features:
        print("constructs:")
        for name, n in sorted(features.items()):
            print(f"  {name:28s} {n}")
    if failed:
        print(f"\n{len(failed)} disagreement(s) / failure(s), seeds {[r.seed for r in failed]}; saved in {out}")
        return 1
    print("no disagreements")
    return 0


def run_themes(args):
    """The theme programs of seeds ``--seed .. --seed + --n``: counts and every failure."""
    import themes
    seeds = args.only if args.only else list(range(args.seed, args.seed + args.n))
    work = tempfile.mkdtemp(prefix="knetc-fuzz-themes-")
    counts = collections.Counter()
    failed = []
    start = time.time()
    for k, seed in enumerate(seeds, 1):
        program = themes.generate_theme(seed)
        if program is None:
            print("every theme variant is in KNOWN_BUGS: nothing to run (KNETC_FUZZ_KNOWN_BUGS=1)")
            return 0
        outcomes = [] if args.forward_only else themes.check_theme(program, work)
        outcomes += themes.check_theme_forward(program, work, seed)
        for outcome in outcomes:
            direction = "fwd" if outcome.mode.startswith("fwd-") else "rev"
            counts[(program.group + " " + direction, outcome.kind)] += 1
            if outcome.failed:
                failed.append(outcome)
                print(f"FAIL seed {seed}: {outcome.line()[:300]}", flush=True)
                if args.show:
                    print(program.full_source, flush=True)
        if k % args.every == 0 or k == len(seeds):
            print(f"[{k}/{len(seeds)}] {k / max(time.time() - start, 1e-9):.1f} programs/s, "
                  f"{len(failed)} failing runs", flush=True)
    by_kind = collections.Counter()
    for (group, kind), n in counts.items():
        by_kind[(group.split()[-1], kind)] += n
    print(f"\ntheme programs tried: {len(seeds)}; outcomes (reverse / forward mode, each in auto, "
          f"source, tape) {dict(sorted(by_kind.items()))}")
    for (group, kind), n in sorted(counts.items()):
        print(f"  {group:22s} {kind:12s} {n}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
