"""Derivative rules of ``scipy.stats`` distributions (registered once the program imports it).

The rules belong to the bound methods of SciPy's distribution objects
(``scipy.stats.norm.logpdf``: the same rule however the program spells it,
``norm.logpdf`` after ``from scipy.stats import norm`` too), with
derivatives in every continuous argument: ``x``, ``loc``, ``scale`` and the
shape parameters, positional or by keyword. Frozen distributions
(``norm(0, 1).logpdf(x)``) are not modelled: an error says so.

A location-scale family is described once by its standardised log density's
derivatives in ``z = (x - loc) / scale`` and in its shape parameters; the
derivatives of ``logpdf``, ``pdf``, ``cdf``, ``logcdf``, ``sf``, ``logsf``
and the quantile functions ``ppf`` and ``isf`` follow from them. The
derivatives of ``cdf`` & co. in a shape parameter
(``t``'s ``df``, ``gamma``'s ``a``...) have no closed form in SciPy's
functions: they raise. VJPs call the distributions' own methods and
``scipy.special`` (both with rules), so second derivatives work.
"""
import inspect

import numpy as np
from scipy import linalg, special, stats

from .rules import defvjp
from .rules_scipy_special import as_array, fit, refuse

_P = inspect.Parameter


def _signature(names, defaults):
    params = [_P("g", _P.POSITIONAL_OR_KEYWORD), _P("ans", _P.POSITIONAL_OR_KEYWORD)]
    params += [_P(n, _P.POSITIONAL_OR_KEYWORD, default=defaults.get(n, _P.empty)) for n in names]
    return inspect.Signature(params)


def _named_vjp(signature, body, name):
    """A VJP with SciPy's parameter names (``__signature__``) that calls ``body(g, ans, args)``."""
    def vjp(g, ans, *args, **kwargs):
        bound = signature.bind(g, ans, *args, **kwargs)
        bound.apply_defaults()
        arguments = {k: as_array(v) for k, v in bound.arguments.items()}   # lists: arrays
        return body(g, ans, arguments)
    vjp.__signature__ = signature
    vjp.__name__ = vjp.__qualname__ = name
    return vjp


def _register(method, label, names, defaults, bodies, keywords):
    """``bodies``: parameter name -> body(g, ans, arguments) or a refusing VJP."""
    sig = _signature(names, defaults)
    vjps = {}
    for n in names:
        body = bodies.get(n)
        if body is None:
            vjps[n] = refuse(f"scipy.stats.{label}", n, n, sig)
        elif getattr(body, "refuses", False):
            vjps[n] = body
            body.__signature__ = sig      # SciPy's parameters, like the other VJPs
        else:
            vjps[n] = _named_vjp(sig, body, f"{label.replace('.', '_')}_{n}_vjp")
    defvjp(method, *[vjps[n] for n in names], name=f"scipy.stats.{label}", keywords=keywords, **vjps)


# --- location-scale families ---------------------------------------------------------------------
def _z(a):
    return (a["x"] - a["loc"]) / a["scale"]


def _log_density_bodies(dist, shapes, score, shape_scores, exp):
    """VJP bodies of logpdf (``exp=False``) or pdf (``exp=True``)."""
    def factor(g, ans):
        return g * ans if exp else g

    def shape_values(a):
        return [a[s] for s in shapes]

    def dx(g, ans, a):
        return fit(factor(g, ans) * score(_z(a), *shape_values(a)) / a["scale"], a["x"])

    def dloc(g, ans, a):
        return fit(-factor(g, ans) * score(_z(a), *shape_values(a)) / a["scale"], a["loc"])

    def dscale(g, ans, a):
        z = _z(a)
        return fit(-factor(g, ans) * (score(z, *shape_values(a)) * z + 1) / a["scale"], a["scale"])

    bodies = {"x": dx, "loc": dloc, "scale": dscale}
    for s, shape_score in zip(shapes, shape_scores):
        def dshape(g, ans, a, s=s, shape_score=shape_score):
            return fit(factor(g, ans) * shape_score(_z(a), *shape_values(a)), a[s])
        bodies[s] = dshape
    return bodies


