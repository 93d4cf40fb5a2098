"""knetc.device and knetc.runtime.gpu_kernels on a machine without a GPU.

* device: gpu_available() never raises, structures keep their container
  types, memory_stats() reports zeros on the CPU, the GPU paths raise a clear
  KnetError, and the CPU paths never import CuPy;
* gpu_kernels: the NumPy references against straightforward math, knetc's
  rules, knetc.grad and finite differences; the dispatchers use the reference
  on NumPy arrays without building a kernel;
* the CUDA kernel bodies compiled as C++ for the host (skipped without a C++
  compiler) and run through the dispatchers' own argument handling against
  the references: the kernel math is checked here, the CuPy launch on the GPU
  in tests/test_gpu.py.
"""
import collections
import ctypes
import importlib.util
import os
import pathlib
import shutil
import subprocess
import sys
import types

import numpy as np
import pytest

import knetc
from knetc import device, nn
from knetc.errors import KnetError
from knetc.runtime import gpu_kernels as gk
from knetc.runtime.rules import rule_for, unbroadcast
from knetc.testing import assert_tree_allclose, numeric_grad

REPO = pathlib.Path(__file__).resolve().parents[1]
RNG = np.random.default_rng(7)
HAS_CUPY = importlib.util.find_spec("cupy") is not None


def randn(*shape, dtype=np.float64):
    return RNG.standard_normal(shape).astype(dtype)


@pytest.fixture
def no_gpu(monkeypatch):
    """Make knetc.device believe there is no GPU (whatever this machine has)."""
    monkeypatch.setattr(device, "_GPU", {"available": False})


# --- gpu_available ---------------------------------------------------------------------
def test_gpu_available_is_a_bool_and_cached():
    first = device.gpu_available()
    assert isinstance(first, bool)
    assert device.gpu_available() is first


@pytest.mark.skipif(HAS_CUPY, reason="CuPy is installed here")
def test_gpu_available_is_false_without_cupy():
    assert device.gpu_available() is False
    assert "cupy" not in sys.modules


def test_gpu_available_never_raises(monkeypatch):
    monkeypatch.setattr(device, "_GPU", {})
    monkeypatch.setitem(sys.modules, "cupy", None)          # import cupy raises ImportError
    assert device.gpu_available() is False

    def no_driver():
        raise RuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")

    broken = types.ModuleType("cupy")
    broken.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=no_driver))
    monkeypatch.setattr(device, "_GPU", {})
    monkeypatch.setitem(sys.modules, "cupy", broken)
    assert device.gpu_available() is False

    zero = types.ModuleType("cupy")
    zero.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=lambda: 0))
    monkeypatch.setattr(device, "_GPU", {})
    monkeypatch.setitem(sys.modules, "cupy", zero)
    assert device.gpu_available() is False


# --- without a GPU -----------------------------------------------------------------------
def test_gpu_paths_raise_knet_error_without_gpu(no_gpu):
    w = [np.ones((2, 2)), 1.5]
    with pytest.raises(KnetError, match="no GPU"):
        device.to_gpu(w)
    with pytest.raises(KnetError, match="no GPU"):
        device.array([1.0, 2.0], device="gpu")
    with pytest.raises(KnetError, match="GPU"):
        device.configure_memory()
    assert issubclass(KnetError, Exception) and KnetError is knetc.KnetError


def test_memory_stats_on_cpu(no_gpu):
    stats = device.memory_stats()
    assert stats["device"] == "cpu"
    for key in ("bytes_in_use", "bytes_held", "driver_allocations", "pinned_bytes"):
        assert stats[key] == 0, key
    assert set(stats) >= {"device", "bytes_in_use", "bytes_held", "driver_allocations", "pinned_bytes"}


Point = collections.namedtuple("Point", "w b")


