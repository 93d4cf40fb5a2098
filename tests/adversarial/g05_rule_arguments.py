"""Group 5: rules that ignore (some of) their arguments.

Keyword options of NumPy functions (``where=``, ``initial=``, ``mode=``, ``ddof=``, ``ord=``,
``axis`` tuples, ``keepdims``, ``dtype``, ``side``...), and writes with repeated indices
(NumPy keeps the last write).
"""
from .program import P

MASK = "np.array([True, False, True])"

PROGRAMS = [
    P("sum_where", f"""
        def f(x):
            return np.sum(x ** 2, where={MASK})
    """),
    P("sum_where_method", f"""
        def f(x):
            return (x * C).sum(where={MASK})
    """),
    P("mean_where", f"""
        def f(x):
            return np.mean(x ** 2 * C, where={MASK})
    """),
    P("sum_initial", """
        def f(x):
            return np.sum(x * C, initial=x[0]) 
    """),
    P("sum_initial_constant", """
        def f(x):
            return np.sum(x ** 2, initial=5.0) ** 2
    """),
    P("max_initial_dominates", """
        def f(x):
            return np.max(x, initial=5.0) + np.sum(x)
    """),
    P("max_where", f"""
        def f(x):
            return np.max(x * C, where=np.array([True, True, False]), initial=-10.0)
    """),
    P("prod_where", f"""
        def f(x):
            return np.prod(x + 2.0, where={MASK})
    """),
    P("take_clip", """
        def f(x):
            return np.sum(np.take(x, np.array([0, 5, 1]), mode="clip") * C)
    """),
    P("take_wrap", """
        def f(x):
            return np.sum(np.take(x, np.array([0, 4, -1]), mode="wrap") * C)
    """),
    P("take_axis", """
        def f(x):
            m = np.outer(x, C)
            return np.sum(np.take(m, np.array([2, 0]), axis=1) ** 2)
    """),
    P("repeated_index_write", """
        def f(x):
            y = np.zeros(3)
            y[[0, 0]] = x[:2]
            return np.sum(y * C)
    """),
    P("repeated_index_write_array", """
        def f(x):
            y = np.zeros(3)
            y[np.array([1, 1, 2])] = x * 2.0
            return np.sum(y * C)
    """),
    P("repeated_index_write_2d", """
        def f(x):
            y = np.zeros((2, 3))
            y[[0, 0], [1, 1]] = x[:2]
            return np.sum(y) + np.sum(y ** 2)
    """),
    P("repeated_index_iadd_is_not_accumulate", """
        def f(x):
            y = np.zeros(3)
            y[[0, 0, 1]] += x
            return np.sum(y * C)
    """),
    P("repeated_index_read_accumulates", """
        def f(x):
            return np.sum(x[[0, 0, 2]] * np.array([1.0, 2.0, 3.0]))
    """),
    P("var_ddof", """
        def f(x):
            return np.var(x, ddof=1)
    """),
    P("std_ddof", """
        def f(x):
            return np.std(x * C, ddof=1)
    """),
    P("norm_ord_1", """
        def f(x):
            return np.linalg.norm(x, ord=1)
    """),
    P("norm_ord_inf", """
        def f(x):
            return np.linalg.norm(x * C, ord=np.inf)
    """),
    P("norm_ord_3", """
        def f(x):
            return np.linalg.norm(x, ord=3)
    """),
    P("norm_axis", """
        def f(x):
            return np.sum(np.linalg.norm(np.outer(x, C), axis=0))
    """),
    P("sum_axis_tuple", """
        def f(x):
            t = np.einsum("i,j,k->ijk", x, C, x)
            return np.sum(np.sum(t, axis=(0, 2)) * C)
    """),
    P("sum_keepdims_broadcast", """
        def f(x):
            m = np.outer(x, C)
            return np.sum(m / np.sum(m, axis=1, keepdims=True) * M)
    """),
    P("mean_axis_negative", """
        def f(x):
            m = np.outer(x, C) + M
            return np.sum(np.mean(m, axis=-1) ** 2)
    """),
    P("max_axis_keepdims", """
        def f(x):
            m = np.outer(x, C) + M
            return np.sum(np.max(m, axis=0, keepdims=True) * C)
    """),
    P("cumsum_axis", """
        def f(x):
            m = np.outer(x, C)
            return np.sum(np.cumsum(m, axis=1) * M)
    """),
    P("sum_dtype_float64", """
        def f(x):
            return np.sum(x * C, dtype=np.float64) + np.sum(x, dtype=None) ** 2
    """),
    P("clip_with_none", """
        def f(x):
            return np.sum(np.clip(x, None, 1.0) * C)
    """),
    P("clip_keyword_bounds", """
        def f(x):
            return np.sum(np.clip(x, a_min=-0.5, a_max=1.0) * C)
    """),
    P("round_decimals", """
        def f(x):
            return np.sum(np.round(x, decimals=1)) + np.sum(x ** 2)
    """),
    P("power_where", """
        def f(x):
            return np.sum(np.power(x, 2, where=np.array([True, False, True]), out=np.ones(3)))
    """),
    P("add_where", """
        def f(x):
            return np.sum(np.add(x, C, where=np.array([True, False, True]), out=np.zeros(3)) * C)
    """),
    P("exp_where_out", """
        def f(x):
            return np.sum(np.exp(x, where=x > 0, out=np.zeros(3)))
    """),
    P("maximum_where", """
        def f(x):
            return np.sum(np.maximum(x, 0.0, where=np.array([True, True, False]), out=np.full(3, 2.0)))
    """),
    P("concatenate_axis_none", """
        def f(x):
            return np.sum(np.concatenate([np.outer(x, C), M], axis=None) * np.arange(18.0))
    """),
    P("stack_axis_1", """
        def f(x):
            return np.sum(np.stack([x, C * x], axis=1) * np.arange(6.0).reshape(3, 2))
    """),
    P("reshape_order_F", """
        def f(x):
            m = np.outer(x, C)
            return np.sum(np.reshape(m, (9,), order="F") * np.arange(9.0))
    """),
    P("ravel_order_F", """
        def f(x):
            m = np.outer(x, C)
            return np.sum(m.ravel(order="F") * np.arange(9.0))
    """),
    P("flatten_order_F", """
        def f(x):
            m = np.outer(x, np.array([1.0, 2.0]))
            return np.sum(m.flatten("F") * np.arange(6.0))
    """),
    P("transpose_axes", """
        def f(x):
            t = np.einsum("i,j,k->ijk", x, C, np.array([1.0, -1.0]))
            return np.sum(np.transpose(t, (2, 0, 1)) * np.arange(18.0).reshape(2, 3, 3))
    """),
    P("swapaxes_traced", """
        def f(x):
            t = np.einsum("i,j,k->ijk", x, C, np.array([1.0, -1.0]))
            return np.sum(np.swapaxes(t, 0, 2) * np.arange(18.0).reshape(2, 3, 3))
    """),
    P("moveaxis_traced", """
        def f(x):
            t = np.einsum("i,j,k->ijk", x, C, np.array([1.0, -1.0]))
            return np.sum(np.moveaxis(t, 0, -1) * np.arange(18.0).reshape(3, 2, 3))
    """),
    P("roll_shift", """
        def f(x):
            return np.sum(np.roll(x, 1) * C)
    """),
    P("flip_axis", """
        def f(x):
            return np.sum(np.flip(np.outer(x, C), axis=0) * M)
    """),
    P("squeeze_axis", """
        def f(x):
            return np.sum(np.squeeze(x[None, :, None], axis=2) * C)
    """),
    P("expand_dims_axis", """
        def f(x):
            return np.sum(np.expand_dims(x, axis=1) * M)
    """),
    P("argmax_keepdims_gather", """
        def f(x):
            i = np.argmax(x * C)
            return x[i] ** 2 + np.sum(x)
    """),
    P("dot_out", """
        def f(x):
            return np.dot(x, C, out=None) ** 2
    """),
    P("matmul_transposed_nonsquare", """
        def f(x):
            return np.sum((A.T @ np.tanh(x)) ** 2)
    """),
    P("einsum_optimize", """
        def f(x):
            return np.einsum("i,ij,j->", x, M, x, optimize=True)
    """),
    P("tensordot_axes", """
        def f(x):
            return np.sum(np.tensordot(np.outer(x, C), M, axes=([1], [0])) * M)
    """),
    P("linalg_solve_rhs", """
        def f(x):
            return np.sum(np.linalg.solve(M + 2.0 * np.eye(3), x) * C)
    """),
    P("where_one_argument_indices", """
        def f(x):
            return np.sum(x[np.where(x > 0)] ** 2 * 3.0) + np.sum(x)
    """),
    P("nonzero_indices", """
        def f(x):
            return np.sum(x[np.nonzero(x > 0)[0]] * C[:2])
    """),
    P("argsort_gather", """
        def f(x):
            return np.sum(x[np.argsort(x)] * C)
    """),
    P("sum_axis_and_where", """
        def f(x):
            m = np.outer(x, C)
            return np.sum(np.sum(m, axis=0, where=M > 0) ** 2)
    """),
    P("mean_dtype_keyword", """
        def f(x):
            return np.mean(x * C, dtype=np.float64) * 3.0 + np.mean(x ** 2, axis=0)
    """),
    P("cumsum_axis_none_matrix", """
        def f(x):
            return np.sum(np.cumsum(np.outer(x, C), axis=None) * np.arange(9.0))
    """),
    P("max_axis_none_keepdims", """
        def f(x):
            return np.sum(np.max(np.outer(x, C) + M, axis=None, keepdims=True) * np.ones((1, 1)))
    """),
    P("norm_keepdims", """
        def f(x):
            return np.sum(np.linalg.norm(np.outer(x, C) + M, axis=1, keepdims=True) * C[:, None])
    """),
    P("sum_negative_axis_1d", """
        def f(x):
            return np.sum(x ** 2, axis=-1) + np.prod(x + 2.0, axis=-1)
    """),
    P("clip_out_argument", """
        def f(x):
            buf = np.zeros(3)
            np.clip(x * 3.0, -1.0, 1.0, out=buf)
            return np.sum(buf * C)
    """),
    P("concatenate_out", """
        def f(x):
            buf = np.zeros(6)
            np.concatenate([x, x * 2.0], out=buf)
            return np.sum(buf * np.arange(6.0))
    """),
]