def _cumulative_bodies(dist, shapes, sign, log, shape_bodies):
    """VJP bodies of cdf (sign 1) / sf (sign -1), and of their logs (``log=True``)."""
    def density(g, ans, a):
        args = [a["x"]] + [a[s] for s in shapes] + [a["loc"], a["scale"]]
        if log:
            return sign * g * np.exp(dist.logpdf(*args) - ans)
        return sign * g * dist.pdf(*args)

    def dx(g, ans, a):
        return fit(density(g, ans, a), a["x"])

    def dloc(g, ans, a):
        return fit(-density(g, ans, a), a["loc"])

    def dscale(g, ans, a):
        return fit(-density(g, ans, a) * _z(a), a["scale"])

    bodies = {"x": dx, "loc": dloc, "scale": dscale}
    bodies.update(shape_bodies)
    return bodies


def _quantile_bodies(dist, shapes, sign):
    """VJP bodies of ppf (sign 1) and isf (sign -1): x = loc + scale * Q(q), dx/dq = 1 / pdf(x)."""
    def dq(g, ans, a):
        density = dist.pdf(ans, *[a[s] for s in shapes], a["loc"], a["scale"])
        return fit(sign * g / density, a["q"])

    def dloc(g, ans, a):
        return fit(g * np.ones_like(ans), a["loc"])

    def dscale(g, ans, a):
        return fit(g * (ans - a["loc"]) / a["scale"], a["scale"])

    return {"q": dq, "loc": dloc, "scale": dscale}


METHODS = ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf")


def location_scale(name, shapes=(), score=None, shape_scores=(), methods=METHODS):
    """Register the rules of ``scipy.stats.<name>``'s methods.

    ``score(z, *shapes)`` is the derivative of the standardised log density in
    ``z``; ``shape_scores[i](z, *shapes)`` its derivative in shape parameter ``i``.
    """
    dist = getattr(stats, name)
    defaults = {"loc": 0, "scale": 1}
    keywords = tuple(shapes) + ("loc", "scale")
    for method in methods:
        first = "q" if method in ("ppf", "isf") else "x"
        names = (first,) + tuple(shapes) + ("loc", "scale")
        no_shape = {s: refuse(f"scipy.stats.{name}.{method}", f"the shape parameter {s}", s)
                    for s in shapes}
        if method in ("logpdf", "pdf"):
            bodies = _log_density_bodies(dist, shapes, score, shape_scores, exp=method == "pdf")
        elif method in ("ppf", "isf"):
            bodies = {**_quantile_bodies(dist, shapes, 1 if method == "ppf" else -1), **no_shape}
        else:
            sign = 1 if method in ("cdf", "logcdf") else -1
            bodies = _cumulative_bodies(dist, shapes, sign, method.startswith("log"), no_shape)
        _register(getattr(dist, method), f"{name}.{method}", names, defaults, bodies, keywords)


_LOG2 = float(np.log(2.0))

location_scale("norm", score=lambda z: -z)
location_scale("cauchy", score=lambda z: -2 * z / (1 + z * z))
location_scale("logistic", score=lambda z: -np.tanh(0.5 * z))
location_scale("laplace", score=lambda z: -np.sign(z))
location_scale("expon", score=lambda z: -np.ones_like(z))
location_scale("uniform", score=lambda z: np.zeros_like(z))
location_scale(
    "t", ("df",), score=lambda z, df: -(df + 1) * z / (df + z * z),
    shape_scores=(lambda z, df: 0.5 * (special.digamma(0.5 * (df + 1)) - special.digamma(0.5 * df))
                  - 0.5 / df - 0.5 * np.log1p(z * z / df) + 0.5 * (df + 1) * z * z / (df * (df + z * z)),))
location_scale(
    "gamma", ("a",), score=lambda z, a: (a - 1) / z - 1,
    shape_scores=(lambda z, a: np.log(z) - special.digamma(a),))
