"""Fused GPU kernels for hot activations, their adjoints, the LSTM cell and log-softmax.

Every kernel comes in two versions with the same signature:

* ``relu(x)``, ``relu_vjp(g, ans)``, ... dispatch: CuPy float32/float64 arrays
  of one dtype run one fused CUDA kernel (a ``cupy.ElementwiseKernel``, built
  on first use); anything else (NumPy arrays, Python scalars, mixed dtypes,
  the tape's traced values) runs the reference;
* ``relu_ref(x)``, ``relu_vjp_ref(g, ans)``, ... the references: plain NumPy
  functions (``np.exp``, ``np.tanh``...), which also work on CuPy arrays and on
  traced values (each call dispatches), so higher-order gradients see
  differentiable operations.

The tests compare references against straightforward math and knetc's rules
on the CPU, and kernels against references on the GPU. Nothing here imports
CuPy until a kernel runs on a CuPy array.

Conventions follow knetc.nn (Knet's layout): class scores are ``(classes, N)``
and the ``*0`` functions reduce over axis 0; LSTM gates are stacked in the
order input, forget, output, candidate (``i, f, o, g``) along ``axis``.
"""
import numbers

import numpy as np

from .backend import module_of, is_cupy_array
from .cuda_kernels import _SPECS, _kernel, kernel_cache  # noqa: F401  (the kernels this module dispatches to)

__all__ = [
    "relu", "relu_vjp", "sigm", "sigm_vjp", "tanh_vjp", "lstm_cell", "lstm_cell_vjp",
    "logsumexp0", "logsumexp0_vjp", "logp0", "logp0_vjp", "unbroadcast_to",
    "relu_ref", "relu_vjp_ref", "sigm_ref", "sigm_vjp_ref", "tanh_vjp_ref", "lstm_cell_ref",
    "lstm_cell_vjp_ref", "logsumexp0_ref", "logsumexp0_vjp_ref", "logp0_ref", "logp0_vjp_ref",
    "unbroadcast_to_ref", "KERNELS", "kernel_cache",
]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _fusable(*xs):
    """True when every value is a CuPy array of one dtype, float32 or float64."""
    if not xs or not all(is_cupy_array(x) for x in xs):
        return False
    dtype = xs[0].dtype
    return dtype in _FLOATS and all(x.dtype == dtype for x in xs)


# --- activations ------------------------------------------------------------------------
def relu_ref(x):
    """``max(x, 0)`` (NaN stays NaN), as knetc.nn.relu."""
    return np.maximum(x, 0)


def relu_vjp_ref(g, ans):
    """The adjoint of relu given its result: ``g * (ans > 0)``."""
    return g * (ans > 0)


def sigm_ref(x):
    """Logistic sigmoid ``(1 + tanh(x/2)) / 2``, as knetc.nn.sigm."""
    return 0.5 * (np.tanh(0.5 * x) + 1)


def sigm_vjp_ref(g, ans):
    """The adjoint of the sigmoid given its result: ``g * ans * (1 - ans)``."""
    return g * ans * (1 - ans)


def tanh_vjp_ref(g, ans):
    """The adjoint of tanh given its result: ``g * (1 - ans * ans)``."""
    return g * (1 - ans * ans)


def relu(x):
    """Rectified linear unit; one fused kernel on CuPy float arrays."""
    return _kernel("relu")(x) if _fusable(x) else relu_ref(x)


def relu_vjp(g, ans):
    """``g * (ans > 0)``; one fused kernel on CuPy float arrays of one dtype."""
    return _kernel("relu_vjp")(g, ans) if _fusable(g, ans) else relu_vjp_ref(g, ans)


def sigm(x):
    """Logistic sigmoid; one fused kernel on CuPy float arrays."""
    return _kernel("sigm")(x) if _fusable(x) else sigm_ref(x)


def sigm_vjp(g, ans):
    """``g * ans * (1 - ans)``; one fused kernel on CuPy float arrays of one dtype."""
    return _kernel("sigm_vjp")(g, ans) if _fusable(g, ans) else sigm_vjp_ref(g, ans)


