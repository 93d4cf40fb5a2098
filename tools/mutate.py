"""Mutation testing of the rule table and the reverse emitter: does the suite notice a wrong rule?

    python tools/mutate.py                                   # numpy_rules.py against the rule tests
    python tools/mutate.py --file knetc/transform/reverse.py --tests tests/test_compiler.py
    python tools/mutate.py --limit 40 --seed 1               # a random sample of 40 mutants

Each mutant changes one thing in one file (an arithmetic operator, a comparison, a
sign, a numeric constant, a dropped ``unbroadcast``) in a scratch copy of the
repository; the chosen tests run against it. A mutant is *killed* when they fail,
*survives* when they pass. Prints every survivor (file:line, the change) and the
score. Mutants that cannot change behaviour (equivalent ones) survive too:
read the list, and add a test for each survivor that a test can kill.
"""
import argparse
import ast
import os
import random
import shutil
import subprocess
import sys
import tempfile

SWAPS = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
         ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Eq: ast.NotEq,
         ast.NotEq: ast.Eq}


def mutation_sites(tree):
    """(node, description, apply) for every place one change can be made."""
    sites = []
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and type(node.op) in SWAPS:
            new = SWAPS[type(node.op)]
            sites.append((node, f"{type(node.op).__name__} -> {new.__name__}",
                          lambda n=node, new=new: setattr(n, "op", new())))
        elif isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in SWAPS:
            new = SWAPS[type(node.ops[0])]
            sites.append((node, f"{type(node.ops[0]).__name__} -> {new.__name__}",
                          lambda n=node, new=new: n.ops.__setitem__(0, new())))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            sites.append((node, "drop unary minus", lambda n=node: setattr(n, "op", ast.UAdd())))
        elif (isinstance(node, ast.Constant) and isinstance(node.value, (int, float))
              and not isinstance(node.value, bool)):
            value = node.value
            new = value + 1 if isinstance(value, int) else (value * 1.5 if value else 0.5)
            sites.append((node, f"{value!r} -> {new!r}", lambda n=node, new=new: setattr(n, "value", new)))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id == "unbroadcast" and len(node.args) == 2):
            sites.append((node, "unbroadcast(e, x) -> e (via a no-op)",
                          lambda n=node: setattr(n, "func", ast.Name(id="_mutant_first", ctx=ast.Load()))))
    return sites


def mutant_source(source, index):
    tree = ast.parse(source)
    node, description, apply = mutation_sites(tree)[index]
    apply()
    ast.fix_missing_locations(tree)
    text = "def _mutant_first(a, b):\n    return a\n\n\n" + ast.unparse(tree) + "\n"
    return text, getattr(node, "lineno", 0), description


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--file", default="knetc/runtime/numpy_rules.py")
    ap.add_argument("--tests", nargs="*", default=["tests/test_rules.py", "tests/test_opinfo.py"])
    ap.add_argument("--limit", type=int, default=0, help="a random sample of this many mutants")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=int, default=300)
    args = ap.parse_args(argv)

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    source = open(os.path.join(root, args.file)).read()
    indices = list(range(len(mutation_sites(ast.parse(source)))))
    if args.limit and args.limit < len(indices):
        indices = sorted(random.Random(args.seed).sample(indices, args.limit))
    scratch = tempfile.mkdtemp(prefix="knetc-mutants-")
    work = os.path.join(scratch, "repo")
    shutil.copytree(root, work, ignore=shutil.ignore_patterns(".git", "__pycache__", "*.egg-info"))
    if os.path.isdir(os.path.join(os.path.dirname(root), "shared")):
        os.symlink(os.path.join(os.path.dirname(root), "shared"), os.path.join(scratch, "shared"))
    target = os.path.join(work, args.file)
    survivors, killed = [], 0
    print(f"{len(indices)} mutants of {args.file}, tests: {' '.join(args.tests)}", flush=True)
    for k, index in enumerate(indices, 1):
        text, line, description = mutant_source(source, index)
        with open(target, "w") as f:
            f.write(text)
        try:
            run = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                                  *args.tests], cwd=work, capture_output=True, timeout=args.timeout,
                                 env=dict(os.environ, PYTHONPATH=work))
            dead = run.returncode != 0
        except subprocess.TimeoutExpired:
            dead = True
        killed += dead
        if not dead:
            survivors.append((line, description))
            print(f"  survived: {args.file}:{line}: {description}", flush=True)
        if k % 10 == 0:
            print(f"[{k}/{len(indices)}] killed {killed}", flush=True)
    with open(target, "w") as f:
        f.write(source)
    shutil.rmtree(scratch, ignore_errors=True)
    score = killed / max(len(indices), 1)
    print(f"\nmutation score: {killed}/{len(indices)} killed ({100 * score:.0f}%), {len(survivors)} survived")
    return 0


if __name__ == "__main__":
    sys.exit(main())
