"""Beyond the issue's groups: what else could give a wrong gradient.

Values the cache key ignores (argument values, lengths, shapes, index arrays with and without
repeats between calls), gradients at special points (zeros in ``prod`` and ``x ** 0``, NaN in
the unselected branch of ``np.where``), rank >= 3 and non-square shapes, float32,
parameter structures (dicts, nested lists, namedtuples, the same array twice), higher order.
"""
from .program import P

PROGRAMS = [
    P("prod_with_a_zero", """
        def f(x):
            return np.prod(x * C)
    """, args="(np.array([0.3, 0.0, 1.2]),)"),
    P("prod_with_two_zeros", """
        def f(x):
            return np.prod(x + 1.0) + np.sum(x)
    """, args="(np.array([-1.0, -1.0, 1.2]),)"),
    P("prod_axis_with_zero", """
        def f(x):
            return np.sum(np.prod(np.outer(x, C), axis=0))
    """, args="(np.array([0.3, 0.0, 1.2]),)"),
    P("power_zero_at_zero", """
        def f(x):
            return np.sum(x ** 0 * C) + np.sum(x)
    """, args="(np.array([0.3, 0.0, 1.2]),)"),
    P("power_one_at_zero", """
        def f(x):
            return np.sum(x ** 1 * C)
    """, args="(np.array([0.3, 0.0, 1.2]),)"),
    P("power_two_at_zero", """
        def f(x):
            return np.sum(x ** 2.0 * C)
    """, args="(np.array([0.3, 0.0, 1.2]),)"),
    P("where_sqrt_unselected_negative", """
        def f(x):
            return np.sum(np.where(x > 0, np.sqrt(np.abs(x) * (x > 0) + (x <= 0) * -1.0 + 0.0), 0.0) * C + x)
    """),
    P("where_log_unselected_negative", """
        def f(x):
            with np.errstate(all="ignore"):
                return np.sum(np.where(x > 0, np.log(x), x * 2.0))
    """),
    P("where_division_unselected_zero", """
        def f(x):
            with np.errstate(all="ignore"):
                return np.sum(np.where(C > 1.5, 1.0 / x, 0.0) + x)
    """, args="(np.array([0.0, 0.3, 1.2]),)"),
    P("sqrt_at_positive_only", """
        def f(x):
            return np.sum(np.sqrt(x * x + 1e-3))
    """, args="(np.array([0.3, 0.0, 1.2]),)"),
    P("int_argument_value_changes", """
        N_ARG = [2]
        def f(x, n):
            y = x
            for i in range(n):
                y = np.sin(y) * 1.5
            return np.sum(y * C)
        def mutate():
            N_ARG[0] = 4
    """, args="(X.copy(), N_ARG[0])", mutate="mutate"),
    P("bool_argument_value_changes", """
        FLAG = [True]
        def f(x, use_sin):
            if use_sin:
                return np.sum(np.sin(x) * C)
            return np.sum(np.exp(x))
        def mutate():
            FLAG[0] = False
    """, args="(X.copy(), FLAG[0])", mutate="mutate"),
    P("string_argument_value_changes", """
        MODE = ["sin"]
        def f(x, mode):
            if mode == "sin":
                return np.sum(np.sin(x) * C)
            return np.sum(x ** 3)
        def mutate():
            MODE[0] = "cube"
    """, args="(X.copy(), MODE[0])", mutate="mutate"),
    P("float_constant_argument_changes", """
        K = [2.0]
        def f(x, k):
            return np.sum(np.sin(x * k))
        def mutate():
            K[0] = -3.0
    """, args="(X.copy(), K[0])", mutate="mutate"),
    P("none_vs_array_argument", """
        B = [None]
        def f(x, b):
            if b is None:
                return np.sum(np.sin(x))
            return np.sum(np.sin(x) * b)
        def mutate():
            B[0] = C * 2.0
    """, args="(X.copy(), B[0])", mutate="mutate"),
    P("index_array_gains_repeats", """
        IDX = [np.array([0, 1])]
        def f(x, idx):
            return np.sum(x[idx] * np.array([1.0, 10.0]))
        def mutate():
            IDX[0] = np.array([2, 2])
    """, args="(X.copy(), IDX[0])", mutate="mutate"),
    P("write_index_gains_repeats", """
        IDX = [np.array([0, 1])]
        def f(x, idx):
            y = np.zeros(3)
            y[idx] = x[:2]
            return np.sum(y * C)
        def mutate():
            IDX[0] = np.array([1, 1])
    """, args="(X.copy(), IDX[0])", mutate="mutate"),
    P("shape_changes_between_calls", """
        SIZE = [3]
        def f(x):
            return np.sum(np.tanh(x) * np.arange(1.0, x.shape[0] + 1.0))
        def mutate():
            SIZE[0] = 5
    """, args="(np.linspace(-0.8, 0.9, SIZE[0]),)", mutate="mutate"),
    P("rank_changes_between_calls", """
        RANK = [1]
        def f(x):
            return np.sum(np.sin(x) ** 2)
        def mutate():
            RANK[0] = 2
    """, args="(X.copy() if RANK[0] == 1 else A.copy(),)", mutate="mutate"),
    P("list_length_changes_between_calls", """
        N = [2]
        def f(w):
            t = 0.0
            for k, p in enumerate(w):
                t = t + np.sum(np.sin(p) * (k + 1))
            return t
        def mutate():
            N[0] = 3
    """, args="([X * (k + 1.0) for k in range(N[0])],)", mutate="mutate"),
    P("dict_keys_change_between_calls", """
        KEYS = [("a", "b")]
        def f(w):
            t = 0.0
            for k in w:
                t = t + np.sum(w[k] ** 2) * (2.0 if k == "b" else 1.0)
            return t
        def mutate():
            KEYS[0] = ("b", "c", "a")
    """, args="({k: X * (i + 1.0) for i, k in enumerate(KEYS[0])},)", mutate="mutate"),
    P("float_leaf_becomes_array", """
        KIND = ["float"]
        def f(w):
            return np.sum(np.sin(w[0]) * w[1])
        def mutate():
            KIND[0] = "array"
    """, args="([X.copy(), 0.5 if KIND[0] == 'float' else C.copy()],)", mutate="mutate"),
    P("same_array_twice_in_list", """
        def f(w):
            return np.sum(w[0] * C) + np.sum(w[1] ** 2)
    """, args="([X, X],)"),
    P("same_array_twice_in_tuple_wrt", """
        def f(a, b):
            return np.sum(a * C) + np.sum(b ** 3)
    """, args="(X, X)", wrt=(0, 1)),
    P("dict_param", """
        def f(w):
            return np.sum(np.tanh(w["W"] @ C[:2] + w["b"]))
    """, args="({'W': A.copy(), 'b': Y.copy()},)"),
    P("nested_param_structure", """
        def f(w):
            (a, b), d = w[0], w[1]
            return np.sum(a * b) + np.sum(d["k"] ** 2)
    """, args="([(X.copy(), Y.copy()), {'k': C.copy()}],)"),
    P("wrt_tuple_of_three", """
        def f(a, b, c):
            return np.sum(a * b * c) + np.sum(a ** 2)
    """, args="(X.copy(), Y.copy(), C.copy())", wrt=(0, 2)),
    P("wrt_tuple_reversed_order", """
        def f(a, b):
            return np.sum(np.sin(a) * b ** 2)
    """, args="(X.copy(), Y.copy())", wrt=(1, 0)),
    P("float32_parameters", """
        def f(x):
            return np.sum(np.tanh(x) * C.astype(np.float32))
    """, args="(X.astype(np.float32),)", rtol=2e-4),
    P("float32_mixed_with_float64", """
        def f(x):
            return np.sum(np.sin(x) * C)
    """, args="(X.astype(np.float32),)", rtol=2e-4),
    P("rank3_sum_axes", """
        T = np.arange(24.0).reshape(2, 3, 4) / 10.0
        def f(x):
            t = T * x[None, :, None]
            return np.sum(np.sum(t ** 2, axis=(0, 2)) * C)
    """),
    P("rank3_batched_matmul", """
        T = np.arange(24.0).reshape(2, 4, 3) / 10.0
        def f(x):
            m = np.outer(x, np.array([1.0, -1.0, 0.5, 2.0]))   # 3 x 4
            return np.sum((T @ m) ** 2)
    """),
    P("rank3_broadcast_middle", """
        def f(x):
            a = x.reshape(1, 3, 1)
            b = np.arange(8.0).reshape(2, 1, 4) / 5.0
            return np.sum(np.tanh(a + b))
    """),
    P("rank4_transpose_reshape", """
        def f(x):
            t = (np.arange(24.0).reshape(2, 3, 2, 2) * x[None, :, None, None])
            return np.sum(t.transpose(0, 2, 3, 1).reshape(8, 3) @ C)
    """),
    P("nonsquare_matmul_left", """
        def f(w):
            return np.sum(np.tanh(w @ B) * np.arange(12.0).reshape(3, 4))
    """, args="(A.copy(),)"),
    P("nonsquare_matmul_right", """
        def f(w):
            return np.sum(np.tanh(A @ w) * np.arange(12.0).reshape(3, 4))
    """, args="(B.copy(),)"),
    P("nonsquare_transposed_matmul", """
        def f(w):
            return np.sum((w.T @ A) ** 2)
    """, args="(A.copy(),)"),
    P("vector_matrix_matmul", """
        def f(x):
            return np.sum((x @ A) ** 2)
    """),
    P("matrix_vector_dot", """
        def f(x):
            return np.sum(np.dot(A.T, x) ** 2)
    """),
    P("vector_vector_matmul", """
        def f(x):
            return (x @ C) ** 2
    """),
    P("einsum_trace", """
        def f(x):
            return np.einsum("ii->", np.outer(x, C) + M)
    """),
    P("einsum_diagonal", """
        def f(x):
            return np.sum(np.einsum("ii->i", np.outer(x, x)) * C)
    """),
    P("einsum_batched", """
        def f(w):
            T = np.arange(24.0).reshape(2, 3, 4) / 10.0
            return np.sum(np.einsum("bij,jk->bik", T, w) ** 2)
    """, args="(B.T.copy(),)"),
    P("kron_traced", """
        def f(x):
            return np.sum(np.kron(x, C) * np.arange(9.0))
    """),
    P("cross_traced", """
        def f(x):
            return np.sum(np.cross(x, C) * np.array([1.0, -2.0, 3.0]))
    """),
    P("inner_traced", """
        def f(x):
            return np.inner(x, C) ** 2
    """),
    P("split_traced", """
        def f(x):
            a, b = np.split(np.concatenate([x, x * 2.0]), 2)
            return np.sum(a * C) + np.sum(b ** 2)
    """),
    P("array_split_uneven", """
        def f(x):
            parts = np.array_split(x, 2)
            return np.sum(parts[0] * 3.0) + np.sum(parts[1] ** 2)
    """),
    P("zero_size_slice", """
        def f(x):
            return np.sum(x[:0]) + np.sum(x[3:] * 2.0) + np.sum(x * C)
    """),
    P("mask_from_data", """
        def f(x):
            return np.sum(x[x > 0] ** 2)
    """),
    P("negative_step_2d", """
        def f(x):
            m = np.outer(x, C)
            return np.sum(m[::-1, ::-2] * np.arange(6.0).reshape(3, 2))
    """),
    P("ellipsis_newaxis_index", """
        def f(x):
            return np.sum(x[..., None] * A)
    """),
    P("int_array_index_2d_pairs", """
        def f(x):
            m = np.outer(x, C)
            return np.sum(m[np.array([0, 2, 0]), np.array([1, 1, 1])] * np.array([1.0, 2.0, 3.0]))
    """),
    P("linalg_det", """
        def f(x):
            return np.linalg.det(M + np.diag(x))
    """),
    P("linalg_inv", """
        def f(x):
            return np.sum(np.linalg.inv(M + 2.0 * np.eye(3) + np.diag(x)) @ C)
    """),
    P("linalg_slogdet", """
        def f(x):
            s, l = np.linalg.slogdet(M + 2.0 * np.eye(3) + np.diag(x))
            return l * s
    """),
    P("linalg_cholesky", """
        def f(x):
            S = np.outer(x, x) + 2.0 * np.eye(3)
            return np.sum(np.linalg.cholesky(S) * M)
    """),
    P("linalg_eigh_values", """
        def f(x):
            S = np.outer(x, x) + np.diag(C)
            return np.sum(np.linalg.eigh(S)[0] * C)
    """),
    P("nn_relu_no_ties", """
        def f(x):
            return np.sum(knet.relu(x) * C)
    """),
    P("nn_softmax_axis0", """
        def f(x):
            return np.sum(knet.softmax(np.outer(x, C), axis=0) * M)
    """),
    P("nn_logp_nll", """
        def f(w):
            scores = w @ np.array([[1.0, -0.5, 0.2], [0.3, 0.8, -1.0]])
            return knet.nll(scores, np.array([2, 0, 1]))
    """, args="(A.copy(),)"),
    P("nn_lstm_step", """
        def f(w):
            gates = w @ np.array([[0.5, -0.2], [0.1, 0.3]])
            h, c = knet.lstm(gates, np.array([[0.1, -0.2], [0.3, 0.05]]))
            return np.sum(h * np.array([[1.0, 2.0], [-1.0, 0.5]])) + np.sum(c)
    """, args="(np.arange(16.0).reshape(8, 2) / 10.0 - 0.7,)"),
    P("nn_conv_pool_chain", """
        def f(w):
            xin = np.sin(np.arange(2 * 1 * 5 * 5, dtype=float)).reshape(2, 1, 5, 5)
            return np.sum(knet.pool(np.tanh(knet.conv4(w, xin))) ** 2)
    """, args="(np.cos(np.arange(2 * 1 * 2 * 2, dtype=float)).reshape(2, 1, 2, 2),)"),
    P("hvp_inside_loss", """
        def inner(z):
            return np.sum(np.sin(z) * C)
        def f(x):
            return np.sum(knet.hvp(inner)(x, C) * x)
    """),
    P("value_depends_on_python_float_of_arg", """
        def f(x):
            k = float(np.sum(x))
            return np.sum(x * C) * 2.0 + k * 0.0
    """),
    P("grad_through_np_float64_scalar", """
        def f(x):
            s = np.float64(2.0) * x[0]
            return s * s + np.sum(x)
    """),
    P("max_of_distinct_values", """
        def f(x):
            return np.max(x * C) + np.min(x * C)
    """),
    P("argmax_indexing_row", """
        def f(x):
            m = np.outer(x, C) + M
            return np.sum(m[np.argmax(m[:, 0])] * C)
    """),
    P("loop_over_rows_of_parameter", """
        def f(w):
            t = 0.0
            for row in w:
                t = t + np.sum(np.tanh(row) * np.array([1.0, -2.0]))
            return t
    """, args="(A.copy(),)"),
    P("stack_of_loop_results_rank3", """
        def f(w):
            outs = []
            for k in range(3):
                outs.append(w * (k + 1.0))
            return np.sum(np.stack(outs) ** 2 * np.arange(3.0).reshape(3, 1, 1))
    """, args="(A.copy(),)"),
    P("globals_lookup_of_function", """
        act = np.tanh
        def f(x):
            return np.sum(globals()["act"](x) * C)
    """),
    P("import_inside_loss", """
        def f(x):
            from math import sin
            return sin(x[0]) * 2.0 + np.sum(x * C)
    """),
    P("eval_lambda_helper", """
        SQ = eval("lambda t: t * t * 3.0")
        def f(x):
            return np.sum(SQ(x) * C)
    """, where=r"(?:{file}|<string>):\d+"),
    P("exec_inside_loss", """
        def f(x):
            ns = {"x": x, "np": np}
            exec("y = np.sin(x) * 2.0", ns)
            return np.sum(ns["y"] * C)
    """),
    P("loss_rebinds_global_function_it_uses", """
        act = np.exp
        def f(x):
            global act
            act = np.tanh
            y = act(x)
            act = np.sin
            return np.sum(y * C) + np.sum(act(x))
    """),
    P("getattr_on_module_string", """
        NAME = ["sin"]
        def f(x):
            return np.sum(getattr(np, NAME[0])(x) * C)
        def mutate():
            NAME[0] = "cos"
    """, mutate="mutate"),
    P("locals_dict_read", """
        def f(x):
            y = np.sin(x)
            return np.sum(locals()["y"] * C)
    """),
    P("vars_of_object_read", """
        class Box:
            pass
        def f(x):
            b = Box()
            b.v = x * 3.0
            return np.sum(vars(b)["v"] * C)
    """),
]
