"""Print the declared minimum versions as pins (``name==floor``), one a line.

Reads ``[project] dependencies`` and the ``test`` extra of pyproject.toml; every
requirement must declare a floor (``>=``), so none can go untested.
"""
import pathlib
import re
import sys
import tomllib


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


if __name__ == "__main__":
    root = pathlib.Path(__file__).resolve().parents[1]
    print("\n".join(floors(root / "pyproject.toml", tuple(sys.argv[1:]) or ("test",))))