def test_to_cpu_keeps_structure_on_numpy_trees():
    a, b, idx = randn(3, 2), randn(3, 1), np.arange(4)
    tree = {"layers": [a, (b, 0.5)], "p": Point(a, 2.0), "n": 3, "name": "mlp", "none": None,
            "od": collections.OrderedDict(x=b), "idx": idx}
    out = device.to_cpu(tree)
    assert type(out) is dict and list(out) == list(tree)
    assert isinstance(out["layers"], list) and isinstance(out["layers"][1], tuple)
    assert isinstance(out["p"], Point) and out["p"].b == 2.0 and isinstance(out["p"].b, float)
    assert isinstance(out["od"], collections.OrderedDict)
    assert out["n"] == 3 and out["name"] == "mlp" and out["none"] is None
    assert out["layers"][0] is a and out["idx"] is idx           # NumPy arrays are already on the CPU
    assert_tree_allclose(out["layers"], [a, (b, 0.5)])

    f32 = device.to_cpu(tree, dtype=np.float32)
    assert f32["layers"][0].dtype == np.float32 and f32["p"].w.dtype == np.float32
    assert f32["idx"].dtype == idx.dtype                         # integer arrays keep their dtype
    assert isinstance(f32["layers"][1][1], float)
    np.testing.assert_allclose(f32["layers"][0], a.astype(np.float32))


def test_array_on_cpu():
    x = device.array([[1, 2], [3, 4]], device="cpu", dtype=np.float32)
    assert isinstance(x, np.ndarray) and x.dtype == np.float32 and x.shape == (2, 2)
    src = randn(2, 3)
    y = device.array(src, device="cpu", dtype=np.float32)
    assert y.dtype == np.float32 and np.allclose(y, src, rtol=1e-6)
    z = device.array(src)                                     # device None: stays on the CPU, a copy
    assert isinstance(z, np.ndarray) and z.dtype == np.float64
    assert not np.shares_memory(z, src) and np.array_equal(z, src)
    z2 = device.array(src, device="CPU")
    assert np.array_equal(z2, src)
    nested = device.array([src[0], [7.0, 8.0, 9.0]], device=None)
    assert nested.shape == (2, 3)
    assert device.array(2.5, device="cpu").shape == ()
    with pytest.raises(ValueError, match="unknown device"):
        device.array(src, device="tpu")


def test_importing_knetc_and_cpu_work_never_import_cupy():
    code = """
import sys
import numpy as np
import knetc, knetc.device, knetc.nn, knetc.data
from knetc.runtime import gpu_kernels as gk

def loss(w, x, y):
    return np.sum((np.tanh(w[0] @ x + w[1]) - y) ** 2)

w = [np.ones((2, 3)), np.zeros((2, 1))]
g = knetc.grad(loss)(w, np.ones((3, 4)), np.zeros((2, 4)))
knetc.grad(loss, mode="tape")(w, np.ones((3, 4)), np.zeros((2, 4)))
knetc.grad(lambda p: knetc.nn.nll(p, np.array([0, 1])))(np.ones((3, 2)))
gk.relu(np.ones(3)); gk.logp0(np.ones((3, 2))); gk.lstm_cell(np.ones((2, 8)), np.ones((2, 2)))
knetc.device.to_cpu(w); knetc.device.array([1.0], device="cpu")
assert "cupy" not in sys.modules, sorted(m for m in sys.modules if m.startswith("cupy"))
print("ok", len(g))
"""
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=str(REPO), timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok 2"


# --- the references against straightforward math and knetc's rules -----------------------------
def vjp_of(fun, g, *args, **kwargs):
    return rule_for(fun).vjp(0)(g, fun(*args, **kwargs), *args, **kwargs)


