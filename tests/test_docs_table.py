"""docs/functions.md is generated from the rule table: it must match a fresh generation."""
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_functions_table_is_up_to_date():
    pytest.importorskip("scipy")          # the table includes SciPy's rules
    result = subprocess.run([sys.executable, "-m", "knetc.docs_table", "--check"], cwd=str(ROOT),
                            env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr + "\n(regenerate it: python -m knetc.docs_table)"


def test_functions_table_lists_every_rule_once():
    pytest.importorskip("scipy")
    from knetc.docs_table import _load_all_rules, rows
    table = _load_all_rules()
    names = [row[0] for row in rows(table)]
    assert len(names) == len(set(names))
    assert {"scipy.stats.norm.logpdf", "scipy.special.logsumexp", "numpy.tanh"} <= set(names)
    text = (ROOT / "docs" / "functions.md").read_text()
    assert "| `scipy.stats.t.cdf` | x, loc, scale (not: df) | df, loc, scale | no |" in text


@pytest.mark.gpu
def test_the_names_marked_gpu_exist_in_cupy():
    cupy = pytest.importorskip("cupy")
    from knetc.docs_table import CUPY_NAMES
    missing = []
    for name in CUPY_NAMES:
        obj = cupy
        for part in name.split("."):
            obj = getattr(obj, part, None)
        if obj is None:
            missing.append(name)
    assert not missing, f"marked GPU in docs/functions.md but not in CuPy: {missing}"
