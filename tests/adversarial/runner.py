"""Run an adversarial program in one mode and classify the outcome.

Outcomes, per (program, mode):

- ``right``: every gradient call agreed with central finite differences;
- ``loud``: knetc raised a ``KnetError`` whose message names the user's file and line;
- ``WRONG``: a gradient call returned a value that disagrees with finite differences, or
  left the caller's arguments in another state than a plain call does (traced values
  leaked into the caller's containers, a side effect lost or doubled): the forbidden outcome;
- ``cryptic``: any other exception (or a KnetError naming no file:line): also a failure;
- ``broken``: the program itself is unusable (it raised when called plainly, or its two
  finite-difference step sizes disagree: it sits on a kink). Fix the program.

The finite-difference oracle is central differences in float64 at two step sizes
(1e-6 and 1e-5) on fresh deep copies of the arguments for every evaluation; they must
agree with each other before a disagreement with knetc counts.
"""
import copy
import dataclasses
import itertools
import os
import re
import sys
import importlib.util
import traceback
import warnings

import numpy as np

import knetc as knet
from knetc.errors import KnetError
from knetc.testing import _leaves, assert_tree_allclose, numeric_grad

MODES = ("auto", "source", "tape")
OUTCOMES = ("right", "loud", "WRONG", "cryptic", "broken")
STEPS = (1e-6, 1e-5)
_loaded = itertools.count()


@dataclasses.dataclass
class Outcome:
    program: str
    group: str
    mode: str
    kind: str
    detail: str = ""

    @property
    def failed(self):
        return self.kind in ("WRONG", "cryptic", "broken")

    def line(self):
        return f"[{self.group}] {self.program} mode={self.mode}: {self.kind}: {self.detail}"


class _Verdict(Exception):
    def __init__(self, kind, detail):
        super().__init__(detail)
        self.kind, self.detail = kind, detail


