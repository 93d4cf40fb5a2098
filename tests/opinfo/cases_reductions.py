"""OpInfos of the cumulative product, the NaN-ignoring reductions and the statistics rules."""
import numpy as np

from . import OpInfo, Sample


def _distinct(rng, shape, gap=1e-2):
    """Values with every pair at least ``gap`` apart (no ties for max/sort/quantile)."""
    n = int(np.prod(shape))
    values = (np.arange(n) - n / 2) * 0.37 + rng.uniform(0, 0.37 - gap, n)
    return rng.permutation(values).reshape(shape) / n * 4


def _with_nans(rng, shape):
    x = _distinct(rng, shape)
    x[np.sum(np.indices(shape), axis=0) % 3 == 0] = np.nan   # neighbours along any axis: never all NaN
    return x


def _reduction_kwargs():
    return [{}, {"axis": 0}, {"axis": -1}, {"axis": (0, 2)}, {"axis": 1, "keepdims": True}]


def _reductions(make, wrt=None):
    def samples(rng, dtype):
        x = make(rng, (2, 3, 4))
        out = [Sample((x.astype(dtype),), kw, wrt=wrt, name=str(kw)) for kw in _reduction_kwargs()]
        out.append(Sample((x.astype(dtype), 1), wrt=wrt, name="positional_axis"))
        out.append(Sample((make(rng, (5,)).astype(dtype),), wrt=wrt, name="vector"))
        return out
    return samples


def _cumprod(rng, dtype):
    x = rng.uniform(0.5, 1.5, (3, 4)) * rng.choice([-1.0, 1.0], (3, 4))
    zeros = x.copy()
    zeros[0, 1] = zeros[1, 0] = 0.0     # one zero in rows 0 and 1 and in columns 0 and 1, none elsewhere
    one_zero = x.copy()
    one_zero[1, 2] = 0.0
    return [Sample((x.astype(dtype),)), Sample((x.astype(dtype),), {"axis": 1}, name="axis1"),
            Sample((x.astype(dtype), 0), name="positional_axis"),
            Sample((zeros.astype(dtype),), {"axis": 1}, name="zeros"),
            Sample((zeros.astype(dtype),), {"axis": 0}, name="zeros_axis0"),
            Sample((one_zero.astype(dtype),), name="zero_flat"),
            Sample((x.astype(dtype),), {"axis": -1, "dtype": "float64"}, name="dtype")]


def _cumprod_two_zeros(rng, dtype):
    x = rng.uniform(0.5, 1.5, (3, 5)) * rng.choice([-1.0, 1.0], (3, 5))
    x[0, 1] = x[0, 3] = x[1, 0] = x[1, 1] = 0.0
    return [Sample((x.astype(dtype),), {"axis": 1}), Sample((x.astype(dtype),), name="flat")]


def _average(rng, dtype):
    x = rng.standard_normal((3, 4)).astype(dtype)
    w2 = rng.uniform(0.5, 2, (3, 4)).astype(dtype)
    w1 = rng.uniform(0.5, 2, (4,)).astype(dtype)
    x3 = rng.standard_normal((2, 3, 4)).astype(dtype)
    w3 = rng.uniform(0.5, 2, (4, 2)).astype(dtype)
    return [Sample((x,)), Sample((x,), {"axis": 0}, name="axis"),
            Sample((x,), {"weights": w2}, name="weights"),
            Sample((x,), {"axis": 1, "weights": w1}, name="weights_1d"),
            Sample((x, 1, w1), name="positional_weights"),
            Sample((x,), {"axis": 1, "weights": w1, "keepdims": True}, name="keepdims"),
            Sample((x3,), {"axis": (2, 0), "weights": w3}, name="axes_tuple"),
            Sample((x3,), {"axis": -1, "weights": rng.uniform(0.5, 2, (2, 3, 4)).astype(dtype)},
                   name="weights_nd")]


