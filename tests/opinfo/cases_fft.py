"""OpInfos of np.fft on real inputs: complex results (reduced through np.real and np.imag by
the runner), every n=/s=, axis/axes and norm= form, padding and truncation, odd and even lengths.

``irfft``/``irfftn`` take a half spectrum; real samples check the real part of their
adjoints, and tests/test_complex.py checks complex spectra in between.
"""
from . import OpInfo, Sample

NORMS = (None, "backward", "ortho", "forward")


def _r(rng, dtype, *shape):
    return rng.standard_normal(shape).astype(dtype)


def _one_d(rng, dtype):
    x, m = _r(rng, dtype, 8), _r(rng, dtype, 3, 7)
    samples = [Sample((x,)), Sample((m,), name="odd_length_rows"),
               Sample((m,), {"axis": 0}, name="axis0"), Sample((x,), {"n": 11}, name="padded"),
               Sample((x,), {"n": 5}, name="truncated"), Sample((m, 6, 0), name="positional_n_axis"),
               Sample((m, None, -1, "ortho"), name="positional_norm")]
    samples += [Sample((m,), {"norm": norm}, name=f"norm_{norm}") for norm in NORMS]
    return samples


def _two_d(rng, dtype):
    x, t = _r(rng, dtype, 4, 6), _r(rng, dtype, 2, 5, 3)
    samples = [Sample((x,)), Sample((t,), name="batched"), Sample((t,), {"axes": (0, 2)}, name="axes"),
               Sample((x,), {"s": (5, 4)}, name="s_pad_truncate")]
    samples += [Sample((t,), {"norm": norm}, name=f"norm_{norm}") for norm in NORMS]
    return samples


def _n_d(rng, dtype):
    x, t = _r(rng, dtype, 4, 6), _r(rng, dtype, 2, 5, 4)
    samples = [Sample((x,)), Sample((t,), name="three_d"), Sample((t,), {"axes": (0, 2)}, name="axes"),
               Sample((t,), {"axes": (1,)}, name="one_axis"),
               Sample((t,), {"s": (3, 6), "axes": (1, 2)}, name="s_and_axes"),
               Sample((t, (3, 4), (0, 1), "forward"), name="positional")]
    samples += [Sample((t,), {"norm": norm}, name=f"norm_{norm}") for norm in NORMS]
    return samples


def _irfft(rng, dtype):
    y, m = _r(rng, dtype, 5), _r(rng, dtype, 3, 4)
    samples = [Sample((y,)), Sample((m,), name="rows"), Sample((m,), {"axis": 0}, name="axis0"),
               Sample((y,), {"n": 9}, name="odd_n"), Sample((y,), {"n": 12}, name="padded"),
               Sample((y,), {"n": 4}, name="truncated")]
    samples += [Sample((m,), {"norm": norm}, name=f"norm_{norm}") for norm in NORMS]
    return samples


def _irfft_nd(rng, dtype, two_d=False):
    x, t = _r(rng, dtype, 4, 4), _r(rng, dtype, 2, 5, 4)
    samples = [Sample((x,)), Sample((t,), name="three_d"),
               Sample((t,), {"s": (6, 5), "axes": (1, 2)}, name="s_odd_last"),
               Sample((t,), {"axes": (0, 1)}, name="axes")]
    samples += [Sample((t,), {"norm": norm}, name=f"norm_{norm}") for norm in NORMS]
    return samples


def _shift(rng, dtype):
    x, t = _r(rng, dtype, 7), _r(rng, dtype, 4, 5)
    return [Sample((x,)), Sample((t,)), Sample((t,), {"axes": 1}, name="axis"),
            Sample((t,), {"axes": (0, 1)}, name="axes")]


OPS = [
    OpInfo("np.fft.fft", _one_d, gpu=True),
    OpInfo("np.fft.ifft", _one_d, gpu=True),
    OpInfo("np.fft.rfft", _one_d, gpu=True),
    OpInfo("np.fft.irfft", _irfft, gpu=True),
    OpInfo("np.fft.hfft", _irfft, gpu=True),
    OpInfo("np.fft.ihfft", _one_d, gpu=True),
    OpInfo("np.fft.fft2", _two_d, gpu=True),
    OpInfo("np.fft.ifft2", _two_d, gpu=True),
    OpInfo("np.fft.rfft2", _two_d, gpu=True),
    OpInfo("np.fft.irfft2", _irfft_nd, gpu=True),
    OpInfo("np.fft.fftn", _n_d, gpu=True),
    OpInfo("np.fft.ifftn", _n_d, gpu=True),
    OpInfo("np.fft.rfftn", _n_d, gpu=True),
    OpInfo("np.fft.irfftn", _irfft_nd, gpu=True),
    OpInfo("np.fft.fftshift", _shift, gpu=True),
    OpInfo("np.fft.ifftshift", _shift, gpu=True),
]
