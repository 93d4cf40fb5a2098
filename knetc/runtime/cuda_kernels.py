"""The CUDA sources of knetc's fused kernels, and the cache that builds them on first use.

:mod:`knetc.runtime.gpu_kernels` decides when a kernel runs (CuPy arrays of
one float dtype) and holds the NumPy references they must agree with. CuPy
is imported only when a kernel is first built.
"""

# --- CUDA sources --------------------------------------------------------------------
# (in_params, out_params, loop body). ``i`` is the loop index, ``_ind.size()`` the
# loop length; ``raw`` arrays are indexed by hand with C-order linear indices.
_SIGM = "(T)0.5 * (tanh((T)0.5 * ({0})) + (T)1)"      # as knetc.nn.sigm: stable for any x

# Where gate k of loop element i lives in the stacked gates: gates[base + k * step].
_LSTM_INDEX = """
    ptrdiff_t base, step;
    if (gates_first) {            // gates (4H, ...), c (H, ...): gate k is the k-th block
        base = i;
        step = _ind.size();
    } else {                      // gates (..., 4H), c (..., H): gate k is the k-th slice of a row
        ptrdiff_t row = i / H;
        base = row * 4 * H + (i - row * H);
        step = H;
    }
    T ig = %(sig_i)s;
    T fg = %(sig_f)s;
    T og = %(sig_o)s;
    T gg = tanh(gates[base + 3 * step]);
    T c2 = fg * c + ig * gg;
""" % {"sig_i": _SIGM.format("gates[base]"), "sig_f": _SIGM.format("gates[base + step]"),
       "sig_o": _SIGM.format("gates[base + 2 * step]")}

# Stable log-sum-exp of column i of the (rows, cols) raw array x, cols = _ind.size().
_LSE_COLUMN = """
    const ptrdiff_t cols = _ind.size();
    T m = x[i];
    for (ptrdiff_t r = 1; r < rows; ++r) {
        T v = x[r * cols + i];
        if (v > m) m = v;
    }
    if (!isfinite(m)) m = (T)0;   // all -inf (or inf/nan) columns: as knetc.nn's _lse
    T s = (T)0;
    for (ptrdiff_t r = 0; r < rows; ++r) s += exp(x[r * cols + i] - m);
    T l = log(s) + m;
    lse = l;
"""

_SPECS = {
    "relu": ("T x", "T y", "y = x < (T)0 ? (T)0 : x;"),
    "relu_vjp": ("T g, T y", "T dx", "dx = g * (T)(y > (T)0);"),
    "sigm": ("T x", "T y", "y = " + _SIGM.format("x") + ";"),
    "sigm_vjp": ("T g, T y", "T dx", "dx = g * y * ((T)1 - y);"),
    "tanh_vjp": ("T g, T y", "T dx", "dx = g * ((T)1 - y * y);"),
    "lstm_cell": (
        "raw T gates, T c, int64 H, int32 gates_first", "T h, T cn",
        _LSTM_INDEX + """
    cn = c2;
    h = og * tanh(c2);
"""),
    "lstm_cell_vjp": (
        "raw T gates, T c, T dh, T dcn, int64 H, int32 gates_first", "raw T dgates, T dc",
        _LSTM_INDEX + """
    T tc = tanh(c2);
    T dct = dcn + dh * og * ((T)1 - tc * tc);
    dgates[base] = dct * gg * ig * ((T)1 - ig);
    dgates[base + step] = dct * c * fg * ((T)1 - fg);
    dgates[base + 2 * step] = dh * tc * og * ((T)1 - og);
    dgates[base + 3 * step] = dct * ig * ((T)1 - gg * gg);
    dc = dct * fg;
"""),
    "logsumexp0": ("raw T x, int64 rows", "T lse", _LSE_COLUMN),
    "logp0": ("raw T x, int64 rows", "T lse, raw T y", _LSE_COLUMN + """
    for (ptrdiff_t r = 0; r < rows; ++r) y[r * cols + i] = x[r * cols + i] - l;
"""),
    "logsumexp0_vjp": ("T g, T x, T l", "T dx", "dx = g * exp(x - l);"),
    "logp0_vjp": ("raw T g, raw T y, int64 rows", "T gsum, raw T dx", """
    const ptrdiff_t cols = _ind.size();
    T s = (T)0;
    for (ptrdiff_t r = 0; r < rows; ++r) s += g[r * cols + i];
    gsum = s;
    for (ptrdiff_t r = 0; r < rows; ++r) dx[r * cols + i] = g[r * cols + i] - exp(y[r * cols + i]) * s;
"""),
}

_BUILT = {}


def kernel_cache():
    """The names of the kernels built so far in this process (for tests and diagnostics)."""
    return sorted(_BUILT)


def _kernel(name):
    """The ``cupy.ElementwiseKernel`` called ``name``, built on first use."""
    k = _BUILT.get(name)
    if k is None:
        import cupy  # lazy: CuPy is optional (GPU only)
        in_params, out_params, body = _SPECS[name]
        k = _BUILT[name] = cupy.ElementwiseKernel(in_params, out_params, body, "knetc_" + name)
    return k
