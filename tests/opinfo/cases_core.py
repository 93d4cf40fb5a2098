"""OpInfos of a few long-standing rules: they keep the generic checks honest."""
import numpy as np

from . import OpInfo, Sample


def _reductions(rng, dtype):
    x = rng.standard_normal((2, 3, 4)).astype(dtype)
    return [Sample((x,)), Sample((x,), {"axis": 1}), Sample((x,), {"axis": (0, 2), "keepdims": True}),
            Sample((x, -1), name="positional_axis")]


def _unary(rng, dtype):
    return [Sample((rng.standard_normal((3, 4)).astype(dtype),)), Sample((float(rng.standard_normal()),))]


OPS = [
    OpInfo("np.sum", _reductions, gpu=True),
    OpInfo("np.mean", _reductions, gpu=True),
    OpInfo("np.tanh", _unary, gpu=True),
    OpInfo("np.matmul", lambda rng, dtype: [
        Sample((rng.standard_normal((3, 4)).astype(dtype), rng.standard_normal((4, 2)).astype(dtype))),
        Sample((rng.standard_normal((2, 3, 4)).astype(dtype), rng.standard_normal((4,)).astype(dtype)))],
        gpu=True),
]
