"""Tests of knetc.train: optimizer updates (two steps by hand), clipping, progress, save/load."""
import math

import numpy as np
import pytest

from knetc import train

W0 = np.array([1.0, -2.0])
G1 = np.array([0.5, 1.0])
G2 = np.array([-1.0, 2.0])


def two_steps(opt):
    w = W0.copy()
    train.update(w, G1, opt)
    first = w.copy()
    opt.update(w, G2)
    return first, w


def test_sgd():
    first, second = two_steps(train.SGD(lr=0.1))
    np.testing.assert_allclose(first, W0 - 0.1 * G1)
    np.testing.assert_allclose(second, W0 - 0.1 * G1 - 0.1 * G2)


def test_momentum():
    first, second = two_steps(train.Momentum(lr=0.1, gamma=0.9))
    v1 = 0.1 * G1
    v2 = 0.9 * v1 + 0.1 * G2
    np.testing.assert_allclose(first, W0 - v1)
    np.testing.assert_allclose(second, W0 - v1 - v2)


def test_nesterov():
    first, second = two_steps(train.Nesterov(lr=0.1, gamma=0.9))
    v1 = -0.1 * G1
    w1 = W0 + 0.9 * v1 - 0.1 * G1
    v2 = 0.9 * v1 - 0.1 * G2
    w2 = w1 + 0.9 * v2 - 0.1 * G2
    np.testing.assert_allclose(first, w1)
    np.testing.assert_allclose(second, w2)


def test_adagrad():
    first, second = two_steps(train.Adagrad(lr=0.1, eps=1e-6))
    s1 = G1 ** 2
    w1 = W0 - 0.1 * G1 / (np.sqrt(s1) + 1e-6)
    s2 = s1 + G2 ** 2
    np.testing.assert_allclose(first, w1)
    np.testing.assert_allclose(second, w1 - 0.1 * G2 / (np.sqrt(s2) + 1e-6))


def test_rmsprop():
    first, second = two_steps(train.Rmsprop(lr=0.01, rho=0.9, eps=1e-6))
    s1 = 0.1 * G1 ** 2
    w1 = W0 - 0.01 * G1 / np.sqrt(s1 + 1e-6)
    s2 = 0.9 * s1 + 0.1 * G2 ** 2
    np.testing.assert_allclose(first, w1)
    np.testing.assert_allclose(second, w1 - 0.01 * G2 / np.sqrt(s2 + 1e-6))


def test_adadelta():
    first, second = two_steps(train.Adadelta(lr=1.0, rho=0.9, eps=1e-6))
    eps = 1e-6
    s1 = 0.1 * G1 ** 2
    d1 = np.sqrt(0 + eps) / np.sqrt(s1 + eps) * G1
    D1 = 0.1 * d1 ** 2
    w1 = W0 - d1
    s2 = 0.9 * s1 + 0.1 * G2 ** 2
    d2 = np.sqrt(D1 + eps) / np.sqrt(s2 + eps) * G2
    np.testing.assert_allclose(first, w1)
    np.testing.assert_allclose(second, w1 - d2)


def test_adam():
    first, second = two_steps(train.Adam(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8))
    m1, v1 = 0.1 * G1, 0.001 * G1 ** 2
    w1 = W0 - 0.01 * (m1 / 0.1) / (np.sqrt(v1 / 0.001) + 1e-8)
    m2, v2 = 0.9 * m1 + 0.1 * G2, 0.999 * v1 + 0.001 * G2 ** 2
    w2 = w1 - 0.01 * (m2 / (1 - 0.9 ** 2)) / (np.sqrt(v2 / (1 - 0.999 ** 2)) + 1e-8)
    np.testing.assert_allclose(first, w1)
    np.testing.assert_allclose(second, w2)


