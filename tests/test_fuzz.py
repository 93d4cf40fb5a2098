"""Random-program fuzzing: compiled vs taped vs finite-difference gradients.

Each program comes from the grammar of tests/fuzz/programs.py (one seed, one
program); ``knet.grad(loss, mode="source")``, ``knet.grad(loss, mode="tape")``
and ``knetc.testing.numeric_grad`` must agree, the compiled value must equal the
plain call, and the compiled code must still be right at a second point. Forward
mode too: ``knet.jvp`` along a random tangent of ``w`` in mode="source", "tape"
and "auto" against the central difference along it and ``<gradient, t>``.

- the normal suite runs a small budget (``KNETC_FUZZ_SMALL_N``, default 50
  programs, one test per program, a few seconds);
- ``pytest -m fuzz`` runs the long budget (``KNETC_FUZZ_N``, default 5000,
  from seed ``KNETC_FUZZ_SEED``, default 0) as one test that prints the counts
  and reports every failing program;
- ``python tests/fuzz/run.py --n 5000 --seed 0`` is the same from the command
  line, with progress, saved failing programs and minimisation.

Gradients are compared with central differences at two steps
(``programs.FD_STEPS``), which must agree with each other first, at rtol 1e-6.

Constructs knetc currently gets wrong are left out of the grammar
(``programs.KNOWN_BUGS``; ``KNETC_FUZZ_KNOWN_BUGS=1`` puts them back); each has a
minimal reproducer in ``KNOWN_BUG_REPRODUCERS`` below, and
``test_known_bugs_still_reproduce`` fails as soon as one no longer fails: then
turn it into a regression test and delete the entry of KNOWN_BUGS.
"""
import collections
import importlib.util
import os
import pathlib
import sys

import numpy as np
import pytest

import knetc as knet
from knetc.testing import assert_numeric_grad


def _load_programs():
    name = "knetc_fuzz_programs"
    if name not in sys.modules:
        path = pathlib.Path(__file__).resolve().parent / "fuzz" / "programs.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


programs = _load_programs()


def _load_themes():
    name = "knetc_fuzz_themes"
    if name not in sys.modules:
        path = pathlib.Path(__file__).resolve().parent / "fuzz" / "themes.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


themes = _load_themes()
THEME_SMALL_N = int(os.environ.get("KNETC_FUZZ_THEME_SMALL_N", "40"))
THEME_LARGE_N = int(os.environ.get("KNETC_FUZZ_THEME_N", "2000"))

SEED = int(os.environ.get("KNETC_FUZZ_SEED", "0"))
SMALL_N = int(os.environ.get("KNETC_FUZZ_SMALL_N", "50"))
LARGE_N = int(os.environ.get("KNETC_FUZZ_N", "5000"))


def _failure_text(results, limit=5):
    shown = "\n\n".join(r.report() for r in results[:limit])
    more = f"\n... and {len(results) - limit} more" if len(results) > limit else ""
    return shown + more


# ---- the small budget: one test per program ---------------------------------------
@pytest.mark.parametrize("seed", range(SEED, SEED + SMALL_N))
def test_fuzz_program(seed, tmp_path):
    res = programs.check_case(programs.generate(seed), str(tmp_path))
    assert not res.failed, _failure_text([res])


def test_the_forward_check_catches_a_wrong_tangent(tmp_path, monkeypatch):
    """The fuzzer's forward-mode check can fail: a compiled tangent 1% off is a 'fwd-mismatch'
    whose report shows the generated tangent program."""
    jvp = knet.jvp

    def off(f, primals, tangents, mode="auto", **kw):
        value, tangent = jvp(f, primals, tangents, mode=mode, **kw)
        return value, tangent * 1.01 if mode == "source" else tangent

    monkeypatch.setattr(knet, "jvp", off)
    res = programs.check_case(programs.generate(3), str(tmp_path))
    assert res.status == "fwd-mismatch", res.report()
    assert "compiled jvp vs numeric: disagree" in res.message
    assert "compiled jvp vs <reverse gradient, t>: disagree" in res.message
    assert "taped jvp vs numeric" not in res.message
    assert "def loss_jvp(w, x, tw):" in res.report()


