"""Zero adjoints through values that are infinite or NaN where they are not used.

``np.where(c, np.sqrt(x), 0)`` with ``x < 0`` unselected: the derivative there is 0, but a
VJP that multiplies the zero adjoint with ``0.5 / sqrt(x)`` gives ``0 * NaN = NaN``. Also
divisions by an unselected zero, logs of zero, ``x * log(x)`` (entropy), fractional powers,
inverse trigonometric functions outside their domain, a dead tuple element, a masked mean,
and the same through helpers, loops and ``math`` on scalars. The singular rules multiply with
zero-safe products (knetc/runtime/zero_safe.py).
"""
from .program import P

PROGRAMS = [
    P("where_sqrt_of_negative_unselected", """
        def f(x):
            return np.sum(np.where(x > 0, np.sqrt(x), 0.0) * C)
    """, args="(np.array([0.3, -0.7, 1.2]),)"),
    P("where_log_of_zero_unselected", """
        def f(x):
            return np.sum(np.where(C > 1.5, np.log(x * x), x))
    """, args="(np.array([0.0, -0.7, 1.2]),)"),
    P("entropy_with_a_zero_probability", """
        P0 = np.array([0.0, 0.3, 0.7])
        def f(x):
            p = P0 + x * np.array([0.0, 1.0, 1.0])
            return -np.sum(np.where(p > 0, p * np.log(p), 0.0))
    """, args="(np.array([0.0, 0.1, -0.2]),)"),
    P("safe_division_where_denominator_zero", """
        def f(x):
            d = C - 1.0
            return np.sum(np.where(d != 0, np.sin(x) / d, 1.0))
    """, args="(np.array([1.0, 0.5, 0.2]),)"),
    P("where_reciprocal_of_zero", """
        def f(x):
            return np.sum(np.where(C < 2.5, 2.0 * x, np.reciprocal(x - 1.0)))
    """, args="(np.array([1.0, 1.0, 0.2]),)"),
    P("where_fractional_power_of_negative", """
        def f(x):
            return np.sum(np.where(x >= 0.1, x ** 1.5, -x))
    """, args="(np.array([0.3, -0.7, 1.2]),)"),
    P("where_arcsin_outside_domain", """
        def f(x):
            return np.sum(np.where(np.abs(x) < 1, np.arcsin(x), 0.5 * x) * C)
    """, args="(np.array([0.3, -1.7, 1.2]),)"),
    P("where_arccos_at_the_edge", """
        def f(x):
            return np.sum(np.where(C > 1.5, np.arccos(x), x))
    """, args="(np.array([1.0, 0.3, -0.4]),)"),
    P("where_arctanh_outside_domain", """
        def f(x):
            return np.sum(np.where(np.abs(x) < 0.99, np.arctanh(x), x ** 2))
    """, args="(np.array([0.3, -1.0, 1.2]),)"),
    P("where_sqrt_then_sin", """
        def f(x):
            r = np.sqrt(x)
            return np.sum(np.where(x > 0, r * 3.0, x))
    """, args="(np.array([0.3, -0.7, 1.2]),)"),
    P("dead_tuple_element_is_nan", """
        def stats(v):
            return np.log(v - 5.0), np.sum(v * v)
        def f(x):
            return stats(x)[1]
    """),
    P("dead_value_in_a_loop_is_nan", """
        def f(x):
            total = 0.0
            for k in range(2):
                junk = np.sqrt(x - 10.0)
                total = total + np.sum(x * C) * (k + 1)
            return total
    """),
    P("math_sqrt_of_zero_unselected", """
        def f(x):
            s = math.sqrt(x[0] * 0.0)
            return x[1] * 2.0 + (0.0 * s if False else 0.0) + float(np.where(x[2] > 5.0, s, x[2]))
    """),
    P("division_by_zero_count_masked", """
        def f(x):
            counts = np.array([0.0, 2.0, 3.0])
            means = np.sum(x) * C / counts
            return np.sum(np.where(counts > 0, means, 0.0))
    """),
    P("where_log1p_below_minus_one", """
        def f(x):
            return np.sum(np.where(x > -1, np.log1p(x), 0.0) * C)
    """, args="(np.array([0.3, -1.7, 1.2]),)"),
    P("where_log10_and_log2_of_negative", """
        def f(x):
            return np.sum(np.where(x > 0, np.log10(x) + np.log2(x), x))
    """, args="(np.array([0.3, -0.7, 1.2]),)"),
    P("where_cbrt_at_zero_unselected", """
        def f(x):
            return np.sum(np.where(C > 1.5, np.cbrt(x), x * 4.0))
    """, args="(np.array([0.0, 0.7, -1.2]),)"),
    P("where_arccosh_below_one", """
        def f(x):
            return np.sum(np.where(x > 1, np.arccosh(x), -x))
    """, args="(np.array([0.3, 1.7, 2.2]),)"),
    P("nested_where_guards", """
        def f(x):
            inner = np.where(x > 0, np.log(x), 0.0)
            return np.sum(np.where(x < 1.0, inner * C, np.sqrt(x - 1.0)))
    """, args="(np.array([0.3, -0.7, 1.2]),)"),
    P("float32_where_sqrt", """
        def f(x):
            return np.sum(np.where(x > 0, np.sqrt(x), 0.0))
    """, args="(np.array([0.3, -0.7, 1.2], dtype=np.float32),)", rtol=1e-3),
    P("power_with_traced_exponent_of_negative_base", """
        def f(e):
            return np.sum(np.where(C > 1.5, np.array([-2.0, 2.0, 3.0]) ** e, e))
    """, args="(np.array([0.5, 1.5, 2.0]),)"),
    P("helper_with_guarded_division", """
        def normalise(v, d):
            return np.where(d > 0, v / d, 0.0)
        def f(x):
            return np.sum(normalise(x * C, np.array([0.0, 1.0, 2.0])) * x)
    """),
    # exp overflowing to inf where a guard does not select it
    P("softplus_with_overflow_guard", """
        def f(x):
            return np.sum(np.where(x > 20.0, x, np.log1p(np.exp(x))) * C)
    """, args="(np.array([800.0, 0.3, -1.2]),)"),
    P("stable_sigmoid_two_branches", """
        def f(x):
            pos = 1.0 / (1.0 + np.exp(-x))
            neg = np.exp(x) / (1.0 + np.exp(x))
            return np.sum(np.where(x >= 0, pos, neg) * C)
    """, args="(np.array([900.0, -0.4, -900.0]),)"),
    P("cosh_overflow_unselected_in_helper", """
        def energy(v):
            return np.where(np.abs(v) < 50.0, np.cosh(v), np.abs(v))
        def f(x):
            return np.sum(energy(x * 10.0) * C)
    """, args="(np.array([100.0, 0.03, -0.07]),)"),
    P("nan_value_through_sin_unselected", """
        def f(x):
            return np.sum(np.where(x > 0, np.sin(np.sqrt(x)), 0.0) * C)
    """, args="(np.array([0.3, -0.7, 1.2]),)"),
]
