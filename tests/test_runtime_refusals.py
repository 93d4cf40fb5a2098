"""Refusals that compiled code makes when it runs (session 7's silently wrong gradients).

What the compiler cannot know from the source (which function a local holds, whether a
container holds an array twice) is checked when the generated code runs: the check raises
an UnsupportedError naming the user's line, and the pure cases next to each refusal still
compile and are right.
"""
import inspect

import numpy as np
import pytest

import knetc as knet
from knetc.errors import KnetError, UnsupportedError
from knetc.testing import assert_tree_allclose, numeric_grad

X = np.array([0.3, -0.7, 1.2])
C = np.array([1.0, 2.0, 3.0])


def _line_of(fun, text):
    lines, first = inspect.getsourcelines(fun)
    return first + next(i for i, line in enumerate(lines) if text in line)


def _refused(fun, text, mode="source"):
    with pytest.raises(UnsupportedError) as info:
        knet.grad(fun, mode=mode)(X.copy())
    assert f"test_runtime_refusals.py:{_line_of(fun, text)}" in str(info.value), str(info.value)
    return str(info.value)


def _right(fun, mode="source"):
    g = knet.grad(fun, mode=mode)
    assert_tree_allclose(g(X.copy()), numeric_grad(fun, (X.copy(),)), rtol=1e-6)
    return g


# ---- a function value that keeps state ------------------------------------------------
def make_counter():
    total = 0.0

    def add(v):
        nonlocal total
        total = total + v
        return total
    return add


def counter_loss(x):
    add = make_counter()
    add(x[0])                     # result unused: compiled code used to call it plainly
    return add(x[1] * 2)


def make_recorder():
    hist = []

    def rec(v):
        hist.append(v * 2)
        return v
    return rec, hist


def recorder_loss(x):
    rec, hist = make_recorder()
    rec(x)
    return np.sum(hist[0] * x)


def make_scaler(s):
    def scale(v):
        return v * s
    return scale


def scaler_loss(x):
    scale = make_scaler(3.0)
    return np.sum(scale(x) * C)


@pytest.mark.parametrize("mode", ["source", "auto"])
def test_a_function_value_writing_a_nonlocal_is_refused_at_its_call(mode):
    message = _refused(counter_loss, "add(x[0])", mode)
    assert "add" in message and "nonlocal" in message


@pytest.mark.parametrize("mode", ["source", "auto"])
def test_a_function_value_appending_to_its_closure_list_is_refused(mode):
    message = _refused(recorder_loss, "rec(x)", mode)
    assert "hist.append()" in message


def test_the_tape_differentiates_the_stateful_function_values():
    assert_tree_allclose(knet.grad(counter_loss, mode="tape")(X.copy()), np.array([1.0, 2.0, 0.0]))
    assert_tree_allclose(knet.grad(recorder_loss, mode="tape")(X.copy()), 4 * X)


def test_a_pure_function_value_still_compiles():
    g = _right(scaler_loss)
    assert g.mode == "source"


def test_forward_mode_refuses_the_stateful_function_value():
    with pytest.raises(UnsupportedError, match="nonlocal"):
        knet.jvp(counter_loss, (X.copy(),), (np.ones(3),), mode="source")


class Model:
    def __init__(self):
        self.cache = None

    def forward(self, v):
        self.cache = v * 2
        return v


def method_value_loss(x):
    m = Model()
    step = m.forward
    step(x)
    return np.sum(m.cache * x)


def test_a_bound_method_writing_self_is_refused():
    assert "self.cache" in _refused(method_value_loss, "step(x)")


# ---- += on an element a container holds twice --------------------------------------------
def twice_in_list(x):
    a = x * 1.0
    pair = [a, a]
    pair[0] += 1.0                # Python: pair[1] is the same array, updated too
    return np.sum(pair[1] * x)


def twice_in_dict(x):
    a = x * 1.0
    d = {"p": a, "q": a}
    d["p"] *= 2.0
    return np.sum(d["q"] * x)


def distinct_elements(x):
    pair = [x * 1.0, x * 2.0]
    pair[0] += 1.0
    pair[1] *= pair[0]
    return np.sum(pair[1] * C)


@pytest.mark.parametrize("fun, text", [(twice_in_list, "pair[0] += 1.0"), (twice_in_dict, 'd["p"] *= 2.0')])
def test_augmented_assignment_to_an_element_held_twice_is_refused(fun, text):
    assert "held twice" in _refused(fun, text)
    with pytest.raises(KnetError, match="in place"):      # the tape refuses it too
        knet.grad(fun, mode="tape")(X.copy())


def test_augmented_assignment_to_distinct_elements_compiles():
    assert _right(distinct_elements).mode == "source"


# ---- errors that used to name no user line -------------------------------------------------
def unbound_method_loss(x):
    return np.ndarray.sum(x * x)


def test_an_unbound_ndarray_method_on_the_tape_names_the_line():
    message = _refused(unbound_method_loss, "np.ndarray.sum", mode="tape")
    assert "np.sum(x)" in message


_NS = {"np": np}
exec("def helper(v):\n    return v * v * 3\n", _NS)
exec_helper = _NS["helper"]


def exec_helper_loss(x):
    return np.sum(exec_helper(x))


def test_an_exec_made_helper_is_refused_at_the_callers_line():
    message = _refused(exec_helper_loss, "exec_helper(x)")
    assert "<string>" in message
    _right(exec_helper_loss, mode="tape")


def test_an_attribute_hint_names_only_numpy_functions_that_exist():
    def flat_loss(x):
        return np.sum(x.flat[0] * x)
    with pytest.raises(AttributeError) as info:
        knet.grad(flat_loss, mode="tape")(X.copy())
    assert "np.flat(" not in str(info.value)


def overlapping_column_loss(x):
    a = np.outer(x, C)
    a[:, 2] = a[1]                # NumPy writes in place over what it reads
    return np.sum(a * a)


@pytest.mark.parametrize("mode", ["source", "auto"])
def test_a_refusal_while_the_tangent_program_runs_names_the_users_line(mode):
    with pytest.raises(UnsupportedError) as info:
        knet.jvp(overlapping_column_loss, (X.copy(),), (np.ones(3),), mode=mode)
    assert f"test_runtime_refusals.py:{_line_of(overlapping_column_loss, 'a[:, 2] = a[1]')}" in str(info.value)