def _quantile(scale):
    def samples(rng, dtype):
        x = _distinct(rng, (3, 5)).astype(dtype)
        x3 = _distinct(rng, (2, 3, 4)).astype(dtype)
        return [Sample((x, 0.3 * scale)), Sample((x, 0.3 * scale), {"axis": 1}, name="axis"),
                Sample((x, (np.array([0.15, 0.62]) * scale).astype(dtype)), {"axis": 0}, name="q_array"),
                Sample((x, 0.41 * scale), {"axis": -1, "keepdims": True}, name="keepdims"),
                Sample((x3, 0.7 * scale), {"axis": (0, 2)}, name="axes_tuple"),
                Sample((x, 0.3 * scale), {"axis": 1, "method": "lower"}, name="lower"),
                Sample((x, 0.3 * scale), {"axis": 1, "method": "higher"}, name="higher"),
                Sample((x, 0.3 * scale), {"axis": 1, "method": "midpoint"}, name="midpoint"),
                Sample((x, 0.7 * scale, 0), name="positional_axis")]
    return samples


def _median(rng, dtype):
    return [Sample((_distinct(rng, (3, 5)).astype(dtype),)),
            Sample((_distinct(rng, (3, 4)).astype(dtype),), {"axis": 1}, name="even"),
            Sample((_distinct(rng, (2, 3, 5)).astype(dtype),), {"axis": 0, "keepdims": True}, name="keepdims"),
            Sample((_distinct(rng, (2, 3, 5)).astype(dtype), (0, 2)), name="positional_axes")]


def _nan_quantile(scale):
    """NaN in about a third of the entries, a different number per slice (never a whole slice)."""
    def samples(rng, dtype):
        x = _with_nans(rng, (3, 5)).astype(dtype)
        x3 = _with_nans(rng, (2, 3, 4)).astype(dtype)
        return [Sample((x, 0.3 * scale)), Sample((x, 0.3 * scale), {"axis": 1}, name="axis"),
                Sample((x, (np.array([0.15, 0.62]) * scale).astype(dtype)), {"axis": 0}, name="q_array"),
                Sample((x, 0.41 * scale), {"axis": -1, "keepdims": True}, name="keepdims"),
                Sample((x3, 0.7 * scale), {"axis": (0, 2)}, name="axes_tuple"),
                Sample((x, 0.3 * scale), {"axis": 1, "method": "lower"}, name="lower"),
                Sample((x, 0.3 * scale), {"axis": 1, "method": "higher"}, name="higher"),
                Sample((x, 0.3 * scale), {"axis": 1, "method": "midpoint"}, name="midpoint"),
                Sample((x, 0.7 * scale, 0), name="positional_axis")]
    return samples


def _nan_median(rng, dtype):
    return [Sample((_with_nans(rng, (3, 5)).astype(dtype),)),
            Sample((_with_nans(rng, (3, 4)).astype(dtype),), {"axis": 1}, name="axis"),
            Sample((_with_nans(rng, (2, 3, 5)).astype(dtype),), {"axis": 0, "keepdims": True}, name="keepdims"),
            Sample((_with_nans(rng, (2, 3, 5)).astype(dtype), (0, 2)), name="positional_axes")]


def _nan_cumulative(rng, dtype):
    x = _with_nans(rng, (3, 4)) + 1.5          # away from zero for the products
    return [Sample((x.astype(dtype),)), Sample((x.astype(dtype), 1), name="axis"),
            Sample((x.astype(dtype),), {"axis": 0}, name="keyword_axis")]


def _nan_spread(rng, dtype):
    x = _with_nans(rng, (2, 3, 4))
    return [Sample((x.astype(dtype),)), Sample((x.astype(dtype),), {"axis": 1, "ddof": 1}, name="ddof"),
            Sample((x.astype(dtype), (0, 2)), {"keepdims": True}, name="axes_keepdims"),
            Sample((_distinct(rng, (5,)).astype(dtype),), name="no_nan")]


def _cumulative(rng, dtype):
    x = (rng.uniform(0.5, 1.5, (3, 4)) * rng.choice([-1.0, 1.0], (3, 4))).astype(dtype)
    return [Sample((x,), {"axis": 1}), Sample((x,), {"axis": 0, "include_initial": True}, name="initial"),
            Sample((x[0],), name="vector"), Sample((x[0],), {"include_initial": True}, name="vector_initial")]


def _cov(with_ddof):
    def samples(rng, dtype):
        n = rng.standard_normal
        out = [Sample((n((3, 6)).astype(dtype),)), Sample((n((6, 3)).astype(dtype),), {"rowvar": False}, name="rowvar"),
               Sample((n(6).astype(dtype), n(6).astype(dtype)), name="y"),
               Sample((n((2, 5)).astype(dtype),), {"y": n((1, 5)).astype(dtype)}, name="y_keyword"),
               Sample((n((5, 2)).astype(dtype), n(5).astype(dtype)), {"rowvar": False}, name="y_rowvar")]
        if with_ddof:
            out += [Sample((n(5).astype(dtype),), {"ddof": 0}, name="vector_ddof"),
                    Sample((n((3, 6)).astype(dtype),), {"bias": True}, name="bias")]
        return out
    return samples


