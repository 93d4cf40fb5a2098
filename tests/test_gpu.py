"""knetc on the GPU: the same code on CuPy arrays must give the NumPy results.

Skipped unless CuPy imports and sees a CUDA device (``knetc.device.gpu_available()``);
run only these with ``pytest -m gpu``.

* every derivative-rule case of tests/test_rules.py that CuPy can evaluate:
  the VJP on CuPy arrays equals the VJP on NumPy arrays and stays on the GPU;
* gradients of representative losses (linear regression, softmax, MLP,
  LSTM, conv4 + pool) with ``knetc.grad``: CuPy float64 against NumPy
  float64 (relative error < 1e-5), CuPy float32 against NumPy float64 (< 1e-3);
* the fused kernels of knetc.runtime.gpu_kernels against their references;
* memory: knetc's pool is installed, counts driver allocations, honours a
  limit, and a warmed-up MLP training step makes no new driver allocation;
* one epoch of an MLP on MNIST on the GPU reaches > 90% test accuracy
  (skipped when the data is missing; ``KNETC_DATA`` is set by conftest.py).
"""
import importlib
import importlib.util
import pathlib
import sys

import numpy as np
import pytest

import knetc
from knetc import device, nn
from knetc.runtime import gpu_kernels as gk
from knetc.runtime.backend import is_cupy_array
from knetc.runtime.rules import all_rules, rule_for
from knetc.testing import _as_lists, _leaves, _random_like, assert_tree_allclose

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not device.gpu_available(), reason="needs CuPy and a CUDA device"),
]

HERE = pathlib.Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def cp():
    import cupy
    return cupy


