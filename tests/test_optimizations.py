"""Each optimisation of the generated code, with a check that the gradient stays right.

The optimisations are visible in ``.source``; the gradients are checked against
finite differences in float64.
"""
import numpy as np
import pytest

import knetc as knet
from knetc.testing import assert_numeric_grad

rng = np.random.default_rng(3)


def R(*shape):
    return rng.standard_normal(shape)


def compiled(f, *args, wrt=0):
    g = knet.grad(f, wrt=wrt, mode="source")
    assert_numeric_grad(g(*args), f, args, wrt=wrt)
    assert g.mode == "source"
    return g.source


def data_heavy(w, x, y):
    scale = np.sum(x * x) + y.shape[1]          # depends on data only
    unused = np.exp(w) * 3                      # does not reach the result
    return np.sum((w @ x - y) ** 2) / scale


def test_no_adjoint_for_inactive_or_unused_values():
    src = compiled(data_heavy, R(2, 3), R(3, 4), R(2, 4))
    pullback = src.split("_pullback(")[1]
    assert "dx" not in pullback and "dy" not in pullback and "dscale" not in pullback
    assert "dunused" not in pullback
    assert "return (dw, None, None)" in src


def straight(w, x):
    h = np.tanh(w @ x)
    return np.sum(h * h)


def test_no_stack_in_straight_line_code_and_first_accumulation_assigns():
    src = compiled(straight, R(3, 3), R(3, 2))
    assert "_stack" not in src
    assert "zeros_like" not in src                 # nothing materialised
    # h is read twice (h * h), yet its adjoint is one assignment: no zero buffer, no `dh = dh + ...`
    pullback = src.split("_pullback(")[1]
    writes = [line.strip() for line in pullback.splitlines() if line.strip().startswith(("dh =", "dh +="))]
    assert len(writes) == 1 and writes[0].startswith("dh = "), writes
    assert "dh" not in writes[0][len("dh = "):], writes


def fan_out(x):
    a = x * 2.0
    b = x * 3.0
    c = x * 4.0
    return np.sum(a + b + c)


def test_in_place_accumulation_into_an_owned_buffer():
    src = compiled(fan_out, R(4))
    assert "dx = dx + " in src and "dx += " in src     # the second add reuses the fresh buffer


def branch(x, flag):
    if flag:
        y = np.sin(x)
    else:
        y = x * 2.0
    return np.sum(y)


def test_unused_branch_costs_nothing_at_run_time():
    for flag in (True, False):
        src = compiled(branch, R(3), flag)
    pullback = src.split("_pullback(")[1]
    assert pullback.count("zeros_like") <= 1           # only dx, once, not a zero per branch


def slices(x):
    return np.sum(x[:, :2] * 2.0) + np.sum(x[:, 2:] ** 2) + np.sum(x[0])


def test_slice_reads_accumulate_into_one_buffer():
    src = compiled(slices, R(3, 5))
    assert src.count("dx = zeros_like(x)") == 1
    assert "dx[:, :2] += " in src and "dx[:, 2:] += " in src


def loop_reuse(w, x):
    for i in range(3):
        x = np.tanh(w @ x)
    y = x * 2.0                   # assigned once, after the loop: never saved
    return np.sum(y)


def test_stack_only_for_values_overwritten():
    src = compiled(loop_reuse, R(3, 3) * 0.5, R(3, 2))
    assert "_stack.append(x)" in src
    assert "_stack.append(y)" not in src


def params_list(w, x):
    return np.sum(w[0] @ x) + np.sum(w[2] * 0.0)


def test_untouched_parameter_slots_get_zeros_only_at_the_end():
    w = [R(2, 3), R(5), R(2)]
    src = compiled(params_list, w, R(3, 4))
    assert "dw = zero_slots(w)" in src
    g = knet.grad(params_list)(w, R(3, 4))
    np.testing.assert_array_equal(g[1], np.zeros(5))   # never reached: real zeros of the right shape