# ---- the long budget ------------------------------------------------------------------
@pytest.mark.fuzz
def test_fuzz_many(tmp_path, capsys):
    failed, counts, compiled = programs.run_seeds(range(SEED, SEED + LARGE_N), str(tmp_path))
    with capsys.disabled():
        print(f"\nknetc fuzz: {LARGE_N} programs tried (seeds {SEED}..{SEED + LARGE_N - 1}), "
              f"{compiled} compiled, statuses {dict(sorted(counts.items()))}")
    assert not failed, (f"{len(failed)} of {LARGE_N} programs failed "
                        f"(seeds {[r.seed for r in failed][:50]}):\n" + _failure_text(failed))


# ---- issue 11's themes (tests/fuzz/themes.py) -------------------------------------------------
def _theme_failures(seeds, directory):
    failed, counts = [], collections.Counter()
    for seed in seeds:
        program = themes.generate_theme(seed)
        if program is None:
            continue
        for outcome in themes.check_theme(program, directory) + themes.check_theme_forward(
                program, directory, seed):
            counts[outcome.kind] += 1
            if outcome.failed:
                failed.append(outcome.line() + "\n" + program.full_source.split("_soft(t):", 1)[1])
    return failed, counts


@pytest.mark.parametrize("seed", range(SEED, SEED + THEME_SMALL_N))
def test_theme_program(seed, tmp_path):
    failed, _ = _theme_failures([seed], str(tmp_path))
    assert not failed, "\n".join(failed)


@pytest.mark.fuzz
def test_theme_programs_many(tmp_path, capsys):
    failed, counts = _theme_failures(range(SEED, SEED + THEME_LARGE_N), str(tmp_path))
    with capsys.disabled():
        print(f"\nknetc theme fuzz: {THEME_LARGE_N} programs, outcomes {dict(sorted(counts.items()))}")
    assert not failed, f"{len(failed)} failing (program, mode) runs:\n" + "\n\n".join(failed[:5])


def test_themes_cover_every_variant_and_structure():
    seen_forms, seen_structures = set(), set()
    for theme in themes.THEMES:
        for form in range(themes.FORMS[theme]):
            for seed in range(40):
                p = themes.generate_theme(seed, theme, form)
                assert p is not None and p.group == f"theme:{theme}:{form}"
                compile(p.full_source, p.name, "exec")
                seen_forms.add((theme, form))
                seen_structures.add(p.name.split("-")[3])
    assert len(seen_forms) == sum(themes.FORMS.values())
    assert seen_structures == set(themes.STRUCTURES), seen_structures
    # the default draw leaves out exactly the variants KNOWN_BUGS names
    drawn = {themes.generate_theme(seed).group for seed in range(400)}
    excluded = {b for b in programs.KNOWN_BUGS if b.startswith("theme:")}
    assert not drawn & excluded
    assert drawn == {f"theme:{t}:{k}" for t in themes.THEMES for k in range(themes.FORMS[t])} - excluded


# ---- the grammar itself ------------------------------------------------------------------
def test_generator_is_deterministic():
    a = [programs.generate(s).source for s in range(5)]
    b = [programs.generate(s).source for s in range(5)]
    assert a == b
    assert len(set(a)) == 5