def sibling(name):
    """A test module of this folder (the one pytest imported, else loaded from its file)."""
    if name in sys.modules:
        return sys.modules[name]
    try:
        return importlib.import_module(name)
    except ImportError:
        spec = importlib.util.spec_from_file_location(f"knetc_gpu_{name}", HERE / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module


def relerr(a, b):
    a = np.asarray(device.to_cpu(a), np.float64)
    b = np.asarray(device.to_cpu(b), np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.linalg.norm((a - b).ravel()) / max(np.linalg.norm(b.ravel()), 1e-30))


def host_leaves_left(tree):
    """Array leaves of ``tree`` that are NumPy arrays (with elements) instead of CuPy arrays."""
    return [type(x).__name__ for x in _leaves(tree) if type(x) is np.ndarray and x.ndim > 0]


# --- device basics ---------------------------------------------------------------------------
def test_to_gpu_and_back_keep_structure(cp):
    from collections import namedtuple
    P = namedtuple("P", "w b")
    tree = {"layers": [np.ones((3, 2)), (np.zeros((3, 1)), 0.5)], "p": P(np.eye(2), 2.0),
            "idx": np.arange(3), "n": 4}
    g = device.to_gpu(tree)
    assert isinstance(g["layers"], list) and isinstance(g["layers"][1], tuple) and isinstance(g["p"], P)
    assert is_cupy_array(g["layers"][0]) and is_cupy_array(g["idx"]) and g["idx"].dtype == tree["idx"].dtype
    assert g["layers"][1][1] == 0.5 and isinstance(g["layers"][1][1], float) and g["n"] == 4
    assert device.to_gpu(g)["layers"][0] is g["layers"][0]            # already on the GPU
    g32 = device.to_gpu(tree, dtype=np.float32)
    assert g32["p"].w.dtype == np.float32 and g32["idx"].dtype == tree["idx"].dtype
    back = device.to_cpu(g)
    assert isinstance(back["layers"][0], np.ndarray) and isinstance(back["p"], P)
    assert_tree_allclose(back["layers"], tree["layers"])

    a = device.array([[1, 2], [3, 4]], device="gpu", dtype=np.float32)
    assert is_cupy_array(a) and a.dtype == np.float32
    b = device.array(a)                                    # stays on the GPU, a copy
    assert is_cupy_array(b) and b.data.ptr != a.data.ptr
    c = device.array(a, device="cpu", dtype=np.float64)
    assert isinstance(c, np.ndarray) and c.dtype == np.float64 and c.tolist() == [[1, 2], [3, 4]]
    d = device.array([a[0], a[1]], device=None)            # a list of GPU rows stays on the GPU
    assert is_cupy_array(d) and d.shape == (2, 2)


def test_memory_pool_counts_driver_allocations_and_honours_a_limit(cp):
    kept = device.to_gpu([np.ones(4)])                     # installs knetc's pools (lazily)
    stats = device.memory_stats()
    assert stats["device"] == "gpu"
    assert stats["bytes_held"] >= stats["bytes_in_use"] > 0
    assert stats["driver_allocations"] >= 1 and stats["pinned_bytes"] >= 0
    del kept
    n = stats["driver_allocations"]
    big = cp.empty(stats["bytes_held"] + 32 * 2 ** 20, dtype=np.uint8)   # larger than any cached block
    assert device.memory_stats()["driver_allocations"] > n, "cupy does not allocate through knetc's pool"
    del big
    held = device.memory_stats()["bytes_held"]
    try:
        device.configure_memory(limit=held + 16 * 2 ** 20)
        with pytest.raises(cp.cuda.memory.OutOfMemoryError):
            cp.empty(held + 64 * 2 ** 20, dtype=np.uint8)
    finally:
        device.configure_memory(limit=0)                   # no cap
    assert device.memory_stats()["limit"] == 0


# --- every rule case that CuPy can evaluate -------------------------------------------------------
def _has_array(x):
    return any(isinstance(leaf, np.ndarray) for leaf in _leaves(x))


def test_rule_vjps_on_cupy_equal_numpy(cp):
    cases = sibling("test_rules").CASES
    failures, unsupported, checked = [], [], set()
    for name, fun, args, kwargs, argnum in cases:
        if not _has_array((args, kwargs)):
            continue                                       # Python scalars only: nothing for the GPU
        dargs, dkwargs = device.to_gpu(list(args)), device.to_gpu(kwargs)
        try:
            ans_d = fun(*dargs, **dkwargs)
        except Exception as e:  # noqa: BLE001 - CuPy lacks this call: not a knetc rule
            unsupported.append(f"{name} ({type(e).__name__})")
            continue
        ans_h = fun(*args, **kwargs)
        g_h = _random_like(ans_h, np.random.default_rng(0))
        g_d = device.to_gpu(g_h)
        rule = rule_for(fun)
        want = rule.vjp(argnum)(g_h, ans_h, *args, **kwargs)
        try:
            got = rule.vjp(argnum, gpu=True)(g_d, ans_d, *dargs, **dkwargs)
        except Exception as e:  # noqa: BLE001
            failures.append(f"{name}: the VJP raised {type(e).__name__}: {e}")
            continue
        left = host_leaves_left(got)
        if left:
            failures.append(f"{name}: the adjoint left the GPU ({left})")
            continue
        try:
            assert_tree_allclose(_as_lists(device.to_cpu(got)), _as_lists(want), rtol=1e-5, atol=1e-7)
        except AssertionError as e:
            failures.append(f"{name}: {e}")
            continue
        checked.add(rule_for(fun).name)
    print(f"\n{len(checked)} rules checked on CuPy; not evaluable by CuPy: {unsupported}")
    assert not failures, f"{len(failures)} rule case(s) differ on the GPU:\n" + "\n".join(failures[:40])
    assert len(checked) >= 40, sorted(checked)


def _gpu_rule_cases(r):
    """(primitive, args, kwargs) covering every rule that has GPU VJPs (defvjp_gpu)."""
    R = r.standard_normal
    return [
        (nn.relu, (R((7, 5)),), {}), (nn.sigm, (R((7, 5)),), {}), (np.tanh, (R((3, 4, 5)),), {}),
        (nn.logp, (R((6, 5)),), {}), (nn.logp, (R((6, 5)),), {"axis": 1}), (nn.logp, (R((4, 3, 2)),), {}),
        (nn.logsumexp, (R((6, 5)),), {}), (nn.logsumexp, (R((6, 5)),), {"keepdims": True}),
        (nn.logsumexp, (R((6, 5)),), {"axis": 1}), (nn.logsumexp, (R((4, 3, 2)),), {}),
    ]


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-10), (np.float32, 1e-5)])
def test_gpu_vjps_equal_the_rules_definitions(cp, dtype, tol):
    r = np.random.default_rng(7)
    covered = set()
    for fun, args, kwargs in _gpu_rule_cases(r):
        args = tuple(a.astype(dtype) for a in args)
        rule = rule_for(fun)
        ans = fun(*args, **kwargs)
        g = r.standard_normal(np.shape(ans)).astype(dtype)
        dargs, ans_d, g_d = device.to_gpu(list(args)), fun(*device.to_gpu(list(args)), **kwargs), cp.asarray(g)
        np.testing.assert_allclose(ans_d.get(), ans, rtol=tol, atol=tol)      # the fused primal
        for i in range(len(args)):
            want = rule.vjp(i)(g, ans, *args, **kwargs)
            got = rule.vjp(i, gpu=True)(g_d, ans_d, *dargs, **kwargs)
            assert is_cupy_array(got) and got.dtype == dtype, (rule.name, type(got), got.dtype)
            np.testing.assert_allclose(got.get(), want, rtol=tol, atol=tol, err_msg=f"{rule.name} {kwargs}")
        covered.add(rule.name)
    with_gpu = {rule.name for rule in all_rules().values() if rule.gpu_vjps is not None}
    assert with_gpu <= covered, f"GPU VJPs without a test case: {sorted(with_gpu - covered)}"