location_scale(
    "chi2", ("df",), score=lambda z, df: (0.5 * df - 1) / z - 0.5,
    shape_scores=(lambda z, df: 0.5 * (np.log(z) - _LOG2 - special.digamma(0.5 * df)),))
location_scale(
    "beta", ("a", "b"), score=lambda z, a, b: (a - 1) / z - (b - 1) / (1 - z),
    shape_scores=(lambda z, a, b: np.log(z) - special.digamma(a) + special.digamma(a + b),
                  lambda z, a, b: np.log1p(-z) - special.digamma(b) + special.digamma(a + b)))


# --- poisson: derivatives in the mean mu (k and loc are integers) -----------------------------------
def _poisson():
    dist = stats.poisson
    names, defaults, keywords = ("k", "mu", "loc"), {"loc": 0}, ("mu", "loc")
    no_k = refuse("scipy.stats.poisson", "k (a count)", "k")
    no_loc = refuse("scipy.stats.poisson", "loc (an integer shift)", "loc")

    def dlogpmf(g, ans, a):
        return fit(g * ((a["k"] - a["loc"]) / a["mu"] - 1), a["mu"])

    def dpmf(g, ans, a):
        return fit(g * ans * ((a["k"] - a["loc"]) / a["mu"] - 1), a["mu"])

    def cumulative(sign, log):
        # d/dmu P(K <= k) = -pmf(floor(k)): the sum telescopes
        def body(g, ans, a):
            k = np.floor(a["k"])
            if log:
                return fit(-sign * g * np.exp(dist.logpmf(k, a["mu"], a["loc"]) - ans), a["mu"])
            return fit(-sign * g * dist.pmf(k, a["mu"], a["loc"]), a["mu"])
        return body

    for method, body in (("logpmf", dlogpmf), ("pmf", dpmf), ("cdf", cumulative(1, False)),
                         ("logcdf", cumulative(1, True)), ("sf", cumulative(-1, False)),
                         ("logsf", cumulative(-1, True))):
        _register(getattr(dist, method), f"poisson.{method}", names, defaults,
                  {"k": no_k, "mu": body, "loc": no_loc}, keywords)


_poisson()


# --- multivariate_normal: derivatives in x, mean and cov (a matrix, a diagonal or a scalar) ------------
def _mvn_dimension(mean, cov):
    """The dimension SciPy infers: from mean, else from cov, else 1."""
    if mean is not None:
        return np.size(mean)
    return np.shape(cov)[0] if np.ndim(cov) >= 1 else 1


def _mvn_parts(a):
    """(residuals, residuals as rows (N, d), Cholesky factor of the covariance matrix,
    Sigma^-1 residuals as rows, d)."""
    x, mean, cov = a["x"], a["mean"], a["cov"]
    d = _mvn_dimension(mean, cov)
    matrix = cov if np.ndim(cov) == 2 else np.reshape(cov, (-1, 1)) * np.eye(d)
    r = x if mean is None else x - mean
    rows = np.reshape(r, (-1, d))
    L = linalg.cholesky(matrix, lower=True)
    alpha = linalg.cho_solve((L, True), rows.T).T
    return r, rows, L, alpha, d


def _mvn_weights(g, ans, exp):
    w = g * ans if exp else g
    return np.reshape(w, (-1, 1))


