"""Print the adversarial suite's outcome counts per group and mode.

    python -m tests.adversarial.report            # the table
    python -m tests.adversarial.report -v         # and every non-right outcome
    python -m tests.adversarial.report -g g08_aliasing -m source -v
"""
import argparse
import collections
import sys
import tempfile

from . import GROUP_MODULES, programs_of
from .runner import MODES, OUTCOMES, run


def table(outcomes):
    """The counts as text: one row per group, columns mode/outcome."""
    counts = collections.Counter((o.group, o.mode, o.kind) for o in outcomes)
    groups = sorted({o.group for o in outcomes})
    modes = [m for m in MODES if any(o.mode == m for o in outcomes)]
    kinds = [k for k in OUTCOMES if k != "broken" or counts and any(o.kind == "broken" for o in outcomes)]
    head = f"{'group':<22} {'n':>4}  " + "  ".join(f"{m + ' ' + '/'.join(k[0] for k in kinds):<{4 * len(kinds) + 6}}"
                                                 for m in modes)
    lines = [head, "-" * len(head)]
    for g in groups + ["total"]:
        sel = [o for o in outcomes if g == "total" or o.group == g]
        n = len({o.program for o in sel if o.mode == modes[0]}) if g != "total" else \
            len({(o.group, o.program) for o in sel})
        cells = []
        for m in modes:
            cells.append(" ".join(f"{sum(1 for o in sel if o.mode == m and o.kind == k):>3}" for k in kinds))
        lines.append(f"{g:<22} {n:>4}  " + "  ".join(f"{c:<{4 * len(kinds) + 6}}" for c in cells))
    lines.append("columns per mode: " + ", ".join(kinds) + " (WRONG, cryptic and broken are failures)")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-g", "--group", action="append", help="only these group modules")
    parser.add_argument("-m", "--mode", action="append", choices=MODES, help="only these modes")
    parser.add_argument("-p", "--program", action="append", help="only programs with these names")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every non-right outcome")
    parser.add_argument("--failures", action="store_true", help="list only WRONG/cryptic/broken outcomes")
    opts = parser.parse_args(argv)
    groups = opts.group or GROUP_MODULES
    modes = opts.mode or MODES
    outcomes = []
    with tempfile.TemporaryDirectory() as directory:
        for g in groups:
            for p in programs_of(g):
                if opts.program and p.name not in opts.program:
                    continue
                for m in modes:
                    outcomes.append(run(p, m, directory))
    print(table(outcomes))
    if opts.verbose or opts.failures:
        print()
        for o in outcomes:
            if o.kind != "right" and (opts.verbose or o.failed):
                print(o.line())
    return 1 if any(o.failed for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