@pytest.mark.parametrize("axis", [0, -1])
def test_lstm_cell_on_cupy_equals_numpy(cp, axis):
    r = np.random.default_rng(8)
    gates = r.standard_normal((12, 5) if axis == 0 else (5, 12))
    c = r.standard_normal((3, 5) if axis == 0 else (5, 3))
    dh, dc = r.standard_normal(c.shape), r.standard_normal(c.shape)
    want = nn.lstm(gates, c, axis=axis)
    got = nn.lstm(cp.asarray(gates), cp.asarray(c), axis=axis)
    assert "lstm_cell" in gk.kernel_cache()
    assert_tree_allclose(device.to_cpu(list(got)), list(want), rtol=1e-10, atol=1e-12)
    rule = rule_for(nn.lstm)
    for k in (0, 1):
        for pair in [(dh, dc), (dh, None), (None, dc)]:
            w = rule.vjp(k)(pair, want, gates, c, axis)
            dpair = tuple(None if p is None else cp.asarray(p) for p in pair)
            d = rule.vjp(k)(dpair, got, cp.asarray(gates), cp.asarray(c), axis)
            assert is_cupy_array(d)
            np.testing.assert_allclose(d.get(), w, rtol=1e-10, atol=1e-12)


def test_compiled_code_for_cupy_uses_fused_vjps_and_device_constants(cp):
    def loss(w, x):
        h = np.zeros((w.shape[0], x.shape[1]), dtype=x.dtype)
        mask = np.ones((1, x.shape[1]), dtype=x.dtype)
        h = nn.relu(w @ x + h) * mask
        return np.sum(np.tanh(h) * nn.sigm(h))

    r = np.random.default_rng(9)
    w, x = r.standard_normal((4, 3)), r.standard_normal((3, 6))
    want = knetc.grad(loss)(w, x)
    cpu_source = knetc.grad(loss)
    cpu_source(w, x)
    g = knetc.grad(loss, mode="source")
    got = g(cp.asarray(w), cp.asarray(x))
    assert is_cupy_array(got)
    np.testing.assert_allclose(got.get(), want, rtol=1e-10)
    assert "xp = creation_module(w, x)" in g.source and "xp.zeros(" in g.source
    assert "gpu_kernels.relu_vjp(" in g.source and "gpu_kernels.tanh_vjp(" in g.source
    assert "gpu_kernels" not in cpu_source.source        # NumPy arguments: the plain rules
    tape = knetc.grad(loss, mode="tape")(cp.asarray(w), cp.asarray(x))
    np.testing.assert_allclose(tape.get(), want, rtol=1e-10)


