"""Derivative rules of ``np.fft``: fft/ifft/rfft/irfft, hfft/ihfft, the 2-d and n-d forms,
fftshift/ifftshift.

The adjoints follow the complex convention of :mod:`knetc.runtime.rules_complex`
(``zbar = dL/da - i dL/db``), under which a complex-linear map ``y = A x`` has
the adjoint ``A^T ybar`` (a transpose, no conjugate):

- ``fft``/``fftn`` (the DFT matrix is symmetric): the adjoint is the same
  transform of ``g`` with the same ``norm``; ``ifft``/``ifftn`` likewise;
- ``rfft``: the half spectrum of a real signal, so the adjoint is the real
  part of the full ``fft`` of ``g`` padded with zeros to the signal length;
- ``irfft``: a real signal from a half spectrum whose other half is implied
  (conjugate symmetry; the imaginary parts of the zero and Nyquist terms are
  ignored), a real-linear map: the adjoint of term ``k`` is
  ``w_k * conj(rfft(g))_k`` scaled as the opposite ``norm``, with ``w_k = 2``
  for the terms that stand for two and 1 for the zero and Nyquist terms;
- ``n=``/``s=`` zero-pad or truncate the input first: the adjoint truncates
  or zero-pads back to the input's length;
- ``fftshift``/``ifftshift``: each other's adjoint.

The adjoint of a real input is the real part (the gradient of a real input is
real). ``rfft`` of complex input is an error in NumPy itself.
"""
import numpy as np

from .backend import value_module
from .rules import defvjp
from .rules_complex import real_if_real, refuse_complex

_OPPOSITE = {None: "forward", "backward": "forward", "ortho": "ortho", "forward": "backward"}


def _fit(g, axis, n):
    """``g`` truncated or zero-padded along ``axis`` to length ``n``."""
    have = np.shape(g)[axis]
    if have == n:
        return g
    axis = axis % np.ndim(g)
    if have > n:
        return g[(slice(None),) * axis + (slice(0, n),)]
    shape = list(np.shape(g))
    shape[axis] = n - have
    zeros = value_module(g).zeros(tuple(shape), dtype=np.result_type(getattr(g, "dtype", float)))
    return np.concatenate([g, zeros], axis=axis)


def _fit_all(g, axes, lengths):
    for axis, n in zip(axes, lengths):
        g = _fit(g, axis, n)
    return g


def _axes_and_sizes(a, s, axes, last_half=False):
    """NumPy's defaults for ``s`` and ``axes`` of the n-d transforms.

    ``last_half``: for irfftn, whose default output length along the last
    axis is ``2 * (m - 1)`` for ``m`` input points.
    """
    nd = np.ndim(a)
    if axes is None:
        axes = list(range(nd)) if s is None else list(range(nd - len(s), nd))
    axes = [ax % nd for ax in axes]
    if s is None:
        s = [np.shape(a)[ax] for ax in axes]
        if last_half:
            s[-1] = 2 * (s[-1] - 1)
    return axes, list(s)