def test_activation_references():
    x = np.concatenate([randn(20), [0.0, -0.0, 40.0, -40.0, 800.0, -800.0]])
    g = randn(x.size)
    np.testing.assert_array_equal(gk.relu_ref(x), np.maximum(x, 0))
    np.testing.assert_array_equal(gk.relu_ref(x), nn.relu(x))
    assert np.isnan(gk.relu_ref(np.array([np.nan]))[0])
    np.testing.assert_array_equal(gk.relu_vjp_ref(g, nn.relu(x)), vjp_of(nn.relu, g, x))
    np.testing.assert_array_equal(gk.relu_vjp_ref(g, nn.relu(x)), np.where(x > 0, g, 0.0))

    with np.errstate(over="ignore"):
        naive = 1 / (1 + np.exp(-x))
    # (1 + tanh(x/2)) / 2 rounds to 0 below x ~ -37, where 1/(1+exp(-x)) is still ~1e-17
    np.testing.assert_allclose(gk.sigm_ref(x), naive, rtol=1e-14, atol=1e-16)
    np.testing.assert_array_equal(gk.sigm_ref(x), nn.sigm(x))
    s = nn.sigm(x)
    np.testing.assert_allclose(gk.sigm_vjp_ref(g, s), g * naive * (1 - naive), rtol=1e-13, atol=1e-15)
    np.testing.assert_array_equal(gk.sigm_vjp_ref(g, s), vjp_of(nn.sigm, g, x))

    t = np.tanh(x)
    np.testing.assert_allclose(gk.tanh_vjp_ref(g, t), g / np.cosh(np.clip(x, -300, 300)) ** 2,
                               rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(gk.tanh_vjp_ref(g, t), vjp_of(np.tanh, g, x))

    x32 = x.astype(np.float32)
    for f in (gk.relu_ref, gk.sigm_ref):
        assert f(x32).dtype == np.float32
    for f in (gk.relu_vjp_ref, gk.sigm_vjp_ref, gk.tanh_vjp_ref):
        assert f(g.astype(np.float32), x32).dtype == np.float32


def test_logsumexp_and_logp_references():
    x = randn(5, 7)
    naive = np.log(np.sum(np.exp(x), axis=0))
    np.testing.assert_allclose(gk.logsumexp0_ref(x), naive, rtol=1e-14)
    np.testing.assert_allclose(gk.logsumexp0_ref(x), nn.logsumexp(x, axis=0), rtol=1e-15)
    assert gk.logsumexp0_ref(x, keepdims=True).shape == (1, 7)
    np.testing.assert_allclose(gk.logp0_ref(x), x - naive, rtol=1e-14, atol=1e-15)
    np.testing.assert_array_equal(gk.logp0_ref(x), nn.logp(x, axis=0))
    # stable far from zero, and as knetc.nn for -inf columns
    big = x * 300 + 1000
    assert np.all(np.isfinite(gk.logsumexp0_ref(big))) and np.all(np.isfinite(gk.logp0_ref(big)))
    np.testing.assert_allclose(np.exp(gk.logp0_ref(big)).sum(axis=0), 1.0, rtol=1e-13)
    inf = x.copy()
    inf[:, 0] = -np.inf
    with np.errstate(divide="ignore"):
        np.testing.assert_array_equal(gk.logsumexp0_ref(inf), nn.logsumexp(inf, axis=0))
    # 1-D and 3-D inputs reduce over axis 0 too
    v, t3 = randn(6), randn(4, 3, 2)
    np.testing.assert_allclose(gk.logsumexp0_ref(v), np.log(np.sum(np.exp(v))), rtol=1e-14)
    assert gk.logsumexp0_ref(v).shape == ()
    np.testing.assert_allclose(gk.logp0_ref(t3), nn.logp(t3, axis=0), rtol=1e-14)
    # adjoints = knetc.nn's rules
    g = randn(7)
    lse = gk.logsumexp0_ref(x)
    np.testing.assert_allclose(gk.logsumexp0_vjp_ref(g, lse, x), vjp_of(nn.logsumexp, g, x, axis=0), rtol=1e-14)
    gk1 = randn(1, 7)
    np.testing.assert_allclose(gk.logsumexp0_vjp_ref(gk1, gk.logsumexp0_ref(x, True), x, keepdims=True),
                               vjp_of(nn.logsumexp, gk1, x, axis=0, keepdims=True), rtol=1e-14)
    G = randn(5, 7)
    lp = gk.logp0_ref(x)
    np.testing.assert_allclose(gk.logp0_vjp_ref(G, lp), vjp_of(nn.logp, G, x, axis=0), rtol=1e-13, atol=1e-15)
    # and finite differences
    num = numeric_grad(lambda a: np.sum(G * gk.logp0_ref(a)), (x,))
    np.testing.assert_allclose(gk.logp0_vjp_ref(G, lp), num, rtol=1e-6, atol=1e-8)


def lstm_naive(gates, c, axis):
    """The LSTM step written out with the textbook sigmoid."""
    sig = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    i, f, o, g = np.split(gates, 4, axis=axis)
    cn = sig(f) * c + sig(i) * np.tanh(g)
    return sig(o) * np.tanh(cn), cn


def lstm_loss(gates, c, dh, dc):
    """<dh, h> + <dc, c_new> of one LSTM step in Knet's (4H, B) layout, as a user writes it."""
    H = c.shape[0]
    i = 1 / (1 + np.exp(-gates[:H]))
    f = 1 / (1 + np.exp(-gates[H:2 * H]))
    o = 1 / (1 + np.exp(-gates[2 * H:3 * H]))
    g = np.tanh(gates[3 * H:])
    cn = f * c + i * g
    h = o * np.tanh(cn)
    return np.sum(dh * h) + np.sum(dc * cn)


def lstm_ref_loss(gates, c, dh, dc):
    h, cn = gk.lstm_cell_ref(gates, c, axis=0)
    return np.sum(dh * h) + np.sum(dc * cn)


@pytest.mark.parametrize("axis", [0, -1])
def test_lstm_cell_reference(axis):
    B, H = 3, 4
    gates = randn(4 * H, B) if axis == 0 else randn(B, 4 * H)
    c = randn(H, B) if axis == 0 else randn(B, H)
    h, cn = gk.lstm_cell_ref(gates, c, axis=axis)
    h2, cn2 = lstm_naive(gates, c, axis)
    np.testing.assert_allclose(h, h2, rtol=1e-13)
    np.testing.assert_allclose(cn, cn2, rtol=1e-13)
    dh, dc = randn(*h.shape), randn(*h.shape)
    dgates, dcprev = gk.lstm_cell_vjp_ref(dh, dc, gates, c, axis=axis)
    assert dgates.shape == gates.shape and dcprev.shape == c.shape
    loss = lambda a, b: np.sum(dh * lstm_naive(a, b, axis)[0]) + np.sum(dc * lstm_naive(a, b, axis)[1])  # noqa: E731
    ng, nc = numeric_grad(loss, (gates, c), wrt=(0, 1))
    np.testing.assert_allclose(dgates, ng, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dcprev, nc, rtol=1e-6, atol=1e-8)
    # None adjoints count as zeros
    for a, b in zip(gk.lstm_cell_vjp_ref(None, dc, gates, c, axis), gk.lstm_cell_vjp_ref(0 * dh, dc, gates, c, axis)):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(gk.lstm_cell_vjp_ref(dh, None, gates, c, axis), gk.lstm_cell_vjp_ref(dh, 0 * dc, gates, c, axis)):
        np.testing.assert_array_equal(a, b)


def test_lstm_cell_reference_matches_knetc_grad():
    H, B = 3, 5
    gates, c, dh, dc = randn(4 * H, B), randn(H, B), randn(H, B), randn(H, B)
    want = gk.lstm_cell_vjp_ref(dh, dc, gates, c, axis=0)
    got = knetc.grad(lstm_loss, wrt=(0, 1), mode="source")(gates, c, dh, dc)
    assert_tree_allclose(got, want, rtol=1e-12, atol=1e-14)
    # the reference is made of differentiable NumPy calls: the tape goes through it
    taped = knetc.grad(lstm_ref_loss, wrt=(0, 1), mode="tape")(gates, c, dh, dc)
    assert_tree_allclose(taped, want, rtol=1e-12, atol=1e-14)
    # a broadcast initial state (H, 1) and a scalar one
    c1 = randn(H, 1)
    _, dc1 = gk.lstm_cell_vjp_ref(dh, dc, gates, c1, axis=0)
    assert np.shape(dc1) == (H, B)   # the adjoint of the broadcast value; unbroadcast sums it
    h0, cn0 = gk.lstm_cell_ref(gates, 0.0, axis=0)
    np.testing.assert_allclose(cn0, lstm_naive(gates, np.zeros((H, B)), 0)[1], rtol=1e-13)


def test_lstm_cell_rejects_bad_layouts():
    with pytest.raises(ValueError, match="multiple of 4"):
        gk.lstm_cell_ref(randn(2, 6), randn(2, 1), axis=-1)
    with pytest.raises(ValueError, match="first or last"):
        gk.lstm_cell_ref(randn(2, 8, 3), randn(2, 2, 3), axis=1)
    with pytest.raises(ValueError, match="multiple of 4"):
        gk.lstm_cell(randn(6, 2), randn(1, 2), axis=0)


UNBROADCAST_CASES = [
    ((3, 4), (3, 4)), ((3, 4), ()), ((3, 4), (1, 4)), ((3, 4), (3, 1)), ((3, 4), (1, 1)), ((3, 4), (4,)),
    ((2, 3, 4), (3, 1)), ((2, 3, 4), (1, 1, 4)), ((5, 2, 3, 4), (2, 1, 4)), ((2, 1, 4), (2, 3, 4)),
    ((4,), (3, 4)), ((), (2, 2)),
]


@pytest.mark.parametrize("gshape, shape", UNBROADCAST_CASES)
def test_unbroadcast_to_reference(gshape, shape):
    g = randn(*gshape)
    got = gk.unbroadcast_to_ref(g, shape)
    assert np.shape(got) == shape
    np.testing.assert_allclose(got, unbroadcast(g, np.zeros(shape)), rtol=1e-14, atol=1e-14)
    assert gk.unbroadcast_to(g, shape).shape == shape


def test_unbroadcast_to_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="cannot come from"):
        gk.unbroadcast_to_ref(randn(3, 4), (3, 2))
    assert gk.unbroadcast_to_ref(2.5, ()) == 2.5


