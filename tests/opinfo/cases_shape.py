"""OpInfos of the reordering, stacking, splitting and insertion rules."""
import numpy as np

from . import OpInfo, Sample


def _n(rng, dtype, *shape):
    return rng.standard_normal(shape).astype(dtype)


def _distinct(rng, dtype, *shape):
    """Values at least 1e-2 apart: sort and partition stay away from ties."""
    n = int(np.prod(shape))
    values = np.arange(n) * 0.1 + rng.uniform(0, 0.09, n)
    return (rng.permutation(values).reshape(shape) - n * 0.05).astype(dtype)


def _samples(*make):
    """Samples from functions of (rng, dtype) returning (args, kwargs, name)."""
    def samples(rng, dtype):
        out = []
        for m in make:
            args, kwargs, name = m(rng, dtype)
            out.append(Sample(args, kwargs, name=name))
        return out
    return samples


class A:
    """A random array of this shape in a sample spec."""

    def __init__(self, *shape):
        self.shape = shape


def _s(*args, name="", **kwargs):
    """One sample spec: ``A(3, 4)`` (also inside a list) stands for a random array, drawn later."""
    def make(rng, dtype):
        def draw(a):
            if isinstance(a, A):
                return _n(rng, dtype, *a.shape)
            if isinstance(a, list):
                return [draw(x) for x in a]
            return a
        return tuple(draw(a) for a in args), kwargs, name
    return make


def _sorting(*specs):
    def samples(rng, dtype):
        return [Sample((_distinct(rng, dtype, *shape),) + rest, kw, name=name) for shape, rest, kw, name in specs]
    return samples


def _take_along(rng, dtype):
    x = _n(rng, dtype, 3, 4)
    return [Sample((x, np.array([[0, 0, 3], [1, 2, 2], [3, 3, 3]]), 1), name="repeats"),
            Sample((x, np.array([[2, 0, 1, 1]]), 0), name="broadcast_axis0"),
            Sample((x, np.array([5, 5, 0, 11])), {"axis": None}, name="flat"),
            Sample((x, np.array([[1], [0], [3]])), {"axis": -1}, name="keyword_axis")]


def _put_along(rng, dtype):
    x = _n(rng, dtype, 3, 4)
    return [Sample((x, np.array([[0], [2], [3]]), _n(rng, dtype, 3, 1), 1)),
            Sample((x, np.array([[1, 1], [0, 3], [2, 2]]), _n(rng, dtype, 3, 2), 1), name="repeats"),
            Sample((x, np.array([[2, 0, 1, 1]]), _n(rng, dtype, 1, 4), 0), name="axis0"),
            Sample((x, np.array([[0], [2], [3]]), 1.5, 1), name="float_value")]


def _selections(kind):
    def samples(rng, dtype):
        x = _n(rng, dtype, 3, 4)
        if kind == "compress":
            return [Sample((np.array([True, False, True]), x), {"axis": 0}, name="rows"),
                    Sample((np.array([False, True, True]), x, 1), name="columns_short_condition"),
                    Sample((np.array([True, False, False, True, True]), x), name="flat")]
        if kind == "extract":
            return [Sample((x > 0.2, x)), Sample((np.arange(12).reshape(3, 4) % 3 == 0, x), name="pattern")]
        index = np.array([[0, 2, 1, 1], [2, 2, 0, 1], [1, 0, 0, 2]])
        return [Sample((index, [x, _n(rng, dtype, 4), _n(rng, dtype, 3, 4)])),
                Sample((index + 3, [x, x * 2, _n(rng, dtype, 3, 1)]), {"mode": "wrap"}, name="wrap"),
                Sample((index * 2 - 1, [x, 1.5, _n(rng, dtype, 3, 4)]), {"mode": "clip"}, name="clip")]
    return samples


def _array_of_scalars(rng, dtype):
    x, y, z = (float(v) for v in rng.standard_normal(3))
    return [Sample(([x, y, z],), wrt=(0,)), Sample(([[x, y], [z, 1.5]],), wrt=(0,), name="nested")]


