"""The knetc command line (``knetc`` or ``python -m knetc``)."""
import argparse
import os
import sys

from . import __version__
from .api import GradFunction, grad
from .errors import GradientInputError
from .show import describe_mode, generic_source, load_target, stages_text

DESCRIPTION = """\
Show the gradient code knetc generates for a function in a Python file.

  %(prog)s show model.py:loss                 the generated adjoint code
  %(prog)s show model.py:loss --wrt 0,1       differentiate arguments 0 and 1
  %(prog)s show model.py:loss --mode          does it compile, run on the tape, or mix?
  %(prog)s show model.py:loss --args "w, x, y"   compile for these sample arguments
  %(prog)s show model.py:loss --stages        the compiler's IR after each of its passes
"""


def _prog():
    """The name the user typed: ``knetc`` for the script, ``python -m knetc`` for the module."""
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return "python -m knetc" if name in ("__main__.py", "") else name


def _indices(text):
    """``--wrt 0`` or ``--wrt 0,2``: one index or a tuple of them."""
    try:
        values = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an index or indices separated by commas, not {text!r}")
    return values[0] if len(values) == 1 else values


def _parse_args_expr(text, module):
    """Evaluate ``--args`` in the model file's namespace: a tuple of sample arguments."""
    try:
        value = eval(f"({text},)", vars(module))  # noqa: S307 - the user's own expression
    except Exception as e:
        raise SystemExit(f"knetc: --args {text!r} could not be evaluated in {module.__file__}: "
                         f"{type(e).__name__}: {e}") from None
    return value


def build_parser(prog=None):
    """The argument parser (``prog`` defaults to the name the program was started under)."""
    parser = argparse.ArgumentParser(prog=prog or _prog(), description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    show = sub.add_parser("show", help="print the gradient code of a function in a file",
                          description="Print the gradient code of FILE.py:FUNCTION (a function "
                                      "or a gradient object such as lossgradient = knet.grad(loss)).")
    show.add_argument("target", metavar="FILE.py:FUNCTION", help="the file and the function's name")
    show.add_argument("--wrt", type=_indices, default=None, metavar="I[,J...]",
                      help="argument index(es) to differentiate, e.g. 0 or 0,1 "
                           "(default 0, or the gradient object's)")
    show.add_argument("--mode", action="store_true",
                      help="say whether it compiles, runs on the tape or mixes both, and why")
    show.add_argument("--args", default=None, metavar="EXPR",
                      help="sample arguments, a Python expression evaluated in the file's namespace "
                           "(e.g. \"w, x, y\"): the gradient is taken for them, as a real call does")
    show.add_argument("--stages", action="store_true",
                      help="print the compiler's intermediate code after each pass (parse, jumps, "
                           "lower, kinds, containers, fence, activity, emit, assemble)")
    return parser


def main(argv=None):
    """Entry point of the ``knetc`` script and of ``python -m knetc``; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    fun, module = load_target(args.target)
    wrt = args.wrt
    samples = None if args.args is None else _parse_args_expr(args.args, module)
    try:
        if args.mode:
            print(describe_mode(fun, wrt, samples))
        elif args.stages:
            print(stages_text(fun, wrt, samples), end="")
        elif samples is not None:
            target, default_wrt = (fun.fun, fun.wrt) if isinstance(fun, GradFunction) else (fun, 0)
            g = grad(target, wrt=default_wrt if wrt is None else wrt)
            g(*samples)
            print(g.source, end="")
        else:
            print(generic_source(fun, wrt), end="")
    except GradientInputError as e:
        parser.exit(2, f"{parser.prog} show: error: {str(e).replace('knetc: ', '', 1)}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
