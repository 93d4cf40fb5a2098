"""Packaging tells the truth: the sdist holds its own tests and examples, the metadata agrees
with itself (Python floor, classifiers, README), and the license is there."""
import pathlib
import re
import tarfile
import tomllib

import pytest

import knetc

ROOT = pathlib.Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]


def test_python_floor_agrees_with_classifiers_and_readme():
    assert PROJECT["requires-python"] == ">=3.11"
    versions = [c.rsplit(":: ", 1)[1] for c in PROJECT["classifiers"]
                if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)]
    assert versions and min(versions, key=lambda v: int(v.split(".")[1])) == "3.11"
    assert "Python 3.11" in (ROOT / "README.md").read_text()


def test_license_is_spdx_with_a_file():
    assert PROJECT["license"] == "MIT" and PROJECT["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert PROJECT["authors"] and PROJECT["classifiers"] and PROJECT["urls"]


def test_declared_floors():
    deps = {re.split(r"[<>=!~ ]", d, maxsplit=1)[0]: d for d in PROJECT["dependencies"]}
    assert deps["gast"].startswith("gast>=0.5.1")       # 0.5.0 has no NamedExpr
    assert deps["numpy"].startswith("numpy>=2.4")      # np.matvec, cond of complex as real, np.dot by keyword: tested floor
    assert knetc.__version__ == PROJECT["version"]


def test_sdist_holds_tests_and_examples(tmp_path):
    setuptools = pytest.importorskip("setuptools")
    if int(setuptools.__version__.split(".")[0]) < 77:
        pytest.skip("building needs setuptools >= 77 (SPDX license expressions)")
    import contextlib
    import io
    import os
    from setuptools import build_meta
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            name = build_meta.build_sdist(str(tmp_path))
    finally:
        os.chdir(cwd)
    with tarfile.open(tmp_path / name) as tar:
        members = {m.split("/", 1)[1] for m in tar.getnames() if "/" in m}
    for path in ("LICENSE", "tests/conftest.py", "tests/fuzz/programs.py", "tests/opinfo/__init__.py",
                 "tests/test_data.py", "examples/mlp.py", "examples/tutorial.ipynb", "examples/README.md",
                 "knetc/data/housing.data", "knetc/data/hiawatha.txt", ".ci/run"):
        assert path in members, path
    assert not [m for m in members if m.endswith(".pyc")]


def test_all_exports_no_internal_modules():
    import types
    modules = {n for n in knetc.__all__ if isinstance(getattr(knetc, n), types.ModuleType)}
    assert modules == {"data", "device", "nn", "train"}
    assert not {"api", "errors", "runtime", "transform"} & set(knetc.__all__)
    assert callable(knetc.show)                      # the function, not the module knetc.show
    assert {"grad", "value_and_grad", "defvjp", "minibatch", "Adam", "show", "FallbackWarning"} <= set(knetc.__all__)
    assert all(hasattr(knetc, n) and not n.startswith("_") for n in knetc.__all__)
    namespace = {}
    exec("from knetc import *", namespace)
    assert "transform" not in namespace and "grad" in namespace


def test_ci_pins_every_declared_floor():
    import importlib.util
    spec = importlib.util.spec_from_file_location("ci_floors", ROOT / ".ci" / "floors.py")
    floors = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(floors)
    extras = floors.ci_extras(ROOT / "pyproject.toml")
    assert extras[0] == "test" and set(extras) <= {"test", "scipy"}
    pins = floors.floors(ROOT / "pyproject.toml", tuple(extras))
    assert "gast==0.5.1" in pins and "numpy==2.4" in pins and "tqdm==4.60" in pins
    assert len(pins) == len(PROJECT["dependencies"]) + sum(
        len(PROJECT["optional-dependencies"][e]) for e in extras)
    ci = (ROOT / ".ci" / "run").read_text()
    assert ".ci/floors.py" in ci and ci.count("pytest -q") == 2     # the suite on newest and on floors
