"""Derivative rules of ``scipy.special`` (registered once the program imports SciPy).

Most of these functions are ufuncs: the tape records them through
``__array_ufunc__`` like NumPy's. ``logsumexp``, ``softmax``,
``log_softmax``, ``polygamma`` and ``multigammaln`` are Python functions,
which the tape records through the library shims (see
:mod:`knetc.runtime.library_shims`). Every VJP is written with NumPy and
``scipy.special`` functions that have rules themselves (``gammaln'`` is
``digamma``, ``digamma'`` is ``polygamma(1, .)``...), called through the
module (``special.digamma``), so that second derivatives work on the tape.
"""
import inspect

import numpy as np
from scipy import special

from ..errors import KnetError
from .rules import ZERO_DERIVATIVE, defvjp, unbroadcast
from .tree import is_zero

_SQRT_PI = float(np.sqrt(np.pi))
_SQRT_2PI = float(np.sqrt(2 * np.pi))


def as_array(x):
    """A list or tuple argument (``logsumexp([a, b])``) as an array; anything else as it is."""
    return np.stack(x) if isinstance(x, (list, tuple)) else x


def fit(c, x):
    """The adjoint contribution ``c`` summed to ``x``'s shape and in ``x``'s float precision
    (for a list argument an array, which the caller indexes by position)."""
    x = as_array(x)
    c = unbroadcast(c, x)
    dtype = getattr(x, "dtype", None)
    if dtype is not None and dtype.kind == "f" and getattr(c, "dtype", dtype) != dtype and hasattr(c, "astype"):
        c = c.astype(dtype)
    return c


def refuse(name, argument, parameter, signature=None):
    """A VJP that raises: ``name`` has no derivative with respect to ``argument``
    (its parameter ``parameter``); ``signature``: the VJP signature it presents.

    Better than no VJP, which the tape would read as a constant argument.
    """
    def vjp(g, ans, *args, **kwargs):
        raise KnetError(f"knetc: {name} is not differentiable with respect to {argument} "
                        f"(knetc models its derivative in the other arguments only)")
    vjp.refuses = True
    vjp.parameter = parameter
    if signature is not None:
        vjp.__signature__ = signature
    return vjp


_ORDER_Z = inspect.signature(lambda g, ans, v, z: None)


def _defvjp(fun, *vjps, name, keywords=(), **kwvjps):
    defvjp(fun, *vjps, name=f"scipy.special.{name}", keywords=keywords, **kwvjps)


# --- logistic and normal functions ---------------------------------------------------------
_defvjp(special.expit, lambda g, ans, x: g * ans * (1 - ans), name="expit")
_defvjp(special.logit, lambda g, ans, x: g / (x * (1 - x)), name="logit")
_defvjp(special.log_expit, lambda g, ans, x: g * special.expit(-x), name="log_expit")
_defvjp(special.erf, lambda g, ans, x: g * (2 / _SQRT_PI) * np.exp(-x * x), name="erf")
_defvjp(special.erfc, lambda g, ans, x: g * (-2 / _SQRT_PI) * np.exp(-x * x), name="erfc")
_defvjp(special.erfinv, lambda g, ans, x: g * (_SQRT_PI / 2) * np.exp(ans * ans), name="erfinv")
_defvjp(special.erfcinv, lambda g, ans, x: g * (-_SQRT_PI / 2) * np.exp(ans * ans), name="erfcinv")
_defvjp(special.ndtr, lambda g, ans, x: g * np.exp(-0.5 * x * x) / _SQRT_2PI, name="ndtr")
_defvjp(special.log_ndtr, lambda g, ans, x: g * np.exp(-0.5 * x * x - ans) / _SQRT_2PI, name="log_ndtr")
_defvjp(special.ndtri, lambda g, ans, x: g * _SQRT_2PI * np.exp(0.5 * ans * ans), name="ndtri")

# --- gamma family ----------------------------------------------------------------------------
_defvjp(special.gammaln, lambda g, ans, x: g * special.digamma(x), name="gammaln")
_defvjp(special.gammasgn, ZERO_DERIVATIVE, name="gammasgn")    # the sign of gamma: piecewise constant
_defvjp(special.digamma, lambda g, ans, x: fit(g * special.polygamma(1, x), x), name="digamma")
_defvjp(special.gamma, lambda g, ans, x: g * ans * special.digamma(x), name="gamma")
_defvjp(special.beta,
        lambda g, ans, a, b: unbroadcast(g * ans * (special.digamma(a) - special.digamma(a + b)), a),
        lambda g, ans, a, b: unbroadcast(g * ans * (special.digamma(b) - special.digamma(a + b)), b),
        name="beta")