def layers(w, x):
    for i in range(len(w)):
        x = np.tanh(w[i] @ x)
    return np.sum(x)


def test_no_adjoint_for_the_input_images():
    src = compiled(layers, [R(3, 3), R(3, 3)], R(3, 2))
    assert "if x is not x_in:" in src
    assert "zeros_view(x)" in src and "zeros_like(x)" not in src   # no zero array allocated for it


def relu_layers(w, x):
    for i in range(0, len(w), 2):
        x = w[i] @ x + w[i + 1]
        x = np.maximum(x, 0.0)
    return np.sum(x)


def test_the_entry_test_stays_only_where_the_callers_object_reaches():
    # in the loop only the first read of x can see the caller's object (first pass);
    # after the loop, when it ran zero times; every other adjoint of x is computed untested
    w = [R(3, 3), R(3, 1), R(2, 3), R(2, 1)]
    src = compiled(relu_layers, w, R(3, 4))
    pullback = src.split("def relu_layers_pullback")[1]
    loop = pullback.split("for i in reversed(")[1]
    assert pullback.count("if x is not x_in:") == 2 and loop.count("if x is not x_in:") == 1


def straight_layers(w, x):
    x = np.tanh(w @ x)
    x = w @ x
    return np.sum(x)


def test_no_entry_test_where_the_callers_object_cannot_reach():
    src = compiled(straight_layers, R(3, 3), R(3, 2))
    assert "x_in" not in src and "zeros_view" not in src


def test_entry_value_marks_a_data_argument_that_is_also_differentiated():
    from knetc.runtime.entry_values import entry_value
    w = [R(3), R(2)]
    x = R(3)
    assert entry_value(x, w) is x
    marker = entry_value(w[1], w)
    assert marker is not w[1] and marker is not entry_value(w[1], w)   # identical to nothing
    assert entry_value(w, {"a": 1.0}, w) is not w


def test_zeros_view_is_read_only_zeros_without_allocation():
    import pytest
    from knetc.runtime.tree import zeros_view
    x = R(300, 200).astype(np.float32)
    z = zeros_view(x)
    assert z.shape == x.shape and z.dtype == np.float32 and not z.any()
    assert z.strides == (0, 0) and not z.flags.writeable
    with pytest.raises(ValueError):
        z += 1
    assert zeros_view([x, 2.0])[1] == 0.0          # containers: ordinary zeros


def reassigned_data(w, x):
    y = x                                         # x's entry value reaches y
    for i in range(2):
        x = np.tanh(w @ x) + 0.5 * y
    return np.sum(x * x)


def test_data_argument_reassigned_in_a_loop_still_gets_the_right_gradient():
    compiled(reassigned_data, R(3, 3) * 0.5, R(3, 2))


def test_unbroadcast_fast_path_returns_the_same_array():
    from knetc.runtime.rules import unbroadcast
    g = R(3, 4)
    assert unbroadcast(g, R(3, 4)) is g
    np.testing.assert_allclose(unbroadcast(g, R(3, 1)), g.sum(axis=1, keepdims=True))
    assert unbroadcast(g, 2.0) == g.sum()


def test_float32_adjoints_stay_float32():
    def f(w, x):
        return np.sum(np.maximum(0, w @ x)) + np.max(w)
    w, x = R(3, 3).astype(np.float32), R(3, 2).astype(np.float32)
    g = knet.grad(f)
    seen = []
    import knetc.runtime.rules as rules
    original = rules.unbroadcast

    def spy(grad, like):
        seen.append(getattr(grad, "dtype", None))
        return original(grad, like)
    g(w, x)                 # compile first, then spy on the compiled code's helper
    compiled_code = g._last[0]
    # the factory bound unbroadcast as a closure cell
    cells = dict(zip(compiled_code.__code__.co_freevars, compiled_code.__closure__))
    cells["unbroadcast"].cell_contents = spy
    try:
        out = g(w, x)
    finally:
        cells["unbroadcast"].cell_contents = original
    assert out.dtype == np.float32
    assert seen and all(d in (np.float32, None) for d in seen)


