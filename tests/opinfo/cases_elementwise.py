"""OpInfos of the elementwise rules: NumPy ufuncs, ``operator`` and ``math`` on scalars."""
import numpy as np

from . import OpInfo, Sample


def _uniform(low, high):
    """Samples of a unary function on [low, high]: an array, a 0-d array, a Python float."""
    def samples(rng, dtype):
        return [Sample((rng.uniform(low, high, (3, 4)).astype(dtype),)),
                Sample((np.asarray(rng.uniform(low, high), dtype),), name="0d"),
                Sample((float(rng.uniform(low, high)),), name="float")]
    return samples


def _away(rng, shape, low=0.2, high=1.5):
    """Values at least ``low`` away from zero, of both signs."""
    return rng.uniform(low, high, shape) * rng.choice([-1.0, 1.0], shape)


def _binary(make_x, make_y):
    """Samples of a binary function: same shapes, broadcasting both ways, a Python float."""
    def samples(rng, dtype):
        out = []
        for sx, sy, name in [((3, 4), (3, 4), "same"), ((3, 4), (4,), "row"), ((3, 1), (1, 4), "both"),
                             ((2, 3, 4), (3, 1), "rank"), ((3, 4), (), "float")]:
            x = make_x(rng, sx).astype(dtype)
            y = make_y(rng, sy)
            y = float(y) if sy == () else y.astype(dtype)
            out.append(Sample((x, y), name=name))
        return out
    return samples


def _normal(rng, shape):
    return rng.standard_normal(shape)


def _positive(rng, shape):
    return rng.uniform(0.5, 2.0, shape)


def _distinct_pair(greater):
    """Pairs (x, y) that never tie (|x - y| >= 0.2), NaNs in y where ``greater`` is None."""
    def samples(rng, dtype):
        x = rng.standard_normal((3, 4))
        y = x + _away(rng, (3, 4))
        with_nan = np.where(rng.random((3, 4)) < 0.3, np.nan, y)
        return [Sample((x.astype(dtype), y.astype(dtype))),
                Sample((x.astype(dtype), with_nan.astype(dtype)), wrt=(0,), name="nan"),
                Sample((x[:, :1].astype(dtype), y.astype(dtype)), name="broadcast")]
    return samples


def _mod_pairs(rng, dtype):
    # x / y kept away from integers, where remainder jumps
    out = []
    for sx, sy in [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 3, 4), ())]:
        y = _away(rng, sy, 0.5, 2.0)
        k = rng.integers(-3, 3, sx) + rng.uniform(0.1, 0.9, sx)
        x = k * (y if sy else y)
        out.append(Sample((x.astype(dtype), float(y) if sy == () else y.astype(dtype)), name=str(sx)))
    return out


def _heaviside(rng, dtype):
    x1 = np.where(rng.random((3, 4)) < 0.3, 0.0, _away(rng, (3, 4)))
    return [Sample((x1.astype(dtype), rng.standard_normal((3, 4)).astype(dtype)), wrt=(1,)),
            Sample((x1.astype(dtype), float(rng.standard_normal())), wrt=(1,), name="float"),
            Sample((_away(rng, (3, 4)).astype(dtype), rng.standard_normal((3, 4)).astype(dtype)), name="x1")]


def _nan_to_num(rng, dtype):
    x = rng.standard_normal((3, 4))
    x[0, 1] = x[2, 0] = np.nan
    y = x.copy()
    y[1, 2], y[2, 3] = np.inf, -np.inf      # replaced by finite values, so the loss stays finite
    return [Sample((x.astype(dtype),)),
            Sample((y.astype(dtype),), {"nan": 1.5, "posinf": 9.0, "neginf": -9.0}, name="kw"),
            Sample((rng.standard_normal((2, 3)).astype(dtype),), name="finite")]


def _copysign(rng, dtype):
    return [Sample((_away(rng, (3, 4)).astype(dtype), _away(rng, (3, 4)).astype(dtype))),
            Sample((_away(rng, (3, 4)).astype(dtype), _away(rng, (4,)).astype(dtype)), name="row")]


def _sinc(rng, dtype):
    x = np.array([[-2.3, -0.7, 0.0, 0.4], [1.3, 2.6, -1.6, 0.9]])
    return [Sample((x.astype(dtype),)), Sample((float(rng.uniform(0.2, 3)),), name="float")]


