"""OpInfos of the functions of complex values on real inputs (constant there: derivative 0).

Their complex behaviour, where the OpInfo format (real inputs straight into the
function) cannot reach, is checked by the programs of tests/test_complex.py.
"""
from . import OpInfo, Sample


def _real(rng, dtype):
    x = (rng.uniform(0.5, 2.0, (3, 4)) * rng.choice([-1.0, 1.0], (3, 4))).astype(dtype)
    return [Sample((x,)), Sample((float(x[0, 0]),), name="scalar")]


OPS = [
    OpInfo("np.sign", _real, gpu=True),
    OpInfo("np.imag", _real, gpu=True),
    OpInfo("np.angle", _real, gpu=True),
    OpInfo("np.angle", lambda rng, dtype: [Sample((s.args[0],), {"deg": True}) for s in _real(rng, dtype)],
           name="np.angle:deg", gpu=True),
]
