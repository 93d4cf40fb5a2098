"""OpInfos of padding, differences, select, interpolation, convolution, polynomials and integration."""
import numpy as np

from . import OpInfo, Sample


def _n(rng, dtype, *shape):
    return rng.standard_normal(shape).astype(dtype)


def _pad(rng, dtype):
    x, v, m = _n(rng, dtype, 3, 4), _n(rng, dtype, 4), _n(rng, dtype, 2, 3, 4)
    return [Sample((x, 1)), Sample((x, ((1, 2), (0, 3))), {"constant_values": 1.5}, name="constant_values"),
            Sample((x, (2, 1)), {"constant_values": np.array(0.7, dtype)}, name="differentiated_constant"),
            Sample((m, ((0, 0), (1, 2), (2, 0)), "edge"), name="edge"),
            Sample((x, 2), {"mode": "reflect"}, name="reflect"),
            Sample((v, 6), {"mode": "reflect"}, name="reflect_wide"),
            Sample((x, ((1, 2), (3, 1))), {"mode": "symmetric"}, name="symmetric"),
            Sample((x, 5), {"mode": "wrap"}, name="wrap_wide"),
            Sample((v, 3), {"mode": "symmetric", "reflect_type": "odd"}, name="symmetric_odd"),
            Sample((x, 2), {"mode": "reflect", "reflect_type": "odd"}, name="reflect_odd"),
            Sample((x, ((2, 1), (1, 2))), {"mode": "linear_ramp", "end_values": 0.5}, name="linear_ramp"),
            Sample((x, 2), {"mode": "mean"}, name="mean"),
            Sample((m, 1), {"mode": "mean", "stat_length": 2}, name="mean_stat_length"),
            Sample((x, 1), {"mode": "maximum"}, name="maximum"),
            Sample((x, ((1, 2), (2, 1))), {"mode": "minimum"}, name="minimum"),
            Sample((m, ((1, 0), (0, 2), (2, 1)), "maximum"), {"stat_length": ((1, 2), (2, 3), (1, 1))},
                   name="maximum_stat_length"),
            Sample((m, 1), {"mode": "minimum", "stat_length": 3}, name="minimum_3d")]


def _pad_median(rng, dtype):
    """mode="median" (CuPy's pad may not have it: checked on NumPy only)."""
    x, m = _n(rng, dtype, 3, 4), _n(rng, dtype, 2, 3, 4)
    return [Sample((x, ((2, 1), (1, 3))), {"mode": "median"}, name="median"),
            Sample((x, 2), {"mode": "median", "stat_length": 2}, name="median_even_stat_length"),
            Sample((m, 1), {"mode": "median", "stat_length": 3}, name="median_3d")]


def _diff(rng, dtype):
    return [Sample((_n(rng, dtype, 5),)), Sample((_n(rng, dtype, 3, 5), 2), name="n2"),
            Sample((_n(rng, dtype, 3, 5),), {"axis": 0}, name="axis0"),
            Sample((_n(rng, dtype, 3, 5),), {"prepend": _n(rng, dtype, 3, 1), "append": 1.5}, name="prepend"),
            Sample((_n(rng, dtype, 3, 5), 3, 1), {"append": _n(rng, dtype, 3, 2)}, name="append_n3")]


def _gradient(rng, dtype):
    f2 = _n(rng, dtype, 4, 5)
    return [Sample((_n(rng, dtype, 5),)), Sample((f2,), name="both_axes"),
            Sample((f2, 0.5), {"axis": 1}, wrt=(0,), name="spacing"),
            Sample((f2,), {"axis": 0, "edge_order": 2}, name="edge_order2"),
            Sample((f2, 0.5, 2.0), wrt=(0,), name="spacings"),
            Sample((f2, np.array([0.0, 0.4, 1.1, 1.5, 2.6], dtype)), {"axis": -1}, wrt=(0,), name="coordinates")]


def _select(rng, dtype):
    c = [rng.standard_normal((3, 4)) > 0.3, rng.standard_normal((3, 4)) > -0.2]
    return [Sample((c, [_n(rng, dtype, 3, 4), _n(rng, dtype, 4)], _n(rng, dtype, 3, 4))),
            Sample((c, [_n(rng, dtype, 3, 4), 2.5], 1.5), name="floats"),
            Sample((c, [_n(rng, dtype, 3, 4), _n(rng, dtype, 3, 4)]), {"default": _n(rng, dtype, 3, 4)}, name="kw")]


