"""The README's examples run as written."""
import pathlib
import re
import runpy
import warnings

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _block_after(heading):
    text = (ROOT / "README.md").read_text()
    section = text[text.index(heading):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def _run(code, tmp_path):
    """Run ``code`` from a file (the compiler reads the source of what it compiles)."""
    script = tmp_path / "readme_example.py"
    script.write_text(code)
    with warnings.catch_warnings():
        warnings.simplefilter("error")       # no fallback, no other warning
        return runpy.run_path(str(script))


def test_readme_testing_example_runs(tmp_path):
    code = _block_after("## Testing your own rules")
    assert "check_vjp(" in code and "numeric_grad(" in code and "assert_tree_allclose(" in code
    _run(code, tmp_path)


def test_readme_first_example_runs(tmp_path, capsys):
    namespace = _run(_block_after("# knetc"), tmp_path)
    assert [d.shape for d in namespace["dw"]] == [(1, 13), (1, 1)]
    assert namespace["lossgradient"].mode == "source"
    assert "def lossgradient_vjp(w, x, y):" in capsys.readouterr().out