def test_dispatchers_use_the_references_on_numpy():
    x, g = randn(4, 6), randn(4, 6)
    checks = {
        "relu": ((x,), {}), "relu_vjp": ((g, x), {}), "sigm": ((x,), {}), "sigm_vjp": ((g, x), {}),
        "tanh_vjp": ((g, x), {}), "lstm_cell": ((randn(2, 8), randn(2, 2)), {}),
        "lstm_cell_vjp": ((randn(2, 2), None, randn(2, 8), randn(2, 2)), {}),
        "logsumexp0": ((x,), {"keepdims": True}), "logsumexp0_vjp": ((randn(6), randn(6), x), {}),
        "logp0": ((x,), {}), "logp0_vjp": ((g, x), {}), "unbroadcast_to": ((g, (4, 1)), {}),
    }
    assert set(checks) == set(gk.KERNELS)
    for name, (args, kwargs) in checks.items():
        fun, ref = gk.KERNELS[name]
        assert_tree_allclose(fun(*args, **kwargs), ref(*args, **kwargs), rtol=0, atol=0)
    assert gk.kernel_cache() == []            # no CUDA kernel was built on the CPU
    assert "cupy" not in sys.modules or HAS_CUPY


def test_every_kernel_source_has_a_dispatcher_and_a_reference():
    for name in gk._SPECS:
        assert name in gk.KERNELS, name
        fun, ref = gk.KERNELS[name]
        assert ref.__name__ == name + "_ref" and fun.__name__ == name
        in_params, out_params, body = gk._SPECS[name]
        names = [p.split()[-1] for p in (in_params + "," + out_params).split(",")]
        assert len(set(names)) == len(names) and "i" not in names and "n" not in names
        assert not any(n.startswith("_") for n in names)


