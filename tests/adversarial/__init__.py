"""The adversarial suite: small programs written to get a wrong gradient out of knetc.

Each ``g*.py`` module holds one group of issue 11 (or beyond it) as ``PROGRAMS``, a list of
:class:`~tests.adversarial.program.Program`; :mod:`tests.adversarial.runner` runs one in a
mode and classifies the outcome; ``tests/test_adversarial.py`` fails on any silently wrong
gradient or cryptic error; ``python -m tests.adversarial.report`` prints the counts.
"""
import importlib
import pkgutil

GROUP_MODULES = sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name.startswith("g"))


def programs_of(module_name):
    """The programs of one group module, each tagged with the group's title."""
    module = importlib.import_module(f"{__name__}.{module_name}")
    for p in module.PROGRAMS:
        p.group = module_name
    names = [p.name for p in module.PROGRAMS]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ValueError(f"{module_name}: duplicate program names {sorted(duplicates)}")
    return module.PROGRAMS


def all_programs():
    return [p for m in GROUP_MODULES for p in programs_of(m)]
