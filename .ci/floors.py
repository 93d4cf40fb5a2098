"""Print the declared minimum versions as pins (``name==floor``), one a line.

Reads ``[project] dependencies`` and the extras CI tests (``test``, and ``scipy``
when pyproject.toml defines it) or the extras named on the command line; every
requirement must declare a floor (``>=``), so none can go untested.
``python .ci/floors.py --extras`` prints those extras for pip (``test,scipy``).
"""
import pathlib
import re
import sys
import tomllib

# the extras CI installs and tests, those of them that pyproject.toml defines (not gpu, bench)
CI_EXTRAS = ("test", "scipy")


def floors(pyproject, extras=("test",)):
    """``name==version`` for every ``name>=version`` of the dependencies and ``extras``."""
    project = tomllib.loads(pathlib.Path(pyproject).read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in extras:
        requirements += project.get("optional-dependencies", {}).get(extra, [])
    pins = []
    for req in requirements:
        m = re.match(r"^\s*([A-Za-z0-9_.\-\[\]]+)\s*(?:[^;]*?)>=\s*([0-9][^,;\s]*)", req)
        if m is None:
            raise SystemExit(f".ci/floors.py: {req!r} declares no minimum version (>=)")
        pins.append(f"{m.group(1)}=={m.group(2)}")
    return pins


def ci_extras(pyproject):
    """The extras CI tests: CI_EXTRAS that pyproject.toml defines."""
    defined = tomllib.loads(pathlib.Path(pyproject).read_text())["project"].get("optional-dependencies", {})
    return [e for e in CI_EXTRAS if e in defined]


if __name__ == "__main__":
    root = pathlib.Path(__file__).resolve().parents[1]
    if sys.argv[1:] == ["--extras"]:         # for pip: test or test,scipy
        print(",".join(ci_extras(root / "pyproject.toml")))
    else:
        extras = tuple(sys.argv[1:]) or tuple(ci_extras(root / "pyproject.toml"))
        print("\n".join(floors(root / "pyproject.toml", extras)))
