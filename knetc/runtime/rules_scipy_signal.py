"""Derivative rules of ``scipy.signal.convolve`` and ``scipy.signal.correlate`` (registered once
the program imports ``scipy.signal``).

Both are bilinear, for n-d inputs of equal rank. Every mode is a centred crop of the 'full'
result (SciPy's ``_centered``: the crop starts at ``(full - out) // 2`` in each axis; 'valid'
with the smaller input first is the same crop, since SciPy swaps the inputs there), so each
adjoint pads ``g`` back to the full shape with zeros and applies the transposed map:

* ``c = convolve(a, v)``, ``c_k = sum_i a_i v_(k-i)``: ``da = correlate(G, v, 'valid')``,
  ``dv = correlate(G, a, 'valid')`` (convolution is symmetric in its inputs);
* ``c = correlate(a, v)``, ``c_k = sum_l a_l v_(l+nv-1-k)``: ``da = convolve(G, v, 'valid')``,
  ``dv = flip(correlate(G, a, 'valid'))``.

``G`` is at least as large as either input in every axis, so none of these 'valid' calls
swaps its inputs. ``method`` ('auto', 'direct', 'fft') changes how the value is computed, not
the value: the adjoint uses the same method. The adjoints are themselves ``convolve`` /
``correlate`` / ``np.pad`` / ``np.flip``, called through the module, so second derivatives
work on the tape. CuPy arrays use ``cupyx.scipy.signal`` (imported only when a CuPy array is
seen). Complex inputs are refused: the adjoint of a complex correlation conjugates, which
these rules do not model.
"""
import numpy as np
from scipy import signal

from ..errors import KnetError
from .backend import is_cupy_array
from .rules import defvjp


def _signal_for(*xs):
    """``scipy.signal``, or ``cupyx.scipy.signal`` for plain CuPy arrays (a traced value
    goes through ``scipy.signal``, whose shim the tape records)."""
    if any(is_cupy_array(x) for x in xs):
        import cupyx.scipy.signal  # lazy: CuPy is optional (GPU only)
        return cupyx.scipy.signal
    return signal


def _refuse_complex(name, *xs):
    for x in xs:
        value = x
        while hasattr(value, "_value"):        # a traced value: its array
            value = value._value
        if np.iscomplexobj(value):
            raise KnetError(f"knetc: scipy.signal.{name} of complex inputs is not differentiable "
                            f"(knetc models real inputs only)")


def _full_adjoint(g, a, v):
    """``g`` (the adjoint of a 'full', 'same' or 'valid' result) zero-padded to the full shape."""
    widths = []
    for n_out, na, nv in zip(np.shape(g), np.shape(a), np.shape(v)):
        full = na + nv - 1
        start = (full - n_out) // 2
        widths.append((start, full - n_out - start))
    return np.pad(g, widths)


def _like(grad, x):
    """The adjoint ``grad`` in ``x``'s float precision, as a list where ``x`` is one."""
    dtype = getattr(x, "dtype", None)
    if dtype is not None and dtype.kind == "f" and grad.dtype != dtype:
        grad = grad.astype(dtype)
    return list(grad) if isinstance(x, (list, tuple)) else grad


def _prepared(name, g, in1, in2):
    _refuse_complex(name, g, in1, in2)
    a, v = (np.asarray(x) if isinstance(x, (list, tuple)) else x for x in (in1, in2))
    if np.ndim(a) != np.ndim(v):
        raise KnetError(f"knetc: scipy.signal.{name} needs inputs of equal rank")
    return a, v


def _convolve_in1(g, ans, in1, in2, mode="full", method="auto"):
    a, v = _prepared("convolve", g, in1, in2)
    if np.ndim(a) == 0:
        return g * v
    G = _full_adjoint(g, a, v)
    return _like(_signal_for(G, v).correlate(G, v, mode="valid", method=method), in1)


def _convolve_in2(g, ans, in1, in2, mode="full", method="auto"):
    a, v = _prepared("convolve", g, in1, in2)
    if np.ndim(a) == 0:
        return g * a
    G = _full_adjoint(g, a, v)
    return _like(_signal_for(G, a).correlate(G, a, mode="valid", method=method), in2)


def _correlate_in1(g, ans, in1, in2, mode="full", method="auto"):
    a, v = _prepared("correlate", g, in1, in2)
    if np.ndim(a) == 0:
        return g * v
    G = _full_adjoint(g, a, v)
    return _like(_signal_for(G, v).convolve(G, v, mode="valid", method=method), in1)


def _correlate_in2(g, ans, in1, in2, mode="full", method="auto"):
    a, v = _prepared("correlate", g, in1, in2)
    if np.ndim(a) == 0:
        return g * a
    G = _full_adjoint(g, a, v)
    return _like(np.flip(_signal_for(G, a).correlate(G, a, mode="valid", method=method)), in2)


defvjp(signal.convolve, _convolve_in1, _convolve_in2, name="scipy.signal.convolve",
       keywords=("mode", "method"), in1=_convolve_in1, in2=_convolve_in2)
defvjp(signal.correlate, _correlate_in1, _correlate_in2, name="scipy.signal.correlate",
       keywords=("mode", "method"), in1=_correlate_in1, in2=_correlate_in2)
