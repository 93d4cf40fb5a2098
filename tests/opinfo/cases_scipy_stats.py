"""OpInfos of scipy.stats: every method of every modelled distribution, in x, loc, scale and
the shape parameters, positional and by keyword, with broadcasting, inside each support."""
import numpy as np

from . import OpInfo, Sample

# distribution -> (shape parameter ranges, standardised z range): z keeps off kinks and edges
FAMILIES = {
    "norm": ((), (-2.5, 2.5)),
    "cauchy": ((), (-3.0, 3.0)),
    "logistic": ((), (-3.0, 3.0)),
    "laplace": ((), (0.1, 2.5)),        # |z| > 0: the density has a kink at loc
    "expon": ((), (0.1, 3.0)),
    "uniform": ((), (0.1, 0.9)),
    "t": (((1.5, 8.0),), (-3.0, 3.0)),
    "gamma": (((0.8, 4.0),), (0.2, 4.0)),
    "chi2": (((1.5, 6.0),), (0.2, 5.0)),
    "beta": (((0.6, 3.0), (0.6, 3.0)), (0.1, 0.9)),
}
SHAPE_NAMES = {"t": ("df",), "gamma": ("a",), "chi2": ("df",), "beta": ("a", "b")}
METHODS = ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf")


def _z(rng, shape, zrange, symmetric_sign):
    z = rng.uniform(*zrange, shape)
    if symmetric_sign:                  # laplace: both sides of the kink at z = 0
        z = z * rng.choice([-1.0, 1.0], shape)
    return z


def _quantile_samples(name, method):
    """ppf/isf(q, shapes, loc, scale): derivatives in q, loc and scale (not in the shapes)."""
    shape_ranges, _ = FAMILIES[name]
    shapes = SHAPE_NAMES.get(name, ())

    def samples(rng, dtype):
        def f(x):
            return np.asarray(x, dtype=dtype) if np.ndim(x) else float(x)

        def q(shape):   # probabilities; laplace's quantile has a kink (in its curvature) at 1/2
            p = rng.uniform(0.05, 0.45, shape)
            return p + rng.choice([0.0, 0.5], shape) if name != "uniform" else rng.uniform(0.05, 0.95, shape)

        sh = [rng.uniform(lo, hi, (3, 1)) for lo, hi in shape_ranges]
        loc, scale = rng.standard_normal(4), rng.uniform(0.5, 2.0, (3, 1))
        n = len(shapes)
        return [Sample((f(q((2, 3))), *[float(rng.uniform(lo, hi)) for lo, hi in shape_ranges]), wrt=(0,),
                       name="standard"),
                Sample((f(q((3, 4))), *[f(s) for s in sh], f(loc), f(scale)), wrt=(0, 1 + n, 2 + n),
                       name="positional_broadcast"),
                Sample((f(q((3, 4))), *[f(s) for s in sh]), {"loc": f(loc), "scale": f(scale)},
                       wrt=(0, "loc", "scale"), name="keyword_loc_scale"),
                Sample((float(q(())), *[float(rng.uniform(lo, hi)) for lo, hi in shape_ranges], 0.3, 1.5),
                       wrt=(0, 1 + n, 2 + n), name="floats")]
    return samples


def _family_samples(name, method):
    if method in ("ppf", "isf"):
        return _quantile_samples(name, method)
    shape_ranges, zrange = FAMILIES[name]
    shapes = SHAPE_NAMES.get(name, ())
    cumulative = method not in ("logpdf", "pdf")   # no derivatives in shape parameters there

    def samples(rng, dtype):
        def f(x):
            return np.asarray(x, dtype=dtype) if np.ndim(x) else float(x)

        sym = name == "laplace"
        sh = [rng.uniform(lo, hi, (3, 1)) for lo, hi in shape_ranges]
        loc, scale = rng.standard_normal(4), rng.uniform(0.5, 2.0, (3, 1))
        x = loc + scale * _z(rng, (3, 4), zrange, sym)
        x0 = _z(rng, (2, 3), zrange, sym)
        sh0 = [rng.uniform(lo, hi) for lo, hi in shape_ranges]
        nshapes = len(shapes)
        xy = [1 + nshapes, 2 + nshapes]        # positions of loc and scale
        out = [
            Sample((f(x0), *sh0), wrt=(0,) if cumulative else None, name="standard"),
            Sample((f(x), *[f(s) for s in sh], f(loc), f(scale)),
                   wrt=(0, *xy) if cumulative else None, name="positional_broadcast"),
            Sample((f(x), *[f(s) for s in sh]), {"loc": f(loc), "scale": f(scale)},
                   wrt=(0, "loc", "scale") if cumulative else None, name="keyword_loc_scale"),
        ]
        s1 = [float(rng.uniform(lo, hi)) for lo, hi in shape_ranges]
        l1, c1 = float(rng.standard_normal()), float(rng.uniform(0.5, 2.0))
        z1 = float(_z(rng, (), zrange, sym))
        out.append(Sample((l1 + c1 * z1, *s1, l1, c1), wrt=(0, *xy) if cumulative else None, name="floats"))
        if shapes:
            kw = {s: f(v) for s, v in zip(shapes, sh)}
            out.append(Sample((f(x0[:1, :1] * 0 + x[:1]),), {**kw, "loc": f(loc), "scale": f(scale)},
                              wrt=(0, "loc", "scale") if cumulative else None, name="keyword_shapes"))
            if cumulative:
                out.append(Sample((f(x0), *sh0), {"scale": 1.5}, wrt=(0,), name="literal_scale"))
        return out
    return samples