_defvjp(special.betaln,
        lambda g, ans, a, b: unbroadcast(g * (special.digamma(a) - special.digamma(a + b)), a),
        lambda g, ans, a, b: unbroadcast(g * (special.digamma(b) - special.digamma(a + b)), b),
        name="betaln")
_defvjp(special.polygamma, None,
        lambda g, ans, n, x: fit(g * special.polygamma(n + 1, x), x), name="polygamma")


def _multigammaln_vjp(g, ans, a, d):
    total = 0.0
    for j in range(d):
        total = total + special.digamma(a - j / 2)
    return fit(g * total, a)


_defvjp(special.multigammaln, _multigammaln_vjp, None, name="multigammaln")

# --- Bessel functions of the first and second kind (derivatives in x; none in the order n) -------
_ORDER_X = inspect.signature(lambda g, ans, n, x: None)
_defvjp(special.j0, lambda g, ans, x: -g * special.j1(x), name="j0")
_defvjp(special.j1, lambda g, ans, x: g * 0.5 * (special.j0(x) - special.jv(2, x)), name="j1")
_defvjp(special.y0, lambda g, ans, x: -g * special.y1(x), name="y0")
_defvjp(special.y1, lambda g, ans, x: g * 0.5 * (special.y0(x) - special.yv(2, x)), name="y1")
for _name, _fun in [("jn", special.jn), ("jv", special.jv), ("yn", special.yn), ("yv", special.yv)]:
    _base = special.jv if _name[0] == "j" else special.yv
    _defvjp(_fun, refuse(f"scipy.special.{_name}", "the order n", "n", _ORDER_X),
            (lambda base: lambda g, ans, n, x: unbroadcast(g * 0.5 * (base(n - 1, x) - base(n + 1, x)), x))(_base),
            name=_name)

# --- gamma function relatives and incomplete integrals (wrt x; none in the shape parameters) ----
_defvjp(special.rgamma, lambda g, ans, x: -g * ans * special.digamma(x), name="rgamma")
_SHAPE_X = inspect.signature(lambda g, ans, a, x: None)
# d/dx P(a, x) = x**(a-1) exp(-x) / Gamma(a), written through logs so it stays finite
_defvjp(special.gammainc, refuse("scipy.special.gammainc", "the shape a", "a", _SHAPE_X),
        lambda g, ans, a, x: unbroadcast(g * np.exp((a - 1) * np.log(x) - x - special.gammaln(a)), x),
        name="gammainc")
_defvjp(special.gammaincc, refuse("scipy.special.gammaincc", "the shape a", "a", _SHAPE_X),
        lambda g, ans, a, x: unbroadcast(-g * np.exp((a - 1) * np.log(x) - x - special.gammaln(a)), x),
        name="gammaincc")
_ABX = inspect.signature(lambda g, ans, a, b, x: None)
_defvjp(special.betainc, refuse("scipy.special.betainc", "the shape a", "a", _ABX),
        refuse("scipy.special.betainc", "the shape b", "b", _ABX),
        lambda g, ans, a, b, x: unbroadcast(
            g * np.exp((a - 1) * np.log(x) + (b - 1) * np.log1p(-x) - special.betaln(a, b)), x),
        name="betainc")


# --- x log y ------------------------------------------------------------------------------------
# At x == 0 the functions are 0 for every y, so their y-derivative is 0 there (not 0/0).
_defvjp(special.xlogy,
        lambda g, ans, x, y: unbroadcast(g * np.log(y), x),
        lambda g, ans, x, y: unbroadcast(g * x / np.where(x == 0, 1, y), y), name="xlogy")
_defvjp(special.xlog1py,
        lambda g, ans, x, y: unbroadcast(g * np.log1p(y), x),
        lambda g, ans, x, y: unbroadcast(g * x / np.where(x == 0, 1, 1 + y), y), name="xlog1py")
_defvjp(special.entr, lambda g, ans, x: -g * (np.log(x) + 1), name="entr")

# --- modified Bessel functions (derivatives in z; none in the order v) ---------------------------
_defvjp(special.i0, lambda g, ans, x: g * special.i1(x), name="i0")
_defvjp(special.i1, lambda g, ans, x: g * 0.5 * (special.i0(x) + special.iv(2, x)), name="i1")
_defvjp(special.iv, refuse("scipy.special.iv", "the order v", "v", _ORDER_Z),
        lambda g, ans, v, z: unbroadcast(g * 0.5 * (special.iv(v - 1, z) + special.iv(v + 1, z)), z),
        name="iv")