# --- the CUDA kernel bodies, compiled for the host ------------------------------------------------
_CXX = shutil.which("g++") or shutil.which("clang++")
_SCALAR_CTYPES = {"int64": ("long long", ctypes.c_longlong), "int32": ("int", ctypes.c_int)}


def _params(spec):
    in_params, out_params, _ = spec
    out = []
    for text, is_input in ((in_params, True), (out_params, False)):
        for p in text.split(","):
            words = p.split()
            out.append({"raw": words[0] == "raw", "type": words[-2], "name": words[-1], "input": is_input})
    return out


def _host_source(specs):
    """C++ for every kernel: the CUDA loop body in a host loop that mimics ElementwiseKernel."""
    parts = ["#include <cmath>\n#include <cstddef>\nusing namespace std;\n"]
    for name, spec in specs.items():
        params = _params(spec)
        decl, call, per_element = ["long long _n"], ["_n"], []
        for p in params:
            if p["type"] == "T":
                var = p["name"] if p["raw"] else "_raw_" + p["name"]
                decl.append(f"T* {var}")
                call.append(var)
                if not p["raw"]:   # as CuPy: const T &x = _raw_x[_ind.get()]; outputs are T &y
                    per_element.append(f"{'const T' if p['input'] else 'T'} &{p['name']} = _raw_{p['name']}[i];")
            else:
                decl.append(f"{_SCALAR_CTYPES[p['type']][0]} {p['name']}")
                call.append(p["name"])
        body = spec[2]
        parts.append(f"""
template <typename T> static void {name}_impl({', '.join(decl)}) {{
    struct {{ long long n; long long size() const {{ return n; }} }} _ind = {{_n}};
    for (long long i = 0; i < _n; ++i) {{
        {' '.join(per_element)}
        {body}
    }}
}}
""")
        for ctype, suffix in (("double", "f64"), ("float", "f32")):
            concrete = ", ".join(d.replace("T*", ctype + "*") for d in decl)
            parts.append(f'extern "C" void {name}_{suffix}({concrete}) '
                         f'{{ {name}_impl<{ctype}>({", ".join(call)}); }}\n')
    return "".join(parts)