def _poisson(method):
    def samples(rng, dtype):
        def f(x):
            return np.asarray(x, dtype=dtype)
        k = rng.integers(0, 8, (3, 4))
        mu = rng.uniform(0.5, 6.0, (3, 1))
        return [Sample((k, f(mu)), wrt=(1,), name="broadcast"),
                Sample((k + 1, f(mu), 1), wrt=(1,), name="positional_loc"),
                Sample((k,), {"mu": f(rng.uniform(0.5, 6.0, 4))}, wrt=("mu",), name="keyword_mu"),
                Sample((3, float(rng.uniform(1.0, 5.0))), wrt=(1,), name="floats")]
    return samples


def _spd(rng, d, dtype):
    a = rng.standard_normal((d, d))
    return (a @ a.T + d * np.eye(d)).astype(dtype)


def _mvn(rng, dtype):
    d = 3
    def f(x):
        return np.asarray(x, dtype=dtype)
    cov = _spd(rng, d, dtype)
    return [Sample((f(rng.standard_normal((5, d))), f(rng.standard_normal(d)), cov), name="points"),
            Sample((f(rng.standard_normal(d)), f(rng.standard_normal(d)), cov), name="one_point"),
            Sample((f(rng.standard_normal((2, 4, d))), f(rng.standard_normal(d)), cov), name="batch"),
            Sample((f(rng.standard_normal((4, d))),), {"mean": f(rng.standard_normal(d)), "cov": cov},
                   name="keywords"),
            Sample((f(rng.standard_normal((4, d))),), {"cov": cov}, name="no_mean"),
            Sample((f(rng.standard_normal((4, 1))), f(rng.standard_normal(1)), _spd(rng, 1, dtype)),
                   name="one_dimensional"),
            Sample((f(rng.standard_normal((4, d))), f(rng.standard_normal(d)), f(rng.uniform(0.5, 2.0, d))),
                   name="diagonal_cov"),
            Sample((f(rng.standard_normal((4, d))), f(rng.standard_normal(d)), float(rng.uniform(0.5, 2.0))),
                   name="scalar_cov")]


def _mvn_entropy(rng, dtype):
    d = 3
    mean = rng.standard_normal(d).astype(dtype)
    return [Sample((mean, _spd(rng, d, dtype)), wrt=(1,), name="matrix"),
            Sample((), {"cov": _spd(rng, d, dtype)}, name="keyword_cov"),
            Sample((mean, rng.uniform(0.5, 2.0, d).astype(dtype)), name="diagonal"),
            Sample((mean, float(rng.uniform(0.5, 2.0))), name="scalar")]


def _dirichlet(rng, dtype):
    alpha = rng.uniform(0.8, 4.0, 3).astype(dtype)
    simplex = rng.dirichlet(np.ones(3), 4).T.astype(dtype)     # (K, N), columns on the simplex
    inside = (0.9 * simplex[:2]).astype(dtype)                   # (K - 1, N): the last one implied
    return [Sample((inside, alpha), name="k_minus_1_components"),
            Sample((inside[:, 0].copy(), alpha), name="one_point"),
            Sample((simplex, alpha), wrt=(1,), name="on_the_simplex"),
            Sample((inside,), {"alpha": alpha}, name="keyword_alpha")]


OPS = [OpInfo(f"scipy.stats.{name}.{method}", _family_samples(name, method), requires="scipy",
              rtol=1e-5, atol=1e-7)
       for name in FAMILIES for method in METHODS]
OPS += [OpInfo(f"scipy.stats.poisson.{m}", _poisson(m), requires="scipy")
        for m in ("logpmf", "pmf", "cdf", "logcdf", "sf", "logsf")]
OPS += [OpInfo("scipy.stats.multivariate_normal.logpdf", _mvn, requires="scipy", rtol=1e-5),
        OpInfo("scipy.stats.multivariate_normal.pdf", _mvn, requires="scipy", rtol=1e-5),
        OpInfo("scipy.stats.dirichlet.logpdf", _dirichlet, requires="scipy"),
        OpInfo("scipy.stats.dirichlet.pdf", _dirichlet, requires="scipy", rtol=1e-5),
        OpInfo("scipy.stats.multivariate_normal.entropy", _mvn_entropy, requires="scipy")]