REQUIRED = [
    "op:matmul", "op:div", "op:pow", "op:maxmin", "op:where", "op:clip", "broadcast", "method",
    "reduce:np.sum", "reduce:np.mean", "reduce:np.max", "math",
    "for:range0", "for:range1", "for:range2", "for:w:plain", "for:w:enumerate", "for:w:zip",
    "for:w:range", "for:stack:range", "for:list", "while:count", "while:data", "while:true",
    "loop:break", "loop:continue", "if", "elif", "if:else", "cond:data", "cond:python", "ifexp",
    "return:early", "return:early:loop", "index:negative-int", "index:step-slice",
    "index:int-array", "index:bool-mask", "index:loop-variable", "index:None",
    "helper", "helper:multi", "call:keyword", "call:default", "call:unpack", "call:mutating",
    "closure", "lambda", "list:new", "list:append", "list:setitem", "list:read",
    "list:index-loopvar", "augassign", "setitem:array", "tuple-assign", "layer",
    "w:bare", "w:dict",
]


def test_grammar_covers_the_constructs():
    seen = collections.Counter()
    for seed in range(400):
        seen.update(programs.generate(seed).features)
    missing = [f for f in REQUIRED if not seen[f]]
    assert not missing, f"constructs never generated in 400 programs: {missing}"


def test_generated_programs_run_and_are_scalar():
    for seed in range(40):
        case = programs.generate(seed)
        compile(case.source, f"<seed {seed}>", "exec")
        assert "def loss(w, x):" in case.source
        assert 1 <= len(case.w) <= 3
    kinds = {type(programs.generate(seed).w).__name__ for seed in range(200)}
    assert kinds == {"list", "tuple", "dict", "ndarray"}, kinds      # the structures of w


# ---- bugs the fuzzer found -----------------------------------------------------------------
# Fixed ones stay as regression tests; open ones are left out of the grammar through
# programs.KNOWN_BUGS, each with a reproducer in KNOWN_BUG_REPRODUCERS that must still fail.
def _check(f, *args, mode="source"):
    g = knet.value_and_grad(f, mode=mode)
    value, grad = g(*args)
    assert np.allclose(value, f(*args))
    assert_numeric_grad(grad, f, args, 0)
    if mode == "source":
        assert g.mode == "source", f"mode={g.mode!r}: a helper ran on the tape"


# name in programs.KNOWN_BUGS -> its reproducer: (function, args, mode) that _check must fail
# on, or, for a theme variant 'theme:<theme>:<form>', the last seed of the run of seeds 0..n of
# that variant in which some program must fail (a run, since some of these bugs need an
# earlier program: the cache confuses equal code objects of different modules)
THEME_REPRODUCER_SEEDS = {
    "theme:alias:0": 0, "theme:alias:1": 0, "theme:alias:2": 0, "theme:alias:3": 0,
    "theme:alias:4": 0, "theme:alias:5": 0, "theme:alias:6": 0, "theme:alias:7": 0,
    "theme:alias:8": 0, "theme:containers:0": 0, "theme:containers:1": 0, "theme:containers:2": 0,
    "theme:containers:3": 0, "theme:effects:0": 0, "theme:effects:1": 0, "theme:effects:3": 0,
    "theme:effects:5": 0, "theme:effects:6": 0, "theme:effects:7": 0, "theme:effects:8": 0,
    "theme:effects:9": 0, "theme:factory:3": 0, "theme:factory:4": 0, "theme:lambda:0": 1,
    "theme:lambda:1": 1, "theme:lambda:3": 2, "theme:loop_else:1": 2, "theme:loop_else:3": 0,
    "theme:rebind:0": 0, "theme:rebind:2": 0, "theme:rebind:4": 0,
}
KNOWN_BUG_REPRODUCERS = {name: ("theme", seed) for name, seed in THEME_REPRODUCER_SEEDS.items()
                         if name in programs.KNOWN_BUGS}
# Fixed since: their reproducers are regressions now (every program of the run must pass).
FIXED_THEME_SEEDS = {name: seed for name, seed in THEME_REPRODUCER_SEEDS.items()
                     if name not in programs.KNOWN_BUGS}