def repeated_reads(w, x):
    s = [w[0] * 1.0, x]
    a = np.sum(w[0] * x) + np.sum(w[0] * w[0])      # w[0] read three times: one temporary
    b = s[0] * 2.0
    s[0] = b * s[0]                                 # a write: the next s[0] is read again
    c = s[0] + (s[0] if np.sum(x) > 0 else w[0])    # reads inside the branch are not reused after it
    return a + np.sum(c * s[0])


def test_repeated_reads_share_one_temporary_until_a_write():
    src = compiled(repeated_reads, [R(3), R(3)], R(3))
    forward = src.split("_pullback(")[0]
    assert forward.count("= w[0]") == 2             # one shared read on top, one in the else branch
    assert forward.count("= s[0]") == 4             # before the write, after it, in the branch, after it


def two_params(w, x):
    return np.sum(np.tanh(w[0] * x) * w[-1])


def test_repeated_calls_reuse_the_plan_and_still_check_their_arguments():
    import pytest
    from knetc.errors import GradientInputError
    g = knet.grad(two_params)
    x = R(3)
    for w in ([R(3), R(3)], [R(3), R(3)], [R(3), R(3), R(3)]):   # same kinds twice, then a longer list
        assert_numeric_grad(g(w, x), two_params, (w, x))
    assert len(g._plans) == 2
    with pytest.raises(GradientInputError):
        g([np.arange(3), R(3)], x)                    # an integer array is still refused
    w = [R(3), R(3)]
    w32 = [a.astype(np.float32) for a in w]
    out = g(w32, x.astype(np.float32))
    assert all(o.dtype == np.float32 for o in out)

    def one_adjoint_twice(w):
        return np.sum(w[0] + w[1])                    # both slots get the same adjoint array
    gs = knet.grad(one_adjoint_twice)
    for _ in range(2):
        a, b = gs([R(3), R(3)])
        assert a is not b                             # copied, so in-place updates stay separate


def squares(w, b):
    h = w * w + b                      # w * w: one contribution, doubled
    return np.sum(h * h) + np.sum((b + b) * w)


def test_a_value_times_itself_gets_one_doubled_contribution():
    src = compiled(squares, R(3, 4), R(4))
    src = compiled(squares, R(3, 4), R(4), wrt=1)
    assert "* 2" in src
    g = knet.grad(squares)
    w, b = R(3, 4), R(4)
    expected = 2 * (2 * (w * w + b)) * w + 2 * b      # exact: doubling is exact in floating point
    np.testing.assert_array_equal(g(w, b), expected)


def test_unbroadcast_sums_broadcast_axes_like_the_general_path():
    from knetc.runtime.rules import unbroadcast
    g = R(4, 5, 6)
    for shape in [(4, 1, 6), (1, 5, 1), (1, 1, 1), (5, 6), (6,), (4, 5, 6)]:
        expected = g.sum(axis=tuple(range(g.ndim - len(shape))))
        axes = tuple(i for i, n in enumerate(shape) if n == 1)
        expected = expected.sum(axis=axes, keepdims=True) if axes else expected
        np.testing.assert_allclose(unbroadcast(g, np.zeros(shape)), expected.reshape(shape))


def test_max_vjp_splits_ties_on_the_numpy_path():
    def f(x):
        return np.sum(np.max(x, axis=0, keepdims=True) * np.array([[1.0, 2.0, 3.0]]))
    x = np.array([[1.0, 5.0, 2.0], [1.0, 0.0, 2.0]])
    np.testing.assert_array_equal(knet.grad(f)(x), [[0.5, 2.0, 1.5], [0.5, 0.0, 1.5]])


def act(h):
    return np.tanh(h) * 2.0


def first_only(w):
    return np.sum(w[0] * 3.0)


def with_helpers(w, x):
    return np.sum(act(w[0] @ x)) + first_only(w)


