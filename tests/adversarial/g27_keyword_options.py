"""Group 27: keyword options (session 7).

Keyword arguments of the loss, of user helpers (``**opts`` from a dict changed between
calls, mutable and keyword-only defaults changed, ``functools.partial`` keywords) and of
NumPy functions and methods (``axis`` tuples, ``keepdims``, ``where``, ``initial``, ``mode``,
``order``, ``ddof``, ``weights``, ``out=`` on functions and methods).
"""
from .program import P

PROGRAMS = [
    P("loss_kwarg_flag", """
        def f(x, training=False):
            y = np.tanh(x)
            if training:
                y = y * 0.5
            return np.sum(y * C)
    """, kwargs='{"training": True}'),
    P("loss_kwarg_scale_changes", """
        def f(x, scale=1.0):
            return np.sum(np.sin(x) * scale)
    """, kwargs='{"scale": 3.0}'),
    P("helper_kwarg_expansion", """
        CFG = {"axis": 0, "keepdims": True}
        def f(x):
            M2 = np.outer(x, C)
            return np.sum(np.sum(M2, **CFG) * C)
    """),
    P("helper_kwarg_expansion_changed", """
        CFG = {"axis": 0}
        def f(x):
            M2 = np.outer(x, C)
            return np.sum(np.max(M2, **CFG) * C)
        def change():
            CFG["axis"] = 1
    """, mutate="change"),
    P("user_helper_kwargs_dict", """
        def layer(v, act=np.tanh, scale=1.0):
            return act(v) * scale
        OPTS = {"act": np.sin, "scale": 2.0}
        def f(x):
            return np.sum(layer(x, **OPTS) * C)
        def change():
            OPTS["act"] = np.cos
    """, mutate="change"),
    P("kwarg_default_mutable_dict", """
        def layer(v, opts={"s": 2.0}):
            return v * opts["s"]
        def f(x):
            return np.sum(layer(x) * x)
        def change():
            layer.__defaults__[0]["s"] = 7.0
    """, mutate="change"),
    P("kwonly_default_changed", """
        def layer(v, *, s=2.0):
            return v * s
        def f(x):
            return np.sum(layer(x) * x)
        def change():
            layer.__kwdefaults__["s"] = 5.0
    """, mutate="change"),
    P("partial_kw_rebound", """
        def layer(v, s=1.0):
            return np.sin(v) * s
        lay = functools.partial(layer, s=2.0)
        def f(x):
            return np.sum(lay(x) * C)
        def change():
            lay.keywords["s"] = 4.0 if hasattr(lay.keywords, "__setitem__") else 4.0
    """, mutate="change"),
    P("kwargs_passthrough_helper", """
        def layer(v, **kw):
            return v * kw.get("s", 1.0) + kw.get("b", 0.0)
        def f(x):
            return np.sum(layer(x, s=3.0, b=x) * x)
    """),
    P("args_kwargs_passthrough", """
        def outer(*a, **kw):
            return inner(*a, **kw)
        def inner(v, w, s=1.0):
            return v * w * s
        def f(x):
            return np.sum(outer(x, C, s=2.0) * x)
    """),
    P("np_sum_keepdims_kw", """
        def f(x):
            return np.sum(np.sum(np.outer(x, C), axis=1, keepdims=True) * np.ones((3, 2)))
    """),
    P("np_mean_axis_tuple", """
        def f(x):
            T = np.stack([np.outer(x, C), M])
            return np.sum(np.mean(T, axis=(0, 2)) * C)
    """),
    P("np_sum_dtype_kw", """
        def f(x):
            return np.sum(x * C, dtype=np.float64)
    """),
    P("np_concatenate_axis_none", """
        def f(x):
            return np.sum(np.concatenate([np.outer(x, C), M], axis=None) ** 2)
    """),
    P("np_linalg_norm_axis_keepdims", """
        def f(x):
            return np.sum(np.linalg.norm(np.outer(x, C) + M, axis=1, keepdims=True))
    """),
    P("np_argmax_kw_index", """
        def f(x):
            return x[np.argmax(x * C, axis=0)] * 4.0
    """),
    P("np_clip_kw_names", """
        def f(x):
            return np.sum(np.clip(x, a_min=-0.5, a_max=0.5) * C)
    """),
    P("np_where_kw_in_sum", """
        def f(x):
            return np.sum(x * C, where=x > 0)
    """),
    P("np_max_initial", """
        def f(x):
            return np.max(x, initial=0.5) * 3
    """),
    P("np_round_decimals", """
        def f(x):
            return np.sum(np.round(x, decimals=1) * x)
    """),
    P("np_std_keepdims", """
        def f(x):
            return np.sum(np.std(np.outer(x, C) + M, axis=0, keepdims=True, ddof=1))
    """),
    P("np_cumsum_axis_kw", """
        def f(x):
            return np.sum(np.cumsum(np.outer(x, C), axis=0) * M)
    """),
    P("np_softmax_via_scipy_axis", """
        import scipy.special
        def f(x):
            return np.sum(scipy.special.softmax(np.outer(x, C), axis=1) * M)
    """),
    P("np_take_axis", """
        def f(x):
            return np.sum(np.take(np.outer(x, C), [0, 2], axis=1) * A)
    """),
    P("np_take_mode_wrap", """
        def f(x):
            return np.sum(np.take(x, [1, 4], mode="wrap") * C[:2])
    """),
    P("np_repeat_axis_kw", """
        def f(x):
            return np.sum(np.repeat(np.outer(x, C), repeats=2, axis=0) ** 2)
    """),
    P("np_stack_out_kw", """
        def f(x):
            buf = np.empty((2, 3))
            np.stack([x, x * 2], out=buf)
            return np.sum(buf * 2)
    """),
    P("np_dot_out_kw", """
        def f(x):
            buf = np.empty(3)
            np.dot(M, x, out=buf)
            return np.sum(buf * C)
    """),
    P("np_matmul_axes_kw", """
        def f(x):
            return np.sum(np.matmul(np.outer(x, C), M, axes=[(0, 1), (0, 1), (0, 1)]))
    """),
    P("np_einsum_out", """
        def f(x):
            buf = np.empty(3)
            np.einsum("ij,j->i", M, x, out=buf)
            return np.sum(buf * C)
    """),
    P("np_pad_mode_reflect", """
        def f(x):
            return np.sum(np.pad(x, 2, mode="reflect") * np.arange(7))
    """),
    P("np_pad_mode_edge", """
        def f(x):
            return np.sum(np.pad(x, (1, 2), mode="edge") * np.arange(6))
    """),
    P("np_sort_kind_descending", """
        def f(x):
            return np.sum(-np.sort(-x, kind="stable") * C)
    """),
    P("np_gradient_fn", """
        def f(x):
            return np.sum(np.gradient(x * x) * C)
    """),
    P("np_diff_n2_prepend", """
        def f(x):
            return np.sum(np.diff(x, n=1, prepend=0.0) * C)
    """),
    P("np_linspace_endpoint_false", """
        def f(x):
            return np.sum(np.linspace(x[0], x[1], 4, endpoint=False) * np.arange(4))
    """),
    P("np_full_dtype_kw", """
        def f(x):
            return np.sum(np.full((2, 3), x[0], dtype=float) * A.T)
    """),
    P("np_ones_like_dtype", """
        def f(x):
            return np.sum(np.ones_like(x, dtype=float) * x * x)
    """),
    P("np_zeros_like_then_set", """
        def f(x):
            z = np.zeros_like(x)
            z[1] = x[2] * 3
            return np.sum(z * C)
    """),
    P("np_array_dtype_kw", """
        def f(x):
            return np.sum(np.array([x[0], x[1] * 2], dtype=np.float64) * C[:2])
    """),
    P("np_asarray_list_of_boxes", """
        def f(x):
            return np.sum(np.asarray([x[0] * 2, x[2]]) ** 2)
    """),
    P("np_var_where", """
        def f(x):
            return np.var(x * C, where=np.array([True, False, True]))
    """),
    P("np_prod_axis_keepdims", """
        def f(x):
            return np.sum(np.prod(np.outer(x, C) + 1, axis=0, keepdims=True))
    """),
    P("np_average_weights", """
        def f(x):
            return np.average(x * x, weights=C)
    """),
    P("np_average_weights_diff", """
        def f(x):
            return np.average(C, weights=x * x + 1)
    """),
    P("np_nanmean_axis", """
        def f(x):
            Z = np.outer(x, C)
            Z = np.where(Z > 1.0, np.nan, Z)
            return np.sum(np.nanmean(Z, axis=0))
    """),
    P("np_histogram_constant", """
        def f(x):
            h, _ = np.histogram(x, bins=3)
            return np.sum(h * x)
    """),
    P("np_searchsorted_index", """
        def f(x):
            i = np.searchsorted(np.sort(C), 2.5)
            return x[i] * 2
    """),
    P("np_isclose_mask", """
        def f(x):
            return np.sum(x * np.isclose(x, 0.3, atol=0.1))
    """),
    P("np_errstate_kw_call", """
        def f(x):
            with np.errstate(all="ignore"):
                return np.sum(np.log(np.abs(x)) * C)
    """),
    P("np_logical_ops_mask", """
        def f(x):
            m = np.logical_and(x > -1, np.logical_not(x > 1))
            return np.sum(np.where(m, x * 2, x))
    """),
    P("np_einsum_kw_optimize_path", """
        def f(x):
            return np.einsum("i,ij,jk,k->", x, M, M, x, optimize="greedy")
    """),
    P("method_kw_axis", """
        def f(x):
            return np.sum(np.outer(x, C).max(axis=1, keepdims=True)) + x.sum(keepdims=True)[0]
    """),
    P("method_kw_ddof", """
        def f(x):
            return (x * C).std(ddof=1) + (x * C).var(ddof=0)
    """),
    P("method_astype_kw", """
        def f(x):
            return np.sum(x.astype(np.float64, copy=False) * x)
    """),
    P("method_reshape_order", """
        def f(x):
            return np.sum(np.outer(x, C).reshape(9, order="F") * np.arange(9))
    """),
    P("method_flatten_order", """
        def f(x):
            return np.sum(np.outer(x, C).flatten(order="F") * np.arange(9))
    """),
    P("method_ravel_order", """
        def f(x):
            return np.sum(np.ravel(np.outer(x, C), order="F") * np.arange(9))
    """),
    P("method_transpose_axes", """
        def f(x):
            T = np.stack([np.outer(x, C), M])
            return np.sum(T.transpose(2, 0, 1) * np.arange(18).reshape(3, 2, 3))
    """),
    P("method_clip_kw", """
        def f(x):
            return np.sum(x.clip(min=-0.5) * C)
    """),
    P("method_round_kw", """
        def f(x):
            return np.sum(x * (x * 10).round(decimals=0))
    """),
    P("method_cumprod_axis", """
        def f(x):
            return np.sum(np.outer(x, C).cumprod(axis=1) * M)
    """),
    P("method_take_kw", """
        def f(x):
            return np.sum(x.take([2, 0], mode="clip") * C[:2])
    """),
    P("method_swapaxes", """
        def f(x):
            return np.sum(np.outer(x, C).swapaxes(0, 1) * M)
    """),
    P("method_dot_out", """
        def f(x):
            buf = np.empty(3)
            M.dot(x, out=buf)
            return np.sum(buf * C)
    """),
    P("method_sum_out", """
        def f(x):
            buf = np.empty(())
            (x * C).sum(out=buf)
            return float(buf) + np.sum(x)
    """),
]
