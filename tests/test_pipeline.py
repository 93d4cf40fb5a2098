"""The compiler's pipeline of passes: its stages, their dump, and the record it fills."""
import io
import subprocess
import sys
from pathlib import Path

import numpy as np

import knetc as knet
from knetc.testing import numeric_grad
from knetc.transform import pipeline
from knetc.transform.unit import Unit

ROOT = Path(__file__).resolve().parents[1]
STAGES = ["parse", "jumps", "lower", "kinds", "containers", "fence", "dict loops", "list snapshots",
          "activity", "traced callees", "replaced elements", "emit", "assemble", "compile"]
MODEL = '''import numpy as np

def loss(w, x):
    h = np.tanh(w @ x)
    if np.sum(h) > 0:
        return np.sum(h * h)
    return np.sum(h)
'''


def loss(w, x):
    h = np.tanh(w @ x)
    if np.sum(h) > 0:
        return np.sum(h * h)
    return np.sum(h)


def _headings(text):
    return [line[3:-3] for line in text.splitlines() if line.startswith("== ") and line.endswith(" ==")]


def test_stages_appear_in_pipeline_order():
    w, x = np.ones((2, 3)) * 0.1, np.ones(3)
    text = pipeline.stages(loss, (True, False), [w, x])
    assert _headings(text) == STAGES
    assert [name for name, _ in pipeline.FRONT_END] == STAGES[:10]
    assert [name for name, _ in pipeline.REVERSE_ONLY] == STAGES[10:11]


def test_stage_dump_shows_the_lowered_statements():
    w, x = np.ones((2, 3)) * 0.1, np.ones(3)
    text = pipeline.stages(loss, (True, False), [w, x])
    lowered = text.split("== lower ==\n")[1].split("\n== ")[0]
    # one operation per statement: w @ x gets its own temporary, with the user's line
    assert "= w @ x    [Op]" in lowered
    line = next(ln for ln in lowered.splitlines() if "w @ x" in ln)
    assert line.rstrip().endswith(f"# line {loss.__code__.co_firstlineno + 1}")
    # the jump pass turned the early return into a flag test
    assert "return" not in text.split("== jumps ==\n")[1].split("\n== ")[0]
    activity = text.split("== activity ==\n")[1].split("\n== ")[0]
    assert "differentiated (*):" in activity and "w" in activity.splitlines()[-1]
    assert text.split("== assemble ==\n")[1].startswith("def loss_vjp(w, x):")


def test_front_end_fills_a_plain_record():
    unit = Unit(loss, (True, False), [np.ones((2, 3)), np.ones(3)])
    assert unit.body is None and unit.differentiated is None          # constructing it does no work
    unit = pipeline.front_end(loss, (True, False), [np.ones((2, 3)), np.ones(3)])
    assert unit.params == ["w", "x"] and unit.active_params == ["w"]
    assert "w" in unit.differentiated and "x" not in unit.differentiated
    assert unit.kinds.of("w") == "array"


def test_compiled_gradient_from_the_pipeline_is_right():
    rng = np.random.default_rng(0)
    w, x = rng.standard_normal((2, 3)), rng.standard_normal(3)
    compiled = pipeline.compile_vjp(loss, (True, False), [w, x])
    value, pullback = compiled.fn(w, x)
    np.testing.assert_allclose(value, loss(w, x))
    np.testing.assert_allclose(pullback(1.0)[0], numeric_grad(loss, (w, x)), rtol=1e-6, atol=1e-8)


def test_show_stages_prints_every_stage():
    out = io.StringIO()
    knet.show(knet.grad(loss), file=out, stages=True)
    assert _headings(out.getvalue()) == STAGES


def test_verbose_2_prints_the_stages(capsys):
    g = knet.grad(loss, verbose=2)
    w, x = np.ones((2, 3)) * 0.1, np.ones(3)
    g(w, x)
    out = capsys.readouterr().out
    assert _headings(out) == STAGES
    assert "compiled the gradient of loss" in out
    g(w, x)      # printed once per compile
    assert capsys.readouterr().out == ""


def test_verbose_1_prints_no_stages(capsys):
    knet.grad(loss, verbose=True)(np.ones((2, 3)), np.ones(3))
    out = capsys.readouterr().out
    assert "compiled the gradient of loss" in out and "== lower ==" not in out


def test_cli_show_stages(tmp_path):
    model = tmp_path / "model.py"
    model.write_text(MODEL)
    out = subprocess.run([sys.executable, "-m", "knetc", "show", f"{model}:loss", "--stages"],
                         capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert _headings(out) == STAGES
    assert "= w @ x    [Op]" in out


def test_one_runtime_table_for_both_modes():
    from knetc.transform import support
    assert support.RUNTIME["call_vjp"].__module__ == "knetc.transform.dispatch"
    assert support.RUNTIME["call_jvp"].__module__ == "knetc.transform.forward_calls"
    # the unit's helper names map to the table; the emitter's own names (the stack) are left out
    assert support.runtime_objects({"zeros_like": "zeros_like_2", "_stack": "_stack"}) == {
        "zeros_like_2": support.RUNTIME["zeros_like"]}


def test_traceback_map_is_bounded(monkeypatch):
    import linecache
    from knetc.transform import tracebacks
    monkeypatch.setattr(tracebacks, "LIMIT", 3)
    monkeypatch.setattr(tracebacks, "GENERATED", tracebacks._Generated())
    names = [f"<knetc bounded {i}>" for i in range(5)]
    for i in range(3):
        tracebacks.register(names[i], f"x = {i}\n", object())
    assert tracebacks.compiled_of(names[0]) is not None     # used last: kept over names[1]
    tracebacks.register(names[3], "x = 3\n", object())
    assert len(tracebacks.GENERATED) == 3
    assert tracebacks.compiled_of(names[0]) is not None
    assert tracebacks.compiled_of(names[1]) is None and names[1] not in linecache.cache
    tracebacks.register(names[4], "x = 4\n", object())
    assert tracebacks.compiled_of(names[2]) is None and len(tracebacks.GENERATED) == 3
    assert linecache.getline(names[4], 1) == "x = 4\n"
    for name in names:
        linecache.cache.pop(name, None)