_defvjp(special.ive, refuse("scipy.special.ive", "the order v", "v", _ORDER_Z),
        lambda g, ans, v, z: unbroadcast(
            g * (0.5 * (special.ive(v - 1, z) + special.ive(v + 1, z)) - np.sign(z) * ans), z),
        name="ive")


# --- exponentially scaled Bessel functions, K_v, and other one-argument functions (JAX's list) ---
def _safe(x):
    """``x`` with zeros replaced by 1, for a division whose limit at 0 is taken separately."""
    return np.where(x == 0, 1.0, x)


_defvjp(special.i0e, lambda g, ans, x: g * (special.i1e(x) - np.sign(x) * ans), name="i0e")
# i1e' = i0e - i1e (sign(x) + 1/x), with the limit 1/2 at 0
_defvjp(special.i1e, lambda g, ans, x: g * np.where(
    x == 0, 0.5, special.i0e(x) - ans * (np.sign(x) + 1 / _safe(x))), name="i1e")
_defvjp(special.k0, lambda g, ans, x: -g * special.k1(x), name="k0")
_defvjp(special.k1, lambda g, ans, x: -g * (special.k0(x) + ans / x), name="k1")
_defvjp(special.k0e, lambda g, ans, x: g * (ans - special.k1e(x)), name="k0e")
_defvjp(special.k1e, lambda g, ans, x: g * (ans - special.k0e(x) - ans / x), name="k1e")
_defvjp(special.kv, refuse("scipy.special.kv", "the order v", "v", _ORDER_Z),
        lambda g, ans, v, z: unbroadcast(-g * 0.5 * (special.kv(v - 1, z) + special.kv(v + 1, z)), z),
        name="kv")
_defvjp(special.kve, refuse("scipy.special.kve", "the order v", "v", _ORDER_Z),
        lambda g, ans, v, z: unbroadcast(g * (ans - 0.5 * (special.kve(v - 1, z) + special.kve(v + 1, z))), z),
        name="kve")
_defvjp(special.erfcx, lambda g, ans, x: g * (2 * x * ans - 2 / _SQRT_PI), name="erfcx")
_defvjp(special.dawsn, lambda g, ans, x: g * (1 - 2 * x * ans), name="dawsn")
_defvjp(special.exp1, lambda g, ans, x: -g * np.exp(-x) / x, name="exp1")
_defvjp(special.expi, lambda g, ans, x: g * np.exp(x) / x, name="expi")
_N_X = inspect.signature(lambda g, ans, n, x: None)
# E_n' = -E_(n-1), and E_0(x) = exp(-x) / x
_defvjp(special.expn, refuse("scipy.special.expn", "the order n", "n", _N_X),
        lambda g, ans, n, x: unbroadcast(-g * np.where(n >= 1, special.expn(np.maximum(n - 1, 0), x),
                                                      np.exp(-x) * (x + 1) / (x * x)), x),
        name="expn")
# spence(z) = int_1^z log(t) / (1 - t) dt, whose derivative at z = 1 is -1
_defvjp(special.spence, lambda g, ans, z: g * np.where(z == 1, -1.0, np.log(z) / _safe(1 - z)), name="spence")
_defvjp(special.cosm1, lambda g, ans, x: -g * np.sin(x), name="cosm1")
_defvjp(special.powm1, lambda g, ans, x, y: unbroadcast(g * y * x ** (y - 1), x),
        lambda g, ans, x, y: unbroadcast(g * (ans + 1) * np.log(x), y), name="powm1")
_defvjp(special.log1p, lambda g, ans, x: g / (1 + x), name="log1p")
_defvjp(special.expm1, lambda g, ans, x: g * (ans + 1), name="expm1")
_defvjp(special.loggamma, lambda g, ans, x: g * special.digamma(x), name="loggamma")    # real x > 0
_defvjp(special.wrightomega, lambda g, ans, z: g * ans / (1 + ans), name="wrightomega")
if hasattr(special, "softplus"):      # SciPy 1.15
    _defvjp(special.softplus, lambda g, ans, x: g * special.expit(x), name="softplus")
_X_Q = inspect.signature(lambda g, ans, x, q=None: None)
# Hurwitz zeta(x, q): d/dq = -x zeta(x + 1, q); no closed form in x
_defvjp(special.zeta, refuse("scipy.special.zeta", "x", "x", _X_Q),
        lambda g, ans, x, q=None: unbroadcast(-g * x * special.zeta(x + 1, q), q), name="zeta",
        q=lambda g, ans, x, q=None: unbroadcast(-g * x * special.zeta(x + 1, q), q))
