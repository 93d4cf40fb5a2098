"""The adversarial suite (tests/adversarial): every program, in auto, source and tape mode,
must give the finite-difference gradient or a knetc error naming the user's file:line.

A silently wrong or zero gradient (WRONG), any other exception (cryptic) and an unusable
program (broken: it raises, or sits on a kink) fail the group's test, which lists them all.
``python -m tests.adversarial.report -v`` prints the counts per group and mode.
"""
import os

import pytest

from tests.adversarial import GROUP_MODULES, programs_of
from tests.adversarial.known import OPEN
from tests.adversarial.runner import MODES, run


@pytest.mark.skipif(os.environ.get("KNETC_TESTS_LIGHT") == "1",
                    reason="KNETC_TESTS_LIGHT=1: checked in the full run")
@pytest.mark.parametrize("group", GROUP_MODULES)
def test_adversarial_group(group, tmp_path):
    programs = programs_of(group)
    outcomes = [run(p, mode, str(tmp_path)) for p in programs for mode in MODES
                if (group, p.name, mode) not in OPEN]
    failures = [o for o in outcomes if o.failed]
    assert not failures, (f"{len(failures)} of {len(outcomes)} (program, mode) runs in {group} are "
                          f"silently wrong, cryptic or broken:\n" + "\n".join(o.line() for o in failures))


@pytest.mark.parametrize("key", sorted(OPEN), ids=lambda k: "-".join(k))
def test_known_open_runs_still_fail(key, tmp_path):
    """An open entry that passes is stale: delete it from tests/adversarial/known.py."""
    group, name, mode = key
    (program,) = [p for p in programs_of(group) if p.name == name]
    outcome = run(program, mode, str(tmp_path))
    assert outcome.failed, f"{key} passes now ({outcome.kind}): delete its OPEN entry"


def test_the_suite_is_large_enough():
    names = [(g, p.name) for g in GROUP_MODULES for p in programs_of(g)]
    assert len(names) >= 300, f"only {len(names)} adversarial programs"
    assert len(set(names)) == len(names)
    # every group of issue 11 (g01..g15), the cryptic errors (g16) and the groups beyond,
    # each varied many ways rather than one example
    assert len(GROUP_MODULES) >= 17
    small = {g: len(programs_of(g)) for g in GROUP_MODULES if len(programs_of(g)) < 20}
    assert not small, small


def test_the_runner_tells_right_wrong_loud_and_cryptic_apart(tmp_path):
    """The classifier itself, on programs whose outcome is known whatever knetc does."""
    from tests.adversarial.program import P
    right = P("control", "def f(x):\n    return np.sum(np.sin(x) * C)\n")
    assert run(right, "tape", str(tmp_path)).kind == "right"
    # a primitive whose rule is wrong on purpose: silently wrong in every mode
    wrong = P("wrong_rule", """
        @knet.primitive
        def s(z):
            return np.sin(z)
        knet.defvjp(s, lambda g, ans, z: g * np.cos(z) * 1.01)
        def f(x):
            return np.sum(s(x))
    """)
    assert {run(wrong, m, str(tmp_path)).kind for m in MODES} == {"WRONG"}
    # a rule that raises a plain TypeError: cryptic
    cryptic = P("raising_rule", """
        @knet.primitive
        def s(z):
            return np.sin(z)
        knet.defvjp(s, lambda g, ans, z: g * undefined_name)
        def f(x):
            return np.sum(s(x))
    """)
    assert run(cryptic, "tape", str(tmp_path)).kind == "cryptic"
    # a construct the compiler refuses, with the user's file:line: loud in source mode
    loud = P("refused", "def f(x):\n    try:\n        return np.sum(np.sin(x))\n    finally:\n        pass\n")
    assert run(loud, "source", str(tmp_path)).kind == "loud"
    # a program next to a kink is the program's fault (exactly at a symmetric kink both
    # steps agree on the average slope, so the point is 3e-6 away)
    kink = P("kink", "def f(x):\n    return np.sum(np.abs(x))\n", args="(np.array([3e-6, 1.0, 2.0]),)")
    assert run(kink, "tape", str(tmp_path)).kind == "broken"


def test_the_mutation_pass_runs_and_kills():
    """tests/adversarial/mutation.py (the rule-table mutation pass) still works: the first
    mutants of numpy_rules.py are generated, loaded and mostly killed."""
    from tests.adversarial import mutation
    killed, survived = mutation.run(limit=12)
    assert len(killed) + len(survived) == 12
    assert len(killed) >= 9, survived