def load(program, directory):
    """Write the program to a fresh module file and import it."""
    name = f"knetc_adv_{re.sub(r'[^0-9a-zA-Z_]', '_', program.name)}_{next(_loaded)}"
    path = os.path.join(directory, f"{name}.py")
    with open(path, "w") as f:
        f.write(program.full_source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def _scale(tree):
    return max([1.0] + [float(np.max(np.abs(np.asarray(l, dtype=float)))) if np.size(l) else 0.0
                        for l in _leaves(tree)])


def _close(a, b, rtol):
    try:
        assert_tree_allclose(a, b, rtol=rtol, atol=rtol * 0.1 * _scale(b))
        return None
    except AssertionError as e:
        return str(e)


def _as_float64_tree(tree):
    """Gradients as float64 leaves in the same containers (float32 results compare too)."""
    if isinstance(tree, dict):
        return {k: _as_float64_tree(v) for k, v in tree.items()}
    if isinstance(tree, list):
        return [_as_float64_tree(v) for v in tree]
    if isinstance(tree, tuple):
        items = [_as_float64_tree(v) for v in tree]
        return type(tree)(*items) if hasattr(type(tree), "_fields") else tuple(items)
    return tree


def _numeric(fun, make_args, wrt, kwargs, eps):
    def fresh(*args, **kw):
        return fun(*copy.deepcopy(args), **copy.deepcopy(kw))
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return numeric_grad(fresh, make_args(), wrt, eps=eps, kwargs=kwargs)


def oracle(fun, make_args, wrt, kwargs, rtol):
    """The finite-difference gradient; raises _Verdict('broken') on a kink."""
    try:
        first = _numeric(fun, make_args, wrt, kwargs, STEPS[0])
        second = _numeric(fun, make_args, wrt, kwargs, STEPS[1])
    except Exception:
        raise _Verdict("broken", "the program raised when called plainly:\n" + traceback.format_exc(limit=-2))
    err = _close(first, second, max(rtol, 1e-6))
    if err:
        raise _Verdict("broken", f"finite differences at {STEPS} disagree (a kink?): {err}")
    return first


def _state(tree):
    """(type, value) of every leaf: what a call left in the caller's arguments."""
    out = []
    for leaf in _leaves(tree):
        if isinstance(leaf, np.ndarray) or isinstance(leaf, (float, int, complex, np.generic)):
            out.append((type(leaf).__name__, np.array(leaf, copy=True)))
        else:
            out.append((type(leaf).__name__, None))
    return out


def _same_state(a, b):
    if len(a) != len(b):
        return f"{len(a)} leaves after the gradient call, {len(b)} after a plain call"
    for k, ((ta, va), (tb, vb)) in enumerate(zip(a, b)):
        if ta != tb:
            return f"leaf {k} is a {ta} after the gradient call, a {tb} after a plain call"
        if va is not None and (va.shape != vb.shape or not np.allclose(va, vb, rtol=1e-9, atol=1e-12)):
            return f"leaf {k} holds {va!r} after the gradient call, {vb!r} after a plain call"
    return None


def _usable_gradient(got, args):
    """None, or why the caller cannot use the gradient as its own arrays (``g *= .5``)."""
    arg_leaves = [leaf for leaf in _leaves(list(args)) if isinstance(leaf, np.ndarray)]
    for k, leaf in enumerate(_leaves(got)):
        if isinstance(leaf, np.ndarray):
            if not leaf.flags.writeable:
                return f"gradient leaf {k} is a read-only array (g *= 0.5 would fail)"
            if any(np.shares_memory(leaf, a) for a in arg_leaves):
                return f"gradient leaf {k} shares memory with an argument (g *= 0.5 would change it)"
    return None


def _tuples_as_lists(tree):
    if isinstance(tree, dict):
        return {k: _tuples_as_lists(v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return [_tuples_as_lists(v) for v in tree]
    return tree


def _fill(tree, value):
    """Set every array leaf of ``tree`` to ``value``; returns a copy of what it holds."""
    for leaf in _leaves(tree):
        leaf[...] = value
    return copy.deepcopy(tree)


def _minus(tree, base):
    if isinstance(tree, dict):
        return {k: _minus(tree[k], base[k]) for k in tree}
    if isinstance(tree, (list, tuple)):
        items = [_minus(a, b) for a, b in zip(tree, base)]
        return type(tree)(items) if not hasattr(type(tree), "_fields") else type(tree)(*items)
    return tree - base


def _location_ok(program, module, message):
    pattern = program.where.format(file=re.escape(os.path.basename(module.__file__)))
    return re.search(pattern, message) is not None


def _call_once(program, module, fun, grad_fun, mode, label):
    ns = module.__dict__
    make_args = lambda: eval(program.args, ns)                           # noqa: E731
    kwargs = eval(program.kwargs, ns) if program.kwargs else {}
    expected = oracle(fun, make_args, program.wrt, kwargs, program.rtol)
    plain_args = make_args()
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain_value = fun(*plain_args, **copy.deepcopy(kwargs))
    args = make_args()
    buffers = base = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if program.api in ("out", "accumulate"):
                wrt = program.wrt
                buffers = (tuple(knet.zeros_like(args[i]) for i in wrt) if isinstance(wrt, tuple)
                           else knet.zeros_like(args[wrt]))
                base = _fill(buffers, 0.25) if program.api == "accumulate" else None
                grad_fun = knet.grad(fun, wrt=wrt, mode=mode, out=buffers,
                                     accumulate=program.api == "accumulate")
            got = grad_fun(*args, **copy.deepcopy(kwargs))
    except KnetError as e:
        message = str(e)
        if _location_ok(program, module, message):
            raise _Verdict("loud", f"{label}: {type(e).__name__}: {message.splitlines()[0][:300]}")
        raise _Verdict("cryptic", f"{label}: {type(e).__name__} naming no file:line of the program: "
                                  f"{message[:300]}")
    except Exception as e:
        tb = traceback.extract_tb(e.__traceback__)[-1]
        raise _Verdict("cryptic", f"{label}: {type(e).__name__}: {str(e)[:300]} "
                                  f"(at {os.path.basename(tb.filename)}:{tb.lineno})")
    if program.api in ("value_and_grad", "gradloss"):
        value, got = got if program.api == "value_and_grad" else got[::-1]
        if not np.allclose(np.asarray(value, dtype=float), np.asarray(plain_value, dtype=float),
                           rtol=1e-9, atol=1e-12):
            raise _Verdict("WRONG", f"{label}: the value {value!r} differs from a plain call's {plain_value!r}")
    if buffers is not None:
        if got is not buffers:
            raise _Verdict("WRONG", f"{label}: out= did not return the buffers it was given")
        if base is not None:
            got = _minus(got, base)
    usable = _usable_gradient(got, args)
    if usable:
        raise _Verdict("WRONG", f"{label}: {usable}")
    if buffers is not None:          # knet.zeros_like gives lists for tuples (documented)
        got, expected = _tuples_as_lists(got), _tuples_as_lists(expected)
    err = _close(_as_float64_tree(got), expected, program.rtol)
    if err:
        raise _Verdict("WRONG", f"{label} (mode {getattr(grad_fun, 'mode', '?')}): {err}")
    for name in program.after:
        try:
            ns[name]()
        except Exception as e:           # the caller's next use of its state fails or is wrong
            raise _Verdict("WRONG", f"{label}: {name}() found the state left behind wrong: "
                                    f"{type(e).__name__}: {str(e)[:200]}")
    differs = _same_state(_state(args), _state(plain_args))
    if differs:
        raise _Verdict("WRONG", f"{label}: the caller's arguments differ from a plain call's: {differs}")


def _make_grad(program, fun, mode):
    make = {"value_and_grad": knet.value_and_grad, "gradloss": knet.gradloss}.get(program.api, knet.grad)
    return make(fun, wrt=program.wrt, mode=mode)


def run(program, mode, directory):
    """The Outcome of ``program`` in ``mode``; modules are written under ``directory``."""
    outcome = Outcome(program.name, program.group, mode, "right")
    try:
        module = load(program, directory)
    except Exception:
        outcome.kind, outcome.detail = "broken", "the module does not import:\n" + traceback.format_exc(limit=3)
        return outcome
    try:
        fun = getattr(module, program.fun)
        grad_fun = _make_grad(program, fun, mode)
        stages = [None] + list(program.mutate)
        louds = []
        for stage in stages:
            tag = "first call" if stage is None else f"after {stage}()"
            if stage is not None:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    getattr(module, stage)()
            calls = [(fun, grad_fun, tag), (fun, grad_fun, f"{tag}, called again")]
            if stage is not None:
                fresh_fun = getattr(module, program.fun)
                calls.append((fresh_fun, _make_grad(program, fresh_fun, mode),
                              f"{tag}, a new knet.grad"))
            for f, g, label in calls:
                try:
                    _call_once(program, module, f, g, mode, label)
                except _Verdict as v:
                    if v.kind != "loud":
                        raise
                    louds.append(v.detail)     # a refusal now; what comes after must still be right
        if louds:
            outcome.kind, outcome.detail = "loud", louds[0]
    except _Verdict as v:
        outcome.kind, outcome.detail = v.kind, v.detail
    except Exception:
        outcome.kind, outcome.detail = "cryptic", "outside the gradient call:\n" + traceback.format_exc(limit=4)
    finally:
        sys.modules.pop(module.__name__, None)
    return outcome


def run_all(programs, directory, modes=MODES):
    return [run(p, m, directory) for p in programs for m in modes]
