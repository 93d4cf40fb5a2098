"""The adversarial suite (tests/adversarial): every program, in auto, source and tape mode,
must give the finite-difference gradient or a knetc error naming the user's file:line.

A silently wrong or zero gradient (WRONG), any other exception (cryptic) and an unusable
program (broken: it raises, or sits on a kink) fail the group's test, which lists them all.
``python -m tests.adversarial.report -v`` prints the counts per group and mode.
"""
import pytest

from tests.adversarial import GROUP_MODULES, programs_of
from tests.adversarial.runner import MODES, run


@pytest.mark.parametrize("group", GROUP_MODULES)
def test_adversarial_group(group, tmp_path):
    programs = programs_of(group)
    outcomes = [run(p, mode, str(tmp_path)) for p in programs for mode in MODES]
    failures = [o for o in outcomes if o.failed]
    assert not failures, (f"{len(failures)} of {len(outcomes)} (program, mode) runs in {group} are "
                          f"silently wrong, cryptic or broken:\n" + "\n".join(o.line() for o in failures))


def test_the_suite_is_large_enough():
    names = [(g, p.name) for g in GROUP_MODULES for p in programs_of(g)]
    assert len(names) >= 300, f"only {len(names)} adversarial programs"
    assert len(set(names)) == len(names)


def test_the_mutation_pass_runs_and_kills():
    """tests/adversarial/mutation.py (the rule-table mutation pass) still works: the first
    mutants of numpy_rules.py are generated, loaded and mostly killed."""
    from tests.adversarial import mutation
    killed, survived = mutation.run(limit=12)
    assert len(killed) + len(survived) == 12
    assert len(killed) >= 9, survived
