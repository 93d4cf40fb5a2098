"""Group 26: function values, aliases of elements, views and copies (session 7).

Bound methods, partials and callable objects that write into ``self`` or a bound list,
closures reading what the loss rebinds or writes after making them, ``heapq``, ``deque``,
``itertools``; calls that change shapes, dtypes and structures between gradient calls;
helpers returning their argument or a view of it; ``+=`` on an element a container holds
twice (``l = [a, a]; l[0] += 1``: Python updates ``l[1]`` too); NumPy's views (``asarray``,
``reshape(-1)``, ``squeeze``, ``expand_dims``, ``swapaxes``, ``.real``) written through;
overlapping slice assignments.
"""
from .program import P

PROGRAMS = [
    P("method_value_writes_self", """
        class Model:
            def __init__(self):
                self.cache = None
            def forward(self, v):
                self.cache = v * 2
                return v
        def f(x):
            m = Model()
            step = m.forward
            step(x)
            return np.sum(m.cache * x)
    """),
    P("partial_appends_bound_list", """
        def rec_into(hist, v):
            hist.append(v * 2)
            return v
        def f(x):
            hist = []
            rec = functools.partial(rec_into, hist)
            rec(x)
            return np.sum(hist[0] * x)
    """),
    P("callable_object_appends", """
        class Rec:
            def __init__(self):
                self.hist = []
            def __call__(self, v):
                self.hist.append(v * 2)
                return v
        def f(x):
            r = Rec()
            r(x)
            return np.sum(r.hist[0] * x)
    """),
    P("lambda_reads_list_written_after", """
        def f(x):
            params = [x * 1.0]
            g = lambda: params[0] * 2
            params[0] = x * 3
            return np.sum(g() * C)
    """),
    P("late_binding_loop_lambda_list", """
        def f(x):
            fs = []
            for i in range(3):
                fs.append(lambda: x * i)
            return np.sum(fs[0]() * C)
    """),
    P("closure_over_rebound_param", """
        def f(x):
            g = lambda: x * 2
            x = x * 3
            return np.sum(g() * C)
    """),
    P("nested_def_reads_rebound_local", """
        def f(x):
            y = x * 1.0
            def g():
                return y * y
            y = np.sin(x)
            return np.sum(g())
    """),
    P("sorted_key_captures_x", """
        def f(x):
            idx = sorted(range(3), key=lambda i: -x[i])
            return x[idx[0]] * 3 + x[idx[1]]
    """),
    P("try_finally_return", """
        def f(x):
            try:
                return np.sum(x * x)
            finally:
                pass
    """),
    P("local_object_attribute", """
        import types
        def helper(o):
            return np.sum(o.w * o.w)
        def f(x):
            obj = types.SimpleNamespace()
            obj.w = x * 2
            return helper(obj)
    """),
    P("local_object_attribute_overwritten", """
        import types
        def f(x):
            obj = types.SimpleNamespace(w=x)
            alias = obj
            alias.w = x * 5
            return np.sum(obj.w * C)
    """),
    P("dict_setdefault_list", """
        def f(x):
            d = {}
            d.setdefault("a", []).append(x * 2)
            d.setdefault("a", []).append(x * 3)
            return np.sum(d["a"][0] * d["a"][1])
    """),
    P("dict_get_default_array", """
        def f(x):
            d = {"b": x * 2}
            return np.sum(d.get("a", x * 3) * C) + np.sum(d.get("b", x) * C)
    """),
    P("heapq_push_pop", """
        import heapq
        def f(x):
            h = []
            for i in range(3):
                heapq.heappush(h, (float(i), i, x[i] * (i + 1)))
            return heapq.heappop(h)[2] * 5 + h[0][2]
    """),
    P("deque_ops", """
        def f(x):
            q = collections.deque()
            q.append(x[0] * 2)
            q.appendleft(x[1] * 3)
            a = q.popleft()
            return a * 10 + q[0]
    """),
    P("list_insert_pop0", """
        def f(x):
            l = [x[0]]
            l.insert(0, x[1] * 3)
            a = l.pop(0)
            return a * 10 + l[0]
    """),
    P("itertools_accumulate", """
        def f(x):
            return sum(itertools.accumulate(x * C))
    """),
    P("itertools_chain", """
        def f(x):
            return sum(v * v for v in itertools.chain(x, x * 2))
    """),
    P("pairwise_zip", """
        def f(x):
            return sum((b - a) ** 2 for a, b in zip(x, x[1:]))
    """),
    P("identity_test_arrays", """
        def f(x):
            y = x * 1.0
            z = y if x[0] > 0 else x
            return np.sum(z * (3.0 if z is y else 5.0))
    """),
    P("shares_memory_branch", """
        def f(x):
            v = x[1:]
            return np.sum(v * (2.0 if np.shares_memory(v, x) else 7.0))
    """),
    P("shape_change_between_calls", """
        N = [3]
        def f(x):
            return np.sum(np.sin(x) * np.arange(x.size))
        def make():
            return (np.linspace(-1, 1, N[0]),)
        def grow():
            N[0] = 5
    """, args="make()", mutate="grow"),
    P("dtype_change_between_calls", """
        DT = [np.float64]
        def f(x):
            return np.sum(np.sin(x) * 2)
        def make():
            return (X.astype(DT[0]),)
        def change():
            DT[0] = np.float32
    """, args="make()", mutate="change", rtol=1e-3),
    P("list_length_change_between_calls", """
        N = [2]
        def f(ws):
            return sum(np.sum(w * w) * (i + 1) for i, w in enumerate(ws))
        def make():
            return ([X.copy() * (k + 1) for k in range(N[0])],)
        def grow():
            N[0] = 3
    """, args="make()", mutate="grow"),
    P("dict_keys_change_between_calls", """
        KEYS = ["a", "b"]
        def f(w):
            return sum(np.sum(np.sin(w[k])) * len(k) for k in w)
        def make():
            return ({k: X.copy() for k in KEYS},)
        def change():
            KEYS.append("cc")
    """, args="make()", mutate="change"),
    P("scalar_then_array_param", """
        KIND = ["float"]
        def f(x):
            return np.sum(np.sin(x) * x)
        def make():
            return (0.4,) if KIND[0] == "float" else (X.copy(),)
        def change():
            KIND[0] = "array"
    """, args="make()", mutate="change"),
    P("zero_d_array_param", """
        def f(x):
            return np.sin(x) * x
    """, args="(np.array(0.4),)"),
    P("list_of_scalars_param", """
        def f(w):
            return w[0] * w[1] + np.sin(w[2])
    """, args="([0.3, -0.2, 0.5],)"),
    P("branch_on_param_shape", """
        def f(x):
            if x.ndim == 1:
                return np.sum(x * x)
            return np.sum(x)
    """),
    P("loop_count_from_value", """
        def f(x):
            y = x
            for _ in range(int(abs(x[2]) * 3)):
                y = np.sin(y)
            return np.sum(y)
    """),
    P("integer_power_loop_param_dependent", """
        def f(x):
            n = 3 if x[0] > 0 else 2
            return np.sum(x ** n)
    """),
    P("global_written_inside_loss", """
        LAST = [None]
        def f(x):
            LAST[0] = x * 2
            return np.sum(LAST[0] * x)
    """),
    P("global_rebound_inside_loss", """
        S = 1.0
        def f(x):
            global S
            S = 2.0
            return np.sum(x * S)
    """),
    P("helper_reads_global_set_by_loss", """
        W = [C.copy()]
        def h(v):
            return v * W[0]
        def f(x):
            W[0] = x
            return np.sum(h(x))
    """),
    P("recursive_list_building", """
        def build(x, n):
            if n == 0:
                return []
            return [x * n] + build(x, n - 1)
        def f(x):
            l = build(x, 3)
            return np.sum(l[0] * l[2])
    """),
    P("returned_dict_mutated", """
        def h(x):
            return {"a": x * 2}
        def f(x):
            d = h(x)
            d["a"] = d["a"] * 3
            return np.sum(d["a"])
    """),
    P("helper_returns_its_argument", """
        def ident(v):
            return v
        def f(x):
            y = x * 1.0
            z = ident(y)
            z[0] = 0.0
            return np.sum(y * x)
    """),
    P("helper_returns_view_of_argument", """
        def tail(v):
            return v[1:]
        def f(x):
            y = x * 1.0
            t = tail(y)
            t[0] = 0.0
            return np.sum(y * x)
    """),
    P("helper_returns_list_arg_element", """
        def first(l):
            return l[0]
        def f(x):
            l = [x * 1.0, x * 2.0]
            a = first(l)
            a[0] = 9.0
            return np.sum(l[0] * x)
    """),
    P("returned_tuple_of_same_array", """
        def two(v):
            return v, v
        def f(x):
            a, b = two(x * 1.0)
            a[1] = 0.0
            return np.sum(b * x)
    """),
    P("asarray_no_copy_alias", """
        def f(x):
            y = x * 1.0
            z = np.asarray(y)
            z[0] = 0.0
            return np.sum(y * x)
    """),
    P("array_copy_false", """
        def f(x):
            y = x * 1.0
            z = np.array(y, copy=False) if np.__version__ < "2" else np.asarray(y)
            z[2] = 0.0
            return np.sum(y * x)
    """),
    P("reshape_minus1_alias", """
        def f(x):
            y = np.outer(x, C)
            z = y.reshape(-1)
            z[4] = 0.0
            return np.sum(y * y)
    """),
    P("squeeze_alias", """
        def f(x):
            y = (x * 1.0)[None, :]
            z = np.squeeze(y)
            z[0] = 0.0
            return np.sum(y * x)
    """),
    P("expand_dims_alias", """
        def f(x):
            y = x * 1.0
            z = np.expand_dims(y, 0)
            z[0, 1] = 0.0
            return np.sum(y * x)
    """),
    P("swapaxes_alias", """
        def f(x):
            y = np.outer(x, C)
            z = np.swapaxes(y, 0, 1)
            z[0, 1] = 0.0
            return np.sum(y * y)
    """),
    P("diagonal_view_readonly", """
        def f(x):
            y = np.outer(x, C)
            return np.sum(np.diagonal(y) * C)
    """),
    P("real_view_alias", """
        def f(x):
            y = x * 1.0
            y.real[0] = 5.0
            return np.sum(y * x)
    """),
    P("ravel_copy_when_noncontiguous", """
        def f(x):
            y = np.outer(x, C).T
            z = y.ravel()
            z[0] = 0.0
            return np.sum(y * y)
    """),
    P("view_of_view_write", """
        def f(x):
            y = np.outer(x, C)
            r = y[1]
            s = r[1:]
            s[0] = x[0]
            return np.sum(y * M)
    """),
    P("inplace_through_list_element_alias", """
        def f(x):
            a = x * 1.0
            l = [a, a]
            l[0] += 1.0
            return np.sum(l[1] * x)
    """),
    P("dict_value_alias_inplace", """
        def f(x):
            a = x * 1.0
            d = {"p": a, "q": a}
            d["p"] *= 2.0
            return np.sum(d["q"] * x)
    """),
    P("tuple_element_inplace", """
        def f(x):
            t = (x * 1.0, x * 2.0)
            a = t[0]
            a += 1.0
            return np.sum(t[0] * x)
    """),
    P("np_copyto_where", """
        def f(x):
            y = np.zeros(3)
            np.copyto(y, x, where=x > 0)
            return np.sum(y * C)
    """),
    P("ndarray_fill_value", """
        def f(x):
            y = np.empty(3)
            y.fill(x[0])
            return np.sum(y * C)
    """),
    P("ndarray_sort_inplace", """
        def f(x):
            y = x * 1.0
            y.sort()
            return np.sum(y * C)
    """),
    P("ndarray_resize", """
        def f(x):
            y = x * 1.0
            return np.sum(np.resize(y, 5) * np.arange(5))
    """),
    P("np_put", """
        def f(x):
            y = np.zeros(3)
            np.put(y, [0, 2], x[:2])
            return np.sum(y * C)
    """),
    P("np_place", """
        def f(x):
            y = np.zeros(3)
            np.place(y, [True, False, True], x[:2])
            return np.sum(y * C)
    """),
    P("shuffle_seeded", """
        def f(x):
            y = x * 1.0
            np.random.RandomState(1).shuffle(y)
            return np.sum(y * C)
    """),
    P("permutation_seeded", """
        def f(x):
            y = np.random.RandomState(1).permutation(x)
            return np.sum(y * C)
    """),
    P("exp_out_local", """
        def f(x):
            buf = np.empty(3)
            np.exp(x, out=buf)
            return np.sum(buf * C)
    """),
    P("ufunc_reduceat", """
        def f(x):
            return np.sum(np.add.reduceat(x * C, [0, 2]) ** 2)
    """),
    P("iadd_on_slice_of_param_copy", """
        def f(x):
            y = x.copy()
            y[1:] += y[:-1]
            return np.sum(y * C)
    """),
    P("overlapping_slice_assign", """
        def f(x):
            y = x * 1.0
            y[1:] = y[:-1]
            return np.sum(y * C)
    """),
    P("overlapping_slice_assign_reverse", """
        def f(x):
            y = x * 1.0
            y[:-1] = y[1:]
            return np.sum(y * C)
    """),
    P("self_assign_reversed", """
        def f(x):
            y = x * 1.0
            y[:] = y[::-1]
            return np.sum(y * C)
    """),
    P("ellipsis_self_reversed_2d", """
        def f(x):
            y = np.outer(x, C)
            y[...] = y.T
            return np.sum(y * M)
    """),
]