@pytest.mark.parametrize("mode", ["source", "tape"])
def test_lstm_cell_in_a_loss_on_cupy(cp, mode):
    H, V, B, T = 3, 5, 4, 3
    r = np.random.default_rng(10)
    w = [r.standard_normal((4 * H, V)), r.standard_normal((4 * H, H)), r.standard_normal((4 * H, 1)),
         r.standard_normal((V, H))]
    xs = r.standard_normal((T, V, B))
    loss = sibling("test_nn").lstm_cell_loss      # np.zeros inside: the state follows the device
    want = knetc.grad(loss, mode=mode)(w, xs)
    got = knetc.grad(loss, mode=mode)(device.to_gpu(w), cp.asarray(xs))
    assert all(is_cupy_array(gi) for gi in got)
    assert max(relerr(a, b) for a, b in zip(got, want)) < 1e-10


def test_out_buffers_on_cupy(cp):
    loss, w, *data = LOSSES["mlp"]
    want = knetc.grad(loss)(w, *data)
    wd, datad = device.to_gpu(w), [device.to_gpu(d) for d in data]
    buffers = knetc.zeros_like(wd)
    ptrs = [b.data.ptr for b in buffers]
    got = knetc.grad(loss, out=buffers)(wd, *datad)
    assert got is buffers and [b.data.ptr for b in got] == ptrs
    assert max(relerr(a, b) for a, b in zip(got, want)) < 1e-10


# --- representative losses ----------------------------------------------------------------------
def linreg(w, x, y):
    return np.mean((w[0] @ x + w[1] - y) ** 2)


def logp_columns(z):
    z = z - np.max(z, axis=0, keepdims=True)
    return z - np.log(np.sum(np.exp(z), axis=0, keepdims=True))


def softmax_loss(w, x, y):
    return -np.sum(y * logp_columns(w[0] @ x + w[1])) / y.shape[1]


def mlp_loss(w, x, labels):
    h = nn.relu(w[0] @ x + w[1])
    return nn.nll(w[2] @ h + w[3], labels)


def lstm_step(w, h, c, x):
    H = h.shape[0]
    gates = w[0] @ x + w[1] @ h + w[2]
    i, f, o = nn.sigm(gates[:H]), nn.sigm(gates[H:2 * H]), nn.sigm(gates[2 * H:3 * H])
    c = f * c + i * np.tanh(gates[3 * H:])
    return o * np.tanh(c), c


def lstm_loss(w, xs, ys):
    H, B = w[1].shape[1], xs.shape[2]
    h = np.zeros((H, B), dtype=xs.dtype)
    c = np.zeros((H, B), dtype=xs.dtype)
    total = 0.0
    for t in range(xs.shape[0]):
        h, c = lstm_step(w, h, c, xs[t])
        total = total + np.sum(ys[t] * nn.logp(w[3] @ h + w[4]))
    return -total / (xs.shape[0] * B)


def conv_loss(w, x, labels):
    h = nn.pool(nn.relu(nn.conv4(w[0], x, padding=1) + w[1]))
    h = nn.mat(h)
    return nn.nll(w[2] @ h + w[3], labels)


def bn_loss(w, x, y):
    h = nn.batchnorm(w[0] @ x, w[1], w[2])
    return nn.bce(np.sum(w[3] * np.tanh(h), axis=0, keepdims=True), y)


def _onehot(labels, n):
    y = np.zeros((n, labels.size))
    y[labels, np.arange(labels.size)] = 1
    return y


def _losses():
    r = np.random.default_rng(3)
    R = lambda *s, scale=0.5: scale * r.standard_normal(s)  # noqa: E731
    labels = r.integers(0, 5, 16)
    T, V, H, B = 3, 6, 4, 5
    xs = np.zeros((T, V, B))
    xs[np.arange(T)[:, None], r.integers(0, V, (T, B)), np.arange(B)] = 1
    ys = np.roll(xs, -1, axis=0)
    cases = {
        "linreg": (linreg, [R(1, 13), R(1, 1)], R(13, 16), R(1, 16)),
        "softmax": (softmax_loss, [R(5, 20), R(5, 1)], R(20, 16), _onehot(labels, 5)),
        "mlp": (mlp_loss, [R(12, 20), R(12, 1, scale=0.1), R(5, 12), R(5, 1)], R(20, 16), labels),
        "lstm": (lstm_loss, [R(4 * H, V), R(4 * H, H), R(4 * H, 1), R(V, H), R(V, 1)], xs, ys),
        "batchnorm+bce": (bn_loss, [R(6, 8), 1 + R(6, 1), R(6, 1), R(6, 1)], R(8, 16),
                          (r.random((1, 16)) > 0.5).astype(np.float64)),
    }
    if all(hasattr(nn, f) for f in ("conv4", "pool", "mat")):
        cases["conv4+pool"] = (conv_loss, [R(3, 2, 3, 3), R(1, 3, 1, 1, scale=0.1), R(5, 3 * 4 * 4), R(5, 1)],
                               R(4, 2, 8, 8), labels[:4])
    return cases


