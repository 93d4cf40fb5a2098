"""OpInfos of scipy.special: several shapes with broadcasting, every modelled keyword, whole domains."""
import numpy as np

from . import OpInfo, Sample


def _u(rng, shape, lo, hi, dtype):
    return rng.uniform(lo, hi, shape).astype(dtype)


def _unary(lo, hi, scalar=True):
    """Samples on (lo, hi): a matrix, a 3-d array and (optionally) a Python float."""
    def samples(rng, dtype):
        out = [Sample((_u(rng, (3, 4), lo, hi, dtype),)), Sample((_u(rng, (2, 1, 3), lo, hi, dtype),))]
        if scalar:
            out.append(Sample((float(rng.uniform(lo, hi)),), name="float"))
        return out
    return samples


def _domains(*ranges):
    """Samples on each of several intervals (the whole domain, kept off poles and edges)."""
    def samples(rng, dtype):
        return [Sample((_u(rng, (3, 4), lo, hi, dtype),), name=f"on_{lo}_{hi}") for lo, hi in ranges]
    return samples


def _binary(lo_a, hi_a, lo_b, hi_b):
    def samples(rng, dtype):
        return [Sample((_u(rng, (3, 4), lo_a, hi_a, dtype), _u(rng, (3, 4), lo_b, hi_b, dtype))),
                Sample((_u(rng, (3, 1), lo_a, hi_a, dtype), _u(rng, (4,), lo_b, hi_b, dtype)), name="broadcast"),
                Sample((float(rng.uniform(lo_a, hi_a)), _u(rng, (2, 3), lo_b, hi_b, dtype)), name="float_a")]
    return samples


def _xlogy(rng, dtype):
    samples = _binary(-2.0, 2.0, 0.1, 3.0)(rng, dtype)
    x = np.array([[0.0, 1.5, -0.5]], dtype=dtype)     # x == 0: 0 for every y, its y-derivative 0
    samples.append(Sample((x, _u(rng, (2, 3), 0.1, 3.0, dtype)), name="zero_x"))
    return samples


def _xlog1py(rng, dtype):
    return _binary(-2.0, 2.0, -0.9, 3.0)(rng, dtype)


def _order_z(orders, lo, hi):
    """iv/ive(v, z): derivatives in z, the order a constant (given as a literal or an int array)."""
    def samples(rng, dtype):
        out = []
        for v in orders:
            out.append(Sample((v, _u(rng, (3, 4), lo, hi, dtype)), wrt=(1,), name=f"v{v}"))
        out.append(Sample((np.array([0, 1, 2]), _u(rng, (2, 3), lo, hi, dtype)), wrt=(1,), name="int_orders"))
        return out
    return samples


def _polygamma(rng, dtype):
    return [Sample((n, _u(rng, (3, 4), 0.3, 4.0, dtype)), wrt=(1,), name=f"n{n}") for n in (0, 1, 2)] + [
        Sample((np.array([0, 1, 2]), _u(rng, (2, 3), 0.3, 4.0, dtype)), wrt=(1,), name="n_array"),
        Sample((1, _u(rng, (4,), -2.7, -2.3, dtype)), wrt=(1,), name="negative_x")]


def _multigammaln(rng, dtype):
    return [Sample((_u(rng, (3, 4), 2.0, 5.0, dtype), 3), wrt=(0,)),
            Sample((float(rng.uniform(1.5, 4.0)), 2), wrt=(0,), name="float"),
            Sample((_u(rng, (5,), 1.2, 3.0, dtype), 1), wrt=(0,), name="d1")]


def _logsumexp(rng, dtype):
    x = rng.standard_normal((3, 4)).astype(dtype)
    x3 = rng.standard_normal((2, 3, 4)).astype(dtype)
    b = _u(rng, (3, 4), 0.2, 2.0, dtype)
    return [Sample((x,)), Sample((x,), {"axis": 1}), Sample((x3,), {"axis": (0, 2), "keepdims": True}),
            Sample((x3, -1), name="positional_axis"), Sample((x,), {"axis": 0, "keepdims": True}),
            Sample((x,), {"b": b}, name="b"), Sample((x,), {"axis": 1, "b": b}, name="axis_b"),
            Sample((x3,), {"axis": 2, "b": _u(rng, (4,), 0.2, 2.0, dtype)}, name="b_broadcast"),
            Sample((x, 1, b), name="positional_b"),
            Sample((x,), {"b": b, "return_sign": True}, name="return_sign"),
            Sample((x,), {"axis": 1, "b": np.array([[1.0, -0.3, 0.5, 2.0]] * 3, dtype=dtype),
                          "return_sign": True}, wrt=(0,), name="negative_b_sign"),
            Sample((float(rng.standard_normal()),), name="float")]