def tanh_vjp(g, ans):
    """``g * (1 - ans**2)``; one fused kernel on CuPy float arrays of one dtype."""
    return _kernel("tanh_vjp")(g, ans) if _fusable(g, ans) else tanh_vjp_ref(g, ans)


# --- LSTM cell --------------------------------------------------------------------------
def _gate_axis(gates, axis):
    """``axis`` normalised to 0 or ``ndim - 1`` (the only layouts supported) and H."""
    ndim = np.ndim(gates)
    if ndim == 0:
        raise ValueError("lstm_cell: gates must be an array with the 4 gates stacked along an axis")
    ax = axis % ndim
    if ax not in (0, ndim - 1):
        raise ValueError(f"lstm_cell: gates must be stacked along the first or last axis, got axis={axis}")
    n4 = np.shape(gates)[ax]
    if n4 % 4:
        raise ValueError(f"lstm_cell: the gate axis has length {n4}, not a multiple of 4")
    return ax, n4 // 4


def _hidden_shape(gates, ax, H):
    shape = list(np.shape(gates))
    shape[ax] = H
    return tuple(shape)


def lstm_cell_ref(gates, c, axis=-1):
    """One LSTM step from pre-activation gates: returns ``(h, c_new)``.

    ``gates`` stacks the input, forget, output and candidate pre-activations
    (``i, f, o, g``, each of size H) along ``axis`` (the first or the last):
    ``(B, 4H)`` with ``c`` of shape ``(B, H)`` for ``axis=-1``, or Knet's
    ``(4H, B)`` with ``c`` ``(H, B)`` for ``axis=0``. Then
    ``c_new = sigm(f) * c + sigm(i) * tanh(g)`` and ``h = sigm(o) * tanh(c_new)``.
    """
    ax, _ = _gate_axis(gates, axis)
    a_i, a_f, a_o, a_g = np.split(gates, 4, axis=ax)
    c_new = sigm_ref(a_f) * c + sigm_ref(a_i) * np.tanh(a_g)
    return sigm_ref(a_o) * np.tanh(c_new), c_new


def lstm_cell_vjp_ref(dh, dc_new, gates, c, axis=-1):
    """Adjoints ``(dgates, dc)`` of :func:`lstm_cell_ref` given those of ``h`` and ``c_new``.

    ``dh`` or ``dc_new`` may be None (no adjoint reaches that output). The
    activations are recomputed from ``gates`` (nothing else is stored).
    """
    ax, H = _gate_axis(gates, axis)
    a_i, a_f, a_o, a_g = np.split(gates, 4, axis=ax)
    i, f, o, g = sigm_ref(a_i), sigm_ref(a_f), sigm_ref(a_o), np.tanh(a_g)
    c_new = f * c + i * g
    tc = np.tanh(c_new)
    dh = 0.0 if dh is None else dh
    dc_new = 0.0 if dc_new is None else dc_new
    dct = dc_new + dh * o * (1 - tc * tc)
    shape = _hidden_shape(gates, ax, H)
    parts = [dct * g * i * (1 - i), dct * c * f * (1 - f), dh * tc * o * (1 - o), dct * i * (1 - g * g)]
    dgates = np.concatenate([np.broadcast_to(p, shape) for p in parts], axis=ax)
    dc = dct * f
    return dgates, dc


def lstm_cell(gates, c, axis=-1):
    """One LSTM step ``(h, c_new)`` (see :func:`lstm_cell_ref`); one fused kernel on CuPy."""
    if not (_fusable(gates) and (_fusable(gates, c) or isinstance(c, numbers.Real))):
        return lstm_cell_ref(gates, c, axis)
    cp = module_of(gates)
    ax, H = _gate_axis(gates, axis)
    shape = _hidden_shape(gates, ax, H)
    h = cp.empty(shape, dtype=gates.dtype)
    cn = cp.empty(shape, dtype=gates.dtype)
    c = cp.asarray(c, dtype=gates.dtype)
    _kernel("lstm_cell")(gates, c, H, int(ax == 0), h, cn)
    return h, cn