LOSSES = _losses()


@pytest.mark.parametrize("name", list(LOSSES))
@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-5), (np.float32, 1e-3)])
def test_gradients_on_cupy_equal_numpy(cp, name, dtype, tol):
    loss, w, *data = LOSSES[name]
    want_value, want = knetc.value_and_grad(loss)(w, *data)      # NumPy float64, the reference
    wd = device.to_gpu(w, dtype=dtype)
    datad = [device.to_gpu(d, dtype=dtype) for d in data]
    value, got = knetc.value_and_grad(loss)(wd, *datad)
    assert isinstance(got, list) and len(got) == len(w)
    for i, (gi, wi) in enumerate(zip(got, wd)):
        assert is_cupy_array(gi), f"{name}: grad[{i}] is a {type(gi).__name__}, not on the GPU"
        assert gi.dtype == wi.dtype and gi.shape == wi.shape, (name, i, gi.dtype, gi.shape)
        err = relerr(gi, want[i])
        assert err < tol, f"{name} {np.dtype(dtype).name}: grad[{i}] relative error {err:.2e} >= {tol}"
    assert abs(float(value) - float(want_value)) <= tol * max(1.0, abs(float(want_value)))


def test_tape_gradients_on_cupy_equal_numpy(cp):
    loss, w, *data = LOSSES["mlp"]
    want = knetc.grad(loss, mode="tape")(w, *data)
    got = knetc.grad(loss, mode="tape")(device.to_gpu(w), *device.to_gpu(data))
    assert all(is_cupy_array(g) for g in got)
    assert max(relerr(g, h) for g, h in zip(got, want)) < 1e-5


# --- fused kernels ---------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fused_kernels_equal_references(cp, dtype):
    tol = {"rtol": 1e-10, "atol": 1e-12} if dtype == np.float64 else {"rtol": 1e-4, "atol": 1e-5}
    names = set()
    for name, args, kwargs in sibling("test_device").kernel_cases(dtype):
        fun, ref = gk.KERNELS[name]
        with np.errstate(divide="ignore"):
            want = ref(*args, **kwargs)
        got = fun(*device.to_gpu(list(args)), **kwargs)
        assert name in gk.kernel_cache(), f"{name}: the CuPy path did not build its kernel"
        for leaf in got if isinstance(got, tuple) else (got,):
            assert is_cupy_array(leaf) and leaf.dtype == dtype, (name, type(leaf), leaf.dtype)
        assert_tree_allclose(device.to_cpu(got), want, **tol)
        names.add(name)
    assert names == set(gk._SPECS)
    # strided and Fortran-ordered device views (raw arguments are indexed through their strides)
    r = np.random.default_rng(4)
    xd = cp.asarray(r.standard_normal((6, 10)).astype(dtype))
    for v in (xd[:, ::2], cp.asfortranarray(xd), xd[::-1], xd.T[2:7].T):
        for name, args in [("logp0", (v,)), ("logsumexp0", (v,)), ("relu", (v,)), ("sigm_vjp", (v, v)),
                           ("logp0_vjp", (v, gk.logp0(v)))]:
            fun, ref = gk.KERNELS[name]
            assert_tree_allclose(device.to_cpu(fun(*args)), ref(*device.to_cpu(list(args))), **tol)
    gates = cp.asarray(r.standard_normal((5, 24)).astype(dtype))[:, ::2]          # (5, 12), strided
    c = cp.asfortranarray(cp.asarray(r.standard_normal((5, 3)).astype(dtype)))
    for got, want in zip(gk.lstm_cell(gates, c), gk.lstm_cell_ref(gates.get(), c.get())):
        np.testing.assert_allclose(got.get(), want, **tol)
    dh = cp.asarray(r.standard_normal((5, 3)).astype(dtype))
    want_vjp = gk.lstm_cell_vjp_ref(dh.get(), None, gates.get(), c.get())
    for got, want in zip(gk.lstm_cell_vjp(dh, None, gates, c), want_vjp):
        np.testing.assert_allclose(got.get(), want, **tol)
    # mixed dtypes are left to the reference (NumPy's promotion), on the GPU
    mixed = gk.relu_vjp(cp.ones((2, 3)), cp.ones((2, 3), dtype=np.float32))
    assert is_cupy_array(mixed) and mixed.dtype == np.float64
    # the CuPy path of the unbroadcast helper: one reduction, result on the GPU
    g = cp.asarray(np.random.default_rng(1).standard_normal((5, 3, 4)).astype(dtype))
    u = gk.unbroadcast_to(g, (3, 1))
    assert is_cupy_array(u) and u.shape == (3, 1)
    np.testing.assert_allclose(u.get(), gk.unbroadcast_to_ref(g.get(), (3, 1)), **tol)


