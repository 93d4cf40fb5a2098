"""The compiler against central finite differences, one construct group at a time.

Each case is a small loss written as a user would write it; the compiled
gradient (mode='source': no tape fallback allowed) must match float64 finite
differences.
"""
import math

import numpy as np
import pytest

import knetc as knet
from knetc.testing import assert_tree_allclose, numeric_grad

rng = np.random.default_rng(42)


def R(*shape):
    return rng.standard_normal(shape)


def check(f, *args, wrt=0, rtol=1e-5, atol=1e-7):
    g = knet.grad(f, wrt=wrt, mode="source")
    got = g(*args)
    want = numeric_grad(f, args, wrt=wrt)
    assert_tree_allclose(got, want, rtol=rtol, atol=atol)
    assert g.mode == "source"
    return g


# ---- helpers used by the cases (module globals) ----------------------------
def predict(w, x):
    return w[0] @ x + w[1]


def layer(w, b, x, act=np.tanh):
    return act(w @ x + b)


def two_outputs(a, b):
    return a * b, a + b


def scaled(x, s=2.0):
    return s * x


# ---- operators and broadcasting ----------------------------------------------
def op_arith(x, y):
    return np.sum(x * y + x / (y * y + 1) - y ** 2) + np.sum((-x) @ y.T)


def op_pow(x):
    return np.sum(x ** 3 + 2.0 ** x + np.abs(x) ** 1.5)


def bcast_bias(w, b, x):
    return np.sum(np.tanh(w @ x + b))          # b is (n, 1)


def bcast_row(x, r):
    return np.sum((x - r) ** 2)                # r is (1, n)


def bcast_scalar(x, s):
    return np.sum(s * x + s)                  # s is a Python float


@pytest.mark.parametrize("f,args,wrt", [
    (op_arith, (R(3, 4), R(3, 4)), (0, 1)),
    (op_pow, (np.abs(R(5)) + 0.5,), 0),
    (bcast_bias, (R(4, 3), R(4, 1), R(3, 6)), (0, 1)),
    (bcast_row, (R(5, 3), R(1, 3)), (0, 1)),
    (bcast_scalar, (R(3, 2), 0.7), (0, 1)),
])
def test_operators_and_broadcasting(f, args, wrt):
    check(f, *args, wrt=wrt)


# ---- numpy functions -----------------------------------------------------------
def np_elementwise(x):
    y = np.exp(x) + np.log(x) + np.log1p(x) + np.expm1(x) + np.sqrt(x) + np.square(x)
    y = y + np.sin(x) * np.cos(x) + np.tan(x / 3) + np.tanh(x) + np.sinh(x) - np.cosh(x) + np.arctan(x)
    return np.sum(y + np.abs(x - 1))


def np_selection(x, y):
    return np.sum(np.maximum(x, y) + np.minimum(x, 0.3) + np.where(x > 0.5, x * y, y) + np.clip(x, 0.2, 0.9))


def np_reductions(x):
    a = np.sum(x, axis=0) + np.mean(x, axis=0) + np.max(x, axis=0) + np.min(x, axis=0)
    b = np.sum(x, axis=1, keepdims=True) * np.prod(x, axis=1, keepdims=True)
    return np.sum(a) + np.sum(b) + np.max(x) + np.mean(x)


def np_linear(a, b, v):
    return np.sum(np.dot(a, b)) + np.sum(np.matmul(a, b) * 2) + np.sum(np.outer(v, v)) + np.dot(v, v)


def np_shapes(x):
    y = np.transpose(x).reshape(2, 6)
    z = np.expand_dims(np.squeeze(x[:, :1]), 0)
    c = np.concatenate([x, x * 2], axis=0)
    s = np.stack([x, x], axis=0)
    h = np.hstack((x, x)) + np.vstack((x, x)).T[:, :3].T.T[:, :x.shape[1] * 2].sum() * 0
    p, q = np.split(x, 2, axis=1)
    return np.sum(y ** 2) + np.sum(z) + np.sum(c * c) + np.sum(s) + np.sum(h) + np.sum(p * q) \
        + np.sum(np.broadcast_to(x[:1], (3, 4)))


def np_methods(x):
    y = x.T @ x
    return x.sum(axis=0).mean() + y.reshape(-1).sum() + x.max() + x.reshape((4, 3)).sum(axis=1).prod() \
        + x.mean() * x.ndim + x.shape[0] * x.dtype.itemsize * 0.0


