"""Command line: ``python -m knetc show path/to/model.py:loss [--wrt 0] [--mode]``."""
import argparse

from .show import describe_mode, generic_source, load_function


def main(argv=None):
    """Entry point of ``python -m knetc``."""
    parser = argparse.ArgumentParser(prog="python -m knetc", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    show = sub.add_parser("show", help="print the gradient code of a function in a file")
    show.add_argument("target", help="FILE.py:FUNCTION")
    show.add_argument("--wrt", type=int, nargs="+", default=[0], help="argument index(es) to differentiate")
    show.add_argument("--mode", action="store_true", help="say whether it compiles or falls back, and why")
    args = parser.parse_args(argv)
    fun = load_function(args.target)
    wrt = args.wrt[0] if len(args.wrt) == 1 else tuple(args.wrt)
    if args.mode:
        print(describe_mode(fun, wrt))
        return 0
    print(generic_source(fun, wrt), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
