"""The generic checks every OpInfo of ``tests/opinfo`` goes through.

For each sample a small user module is written to a temporary directory and
imported, holding ``case(a0, a1, ...)``: the call as a user writes it (the
function by its path, keyword arguments as literals) reduced to a scalar with
fixed random weights, ``np.sum(G0 * out)`` (``out[i]`` for each element of a
tuple result, ``np.real``/``np.imag`` for complex results). Its gradient is
then checked:

- ``test_gradient``: compiled (``mode="source"``, which must really compile)
  and taped, against central differences at two step sizes; a sample where
  the two step sizes disagree sits on a kink or is ill-conditioned, and fails
  saying so instead of passing at a loose tolerance;
- ``test_float32``: float32 inputs give float32 gradients close to float64's;
- ``test_second_order``: the tape's Hessian-vector product through the rule's
  VJP against finite differences of the gradient;
- ``test_gpu`` (marker ``gpu``): CuPy arguments give NumPy's gradient.
"""
import importlib
import importlib.util
import os
import itertools
import pathlib
import sys
import tempfile
import zlib

import numpy as np
import pytest

import knetc as knet
from knetc.testing import assert_tree_allclose, numeric_grad
from tests.opinfo import all_ops

OPS = all_ops()
STEPS = (1e-6, 1e-5)
# KNETC_TESTS_LIGHT=1 (CI's second run, on the declared minimum versions): the gradient checks
# only; float32, second order and forward mode run in the full run on the newest versions
LIGHT = pytest.mark.skipif(os.environ.get("KNETC_TESTS_LIGHT") == "1",
                           reason="KNETC_TESTS_LIGHT=1: checked in the full run")
_DIR = pathlib.Path(tempfile.mkdtemp(prefix="knetc_opinfo_"))
_MODULES = {}
_counter = itertools.count()


def _rng(op, index, salt=0):
    return np.random.default_rng(zlib.crc32(f"{op.name}/{index}/{salt}".encode()))


def _samples(op, dtype):
    return op.samples(_rng(op, "samples"), dtype)


def _params():
    out = []
    for op in OPS:
        for i, sample in enumerate(_samples(op, np.float64)):
            label = f"{op.name}-{i}" + (f"-{sample.name}" if sample.name else "")
            out.append(pytest.param(op, i, id=label))
    return out


PARAMS = _params()