def _ufunc_reduce(make, keepdims=True):
    def samples(rng, dtype):
        x = make(rng, (3, 4, 2)).astype(dtype)
        out = [Sample((x,)), Sample((x, 1), name="axis"), Sample((x,), {"axis": -1}, name="keyword_axis"),
               Sample((x,), {"axis": None}, name="all"), Sample((x,), {"axis": (0, 2)}, name="axes")]
        if keepdims:
            out.append(Sample((x,), {"axis": 1, "keepdims": True}, name="keepdims"))
        return out
    return samples


def _away_from_zero(rng, shape):
    return rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)


OPS = [
    OpInfo("np.cumprod", _cumprod, gpu=True),
    OpInfo(".cumprod", _cumprod, name="ndarray.cumprod", gpu=True),
    # second derivatives between two zeros of one slice are not modelled (see _cumprod_adjoint)
    OpInfo("np.cumprod", _cumprod_two_zeros, name="np.cumprod_two_zeros", second_order=False, gpu=True),
    OpInfo("np.nansum", _reductions(_with_nans), gpu=True),
    OpInfo("np.nanmean", _reductions(_with_nans), gpu=True),
    OpInfo("np.nanmax", _reductions(_with_nans), gpu=True),
    OpInfo("np.nanmin", _reductions(_with_nans), gpu=True),
    OpInfo("np.ptp", _reductions(_distinct), gpu=True),
    OpInfo("np.nancumsum", _nan_cumulative, gpu=True),
    OpInfo("np.nancumprod", _nan_cumulative, gpu=True),
    OpInfo("np.nanprod", _reductions(lambda rng, shape: _with_nans(rng, shape) + 1.5), gpu=True),
    OpInfo("np.nanvar", _nan_spread, gpu=True),
    OpInfo("np.nanstd", _nan_spread, gpu=True),
    OpInfo("np.cumulative_sum", _cumulative),          # NumPy 2.1's names: not in CuPy yet
    OpInfo("np.cumulative_prod", _cumulative),
    OpInfo("np.average", _average, gpu=True),
    OpInfo("np.quantile", _quantile(1.0), gpu=True),
    OpInfo("np.percentile", _quantile(100.0), gpu=True),
    OpInfo("np.median", _median, gpu=True),
    OpInfo("np.nanquantile", _nan_quantile(1.0)),          # not known to be in CuPy
    OpInfo("np.nanpercentile", _nan_quantile(100.0)),
    OpInfo("np.nanmedian", _nan_median, gpu=True),
    OpInfo("np.cov", _cov(True), gpu=True),
    OpInfo("np.add.reduce", _ufunc_reduce(lambda rng, s: rng.standard_normal(s)), gpu=True),
    OpInfo("np.multiply.reduce", _ufunc_reduce(_away_from_zero), gpu=True),
    OpInfo("np.maximum.reduce", _ufunc_reduce(_distinct), gpu=True),
    OpInfo("np.minimum.reduce", _ufunc_reduce(_distinct), gpu=True),
    OpInfo("np.fmax.reduce", _ufunc_reduce(_distinct), gpu=True),
    OpInfo("np.fmin.reduce", _ufunc_reduce(_distinct), gpu=True),
    OpInfo("np.logaddexp.reduce", _ufunc_reduce(lambda rng, s: rng.standard_normal(s)), gpu=True),
    OpInfo("np.logaddexp2.reduce", _ufunc_reduce(lambda rng, s: rng.standard_normal(s)), gpu=True),
    OpInfo("np.add.accumulate", lambda rng, dtype: [
        Sample((rng.standard_normal((3, 4)).astype(dtype),)),
        Sample((rng.standard_normal((3, 4)).astype(dtype), 1), name="axis")], gpu=True),
    OpInfo("np.multiply.accumulate", lambda rng, dtype: [Sample((_away_from_zero(rng, (3, 4)).astype(dtype),)),
                                                         Sample((_away_from_zero(rng, (3, 4)).astype(dtype),),
                                                                {"axis": 1}, name="axis")], gpu=True),
    OpInfo("np.corrcoef", _cov(False), gpu=True),
]