def constants(x):
    z = np.zeros_like(x)
    o = np.ones_like(x)
    return np.sum(x * o + z)


@pytest.mark.parametrize("f,args,wrt", [
    (np_elementwise, (rng.uniform(0.1, 0.9, (3, 4)),), 0),
    (np_selection, (rng.uniform(0, 1, (4, 5)), rng.uniform(0, 1, (4, 5))), (0, 1)),
    (np_reductions, (rng.uniform(0.5, 1.5, (3, 4)),), 0),
    (np_linear, (R(3, 4), R(4, 2), R(5)), (0, 1, 2)),
    (np_shapes, (R(3, 4),), 0),
    (np_methods, (R(3, 4),), 0),
    (constants, (R(3),), 0),
])
def test_numpy_functions(f, args, wrt):
    check(f, *args, wrt=wrt)


# ---- helpers: globals, nested defs, closures, lambdas, kwargs, tuples ------------
def uses_helpers(w, x):
    h = layer(w[0], w[1], x)
    h2 = layer(w[2], w[3], h, act=np.sin)
    a, b = two_outputs(h2, h2)
    return np.sum(a - b) + np.sum(scaled(h, s=3.0)) + np.sum(predict(w[2:], h))


def make_closure_loss(lam):
    def penalised(w, x):
        return np.sum(np.tanh(w @ x)) + lam * np.sum(w * w)
    return penalised


def nested_def(w, x):
    def sq(v):
        return v * v
    act = lambda v: np.tanh(v) * 2
    return np.sum(sq(act(w @ x)))


def test_helper_calls():
    w = [R(4, 3), R(4, 1), R(2, 4), R(2, 1)]
    g = check(uses_helpers, w, R(3, 5))
    assert "call_vjp(layer" in g.source
    assert "def layer_vjp" in g.source


def test_closure_and_nested_defs():
    check(make_closure_loss(0.3), R(2, 3), R(3, 4))
    check(nested_def, R(2, 3), R(3, 4))


def test_lambda_loss():
    f = lambda w: np.sum(w ** 2) * 3
    check(f, R(4))


def recursive_helper(x, n):
    if n == 0:
        return x
    return recursive_helper(np.sin(x), n - 1)


def uses_recursion(x):
    return np.sum(recursive_helper(x, 3))


def test_recursive_helper():
    check(uses_recursion, R(4))


# ---- loops --------------------------------------------------------------------
def loop_range(w, x):
    for i in range(1, len(w), 2):
        x = np.tanh(w[i] * x + w[i - 1])
    for j in range(len(w) - 1, 0, -3):
        x = x * w[j]
    return np.sum(x)


def loop_items(w, x):
    total = 0.0
    for wi in w:
        total = total + np.sum(wi * x)
    for i, wi in enumerate(w):
        total += i * np.sum(wi)
    for a, b in zip(w, w[1:]):
        total = total + np.sum(a * b)
    for row in x:
        total = total + np.sum(row ** 2)
    return total


def loop_while(x):
    n = 0
    while np.sum(x * x) < 50.0 and n < 20:
        x = x * 1.5 + 0.1
        n += 1
    return np.sum(x)


def loop_break_continue(x):
    total = 0.0
    for i in range(10):
        if i % 2 == 1:
            continue
        total = total + np.sum(x ** i)
        if i >= 6:
            break
    return total


def nested_loops(w, x):
    for i in range(3):
        for j in range(2):
            x = np.sin(w[j] * x + i)
    return np.sum(x)


def loop_rnn(W, b, x):
    for _ in range(50):
        x = np.tanh(W @ x + b)
    return np.sum(x)


@pytest.mark.parametrize("f,args,wrt", [
    (loop_range, ([R(3) for _ in range(6)], R(3)), (0, 1)),
    (loop_items, ([R(2, 2) for _ in range(3)], R(2, 2)), (0, 1)),
    (loop_while, (R(3) * 0.1,), 0),
    (loop_break_continue, (rng.uniform(0.5, 1.0, 3),), 0),
    (nested_loops, ([R(2), R(2)], R(2)), (0, 1)),
    (loop_rnn, (R(8, 8) * 0.3, R(8, 1), R(8, 1)), (0, 1, 2)),
])
def test_loops(f, args, wrt):
    check(f, *args, wrt=wrt)


# ---- conditionals and returns -------------------------------------------------
def branches(x, flag):
    if flag == "a":
        y = x * 2
    elif flag == "b":
        y = np.sin(x)
    else:
        y = x ** 3
    if np.sum(x) > 0:
        y = y + x
    z = y if np.max(y) > 1 else -y
    ok = (np.sum(x) > -100) and not (np.sum(x) > 100) or flag == "c"
    return np.sum(z) * (1.0 if ok else 2.0)


