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
