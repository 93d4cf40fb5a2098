"""Group 6: the tape silently drops an argument whose rule has no VJP (and auto mode falls
back to that tape); keyword arguments to primitives; user primitives with a VJP for one
argument only.
"""
from .program import P

PROGRAMS = [
    P("clip_wrt_lower_bound", """
        def f(lo):
            return np.sum(np.clip(X * 3.0, lo, 2.0))
    """, args="(0.1,)"),
    P("clip_wrt_upper_bound_array", """
        def f(hi):
            return np.sum(np.clip(X * 3.0, -1.0, hi) * C)
    """, args="(np.array([0.5, 0.2, 1.0]),)"),
    P("clip_wrt_both_bounds", """
        def f(x, lo, hi):
            return np.sum(np.clip(x * 3.0, lo, hi) * C)
    """, args="(X.copy(), -1.0, np.array([0.5, 0.2, 1.0]))", wrt=(0, 1, 2)),
    P("clip_bound_from_x_in_try", """
        def f(x):
            try:
                return np.sum(np.clip(C, x[0], x[2] + 1.0))
            finally:
                pass
    """),
    P("batchnorm_gamma_keyword", """
        def f(g):
            Z = np.outer(np.array([1.0, -2.0]), C) + np.array([[0.3], [-0.1]]) * np.arange(3.0)
            return np.sum(knet.batchnorm(Z, gamma=g, beta=np.zeros((2, 1))) * np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]]))
    """, args="(np.array([[1.5], [0.7]]),)"),
    P("batchnorm_beta_keyword", """
        def f(b):
            Z = np.outer(np.array([1.0, -2.0]), C) + np.array([[0.3], [-0.1]]) * np.arange(3.0)
            return np.sum(knet.batchnorm(Z, np.ones((2, 1)), beta=b) ** 2)
    """, args="(np.array([[0.5], [-0.7]]),)"),
    P("sum_keyword_a", """
        def f(x):
            return np.sum(a=x * C)
    """),
    P("mean_keyword_a", """
        def f(x):
            return np.mean(a=x ** 2)
    """),
    P("dot_keywords", """
        def f(x):
            return np.dot(a=x, b=C) ** 2
    """),
    P("stack_keyword_arrays", """
        def f(x):
            return np.sum(np.stack(arrays=[x, C * x]) ** 2)
    """),
    P("reshape_keyword_newshape", """
        def f(x):
            return np.sum(np.reshape(x, shape=(3, 1)) * M)
    """),
    P("user_primitive_one_vjp_second_arg", """
        @knet.primitive
        def scale(z, k):
            return z * k
        knet.defvjp(scale, lambda g, ans, z, k: g * k)
        def f(k):
            return np.sum(scale(X, k) ** 2)
    """, args="(1.5,)"),
    P("user_primitive_none_vjp_second_arg", """
        @knet.primitive
        def scale(z, k):
            return z * k
        knet.defvjp(scale, lambda g, ans, z, k: g * k, None)
        def f(x, k):
            return np.sum(scale(x, k) ** 2)
    """, args="(X.copy(), 1.5)", wrt=(0, 1)),
    P("user_primitive_keyword_argument_diff", """
        @knet.primitive
        def scale(z, k=1.0):
            return z * k
        knet.defvjp(scale, lambda g, ans, z, k=1.0: g * k, lambda g, ans, z, k=1.0: np.sum(g * z))
        def f(k):
            return np.sum(scale(X, k=k) ** 2)
    """, args="(1.5,)"),
    P("user_primitive_keyword_argument_x", """
        @knet.primitive
        def scale(z, k=1.0):
            return z * k
        knet.defvjp(scale, lambda g, ans, z, k=1.0: g * k, lambda g, ans, z, k=1.0: np.sum(g * z))
        def f(x):
            return np.sum(scale(z=x, k=2.0) ** 2)
    """),
    P("user_primitive_no_rule_at_all", """
        @knet.primitive
        def cube(z):
            return z ** 3
        def f(x):
            return np.sum(cube(x))
    """),
    P("nn_dropout_training_keyword", """
        def f(x):
            return np.sum(knet.dropout(x, 0.0) * C)
    """),
    P("nn_logp_axis_keyword", """
        def f(x):
            return np.sum(knet.logp(np.outer(x, C), axis=1) * M)
    """),
    P("nn_nll_average_keyword", """
        def f(x):
            return knet.nll(np.outer(x, C), np.array([0, 2, 1]), average=False)
    """),
    P("nn_conv4_stride_keyword", """
        def f(w):
            xin = np.arange(2 * 1 * 5 * 5, dtype=float).reshape(2, 1, 5, 5) / 50.0
            return np.sum(knet.conv4(w, xin, stride=2) ** 2)
    """, args="(np.arange(3 * 1 * 2 * 2, dtype=float).reshape(3, 1, 2, 2) / 7.0 - 0.4,)"),
    P("nn_conv4_padding_keyword", """
        def f(w):
            xin = np.arange(2 * 1 * 4 * 4, dtype=float).reshape(2, 1, 4, 4) / 30.0
            return np.sum(knet.conv4(w, xin, padding=1) ** 2)
    """, args="(np.arange(2 * 1 * 2 * 2, dtype=float).reshape(2, 1, 2, 2) / 5.0 - 0.3,)"),
    P("nn_pool_mean_mode_keyword", """
        def f(x):
            xin = np.outer(x, np.arange(1.0, 5.0)).reshape(1, 1, 3, 4) * np.array([1.0, -0.5]).reshape(2, 1, 1, 1)
            return np.sum(knet.pool(xin, window=2, mode="avg") ** 2)
    """),
    P("nn_logsumexp_keepdims", """
        def f(x):
            return np.sum(knet.logsumexp(np.outer(x, C), axis=1, keepdims=True) * C[:, None])
    """),
    P("nn_bce_wrt_target", """
        def f(y):
            return knet.bce(np.array([0.3, -0.5, 1.1]), y)
    """, args="(np.array([0.2, 0.7, 0.9]),)"),
    P("nn_logistic_wrt_target", """
        def f(y):
            return knet.logistic(np.array([0.3, -0.5, 1.1]), y, average=False)
    """, args="(np.array([1.0, -1.0, 0.5]),)"),
    P("where_wrt_condition_values_both", """
        def f(a, b):
            return np.sum(np.where(C > 1.5, a, b) * C)
    """, args="(X.copy(), Y.copy())", wrt=(0, 1)),
    P("maximum_wrt_second_scalar", """
        def f(t):
            return np.sum(np.maximum(X, t) * C)
    """, args="(0.0,)"),
    P("power_wrt_exponent", """
        def f(p):
            return np.sum(np.power(C, p))
    """, args="(1.7,)"),
    P("power_wrt_exponent_array", """
        def f(p):
            return np.sum(C ** p)
    """, args="(np.array([0.5, 1.2, -0.3]),)"),
    P("arctan2_wrt_second", """
        def f(y):
            return np.sum(np.arctan2(X, y))
    """, args="(Y.copy() + 1.0,)"),
    P("hypot_wrt_both", """
        def f(a, b):
            return np.sum(np.hypot(a, b))
    """, args="(X.copy(), Y.copy())", wrt=(0, 1)),
    P("logaddexp_wrt_second", """
        def f(b):
            return np.sum(np.logaddexp(X, b))
    """, args="(Y.copy(),)"),
    P("einsum_wrt_second_operand", """
        def f(b):
            return np.einsum("ij,jk->", A, b)  + np.sum(b ** 2)
    """, args="(B.copy(),)"),
    P("interp_wrt_values", """
        def f(fp):
            return np.sum(np.interp(np.array([0.25, 0.5, 0.9]), np.array([0.0, 0.5, 1.0]), fp))
    """, args="(np.array([1.0, -2.0, 0.5]),)"),
    P("linalg_solve_wrt_matrix", """
        def f(m):
            return np.sum(np.linalg.solve(m, C))
    """, args="(M + 2.0 * np.eye(3),)"),
    P("take_along_axis_values", """
        def f(x):
            m = np.outer(x, C)
            return np.sum(np.take_along_axis(m, np.array([[0], [2], [1]]), axis=1) ** 2)
    """),
    P("nn_batchnorm_positional_eps", """
        def f(Z):
            return np.sum(knet.batchnorm(Z, np.ones((2, 1)), np.zeros((2, 1)), 1e-3) * np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]]))
    """, args="(np.array([[0.3, -0.2, 0.9], [1.0, 0.1, -0.5]]),)"),
]