def test_nested_structures_update_in_place():
    w = {"layers": [np.ones((2, 2)), (np.zeros(3),)], "out": np.full((1, 1), 2.0)}
    g = {"layers": [np.ones((2, 2)), (np.ones(3),)], "out": np.ones((1, 1))}
    leaves = [w["layers"][0], w["layers"][1][0], w["out"]]
    opt = train.optimizers(w, train.Momentum, lr=0.5, gamma=0.5)
    assert isinstance(opt, train.Momentum) and opt.lr == 0.5
    assert train.update(w, g, opt) is w
    assert w["layers"][0] is leaves[0] and w["out"] is leaves[2]  # same arrays, updated in place
    np.testing.assert_allclose(w["layers"][0], 0.5)
    np.testing.assert_allclose(w["layers"][1][0], -0.5)
    train.update(w, g, opt)  # momentum state is per array
    np.testing.assert_allclose(w["out"], 2.0 - 0.5 - 0.75)
    assert isinstance(train.optimizers(w, "adam"), train.Adam)
    assert train.adam is train.Adam and train.sgd is train.SGD


def test_float32_parameters_stay_float32():
    w = [np.ones((2, 3), np.float32)]
    for cls in (train.SGD, train.Momentum, train.Nesterov, train.Adagrad, train.Rmsprop,
                train.Adadelta, train.Adam):
        opt = cls(lr=0.1)
        opt.update(w, [np.ones((2, 3), np.float32)])
        assert w[0].dtype == np.float32


def test_global_norm_clipping():
    w = [np.zeros(2), np.zeros(1)]
    g = [np.array([3.0, 0.0]), np.array([4.0])]  # global norm 5
    assert train.gnorm(g) == 5.0
    train.SGD(lr=1.0, gclip=1.0).update(w, g)
    np.testing.assert_allclose(w[0], [-0.6, 0.0])
    np.testing.assert_allclose(w[1], [-0.8])
    np.testing.assert_allclose(g[0], [3.0, 0.0])  # the gradient itself is not modified
    w = [np.zeros(2), np.zeros(1)]
    train.SGD(lr=1.0, gclip=10.0).update(w, g)  # below the threshold: unchanged
    np.testing.assert_allclose(w[0], [-3.0, 0.0])


def test_missing_and_zero_gradients_are_skipped():
    w = [np.ones(2), np.ones(2)]
    train.SGD(lr=1.0).update(w, [None, 0.0])
    np.testing.assert_allclose(w[0], 1.0)


def test_float_leaves_of_lists_and_dicts_are_updated():
    w = {"w": np.array([1.0, 2.0]), "b": 0.0}
    opt = train.SGD(lr=0.1)
    assert train.update(w, {"w": np.array([1.0, -1.0]), "b": 2.0}, opt) is w
    assert w["b"] == pytest.approx(-0.2) and type(w["b"]) is float
    np.testing.assert_allclose(w["w"], [0.9, 2.1])
    v = [np.float32(1.5)]
    train.Momentum(lr=0.5, gamma=0.9).update(v, [1.0])
    assert v[0] == pytest.approx(1.0) and type(v[0]) is np.float32
    adam, a = train.Adam(lr=0.1), {"b": 1.0}
    for _ in range(3):                            # the same steps as on a 1-element array
        adam.update(a, {"b": 0.5})
    adam2, b = train.Adam(lr=0.1), np.array([1.0])
    for _ in range(3):
        adam2.update(b, np.array([0.5]))
    assert a["b"] == pytest.approx(b[0], rel=1e-12)
    # where the new value cannot be written back, the error says how to write it
    with pytest.raises(TypeError, match=r"w\[1\] in place: it is a float inside a tuple; put it in a list or dict"):
        train.SGD(lr=1.0).update((np.ones(1), 1.5), (np.ones(1), 1.0))
    with pytest.raises(TypeError, match=r"np.array\(1.5\)"):
        train.SGD(lr=1.0).update(1.5, 1.0)


@pytest.mark.parametrize("make", [lambda: train.Adam(lr=0.05, gclip=1.0), lambda: train.Momentum(lr=0.1),
                                  lambda: train.Adadelta(), lambda: train.Rmsprop(lr=0.01)])
