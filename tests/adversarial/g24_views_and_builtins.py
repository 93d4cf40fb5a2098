"""Group 24: Python and NumPy as a hostile reviewer writes them (session 7).

Generators, ``map``, the walrus, ``try``/``with`` in a loss, views written through
(``reshape``, ``ravel``, ``.T``, ``np.split``, ``flat``, chained indexing, fancy-index copies
that a write never reaches), ``out=`` and in-place NumPy (``np.maximum(..., out=)``,
``putmask``, ``put_along_axis``, ``fill_diagonal``), ``del`` and list methods, builtins and
``math`` on traced scalars, recursion, function values that keep state (``nonlocal`` in a
closure made by a factory, which compiled code called without seeing its write), ``exec``'d
helpers and unbound ``np.ndarray`` methods (their errors name the user's line).
"""
from .program import P

PROGRAMS = [
    P("generator_helper", """
        def gen(x):
            for i in range(3):
                yield x[i] ** 2
        def f(x):
            return sum(gen(x))
    """),
    P("generator_expression_sum", """
        def f(x):
            return sum(v * c for v, c in zip(x, C))
    """),
    P("map_builtin", """
        def f(x):
            return sum(map(np.sin, x))
    """),
    P("map_lambda_list", """
        def f(x):
            ys = list(map(lambda v: v * v, x))
            return ys[0] + 2 * ys[2]
    """),
    P("walrus_in_comprehension", """
        def f(x):
            return sum([(y := v * 2) * y for v in x])
    """),
    P("try_except_in_loss", """
        def f(x):
            try:
                y = np.sum(x[5])
            except IndexError:
                y = np.sum(x * x)
            return y
    """),
    P("with_errstate", """
        def f(x):
            with np.errstate(divide="ignore"):
                y = np.sum(np.sin(x) * C)
            return y
    """),
    P("global_counter_changes_result", """
        K = [0]
        def f(x):
            K[0] += 1
            return np.sum(x * x) * (1 + 0 * K[0])
    """),
    P("property_computed_weight", """
        class Model:
            def __init__(self):
                self.s = 2.0
            @property
            def scale(self):
                return self.s * 3
        m = Model()
        def f(x):
            return np.sum(x * m.scale)
        def bump():
            m.s = 5.0
    """, mutate="bump"),
    P("np_vectorize", """
        g = np.vectorize(lambda v: v * v)
        def f(x):
            return np.sum(g(x))
    """),
    P("apply_along_axis", """
        def f(x):
            return np.sum(np.apply_along_axis(np.sum, 0, M * x))
    """),
    P("einsum_optimize", """
        def f(x):
            return np.einsum("i,ij,j->", x, M, x, optimize=True)
    """),
    P("matmul_1d_transpose", """
        def f(x):
            return x.T @ M @ x
    """),
    P("where_single_argument_index", """
        def f(x):
            idx = np.where(x > 0)
            return np.sum(x[idx] ** 2)
    """),
    P("mask_assign_on_copy", """
        def f(x):
            y = x.copy()
            y[y < 0] = 0.0
            return np.sum(y * C)
    """),
    P("maximum_out_self_copy", """
        def f(x):
            y = x * 2.0
            np.maximum(y, 0.0, out=y)
            return np.sum(y * C)
    """),
    P("unbound_ndarray_sum", """
        def f(x):
            return np.ndarray.sum(x * x)
    """),
    P("itemgetter", """
        def f(x):
            return operator.itemgetter(2)(x) * 3.0 + np.sum(x)
    """),
    P("getattr_np", """
        def f(x):
            return np.sum(getattr(np, "sin")(x))
    """),
    P("getattr_name_changes", """
        NAME = "sin"
        def f(x):
            return np.sum(getattr(np, NAME)(x))
        def rebind():
            global NAME
            NAME = "cos"
    """, mutate="rebind"),
    P("dict_comprehension_params", """
        def f(w):
            v = {k: a * 2 for k, a in w.items()}
            return np.sum(v["a"] * v["b"])
    """, args='({"a": X.copy(), "b": Y.copy()},)'),
    P("sorted_items_params", """
        def f(w):
            tot = 0.0
            for i, (k, a) in enumerate(sorted(w.items())):
                tot = tot + (i + 1) * np.sum(a)
            return tot
    """, args='({"b": X.copy(), "a": Y.copy()},)'),
    P("functools_reduce_product", """
        def f(x):
            return functools.reduce(lambda a, b: a * b, x)
    """),
    P("reshape_view_write", """
        def f(x):
            y = x * 1.0
            v = y.reshape(3)
            v[0] = 5.0
            return np.sum(y * x)
    """),
    P("flat_write", """
        def f(x):
            y = x * 1.0
            y.flat[1] = 0.0
            return np.sum(y * x)
    """),
    P("ravel_view_write", """
        def f(x):
            y = np.outer(x, C)
            np.ravel(y)[0] = 0.0
            return np.sum(y * y)
    """),
    P("transpose_view_write", """
        def f(x):
            y = np.outer(x, C)
            y.T[0] = 1.0
            return np.sum(y * y)
    """),
    P("fill_diagonal", """
        def f(x):
            y = np.outer(x, C)
            np.fill_diagonal(y, 0.0)
            return np.sum(y * y)
    """),
    P("split_views_write", """
        def f(x):
            y = np.concatenate([x, x]) * 1.0
            a, b = np.split(y, 2)
            a[:] = 0.0
            return np.sum(y * np.concatenate([C, C]))
    """),
    P("sliding_window_view", """
        def f(x):
            w = np.lib.stride_tricks.sliding_window_view(x, 2)
            return np.sum(w * w)
    """),
    P("broadcast_to_read", """
        def f(x):
            return np.sum(np.broadcast_to(x, (2, 3)) * A.T[:, :].T.sum())
    """),
    P("recursion_simple", """
        def g(x, n):
            return x if n == 0 else g(x * 1.1 + 0.1 * np.sin(x), n - 1)
        def f(x):
            return np.sum(g(x, 4) ** 2)
    """),
    P("mutual_recursion", """
        def even(x, n):
            return x if n == 0 else odd(np.sin(x), n - 1)
        def odd(x, n):
            return x if n == 0 else even(x * x, n - 1)
        def f(x):
            return np.sum(even(x, 3))
    """),
    P("assert_in_loss", """
        def f(x):
            assert np.all(np.abs(x) < 10), "bad"
            return np.sum(x ** 3)
    """),
    P("norm_ord_inf", """
        def f(x):
            return np.linalg.norm(x, ord=np.inf) + np.linalg.norm(x, 1)
    """),
    P("late_binding_lambdas", """
        def f(x):
            fs = [lambda v: v * k for k in range(1, 4)]
            return sum(np.sum(g(x)) for g in fs)
    """),
    P("default_binding_lambdas", """
        def f(x):
            fs = [lambda v, k=k: v * k for k in range(1, 4)]
            return sum(np.sum(g(x) * C) for g in fs)
    """),
    P("simple_namespace_params", """
        import types
        def f(x):
            p = types.SimpleNamespace(a=x * 2, b=x)
            p.a = p.a * p.b
            return np.sum(p.a)
    """),
    P("defaultdict_list", """
        def f(x):
            d = collections.defaultdict(list)
            for i in range(3):
                d[i % 2].append(x[i] * (i + 1))
            return sum(d[0]) * 2 + sum(d[1])
    """),
    P("namedtuple_replace", """
        T = collections.namedtuple("T", "a b")
        def f(x):
            t = T(x, x * 2)
            t = t._replace(a=t.b * 3)
            return np.sum(t.a * t.b)
    """),
    P("seeded_noise_in_loss", """
        def f(x):
            r = np.random.RandomState(0)
            return np.sum((x + r.normal(size=3)) ** 2)
    """),
    P("argsort_gather", """
        def f(x):
            return np.sum(x[np.argsort(x)] * C)
    """),
    P("unique_values", """
        def f(x):
            return np.sum(np.unique(x) * C)
    """),
    P("reverse_step_write", """
        def f(x):
            y = np.zeros(3)
            y[::-1] = x
            return np.sum(y * C)
    """),
    P("chained_slice_view_write", """
        def f(x):
            y = x * 1.0
            y[1:][0] = 7.0
            return np.sum(y * x)
    """),
    P("fancy_index_copy_write_lost", """
        def f(x):
            y = x * 1.0
            y[[0, 2]][0] = 7.0
            return np.sum(y * x)
    """),
    P("mask_copy_write_lost", """
        def f(x):
            y = x * 1.0
            y[y > -5][0] = 7.0
            return np.sum(y * x)
    """),
    P("row_view_write_2d", """
        def f(x):
            y = np.outer(x, C)
            y[0][1] = x[2]
            return np.sum(y * y)
    """),
    P("chained_assignment_alias", """
        def f(x):
            a = b = x * 1.0
            a[0] = 0.0
            return np.sum(b * x)
    """),
    P("tuple_assign_alias", """
        def f(x):
            y = x * 1.0
            a, b = y, y
            a += 1.0
            return np.sum(b * x)
    """),
    P("iadd_argument", """
        def f(x):
            x += 1.0
            return np.sum(x * x)
    """),
    P("ufunc_out_other", """
        def f(x):
            y = np.empty(3)
            np.add(x, 1.0, out=y)
            return np.sum(y * y)
    """),
    P("ellipsis_assign", """
        def f(x):
            y = np.empty_like(x)
            y[...] = x ** 2
            return np.sum(y * C)
    """),
    P("put_along_axis", """
        def f(x):
            y = np.zeros((3, 3))
            np.put_along_axis(y, np.array([[0], [1], [2]]), x[:, None], axis=1)
            return np.sum(y * M)
    """),
    P("take_along_axis", """
        def f(x):
            y = np.outer(x, C)
            return np.sum(np.take_along_axis(y, np.array([[2], [0], [1]]), axis=1))
    """),
    P("putmask", """
        def f(x):
            y = x * 1.0
            np.putmask(y, y > 0, 0.0)
            return np.sum(y * x)
    """),
    P("del_list_item", """
        def f(x):
            l = [x[0], x[1] * 2, x[2] * 3]
            del l[1]
            return l[0] + l[1]
    """),
    P("del_dict_item", """
        def f(w):
            d = dict(w)
            del d["a"]
            return np.sum(d["b"] ** 2)
    """, args='({"a": X.copy(), "b": Y.copy()},)'),
    P("list_reverse_method", """
        def f(x):
            l = [x[0], x[1] * 2, x[2] * 3]
            l.reverse()
            return l[0] * 10 + l[2]
    """),
    P("list_sort_key", """
        def f(x):
            l = [x[0], x[1] * 2, x[2] * 3]
            l.sort(key=lambda v: -v)
            return l[0] * 10 + l[2]
    """),
    P("list_clear_then_use", """
        def f(x):
            l = [x * 2]
            l.clear()
            l.append(x * 3)
            return np.sum(l[0])
    """),
    P("dict_pop", """
        def f(w):
            d = dict(w)
            a = d.pop("a")
            return np.sum(a * 3) + np.sum(d["b"])
    """, args='({"a": X.copy(), "b": Y.copy()},)'),
    P("math_functions_scalars", """
        def f(x):
            return math.exp(x[0]) + math.sqrt(x[2]) + math.log(x[2] + 1) + math.sin(x[1])
    """),
    P("scalar_power_scalar", """
        def f(x):
            return x[2] ** x[0] + abs(x[1]) ** 1.5
    """),
    P("float_mod", """
        def f(x):
            return np.sum((x * 3.7) % 1.0 * C)
    """),
    P("builtin_max_min_scalars", """
        def f(x):
            return max(x[0], x[1]) * 2 + min(list(x)) * 3
    """),
    P("int_gate", """
        def f(x):
            return np.sum(x * x) * int(x[0] > 0) + x[1]
    """),
    P("np_float64_cast", """
        def f(x):
            return np.float64(x[0]) * x[1] + float(np.sum(x))
    """),
    P("heaviside", """
        def f(x):
            return np.sum(np.heaviside(x, 0.5) * x * C)
    """),
    P("setattr_on_function", """
        def f(x):
            f.last = x
            return np.sum(f.last * C)
    """),
    P("class_call_model", """
        class Lin:
            def __init__(self, w):
                self.w = w
            def __call__(self, x):
                return x * self.w
        lin = Lin(C.copy())
        def f(x):
            return np.sum(lin(x) ** 2)
        def change():
            lin.w = C * 2
    """, mutate="change"),
    P("partial_kwarg", """
        def g(x, c=1.0):
            return np.sum(x * c)
        f = functools.partial(g, c=3.0)
    """),
    P("bound_method_grad", """
        class L:
            def __init__(self, c):
                self.c = c
            def loss(self, x):
                return np.sum(np.sin(x) * self.c)
        obj = L(C.copy())
        f = obj.loss
        def change():
            obj.c = C * -1
    """, mutate="change"),
    P("staticmethod_helper", """
        class K:
            @staticmethod
            def sq(v):
                return v * v
        def f(x):
            return np.sum(K.sq(x) * C)
    """),
    P("lru_cached_helper_int", """
        @functools.lru_cache
        def scale(n):
            return n * 2.0
        def f(x):
            return np.sum(x * scale(3))
    """),
    P("nested_list_write", """
        def f(w):
            w[0][1] = w[0][1] * 3
            return np.sum(w[0][1] * w[1])
    """, args="([[X.copy(), Y.copy()], C.copy()],)"),
    P("list_of_arrays_inplace_element", """
        def f(x):
            l = [x * 1.0, x * 2.0]
            l[0] *= 3.0
            return np.sum(l[0] * l[1])
    """),
    P("array_in_two_lists", """
        def f(x):
            a = x * 1.0
            l1 = [a]
            l2 = [a]
            l1[0][0] = 9.0
            return np.sum(l2[0] * x)
    """),
    P("dict_values_view", """
        def f(w):
            vals = list(w.values())
            return np.sum(vals[0] * vals[1])
    """, args='({"a": X.copy(), "b": Y.copy()},)'),
    P("zip_star_unzip", """
        def f(x):
            pairs = [(x[i], x[i] * C[i]) for i in range(3)]
            a, b = zip(*pairs)
            return sum(a) + sum(b) * 2
    """),
    P("enumerate_start", """
        def f(x):
            return sum(i * v for i, v in enumerate(x, start=2))
    """),
    P("reversed_builtin", """
        def f(x):
            return sum(v * c for v, c in zip(reversed(x), C))
    """),
    P("np_diff_cumsum", """
        def f(x):
            return np.sum(np.diff(np.cumsum(x * x)[::-1]) * C[:2])
    """),
    P("while_with_break_on_value", """
        def f(x):
            y = x
            n = 0
            while np.sum(y * y) < 10.0:
                y = y * 1.5
                n += 1
                if n > 20:
                    break
            return np.sum(y * C)
    """),
    P("early_return_in_loop", """
        def f(x):
            for i in range(3):
                if x[i] > 1.0:
                    return x[i] * 5.0
            return np.sum(x)
    """),
    P("nonlocal_counter_closure", """
        def make():
            tot = 0.0
            def add(v):
                nonlocal tot
                tot = tot + v
                return tot
            return add
        def f(x):
            add = make()
            add(x[0])
            return add(x[1] * 2)
    """),
    P("closure_cell_changed_after_def", """
        def make():
            c = 1.0
            def g(x):
                return np.sum(x * c)
            c = 3.0
            return g
        f = make()
    """),
    P("global_array_mutated_in_place", """
        W = C.copy()
        def f(x):
            return np.sum(x * W)
        def poke():
            W[0] = 100.0
    """, mutate="poke"),
    P("module_attr_rebinding", """
        import types
        cfg = types.SimpleNamespace(act=np.tanh)
        def f(x):
            return np.sum(cfg.act(x))
        def change():
            cfg.act = np.sin
    """, mutate="change"),
    P("exec_defined_helper", """
        ns = {}
        exec("def h(v):\\n    return v * v * 3\\n", {"np": np}, ns)
        h = ns["h"]
        def f(x):
            return np.sum(h(x))
    """),
    P("eval_in_loss", """
        def f(x):
            return np.sum(eval("x * x"))
    """),
    P("locals_in_loss", """
        def f(x):
            y = x * 2
            return np.sum(locals()["y"] * x)
    """),
]