def early_return(x):
    for i in range(5):
        x = x * 1.1
        if np.sum(x) > 3.0:
            return np.sum(x * x)
    if np.sum(x) < -1.0:
        return np.sum(x)
    return np.sum(np.sin(x))


@pytest.mark.parametrize("flag", ["a", "b", "c"])
def test_branches(flag):
    for x in (R(3), -np.abs(R(3))):
        check(branches, x, flag)


def test_early_returns():
    for x in (np.full(3, 0.8), np.full(3, -0.6), np.full(3, 0.1)):
        check(early_return, x)


# ---- indexing -----------------------------------------------------------------
def index_reads(x, w):
    a = x[0, 1] + x[-1, -2] + np.sum(x[1:, ::2]) + np.sum(x[::-1, 1]) + np.sum(x[..., 0])
    b = np.sum(x[None, :, 1]) + np.sum(x[np.array([0, 2, 0, 0])]) + np.sum(x[x > 0.2])
    c = np.sum(w["a"] * w["b"][1]) + np.sum(w["b"][0])
    return a + b + c


def test_indexing():
    x = R(3, 4)
    w = {"a": R(2), "b": (R(3), R(2))}
    check(index_reads, x, w, wrt=(0, 1))


def repeated_gather(x):
    idx = [0, 1, 1, 1, 2]
    return np.sum(x[idx] * np.arange(5.0))


def test_repeated_indices_accumulate():
    g = check(repeated_gather, R(3))
    np.testing.assert_allclose(g(np.zeros(3)), [0.0, 6.0, 4.0])


# ---- assignment forms -------------------------------------------------------
def assignment_forms(w, x):
    a, (b, c) = w[0] * 1.0, (w[1], w[2])   # a is a new array: a += b must not write into w[0]
    a += b
    a *= 2
    state = [x, x]
    d = {"h": x}
    for i in range(2):
        state[0], state[1] = np.tanh(a * state[1]), state[0] + c
        d["h"] = d["h"] * b
    hs = []
    for s in state:
        hs.append(s * 2)
    return np.sum(np.stack(hs)) + np.sum(d["h"])


def array_write(x):
    y = np.zeros(3)
    y[0] = x[1] * 2
    y[1:] = x[:2] ** 2
    return np.sum(y * y)


def test_assignment_forms():
    check(assignment_forms, [R(3), R(3), R(3)], R(3), wrt=(0, 1))


def test_array_element_writes():
    check(array_write, R(3))


def lm_loss(w, s, seq):
    total, count = 0.0, 0
    for t in range(len(seq) - 1):
        s[0] = np.tanh(w[0] @ s[0] + w[1] @ seq[t])
        ypred = w[2] @ s[0]
        ynorm = ypred - np.log(np.sum(np.exp(ypred), axis=0, keepdims=True))
        total += np.sum(seq[t + 1] * ynorm)
        count += seq[t + 1].shape[1]
    return -total / count


def test_state_list_side_effects_are_kept():
    w = [R(4, 4) * 0.5, R(4, 3), R(3, 4)]
    seq = [np.eye(3)[:, rng.integers(0, 3, 2)] for _ in range(4)]
    s0 = [np.zeros((4, 2))]
    g = knet.grad(lm_loss, mode="source")
    s = list(s0)
    dw = g(w, s, seq)
    expected_state = [s0[0]]
    lm_loss(w, expected_state, seq)
    np.testing.assert_allclose(s[0], expected_state[0])   # exactly one call's side effect
    assert_tree_allclose(dw, numeric_grad(lambda w: lm_loss(w, list(s0), seq), (w,), 0), rtol=1e-5)


# ---- the public API ---------------------------------------------------------
def linreg_loss(w, x, y):
    return np.sum((y - predict(w, x)) ** 2) / y.shape[1]


def test_value_and_grad_and_gradloss():
    w, x, y = [R(1, 3), R(1, 1)], R(3, 5), R(1, 5)
    v, g = knet.value_and_grad(linreg_loss)(w, x, y)
    g2, v2 = knet.gradloss(linreg_loss)(w, x, y)
    assert v == pytest.approx(linreg_loss(w, x, y))
    assert v2 == pytest.approx(v)
    assert_tree_allclose(g, g2)


