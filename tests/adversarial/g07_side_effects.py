"""Group 7: side effects the compiler cannot see.

Expression statements whose call has no rule (kept as an "effect"), ``out=`` arguments,
``ufunc.at``, ``np.put``/``copyto``/``place``/``fill``, in-place methods (``sort``,
``shuffle``), container methods (``extend``, ``insert``, ``update``, ``setdefault``,
``pop``, ``remove``, ``reverse``, ``clear``, ``__setitem__`` by hand).
"""
from .program import P

PROGRAMS = [
    P("add_at_into_buffer", """
        def f(x):
            buf = np.zeros(3)
            np.add.at(buf, np.array([0, 0, 2]), x)
            return np.sum(buf * C)
    """),
    P("add_at_then_square", """
        def f(x):
            buf = np.ones(4)
            np.add.at(buf, np.array([1, 3, 1]), x ** 2)
            return np.sum(buf ** 2)
    """),
    P("multiply_at", """
        def f(x):
            buf = x * 1.0
            np.multiply.at(buf, np.array([0, 1]), 3.0)
            return np.sum(buf * C)
    """),
    P("put_values", """
        def f(x):
            y = np.zeros(3)
            np.put(y, [0, 2], x[:2])
            return np.sum(y * C)
    """),
    P("copyto_dst", """
        def f(x):
            y = np.zeros(3)
            np.copyto(y, x * 2.0)
            return np.sum(y * C)
    """),
    P("copyto_where", """
        def f(x):
            y = np.ones(3)
            np.copyto(y, x, where=np.array([True, False, True]))
            return np.sum(y * y * C)
    """),
    P("place_values", """
        def f(x):
            y = np.zeros(3)
            np.place(y, np.array([True, False, True]), x[1:])
            return np.sum(y * C)
    """),
    P("putmask_values", """
        def f(x):
            y = np.zeros(3)
            np.putmask(y, np.array([True, True, False]), x)
            return np.sum(y * C)
    """),
    P("fill_with_traced_scalar", """
        def f(x):
            m = np.empty((2, 2))
            m.fill(x[0])
            return np.sum(m) + x[1]
    """),
    P("fill_traced_array_constant", """
        def f(x):
            a = x * 2.0
            a.fill(1.0)
            return np.sum(a * x)
    """),
    P("exp_out_buffer", """
        def f(x):
            buf = np.zeros(3)
            np.exp(x, out=buf)
            return np.sum(buf * C)
    """),
    P("add_out_same_array", """
        def f(x):
            a = x * 1.0
            np.add(a, x, out=a)
            return np.sum(a * a)
    """),
    P("multiply_out_tuple", """
        def f(x):
            buf = np.zeros(3)
            np.multiply(x, C, out=(buf,))
            return np.sum(buf ** 2)
    """),
    P("matmul_out", """
        def f(x):
            buf = np.zeros(3)
            np.matmul(M, x, out=buf)
            return np.sum(buf ** 2)
    """),
    P("sum_out", """
        def f(x):
            buf = np.zeros(())
            np.sum(x * C, out=buf)
            return buf * 1.0 + 0.0 * np.sum(x)
    """),
    P("sort_in_place", """
        def f(x):
            y = x * C
            y.sort()
            return np.sum(y * np.array([1.0, 10.0, 100.0]))
    """),
    P("shuffle_in_place", """
        def f(x):
            y = x * 1.0
            np.random.seed(3)
            np.random.shuffle(y)
            return np.sum(y * C)
    """),
    P("rng_shuffle_in_place", """
        def f(x):
            y = x * 1.0
            np.random.default_rng(1).shuffle(y)
            return np.sum(y * C)
    """),
    P("rng_permutation_copy", """
        def f(x):
            p = np.random.default_rng(1).permutation(3)
            return np.sum(x[p] * C)
    """),
    P("list_extend", """
        def f(x):
            hs = [x]
            hs.extend([x * 2.0, np.sin(x)])
            return np.sum(hs[1] * C) + np.sum(hs[2])
    """),
    P("list_insert_front", """
        def f(x):
            hs = [x * 1.0]
            hs.insert(0, x ** 2)
            return np.sum(hs[0] * C)
    """),
    P("list_pop_last", """
        def f(x):
            hs = [x * 2.0, x ** 3]
            last = hs.pop()
            return np.sum(last * C) + np.sum(hs[-1])
    """),
    P("list_pop_front", """
        def f(x):
            hs = [x * 2.0, x ** 3]
            first = hs.pop(0)
            return np.sum(first * C) + np.sum(hs[0])
    """),
    P("list_reverse", """
        def f(x):
            hs = [x * 2.0, x ** 3]
            hs.reverse()
            return np.sum(hs[0] * C)
    """),
    P("list_remove_first_equal", """
        def f(x):
            a, b = x[0] * 1.0, x[1] * 2.0
            hs = [a, b]
            hs.remove(hs[0])
            return hs[0] * 3.0
    """),
    P("list_clear_then_append", """
        def f(x):
            hs = [x * 5.0]
            hs.clear()
            hs.append(x ** 2)
            return np.sum(hs[0] * C)
    """),
    P("list_sort_key", """
        def f(x):
            hs = [x[0] * 1.0, x[1] * 1.0, x[2] * 1.0]
            hs.sort(key=lambda v: -v)
            return hs[0] * 1.0 + hs[1] * 10.0 + hs[2] * 100.0
    """),
    P("list_setitem_by_dunder", """
        def f(x):
            hs = [x * 1.0, x * 2.0]
            hs.__setitem__(0, x ** 3)
            return np.sum(hs[0] * C)
    """),
    P("dict_update", """
        def f(x):
            d = {"a": x * 1.0}
            d.update({"a": x ** 2, "b": np.sin(x)})
            return np.sum(d["a"] * C) + np.sum(d["b"])
    """),
    P("dict_update_keywords", """
        def f(x):
            d = {"a": x * 1.0}
            d.update(a=x ** 3)
            return np.sum(d["a"] * C)
    """),
    P("dict_setdefault_new", """
        def f(x):
            d = {}
            v = d.setdefault("a", x * 3.0)
            return np.sum(v * C) + np.sum(d["a"])
    """),
    P("dict_setdefault_existing", """
        def f(x):
            d = {"a": x ** 2}
            v = d.setdefault("a", x * 3.0)
            return np.sum(v * C)
    """),
    P("dict_pop", """
        def f(x):
            d = {"a": x ** 2, "b": x * 3.0}
            v = d.pop("a")
            return np.sum(v * C) + np.sum(d["b"])
    """),
    P("dict_popitem", """
        def f(x):
            d = {"a": x ** 2, "b": x * 3.0}
            k, v = d.popitem()
            return np.sum(v * C)
    """),
    P("dict_get_default", """
        def f(x):
            d = {"a": x ** 2}
            return np.sum(d.get("b", x * 3.0) * C) + np.sum(d.get("a") * C)
    """),
    P("dict_items_after_update", """
        def f(x):
            d = {"a": x * 1.0}
            d["b"] = x ** 2
            d.update(c=np.sin(x))
            t = 0.0
            for k, v in d.items():
                t = t + np.sum(v)
            return t
    """),
    P("helper_appends_effect_statement", """
        def log(hs, v):
            hs.append(v * 2.0)
        def f(x):
            hs = []
            log(hs, x)
            log(hs, x ** 2)
            return np.sum(hs[1] * C)
    """),
    P("unknown_call_mutates_array", """
        def scale_in_place(a):
            a *= 3.0
        def f(x):
            y = x * 1.0
            scale_in_place(y)
            return np.sum(y * C)
    """),
    P("setitem_via_operator", """
        def f(x):
            hs = [x * 1.0]
            operator.setitem(hs, 0, x ** 2)
            return np.sum(hs[0] * C)
    """),
    P("ndarray_itemset_like_flat", """
        def f(x):
            y = x * 1.0
            y.flat[1] = 5.0
            return np.sum(y * C)
    """),
    P("ndarray_resize_in_place", """
        def f(x):
            y = np.concatenate([x, x])
            y.shape = (2, 3)
            return np.sum(y * M[:2])
    """),
    P("deque_appendleft", """
        def f(x):
            q = collections.deque([x * 1.0])
            q.appendleft(x ** 2)
            return np.sum(q[0] * C)
    """),
    P("heap_push_pop_order", """
        import heapq
        def f(x):
            h = []
            heapq.heappush(h, (2, 0, x * 1.0))
            heapq.heappush(h, (1, 1, x ** 2))
            _, _, v = heapq.heappop(h)
            return np.sum(v * C)
    """),
    P("print_is_fine", """
        def f(x):
            print(end="")
            return np.sum(np.sin(x) * C)
    """),
    P("assert_statement_fine", """
        def f(x):
            assert x.shape == (3,)
            return np.sum(np.sin(x) * C)
    """),
    P("setattr_on_object", """
        class Box:
            pass
        def f(x):
            b = Box()
            setattr(b, "v", x * 2.0)
            return np.sum(b.v * C)
    """),
    P("attribute_store_then_read", """
        class Box:
            pass
        def f(x):
            b = Box()
            b.v = x ** 2
            return np.sum(b.v * C)
    """),
    P("array_setfield_view_write", """
        def f(x):
            y = np.zeros(3)
            y[...] = x * 2.0
            return np.sum(y * C)
    """),
    P("fill_diagonal_traced", """
        def f(x):
            m = np.zeros((3, 3))
            np.fill_diagonal(m, x)
            return np.sum(m @ C)
    """),
    P("put_along_axis_traced", """
        def f(x):
            m = np.zeros((3, 2))
            np.put_along_axis(m, np.array([[0], [1], [0]]), x[:, None], axis=1)
            return np.sum(m * A)
    """),
    P("negative_out_in_place", """
        def f(x):
            a = x * 2.0
            np.negative(a, out=a)
            return np.sum(a * C)
    """),
    P("method_clip_out_in_place", """
        def f(x):
            a = x * 3.0
            a.clip(-1.0, 1.0, out=a)
            return np.sum(a * C)
    """),
    P("cumsum_out_buffer", """
        def f(x):
            buf = np.zeros(3)
            np.cumsum(x, out=buf)
            return np.sum(buf * C)
    """),
    P("sort_axis_in_place_matrix", """
        def f(x):
            m = np.outer(x, C) + M
            m.sort(axis=0)
            return np.sum(m * np.arange(9.0).reshape(3, 3))
    """),
    P("ndarray_resize_method", """
        def f(x):
            a = np.concatenate([x, x]) * 1.0
            b = a.reshape(2, 3).copy()
            b.resize((3, 2), refcheck=False)
            return np.sum(b * A)
    """),
]