def test_kernels_are_differentiable_on_cupy_through_the_tape(cp):
    # the dispatchers fall back to the references for traced values, so the tape goes through them
    r = np.random.default_rng(2)
    gates, c = r.standard_normal((12, 5)), r.standard_normal((3, 5))
    dh, dc = r.standard_normal((3, 5)), r.standard_normal((3, 5))

    dh_d, dc_d = cp.asarray(dh), cp.asarray(dc)

    def f(gates, c):
        h, cn = gk.lstm_cell(gates, c, axis=0)
        return np.sum(h * dh_d) + np.sum(cn * dc_d)
    got = knetc.grad(f, wrt=(0, 1), mode="tape")(cp.asarray(gates), cp.asarray(c))
    want = gk.lstm_cell_vjp_ref(dh, dc, gates, c, axis=0)
    assert_tree_allclose(device.to_cpu(list(got)), list(want), rtol=1e-10, atol=1e-12)


# --- memory in a training loop ------------------------------------------------------------------------
def lenet_loss(w, x, labels):
    h = nn.pool(nn.relu(nn.conv4(w[0], x) + w[1]))
    h = nn.pool(nn.relu(nn.conv4(w[2], h) + w[3]))
    h = nn.relu(w[4] @ nn.mat(h) + w[5])
    return nn.nll(w[6] @ h + w[7], labels)


def _warm_step_case(name, r):
    if name == "mlp":
        w = [0.1 * r.standard_normal((64, 784)), np.zeros((64, 1)), 0.1 * r.standard_normal((10, 64)),
             np.zeros((10, 1))]
        return mlp_loss, w, r.random((784, 100))
    w = [0.1 * r.standard_normal((20, 1, 5, 5)), np.zeros((1, 20, 1, 1)), 0.1 * r.standard_normal((50, 20, 5, 5)),
         np.zeros((1, 50, 1, 1)), 0.05 * r.standard_normal((500, 800)), np.zeros((500, 1)),
         0.1 * r.standard_normal((10, 500)), np.zeros((10, 1))]
    return lenet_loss, w, r.random((100, 1, 28, 28))


@pytest.mark.parametrize("name", ["mlp", "lenet"])
@pytest.mark.parametrize("use_out", [False, True])
def test_warm_training_step_makes_no_driver_allocation(cp, name, use_out):
    device.configure_memory()
    r = np.random.default_rng(0)
    loss, w, x = _warm_step_case(name, r)
    w = device.to_gpu(w, dtype=np.float32)
    x = device.to_gpu(x, dtype=np.float32)
    labels = device.to_gpu(r.integers(0, 10, 100))
    out = knetc.zeros_like(w) if use_out else None
    value_and_grad = knetc.value_and_grad(loss, out=out)

    def step():
        loss, g = value_and_grad(w, x, labels)
        for p, gi in zip(w, g):
            p -= 0.1 * gi
        return float(loss)

    start = device.memory_stats()
    for _ in range(3):
        step()
    cp.cuda.Device().synchronize()
    before = device.memory_stats()
    losses = [step() for _ in range(10)]
    cp.cuda.Device().synchronize()
    after = device.memory_stats()
    print(f"\n{name} (out={'buffers' if use_out else 'None'}): driver allocations "
          f"{start['driver_allocations']} before the first step, {before['driver_allocations']} after 3 "
          f"warm-up steps, {after['driver_allocations']} after 10 more; pool holds {after['bytes_held']} bytes")
    assert after["driver_allocations"] == before["driver_allocations"], (before, after)
    assert after["bytes_held"] == before["bytes_held"], (before, after)
    assert all(np.isfinite(losses)) and losses[-1] < losses[0]