def test_decorator_forms_and_structure():
    @knet.grad
    def f(w):
        return np.sum(w["a"] ** 2) + w["c"][0] * 3.0

    w = {"a": R(2), "b": R(3), "c": (1.5, 2.0)}
    g = f(w)
    assert set(g) == {"a", "b", "c"}
    np.testing.assert_allclose(g["a"], 2 * w["a"])
    np.testing.assert_array_equal(g["b"], np.zeros(3))      # unused: zeros, never None
    assert isinstance(g["c"], tuple) and g["c"] == (3.0, 0.0)
    assert isinstance(g["c"][0], float)

    @knet.grad(wrt=(0, 2))
    def h(a, b, c):
        return a * b * c
    assert h(2.0, 3.0, 4.0) == (12.0, 6.0)


def test_integer_parameters_are_an_error():
    with pytest.raises(knet.GradientInputError, match="integer"):
        knet.grad(lambda w: np.sum(w * 2.0))(np.arange(3))
    with pytest.raises(knet.GradientInputError, match=r"w\[1\]"):
        knet.grad(lambda w: w[0] * 2.0)([1.0, 2])


def test_scalar_result_required():
    with pytest.raises(knet.GradientInputError, match=r"shape \(3,\), expected a scalar"):
        knet.grad(lambda x: x * 2.0)(np.ones(3))


def test_source_is_readable_and_deterministic():
    g = knet.grad(linreg_loss)
    g([R(1, 3), R(1, 1)], R(3, 5), R(1, 5))
    src = g.source
    assert "# Grad of: return np.sum((y - predict(w, x)) ** 2) / y.shape[1]" in src
    assert "dw" in src and "def linreg_loss_vjp(w, x, y):" in src
    assert "return (dw, None, None)" in src
    g2 = knet.grad(linreg_loss)
    g2([R(1, 3), R(1, 1)], R(3, 5), R(1, 5))
    assert g2.source == src


def test_compiled_once_and_recompiled_on_redefinition(tmp_path, monkeypatch):
    """Other shapes reuse the code; a redefined function (a re-run cell) recompiles."""
    import importlib
    from knetc.transform import cache
    monkeypatch.syspath_prepend(str(tmp_path))
    mod = tmp_path / "knetc_redefined.py"
    mod.write_text("import numpy as np\ndef f(x):\n    return np.sum(x * x)\n")
    m = importlib.import_module("knetc_redefined")
    g = knet.grad(m.f)
    g(R(3))
    n = cache.cache_size()
    g(R(3))
    g(R(5))
    assert cache.cache_size() == n
    mod.write_text("import numpy as np\ndef f(x):\n    return np.sum(x * x * x)\n")
    import linecache
    linecache.checkcache(str(mod))
    m = importlib.reload(m)
    x = R(3)
    np.testing.assert_allclose(knet.grad(m.f)(x), 3 * x ** 2)
    assert cache.cache_size() == n + 1


def test_user_primitive():
    @knet.primitive
    def cube(x):
        return x ** 3
    knet.defvjp(cube, lambda g, ans, x: g * 3 * x ** 2)

    def f(x):
        return np.sum(cube(x) * 2)
    check(f, R(4))


def test_unsupported_construct_names_file_and_line():
    def f(x):
        try:
            y = x * 2
        except ValueError:
            y = x
        return np.sum(y)
    with pytest.raises(knet.UnsupportedError) as e:
        knet.grad(f, mode="source")(R(3))
    assert "try/except" in str(e.value)
    assert "test_compiler.py:" in str(e.value)


def test_runtime_error_points_at_user_line():
    def f(w, x):
        h = w @ x
        return np.sum(h)
    with pytest.raises(ValueError) as e:
        knet.grad(f)(R(2, 3), R(4, 2))
    notes = "\n".join(getattr(e.value, "__notes__", []))
    assert "h = w @ x" in notes and "test_compiler.py" in notes


def test_float_parameter_and_math():
    def f(a, x):
        return math.exp(0.5) * a * np.sum(x) + a ** 2
    g = knet.grad(f, wrt=(0, 1))(1.5, np.ones(3))
    assert isinstance(g[0], float)
    assert g[0] == pytest.approx(math.exp(0.5) * 3 + 3.0)


def nested_reads_parameter(w, x):
    def layer(v, k=1.0):
        return np.tanh(w[0] @ v + w[1]) * k
    scale = lambda v: v * w[2]
    return np.sum(scale(layer(layer(x), k=2.0)))


