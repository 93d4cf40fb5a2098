"""The compiled definition is the function's own, or the function is not compiled.

The parsed definition must compile to the function's code object (bytecode,
constants, names, positions); ``__wrapped__`` is never followed; a module
edited on disk after it was imported runs on the tape, with that reason.
"""
import functools
import importlib
import linecache
import warnings

import numpy as np
import pytest

import knetc as knet
from knetc.transform.source import get_function_source
from guard_helpers import X, assert_grad, run_cell

sq, wave = (lambda x: np.sum(x ** 2)), (lambda x: np.sum(np.sin(x)))
same_args_a, same_args_b, same_args_c = lambda x: np.sum(x * 2.0), lambda x: np.sum(x * 3.0), lambda x: np.sum(x ** 3)


def test_lambdas_on_one_line_are_told_apart_by_column():
    assert_grad(sq, expect=2 * X, compiled="source")
    assert_grad(wave, expect=np.cos(X), compiled="source")
    assert_grad(same_args_b, expect=np.full(3, 3.0), compiled="source")
    assert_grad(same_args_c, expect=3 * X ** 2, compiled="source")
    assert_grad(same_args_a, expect=np.full(3, 2.0), compiled="source")


def test_lambdas_of_a_factory_on_one_line():
    def make(a):
        return (lambda x: np.sum(x * a)), (lambda x: np.sum(np.sin(x) * a))
    f, g = make(2.0)
    assert_grad(g, expect=2.0 * np.cos(X), compiled="source")
    assert_grad(f, expect=np.full(3, 2.0), compiled="source")


def test_lambdas_in_a_notebook_cell():
    ns = run_cell({"np": np}, "p, q = (lambda x: np.sum(x * x)), (lambda x: np.sum(x * x * x))\n")
    assert_grad(ns["q"], expect=3 * X ** 2, compiled="source")
    assert_grad(ns["p"], expect=2 * X, compiled="source")


def doubling(fn):
    @functools.wraps(fn)
    def wrapper(x):
        return fn(x) * 2.0
    return wrapper


@doubling
def doubled(x):
    return np.sum(x ** 2)


def doubling_varargs(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs) * 2.0
    return wrapper


@doubling_varargs
def doubled_varargs(x):
    return np.sum(np.sin(x))


def test_functools_wraps_is_not_followed():
    assert doubled.__wrapped__ is not None
    assert_grad(doubled, expect=4 * X)
    src = get_function_source(doubled)
    assert src.node.name == "wrapper"


def test_functools_wraps_with_varargs_runs_on_the_tape():
    assert_grad(doubled_varargs, expect=2 * np.cos(X), modes=("auto", "tape"))
    with pytest.raises(knet.UnsupportedError, match=r"\*args or \*\*kwargs"):
        knet.grad(doubled_varargs, mode="source")(X)


def test_wrapped_attribute_set_by_hand_is_ignored():
    def real(x):
        return np.sum(x ** 3)

    def liar(x):
        return np.sum(x ** 2)
    liar.__wrapped__ = real
    assert_grad(liar, expect=2 * X)


def registering(fn):        # a decorator that returns the function itself
    return fn


@registering
def registered(x):
    return np.sum(np.exp(x))


def test_decorated_function_is_its_own_definition():
    assert_grad(registered, expect=np.exp(X), compiled="source")