_defvjp(special.poch, lambda g, ans, z, m: unbroadcast(g * ans * (special.digamma(z + m) - special.digamma(z)), z),
        lambda g, ans, z, m: unbroadcast(g * ans * special.digamma(z + m), m), name="poch")
_ABX_HYP = inspect.signature(lambda g, ans, a, b, x: None)
_defvjp(special.hyp1f1, refuse("scipy.special.hyp1f1", "a", "a", _ABX_HYP),
        refuse("scipy.special.hyp1f1", "b", "b", _ABX_HYP),
        lambda g, ans, a, b, x: unbroadcast(g * a / b * special.hyp1f1(a + 1, b + 1, x), x), name="hyp1f1")
_ABCZ = inspect.signature(lambda g, ans, a, b, c, z: None)
_defvjp(special.hyp2f1, *[refuse("scipy.special.hyp2f1", p, p, _ABCZ) for p in "abc"],
        lambda g, ans, a, b, c, z: unbroadcast(g * a * b / c * special.hyp2f1(a + 1, b + 1, c + 1, z), z),
        name="hyp2f1")
# Owen's T(h, a) = 1/(2 pi) int_0^a exp(-h^2 (1 + t^2) / 2) / (1 + t^2) dt
_defvjp(special.owens_t,
        lambda g, ans, h, a: unbroadcast(-g * np.exp(-0.5 * h * h) * special.erf(a * h / np.sqrt(2.0))
                                         / (2 * np.sqrt(2 * np.pi)), h),
        lambda g, ans, h, a: unbroadcast(g * np.exp(-0.5 * h * h * (1 + a * a)) / (2 * np.pi * (1 + a * a)), a),
        name="owens_t")
# Student's t cdf in t: the density (no closed form in the degrees of freedom)
_DF_T = inspect.signature(lambda g, ans, df, t: None)
_defvjp(special.stdtr, refuse("scipy.special.stdtr", "the degrees of freedom df", "df", _DF_T),
        lambda g, ans, df, t: unbroadcast(g * np.exp(
            special.gammaln(0.5 * (df + 1)) - special.gammaln(0.5 * df) - 0.5 * np.log(df * np.pi)
            - 0.5 * (df + 1) * np.log1p(t * t / df)), t), name="stdtr")
_A_Y = inspect.signature(lambda g, ans, a, y: None)
# x = P^-1(a, y): dx/dy = 1 / (d/dx P(a, x)) = Gamma(a) exp(x) x^(1 - a)
_defvjp(special.gammaincinv, refuse("scipy.special.gammaincinv", "the shape a", "a", _A_Y),
        lambda g, ans, a, y: unbroadcast(g * np.exp(ans + special.gammaln(a) - (a - 1) * np.log(ans)), y),
        name="gammaincinv")

# functions returning two results: g is a pair (None for a result the loss does not use)
def _pair(g, ans, i):
    gi = g[i] if isinstance(g, (tuple, list)) else None
    return np.zeros_like(ans[i]) if is_zero(gi) else gi


_defvjp(special.fresnel, lambda g, ans, z: _pair(g, ans, 0) * np.sin(0.5 * np.pi * z * z)
        + _pair(g, ans, 1) * np.cos(0.5 * np.pi * z * z), name="fresnel")
_defvjp(special.sici, lambda g, ans, x: (_pair(g, ans, 0) * np.sin(x) + _pair(g, ans, 1) * np.cos(x)) / x,
        name="sici")
# W(z) e^W(z) = z: W' = W / (z (1 + W)), 1 at z = 0; the result is complex (holomorphic rule)
_defvjp(special.lambertw, lambda g, ans, z, k=0, tol=1e-8: fit(
    g * np.where(z == 0, 1.0, ans / (np.where(z == 0, 1.0, z) * (1 + ans))), z),
    name="lambertw", keywords=("k", "tol"))


# --- divergences and robust losses ---------------------------------------------------------------
_defvjp(special.kl_div, lambda g, ans, x, y: unbroadcast(g * np.log(x / y), x),
        lambda g, ans, x, y: unbroadcast(g * (1 - x / y), y), name="kl_div")
_defvjp(special.rel_entr, lambda g, ans, x, y: unbroadcast(g * (np.log(x / y) + 1), x),
        lambda g, ans, x, y: unbroadcast(-g * x / y, y), name="rel_entr")
_defvjp(special.huber,
        lambda g, ans, delta, r: unbroadcast(g * np.where(np.abs(r) > delta, np.abs(r) - delta, 0.0), delta),
        lambda g, ans, delta, r: unbroadcast(g * np.clip(r, -delta, delta), r), name="huber")


def _pseudo_huber_scale(delta, r):
    return np.sqrt(1 + (r / delta) ** 2)