def test_save_load_keeps_optimizer_state_and_training_resumes(tmp_path, make):
    rng = np.random.default_rng(0)
    grads = [{"w": rng.standard_normal((2, 3)), "b": float(rng.standard_normal())} for _ in range(6)]

    def run(w, opt, gs):
        for g in gs:
            opt.update(w, g)
        return w
    straight = run({"w": np.ones((2, 3)), "b": 0.5}, make(), grads)
    w, opt = {"w": np.ones((2, 3)), "b": 0.5}, make()
    run(w, opt, grads[:3])
    train.save(tmp_path / "ckpt.npz", {"w": w, "opt": opt, "epoch": 3})
    ck = train.load(tmp_path / "ckpt.npz")
    assert ck["epoch"] == 3 and type(ck["opt"]) is type(opt) and ck["opt"].t == 3
    assert repr(ck["opt"]) == repr(opt)
    resumed = run(ck["w"], ck["opt"], grads[3:])
    np.testing.assert_allclose(resumed["w"], straight["w"], rtol=0, atol=0)
    assert resumed["b"] == straight["b"]
    # a fresh optimizer would not give the same result (the state matters)
    fresh = run(train.load(tmp_path / "ckpt.npz")["w"], make(), grads[3:])
    assert not np.allclose(fresh["w"], straight["w"])


def test_load_refuses_an_unknown_optimizer(tmp_path):
    class Mine(train.SGD):
        pass
    train.save(tmp_path / "o.npz", Mine(lr=0.1))
    assert type(train.load(tmp_path / "o.npz")) is Mine        # a subclass that is defined loads
    spec = train.Optimizer.from_state_dict
    with pytest.raises(TypeError, match="unknown optimizer class 'Gone'"):
        spec({"class": "Gone", "hyper": {}, "t": 0, "states": []})


def test_progress_reports_loss():
    bar = train.progress(range(5), disable=True)
    assert len(bar) == 5
    seen = []
    for i in bar:
        bar.set_loss(np.float32(i))
        seen.append(i)
    bar.close()
    assert seen == [0, 1, 2, 3, 4]
    assert bar.loss == 2.0 and bar.elapsed >= 0
    assert math.isnan(train.progress([], disable=True).loss)


def test_save_load_roundtrip(tmp_path):
    w = {"conv": [np.ones((2, 1, 3, 3), np.float32), np.zeros((1, 2, 1, 1), np.float32)],
         "dense": (np.arange(6.0).reshape(2, 3), 0.5),
         3: {"lr": 0.1, "steps": 7, "name": "lenet", "none": None, "flag": True},
         "scalar": np.float32(2.5)}
    path = tmp_path / "model.params"
    train.save(path, w)
    assert path.is_file()
    back = train.load(path)
    assert set(back) == set(w) and isinstance(back["conv"], list) and isinstance(back["dense"], tuple)
    assert back["conv"][0].dtype == np.float32 and back["conv"][0].shape == (2, 1, 3, 3)
    np.testing.assert_array_equal(back["dense"][0], w["dense"][0])
    assert back["dense"][1] == 0.5 and back[3] == w[3]
    assert back["scalar"] == np.float32(2.5) and back["scalar"].dtype == np.float32
    plain = [np.ones(3)]
    train.save(tmp_path / "w.npz", plain)
    assert isinstance(train.load(tmp_path / "w.npz"), list)
    with pytest.raises(TypeError):
        train.save(tmp_path / "bad.npz", [object()])


def test_train_epoch_and_mean_over():
    from knetc.train import SGD, mean_over, train_epoch
    w = [np.array([1.0, -2.0])]
    data = [(np.ones(2), np.ones(3)), (2 * np.ones(2), np.ones(1))]     # batches of 3 and 1 samples
    grad = lambda w, x, y: [x * 1.0]
    train_epoch(grad, w, data, SGD(lr=0.5))
    np.testing.assert_allclose(w[0], [1.0 - 0.5 - 1.0, -2.0 - 0.5 - 1.0])
    mean = mean_over(lambda w, x, y: x[0], w, data)        # (1 * 3 + 2 * 1) / 4
    assert mean == pytest.approx(1.25)