def _scalars(*ranges):
    """Samples of a math function of Python floats, one draw per range."""
    def samples(rng, dtype):
        return [Sample(tuple(float(rng.uniform(lo, hi)) for lo, hi in ranges))]
    return samples


def _signed(lo, hi):
    """Python-float samples on +-[lo, hi]: both signs of a function defined there."""
    def samples(rng, dtype):
        return [Sample((float(rng.uniform(lo, hi)),), name="pos"), Sample((-float(rng.uniform(lo, hi)),), name="neg")]
    return samples


def _operands(rng, dtype):
    x, y = rng.standard_normal((3, 4)).astype(dtype), rng.uniform(0.5, 2, (4,)).astype(dtype)
    return [Sample((x, y)), Sample((float(rng.standard_normal()), y), name="float"),
            Sample((x, 1.5), name="float_y")]


OPS = [
    OpInfo("np.arcsinh", _uniform(-3, 3), gpu=True),
    OpInfo("np.arccosh", _uniform(1.2, 4), gpu=True),
    OpInfo("np.arctanh", _uniform(-0.9, 0.9), gpu=True),
    OpInfo("np.exp2", _uniform(-3, 3), gpu=True),
    OpInfo("np.cbrt", lambda rng, dtype: [Sample((_away(rng, (3, 4), 0.3, 2).astype(dtype),)),
                                          Sample((-1.7,), name="negative_float")], gpu=True),
    OpInfo("np.deg2rad", _uniform(-400, 400), gpu=True),
    OpInfo("np.radians", _uniform(-400, 400), gpu=True),
    OpInfo("np.rad2deg", _uniform(-7, 7), gpu=True),
    OpInfo("np.degrees", _uniform(-7, 7), gpu=True),
    OpInfo("np.sinc", _sinc, gpu=True),
    # i0' = i1: knetc's own series for |x| < 30, its asymptotic expansion beyond
    OpInfo("np.i0", lambda rng, dtype: [
        *_uniform(-3, 3)(rng, dtype),
        Sample((_away(rng, (3, 4), 20.0, 29.5).astype(dtype),), name="series"),
        Sample((_away(rng, (3, 4), 30.5, 40.0).astype(dtype),), name="asymptotic"),
        Sample((np.array([-30.2, -29.8, 29.9, 30.1]).astype(dtype),), name="switch"),
        Sample((np.array([0.0, 1e-3, -2e-3]).astype(dtype),), name="zero")], gpu=True),
    OpInfo("np.fabs", lambda rng, dtype: [Sample((_away(rng, (3, 4)).astype(dtype),)), Sample((-1.3,), name="float")],
           gpu=True),
    OpInfo("np.ldexp", lambda rng, dtype: [Sample((rng.standard_normal((3, 4)).astype(dtype), np.array([-2, 0, 1, 3]))),
                                           Sample((1.7, 2), name="float")], gpu=True),
    OpInfo("np.nan_to_num", _nan_to_num, gpu=True),
    OpInfo("np.hypot", _binary(_away, _away), gpu=True),
    OpInfo("np.arctan2", _binary(_away, _away), gpu=True),
    OpInfo("np.logaddexp2", _binary(_normal, _normal), gpu=True),
    OpInfo("np.fmax", _distinct_pair(True), gpu=True),
    OpInfo("np.fmin", _distinct_pair(False), gpu=True),
    OpInfo("np.mod", _mod_pairs, gpu=True),
    OpInfo("np.fmod", _mod_pairs, gpu=True),
    OpInfo("np.heaviside", _heaviside, gpu=True),
    OpInfo("np.float_power", _binary(_positive, lambda rng, s: rng.uniform(-2, 2, s)), float32=False, gpu=True),
    OpInfo("np.copysign", _copysign, gpu=True),
    # operator.* (the compiler sees operator.add(x, y) as a call)
    OpInfo("operator.add", _operands, gpu=True),
    OpInfo("operator.sub", _operands, gpu=True),
    OpInfo("operator.mul", _operands, gpu=True),
    OpInfo("operator.truediv", _operands, gpu=True),
    OpInfo("operator.pow", lambda rng, dtype: [
        Sample((rng.uniform(0.5, 2, (3, 4)).astype(dtype), rng.uniform(-2, 2, (4,)).astype(dtype))),
        Sample((rng.uniform(0.5, 2, (3, 4)).astype(dtype), 2.5), name="float")], gpu=True),
    OpInfo("operator.mod", _mod_pairs, gpu=True),
    OpInfo("operator.matmul", lambda rng, dtype: [
        Sample((rng.standard_normal((3, 4)).astype(dtype), rng.standard_normal((4, 2)).astype(dtype)))], gpu=True),
    OpInfo("operator.neg", _uniform(-2, 2), gpu=True),
    OpInfo("operator.pos", _uniform(-2, 2), gpu=True),
    OpInfo("operator.abs", lambda rng, dtype: [Sample((_away(rng, (3, 4)).astype(dtype),))], gpu=True),
    # math on Python floats
    OpInfo("math.asin", _signed(0.1, 0.9), float32=False),
    OpInfo("math.acos", _signed(0.1, 0.9), float32=False),
    OpInfo("math.asinh", _signed(0.1, 3), float32=False),
    OpInfo("math.acosh", _scalars((1.2, 4)), float32=False),
    OpInfo("math.atanh", _signed(0.1, 0.9), float32=False),
    OpInfo("math.atan2", lambda rng, dtype: [Sample((0.7, -1.3)), Sample((-2.1, 0.4), name="neg")], float32=False),
    OpInfo("math.hypot", lambda rng, dtype: [Sample((0.7, -1.3)), Sample((-2.1, 0.4, 1.1), name="three")],
           float32=False),
    OpInfo("math.degrees", _signed(0.1, 7), float32=False),
    OpInfo("math.radians", _signed(1, 400), float32=False),
    OpInfo("math.copysign", lambda rng, dtype: [Sample((0.7, -1.3)), Sample((-2.1, -0.4), name="neg")],
           float32=False),
    OpInfo("math.fmod", lambda rng, dtype: [Sample((5.3, 1.7)), Sample((-5.3, 1.7), name="neg")], float32=False),
    OpInfo("math.remainder", lambda rng, dtype: [Sample((5.3, 1.7)), Sample((-4.6, 1.7), name="neg")],
           float32=False),
    OpInfo("math.erf", _signed(0.1, 2), float32=False),
    OpInfo("math.lgamma", lambda rng, dtype: [Sample((0.3,)), Sample((4.7,), name="large"),
                                              Sample((23.5,), name="asymptotic"), Sample((-1.4,), name="negative")],
           float32=False),
    OpInfo("math.gamma", lambda rng, dtype: [Sample((0.3,)), Sample((3.2,), name="large"),
                                             Sample((-2.5,), name="negative")], float32=False),
    OpInfo("math.ldexp", lambda rng, dtype: [Sample((0.7, 3)), Sample((-1.3, -2), name="neg")], float32=False),
    OpInfo("math.erfc", _signed(0.1, 2), float32=False),
    OpInfo("math.cbrt", _signed(0.3, 3), float32=False),
    OpInfo("math.exp2", _signed(0.1, 3), float32=False),
    OpInfo("math.fsum", lambda rng, dtype: [Sample(([0.7, -1.3, 2.5],))], float32=False),
    OpInfo("math.prod", lambda rng, dtype: [Sample(([0.7, -1.3, 2.5],)), Sample(([0.7, 0.0, 2.5],), name="zero")],
           float32=False),
    OpInfo("math.dist", lambda rng, dtype: [Sample(([0.7, -1.3], [2.5, 0.1]))], float32=False),
    # piecewise: unwrap adds multiples of its period, modf's integer part and frexp's exponent jump
    OpInfo("np.unwrap", lambda rng, dtype: [
        Sample(((np.cumsum(rng.uniform(0.5, 1.5, (3, 5)), axis=1) + 0.3).astype(dtype),)),
        Sample(((np.cumsum(rng.uniform(0.5, 1.5, (4, 3)), axis=0) + 0.3).astype(dtype),), {"axis": 0}, name="axis"),
        Sample(((np.cumsum(rng.uniform(0.5, 1.5, 6)) + 0.3).astype(dtype),), {"period": 4.0}, name="period")],
        gpu=True),
    OpInfo("np.modf", lambda rng, dtype: [
        Sample(((rng.integers(-3, 4, (3, 4)) + rng.uniform(0.1, 0.9, (3, 4))).astype(dtype),))], gpu=True),
    OpInfo("np.frexp", lambda rng, dtype: [
        Sample(((rng.uniform(0.55, 0.95, (3, 4)) * 2.0 ** rng.integers(-2, 3, (3, 4))
                 * rng.choice([-1, 1], (3, 4))).astype(dtype),))], gpu=True),
]