def test_helper_calls_hand_back_the_compiled_pullback_unless_slots_need_zeros():
    from knetc.transform.dispatch import call_vjp
    _, pb = call_vjp(act, (True,), R(3))
    assert pb.__name__ == "act_pullback"             # array argument: no wrapper around it
    w = [R(2, 3), R(2)]
    _, pb = call_vjp(first_only, (True,), w)
    dw = pb(1.0)[0]
    np.testing.assert_array_equal(dw[1], np.zeros(2))   # the untouched slot is filled with zeros
    for _ in range(2):                                  # the second call takes the cached entry
        compiled(with_helpers, [R(2, 3), R(2)], R(3, 4))


def shifted(x, m):
    return np.sum((x - m) ** 2 * np.arange(1.0, 4.0))


def test_subtract_negates_the_reduced_adjoint():
    from knetc.runtime.rules import rule_for
    vjp = rule_for(np.subtract).vjp(1)
    g = R(3, 4)
    np.testing.assert_array_equal(vjp(g, None, R(3, 4), R(1, 4)), -g.sum(axis=0, keepdims=True))
    src = compiled(shifted, R(4, 3), R(1, 3), wrt=1)
    assert "= -unbroadcast(" in src


def test_maximum_vjp_skips_the_tie_term_only_when_there_is_no_tie():
    from knetc.runtime.rules import rule_for
    vjp_x, vjp_y = rule_for(np.maximum).vjp(0), rule_for(np.maximum).vjp(1)
    g = R(2, 3).astype(np.float32)
    x = np.array([[1.0, -2.0, 3.0], [-1.0, 2.0, -3.0]], np.float32)
    for y in (0.0, np.float32(0)):                    # no tie: the adjoint is g where x > 0
        got = vjp_x(g, None, x, y)
        np.testing.assert_array_equal(got, g * (x > 0))
        assert got.dtype == np.float32
    x[0, 1] = 0.0                                      # one tie: half of g to each side
    want = g * (x > 0)
    want[0, 1] = 0.5 * g[0, 1]
    np.testing.assert_array_equal(vjp_x(g, None, x, 0.0), want)
    assert vjp_y(g, None, x, 0.0) == pytest.approx(float(np.sum(g * (x < 0)) + 0.5 * g[0, 1]))


def grows_its_list(w, x):
    w.append(w[0] * x)
    return np.sum(w[2] * w[1])


def tuple_pair(t, x):
    return np.sum(t[0] * t[1] * x)


def test_repeated_calls_through_the_plan_keep_the_entry_structure_and_values():
    # the second and third calls take the plan of the first call's signature: the entry
    # structure (a copy of the list, taken before the function appends to it) and the
    # gradient's values must be those of the first call's slow path
    x = R(3)
    for mode in ("auto", "source"):
        g = knet.grad(grows_its_list, mode=mode)
        for _ in range(3):
            a, b = R(3), R(3)
            got = g([a, b], x)
            assert type(got) is list and len(got) == 2
            np.testing.assert_allclose(got[0], b * x, rtol=1e-12)
            np.testing.assert_allclose(got[1], a * x, rtol=1e-12)
        assert len(g._plans) == 1
    g = knet.grad(tuple_pair, wrt=(0, 1))
    for _ in range(3):
        t = (R(3), R(3))
        dt, dx = g(t, x)
        assert type(dt) is tuple and len(dt) == 2
        assert_numeric_grad((dt, dx), tuple_pair, (t, x), wrt=(0, 1))
    assert len(g._plans) == 1


def test_the_plan_hands_back_owned_arrays_never_views_or_the_same_array_twice():
    def shared(w):                     # both adjoints could be one broadcast seed
        return np.sum(w[0]) + np.sum(w[1])
    w = [R(3), R(3)]
    g = knet.grad(shared)
    for _ in range(3):
        out = g(w)
        assert out[0] is not out[1] and all(o.base is None and o.flags.writeable for o in out)
        out[0] *= 0.5
        np.testing.assert_allclose(out[1], np.ones(3))