def test_module_edited_on_disk_after_import(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    mod = tmp_path / "knetc_edited_module.py"
    mod.write_text("import numpy as np\n\ndef f(x):\n    return np.sum(x * x)\n")
    m = importlib.import_module("knetc_edited_module")
    mod.write_text("import numpy as np\n\ndef f(x):\n    return np.sum(x * x * x)\n")   # not reloaded
    linecache.checkcache(str(mod))
    with pytest.warns(knet.FallbackWarning, match="does not compile to the running code"):
        g = knet.grad(m.f)
        np.testing.assert_allclose(g(X), 2 * X)       # what runs: x * x
    assert g.mode == "tape"
    with pytest.raises(knet.UnsupportedError, match="does not compile to the running code"):
        knet.grad(m.f, mode="source")(X)
    np.testing.assert_allclose(knet.grad(m.f, mode="tape")(X), 2 * X)


def test_module_edited_elsewhere_in_the_file_still_compiles(tmp_path, monkeypatch):
    """Only the function's own definition matters: an edit above it moves it, an edit below does not."""
    monkeypatch.syspath_prepend(str(tmp_path))
    mod = tmp_path / "knetc_edited_below.py"
    mod.write_text("import numpy as np\n\ndef f(x):\n    return np.sum(x * x)\n")
    m = importlib.import_module("knetc_edited_below")
    mod.write_text("import numpy as np\n\ndef f(x):\n    return np.sum(x * x)\n\ndef g(x):\n    return x\n")
    linecache.checkcache(str(mod))
    assert_grad(m.f, expect=2 * X, compiled="source")


def test_cell_source_replaced_in_linecache():
    ns = run_cell({"np": np}, "def f(x):\n    return np.sum(x * x)\n")
    name = ns["f"].__code__.co_filename
    text = "def f(x):\n    return np.sum(x * x * x)\n"
    linecache.cache[name] = (len(text), None, text.splitlines(True), name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", knet.FallbackWarning)
        np.testing.assert_allclose(knet.grad(ns["f"])(X), 2 * X)
    with pytest.raises(knet.UnsupportedError, match="does not compile"):
        knet.grad(ns["f"], mode="source")(X)


def test_function_without_source_runs_on_the_tape():
    ns = {"np": np}
    exec(compile("def f(x):\n    return np.sum(np.sin(x))\n", "<no source here>", "exec"), ns)
    assert_grad(ns["f"], expect=np.cos(X), modes=("auto", "tape"))
    with pytest.raises(knet.UnsupportedError):
        knet.grad(ns["f"], mode="source")(X)


def test_two_definitions_of_one_name_in_a_file():
    ns = run_cell({"np": np}, "def f(x):\n    return np.sum(x * 2.0)\nfirst = f\n"
                              "def f(x):\n    return np.sum(x * 5.0)\n")
    assert_grad(ns["first"], expect=np.full(3, 2.0), compiled="source")
    assert_grad(ns["f"], expect=np.full(3, 5.0), compiled="source")


class Private:
    def __init__(self):
        self.__scale = 3.0

    def loss(self, x):
        return np.sum(x * x) * self.__scale


def test_method_with_a_mangled_name_is_identified():
    assert get_function_source(Private.loss).node.name == "loss"
    assert_grad(Private().loss, expect=6 * X)


def test_nested_function_without_closure():
    def outer():
        def inner(x):
            return np.sum(np.tanh(x))
        return inner
    assert_grad(outer(), expect=1 - np.tanh(X) ** 2, compiled="source")


def test_future_annotations_module():
    ns = run_cell({"np": np}, "from __future__ import annotations\n"
                              "def f(x: np.ndarray) -> float:\n    return np.sum(x ** 2)\n")
    assert_grad(ns["f"], expect=2 * X, compiled="source")


def test_definition_inside_if_at_module_level():
    ns = run_cell({"np": np}, "if True:\n    def f(x):\n        return np.sum(np.cos(x))\n")
    assert_grad(ns["f"], expect=-np.sin(X), compiled="source")


nested_on_one_line = (lambda k: (lambda x: np.sum(np.sin(x) * k)))(3.0)


def test_inner_lambda_on_the_line_of_its_enclosing_lambda():
    assert get_function_source(nested_on_one_line).node.args.args[0].id == "x"
    assert_grad(nested_on_one_line, expect=3.0 * np.cos(X))


def test_generator_function_is_refused_by_name():
    def gen(z):
        for k in range(2):
            yield z * (k + 1)

    def f(x):
        t = 0.0
        for v in gen(x):
            t = t + np.sum(v * x)
        return t
    assert_grad(f, expect=6 * X, modes=("tape",))
    for mode in ("auto", "source"):       # the generator is a local name: known when called
        with pytest.raises(knet.UnsupportedError, match="generator or async function '?gen"):
            knet.grad(f, mode=mode)(X)
    ns = run_cell({"np": np}, "def gen(z):\n    yield z\n    yield z * 2.0\n"
                              "def f(x):\n    t = 0.0\n    for v in gen(x):\n        t = t + np.sum(v * x)\n"
                              "    return t\n")
    assert_grad(ns["f"], expect=6 * X, modes=("auto", "tape"))       # a global: refused when compiling
    with pytest.raises(knet.UnsupportedError, match="generator or async function '?gen"):
        knet.grad(ns["f"], mode="source")(X)


def test_two_vjps_of_one_rule_on_one_indented_line():
    ns = run_cell({"np": np, "knet": knet},
                  "if True:\n"
                  "        mul = knet.primitive(lambda x, y: x * y)\n"
                  "        knet.defvjp(mul, lambda g, ans, x, y: g * y, lambda g, ans, x, y: g * x * 10.0)\n"
                  "def f(x, y):\n    return np.sum(mul(x, y))\n")
    Y = np.array([2.0, -1.0, 0.5])
    for mode in ("auto", "source", "tape"):
        dx, dy = knet.grad(ns["f"], wrt=(0, 1), mode=mode)(X, Y)
        np.testing.assert_allclose(dx, Y)
        np.testing.assert_allclose(dy, 10.0 * X)
    g = knet.grad(ns["f"], wrt=(0, 1))
    g(X, Y)
    assert "10.0" in g.source                  # inlined, the second one where it belongs


def test_inlined_vjp_global_rebound():
    ns = run_cell({"np": np, "knet": knet},
                  "scale = 2.0\n"
                  "def k(z):\n    return z * 1.0\n"
                  "twice = knet.primitive(lambda x: x * 2.0)\n"
                  "knet.defvjp(twice, lambda g, ans, x: g * k(scale))\n"
                  "def f(x):\n    return np.sum(twice(x))\n")
    g = knet.grad(ns["f"])
    np.testing.assert_allclose(g(X), np.full(3, 2.0))
    ns["k"] = lambda z: z * 3.0                 # the rule's own helper rebound
    np.testing.assert_allclose(g(X), np.full(3, 6.0))
    for mode in ("auto", "source", "tape"):
        np.testing.assert_allclose(knet.grad(ns["f"], mode=mode)(X), np.full(3, 6.0))
    ns["scale"] = 5.0                           # a number the inlined rule was given at compile time
    np.testing.assert_allclose(g(X), np.full(3, 15.0))
    for mode in ("auto", "source", "tape"):
        np.testing.assert_allclose(knet.grad(ns["f"], mode=mode)(X), np.full(3, 15.0))


lambdas_of_a_comprehension = [lambda x, k=k: np.sum(np.sin(x) * k) for k in (1.0, 2.0, -3.0)]


def test_lambdas_made_in_a_comprehension():
    for f, k in zip(lambdas_of_a_comprehension, (1.0, 2.0, -3.0)):
        assert_grad(f, expect=k * np.cos(X), compiled="source")
    fs = [lambda x: np.sum(x ** 2 * j) for j in (1.0, 4.0)]      # j is a cell of the comprehension
    assert_grad(fs[0], expect=8 * X)                            # both see the last j
