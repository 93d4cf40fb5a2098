"""knetc.arguments: one message per error for wrt, the scalar check and the seed, whichever entry reaches it."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import knetc as knet
from knetc.arguments import scalar_value, seed, wrt_indices

ROOT = Path(__file__).resolve().parents[1]


def loss(w, x):
    return np.sum(w * x)


def test_wrt_indices():
    assert wrt_indices(0, 2, "loss") == (0,)
    assert wrt_indices(-1, 2, "loss") == (1,)
    assert wrt_indices((1, 0), 2, "loss") == (1, 0)
    assert wrt_indices(np.int64(1), 2, "loss") == (1,)
    assert wrt_indices(0, 3, "method", skip=1) == (1,)      # after a bound instance


@pytest.mark.parametrize("wrt", ["w", 1.0, True, (0, "x")])
def test_wrt_of_the_wrong_type(wrt):
    bad = wrt[1] if isinstance(wrt, tuple) else wrt
    message = f"knetc: wrt must be an argument index (an int) or a tuple of them, not {type(bad).__name__} {bad!r}"
    with pytest.raises(knet.GradientInputError) as e:
        wrt_indices(wrt, 2, "loss")
    assert str(e.value) == message
    with pytest.raises(knet.GradientInputError) as e:     # the same message from knet.grad
        knet.grad(loss, wrt=wrt)(np.ones(2), np.ones(2))
    assert str(e.value) == message


@pytest.mark.parametrize("wrt", [2, -3, (0, 5)])
def test_wrt_out_of_range(wrt, tmp_path):
    message = f"knetc: wrt={wrt!r} is out of range: loss takes 2 argument(s)"
    with pytest.raises(knet.GradientInputError) as e:
        wrt_indices(wrt, 2, "loss")
    assert str(e.value) == message
    with pytest.raises(knet.GradientInputError) as e:
        knet.grad(loss, wrt=wrt)(np.ones(2), np.ones(2))
    assert str(e.value) == message
    with pytest.raises(knet.GradientInputError) as e:     # knet.show, without a call
        knet.show(knet.grad(loss, wrt=wrt), file=None)
    assert str(e.value) == message


def test_wrt_out_of_range_on_the_command_line(tmp_path):
    model = tmp_path / "model.py"
    model.write_text("import numpy as np\ndef loss(w, x):\n    return np.sum(w * x)\n")
    r = subprocess.run([sys.executable, "-m", "knetc", "show", f"{model}:loss", "--wrt", "2"],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and "wrt=2 is out of range: loss takes 2 argument(s)" in r.stderr


@pytest.mark.parametrize("ans, message", [
    (np.ones(3), "knetc: loss returned an array of shape (3,), expected a scalar (a float or an array with one element)"),
    (np.array([1, 2])[:1], "knetc: loss returned a value of dtype int64, expected a float"),
    ("a", "knetc: loss returned str, expected a scalar float"),
    (True, "knetc: loss returned bool, expected a scalar float"),
])
def test_result_that_is_not_a_scalar(ans, message):
    with pytest.raises(knet.GradientInputError) as e:
        scalar_value(ans, "loss")
    assert str(e.value) == message


def test_the_compiled_path_gives_the_same_scalar_message():
    def vector(w):
        return w * 2.0
    with pytest.raises(knet.GradientInputError) as e:
        knet.grad(vector, mode="source")(np.ones(3))
    assert str(e.value) == ("knetc: vector returned an array of shape (3,), expected a scalar "
                            "(a float or an array with one element)")


def test_scalars_pass_and_seed_keeps_the_float_type():
    assert scalar_value(2.5, "loss") == 2.5
    assert scalar_value(np.array([[2.5]]), "loss") == 2.5
    assert scalar_value(3, "loss") == 3
    assert type(seed(np.float32(2.0))) is np.float32 and seed(np.float32(2.0)) == 1
    assert seed(np.array(2.0, dtype=np.float32)).dtype == np.float32
    one = seed(np.array([2.0]))
    assert one.shape == (1,) and one[0] == 1.0
    assert seed(3) == 1.0
    g = knet.grad(lambda w: np.sum(w * w))(np.ones(2, dtype=np.float32))
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, [2.0, 2.0])