def lstm_cell_vjp(dh, dc_new, gates, c, axis=-1):
    """Adjoints ``(dgates, dc)`` of :func:`lstm_cell` (see :func:`lstm_cell_vjp_ref`); one kernel on CuPy."""
    given = [v for v in (dh, dc_new, c) if not isinstance(v, numbers.Real) and v is not None]
    if not _fusable(gates, *given):
        return lstm_cell_vjp_ref(dh, dc_new, gates, c, axis)
    cp = module_of(gates)
    ax, H = _gate_axis(gates, axis)
    shape = _hidden_shape(gates, ax, H)
    zero = cp.zeros((), dtype=gates.dtype)
    dh = zero if dh is None else cp.asarray(dh, dtype=gates.dtype)
    dc_new = zero if dc_new is None else cp.asarray(dc_new, dtype=gates.dtype)
    c = cp.asarray(c, dtype=gates.dtype)
    dgates = cp.empty(gates.shape, dtype=gates.dtype)
    dc = cp.empty(shape, dtype=gates.dtype)
    _kernel("lstm_cell_vjp")(gates, c, dh, dc_new, H, int(ax == 0),
                             dgates, dc)
    return dgates, dc


# --- log-softmax and log-sum-exp along axis 0 ---------------------------------------------
def _lse0(x):
    """log(sum(exp(x), axis=0)) with axis 0 kept, shifted by a finite max (as knetc.nn)."""
    m = np.max(x, axis=0, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    return np.log(np.sum(np.exp(x - m), axis=0, keepdims=True)) + m


def logsumexp0_ref(x, keepdims=False):
    """Stable ``log(sum(exp(x), axis=0))``; shape ``x.shape[1:]`` (axis 0 kept as 1 with ``keepdims``)."""
    r = _lse0(x)
    return r if keepdims else np.reshape(r, np.shape(x)[1:])


def logsumexp0_vjp_ref(g, ans, x, keepdims=False):
    """The adjoint of :func:`logsumexp0_ref`: ``g * exp(x - ans)`` with axis 0 broadcast."""
    shape = (1,) + tuple(np.shape(x)[1:])
    return np.reshape(g, shape) * np.exp(x - np.reshape(ans, shape))


def logp0_ref(x):
    """Log-probabilities along axis 0 (log-softmax of each column): ``x - logsumexp0(x)``."""
    return x - _lse0(x)


def logp0_vjp_ref(g, ans):
    """The adjoint of :func:`logp0_ref` given its result: ``g - exp(ans) * sum(g, axis=0)``."""
    return g - np.exp(ans) * np.sum(g, axis=0, keepdims=True)


def _columns(x):
    """``x`` seen as ``(rows, cols)`` (axis 0 against everything else)."""
    rows = x.shape[0]
    if rows == 0:
        raise ValueError("logsumexp0/logp0: axis 0 is empty")
    return x.reshape(rows, -1), rows


def logsumexp0(x, keepdims=False):
    """Stable log-sum-exp over axis 0 (see :func:`logsumexp0_ref`); one kernel on CuPy (ndim >= 1)."""
    if not (_fusable(x) and x.ndim >= 1):
        return logsumexp0_ref(x, keepdims)
    cp = module_of(x)
    x2, rows = _columns(x)
    lse = cp.empty(x2.shape[1], dtype=x.dtype)
    _kernel("logsumexp0")(x2, rows, lse)
    return lse.reshape((1,) + x.shape[1:] if keepdims else x.shape[1:])


def logsumexp0_vjp(g, ans, x, keepdims=False):
    """``g * exp(x - ans)`` broadcast over axis 0; one fused kernel on CuPy."""
    if not (_fusable(g, ans, x) and x.ndim >= 1):
        return logsumexp0_vjp_ref(g, ans, x, keepdims)
    shape = (1,) + x.shape[1:]
    return _kernel("logsumexp0_vjp")(g.reshape(shape), x, ans.reshape(shape))


def logp0(x):
    """Log-softmax over axis 0 (see :func:`logp0_ref`); one kernel on CuPy (max, sum and write per column)."""
    if not (_fusable(x) and x.ndim >= 1):
        return logp0_ref(x)
    cp = module_of(x)
    x2, rows = _columns(x)
    lse = cp.empty(x2.shape[1], dtype=x.dtype)
    y = cp.empty(x2.shape, dtype=x.dtype)
    _kernel("logp0")(x2, rows, lse, y)
    return y.reshape(x.shape)


def logp0_vjp(g, ans):
    """``g - exp(ans) * sum(g, axis=0)``; one kernel on CuPy."""
    if not (_fusable(g, ans) and g.shape == ans.shape and ans.ndim >= 1):
        return logp0_vjp_ref(g, ans)
    cp = module_of(ans)
    g2, rows = _columns(g)
    y2 = ans.reshape(g2.shape)
    gsum = cp.empty(g2.shape[1], dtype=ans.dtype)
    dx = cp.empty(g2.shape, dtype=ans.dtype)
    _kernel("logp0_vjp")(g2, y2, rows, gsum, dx)
    return dx.reshape(ans.shape)


# --- unbroadcast -----------------------------------------------------------------------------
def _unbroadcast_axes(gshape, shape):
    """The axes of ``gshape`` to sum (keeping them) so that the result reshapes to ``shape``."""
    lead = len(gshape) - len(shape)
    axes = list(range(lead))
    for k, n in enumerate(shape):
        m = gshape[lead + k]
        if n == 1 and m != 1:
            axes.append(lead + k)
        elif n != m and m != 1:
            raise ValueError(f"unbroadcast: an adjoint of shape {gshape} cannot come from shape {shape}")
    return tuple(axes)


def unbroadcast_to_ref(g, shape):
    """Sum the adjoint ``g`` down to ``shape`` (undo broadcasting) with one reduction.

    Leading extra axes and the axes where ``shape`` has 1 are summed in one
    ``np.sum`` (knetc.rules.unbroadcast sums in two steps); an adjoint with
    fewer axes or size-1 axes where ``shape`` has more is broadcast up.
    """
    shape = tuple(shape)
    gshape = tuple(np.shape(g))
    if gshape == shape:
        return g
    if not hasattr(g, "shape"):
        g = module_of(g).asarray(g)
    lead = len(gshape) - len(shape)
    if lead < 0:
        return np.broadcast_to(g, shape)
    axes = _unbroadcast_axes(gshape, shape)
    if axes:
        g = np.sum(g, axis=axes, keepdims=True)
    if lead:
        g = np.reshape(g, np.shape(g)[lead:])   # the leading axes have size 1 now
    if tuple(np.shape(g)) != shape:
        g = np.broadcast_to(g, shape)
    return g


def unbroadcast_to(g, shape):
    """:func:`unbroadcast_to_ref`; on CuPy the one sum is one reduction kernel."""
    return unbroadcast_to_ref(g, shape)


# name -> (dispatching function, reference), for tests and documentation
KERNELS = {
    "relu": (relu, relu_ref), "relu_vjp": (relu_vjp, relu_vjp_ref),
    "sigm": (sigm, sigm_ref), "sigm_vjp": (sigm_vjp, sigm_vjp_ref),
    "tanh_vjp": (tanh_vjp, tanh_vjp_ref),
    "lstm_cell": (lstm_cell, lstm_cell_ref), "lstm_cell_vjp": (lstm_cell_vjp, lstm_cell_vjp_ref),
    "logsumexp0": (logsumexp0, logsumexp0_ref), "logsumexp0_vjp": (logsumexp0_vjp, logsumexp0_vjp_ref),
    "logp0": (logp0, logp0_ref), "logp0_vjp": (logp0_vjp, logp0_vjp_ref),
    "unbroadcast_to": (unbroadcast_to, unbroadcast_to_ref),
}