def _interp(rng, dtype):
    xp = np.array([0.0, 1.0, 2.5, 4.0], dtype)
    x = np.array([0.3, 1.7, 2.2, 3.1, 3.9, 0.8], dtype)
    outside = np.array([-0.7, 0.5, 4.6, 2.0 + 0.3], dtype)
    return [Sample((x, xp, _n(rng, dtype, 4)), wrt=(0, 2)),
            Sample((outside, xp, _n(rng, dtype, 4)), wrt=(0, 2), name="outside"),
            Sample((outside, xp, _n(rng, dtype, 4)), {"left": -1.0, "right": 2.0}, wrt=(0, 2), name="left_right"),
            Sample((1.3, xp, _n(rng, dtype, 4)), wrt=(0, 2), name="float")]


def _convolutions(default):
    def samples(rng, dtype):
        out = []
        for na, nv in [(5, 3), (3, 5), (4, 4), (2, 7)]:
            for mode in ("full", "same", "valid"):
                kwargs = {} if mode == default else {"mode": mode}
                out.append(Sample((_n(rng, dtype, na), _n(rng, dtype, nv)), kwargs, name=f"{na}x{nv}_{mode}"))
        out.append(Sample((_n(rng, dtype, 5), _n(rng, dtype, 2), "same"), name="positional_mode"))
        return out
    return samples


def _polyval(rng, dtype):
    return [Sample((_n(rng, dtype, 4), _n(rng, dtype, 2, 3))), Sample((_n(rng, dtype, 3), 0.7), name="float"),
            Sample((_n(rng, dtype, 1), _n(rng, dtype, 3)), name="constant")]


def _trapezoid(rng, dtype):
    x = np.array([0.0, 0.5, 1.5, 2.0, 3.1], dtype)
    return [Sample((_n(rng, dtype, 5),)), Sample((_n(rng, dtype, 3, 5),), {"x": x}, name="x"),
            Sample((_n(rng, dtype, 3, 5), np.sort(_n(rng, dtype, 3, 5), axis=1)), name="x_same_shape"),
            Sample((_n(rng, dtype, 5, 3), None, 0.5), {"axis": 0}, name="dx"),
            Sample((_n(rng, dtype, 2, 5),), {"dx": 0.3}, name="dx_literal")]


def _piecewise(rng, dtype):
    x = np.array([-1.5, 0.3, 2.0, 1.3, -0.2, 0.7, 1.6], dtype)
    m = np.array([[-0.4, 0.6, 1.8], [2.2, -1.1, 0.4]], dtype)
    return [Sample((x, [x < 0, x > 1], [np.sin, np.square, 0.5])),
            Sample((x, [x < 0.5], [np.exp, np.tanh]), name="otherwise_function"),
            Sample((m, [m < 0, m > 0.5], [np.negative, np.cosh]), name="overlapping_last_wins"),
            Sample((x, x > 0, [np.sin, 2.0]), name="single_condition")]


OPS = [
    OpInfo("np.pad", _pad, gpu=True),
    OpInfo("np.pad", _pad_median, name="np.pad_median"),
    OpInfo("np.diff", _diff, gpu=True),
    OpInfo("np.gradient", _gradient, gpu=True),
    OpInfo("np.ediff1d", lambda rng, dtype: [
        Sample((_n(rng, dtype, 5),)), Sample((_n(rng, dtype, 2, 3),), name="flattened"),
        Sample((_n(rng, dtype, 4),), {"to_end": _n(rng, dtype, 2), "to_begin": 1.5}, name="ends"),
        Sample((_n(rng, dtype, 4), _n(rng, dtype, 3), _n(rng, dtype, 1, 2)), name="positional_ends")]),
    OpInfo("np.select", _select, gpu=True),
    OpInfo("np.interp", _interp, gpu=True),
    OpInfo("np.convolve", _convolutions("full"), gpu=True),
    OpInfo("np.correlate", _convolutions("valid"), gpu=True),
    OpInfo("np.polyval", _polyval, gpu=True),
    # coefficients in a list: on the tape, a list of traced values reaches np.polyval only beside a
    # traced x (NumPy's dispatch does not look into lists), so no second order with respect to p alone
    OpInfo("np.polyval", lambda rng, dtype: [Sample(([1.5, -0.5, 2.0], _n(rng, dtype, 3)))],
           name="np.polyval_list", second_order=False),
    OpInfo("np.trapezoid", _trapezoid),
    OpInfo("np.piecewise", _piecewise),
    OpInfo("np.poly", lambda rng, dtype: [Sample((rng.standard_normal(4).astype(dtype),)),
                                          Sample((rng.standard_normal(1).astype(dtype),), name="one_root")],
           gpu=True),
]
