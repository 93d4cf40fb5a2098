"""Records as parameters: namedtuples, dataclasses and registered classes, in every mode.

Written as a hostile reviewer would: every gradient is checked against central
finite differences; where the compiler has no model (a property, a derived
attribute, an attribute write, a method call) mode='source' must refuse and
the tape (mode='auto') must be right.
"""
import dataclasses
import warnings
from collections import namedtuple

import numpy as np
import pytest

import knetc as knet
from knetc import UnsupportedError
from knetc.errors import FallbackWarning, KnetError
from knetc.testing import assert_numeric_grad, assert_tree_allclose, numeric_grad

X = np.array([0.3, -0.7, 1.2])
P = namedtuple("P", "w b")
Layer = namedtuple("Layer", "w b")


@dataclasses.dataclass
class Model:
    w: np.ndarray
    b: float
    n: int = 2
    act: str = "tanh"


@dataclasses.dataclass(frozen=True)
class Frozen:
    w: np.ndarray
    tag: str = "a"


@dataclasses.dataclass
class WithProperty:
    w: np.ndarray

    @property
    def W(self):
        return 3 * self.w


@dataclasses.dataclass
class WithList:
    ws: list


class Scaled:
    """Registered with a flatten that leaves ``scale`` out (it travels as metadata)."""

    def __init__(self, w, scale):
        self.w, self.scale = w, scale


knet.register_tree(Scaled, lambda r: ((r.w,), r.scale), lambda scale, ch: Scaled(ch[0], scale))


class Derived:
    """Registered with ``w`` only; ``w2`` is derived from it in ``__init__``."""

    def __init__(self, w):
        self.w = w
        self.w2 = w * w


knet.register_tree(Derived, lambda r: ((r.w,), None), lambda meta, ch: Derived(ch[0]))

MODES = ("source", "auto", "tape")


def _grad(f, mode, *args, wrt=0):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FallbackWarning)
        return knet.grad(f, wrt, mode=mode)(*args)