@pytest.fixture(scope="module")
def host_kernels(tmp_path_factory):
    if _CXX is None:
        pytest.skip("no C++ compiler to build the kernel bodies for the host")
    d = tmp_path_factory.mktemp("kernels")
    src, lib = d / "kernels.cpp", d / "kernels.so"
    src.write_text(_host_source(gk._SPECS))
    done = subprocess.run([_CXX, "-O1", "-shared", "-fPIC", "-o", str(lib), str(src)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return ctypes.CDLL(str(lib))


class HostKernel:
    """A stand-in for ``cupy.ElementwiseKernel`` running the compiled body on NumPy arrays.

    It follows CuPy's calling rules: inputs then (all or no) outputs; the loop
    shape is the broadcast of the non-raw arrays; non-raw outputs must have
    that shape; raw arguments are indexed with C-order linear indices; every
    ``T`` array must have the same dtype.
    """

    def __init__(self, lib, name):
        self.lib, self.name, self.params = lib, name, _params(gk._SPECS[name])

    def __call__(self, *args):
        params = self.params
        nin = sum(p["input"] for p in params)
        assert len(args) in (nin, len(params)), f"{self.name}: {len(args)} arguments"
        typed = [a for p, a in zip(params, args) if p["type"] == "T" and isinstance(a, np.ndarray)]
        dtype = typed[0].dtype
        assert dtype in (np.float32, np.float64) and all(a.dtype == dtype for a in typed), \
            f"{self.name}: mixed dtypes {[a.dtype for a in typed]}"
        shape = np.broadcast_shapes(*[a.shape for p, a in zip(params, args)
                                      if p["type"] == "T" and not p["raw"] and isinstance(a, np.ndarray)])
        outs = list(args[nin:])
        if not outs:
            assert not any(p["raw"] for p in params[nin:]), "raw outputs must be given"
            outs = [np.empty(shape, dtype) for _ in params[nin:]]
        bufs, argv = [], [ctypes.c_longlong(int(np.prod(shape)))]
        for p, a in zip(params, list(args[:nin]) + outs):
            if p["type"] != "T":
                argv.append(_SCALAR_CTYPES[p["type"]][1](int(a)))
                continue
            if p["raw"]:
                buf = np.ascontiguousarray(a).copy()
            elif p["input"]:
                buf = np.ascontiguousarray(np.broadcast_to(np.asarray(a, dtype), shape))
            else:
                assert a.shape == shape, f"{self.name}: output {p['name']} {a.shape} != loop {shape}"
                buf = np.empty(shape, dtype)
            bufs.append((p, a, buf))
            argv.append(ctypes.c_void_p(buf.ctypes.data))
        getattr(self.lib, f"{self.name}_{'f64' if dtype == np.float64 else 'f32'}")(*argv)
        for p, a, buf in bufs:
            if not p["input"]:
                a[...] = buf.reshape(a.shape)
        return outs[0] if len(outs) == 1 else tuple(outs)


@pytest.fixture
def on_host(host_kernels, monkeypatch):
    """Route the dispatchers' kernel path to the host-compiled bodies for NumPy float arrays.

    Gives the list of the kernels called."""
    def fusable(*xs):
        return bool(xs) and all(isinstance(x, np.ndarray) for x in xs) and \
            xs[0].dtype in (np.float32, np.float64) and all(x.dtype == xs[0].dtype for x in xs)
    called = []

    def kernel(name):
        called.append(name)
        return HostKernel(host_kernels, name)
    monkeypatch.setattr(gk, "_fusable", fusable)
    monkeypatch.setattr(gk, "_kernel", kernel)
    return called


def kernel_cases(dtype):
    r = lambda *s: randn(*s, dtype=dtype)  # noqa: E731
    x = np.concatenate([r(5, 7) * 3, np.array([[0, -0.0, 50, -50, 1e-3, -1e-3, 2]], dtype)])
    g, y = r(6, 7), np.tanh(x)
    s = 0.5 * (np.tanh(0.5 * x) + 1)
    big = r(6, 3) * 200 + 1000
    inf = r(6, 3)
    inf[:, 1] = -np.inf
    lp = gk.logp0_ref(x)
    lse = gk.logsumexp0_ref(x)
    cases = [
        ("relu", (x,), {}), ("relu", (r(2, 3, 4)[:, ::2],), {}), ("relu_vjp", (g, np.maximum(x, 0)), {}),
        ("relu_vjp", (r(6, 1), x), {}), ("sigm", (x,), {}), ("sigm_vjp", (g, s), {}),
        ("tanh_vjp", (g, y), {}), ("tanh_vjp", (g.T, y.T), {}),
        ("logsumexp0", (x,), {}), ("logsumexp0", (x,), {"keepdims": True}), ("logsumexp0", (big,), {}),
        ("logsumexp0", (inf,), {}), ("logsumexp0", (r(9),), {}), ("logsumexp0", (r(4, 3, 2),), {}),
        ("logsumexp0", (x[:, ::2],), {}), ("logsumexp0", (r(1, 5),), {}),
        ("logp0", (x,), {}), ("logp0", (big,), {}), ("logp0", (r(4, 3, 2),), {}),
        ("logp0", (x.T.copy().T,), {}), ("logp0", (r(7),), {}),
        ("logsumexp0_vjp", (r(7), lse, x), {}),
        ("logsumexp0_vjp", (r(1, 7), lse[None], x), {"keepdims": True}),
        ("logp0_vjp", (g, lp), {}), ("logp0_vjp", (g[:, ::-1], lp[:, ::-1]), {}),
        ("logp0_vjp", (r(4, 3, 2), r(4, 3, 2)), {}),
    ]
    layouts = [(0, (12, 5), (3, 5)), (-1, (5, 12), (5, 3)), (0, (8,), (2,)), (-1, (2, 3, 8), (2, 3, 2))]
    for axis, gshape, cshape in layouts:
        gates, c, dh, dcn = r(*gshape) * 2, r(*cshape), r(*cshape), r(*cshape)
        cases += [("lstm_cell", (gates, c), {"axis": axis}), ("lstm_cell_vjp", (dh, dcn, gates, c), {"axis": axis}),
                  ("lstm_cell_vjp", (None, dcn, gates, c), {"axis": axis}),
                  ("lstm_cell_vjp", (dh, None, gates, c), {"axis": axis})]
    gates = r(12, 5)
    cases += [("lstm_cell", (gates, 0.0), {"axis": 0}), ("lstm_cell", (gates, r(3, 1)), {"axis": 0}),
              ("lstm_cell", (gates.T.copy().T, r(3, 5)), {"axis": 0}),
              ("lstm_cell_vjp", (r(3, 5), r(3, 5), gates, r(3, 1)), {"axis": 0})]
    return cases


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_kernel_bodies_match_the_references(on_host, dtype):
    tol = {"rtol": 1e-12, "atol": 1e-12} if dtype == np.float64 else {"rtol": 2e-5, "atol": 2e-6}
    for name, args, kwargs in kernel_cases(dtype):
        fun, ref = gk.KERNELS[name]
        with np.errstate(divide="ignore"):      # the -inf column: log(0)
            want = ref(*args, **kwargs)
        before = len(on_host)
        got = fun(*args, **kwargs)
        assert on_host[before:] == [name], f"{name} did not run its kernel"
        assert_tree_allclose(got, want, **tol)
        for leaf, w in zip(got if isinstance(got, tuple) else (got,), want if isinstance(want, tuple) else (want,)):
            assert leaf.dtype == dtype and leaf.shape == np.shape(w), name
    assert set(on_host) == set(gk._SPECS)


def test_kernel_path_leaves_mixed_dtypes_to_the_reference(on_host):
    x32, g64 = randn(3, 4, dtype=np.float32), randn(3, 4)
    got = gk.relu_vjp(g64, x32)           # float64 adjoint of a float32 value: NumPy promotion
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, gk.relu_vjp_ref(g64, x32))
    assert gk.sigm(2.0) == gk.sigm_ref(2.0)       # Python scalars: the reference


# --- arrays created from shapes follow the device (with a stand-in for CuPy) ------------------------
def _made_from_shapes(n):
    return np.zeros((n, 2)), np.arange(n), np.random.randn(n)


def _raising_helper():
    np.zeros(1)
    raise RuntimeError("inside the helper")


def test_call_on_gpu_creates_with_the_gpu_module_and_restores_numpy(monkeypatch):
    from knetc.runtime import creation
    fake = types.ModuleType("cupy")
    fake.ndarray = type("FakeDeviceArray", (), {})          # nothing knetc sees is one of these
    fake.zeros = lambda shape, **kw: ("zeros on the device", shape)
    fake.arange = lambda n, **kw: ("arange on the device", n)
    fake.random = types.SimpleNamespace(randn=lambda *shape: ("randn on the device", shape))
    monkeypatch.setitem(sys.modules, "cupy", fake)
    got = creation.call_on_gpu(_made_from_shapes, 3)
    assert got == (("zeros on the device", (3, 2)), ("arange on the device", 3), ("randn on the device", (3,)))
    assert globals()["np"] is np and creation.current_module() is np     # restored afterwards
    with pytest.raises(RuntimeError, match="inside the helper"):
        creation.call_on_gpu(_raising_helper)
    assert globals()["np"] is np and creation.current_module() is np     # also after an error
    nested = creation.call_on_gpu(lambda: creation.call_on_gpu(_made_from_shapes, 1))
    assert nested[0] == ("zeros on the device", (1, 2)) and globals()["np"] is np
    # everything else on the stand-in NumPy is NumPy's own
    assert creation.DEVICE_NUMPY.tanh is np.tanh and creation.DEVICE_NUMPY.random.seed is np.random.seed


def test_device_numpy_creates_numpy_arrays_when_the_current_module_is_numpy():
    from knetc.runtime import creation
    z = creation.DEVICE_NUMPY.zeros((2, 3), dtype=np.float32)
    assert type(z) is np.ndarray and z.dtype == np.float32 and z.shape == (2, 3)
    assert creation.creation_module([np.ones(2), {"a": 1.0}]) is np


def test_defvjp_gpu_prefers_the_fast_vjps_and_falls_back_to_the_definition():
    from knetc.runtime.rules import defvjp, defvjp_gpu

    @knetc.primitive
    def scaled(x, y):
        return x * y

    def dx(g, ans, x, y):
        return g * y

    def dy(g, ans, x, y):
        return g * x

    def fast_dy(g, ans, x, y):
        return y * 0 + g * x

    defvjp(scaled, dx, dy)
    defvjp_gpu(scaled, None, fast_dy)
    rule = rule_for(scaled)
    assert rule.vjp(0, gpu=True) is dx and rule.vjp(1, gpu=True) is fast_dy
    assert rule.vjp(1) is dy and rule.vjp(2, gpu=True) is None
    with pytest.raises(ValueError, match="has no rule yet"):
        defvjp_gpu(knetc.primitive(lambda x: x), None)