_defvjp(special.pseudo_huber,
        lambda g, ans, delta, r: unbroadcast(g * (2 * delta * (_pseudo_huber_scale(delta, r) - 1)
                                                  - r * r / (delta * _pseudo_huber_scale(delta, r))), delta),
        lambda g, ans, delta, r: unbroadcast(g * r / _pseudo_huber_scale(delta, r), r), name="pseudo_huber")


# --- Box-Cox transforms (the limit at lmbda = 0 is log) ------------------------------------------------
def _boxcox_dlambda(g, ans, y, lmbda):
    """d/dlmbda of (y^l - 1) / l: (y^l log y) / l - (y^l - 1) / l^2, and (log y)^2 / 2 at l = 0."""
    logy = np.log(y)
    safe = _safe(lmbda)
    return g * np.where(lmbda == 0, 0.5 * logy * logy, (np.exp(lmbda * logy) * logy - ans) / safe)


_defvjp(special.boxcox, lambda g, ans, x, lmbda: unbroadcast(g * x ** (lmbda - 1), x),
        lambda g, ans, x, lmbda: unbroadcast(_boxcox_dlambda(g, ans, x, lmbda), lmbda), name="boxcox")
_defvjp(special.boxcox1p, lambda g, ans, x, lmbda: unbroadcast(g * (1 + x) ** (lmbda - 1), x),
        lambda g, ans, x, lmbda: unbroadcast(_boxcox_dlambda(g, ans, 1 + x, lmbda), lmbda), name="boxcox1p")


def _inv_boxcox_dlambda(g, ans, y, lmbda):
    # x = exp(log(l y + 1) / l): dx/dl = x (y / (l (l y + 1)) - log(l y + 1) / l^2), -x y^2 / 2 at l = 0
    safe = _safe(lmbda)
    return g * ans * np.where(lmbda == 0, -0.5 * y * y,
                              y / (safe * (safe * y + 1)) - np.log1p(safe * y) / (safe * safe))


_defvjp(special.inv_boxcox, lambda g, ans, y, lmbda: unbroadcast(
    g * np.where(lmbda == 0, ans, ans / (lmbda * y + 1)), y),
    lambda g, ans, y, lmbda: unbroadcast(_inv_boxcox_dlambda(g, ans, y, lmbda), lmbda), name="inv_boxcox")


# --- reductions ------------------------------------------------------------------------------------
def _keep(y, axis, keepdims):
    """A reduction's result (or adjoint) with its reduced axes back, as size 1."""
    if axis is None or keepdims:
        return y
    return np.expand_dims(y, axis)


def _first(g, ans):
    """The adjoint of the first result of a (value, sign) pair; zeros when unused."""
    if isinstance(ans, (tuple, list)):
        g0 = g[0] if isinstance(g, (tuple, list)) else g
        value = ans[0]
        if is_zero(g0):
            g0 = np.zeros_like(value)
        return g0, value, ans[1]
    return g, ans, 1.0


def _logsumexp_weights(g, ans, a, axis, b, keepdims):
    """d logsumexp / d(b * exp(a)), broadcast like ``a`` and ``b``: sign * exp(a - lse) * g."""
    g, value, sign = _first(g, ans)
    if axis is not None and not isinstance(axis, int):
        axis = tuple(axis)
    value = _keep(value, axis, keepdims)
    return _keep(g * sign, axis, keepdims) * np.exp(a - value)


def _logsumexp_a(g, ans, a, axis=None, b=None, keepdims=False, return_sign=False):
    w = _logsumexp_weights(g, ans, as_array(a), axis, b, keepdims)
    return fit(w if b is None else w * as_array(b), a)


def _logsumexp_b(g, ans, a, axis=None, b=None, keepdims=False, return_sign=False):
    return fit(_logsumexp_weights(g, ans, as_array(a), axis, b, keepdims), b)


_defvjp(special.logsumexp, _logsumexp_a, None, _logsumexp_b, name="logsumexp",
        keywords=("axis", "b", "keepdims", "return_sign"), a=_logsumexp_a, b=_logsumexp_b)


def _softmax_vjp(g, ans, x, axis=None):
    return ans * (g - np.sum(g * ans, axis=axis, keepdims=True))


def _log_softmax_vjp(g, ans, x, axis=None):
    return g - np.exp(ans) * np.sum(g, axis=axis, keepdims=True)


_defvjp(special.softmax, _softmax_vjp, name="softmax", keywords=("axis",), x=_softmax_vjp)
_defvjp(special.log_softmax, _log_softmax_vjp, name="log_softmax", keywords=("axis",),
        x=_log_softmax_vjp)
