"""The adversarial programs in forward mode and through the Hessian-vector product.

    python -m tests.adversarial.forward                 # jvp and hvp, all groups, all modes
    python -m tests.adversarial.forward -g g08_aliasing -v

For each program called through ``knet.grad`` (no rebinding between calls), a random
tangent ``t`` of the differentiated argument gives two checks:

* ``knet.jvp(f, args, tangents)``: the value must equal a plain call's and the tangent
  ``<gradient, t>``, with the gradient from central finite differences at two steps
  (the same oracle as the reverse-mode suite);
* ``knet.hvp(f)(*args, t)``: must equal the central difference of the tape's gradient
  along ``t`` at two steps (programs whose two steps disagree are skipped as kinks).

Outcomes as in report.py: right, loud (a KnetError naming the program's file:line),
WRONG, cryptic.
"""
import argparse
import collections
import copy
import sys
import tempfile
import traceback
import warnings

import numpy as np

import knetc as knet
from knetc.errors import KnetError
from tests.adversarial import all_programs
from tests.adversarial.runner import _Verdict, _close, _location_ok, load, oracle

MODES = ("auto", "source", "tape")
STEPS = (1e-4, 1e-5)


def _tangent_like(x, rng):
    if isinstance(x, dict):
        return {k: _tangent_like(v, rng) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        items = [_tangent_like(v, rng) for v in x]
        return type(x)(*items) if hasattr(type(x), "_fields") else type(x)(items)
    if isinstance(x, (float, np.floating)):
        return float(rng.standard_normal())
    if isinstance(x, np.ndarray) and x.dtype.kind == "f":
        return rng.standard_normal(x.shape).astype(x.dtype)
    raise _Verdict("skip", f"a {type(x).__name__} argument")


def _dot(a, b):
    if isinstance(a, dict):
        return sum(_dot(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return sum(_dot(u, v) for u, v in zip(a, b))
    return float(np.sum(np.asarray(a, dtype=float) * np.asarray(b, dtype=float)))


def _shift(x, t, eps):
    if isinstance(x, dict):
        return {k: _shift(x[k], t[k], eps) for k in x}
    if isinstance(x, (list, tuple)):
        items = [_shift(u, v, eps) for u, v in zip(x, t)]
        return type(x)(*items) if hasattr(type(x), "_fields") else type(x)(items)
    return x + eps * t


def _loud_or_cryptic(e, program, module, label):
    if isinstance(e, KnetError):
        if _location_ok(program, module, str(e)):
            return _Verdict("loud", f"{label}: {type(e).__name__}: {str(e).splitlines()[0][:240]}")
        return _Verdict("cryptic", f"{label}: {type(e).__name__} naming no file:line: {str(e)[:240]}")
    tb = traceback.extract_tb(e.__traceback__)[-1]
    return _Verdict("cryptic", f"{label}: {type(e).__name__}: {str(e)[:240]} (at {tb.filename}:{tb.lineno})")


def check_jvp(program, module, mode, rng):
    fun = getattr(module, program.fun)
    ns = module.__dict__
    make_args = lambda: eval(program.args, ns)                           # noqa: E731
    expected_grad = oracle(fun, make_args, program.wrt, {}, program.rtol)
    args = make_args()
    wrt = program.wrt % len(args)
    t = _tangent_like(args[wrt], rng)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = fun(*copy.deepcopy(make_args()))
        tangents = tuple(t if i == wrt else None for i in range(len(args)))
        try:
            value, tangent = knet.jvp(fun, tuple(args), tangents, mode=mode)
        except Exception as e:
            raise _loud_or_cryptic(e, program, module, "jvp")
    if not np.allclose(np.asarray(value, dtype=float), np.asarray(plain, dtype=float), rtol=1e-9, atol=1e-12):
        raise _Verdict("WRONG", f"jvp value {value!r} != plain call {plain!r}")
    want = _dot(expected_grad, t)
    got = np.asarray(tangent)
    if got.size != 1 or np.iscomplexobj(got):
        raise _Verdict("WRONG", f"jvp tangent {tangent!r} of a real scalar loss")
    got = float(got.reshape(()))
    scale = max(1.0, abs(want))
    if abs(got - want) > 1e-5 * scale:
        raise _Verdict("WRONG", f"jvp (mode {mode}) tangent {got!r}, <gradient, t> = {want!r}")


def check_hvp(program, module, mode, rng):
    fun = getattr(module, program.fun)
    ns = module.__dict__
    make_args = lambda: eval(program.args, ns)                           # noqa: E731
    args = make_args()
    wrt = program.wrt % len(args)
    v = _tangent_like(args[wrt], rng)
    tape_grad = knet.grad(fun, wrt=program.wrt, mode="tape")

    def grad_at(eps):
        shifted = make_args()
        shifted = tuple(_shift(a, v, eps) if i == wrt else a for i, a in enumerate(shifted))
        return tape_grad(*shifted)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fds = [_dot_tree_diff(grad_at(h), grad_at(-h), h) for h in STEPS]
        except Exception:
            raise _Verdict("skip", "the tape's gradient raises")
        if _close(fds[0], fds[1], 1e-4):
            raise _Verdict("skip", "finite differences of the gradient disagree (a kink?)")
        try:
            got = knet.hvp(fun, wrt=program.wrt, mode=mode)(*make_args(), v)
        except Exception as e:
            raise _loud_or_cryptic(e, program, module, "hvp")
    err = _close(got, fds[1], 1e-4)
    if err:
        raise _Verdict("WRONG", f"hvp (mode {mode}): {err}")


def _dot_tree_diff(a, b, h):
    """(a - b) / 2h leaf by leaf, in a's structure (the tape's gradient has the argument's)."""
    leaves_a, spec = knet.tree_flatten(a)
    leaves_b = knet.tree_leaves(b)
    return knet.tree_unflatten(spec, [(np.asarray(u, dtype=float) - np.asarray(w, dtype=float)) / (2 * h)
                                      for u, w in zip(leaves_a, leaves_b)])


def run(program, mode, directory, check):
    rng = np.random.default_rng(abs(hash(program.name)) % 2**32)
    try:
        module = load(program, directory)
    except Exception:
        return "skip", "does not import"
    try:
        check(program, module, mode, rng)
        return "right", ""
    except _Verdict as v:
        return ("skip" if v.kind == "broken" else v.kind), v.detail
    except Exception:
        return "cryptic", traceback.format_exc(limit=3)
    finally:
        sys.modules.pop(module.__name__, None)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-g", "--group", action="append")
    parser.add_argument("-m", "--mode", action="append", choices=MODES)
    parser.add_argument("-c", "--check", action="append", choices=("jvp", "hvp"))
    parser.add_argument("-v", "--verbose", action="store_true")
    opts = parser.parse_args(argv)
    checks = {"jvp": check_jvp, "hvp": check_hvp}
    programs = [p for p in all_programs() if p.api == "grad" and not p.mutate and not p.after
                and isinstance(p.wrt, int) and not p.kwargs and (not opts.group or p.group in opts.group)]
    counts = collections.defaultdict(collections.Counter)
    bad = []
    with tempfile.TemporaryDirectory() as directory:
        for name in opts.check or ("jvp", "hvp"):
            for p in programs:
                for mode in opts.mode or MODES:
                    kind, detail = run(p, mode, directory, checks[name])
                    counts[(name, mode)][kind] += 1
                    if kind in ("WRONG", "cryptic") or (opts.verbose and kind == "loud"):
                        bad.append(f"[{p.group}] {p.name} {name} mode={mode}: {kind}: {detail}")
    for key in sorted(counts):
        print(key, dict(counts[key]))
    for line in bad:
        print(line)
    return 1 if any(c["WRONG"] or c["cryptic"] for c in counts.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
