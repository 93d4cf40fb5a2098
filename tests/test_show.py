"""Inspection: knet.show and ``python -m knetc show``."""
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

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


STATE_MODEL = '''import numpy as np
import knetc as knet

def loss(w, s, x):
    s[0] = np.tanh(w @ x + s[0])
    return np.sum(s[0] ** 2)

lossgradient = knet.grad(loss)
W, S, X = np.eye(2) * 0.5, [np.zeros(2)], np.array([0.3, -0.2])

def helper(w):
    return sum(v * v for v in w)

def mixed(w):
    return helper(w) + np.sum(w)
'''


def _cli(*argv, cwd=ROOT, check=True):
    return subprocess.run([sys.executable, "-m", "knetc", *argv], capture_output=True, text=True,
                          cwd=cwd, check=check)


def test_mode_agrees_with_a_real_call(tmp_path):
    model = tmp_path / "state.py"
    model.write_text(STATE_MODEL)
    generic = _cli("show", "--mode", f"{model}:loss").stdout
    # without arguments the compiler cannot know that s is a list: it says so, it does not guess
    assert generic.startswith("undetermined without arguments: item assignment into 's'")
    assert "--args" in generic
    real = _cli("show", "--mode", f"{model}:loss", "--args", "W, S, X").stdout
    assert real.startswith("source:")
    # the same answer as g.mode after a real call
    import importlib.util
    spec = importlib.util.spec_from_file_location("state_model", model)
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    m.lossgradient(m.W, m.S, m.X)
    assert m.lossgradient.mode == "source"
    code = _cli("show", f"{model}:loss", "--args", "W, S, X").stdout
    assert code.startswith("def loss_vjp(w, s, x):")


def test_mode_mixed_names_the_taped_helper(tmp_path):
    model = tmp_path / "state.py"
    model.write_text(STATE_MODEL)
    out = _cli("show", "--mode", f"{model}:mixed").stdout
    assert out.startswith("mixed: helper runs on the tape: a generator expression")
    real = _cli("show", "--mode", f"{model}:mixed", "--args", "np.ones(3)").stdout
    assert real.startswith("mixed: ") and "helper runs on the tape" in real


def test_wrt_out_of_range_is_an_error(tmp_path):
    model = tmp_path / "model.py"
    model.write_text(MODEL)
    r = _cli("show", "--wrt", "5", f"{model}:loss", check=False)
    assert r.returncode == 2 and r.stdout == ""
    assert "wrt=5 is out of range: loss takes 3 argument(s)" in r.stderr
    r = _cli("show", "--mode", "--wrt", "-4", f"{model}:loss", check=False)
    assert r.returncode == 2 and "out of range" in r.stderr
    two = _cli("show", "--wrt", "0,2", f"{model}:loss").stdout
    assert two.startswith("def loss_vjp(w, x, y):") and "return (dw, None, dy)" in two


def test_show_a_gradient_object(tmp_path):
    model = tmp_path / "state.py"
    model.write_text(STATE_MODEL.replace("knet.grad(loss)", "knet.grad(loss, wrt=2)"))
    out = _cli("show", f"{model}:lossgradient", "--args", "W, S, X").stdout
    assert out.startswith("def loss_vjp(w, s, x):") and "dx" in out
    mode = _cli("show", "--mode", f"{model}:lossgradient", "--args", "W, S, X").stdout
    assert mode.startswith("source:")
    g = knet.grad(lambda w, x: np.sum(w * x), wrt=1)
    buf = io.StringIO()
    knet.show(g, file=buf)            # never called: a generic compile of its function and wrt
    assert "dx = " in buf.getvalue()
    with pytest.raises(knet.GradientInputError, match="not a Python function"):
        knet.show(knet.grad(np.sum))


def test_help_names_the_program_and_has_no_rst(monkeypatch, capsys):
    from knetc.__main__ import main
    for argv0, prog in (("/usr/local/bin/knetc", "knetc"), ("/x/knetc/__main__.py", "python -m knetc")):
        monkeypatch.setattr(sys, "argv", [argv0])
        with pytest.raises(SystemExit) as done:
            main(["--help"])
        assert done.value.code == 0
        text = capsys.readouterr().out
        assert text.startswith(f"usage: {prog} ") and f"{prog} show model.py:loss" in text
        assert "``" not in text
    out = _cli("--version").stdout
    assert out.strip() == f"python -m knetc {knet.__version__}"


def test_html_display_is_monospace_without_a_stylesheet():
    def f(x):
        return np.sum(np.tanh(x))
    g = knet.grad(f)
    g(np.ones(3))
    html = g._repr_html_()
    assert "mode: source" in html and "tanh" in html
    # the <pre> holding the code carries its own monospace font, as does the fallback without pygments
    assert '<pre style="font-family: ui-monospace' in html and "monospace;" in html
    from knetc.highlight import html_block
    import builtins
    real_import = builtins.__import__

    def no_pygments(name, *args, **kwargs):
        if name.startswith("pygments"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)
    builtins.__import__ = no_pygments
    try:
        plain = html_block("header", "x = 1 < 2\n")
    finally:
        builtins.__import__ = real_import
    assert plain.count('<pre style="font-family: ui-monospace') == 1 and "x = 1 &lt; 2" in plain