# --- MNIST ------------------------------------------------------------------------------------------------
def train_mnist_mlp(to_device, epochs=1, hidden=64, lr=0.5, batch=100, seed=0):
    """Train the Knet MNIST MLP with knetc.grad; returns the test accuracy.

    ``to_device`` moves a parameter structure or data array (``device.to_gpu``
    here; the identity runs the same code on the CPU).
    """
    from knetc import data
    xtrn, ytrn, xtst, ytst = data.load_mnist(dtype=np.float32)
    flat = lambda a: np.ascontiguousarray(a.reshape(len(a), -1).T)  # noqa: E731
    x, y = to_device(flat(xtrn)), to_device(ytrn)
    xt, yt = to_device(flat(xtst)), to_device(ytst)
    r = np.random.default_rng(seed)
    w = to_device([(0.1 * r.standard_normal((hidden, 784))).astype(np.float32), np.zeros((hidden, 1), np.float32),
                   (0.1 * r.standard_normal((10, hidden))).astype(np.float32), np.zeros((10, 1), np.float32)])
    grad = knetc.grad(mlp_loss)
    for _ in range(epochs):
        for xb, yb in data.minibatch(x, y, batch, shuffle=True, rng=seed):
            g = grad(w, xb, yb)
            for p, gi in zip(w, g):
                p -= lr * gi
    return nn.accuracy(w[2] @ nn.relu(w[0] @ xt + w[1]) + w[3], yt)


def test_mnist_mlp_epoch_on_gpu(cp):
    try:
        acc = train_mnist_mlp(device.to_gpu)
    except FileNotFoundError as e:
        pytest.skip(f"MNIST not available: {e}")
    assert acc > 0.9, f"test accuracy {acc:.4f} after one epoch"


def test_unbroadcast_on_cupy_is_one_reduction_and_stays_on_the_gpu(cp):
    from knetc.runtime.rules import unbroadcast
    g = np.random.default_rng(11).standard_normal((5, 3, 4))
    for shape in [(3, 1), (1, 4), (4,), (1, 1, 1), (3, 4)]:
        got = unbroadcast(cp.asarray(g), cp.zeros(shape))
        assert is_cupy_array(got) and got.shape == shape
        np.testing.assert_allclose(got.get(), unbroadcast(g, np.zeros(shape)), rtol=1e-12)
    up = unbroadcast(2.0, cp.zeros((2, 3)))                # a scalar adjoint of a broadcast scalar use
    assert is_cupy_array(up) and up.shape == (2, 3) and float(up[1, 2]) == 2.0


def _init_state(H, B):
    return np.zeros((H, B)), np.arange(B)   # made in a helper that takes no differentiated argument


def _state_loss(w, x):
    h, cols = _init_state(w.shape[0], x.shape[1])
    h = np.tanh(w @ x + h)
    return np.sum(h[:, cols[::-1]] * h)


@pytest.mark.parametrize("mode", ["source", "tape"])
def test_arrays_made_by_plain_helpers_land_on_the_gpu(cp, mode):
    r = np.random.default_rng(12)
    w, x = r.standard_normal((3, 4)), r.standard_normal((4, 5))
    want = knetc.grad(_state_loss, mode=mode)(w, x)
    g = knetc.grad(_state_loss, mode=mode)
    got = g(cp.asarray(w), cp.asarray(x))
    assert is_cupy_array(got)
    np.testing.assert_allclose(got.get(), want, rtol=1e-10)
    if mode == "source":
        assert "call_on_gpu(_init_state, " in g.source
    assert _init_state(2, 3)[0].__class__ is np.ndarray    # numpy is itself again afterwards
