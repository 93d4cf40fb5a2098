"""A list or dict element replaced by a value of another shape, and lists read after the call.

Before: the reverse sweep reset a written slot's adjoint to zeros shaped like the *new*
element, which broadcast into the reads of the old one (``hs[1] = x[:, None]`` after
``z = hs[1] * 3`` gave three times the gradient); a helper's untouched list slots were
filled with zeros shaped like the caller's list at pullback time; a rule given a list inside
a tuple saw the list as it was at the end. Each gradient is checked against central finite
differences in float64, in every mode.
"""
import re

import numpy as np
import pytest

import knetc as knet
from knetc.testing import assert_tree_allclose, numeric_grad
from knetc.transform.pipeline import compile_vjp

X = np.array([0.3, -0.7, 1.2])
C = np.array([1.0, 2.0, 3.0])
MODES = ["source", "auto", "tape"]


def read_then_replaced_by_a_column(x):
    hs = [x, 2 * x]
    z = hs[1] * 3.0
    hs[1] = x[:, None] * 1.0
    return np.sum(z * C) + np.sum(hs[1])


def dict_value_replaced_by_a_column(x):
    d = {"a": x, "b": 2 * x}
    z = d["b"] * 3.0
    d["b"] = x[:, None] * 1.0
    return np.sum(z * C) + np.sum(d["b"])


def new_key_replaced_by_a_column(x):
    d = {"a": x}
    d["c"] = x ** 2
    z = d["c"] * 3.0
    d["c"] = x[:, None] * 1.0
    return np.sum(z * C) + np.sum(d["c"]) + np.sum(d["a"])


def replaced_in_each_iteration(x):
    hs = [x, 2 * x]
    s = 0.0
    for i in range(3):
        s = s + np.sum(hs[1] * C)
        hs[1] = np.sum(hs[1]) * x[:, None]
    return s + np.sum(hs[1])


def _first_squared(ws):
    return np.sum(ws[0] ** 2)


def replaced_after_a_helper_got_the_list(x):
    hs = [x, 2 * x]
    z = hs[1] * 3.0
    t = _first_squared(hs)
    hs[1] = x[:, None] * 1.0
    return t + np.sum(z * C) + np.sum(hs[1])


def lists_inside_a_list_given_to_a_rule(x):
    hs = [x[0], x[1] * 2]
    gs = [x[2], x[0] * x[1]]
    y = np.array([hs, gs])
    hs[0] = x[2] * np.ones(3)
    return np.sum(y * np.array([[1.0, 2.0], [3.0, 4.0]])) + np.sum(hs[0])


def tuple_keys_written_in_a_loop(x):
    d = {}
    for i in range(2):
        d[i, "k"] = x * (i + 1.0)          # a new key: the replaced element is looked up with .get
    d[1, "k"] = x[:, None] * d[1, "k"]
    return np.sum(d[0, "k"] * C) + np.sum(d[1, "k"] ** 2)


PROGRAMS = [read_then_replaced_by_a_column, tuple_keys_written_in_a_loop, dict_value_replaced_by_a_column, new_key_replaced_by_a_column,
            replaced_in_each_iteration, replaced_after_a_helper_got_the_list, lists_inside_a_list_given_to_a_rule]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("f", PROGRAMS, ids=lambda f: f.__name__)
def test_gradient_matches_finite_differences(f, mode):
    assert_tree_allclose(knet.grad(f, mode=mode)(X.copy()), numeric_grad(f, (X.copy(),)), rtol=1e-6, atol=1e-8)


def test_the_slot_is_reset_to_zeros_of_the_read_element_without_a_new_read():
    source = compile_vjp(read_then_replaced_by_a_column, (True,), (X,)).source
    primal, pullback = source.split("_pullback(")
    (old,) = re.findall(r"^\s*(_t\d+) = hs\[1\]$", primal.split("hs[1] = ")[0], re.M)   # z's operand
    assert f"dhs[1] = zeros_like({old})" in pullback, source


def test_a_slot_replaced_in_a_loop_saves_the_element_it_replaces():
    source = compile_vjp(replaced_in_each_iteration, (True,), (X,)).source
    pushed = re.findall(r"_stack\.append\((\w+)\)", source)
    previous = re.findall(r"dhs\[1\] = zeros_like\((\w+)\)", source)
    assert previous and previous[0] in pushed, source


def test_assignment_to_a_list_slice_is_refused_at_its_line():
    def f(x):
        hs = [x, 2 * x]
        hs[0:1] = [x ** 2, x[:, None]]
        return np.sum(hs[0]) + np.sum(hs[1])
    with pytest.raises(knet.UnsupportedError, match=r"slice of the list hs.*test_replaced_elements\.py:\d+"):
        knet.grad(f, mode="source")(X.copy())
    with pytest.warns(knet.FallbackWarning):
        got = knet.grad(f)(X.copy())
    assert_tree_allclose(got, numeric_grad(f, (X.copy(),)), rtol=1e-6, atol=1e-8)


W3 = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]])


def column_from_an_overlapping_row(p):
    a = p * W3
    a[:, 2] = a[1]          # NumPy writes a[1, 2] before it reads it for a[2, 2]: no copy semantics
    return np.sum(a * W3)


def row_from_another_row(p):
    a = p * W3
    a[0] = a[1]             # the view read does not overlap the elements written
    return np.sum(a * W3)


def test_writing_an_overlapping_view_of_the_same_array_is_refused_at_its_line():
    # fuzz seed 11007577: the compiled value and gradient took a[1] as copied before the write
    # (255 where NumPy's in-place order gives 246)
    with pytest.raises(knet.UnsupportedError, match=r"view of x that overlaps.*test_replaced_elements\.py:\d+"):
        knet.grad(column_from_an_overlapping_row, mode="source")(0.7)


def test_an_overlapping_slice_numpy_copies_first_is_compiled():
    def shift(x):
        a = np.concatenate([x, x]) * 1.0
        a[1:] = a[:-1]                      # 1-D: NumPy copies the overlapping source first
        return np.sum(a * np.arange(6.0))
    assert_tree_allclose(knet.grad(shift, mode="source")(X.copy()), numeric_grad(shift, (X.copy(),)),
                         rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("mode", ["source", "auto"])
def test_writing_a_disjoint_view_of_the_same_array_is_right(mode):
    got = knet.grad(row_from_another_row, mode=mode)(0.7)
    assert np.isclose(got, numeric_grad(row_from_another_row, (0.7,)), rtol=1e-7)