def test_nested_def_reading_a_differentiated_variable():
    w = [R(3, 3), R(3, 1), R(3, 1)]
    g = check(nested_reads_parameter, w, R(3, 4), wrt=(0, 1))
    assert "_free=('w',)" in g.source


# ---- helpers that write into a state list (Knet's charlm: predict(w, s, x)) ---------
def lstm_step(w, s, x):
    h = s[0].shape[1]
    gates = np.hstack((x, s[0])) @ w[0].T + w[1]
    forget = 1 / (1 + np.exp(-gates[:, :h]))
    ingate = 1 / (1 + np.exp(-gates[:, h:2 * h]))
    change = np.tanh(gates[:, 2 * h:3 * h])
    s[1] = forget * s[1] + ingate * change
    s[0] = np.tanh(s[1])
    return s[0] @ w[2]


def charlm_loss(w, s, seq):
    total, count = 0.0, 0
    for t in range(len(seq) - 1):
        ypred = lstm_step(w, s, seq[t])
        ynorm = ypred - np.log(np.sum(np.exp(ypred), axis=1, keepdims=True))
        total += np.sum(seq[t + 1] * ynorm)
        count += seq[t + 1].shape[0]
    return -total / count


def test_helper_writing_into_the_state_list():
    H, V, B = 3, 4, 2
    w = [R(3 * H, V + H) * 0.5, R(1, 3 * H) * 0.1, R(H, V)]
    seq = [np.eye(V)[rng.integers(0, V, B)] for _ in range(5)]
    g = knet.grad(charlm_loss, mode="source")
    s = [np.zeros((B, H)), np.zeros((B, H))]
    dw = g(w, s, seq)
    after = [np.zeros((B, H)), np.zeros((B, H))]
    charlm_loss(w, after, seq)
    np.testing.assert_allclose(s[0], after[0])               # the state advanced exactly once
    fresh = lambda w: charlm_loss(w, [np.zeros((B, H)), np.zeros((B, H))], seq)
    assert_tree_allclose(dw, numeric_grad(fresh, (w,), 0), rtol=1e-5, atol=1e-8)
    assert "call_vjp(lstm_step, (True, True, False), w, s, _t" in g.source
    assert "def lstm_step_pullback(dlstm_step, *after):" in g.source


@pytest.mark.parametrize("mode", ["source", "tape"])
def test_out_buffers_receive_and_accumulate_gradients(mode):
    def loss(w, x):
        return np.sum(np.tanh(w["a"] @ x) ** 2) + np.sum(w["b"] * w["b"])

    r = np.random.default_rng(5)
    w = {"a": r.standard_normal((3, 4)), "b": r.standard_normal(2)}
    x = r.standard_normal((4, 5))
    want = knet.grad(loss, mode=mode)(w, x)
    buffers = knet.zeros_like(w)
    a_buffer = buffers["a"]
    g = knet.grad(loss, mode=mode, out=buffers)
    got = g(w, x)
    assert got is buffers and got["a"] is a_buffer          # written in place, returned
    np.testing.assert_allclose(got["a"], want["a"])
    np.testing.assert_allclose(got["b"], want["b"])
    got = g(w, x)                                            # overwritten, not summed
    np.testing.assert_allclose(got["a"], want["a"])

    total = knet.zeros_like(w)
    acc = knet.value_and_grad(loss, mode=mode, out=total, accumulate=True)
    for _ in range(3):
        value, _ = acc(w, x)
    assert value == pytest.approx(loss(w, x))
    np.testing.assert_allclose(total["a"], 3 * want["a"])
    np.testing.assert_allclose(total["b"], 3 * want["b"])


def test_out_buffers_must_match_the_gradient():
    def loss(w):
        return np.sum(w[0] * w[1])

    w = [np.ones(3), np.ones(3)]
    with pytest.raises(knet.GradientInputError, match=r"out\[1\] must be an array of shape \(3,\)"):
        knet.grad(loss, out=[np.zeros(3), np.zeros(2)])(w)
    with pytest.raises(knet.GradientInputError, match="out has 1 entries"):
        knet.grad(loss, out=[np.zeros(3)])(w)
    with pytest.raises(ValueError, match="accumulate=True needs out="):
        knet.grad(loss, accumulate=True)


def _timed_inner(w, x):
    return np.tanh(w @ x)


def _timed_outer(w, x):
    return np.sum(_timed_inner(w, x) ** 2)