def _compiled(f, *args):
    """The gradient in mode 'source', asserting no fallback happened in mode 'auto' either."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", FallbackWarning)
        g = knet.grad(f)(*args)
    return g


# --- the compiled path ------------------------------------------------------------------
def loss_fields(p, x):
    return np.sum(np.tanh(p.w * x + p.b))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("make", [lambda: P(np.array([0.5, -1.0, 2.0]), 0.3),
                                  lambda: Model(np.array([0.5, -1.0, 2.0]), 0.3)], ids=["namedtuple", "dataclass"])
def test_field_reads_in_every_mode(mode, make):
    p = make()
    g = _grad(loss_fields, mode, p, X)
    assert type(g) is type(p)
    assert_numeric_grad(g, loss_fields, (p, X))


def test_records_compile_without_fallback():
    for p in (P(np.ones(3), 0.5), Model(np.ones(3), 0.5)):
        g = _compiled(loss_fields, p, X)
        assert type(g) is type(p)
        assert_numeric_grad(g, loss_fields, (p, X))


def loss_static(p, x):
    y = np.tanh(p.w * x) if p.act == "tanh" else p.w * x
    return np.sum(y) * p.n + p.b ** 2


@pytest.mark.parametrize("mode", MODES)
def test_dataclass_static_fields_are_constants(mode):
    p = Model(np.array([0.5, -1.0, 2.0]), 0.3, n=3, act="tanh")
    g = _grad(loss_static, mode, p, X)
    assert type(g) is Model and g.n == 3 and g.act == "tanh"   # static fields: the argument's values
    assert_numeric_grad(g, loss_static, (p, X))


def loss_frozen(p, x):
    return np.sum(p.w ** 2 * x) if p.tag == "a" else 0.0


@pytest.mark.parametrize("mode", MODES)
def test_frozen_dataclass(mode):
    p = Frozen(np.array([0.5, -1.0, 2.0]))
    g = _grad(loss_frozen, mode, p, X)
    assert type(g) is Frozen and g.tag == "a"
    assert_tree_allclose(g.w, 2 * p.w * X)


def loss_nested(params, x):
    h = x
    for layer in params["layers"]:
        h = np.tanh(layer.w * h + layer.b)
    return np.sum(h) * params["c"]


@pytest.mark.parametrize("mode", MODES)
def test_namedtuples_in_a_list_in_a_dict(mode):
    params = {"layers": [Layer(np.array([0.5, -1.0, 2.0]), 0.1), Layer(np.array([1.5, 0.2, -0.4]), -0.2)],
              "c": 1.5}
    g = _grad(loss_nested, mode, params, X)
    assert [type(layer) for layer in g["layers"]] == [Layer, Layer]
    assert_numeric_grad(g, loss_nested, (params, X))


def test_namedtuples_in_a_list_in_a_dict_compile():
    params = {"layers": [Layer(np.ones(3), 0.1)], "c": 1.0}
    _compiled(loss_nested, params, X)


def helper(p, x):
    return np.sum(p.w * x)


def loss_helper(p, x):
    return helper(p, x) + p.b * helper(p, x)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("make", [lambda: P(np.array([0.5, -1.0, 2.0]), 0.3),
                                  lambda: Model(np.array([0.5, -1.0, 2.0]), 0.3)], ids=["namedtuple", "dataclass"])
def test_record_passed_to_a_helper(mode, make):
    p = make()
    g = _grad(loss_helper, mode, p, X)
    assert type(g) is type(p)
    assert_numeric_grad(g, loss_helper, (p, X))


def test_a_field_read_twice_accumulates():
    def f(p):
        return np.sum(p.w * p.w) + np.sum(p.w) * p.b
    p = Model(np.array([0.5, -1.0, 2.0]), 0.3)
    g = _grad(f, "source", p)
    assert_tree_allclose(g.w, 2 * p.w + p.b)
    assert g.b == pytest.approx(np.sum(p.w))


# --- what the compiler does not model: refused, and the tape is right ------------------------
def loss_property(p, x):
    return np.sum(p.W * x)


def loss_list_field(p, x):
    return np.sum(p.ws[0] * x) + np.sum(p.ws[1] ** 2)


def loss_omitted(r, x):
    return np.sum(r.w * x * r.scale)


def loss_derived(r, x):
    return np.sum(r.w2 * x)


def loss_replace(p, x):
    q = p._replace(w=2 * p.w)
    return np.sum(q.w * x) + q.b


def loss_write(p, x):
    p.w = 2 * p.w
    return np.sum(p.w * x * p.w)


REFUSED = [
    ("property", loss_property, lambda: WithProperty(np.array([0.5, -1.0, 2.0]))),
    ("list field", loss_list_field, lambda: WithList([np.array([0.5, -1.0, 2.0]), np.array([1.0, 2.0])])),
    ("flatten omits a field", loss_omitted, lambda: Scaled(np.array([0.5, -1.0, 2.0]), np.array([1.0, 2.0, 3.0]))),
    ("derived attribute", loss_derived, lambda: Derived(np.array([0.5, -1.0, 2.0]))),
    ("namedtuple _replace", loss_replace, lambda: P(np.array([0.5, -1.0, 2.0]), 0.3)),
    ("attribute write", loss_write, lambda: Model(np.array([0.5, -1.0, 2.0]), 0.3)),
]


@pytest.mark.parametrize("name, f, make", REFUSED, ids=[r[0] for r in REFUSED])
def test_unmodelled_reads_are_refused_by_the_compiler(name, f, make):
    with pytest.raises(UnsupportedError):
        knet.grad(f, mode="source")(make(), X)


@pytest.mark.parametrize("mode", ["auto", "tape"])
@pytest.mark.parametrize("name, f, make", REFUSED, ids=[r[0] for r in REFUSED])
def test_unmodelled_reads_are_right_on_the_tape(mode, name, f, make):
    g = _grad(f, mode, make(), X)
    expected = numeric_grad(f, (make(), X))
    assert type(g) is type(expected)
    assert_tree_allclose(g, expected, rtol=1e-6, atol=1e-8)


def test_omitted_field_is_a_constant_of_the_gradient():
    r = Scaled(np.array([0.5, -1.0, 2.0]), np.array([1.0, 2.0, 3.0]))
    g = _grad(loss_omitted, "auto", r, X)
    assert_tree_allclose(g.w, X * r.scale)
    assert g.scale is r.scale               # metadata: unflatten put the argument's value back


def test_attribute_write_on_the_tape_has_python_semantics():
    p = Model(np.array([0.5, -1.0, 2.0]), 0.3)
    w0 = p.w.copy()
    g = _grad(loss_write, "tape", p, X)
    assert_tree_allclose(g.w, 8 * w0 * X)
    assert type(p.w) is np.ndarray          # the caller's object holds a plain array, never a traced value
    assert_tree_allclose(p.w, 2 * w0)       # and the write, as one call of the function would leave it


def test_a_record_of_another_class_through_cached_code_is_loud_or_right():
    def f(p):
        return np.sum(p.w * X)
    g = knet.grad(f, mode="source")
    assert_tree_allclose(g(Model(np.ones(3), 0.1)).w, X)
    try:
        out = g(WithProperty(np.ones(3)))       # .w is a field here too: right
        assert_tree_allclose(out.w, X)
    except (KnetError, UnsupportedError):
        pass


# --- the library around gradients -----------------------------------------------------------
def test_sgd_update_of_records_in_place():
    p = Model(np.array([0.5, -1.0, 2.0]), 0.3)
    q = P(np.array([0.5, -1.0, 2.0]), np.array(0.3))
    for params in (p, q):
        w0, b0 = params.w.copy(), float(params.b)
        g = _grad(loss_fields, "source", params, X)
        knet.update(params, g, knet.SGD(lr=0.1))
        assert_tree_allclose(params.w, w0 - 0.1 * g.w)
        assert float(params.b) == pytest.approx(b0 - 0.1 * float(g.b))


def test_adam_over_a_frozen_dataclass_updates_arrays():
    p = Frozen(np.array([0.5, -1.0, 2.0]))
    w = p.w
    g = _grad(loss_frozen, "source", p, X)
    knet.update(p, g, knet.Adam(lr=0.01))
    assert p.w is w and not np.allclose(p.w, [0.5, -1.0, 2.0])


def test_assert_tree_allclose_on_records():
    a = Model(np.ones(3), 0.5)
    assert_tree_allclose(a, Model(np.ones(3), 0.5))
    with pytest.raises(AssertionError, match=r"\.w"):
        assert_tree_allclose(a, Model(np.zeros(3), 0.5))
    with pytest.raises(AssertionError):
        assert_tree_allclose(a, Model(np.ones(3), 0.5, n=7))    # a static field differs
    with pytest.raises(AssertionError):
        assert_tree_allclose(P(np.ones(3), 0.5), Layer(np.ones(3), 0.5))


def test_numeric_grad_keeps_records():
    g = numeric_grad(loss_static, (Model(np.array([0.5, -1.0, 2.0]), 0.3), X))
    assert type(g) is Model and g.n == 2 and g.act == "tanh"


def test_save_and_load_records(tmp_path):
    w = {"m": Model(np.arange(3.0), 0.5, n=4), "layers": [Layer(np.ones(2), 0.1)], "f": Frozen(np.zeros(2))}
    path = tmp_path / "ck.npz"
    knet.save(str(path), w)
    back = knet.load(str(path))
    assert type(back["m"]) is Model and back["m"].n == 4
    assert type(back["layers"][0]) is Layer and type(back["f"]) is Frozen
    assert_tree_allclose(back, w)


def test_save_refuses_a_class_load_cannot_import(tmp_path):
    Local = namedtuple("Local", "w")
    with pytest.raises(TypeError, match="top level"):
        knet.save(str(tmp_path / "x.npz"), Local(np.ones(2)))


def test_device_moves_keep_records():
    p = {"m": Model(np.ones(3), 0.5), "l": Layer(np.ones(2), 0.1)}
    moved = knet.to_cpu(p)
    assert type(moved["m"]) is Model and type(moved["l"]) is Layer
    assert_tree_allclose(moved, p)


def test_grad_into_buffers_of_a_record():
    p = Frozen(np.array([0.5, -1.0, 2.0]))
    out = knet.zeros_like(p)
    assert type(out) is Frozen
    knet.grad(loss_frozen, out=out)(p, X)
    assert_tree_allclose(out.w, 2 * p.w * X)


# --- the tree module ------------------------------------------------------------------------
def test_paths_and_leaves():
    tree = {"a": [Layer(np.ones(2), 0.5)], "m": Model(np.zeros(1), 1.0)}
    paths = [knet.keystr(p) for p, _ in knet.tree_leaves_with_path(tree)]
    assert paths == ["['a'][0].w", "['a'][0].b", "['m'].w", "['m'].b"]
    assert len(knet.tree_leaves(tree)) == 4
    assert knet.tree_structure(tree).num_leaves == 4


def test_tree_map_over_several_trees_and_is_leaf():
    a = Model(np.ones(2), 1.0)
    b = Model(np.full(2, 2.0), 3.0)
    s = knet.tree_map(lambda x, y: x + y, a, b)
    assert type(s) is Model and s.b == 4.0 and s.n == 2
    with pytest.raises(ValueError, match="structure"):
        knet.tree_map(lambda x, y: x, a, P(1.0, 2.0))
    counted = knet.tree_map(len, {"l": [1, 2], "t": (3,)}, is_leaf=lambda x: isinstance(x, (list, tuple)))
    assert counted == {"l": 2, "t": 1}


def test_unflatten_of_flatten_is_identity():
    tree = {"m": Model(np.ones(2), 1.0, n=5), "f": Frozen(np.zeros(1)), "s": Scaled(np.ones(1), 2.0)}
    leaves, spec = knet.tree_flatten(tree)
    back = knet.tree_unflatten(spec, leaves)
    assert back["m"].n == 5 and type(back["f"]) is Frozen and back["s"].scale == 2.0
    assert knet.tree_structure(back) == spec


@pytest.mark.parametrize("make", [lambda: P(np.array([0.5, -1.0, 2.0]), 0.3),
                                  lambda: Model(np.array([0.5, -1.0, 2.0]), 0.3)], ids=["namedtuple", "dataclass"])
def test_gradient_of_a_gradient_of_a_record(make):
    def g2(p):
        g = knet.grad(loss_fields)(p, X)
        return np.sum(g.w ** 2) + g.b
    p = make()
    got = _grad(g2, "auto", p)
    assert type(got) is type(p)
    assert_numeric_grad(got, g2, (p,), rtol=1e-5, atol=1e-7)


def loss_inplace_alias(p, x):
    v = p.w
    v *= 2
    return np.sum(p.w * x)


def loss_item_alias(p, x):
    v = p.w
    v[1] = v[0] * 3
    return np.sum(p.w * x)


def loss_view_alias(p, x):
    v = p.w[1:]
    v[:] = v ** 2
    return np.sum(p.w * x)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("f", [loss_inplace_alias, loss_item_alias, loss_view_alias])
@pytest.mark.parametrize("make", [lambda: P(np.array([1.0, 2.0, 3.0]), 0.3),
                                  lambda: Model(np.array([1.0, 2.0, 3.0]), 0.3)], ids=["namedtuple", "dataclass"])
def test_writes_through_a_field_are_never_silently_wrong(mode, f, make):
    # a field read is the caller's array, not a copy: writing into it changes p.w as Python does
    with pytest.raises(KnetError):
        _grad(f, mode, make(), X)


def loss_list_of_records(ms, x):
    s = 0.0
    for m in ms:
        s = s + np.sum(m.w * x) * m.b
    return s


@pytest.mark.parametrize("mode", MODES)
def test_a_list_of_dataclasses(mode):
    ms = [Model(np.array([0.5, -1.0, 2.0]), 0.3), Model(np.array([1.5, 0.2, -0.4]), -0.2)]
    g = _grad(loss_list_of_records, mode, ms, X)
    assert [type(m) for m in g] == [Model, Model]
    assert_numeric_grad(g, loss_list_of_records, (ms, X))


@pytest.mark.parametrize("make", [lambda w, b: P(w, b), lambda w, b: Model(w, b)], ids=["namedtuple", "dataclass"])
def test_forward_mode_tangent_of_a_record_is_compiled(make):
    def f(p):
        return np.sum(np.tanh(p.w * X) * p.b)
    p, t = make(np.array([0.5, -1.0, 2.0]), 0.3), make(np.array([1.0, 2.0, 3.0]), 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FallbackWarning)
        _, tangent = knet.jvp(f, (p,), (t,))
    eps = 1e-6
    plus = f(make(p.w + eps * t.w, p.b + eps * t.b))
    minus = f(make(p.w - eps * t.w, p.b - eps * t.b))
    assert tangent == pytest.approx((plus - minus) / (2 * eps), rel=1e-7)


class Pair:
    def __init__(self, w, b):
        self.w, self.b = w, b


knet.register_tree(Pair, lambda p: ((p.w, p.b), None), lambda meta, ch: Pair(*ch))


@pytest.mark.parametrize("mode", MODES)
def test_registered_class_fields_are_read_in_every_mode(mode):
    p = Pair(np.array([0.5, -1.0, 2.0]), 0.3)
    g = _grad(loss_fields, mode, p, X)
    assert type(g) is Pair
    assert_numeric_grad(g, loss_fields, (p, X))


def test_registered_class_with_one_array_in_two_children_is_loud_in_compiled_code():
    a = np.array([0.5, -1.0, 2.0])

    def f(p, x):
        return np.sum(p.w * x) + np.sum(p.b ** 2)
    g = knet.grad(f, mode="source")
    g(Pair(np.ones(3), np.ones(3)), X)                  # compiled for distinct children
    with pytest.raises(KnetError, match="same object"):
        g(Pair(a, a), X)
    expected = numeric_grad(f, (Pair(a.copy(), a.copy()), X))
    got = knet.grad(f, mode="tape")(Pair(a, a), X)
    assert_tree_allclose(got.w, expected.w)
    assert_tree_allclose(got.b, expected.b)


def static_len(p, x):
    return len(p.act) * np.sum(p.w * x)


def static_concat(p, x):
    tag = p.act + "!"
    return np.sum(p.w * x) if tag == "tanh!" else 0.0


def static_range(p, x):
    s = 0.0
    for i in range(p.n):
        s = s + np.sum(p.w ** i * x)
    return s


def static_slice(p, x):
    return np.sum(p.w[:p.n - 1] * x[:p.n - 1]) * p.n


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("f", [static_len, static_concat, static_range, static_slice])
def test_static_fields_used_as_python_values(mode, f):
    p = Model(np.array([0.5, 1.0, 2.0]), 0.3, n=3)
    g = _grad(f, mode, p, X)
    assert g.n == 3 and g.act == "tanh"
    assert_numeric_grad(g, f, (p, X))