def _mvn_bodies(exp):
    def dx(g, ans, a):
        r, rows, L, alpha, d = _mvn_parts(a)
        return fit(np.reshape(-_mvn_weights(g, ans, exp) * alpha, np.shape(r)), a["x"])

    def dmean(g, ans, a):
        r, rows, L, alpha, d = _mvn_parts(a)
        return fit(np.reshape(_mvn_weights(g, ans, exp) * alpha, np.shape(r)), a["mean"])

    def dcov(g, ans, a):
        r, rows, L, alpha, d = _mvn_parts(a)
        w = _mvn_weights(g, ans, exp)
        inverse = linalg.cho_solve((L, True), np.eye(d))
        sym = 0.5 * ((w * alpha).T @ alpha - np.sum(w) * inverse)
        cov = a["cov"]
        if np.ndim(cov) < 2:    # cov * I or diag(cov): the diagonal's adjoint
            return fit(np.diagonal(sym) if np.ndim(cov) == 1 else np.trace(sym), cov)
        # SciPy reads the lower triangle of cov: the symmetric adjoint folded into it
        folded = sym + sym.T - np.where(np.eye(d, dtype=bool), sym, 0)
        return fit(np.where(np.tri(d, dtype=bool), folded, 0), cov)

    return {"x": dx, "mean": dmean, "cov": dcov}


for _method, _exp in (("logpdf", False), ("pdf", True)):
    _register(getattr(stats.multivariate_normal, _method), f"multivariate_normal.{_method}",
              ("x", "mean", "cov", "allow_singular"), {"mean": None, "cov": 1, "allow_singular": False},
              {**_mvn_bodies(_exp), "allow_singular": None}, ("mean", "cov", "allow_singular"))


# --- dirichlet.logpdf: derivatives in x and alpha -------------------------------------------------------
def _dirichlet_x(a):
    """x with its K components along the first axis (the last one 1 - sum when x has K - 1)."""
    x, alpha = a["x"], a["alpha"]
    if np.shape(x)[0] == np.shape(alpha)[0]:
        return x, False
    return np.concatenate([x, 1 - np.sum(x, axis=0, keepdims=True)], axis=0), True


def _column_like(alpha, x):
    return np.reshape(alpha, np.shape(alpha) + (1,) * (np.ndim(x) - 1))


def _dirichlet_dx(g, ans, a):
    full, completed = _dirichlet_x(a)
    d = g * (_column_like(a["alpha"], full) - 1) / full
    if completed:
        d = d[:-1] - d[-1:]
    return fit(d, a["x"])


def _dirichlet_dalpha(g, ans, a):
    full, _ = _dirichlet_x(a)
    alpha = a["alpha"]
    per_point = special.digamma(np.sum(alpha)) - _column_like(special.digamma(alpha), full) + np.log(full)
    total = g * per_point
    if np.ndim(total) > 1:
        total = np.sum(np.reshape(total, (np.shape(alpha)[0], -1)), axis=1)
    return fit(total, alpha)


_register(stats.dirichlet.logpdf, "dirichlet.logpdf", ("x", "alpha"), {},
          {"x": _dirichlet_dx, "alpha": _dirichlet_dalpha}, ())
# pdf = exp(logpdf): the same adjoints scaled by the result
_register(stats.dirichlet.pdf, "dirichlet.pdf", ("x", "alpha"), {},
          {"x": lambda g, ans, a: _dirichlet_dx(g * ans, ans, a),
           "alpha": lambda g, ans, a: _dirichlet_dalpha(g * ans, ans, a)}, ())


# --- multivariate_normal.entropy: 0.5 log det(2 pi e cov), a function of cov alone ----------------------
def _mvn_entropy_dcov(g, ans, a):
    cov = a["cov"]
    if np.ndim(cov) < 2:            # cov * I (d from mean) or diag(cov)
        d = _mvn_dimension(a["mean"], cov)
        per = 0.5 * g / cov
        return fit(per * d if np.ndim(cov) == 0 else per, cov)
    d = np.shape(cov)[0]
    sym = 0.5 * g * linalg.inv(cov)
    folded = sym + sym.T - np.where(np.eye(d, dtype=bool), sym, 0)    # SciPy reads the lower triangle
    return fit(np.where(np.tri(d, dtype=bool), folded, 0), cov)


_register(stats.multivariate_normal.entropy, "multivariate_normal.entropy", ("mean", "cov"),
          {"mean": None, "cov": 1}, {"mean": lambda g, ans, a: fit(0.0 * g * a["mean"], a["mean"]),
                                     "cov": _mvn_entropy_dcov}, ("mean", "cov"))