def _softmax(rng, dtype):
    x = rng.standard_normal((3, 4)).astype(dtype)
    x3 = rng.standard_normal((2, 3, 4)).astype(dtype)
    return [Sample((x,)), Sample((x,), {"axis": 0}), Sample((x3,), {"axis": -1}),
            Sample((x3,), {"axis": (0, 2)}, name="axes"), Sample((x3, 1), name="positional_axis")]


def _beta(rng, dtype):
    return _binary(0.3, 4.0, 0.3, 4.0)(rng, dtype)


OPS = [
    OpInfo("scipy.special.expit", _unary(-5, 5), requires="scipy"),
    OpInfo("scipy.special.logit", _unary(0.02, 0.98), requires="scipy"),
    OpInfo("scipy.special.log_expit", _domains((-30, -5), (-5, 5), (5, 30)), requires="scipy"),
    OpInfo("scipy.special.erf", _unary(-3, 3), requires="scipy"),
    OpInfo("scipy.special.erfc", _unary(-3, 3), requires="scipy"),
    OpInfo("scipy.special.erfinv", _unary(-0.95, 0.95), requires="scipy"),
    OpInfo("scipy.special.erfcinv", _unary(0.05, 1.95), requires="scipy"),
    OpInfo("scipy.special.ndtr", _unary(-4, 4), requires="scipy"),
    OpInfo("scipy.special.log_ndtr", _domains((-30, -5), (-5, 5), (5, 8)), requires="scipy"),
    OpInfo("scipy.special.ndtri", _unary(0.02, 0.98), requires="scipy"),
    OpInfo("scipy.special.gammaln", _domains((0.2, 6), (6, 50), (-2.8, -2.2), (-0.8, -0.2)), requires="scipy"),
    # the sign of gamma, constant between its poles: a zero derivative, checked as such
    OpInfo("scipy.special.gammasgn", _domains((0.2, 6), (-2.8, -2.2), (-0.8, -0.2)), requires="scipy"),
    OpInfo("scipy.special.digamma", _domains((0.3, 6), (6, 50), (-1.8, -1.2)), requires="scipy"),
    OpInfo("scipy.special.psi", _unary(0.3, 5), requires="scipy"),
    OpInfo("scipy.special.polygamma", _polygamma, requires="scipy"),
    OpInfo("scipy.special.gamma", _domains((0.2, 4), (-1.8, -1.2)), requires="scipy"),
    OpInfo("scipy.special.beta", _beta, requires="scipy"),
    OpInfo("scipy.special.betaln", _beta, requires="scipy"),
    OpInfo("scipy.special.multigammaln", _multigammaln, requires="scipy"),
    OpInfo("scipy.special.xlogy", _xlogy, requires="scipy"),
    OpInfo("scipy.special.xlog1py", _xlog1py, requires="scipy"),
    OpInfo("scipy.special.entr", _unary(0.05, 3), requires="scipy"),
    OpInfo("scipy.special.i0", _unary(-3, 3), requires="scipy"),
    OpInfo("scipy.special.i1", _unary(-3, 3), requires="scipy"),
    OpInfo("scipy.special.iv", _order_z((0, 1, 2.5), 0.1, 3), requires="scipy"),
    OpInfo("scipy.special.ive", _order_z((0, 1, 2.5), 0.1, 3), requires="scipy"),
    OpInfo("scipy.special.logsumexp", _logsumexp, requires="scipy"),
    OpInfo("scipy.special.softmax", _softmax, requires="scipy"),
    OpInfo("scipy.special.log_softmax", _softmax, requires="scipy"),
    # the functions JAX's scipy.special differentiates (derivatives in the continuous arguments)
    OpInfo("scipy.special.i0e", _domains((-3, -0.1), (0.1, 3)), requires="scipy"),
    OpInfo("scipy.special.i1e", _domains((-3, -0.1), (0.1, 3)), requires="scipy"),
    OpInfo("scipy.special.k0", _unary(0.2, 4), requires="scipy"),
    OpInfo("scipy.special.k1", _unary(0.2, 4), requires="scipy"),
    OpInfo("scipy.special.k0e", _unary(0.2, 4), requires="scipy"),
    OpInfo("scipy.special.k1e", _unary(0.2, 4), requires="scipy"),
    OpInfo("scipy.special.kv", _order_z((0, 1, 2.5), 0.2, 3), requires="scipy"),
    OpInfo("scipy.special.kve", _order_z((0, 1, 2.5), 0.2, 3), requires="scipy"),
    OpInfo("scipy.special.erfcx", _unary(-2, 4), requires="scipy"),
    OpInfo("scipy.special.dawsn", _unary(-3, 3), requires="scipy"),
    OpInfo("scipy.special.exp1", _unary(0.2, 4), requires="scipy"),
    OpInfo("scipy.special.expi", _domains((-3, -0.2), (0.2, 3)), requires="scipy"),
    OpInfo("scipy.special.expn", lambda rng, dtype: [
        Sample((n, _u(rng, (3, 4), 0.2, 3, dtype)), wrt=(1,), name=f"n{n}") for n in (0, 1, 3)] + [
        Sample((np.array([0, 1, 2, 5]), _u(rng, (2, 4), 0.2, 3, dtype)), wrt=(1,), name="n_array")],
        requires="scipy"),
    OpInfo("scipy.special.spence", _unary(0.2, 3), requires="scipy"),
    OpInfo("scipy.special.cosm1", _unary(-3, 3), requires="scipy"),
    OpInfo("scipy.special.powm1", _binary(0.3, 3.0, -2.0, 2.0), requires="scipy"),
    OpInfo("scipy.special.log1p", _unary(-0.8, 3), requires="scipy"),
    OpInfo("scipy.special.expm1", _unary(-3, 3), requires="scipy"),
    OpInfo("scipy.special.loggamma", _unary(0.3, 6), requires="scipy"),
    OpInfo("scipy.special.wrightomega", _unary(-3, 3), requires="scipy"),
    OpInfo("scipy.special.zeta", lambda rng, dtype: [
        Sample((3.0, _u(rng, (3, 4), 0.5, 3, dtype)), wrt=(1,)),
        Sample((2.5,), {"q": _u(rng, (4,), 0.5, 3, dtype)}, wrt=("q",), name="keyword_q")], requires="scipy"),
    OpInfo("scipy.special.poch", _binary(0.5, 3.0, 0.2, 2.0), requires="scipy"),
    OpInfo("scipy.special.hyp1f1", lambda rng, dtype: [
        Sample((0.7, 1.9, _u(rng, (3, 4), -2, 2, dtype)), wrt=(2,))], requires="scipy"),
    OpInfo("scipy.special.hyp2f1", lambda rng, dtype: [
        Sample((0.7, 1.2, 1.9, _u(rng, (3, 4), -0.8, 0.8, dtype)), wrt=(3,))], requires="scipy"),
    OpInfo("scipy.special.owens_t", _binary(-2.0, 2.0, -2.0, 2.0), requires="scipy"),
    OpInfo("scipy.special.stdtr", lambda rng, dtype: [
        Sample((3.5, _u(rng, (3, 4), -3, 3, dtype)), wrt=(1,)),
        Sample((np.array([1.5, 4.0, 10.0]), _u(rng, (2, 3), -3, 3, dtype)), wrt=(1,), name="df_array")],
        requires="scipy"),
    OpInfo("scipy.special.gammaincinv", lambda rng, dtype: [
        Sample((1.7, _u(rng, (3, 4), 0.1, 0.9, dtype)), wrt=(1,))], requires="scipy", rtol=1e-5),
    OpInfo("scipy.special.kl_div", _binary(0.2, 3.0, 0.2, 3.0), requires="scipy"),
    OpInfo("scipy.special.rel_entr", _binary(0.2, 3.0, 0.2, 3.0), requires="scipy"),
    OpInfo("scipy.special.huber", lambda rng, dtype: [
        Sample((np.array([1.0, 0.5, 1.5], dtype=dtype), np.array([[0.3, -0.9, 2.0], [-1.7, 0.2, -0.4]], dtype=dtype))),
        Sample((0.8, _u(rng, (3, 4), 1.0, 3.0, dtype)), name="outside")], requires="scipy"),
    OpInfo("scipy.special.pseudo_huber", _binary(0.3, 2.0, -3.0, 3.0), requires="scipy"),
    OpInfo("scipy.special.boxcox", lambda rng, dtype: _binary(0.3, 3.0, -1.5, 1.5)(rng, dtype) + [
        Sample((_u(rng, (3,), 0.3, 3.0, dtype), 0.0), wrt=(0,), name="lambda_zero")], requires="scipy"),
    OpInfo("scipy.special.boxcox1p", _binary(-0.5, 3.0, -1.5, 1.5), requires="scipy"),
    OpInfo("scipy.special.inv_boxcox", _binary(0.3, 2.0, -0.3, 0.3), requires="scipy"),
    OpInfo("scipy.special.softplus", _unary(-4, 4), requires="scipy"),
    OpInfo("scipy.special.fresnel", _unary(-2, 2), requires="scipy"),
    OpInfo("scipy.special.sici", _domains((0.2, 4), (-4, -0.2)), requires="scipy"),
    OpInfo("scipy.special.lambertw", lambda rng, dtype: [
        Sample((_u(rng, (3, 4), -0.3, 3, dtype),)), Sample((_u(rng, (4,), 0.2, 3, dtype),), {"k": 0}, name="k0")],
        requires="scipy"),
]