@pytest.mark.parametrize("name", sorted(FIXED_THEME_SEEDS))
def test_fixed_theme_variant_stays_fixed(name, tmp_path):
    _, theme, form = name.split(":")
    for seed in range(FIXED_THEME_SEEDS[name] + 1):
        outcomes = themes.check_theme(themes.generate_theme(seed, theme, int(form)), str(tmp_path))
        failed = [o for o in outcomes if o.failed]
        assert not failed, f"{name} seed {seed}: {failed[0]}"


def _reproduces(name, reproducer, directory):
    """True if the known bug ``name`` still shows."""
    if reproducer[0] == "theme":
        _, theme, form = name.split(":")
        for seed in range(reproducer[1] + 1):
            outcomes = themes.check_theme(themes.generate_theme(seed, theme, int(form)), directory)
            if any(o.failed for o in outcomes):
                return True
        return False
    f, args, mode = reproducer
    try:
        _check(f, *args, mode=mode)
    except Exception:
        return True
    return False


def test_known_bugs_still_reproduce(tmp_path):
    """A KNOWN_BUGS entry keeps constructs out of the grammar; once fixed it must go."""
    missing = sorted(set(programs.KNOWN_BUGS) - set(KNOWN_BUG_REPRODUCERS))
    assert not missing, f"KNOWN_BUGS entries without a reproducer: {missing}"
    stale = sorted(set(KNOWN_BUG_REPRODUCERS) - set(programs.KNOWN_BUGS))
    assert not stale, f"reproducers of bugs no longer in KNOWN_BUGS: {stale}"
    fixed = [name for name, reproducer in KNOWN_BUG_REPRODUCERS.items()
             if not _reproduces(name, reproducer, str(tmp_path))]
    assert not fixed, (f"known bugs that no longer reproduce: {fixed}; delete their KNOWN_BUGS "
                       f"entries (the grammar leaves them out) and keep the reproducers as regressions")


def test_known_bug_check_fails_on_a_wrong_gradient():
    """The check test_known_bugs_still_reproduce relies on does fail where it should."""
    @knet.primitive
    def off(x):
        return np.sin(x)
    knet.defvjp(off, lambda g, ans, x: g * np.cos(x) * (1 + 1e-5))

    def f(x):
        return np.sum(off(x))
    with pytest.raises(AssertionError):
        _check(f, _V)
    _check(lambda x: np.sum(np.sin(x)), _V, mode="tape")


def bug_self_assign(a):
    h = np.tanh(a)
    h = h
    return np.sum(h)


def bug_neg_const_pow(x):
    return np.sum(x) * (-0.5) ** 2


def bug_stack_then_append(w):
    hs = [w]
    t = 0.0
    for i in range(3):
        t = t + np.sum(np.stack(hs))
        hs.append(np.tanh(hs[-1]))
    return t


def bug_enumerate_zip(w, xs):
    s = 0.0
    for i, (p, d) in enumerate(zip(w, xs)):
        s = s + np.sum(p * d) * (i + 1)
    return s


def bug_enumerate_zip_unused(w, xs):
    s = np.sum(w[0])
    for i, (p, d) in enumerate(zip(w, xs)):
        pass
    return s


def bug_for_dict_keys(w):
    d = {"a": w * 2.0, "b": np.tanh(w)}
    t = 0.0
    for k in d:
        t = t + np.sum(d[k])
    return t


def _kwonly(a, *, s=0.5):
    return np.sum(np.tanh(a) * s)


def bug_kwonly_passed(w):
    return _kwonly(w, s=2.0)


def bug_kwonly_default(w):
    return _kwonly(w)


def _rebind(a0, a1):
    h = a1[2, 0]
    a1 = np.exp(-np.square(h))      # the parameter rebound to a scalar
    return a0


def bug_param_rebind_other_shape(w):
    return np.sum(_rebind(w[0], w[1] @ w[0]))


def _rebind_float(a, s):
    s = np.abs(s + a)               # the float parameter rebound to an array; the result ignores it
    return np.sum(a) * 2.0


