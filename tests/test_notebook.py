"""The tutorial notebook runs headless and shows what it promises."""
from pathlib import Path

import os

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "tutorial.ipynb"


def _outputs(cell):
    texts, kinds = [], set()
    for out in cell.get("outputs", []):
        if "text" in out:
            texts.append(out["text"])
        for kind, value in out.get("data", {}).items():
            kinds.add(kind)
            if kind in ("text/plain", "text/markdown"):
                texts.append(value)
    return "\n".join(texts), kinds


@pytest.fixture(autouse=True)
def _kernel_imports_this_checkout(monkeypatch):
    """The kernel is a new process: make it import the knetc of this checkout."""
    root = str(NOTEBOOK.parents[1])
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))


@pytest.mark.slow
def test_tutorial_notebook_executes():
    from knetc import data
    if data.find_mnist() is None:
        pytest.skip("MNIST not found locally (KNETC_DATA, the cache or ../shared/data)")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    housing, _ = _outputs(code[1])
    first, last = [float(v) for v in housing.split("loss ")[1].split(" -> ")]
    assert first > 300 and last < 40                       # the tutorial's 366 -> 30, with our seed
    _, plot_kinds = _outputs(code[2])
    assert "image/png" in plot_kinds                        # the loss curve was drawn
    shown, kinds = _outputs(code[3])
    assert "text/markdown" in kinds
    assert "mode: source" in shown and "def loss_vjp(w, x, y):" in shown and "def predict_vjp(w, x):" in shown
    html = next(o["data"]["text/html"] for o in code[3]["outputs"] if "text/html" in o.get("data", {}))
    assert '<pre style="font-family: ui-monospace' in html   # monospace in any HTML export
    mnist, _ = _outputs(code[4])
    accuracy = float(mnist.rsplit(":", 1)[1])
    assert accuracy > 0.85
    source, _ = _outputs(code[5])
    assert "# Grad of: x = np.maximum(0, w[i] @ x + w[i + 1])" in source
    hessian, _ = _outputs(code[6])                          # a Hessian, compiled, against finite differences
    assert "mode: source" in hessian
    assert float(hessian.rsplit(":", 1)[1]) < 1e-6


def test_cells_redefining_functions_recompile():
    """A helper redefined in a later cell is used at once; a re-run loss cell recompiles."""
    nb = nbformat.v4.new_notebook()
    cells = [
        "import numpy as np\nimport knetc as knet\nx = np.array([1.0, 2.0])",
        "def predict(w, x):\n    return w * x",
        "def loss(w, x):\n    return np.sum(predict(w, x))\ng = knet.grad(loss)\nprint(g(np.ones(2), x))",
        "def predict(w, x):\n    return w * x * 3",
        "print(g(np.ones(2), x))",
        "def loss(w, x):\n    return np.sum(predict(w, x) ** 2)\ng = knet.grad(loss)\nprint(g(np.ones(2), x), g.mode)",
    ]
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    printed = [_outputs(c)[0].strip() for c in nb.cells]
    assert printed[2] == "[1. 2.]"
    assert printed[4] == "[3. 6.]"                  # the new predict, no stale compiled helper
    assert printed[5] == "[18. 72.] source"        # d/dw sum((3wx)^2) = 18 w x^2
