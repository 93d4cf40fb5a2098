"""Run each example's --quick mode (imported, main(argv)) and check that it learns."""
import importlib.util
import pathlib

import pytest

from knetc import data

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"

# the examples find MNIST as a user's run does (no environment variables needed)
needs_mnist = pytest.mark.skipif(data.find_mnist() is None,
                                 reason="MNIST not found locally (KNETC_DATA, the cache or ../shared/data)")


def run_example(name, *argv):
    knetc = pytest.importorskip("knetc")
    if not hasattr(knetc, "grad"):
        pytest.skip("knetc.grad is not available")
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main(["--quick", *argv])


def test_housing(capsys):
    r = run_example("housing", "--show-gradient")
    losses = r["losses"]
    assert len(losses) == 11
    assert all(b < a for a, b in zip(losses, losses[1:]))  # falls at every step
    assert losses[0] > 300 and losses[-1] < 40
    out = capsys.readouterr().out
    assert "step 10" in out and "def " in out  # the gradient source was printed


@needs_mnist
def test_softmax():
    r = run_example("softmax")
    assert r["losses"][-1] < r["losses"][0] / 3
    assert r["accuracy"] > 0.8


@needs_mnist
def test_mlp():
    r = run_example("mlp")
    assert r["losses"][-1] < r["losses"][0] / 3
    assert r["accuracy"] > 0.8


@needs_mnist
def test_lenet():
    r = run_example("lenet")
    assert r["losses"][-1] < r["losses"][0] / 2
    assert r["accuracy"] > 0.7  # chance is 0.1


def test_charlm():
    r = run_example("charlm", "--generate", "20")
    first, *epochs = r["losses"]
    assert first > 4.0  # about log(84) untrained
    assert epochs[-1] < first - 0.8
    assert all(b < a for a, b in zip(epochs, epochs[1:]))  # falls each epoch
    assert len(r["sample"]) == 20


def _figures_module():
    spec = importlib.util.spec_from_file_location("example_figures", EXAMPLES / "figures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_figures_are_the_recorded_runs():
    """examples/README.md's table is rendered from figures.json by examples/figures.py."""
    figures = _figures_module()
    records = figures.load_records()
    assert records, "no recorded runs: python examples/figures.py"
    known = {figures.command(s, a) for s, a in figures.QUICK + figures.FULL}
    for r in records:
        assert r["command"] in known
        assert r["quick"] == ("--quick" in r["command"])
        assert r["machine"] and r["date"] and r["commit"]
    text = (EXAMPLES / "README.md").read_text()
    assert figures.render(records) in text, "the table is stale: python examples/figures.py --table"


def test_figures_summaries_of_a_run():
    figures = _figures_module()
    r = {"losses": [591.3, 367.3, 29.71], "time": 0.1}
    assert figures.summarize("housing.py", r) == "loss 591.3 at the start, 367.3 after step 1, 29.71 after step 2"
    r = {"losses": [5.8, 4.367], "time": 1.0}
    assert figures.summarize("charlm.py", r).startswith("mean training loss per character by epoch: 4.367")
