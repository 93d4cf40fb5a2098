"""Group 10: lists and tuples treated as arrays.

List concatenation, repetition, ``hs += [v]``, tuple concatenation, a primitive or helper
returning a list, ``sum`` of lists, comprehensions, slicing of lists, ``len`` of grown lists,
``in``, ``zip`` of lists, star-unpacking, ``list(...)``, ``tuple(...)``, ``sorted``, ``min``/``max``
over lists.
"""
from .program import P

PROGRAMS = [
    P("list_concat_index", """
        def f(x):
            t = [x[0], x[1]] + [3.0 * x[2]]
            return t[0] + 10.0 * t[2]
    """),
    P("list_concat_arrays", """
        def f(x):
            t = [x] + [x * 2.0]
            return np.sum(t[1] * C)
    """),
    P("list_iadd_list", """
        def f(x):
            hs = [x]
            hs += [np.sin(x)]
            return np.sum(hs[1] * C) + np.sum(hs[0])
    """),
    P("list_iadd_in_loop", """
        def f(x):
            hs = []
            for i in range(3):
                hs += [x * (i + 1.0)]
            return np.sum(hs[2] * C) + np.sum(hs[0])
    """),
    P("list_repeat_scalar", """
        def f(x):
            t = [2.0 * x[0]] * 3
            return t[0] + t[1] + t[2] + x[1]
    """),
    P("list_repeat_then_setitem", """
        def f(x):
            t = [x[0] * 0.0] * 3
            t[1] = x[1] ** 2
            return t[0] + 5.0 * t[1] + t[2]
    """),
    P("tuple_concat", """
        def f(x):
            t = (x[0],) + (x[1] * 2.0, x[2])
            return t[1] * t[2]
    """),
    P("tuple_repeat", """
        def f(x):
            t = (x[0] * 3.0,) * 2
            return t[0] * t[1]
    """),
    P("len_of_grown_list", """
        def f(x):
            hs = [x[0]]
            hs = hs + [x[1], x[2]]
            return len(hs) * x[0] + hs[-1]
    """),
    P("list_slice_then_sum", """
        def f(x):
            t = [x[0] * 1.0, x[1] * 2.0, x[2] * 3.0]
            s = t[1:]
            return s[0] + s[1] * 10.0
    """),
    P("list_slice_step_reverse", """
        def f(x):
            t = [x[0], x[1] * 2.0, x[2] * 3.0]
            r = t[::-1]
            return r[0] + 10.0 * r[2]
    """),
    P("builtin_sum_of_arrays", """
        def f(x):
            return np.sum(sum([x, x ** 2, np.sin(x)]) * C)
    """),
    P("builtin_sum_with_start", """
        def f(x):
            return np.sum(sum([x, x * 2.0], np.ones(3)) * C)
    """),
    P("builtin_sum_of_scalars_list", """
        def f(x):
            return sum([x[0], x[1] * x[2], 3.0])
    """),
    P("list_comprehension_arrays", """
        def f(x):
            hs = [x * k for k in (1.0, 2.0, 3.0)]
            return np.sum(hs[2] * C)
    """),
    P("list_comprehension_elements", """
        def f(x):
            return sum([x[i] ** 2 * C[i] for i in range(3)])
    """),
    P("dict_comprehension", """
        def f(x):
            d = {k: x * v for k, v in (("a", 1.0), ("b", 3.0))}
            return np.sum(d["b"] * C)
    """),
    P("generator_into_sum", """
        def f(x):
            return sum(x[i] * C[i] for i in range(3))
    """),
    P("tuple_from_list", """
        def f(x):
            t = tuple([x * 2.0, x])
            return np.sum(t[0] * C)
    """),
    P("list_of_array_rows", """
        def f(x):
            rows = list(np.outer(x, C))
            return np.sum(rows[1] * C)
    """),
    P("star_unpack_list", """
        def f(x):
            a, *rest = [x[0], x[1] * 2.0, x[2] * 3.0]
            return a + rest[1] * 5.0
    """),
    P("star_unpack_call", """
        def g(a, b, c):
            return a * b + c
        def f(x):
            parts = [x[0], x[1], x[2]]
            return g(*parts)
    """),
    P("nested_list_index", """
        def f(x):
            t = [[x[0], x[1]], [x[2] * 2.0]]
            return t[0][1] * t[1][0]
    """),
    P("zip_of_lists", """
        def f(x):
            t = 0.0
            for a, b in zip([x[0], x[1]], [C[0], x[2]]):
                t = t + a * b
            return t
    """),
    P("in_operator_on_list", """
        def f(x):
            keys = ["a", "b"]
            k = 2.0 if "b" in keys else 0.0
            return np.sum(x * k * C)
    """),
    P("sorted_list_of_scalars", """
        def f(x):
            s = sorted([x[0], x[1], x[2]])
            return s[0] + 10.0 * s[2]
    """),
    P("builtin_max_of_scalars", """
        def f(x):
            return max(x[0], x[1], x[2]) * 2.0 + min(x[0], x[1])
    """),
    P("builtin_max_of_list", """
        def f(x):
            return max([x[0] * 2.0, x[2]]) + x[1]
    """),
    P("builtin_abs_of_scalar", """
        def f(x):
            return abs(x[1]) * 3.0 + x[0]
    """),
    P("builtin_pow_of_scalar", """
        def f(x):
            return pow(x[2], 3) + x[0]
    """),
    P("primitive_returning_list", """
        @knet.primitive
        def split2(z):
            return [z * 2.0, z * 3.0]
        knet.defvjp(split2, lambda g, ans, z: g[0] * 2.0 + g[1] * 3.0)
        def f(x):
            a, b = split2(x)
            return np.sum(a * C) + np.sum(b ** 2)
    """),
    P("helper_returning_list", """
        def split(z):
            return [z * 2.0, np.sin(z)]
        def f(x):
            parts = split(x)
            return np.sum(parts[0] * C) + np.sum(parts[1])
    """),
    P("helper_returning_list_concat", """
        def more(z, hs):
            return hs + [z * 3.0]
        def f(x):
            hs = more(x, [x])
            return np.sum(hs[-1] * C) + np.sum(hs[0])
    """),
    P("list_param_concat", """
        def f(w):
            t = w + [w[0] * 2.0]
            return np.sum(t[2] * C) + np.sum(t[1])
    """, args="([X.copy(), Y.copy()],)"),
    P("tuple_param_concat", """
        def f(w):
            t = w + (w[0] * 2.0,)
            return np.sum(t[2] * C) + np.sum(t[1])
    """, args="((X.copy(), Y.copy()),)"),
    P("dict_param_merge", """
        def f(w):
            d = {**w, "c": w["a"] * 2.0}
            return np.sum(d["c"] * C) + np.sum(d["b"])
    """, args="({'a': X.copy(), 'b': Y.copy()},)"),
    P("dict_param_or_merge", """
        def f(w):
            d = w | {"a": w["b"] ** 2}
            return np.sum(d["a"] * C)
    """, args="({'a': X.copy(), 'b': Y.copy()},)"),
    P("namedtuple_param", """
        Params = collections.namedtuple("Params", "w b")
        def f(p):
            return np.sum(np.tanh(p.w * C + p.b))
    """, args="(Params(X.copy(), 0.3),)"),
    P("namedtuple_replace", """
        Params = collections.namedtuple("Params", "w b")
        def f(p):
            q = p._replace(b=p.b * 2.0)
            return np.sum(np.tanh(q.w * C + q.b))
    """, args="(Params(X.copy(), 0.3),)"),
    P("array_of_list_of_arrays_stack", """
        def f(x):
            return np.sum(np.array([x, x * 2.0]) * np.ones((2, 3)))
    """),
    P("list_equality_branch", """
        def f(x):
            t = [1, 2]
            if t + [3] == [1, 2, 3]:
                return np.sum(x * C)
            return np.sum(x)
    """),
    P("list_index_method", """
        def f(x):
            names = ["a", "b", "c"]
            return x[names.index("c")] * 5.0 + x[0]
    """),
    P("list_count_method", """
        def f(x):
            names = ["a", "b", "a"]
            return x[0] * names.count("a") + x[1]
    """),
    P("enumerate_list_start", """
        def f(x):
            t = 0.0
            for i, v in enumerate([x[0], x[1], x[2]], start=1):
                t = t + i * v
            return t
    """),
    P("reversed_list", """
        def f(x):
            t = 0.0
            k = 1.0
            for v in reversed([x[0], x[1], x[2]]):
                t = t + k * v
                k = k * 10.0
            return t
    """),
    P("list_negative_index_after_append", """
        def f(x):
            hs = [x[0]]
            hs.append(x[1] * 2.0)
            hs.append(x[2] * 3.0)
            return hs[-2] * hs[-1]
    """),
]