def test_compile_seconds_covers_the_function_and_its_helpers():
    g = knet.grad(_timed_outer)
    assert g.compile_seconds == 0.0                       # nothing compiled before the first call
    g(np.ones((2, 3)), np.ones((3, 4)))
    from knetc.compiled_report import collect_compiled
    parts = collect_compiled(g._last[0].compiled)
    assert len(parts) == 2 and all(p.compile_seconds > 0 for p in parts)
    assert g.compile_seconds == pytest.approx(sum(p.compile_seconds for p in parts))


def _zeros_state(H, B):
    return np.zeros((H, B))


def _loss_with_plain_helper(w, x):
    h = _zeros_state(w.shape[0], x.shape[1])
    return np.sum(np.tanh(w @ x + h))


def test_helpers_without_differentiated_arguments_are_plain_calls_on_numpy():
    g = knet.grad(_loss_with_plain_helper)
    w, x = np.ones((2, 3)), np.ones((3, 4))
    np.testing.assert_allclose(g(w, x), numeric_grad(_loss_with_plain_helper, (w, x)), rtol=1e-6)
    assert "h = _zeros_state(_t" in g.source and "call_on_gpu" not in g.source


def _mean_of_stack(w, hs):
    return np.mean(np.stack(hs), axis=0) * w


def _loss_growing_list_after_helper(w):
    hs = [w * 1.0, np.tanh(w)]
    total = 0.0
    for _ in range(2):
        y = _mean_of_stack(w, hs)          # the helper's pullback needs hs as it is now
        hs.append(np.sin(y))              # ... and the caller grows it afterwards
        hs[0] = hs[0] * 2.0               # ... and replaces an entry
        total = total + np.sum(y * y)
    return total


def test_a_list_the_caller_changes_after_a_helper_call_keeps_its_value_at_the_call():
    # found by the fuzzer (seed 401619): the helper's pullback stacked the grown list
    w = np.array([0.3, -0.5, 0.8])
    for mode in ("source", "tape"):
        got = knet.grad(_loss_growing_list_after_helper, mode=mode)(w)
        assert_tree_allclose(got, numeric_grad(_loss_growing_list_after_helper, (w,)), rtol=1e-6, atol=1e-9)


def _swapping(w, x):
    a, b = w[0] * x, np.tanh(w[1])
    for _ in range(3):
        a, b = b, a * 0.5 + b              # both right sides are read before either name is bound
    c, (d, e) = a, (b, a)                   # nested targets still unpack a tuple
    return np.sum(a * c) + np.sum(d * e)


def test_parallel_assignment_binds_each_element_without_a_tuple():
    w, x = [np.array([0.3, -0.7]), np.array([0.2, 0.9])], np.array([1.5, -0.4])
    g = knet.grad(_swapping)
    assert_tree_allclose(g(w, x), numeric_grad(_swapping, (w, x)), rtol=1e-6, atol=1e-9)
    assert _swapping(w, x) == pytest.approx(
        knet.value_and_grad(_swapping)(w, x)[0])
    primal = g.source.split("def _swapping_pullback")[0]
    assert [line.strip() for line in primal.splitlines() if " = (" in line] == ["_t8 = (b, a)"]  # the nested one


def _dead_loop(a, b):
    for _ in range(2):
        a = np.sqrt(a - 10.0)              # NaN, in a value that is then swapped out of use
    a, b = b, a
    return np.sum(a * a)


def _dead_if(a, b):
    if np.sum(b) < 100.0:
        a = np.sqrt(a - 10.0)
    a, b = b, a
    return np.sum(a * a)


def _dead_if_in_loop(a, b):
    for i in range(3):
        if i > 0:
            a = np.sqrt(a - 10.0)
        else:
            a = a * 2.0
    a, b = b, a
    return np.sum(a * a)


@pytest.mark.parametrize("f", [_dead_loop, _dead_if, _dead_if_in_loop])
def test_a_block_no_adjoint_reaches_only_restores_and_gives_no_nan(f):
    # found by the fuzzer (seed 501587): 0 * NaN in the reverse of a loop whose result is unused
    a, b = np.array([1.0, 2.0]), np.array([0.5, -1.0])
    g = knet.grad(f, wrt=(0, 1), mode="source")
    with np.errstate(invalid="ignore"):
        da, db = g(a, b)
        da2, db2 = g(a + 0.5, b)                          # the restored values keep the stack in step
    np.testing.assert_array_equal(da, np.zeros(2))
    np.testing.assert_allclose(db, 2 * b)
    np.testing.assert_array_equal(da2, np.zeros(2))
    assert "no adjoint reaches this block" in g.source
