"""OpInfos of scipy.signal.convolve and scipy.signal.correlate: 1-d to 3-d inputs of equal rank,
every mode (including 'valid' with the larger input second, which SciPy swaps) and method."""
import numpy as np

from . import OpInfo, Sample

_SHAPES = [((5,), (3,)), ((3,), (5,)), ((4,), (4,)), ((4, 5), (2, 3)), ((2, 3), (3, 4)),
           ((3, 4, 2), (2, 2, 2))]


def _n(rng, dtype, shape):
    return rng.standard_normal(shape).astype(dtype)


def _signal_samples(rng, dtype):
    out = []
    for s1, s2 in _SHAPES:
        for mode in ("full", "same", "valid"):
            kwargs = {} if mode == "full" else {"mode": mode}
            label = f"{'x'.join(map(str, s1))}_{'x'.join(map(str, s2))}_{mode}"
            out.append(Sample((_n(rng, dtype, s1), _n(rng, dtype, s2)), kwargs, name=label))
    out.append(Sample((_n(rng, dtype, (6,)), _n(rng, dtype, (3,)), "same", "fft"), name="positional_fft"))
    out.append(Sample((_n(rng, dtype, (3, 4)), _n(rng, dtype, (2, 2))), {"mode": "valid", "method": "direct"},
                      name="direct"))
    out.append(Sample((_n(rng, dtype, (4, 4)), _n(rng, dtype, (3, 2))), {"method": "fft"}, name="fft"))
    out.append(Sample((_n(rng, dtype, (5,)), _n(rng, dtype, (2,))), wrt=(0,), name="wrt_in1"))
    out.append(Sample((_n(rng, dtype, (5,)), _n(rng, dtype, (2,))), {"mode": "same"}, wrt=(1,),
                      name="wrt_in2"))
    return out


OPS = [
    OpInfo("scipy.signal.convolve", _signal_samples, requires="scipy"),
    OpInfo("scipy.signal.correlate", _signal_samples, requires="scipy"),
]
