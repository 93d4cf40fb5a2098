"""Group 4: differentiable functions declared constant (or treated as constants).

Array creation from differentiated values: ``np.full``, ``full_like``, ``arange``,
``linspace``, ``np.r_``/``np.c_``, ``np.array``/``asarray`` of traced scalars, ``np.ones * x0``
patterns, ``np.zeros_like(x) + x`` (fine), ``np.tile``/``repeat``, ``np.eye(3) * x0``,
``np.diag``, ``np.identity``, ``np.tri``... and the constant table's other entries.
"""
from .program import P

PROGRAMS = [
    P("full_scalar_fill", """
        def f(x):
            return np.sum(np.full(3, x[0]) * C) + x[1]
    """),
    P("full_2d_fill", """
        def f(x):
            return np.sum(np.full((2, 3), x[1]) ** 2)
    """),
    P("full_keyword_fill_value", """
        def f(x):
            return np.sum(np.full(shape=3, fill_value=x[2]) * C)
    """),
    P("full_like_fill", """
        def f(x):
            return np.sum(np.full_like(x, x[0]) * C)
    """),
    P("full_like_array_fill_broadcast", """
        def f(x):
            return np.sum(np.full_like(A, x[:2]) * A)
    """),
    P("arange_start", """
        def f(x):
            return np.sum(np.arange(x[0], x[0] + 3) ** 2)
    """),
    P("arange_start_step", """
        def f(x):
            return np.sum(np.sin(np.arange(0.0, 3.0, 1.0) * x[1] + x[0]))
    """),
    P("linspace_endpoints", """
        def f(x):
            return np.sum(np.linspace(x[0], x[1], 5) ** 2)
    """),
    P("linspace_endpoint_array", """
        def f(x):
            return np.sum(np.sin(np.linspace(x[:2], x[1:], 4)))
    """),
    P("logspace_endpoints", """
        def f(x):
            return np.sum(np.logspace(x[0], x[1], 4))
    """),
    P("geomspace_endpoints", """
        def f(x):
            return np.sum(np.geomspace(1.0 + x[0] ** 2, 2.0 + x[1] ** 2, 4))
    """),
    P("r_concat", """
        def f(x):
            return np.sum(np.r_[x, x[:1]] * np.array([1.0, 2.0, 3.0, 4.0]))
    """),
    P("r_single", """
        def f(x):
            return np.sum(np.r_[x] ** 2 * C)
    """),
    P("c_columns", """
        def f(x):
            return np.sum(np.c_[x, C] ** 2)
    """),
    P("array_of_traced_scalars", """
        def f(x):
            return np.sum(np.array([x[0], x[1] * 2.0, x[2] ** 2]) * C)
    """),
    P("asarray_of_list_of_traced", """
        def f(x):
            v = np.asarray([np.sin(x[0]), x[2]])
            return np.sum(v * v)
    """),
    P("array_copy_of_traced_array", """
        def f(x):
            v = np.array(x)
            return np.sum(v ** 3)
    """),
    P("array_nested_list_traced", """
        def f(x):
            m = np.array([[x[0], x[1]], [x[2], 1.0]])
            return np.sum(m @ m)
    """),
    P("fromiter_traced", """
        def f(x):
            v = np.fromiter((x[i] * 2.0 for i in range(3)), dtype=float)
            return np.sum(v * C)
    """),
    P("tile_traced", """
        def f(x):
            return np.sum(np.tile(x, 2) * np.arange(6.0))
    """),
    P("repeat_traced", """
        def f(x):
            return np.sum(np.repeat(x, 2) * np.arange(6.0))
    """),
    P("eye_scaled_by_traced", """
        def f(x):
            return np.sum((np.eye(3) * x[0] + M) @ x)
    """),
    P("diag_of_traced", """
        def f(x):
            return np.sum(np.diag(x) @ M)
    """),
    P("diagflat_of_traced", """
        def f(x):
            return np.sum(np.diagflat(x) * M)
    """),
    P("tri_mask_of_traced", """
        def f(x):
            return np.sum(np.tril(np.outer(x, x)) * M)
    """),
    P("zeros_like_then_add", """
        def f(x):
            z = np.zeros_like(x) + x
            return np.sum(z ** 2)
    """),
    P("ones_like_times", """
        def f(x):
            return np.sum(np.ones_like(x) * x[0] * C)
    """),
    P("empty_like_filled", """
        def f(x):
            e = np.empty_like(x)
            e[:] = x * 2.0
            return np.sum(e * C)
    """),
    P("copy_traced", """
        def f(x):
            return np.sum(np.copy(x) ** 2 * C)
    """),
    P("astype_traced", """
        def f(x):
            return np.sum(x.astype(np.float64) ** 2 * C)
    """),
    P("meshgrid_traced", """
        def f(x):
            a, b = np.meshgrid(x, x[:2])
            return np.sum(a * b)
    """),
    P("outer_via_newaxis", """
        def f(x):
            return np.sum(x[:, None] * x[None, :] * M)
    """),
    P("histogram_like_sort", """
        def f(x):
            return np.sum(np.sort(x) * C)
    """),
    P("round_is_constant", """
        def f(x):
            return np.sum(np.round(x * 10.0) * 0.0 + x ** 2)
    """),
    P("sign_times_value", """
        def f(x):
            return np.sum(np.sign(x) * x ** 2)
    """),
    P("floor_plus_smooth", """
        def f(x):
            return np.sum(np.floor(x * 3.0) + np.sin(x))
    """),
    P("cumsum_traced", """
        def f(x):
            return np.sum(np.cumsum(x) * C)
    """),
    P("cumprod_traced", """
        def f(x):
            return np.sum(np.cumprod(x + 2.0) * C)
    """),
    P("diff_traced", """
        def f(x):
            return np.sum(np.diff(x) ** 2)
    """),
    P("interp_traced_points", """
        def f(x):
            return np.sum(np.interp(x * 0.1 + 0.5, np.array([0.0, 1.0]), np.array([1.0, 3.0])))
    """),
    P("convolve_traced", """
        def f(x):
            return np.sum(np.convolve(x, C) ** 2)
    """),
    P("trapezoid_traced", """
        def f(x):
            return np.trapezoid(x ** 2, dx=0.5)
    """),
    P("vander_traced", """
        def f(x):
            return np.sum(np.vander(x, 3) * M)
    """),
    P("polyval_traced_coeffs", """
        def f(x):
            return np.polyval(x, 1.5)
    """),
    P("frombuffer_like_copyto_values", """
        def f(x):
            return np.sum(np.nan_to_num(x) * C)
    """),
    P("where_scalar_traced_both_branches", """
        def f(x):
            return np.sum(np.where(C > 1.5, x[0], x[1]))
    """),
    P("select_traced", """
        def f(x):
            return np.sum(np.select([C < 1.5, C < 2.5], [x, 2.0 * x], default=x ** 2))
    """),
    P("piecewise_traced", """
        def f(x):
            return np.sum(np.piecewise(x, [x < 0, x >= 0], [lambda v: v ** 2, lambda v: 3.0 * v]))
    """),
    P("float_of_traced_scalar", """
        def f(x):
            return float(x[0]) * 2.0 + np.sum(x)
    """),
    P("item_of_traced_scalar", """
        def f(x):
            return x[0].item() * 2.0 + np.sum(x ** 2)
    """),
    P("tolist_of_traced", """
        def f(x):
            return sum(x.tolist()) * 2.0 + np.sum(x)
    """),
]