# --- the generated user module --------------------------------------------------------
def _is_literal(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return not isinstance(value, float) or np.isfinite(value)
    if isinstance(value, (tuple, list)):
        return all(_is_literal(v) for v in value)
    return False


def _imports(path):
    root = path.split(".")[0]
    if path.startswith(".") or root == "np":
        return []
    if root == "scipy":
        return [f"import {'.'.join(path.split('.')[:2])}"]
    if importlib.util.find_spec(root) is not None and root not in dir(__builtins__):
        return [f"import {root}"]
    return []


def _is_float(x):
    return np.asarray(x).dtype.kind in "fc"


def _reduction(ans, expr, weights, rng, dtype):
    """Terms of ``sum(G * out)`` for the result ``ans`` (spelled ``expr``)."""
    if isinstance(ans, (tuple, list)):
        terms = []
        for i, a in enumerate(ans):
            terms += _reduction(a, f"{expr}[{i}]", weights, rng, dtype)
        return terms
    if not _is_float(ans):
        return []
    parts = [f"np.real({expr})", f"np.imag({expr})"] if np.iscomplexobj(ans) else [expr]
    terms = []
    for part in parts:
        name = f"G{len(weights)}"
        weights[name] = rng.standard_normal(np.shape(ans)).astype(dtype)
        terms.append(f"np.sum({name} * {part})")
    return terms


def _positions(sample):
    """Parameter names of the case: positional arguments, then non-literal keywords."""
    names = [f"a{i}" for i in range(len(sample.args))]
    by_keyword = {k: f"k_{k}" for k, v in sample.kwargs.items() if not _is_literal(v)}
    return names + list(by_keyword.values()), by_keyword


def _call_values(sample):
    return list(sample.args) + [v for v in sample.kwargs.values() if not _is_literal(v)]


def _module(op, index, dtype):
    """The generated module for one sample (cached), and the sample."""
    key = (op.name, index, np.dtype(dtype).name)
    if key in _MODULES:
        return _MODULES[key]
    sample = _samples(op, dtype)[index]
    params, by_keyword = _positions(sample)
    call_args = [f"a{i}" for i in range(len(sample.args))]
    call_args += [f"{k}={by_keyword[k]}" if k in by_keyword else f"{k}={v!r}" for k, v in sample.kwargs.items()]
    if op.path.startswith("."):
        call = f"a0{op.path}({', '.join(call_args[1:])})"
    else:
        call = f"{op.path}({', '.join(call_args)})"
    namespace = {"np": np}
    for line in _imports(op.path):
        exec(line, namespace)
    ans = eval(call, namespace, dict(zip(params, _call_values(sample))))
    weights = {}
    terms = _reduction(ans, "out", weights, _rng(op, index, "weights"), dtype)
    assert terms, f"{op.name}: the sample's result has no float part to differentiate"
    lines = ["import numpy as np", *_imports(op.path), "", "",
             f"def case({', '.join(params)}):", f"    out = {call}", f"    return {' + '.join(terms)}", ""]
    name = f"knetc_opinfo_case_{next(_counter)}"
    file = _DIR / f"{name}.py"
    file.write_text("\n".join(lines))
    spec = importlib.util.spec_from_file_location(name, file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    module.__dict__.update(weights)
    _MODULES[key] = (module, sample)
    return module, sample


def _wrt(sample):
    params, by_keyword = _positions(sample)
    if sample.wrt is None:
        values = _call_values(sample)
        return tuple(i for i, v in enumerate(values) if _differentiable(v))
    return tuple(w if isinstance(w, int) else params.index(by_keyword[w]) for w in sample.wrt)


def _differentiable(v):
    if isinstance(v, (list, tuple)):
        return bool(v) and all(_differentiable(x) for x in v)
    if isinstance(v, float):
        return True
    return isinstance(v, np.ndarray) and v.dtype.kind == "f"


def _close(actual, expected, rtol, atol):
    try:
        assert_tree_allclose(actual, expected, rtol=rtol, atol=atol)
        return None
    except AssertionError as error:
        return str(error)


def _check_against_fd(fun, args, wrt, actual, rtol, atol, what):
    estimates = [numeric_grad(fun, args, wrt=wrt, eps=eps) for eps in STEPS]
    kink = _close(estimates[0], estimates[1], rtol=max(10 * rtol, 1e-5), atol=max(10 * atol, 1e-7))
    if kink:
        pytest.fail(f"{what}: finite differences at steps {STEPS} disagree (a kink or an "
                    f"ill-conditioned sample: choose other inputs): {kink}")
    problems = [_close(_lists(actual), _lists(e), rtol, atol) for e in estimates]
    if all(problems):
        pytest.fail(f"{what}: gradient differs from central differences: {problems[0]}")


def _lists(x):
    if isinstance(x, (list, tuple)):
        return [_lists(v) for v in x]
    return x


def _skip_unavailable(op):
    if op.requires:
        pytest.importorskip(op.requires)


# --- the checks ------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["source", "tape"])
@pytest.mark.parametrize("op, index", PARAMS)
def test_gradient(op, index, mode):
    _skip_unavailable(op)
    if mode == "tape" and not op.tape:
        pytest.skip("not checked on the tape")
    module, sample = _module(op, index, np.float64)
    wrt = _wrt(sample)
    args = _call_values(sample)
    g = knet.grad(module.case, wrt=wrt, mode=mode)
    got = g(*args)
    assert g.mode == mode
    _check_against_fd(module.case, args, wrt, got, op.rtol, op.atol, f"{op.name} ({mode})")


@LIGHT
@pytest.mark.parametrize("op, index", [p for p in PARAMS if p.values[0].float32])
def test_float32(op, index):
    _skip_unavailable(op)
    module64, sample64 = _module(op, index, np.float64)
    module32, sample32 = _module(op, index, np.float32)
    wrt = _wrt(sample32)
    got = knet.grad(module32.case, wrt=wrt, mode="source")(*_call_values(sample32))
    want = knet.grad(module64.case, wrt=wrt, mode="source")(*_call_values(sample64))
    for leaf_got, leaf_arg in zip(_leaves(got), _leaves(tuple(_call_values(sample32)[i] for i in wrt))):
        if isinstance(leaf_arg, np.ndarray):
            assert leaf_got.dtype == np.float32, f"{op.name}: float32 input gave a {leaf_got.dtype} gradient"
    problem = _close(_lists(got), _lists(want), rtol=op.rtol32, atol=op.atol32)
    assert problem is None, f"{op.name}: float32 gradient far from float64's: {problem}"


@LIGHT
@pytest.mark.parametrize("op, index", [p for p in PARAMS if p.values[0].second_order])
def test_second_order(op, index):
    _skip_unavailable(op)
    module, sample = _module(op, index, np.float64)
    args = _call_values(sample)
    i = _wrt(sample)[0]
    v = _random_like(args[i], _rng(op, index, "direction"))
    gradient = knet.grad(module.case, wrt=i, mode="tape")

    def along_v(*a):
        return _vdot(gradient(*a), v)

    got = knet.hvp(module.case, wrt=i)(*args, v)
    _check_against_fd(along_v, args, i, got, max(op.rtol, 1e-5), max(op.atol, 1e-7),
                      f"{op.name} (second order, argument {i})")


@pytest.mark.gpu
@pytest.mark.parametrize("op, index", [p for p in PARAMS if p.values[0].gpu])
def test_gpu(op, index):
    _skip_unavailable(op)
    if not knet.gpu_available():
        pytest.skip("needs CuPy and a CUDA device")
    module, sample = _module(op, index, np.float64)
    wrt = _wrt(sample)
    args = _call_values(sample)
    want = knet.grad(module.case, wrt=wrt, mode="source")(*args)
    got = knet.grad(module.case, wrt=wrt, mode="source")(*knet.to_gpu(args))
    problem = _close(_lists(knet.to_cpu(got)), _lists(want), rtol=1e-6, atol=1e-8)
    assert problem is None, f"{op.name}: CuPy gradient differs from NumPy's: {problem}"


def test_every_opinfo_names_a_callable_with_a_rule():
    from knetc.runtime.rules import rule_for
    missing = []
    for op in OPS:
        if op.path.startswith(".") or (op.requires and importlib.util.find_spec(op.requires) is None):
            continue
        namespace = {"np": np}
        for line in _imports(op.path):
            exec(line, namespace)
        if rule_for(eval(op.path, namespace)) is None:
            missing.append(op.path)
    assert not missing, f"OpInfos of functions without a rule: {missing}"


# --- small tree helpers -----------------------------------------------------------------
def _leaves(x):
    if isinstance(x, (list, tuple)):
        return [leaf for v in x for leaf in _leaves(v)]
    return [x]


def _random_like(x, rng):
    if isinstance(x, (list, tuple)):
        return [_random_like(v, rng) for v in x]
    if isinstance(x, float):
        return float(rng.standard_normal())
    return rng.standard_normal(np.shape(x))


def _vdot(g, v):
    if isinstance(g, (list, tuple)):
        total = 0.0
        for a, b in zip(g, v):
            total = total + _vdot(a, b)
        return total
    return np.sum(g * v)


@LIGHT
@pytest.mark.parametrize("mode", ["source", "tape"])
@pytest.mark.parametrize("op, index", PARAMS)
def test_jvp(op, index, mode):
    """Forward mode of every rule: the tangent against a central difference along it."""
    _skip_unavailable(op)
    if mode == "tape" and not op.tape:
        pytest.skip("not checked on the tape")
    module, sample = _module(op, index, np.float64)
    args = _call_values(sample)
    wrt = _wrt(sample)
    rng = _rng(op, index, "tangent")
    tangents = [_random_like(a, rng) if i in wrt else None for i, a in enumerate(args)]
    if mode == "tape" and not op.second_order:
        # the tape's forward mode transposes the recorded VJPs: a VJP that is not itself
        # differentiable must make it fail loudly (compiled forward mode uses the JVP rules)
        try:
            value, tangent = knet.jvp(module.case, args, tangents, mode=mode)
        except knet.KnetError:
            return
    else:
        value, tangent = knet.jvp(module.case, args, tangents, mode=mode)

    def along(s):
        moved = [_axpy(a, s, t) if t is not None else a for a, t in zip(args, tangents)]
        return module.case(*moved)

    estimates = [(along(eps) - along(-eps)) / (2 * eps) for eps in STEPS]
    if abs(estimates[0] - estimates[1]) > max(10 * op.rtol, 1e-5) * max(1.0, abs(estimates[1])):
        pytest.fail(f"{op.name}: finite differences at steps {STEPS} disagree (a kink?): {estimates}")
    assert any(abs(tangent - e) <= op.atol + op.rtol * abs(e) for e in estimates), \
        f"{op.name} ({mode}): tangent {tangent!r}, central differences {estimates}"


def _axpy(a, s, t):
    if isinstance(a, (list, tuple)):
        return type(a)(_axpy(x, s, y) for x, y in zip(a, t))
    return a + s * t
