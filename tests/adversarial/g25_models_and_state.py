"""Group 25: small models and the state around them (session 7).

Function values called from a loss that write outside themselves (a factory's closure list,
a dict shared by a getter and a setter, a method updating ``self``), gradients of gradients,
keyword-only and ``**kwargs`` helpers, parameters as float32, rank 3, tuples, namedtuples,
dataclasses, nested dicts; decorators, rebinding (defaults, closure cells, class attributes,
``defvjp`` again), in-place updates with repeated indices, swaps of views, ``while``/``for``
``else``, and a sweep of NumPy, ``np.linalg`` and SciPy functions in everyday use.
"""
from .program import P

PROGRAMS = [
    P("callee_argument_writes_global", """
        LOG = []
        def rec(v):
            LOG.append(v * 2)
            return v
        def f(x, g=rec):
            LOG.clear()
            g(x)
            return np.sum(LOG[0] * x)
    """),
    P("factory_closure_list", """
        def make():
            hist = []
            def rec(v):
                hist.append(v * 2)
                return v
            return rec, hist
        def f(x):
            rec, hist = make()
            rec(x)
            return np.sum(hist[0] * x)
    """),
    P("method_writes_self_dynamic", """
        class Acc:
            def __init__(self):
                self.tot = 0.0
            def add(self, v):
                self.tot = self.tot + v
                return self.tot
        def f(x):
            a = Acc()
            a.add(x[0])
            return a.add(x[1] * 2)
    """),
    P("method_writes_self_list_dynamic", """
        class Acc:
            def __init__(self):
                self.items = []
            def add(self, v):
                self.items.append(v)
                return 0.0
        def f(x):
            a = Acc()
            a.add(x[0] * 3)
            a.add(x[1])
            return a.items[0] + a.items[1] * 2
    """),
    P("callable_from_dict_writes", """
        def make():
            st = {"v": 0.0}
            def put(v):
                st["v"] = v * 3
                return 0.0
            def get():
                return st["v"]
            return put, get
        def f(x):
            put, get = make()
            put(x[0])
            return get() + x[1]
    """),
    P("generator_closure_state", """
        def make():
            seen = []
            def g(v):
                seen.append(v)
                return sum(seen)
            return g
        def f(x):
            g = make()
            g(x[0])
            return g(x[1]) * 2
    """),
    P("grad_of_grad_scalar", """
        def h(x):
            return np.sum(np.sin(x) * x)
        dh = knet.grad(h)
        def f(x):
            return np.sum(dh(x) * C)
    """),
    P("value_and_grad_inside", """
        def h(x):
            return np.sum(x ** 3)
        vg = knet.value_and_grad(h)
        def f(x):
            v, g = vg(x)
            return v + np.sum(g * C)
    """),
    P("keyword_only_param", """
        def g(x, *, s=2.0):
            return np.sum(x * s)
        def f(x):
            return g(x, s=3.0) + g(x)
    """),
    P("kwargs_helper", """
        def g(x, **kw):
            return np.sum(x * kw["s"])
        def f(x):
            return g(x, s=3.0)
    """),
    P("star_args_helper", """
        def g(*xs):
            return sum(np.sum(v * v) for v in xs)
        def f(x):
            return g(x, x * 2)
    """),
    P("float32_param", """
        def f(x):
            return np.sum(np.tanh(x) * C.astype(np.float32))
    """, args="(X.astype(np.float32),)", rtol=1e-3),
    P("rank3_param", """
        def f(x):
            return np.sum(np.tanh(x) * np.arange(24).reshape(2, 3, 4))
    """, args="(np.linspace(-1, 1, 24).reshape(2, 3, 4),)"),
    P("wrt_tuple_two", """
        def f(x, y):
            return np.sum(x * y * y)
    """, args="(X.copy(), Y.copy())", wrt=(0, 1)),
    P("wrt_second_only", """
        def f(x, y):
            return np.sum(np.exp(x) * y)
    """, args="(X.copy(), Y.copy())", wrt=1),
    P("nested_dict_list_params", """
        def f(w):
            h = np.tanh(w["l"][0] @ w["l"][1])
            return np.sum(h * w["b"])
    """, args='({"l": [A.copy(), B.copy()], "b": np.ones(4)},)'),
    P("namedtuple_param", """
        T = collections.namedtuple("T", "a b")
        def f(t):
            return np.sum(t.a * t.b + t.a)
    """, args="(T(X.copy(), Y.copy()),)"),
    P("dataclass_param", """
        @dataclasses.dataclass
        class W:
            a: np.ndarray
            b: np.ndarray
        def f(w):
            return np.sum(np.sin(w.a) * w.b)
    """, args="(W(X.copy(), Y.copy()),)"),
    P("tuple_param_unpack", """
        def f(p):
            a, b = p
            return np.sum(a * b * a)
    """, args="((X.copy(), Y.copy()),)"),
    P("list_param_loop_zip", """
        def f(ws):
            tot = 0.0
            for w, c in zip(ws, [1.0, 2.0]):
                tot = tot + c * np.sum(w ** 2)
            return tot
    """, args="([X.copy(), Y.copy()],)"),
    P("nn_dense_relu", """
        def f(w):
            h = np.maximum(0, A @ w[0] + w[1])
            return np.sum(h * h)
    """, args="([np.linspace(-1, 1, 6).reshape(2, 3) + 0.05, np.array([0.1, -0.2, 0.3])],)"),
    P("softmax_xent", """
        def f(w):
            s = A @ w
            s = s - np.max(s, axis=1, keepdims=True)
            p = np.exp(s) / np.sum(np.exp(s), axis=1, keepdims=True)
            return -np.sum(np.log(p[np.arange(3), [0, 1, 0]]))
    """, args="(np.array([[0.3, -0.2], [0.5, 0.1]]),)"),
    P("logsumexp_manual", """
        def f(x):
            m = np.max(x)
            return m + np.log(np.sum(np.exp(x - m)))
    """),
    P("decorated_with_wraps", """
        def deco(fn):
            @functools.wraps(fn)
            def inner(x):
                return fn(x) * 2
            return inner
        @deco
        def f(x):
            return np.sum(x * x)
    """),
    P("decorated_helper_wraps", """
        def deco(fn):
            @functools.wraps(fn)
            def inner(x):
                return fn(x) * 2
            return inner
        @deco
        def h(x):
            return x * x
        def f(x):
            return np.sum(h(x) * C)
    """),
    P("lambda_assigned_then_rebound", """
        act = lambda v: np.tanh(v)
        def f(x):
            return np.sum(act(x) * C)
        def change():
            global act
            act = lambda v: v ** 3
    """, mutate="change"),
    P("helper_redefined_in_cell", """
        def h(v):
            return v * 2
        def f(x):
            return np.sum(h(x) * x)
        def change():
            cell('''
                def h(v):
                    return np.sin(v)
            ''')
    """, mutate="change"),
    P("defaults_mutated", """
        def h(v, s=2.0):
            return v * s
        def f(x):
            return np.sum(h(x) * x)
        def change():
            h.__defaults__ = (5.0,)
    """, mutate="change"),
    P("closure_cell_mutated", """
        def make(s):
            def h(v):
                return v * s
            return h
        hh = make(2.0)
        def f(x):
            return np.sum(hh(x) * x)
        def change():
            hh.__closure__[0].cell_contents = 7.0
    """, mutate="change"),
    P("class_attr_changed", """
        class Cfg:
            scale = 2.0
        def f(x):
            return np.sum(x * x * Cfg.scale)
        def change():
            Cfg.scale = -3.0
    """, mutate="change"),
    P("module_numpy_alias_changed", """
        xp = np
        def f(x):
            return np.sum(xp.sin(x))
        def change():
            global xp
            import types
            xp = types.SimpleNamespace(sin=np.cos)
    """, mutate="change"),
    P("defvjp_after_compile", """
        @knet.primitive
        def sq(v):
            return v * v
        knet.defvjp(sq, lambda g, ans, v: g * 2 * v)
        def f(x):
            return np.sum(sq(x) * C)
        def change():
            knet.defvjp(sq, lambda g, ans, v: g * 2 * v + 0 * v)
    """, mutate="change"),
    P("inplace_on_loop_accumulator", """
        def f(x):
            acc = np.zeros(3)
            for i in range(3):
                acc += x * i
            return np.sum(acc * C)
    """),
    P("inplace_mul_on_local", """
        def f(x):
            y = x * 1.0
            y *= y
            return np.sum(y * C)
    """),
    P("inplace_setitem_accumulate_loop", """
        def f(x):
            y = np.zeros(3)
            for i in range(3):
                y[i] += x[i] * x[(i + 1) % 3]
            return np.sum(y * C)
    """),
    P("setitem_repeat_index", """
        def f(x):
            y = np.zeros(3)
            y[[0, 0, 1]] = x
            return np.sum(y * C)
    """),
    P("setitem_bool_mask_values", """
        def f(x):
            y = np.zeros(3)
            y[np.array([True, False, True])] = x[:2] * 3
            return np.sum(y * C)
    """),
    P("iadd_repeat_fancy_index", """
        def f(x):
            y = np.zeros(3)
            y[[0, 0]] += x[:2]
            return np.sum(y * C)
    """),
    P("add_at_repeat", """
        def f(x):
            y = np.zeros(3)
            np.add.at(y, [0, 0], x[:2])
            return np.sum(y * C)
    """),
    P("swap_elements", """
        def f(x):
            y = x * 1.0
            y[0], y[1] = y[1], y[0]
            return np.sum(y * C)
    """),
    P("swap_rows_view_trap", """
        def f(x):
            y = np.outer(x, C)
            y[0], y[1] = y[1], y[0]
            return np.sum(y * M)
    """),
    P("swap_rows_fancy", """
        def f(x):
            y = np.outer(x, C)
            y[[0, 1]] = y[[1, 0]]
            return np.sum(y * M)
    """),
    P("list_swap", """
        def f(x):
            l = [x[0], x[1] * 2, x[2]]
            l[0], l[1] = l[1], l[0]
            return l[0] * 10 + l[1]
    """),
    P("string_keys_loop", """
        def f(w):
            tot = 0.0
            for k in "ab":
                tot = tot + np.sum(w[k] * (1 if k == "a" else 3))
            return tot
    """, args='({"a": X.copy(), "b": Y.copy()},)'),
    P("while_else", """
        def f(x):
            i = 0
            y = x
            while i < 2:
                y = y * x
                i += 1
            else:
                y = y + 1
            return np.sum(y)
    """),
    P("for_else_break", """
        def f(x):
            y = x
            for i in range(3):
                if i == 5:
                    break
                y = y * 1.5
            else:
                y = np.sin(y)
            return np.sum(y)
    """),
    P("loop_variable_after_loop", """
        def f(x):
            for v in x:
                pass
            return v * 3
    """),
    P("loop_var_reused_as_array", """
        def f(x):
            for i in range(2):
                pass
            i = np.array([0, 2])
            return np.sum(x[i] * 4)
    """),
    P("enumerate_list_mutated_during", """
        def f(x):
            xs = [x[0], x[1]]
            tot = 0.0
            for i, v in enumerate(xs):
                if i == 0:
                    xs.append(v * 3)
                tot = tot + v
            return tot
    """),
    P("list_mult_aliasing", """
        def f(x):
            rows = [[0.0] * 2] * 2
            rows[0][0] = x[0]
            return rows[1][0] * 3 + x[1]
    """),
    P("conditional_expression_shape", """
        def f(x):
            y = x if x[0] > 0 else -x
            return np.sum(y * C)
    """),
    P("np_select", """
        def f(x):
            return np.sum(np.select([x < 0, x >= 0], [x * 2, x ** 2]) * C)
    """),
    P("np_piecewise", """
        def f(x):
            return np.sum(np.piecewise(x, [x < 0, x >= 0], [lambda v: -v, lambda v: v * v]))
    """),
    P("np_interp", """
        def f(x):
            return np.sum(np.interp(x, [-1.0, 0.0, 2.0], [0.0, 1.0, 5.0]))
    """),
    P("np_interp_fp_diff", """
        def f(x):
            return np.sum(np.interp([0.25, 0.5], [0.0, 1.0, 2.0], x))
    """),
    P("np_polyval", """
        def f(x):
            return np.polyval(x, 0.7)
    """),
    P("np_trapz", """
        def f(x):
            return np.trapezoid(x * x) if hasattr(np, "trapezoid") else np.trapz(x * x)
    """),
    P("np_convolve", """
        def f(x):
            return np.sum(np.convolve(x, C) ** 2)
    """),
    P("np_kron", """
        def f(x):
            return np.sum(np.kron(x, C) ** 2)
    """),
    P("np_cross", """
        def f(x):
            return np.sum(np.cross(x, C) ** 2)
    """),
    P("np_tensordot", """
        def f(x):
            return np.sum(np.tensordot(np.outer(x, x), M, axes=2))
    """),
    P("linalg_solve_det", """
        def f(x):
            K = M + np.diag(x * x) + np.eye(3)
            return np.sum(np.linalg.solve(K, C)) + np.linalg.det(K)
    """),
    P("linalg_inv_slogdet", """
        def f(x):
            K = np.outer(x, x) + np.eye(3) * 2
            s, l = np.linalg.slogdet(K)
            return l + np.sum(np.linalg.inv(K))
    """),
    P("linalg_eigh", """
        def f(x):
            K = np.outer(x, x) + np.diag(C)
            return np.sum(np.linalg.eigh(K)[0] * C)
    """),
    P("linalg_cholesky", """
        def f(x):
            K = np.outer(x, x) + np.eye(3) * 2
            return np.sum(np.linalg.cholesky(K))
    """),
    P("linalg_svd_values", """
        def f(x):
            return np.sum(np.linalg.svd(np.outer(x, C) + M, compute_uv=False))
    """),
    P("linalg_qr", """
        def f(x):
            q, r = np.linalg.qr(np.outer(x, C) + M)
            return np.sum(np.abs(np.diag(r)))
    """),
    P("scipy_logsumexp", """
        import scipy.special
        def f(x):
            return scipy.special.logsumexp(x * C)
    """),
    P("scipy_expit_gammaln", """
        import scipy.special as sp
        def f(x):
            return np.sum(sp.expit(x) + sp.gammaln(x + 2))
    """),
    P("scipy_norm_logpdf", """
        import scipy.stats
        def f(x):
            return np.sum(scipy.stats.norm.logpdf(x, loc=0.2, scale=1.5))
    """),
    P("scipy_norm_cdf_loc_diff", """
        import scipy.stats
        def f(x):
            return np.sum(scipy.stats.norm.cdf(C, loc=x, scale=2.0))
    """),
    P("scipy_solve_triangular", """
        import scipy.linalg
        def f(x):
            L = np.tril(M) + np.eye(3) + np.diag(x * x)
            return np.sum(scipy.linalg.solve_triangular(L, C, lower=True))
    """),
    P("scipy_expm", """
        import scipy.linalg
        def f(x):
            return np.sum(scipy.linalg.expm(np.outer(x, C) * 0.1))
    """),
    P("np_std_var_ddof", """
        def f(x):
            return np.std(x, ddof=1) + np.var(x * C)
    """),
    P("np_median_percentile", """
        def f(x):
            return np.median(x * C) + np.percentile(x, 30)
    """),
    P("np_sort_grad", """
        def f(x):
            return np.sum(np.sort(x) * C)
    """),
    P("np_max_axis_ties", """
        def f(x):
            return np.sum(np.max(np.outer(x, C), axis=0))
    """),
    P("np_prod_zeros_safe", """
        def f(x):
            return np.prod(x * C)
    """),
    P("np_cumprod", """
        def f(x):
            return np.sum(np.cumprod(x) * C)
    """),
    P("np_roll_flip", """
        def f(x):
            return np.sum(np.roll(x, 1) * np.flip(C) * x)
    """),
    P("np_tile_repeat", """
        def f(x):
            return np.sum(np.tile(x, 2) * np.repeat(x, 2))
    """),
    P("np_pad_constant", """
        def f(x):
            return np.sum(np.pad(x, (1, 2), constant_values=0.5) ** 2)
    """),
    P("np_stack_axis1", """
        def f(x):
            return np.sum(np.stack([x, x * x], axis=1) @ np.array([1.0, 2.0]))
    """),
    P("np_meshgrid", """
        def f(x):
            a, b = np.meshgrid(x, C)
            return np.sum(a * b * a)
    """),
    P("np_clip_array_bounds", """
        def f(x):
            return np.sum(np.clip(x * 2, -C * 0.5, C * 0.4))
    """),
    P("np_where_three", """
        def f(x):
            return np.sum(np.where(x > 0, np.log(np.abs(x) + 1), x ** 2))
    """),
    P("np_abs_sign", """
        def f(x):
            return np.sum(np.abs(x) * np.sign(x) * C)
    """),
    P("np_hypot_arctan2", """
        def f(x):
            return np.sum(np.hypot(x, C) + np.arctan2(x, C))
    """),
    P("np_logaddexp", """
        def f(x):
            return np.sum(np.logaddexp(x, C * 0.1) + np.logaddexp2(x, 0.3))
    """),
    P("np_expm1_log1p_neg", """
        def f(x):
            return np.sum(np.log1p(x * 0.5) + np.expm1(x))
    """),
    P("np_sinc", """
        def f(x):
            return np.sum(np.sinc(x))
    """),
    P("np_float_power", """
        def f(x):
            return np.sum(np.float_power(np.abs(x) + 1, C))
    """),
    P("np_nan_reductions", """
        def f(x):
            y = np.where(x > 1.0, np.nan, x)
            return np.nansum(y * C) + np.nanmax(y)
    """),
    P("np_einsum_trace", """
        def f(x):
            return np.einsum("ii", np.outer(x, C))
    """),
    P("np_matmul_batched", """
        def f(x):
            T = np.stack([np.outer(x, C), M])
            return np.sum(T @ T)
    """),
    P("np_dot_scalar", """
        def f(x):
            return np.dot(x, C) * np.dot(2.0, x[0])
    """),
    P("np_vdot_inner_outer", """
        def f(x):
            return np.vdot(x, C) + np.inner(x, x) + np.sum(np.outer(x, C))
    """),
    P("np_triu_tril", """
        def f(x):
            K = np.outer(x, C)
            return np.sum(np.triu(K, 1) * 2 + np.tril(K))
    """),
    P("np_diag_extract", """
        def f(x):
            return np.sum(np.diag(np.outer(x, C), k=1))
    """),
    P("np_trace", """
        def f(x):
            return np.trace(np.outer(x, x) @ M)
    """),
    P("np_atleast_squeeze", """
        def f(x):
            return np.sum(np.squeeze(np.atleast_2d(x)) * C)
    """),
    P("np_moveaxis", """
        def f(x):
            T = np.stack([np.outer(x, C), M])
            return np.sum(np.moveaxis(T, 0, -1) * np.arange(6).reshape(3, 1, 2))
    """),
    P("x_dot_method_chain", """
        def f(x):
            return x.dot(M).dot(x) + x.reshape(3, 1).T.sum() + x.mean() * x.std()
    """),
    P("cumsum_method_axis", """
        def f(x):
            return np.sum(np.outer(x, C).cumsum(axis=1).max(axis=0))
    """),
    P("astype_int_then_float", """
        def f(x):
            return np.sum(x * (x * 3).astype(int))
    """),
    P("round_floor", """
        def f(x):
            return np.sum(x * np.round(x * 10) + np.floor(x * 2) * x)
    """),
    P("comparison_chain", """
        def f(x):
            return x[0] * 2 if -1 < x[0] < 1 else x[0]
    """),
    P("bool_and_or_values", """
        def f(x):
            a = x[0] > 0 and x[1] or x[2]
            return a * 3
    """),
    P("max_builtin_key", """
        def f(x):
            best = max([x * 1.0, x * 2.0, -x], key=lambda v: float(np.sum(v)))
            return np.sum(best * C)
    """),
]