def _half_weights(m, n, like):
    """``w_k``: 1 for the zero term and (n even) the Nyquist term, 2 for the others."""
    xp = value_module(like)
    single = np.dtype(getattr(like, "dtype", np.float64)) in (np.float32, np.complex64)
    w = xp.full(m, 2.0, dtype=np.float32 if single else np.float64)
    w[0] = 1.0
    if n % 2 == 0 and m > n // 2:
        w[n // 2] = 1.0
    return w


def _irfft_last_adjoint(g, axis, n, norm, m_in):
    """The adjoint (a half spectrum of ``m_in`` points along ``axis``) of ``irfft(y, n, axis)``."""
    m = n // 2 + 1
    spec = np.conj(np.fft.rfft(g, n=n, axis=axis, norm=_OPPOSITE[norm]))
    w = _half_weights(m, n, g)
    shape = [1] * np.ndim(spec)
    shape[axis] = m
    return _fit(spec * np.reshape(w, tuple(shape)), axis, m_in)


# --- 1-d -----------------------------------------------------------------------------
def _fft_vjp(g, ans, a, n=None, axis=-1, norm=None, out=None):
    length = np.shape(a)[axis]
    return real_if_real(_fit(np.fft.fft(g, axis=axis, norm=norm), axis, length), a)


def _ifft_vjp(g, ans, a, n=None, axis=-1, norm=None, out=None):
    length = np.shape(a)[axis]
    return real_if_real(_fit(np.fft.ifft(g, axis=axis, norm=norm), axis, length), a)


def _rfft_vjp(g, ans, a, n=None, axis=-1, norm=None, out=None):
    refuse_complex("np.fft.rfft", a)
    length = np.shape(a)[axis]
    n = length if n is None else n
    full = np.fft.fft(_fit(g, axis, n), axis=axis, norm=norm)
    return np.real(_fit(full, axis, length))


def _irfft_vjp(g, ans, a, n=None, axis=-1, norm=None, out=None):
    m_in = np.shape(a)[axis]
    n = 2 * (m_in - 1) if n is None else n
    return real_if_real(_irfft_last_adjoint(g, axis % np.ndim(a), n, norm, m_in), a)


# hfft(a) = irfft(conj(a)) and ihfft(a) = conj(rfft(a)), each with the opposite norm (as NumPy
# computes them); conj's adjoint is conj (zbar convention), so the adjoints conjugate around irfft's
# and rfft's.
def _hfft_vjp(g, ans, a, n=None, axis=-1, norm=None, out=None):
    return np.conj(_irfft_vjp(g, None, np.conj(a), n, axis, _OPPOSITE[norm]))


def _ihfft_vjp(g, ans, a, n=None, axis=-1, norm=None, out=None):
    refuse_complex("np.fft.ihfft", a)
    return _rfft_vjp(np.conj(g), None, a, n, axis, _OPPOSITE[norm])


_KEYWORDS_1D = ("n", "axis", "norm")
defvjp(np.fft.hfft, _hfft_vjp, keywords=_KEYWORDS_1D)
defvjp(np.fft.ihfft, _ihfft_vjp, keywords=_KEYWORDS_1D)
defvjp(np.fft.fft, _fft_vjp, keywords=_KEYWORDS_1D)
defvjp(np.fft.ifft, _ifft_vjp, keywords=_KEYWORDS_1D)
defvjp(np.fft.rfft, _rfft_vjp, keywords=_KEYWORDS_1D)
defvjp(np.fft.irfft, _irfft_vjp, keywords=_KEYWORDS_1D)


# --- n-d -----------------------------------------------------------------------------
def _fftn_adjoint(transform, g, a, s, axes, norm):
    axes, _ = _axes_and_sizes(a, s, axes)
    out = transform(g, axes=axes, norm=norm)
    return real_if_real(_fit_all(out, axes, [np.shape(a)[ax] for ax in axes]), a)


def _rfftn_adjoint(g, a, s, axes, norm):
    refuse_complex("np.fft.rfftn", a)
    axes, sizes = _axes_and_sizes(a, s, axes)
    full = np.fft.fftn(_fit(g, axes[-1], sizes[-1]), axes=axes, norm=norm)
    return np.real(_fit_all(full, axes, [np.shape(a)[ax] for ax in axes]))


def _irfftn_adjoint(g, a, s, axes, norm):
    axes, sizes = _axes_and_sizes(a, s, axes, last_half=True)
    last = axes[-1]
    half = _irfft_last_adjoint(g, last, sizes[-1], norm, sizes[-1] // 2 + 1)
    if len(axes) > 1:
        half = np.fft.ifftn(half, axes=axes[:-1], norm=norm)
    return real_if_real(_fit_all(half, axes, [np.shape(a)[ax] for ax in axes]), a)


def _fftn_vjp(g, ans, a, s=None, axes=None, norm=None, out=None):
    return _fftn_adjoint(np.fft.fftn, g, a, s, axes, norm)


def _ifftn_vjp(g, ans, a, s=None, axes=None, norm=None, out=None):
    return _fftn_adjoint(np.fft.ifftn, g, a, s, axes, norm)


def _rfftn_vjp(g, ans, a, s=None, axes=None, norm=None, out=None):
    return _rfftn_adjoint(g, a, s, axes, norm)


def _irfftn_vjp(g, ans, a, s=None, axes=None, norm=None, out=None):
    return _irfftn_adjoint(g, a, s, axes, norm)


def _fft2_vjp(g, ans, a, s=None, axes=(-2, -1), norm=None, out=None):
    return _fftn_adjoint(np.fft.fftn, g, a, s, axes, norm)


def _ifft2_vjp(g, ans, a, s=None, axes=(-2, -1), norm=None, out=None):
    return _fftn_adjoint(np.fft.ifftn, g, a, s, axes, norm)


def _rfft2_vjp(g, ans, a, s=None, axes=(-2, -1), norm=None, out=None):
    return _rfftn_adjoint(g, a, s, axes, norm)


def _irfft2_vjp(g, ans, a, s=None, axes=(-2, -1), norm=None, out=None):
    return _irfftn_adjoint(g, a, s, axes, norm)


_KEYWORDS_ND = ("s", "axes", "norm")
defvjp(np.fft.fftn, _fftn_vjp, keywords=_KEYWORDS_ND)
defvjp(np.fft.ifftn, _ifftn_vjp, keywords=_KEYWORDS_ND)
defvjp(np.fft.rfftn, _rfftn_vjp, keywords=_KEYWORDS_ND)
defvjp(np.fft.irfftn, _irfftn_vjp, keywords=_KEYWORDS_ND)
defvjp(np.fft.fft2, _fft2_vjp, keywords=_KEYWORDS_ND)
defvjp(np.fft.ifft2, _ifft2_vjp, keywords=_KEYWORDS_ND)
defvjp(np.fft.rfft2, _rfft2_vjp, keywords=_KEYWORDS_ND)
defvjp(np.fft.irfft2, _irfft2_vjp, keywords=_KEYWORDS_ND)

defvjp(np.fft.fftshift, lambda g, ans, x, axes=None: np.fft.ifftshift(g, axes), keywords=("axes",))
defvjp(np.fft.ifftshift, lambda g, ans, x, axes=None: np.fft.fftshift(g, axes), keywords=("axes",))