OPS = [
    OpInfo("np.tile", _samples(_s(A(3), 2), _s(A(2, 3), (2, 1, 3), name="more_reps"),
                               _s(A(2, 3), (2,), name="fewer_reps"),
                               _s(1.5, 3, name="float"), _s(A(2, 3), reps=(2, 2), name="keyword")), gpu=True),
    OpInfo("np.roll", _samples(_s(A(3, 4), 1), _s(A(3, 4), -2, 1, name="axis"),
                               _s(A(3, 4), (1, -2), (0, 1), name="tuple"),
                               _s(A(3, 4), shift=5, axis=-1, name="keywords")), gpu=True),
    OpInfo("np.rot90", _samples(_s(A(3, 4)), _s(A(3, 4), 2, name="k2"), _s(A(2, 3, 4), 3, (1, 2), name="axes"),
                                _s(A(3, 4), k=-1, name="negative")), gpu=True),
    OpInfo("np.flipud", _samples(_s(A(3, 4)), _s(A(2, 3, 4), name="3d")), gpu=True),
    OpInfo("np.fliplr", _samples(_s(A(3, 4)), _s(A(2, 3, 4), name="3d")), gpu=True),
    OpInfo("np.rollaxis", _samples(_s(A(2, 3, 4), 2), _s(A(2, 3, 4), 1, 3, name="start"),
                                   _s(A(2, 3, 4), -1, start=0, name="keyword")), gpu=True),
    OpInfo("np.sort", _sorting(((5,), (), {}, "vector"), ((3, 4), (0,), {}, "axis0"),
                               ((3, 4), (), {"axis": None}, "flat"),
                               ((2, 3, 4), (), {"axis": -1, "kind": "stable"}, "kind"),
                               ((3, 4), (), {"stable": True}, "stable")), gpu=True),
    OpInfo("np.partition", _sorting(((6,), (2,), {}, "vector"), ((3, 6), (1,), {"axis": 1}, "axis"),
                                    ((4, 3), ((1, 2),), {"axis": 0}, "kths"), ((3, 4), (5,), {"axis": None}, "flat")),
           gpu=True),
    OpInfo("np.diag", _samples(_s(A(3)), _s(A(3), 1, name="k1"), _s(A(3), k=-2, name="k-2"),
                               _s(A(3, 4), name="matrix"), _s(A(3, 4), 1, name="matrix_k1"),
                               _s(A(4, 3), -2, name="matrix_k-2")), gpu=True),
    OpInfo("np.diagflat", _samples(_s(A(3)), _s(A(2, 2), 1, name="matrix_k1")), gpu=True),
    OpInfo("np.triu", _samples(_s(A(4, 4)), _s(A(3, 5), 1, name="k1"), _s(A(2, 3, 3), k=-1, name="batch"),
                               _s(A(4), name="vector")), gpu=True),
    OpInfo("np.tril", _samples(_s(A(4, 4)), _s(A(3, 5), 1, name="k1"), _s(A(2, 3, 3), k=-1, name="batch"),
                               _s(A(4), name="vector")), gpu=True),
    OpInfo("np.take_along_axis", _take_along, gpu=True),
    OpInfo("knetc.put_along_axis", _put_along, gpu=True),
    OpInfo("np.unstack", _samples(_s(A(3, 4)), _s(A(2, 3, 4), axis=1, name="axis"), _s(A(2, 3), axis=-1, name="last"))),
    OpInfo("np.matrix_transpose", _samples(_s(A(3, 4)), _s(A(2, 3, 4), name="batch"))),
    OpInfo("np.vander", _samples(_s(A(4)), _s(A(3), 5, name="N"), _s(A(4), increasing=True, name="increasing"),
                                 _s(A(3), N=2, name="keyword_N")), gpu=True),
    OpInfo("np.block", _samples(_s([[A(2, 2), A(2, 3)], [A(1, 2), A(1, 3)]]), _s([A(2), A(3), 1.5], name="flat"),
                                _s([[A(2, 2), A(2, 1)], [A(2), 1.5]], name="promoted"),
                                _s([[[A(1, 2, 2)], [A(1, 1, 2)]], [[A(2, 3, 2)]]], name="depth3")), gpu=False),
    OpInfo("np.column_stack", _samples(_s([A(3), A(3, 2)]), _s([A(3), A(3)], name="vectors")), gpu=True),
    OpInfo("np.row_stack", _samples(_s([A(3), A(2, 3)])), gpu=False),
    OpInfo("np.dstack", _samples(_s([A(2, 3), A(2, 3, 2)]), _s([A(3), A(3)], name="vectors")), gpu=True),
    OpInfo("np.hsplit", _samples(_s(A(4, 6), 3), _s(A(6), [2, 4], name="vector")), gpu=True),
    OpInfo("np.vsplit", _samples(_s(A(6, 4), [1, 3])), gpu=True),
    OpInfo("np.dsplit", _samples(_s(A(2, 3, 4), 2)), gpu=True),
    OpInfo("np.atleast_3d", _samples(_s(A(3)), _s(A(2, 3), name="matrix"), _s(1.5, name="float"),
                                     _s(A(2, 3, 4, 1), name="4d"), _s(A(3), A(2, 3), name="several")), gpu=True),
    OpInfo("np.meshgrid", _samples(_s(A(3), A(4)), _s(A(3), A(4), indexing="ij", name="ij"),
                                   _s(A(3), A(4), A(2), sparse=True, name="sparse3"), _s(A(3), name="one"),
                                   _s(A(2, 2), A(3), name="flattened")), gpu=True),
    OpInfo("np.append", _samples(_s(A(3, 4), A(2, 4), 0), _s(A(3), 1.5, name="float"),
                                 _s(A(2, 3), A(2, 2), axis=1, name="axis1"), _s(A(2, 2), A(3), name="flat")), gpu=True),
    OpInfo("np.insert", _samples(_s(A(3, 4), 1, A(4), 0), _s(A(5), [1, 3], 2.5, name="positions"),
                                 _s(A(3, 4), 2, A(3), axis=1, name="column"), _s(A(3, 4), 5, A(2), name="flat"),
                                 _s(A(3, 4), [0, 0], A(3, 2), axis=1, name="repeated_position"))),
    OpInfo("np.delete", _samples(_s(A(3, 4), [0, 2], 1), _s(A(5), 1, name="vector"),
                                 _s(A(3, 4), slice(0, 2), axis=0, name="slice"), _s(A(3, 4), [1, 5, 7], name="flat"))),
    OpInfo("np.array", _array_of_scalars, gpu=False),
    # conversions: the identity on values (a list of arrays is stacked; ascontiguousarray and
    # asfortranarray make a float 1-d)
    *[OpInfo(path, _samples(_s(A(3, 4)), _s(A(2, 3, 2), name="3d"), _s(1.5, name="float"),
                            _s([A(3), A(3)], name="list"), _s(A(3, 4), dtype="float64", name="dtype")),
             gpu=path != "np.asarray_chkfinite")
      for path in ("np.asarray", "np.asanyarray", "np.ascontiguousarray", "np.asfortranarray",
                   "np.asarray_chkfinite")],
    OpInfo("np.asanyarray", _samples(_s(A(3, 4), order="F", name="order")), name="np.asanyarray-order"),
    # unique of distinct values is a sort (repeated values: an error, tests/test_unique_and_friends.py)
    OpInfo("np.unique", _sorting(((5,), (), {}, "vector"), ((3, 4), (), {}, "flat"),
                                 ((3, 4), (), {"return_index": True, "return_inverse": True,
                                               "return_counts": True}, "integer_results"),
                                 ((3, 4), (), {"axis": 0}, "rows"), ((3, 4), (), {"axis": 1}, "columns"),
                                 ((2, 3, 2), (), {"axis": -1, "return_inverse": True}, "axis_inverse"),
                                 ((4,), (), {"equal_nan": False}, "equal_nan")), gpu=True),
    OpInfo("np.compress", _selections("compress"), gpu=True),
    OpInfo("np.extract", _selections("extract"), gpu=True),
    OpInfo("np.choose", _selections("choose"), gpu=True),
    OpInfo("np.resize", _samples(_s(A(2, 3), (4, 4)), _s(A(5), (2, 2), name="shrink"), _s(A(3), 7, name="int_shape"),
                                 _s(A(2, 2), new_shape=(3, 3), name="keyword"))),
    OpInfo("np.lib.stride_tricks.sliding_window_view", lambda rng, dtype: [
        Sample((_n(rng, dtype, 3, 5), (2, 3))), Sample((_n(rng, dtype, 7), 3), name="vector"),
        Sample((_n(rng, dtype, 3, 5), 2), {"axis": 1}, name="axis"),
        Sample((_n(rng, dtype, 2, 3, 4), (2, 2)), {"axis": (0, 2)}, name="axes")]),
    OpInfo("np.astype", lambda rng, dtype: [Sample((_n(rng, dtype, 3, 4), "float64")),
                                            Sample((_n(rng, dtype, 3), "float64"), {"copy": False}, name="copy")]),
    OpInfo("np.real_if_close", lambda rng, dtype: [Sample((_n(rng, dtype, 3, 4),)),
                                                   Sample((_n(rng, dtype, 4),), {"tol": 1000}, name="tol")]),
]
