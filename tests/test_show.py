"""Inspection: knet.show and ``python -m knetc show``."""
import io
import subprocess
import sys
from pathlib import Path

import numpy as np

import knetc as knet

ROOT = Path(__file__).resolve().parents[1]
MODEL = '''import numpy as np

def loss(w, x, y):
    for i in range(0, len(w) - 2, 2):
        x = np.maximum(0, w[i] @ x + w[i + 1])
    return np.sum((w[-2] @ x + w[-1] - y) ** 2)

def odd(w):
    return sum(v * v for v in w)
'''


def test_cli_show_and_mode(tmp_path):
    model = tmp_path / "model.py"
    model.write_text(MODEL)
    out = subprocess.run([sys.executable, "-m", "knetc", "show", f"{model}:loss"],
                         capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert out.startswith("def loss_vjp(w, x, y):")
    assert "# Grad of: x = np.maximum(0, w[i] @ x + w[i + 1])" in out
    mode = subprocess.run([sys.executable, "-m", "knetc", "show", "--mode", f"{model}:odd"],
                          capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert mode.startswith("tape: a generator expression is not supported by the compiler")
    assert "model.py:9" in mode


def test_show_prints_latest_source():
    def f(x):
        return np.sum(np.tanh(x))
    g = knet.grad(f)
    g(np.ones(3))
    buf = io.StringIO()
    knet.show(g, file=buf)
    assert buf.getvalue() == g.source
    assert "dx = " in g.source and "(1 - " in g.source