def bug_param_rebind_silent(w):     # the gradient of w[1] comes out 3.0 instead of 1.0
    return _rebind_float(w[0], w[1]) + w[1]


def _needs_tape(a):
    try:
        return np.sum(a * a)
    except ValueError:
        return 0.0


def bug_source_mode_helper_fallback(w):
    return _needs_tape(w) * 2.0


def bug_tape_constant_setitem_after_use(w):
    a = np.zeros(3)
    h = w * a
    a[0] = 1.0
    return np.sum(h)


def bug_tape_constant_iadd_after_use(w):
    a = np.ones(3)
    h = w * a
    a += 1.0
    return np.sum(h)


def _push(hs, a):
    hs.append(np.tanh(a))


def bug_stack_then_helper_append(w):
    hs = [w * 2.0]
    t = np.sum(np.stack(hs))
    _push(hs, w)                    # the helper appends after np.stack(hs)
    return t + np.sum(hs[-1])


def _dead_setitem(a0, ws):
    if len(ws) > 5:
        ws[-1] = a0                 # never runs; makes the compiler give the helper to the tape
    return a0 * 2.0


def bug_mixed_mode_tuple_argument(w):
    return np.sum(_dead_setitem(w[0], w[0:2]))


_V = np.array([0.5, -0.2, 0.3])
_W = [np.array([0.5, -0.2, 0.3]), np.array([[0.1, 0.2], [0.3, -0.4]])]
_XS = [np.array([1.0, 2.0, 3.0]), np.eye(2)]
_WC = [np.array([[0.5], [-0.2], [0.3]]), np.array([[0.1, 0.2, 0.0], [0.3, -0.4, 0.2], [0.5, 0.1, -0.3]])]


@pytest.mark.parametrize("f,args", [
    (bug_self_assign, (_V,)),                    # `h = h` zeroed h's gradient
    (bug_neg_const_pow, (_V,)),                  # generated as -0.5 ** 2
    (bug_stack_then_append, (_V,)),              # IndexError in stack_vjp
    (bug_enumerate_zip, (_W, _XS)),              # UnsupportedError 'zip on a differentiated value'
    (bug_enumerate_zip_unused, (_W, _XS)),       # TypeError: object of type 'zip' has no len()
    (bug_for_dict_keys, (_V,)),                  # KeyError: 0 (the loop indexed the dict by position)
    (bug_kwonly_passed, (_V,)),                  # TypeError: keyword-only argument passed by position
    (bug_kwonly_default, (_V,)),                 # ran on the tape under mode='source'
    (bug_param_rebind_other_shape, (_WC,)),      # zeros of the rebound value's shape
    (bug_param_rebind_silent, ([_V, 0.7],)),     # a float's gradient counted 3 times
    (bug_stack_then_helper_append, (_V,)),       # IndexError in stack_vjp (a helper appended)
])
def test_fixed_fuzz_bug(f, args):
    _check(f, *args)


def test_fixed_fuzz_bug_mixed_mode_tuple_argument():
    """A tuple is never written into: the taped helper gets no container adjoint."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", knet.FallbackWarning)
        _check(bug_mixed_mode_tuple_argument, (_V, 2.0 * _V), mode="auto")


def test_source_mode_forbids_the_tape_for_helpers_too():
    with pytest.raises(knet.UnsupportedError, match="try/except"):
        knet.grad(bug_source_mode_helper_fallback, mode="source")(_V)


@pytest.mark.parametrize("f", [bug_tape_constant_setitem_after_use, bug_tape_constant_iadd_after_use])
def test_tape_refuses_an_in_place_update_after_use(f):
    """Once silently wrong: now an error that says what happened and what to write instead."""
    with pytest.raises(knet.GradientInputError, match="modified in place"):
        knet.value_and_grad(f, mode="tape")(_V)
    assert _V.flags.writeable                        # the caller's arrays are writable again
