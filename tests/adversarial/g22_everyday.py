"""Group 22: everyday Python in a loss, beyond the issue's list.

Conversions (``.item()``, ``float``, ``tolist``), builtins over arrays (``sum``, ``sorted``,
``pow``, ``divmod``, ``round``), copies (``copy.copy``, ``copy.deepcopy``, ``np.copy``),
standard-library helpers (``statistics``, ``heapq``, ``functools.lru_cache``, ``operator``),
ufunc methods (``accumulate``, ``reduce``, ``outer``), comprehensions, iterators, unpacking,
static and class methods, frozen dataclasses. A library function's source is never compiled:
without a rule it is refused at the user's line, and the tape's errors inside library code
name the user's line that led there.
"""
from .program import P

PROGRAMS = [
    P("item_flows_to_result", """
        def f(x):
            return np.sum(x * x) + x[0].item() * 2.0
    """),
    P("float_of_element", """
        def f(x):
            return np.sum(np.sin(x)) * float(x[1])
    """),
    P("tolist_sum", """
        def f(x):
            return sum(np.tanh(x).tolist())
    """),
    P("builtin_sum_over_array", """
        def f(x):
            return sum(x * C)
    """),
    P("math_fsum_list", """
        def f(x):
            return math.fsum(list(x * x))
    """),
    P("deepcopy_params", """
        def f(w):
            v = copy.deepcopy(w)
            return np.sum(v[0] * w[1])
    """, args="([X.copy(), Y.copy()],)"),
    P("helper_normalises_its_copy", """
        def unit(v):
            v = v.copy()
            v /= np.linalg.norm(v)
            return v
        def f(x):
            return np.sum(unit(x) * C)
    """),
    P("sorted_list_of_elements", """
        def f(x):
            s = sorted(list(x))
            return s[0] * 3.0 + s[-1]
    """),
    P("ufunc_accumulate_max", """
        def f(x):
            return np.sum(np.maximum.accumulate(x) * C)
    """),
    P("ufunc_reduce_add", """
        def f(x):
            return np.add.reduce(x * x)
    """),
    P("ufunc_outer_multiply", """
        def f(x):
            return np.sum(np.multiply.outer(x, C) ** 2)
    """),
    P("lambdas_capturing_elements", """
        def f(x):
            fs = [lambda z, k=k: z * k for k in x]
            return sum(g(2.0) for g in fs)
    """),
    P("dict_comprehension_params", """
        def f(w):
            sq = {k: v ** 2 for k, v in w.items()}
            return np.sum(sq["a"]) + np.sum(sq["b"] * 3.0)
    """, args="({'a': X.copy(), 'b': Y.copy()},)"),
    P("fstring_of_traced", """
        def f(x):
            label = f"{x[0]:.3f}"
            return np.sum(x ** 2) * len(label)
    """),
    P("clip_amin_none", """
        def f(x):
            return np.sum(np.clip(x, a_min=None, a_max=1.0) * C)
    """),
    P("tuple_param_copied_to_list", """
        def f(w):
            w = list(w)
            w[0] = w[0] * 2.0
            return np.sum(w[0] * w[1])
    """, args="((X.copy(), Y.copy()),)"),
    P("dunder_getitem", """
        def f(w):
            return np.sum(w.__getitem__(0) * w[1])
    """, args="([X.copy(), Y.copy()],)"),
    P("itemgetter_on_params", """
        def f(w):
            first = operator.itemgetter(0)(w)
            return np.sum(first * w[1])
    """, args="([X.copy(), Y.copy()],)"),
    P("stored_bound_method", """
        def f(x):
            s = (x * x).sum
            return s()
    """),
    P("getattr_np_string", """
        def f(x):
            return np.sum(getattr(np, "tanh")(x))
    """),
    P("lru_cache_helper_scalar", """
        @functools.lru_cache(maxsize=None)
        def sq(a):
            return a * a
        def f(x):
            return sq(x[0]) + np.sum(x)
    """),
    P("lru_cache_helper_float", """
        @functools.lru_cache(maxsize=None)
        def sq(a):
            return a * a * 3.0
        def f(x):
            return sq(x)
    """, args="(0.7,)"),
    P("staticmethod_model", """
        class Model:
            @staticmethod
            def loss(w, x):
                return np.sum(np.tanh(w * x))
        def f(w):
            return Model.loss(w, C)
    """),
    P("classmethod_model", """
        class Model:
            k = 2.0
            @classmethod
            def loss(cls, w):
                return np.sum(w ** 2) * cls.k
        def f(w):
            return Model.loss(w)
    """),
    P("builtin_pow_and_abs", """
        def f(x):
            return np.sum(pow(abs(x), 3))
    """),
    P("divmod_scalar", """
        def f(x):
            q, r = divmod(x[0] * 7.0, 3.0)
            return r * x[1]
    """),
    P("round_float_in_loss", """
        def f(x):
            n = round(float(x[2]) * 2)
            return np.sum(x ** n)
    """),
    P("numpy_float64_of_traced", """
        def f(x):
            a = np.float64(x[0])
            return a * a * x[1]
    """),
    P("cumsum_reversed", """
        def f(x):
            return np.sum(np.cumsum(x)[::-1] * C)
    """),
    P("outer_by_reshape", """
        def f(x):
            return np.sum((x.reshape(-1, 1) * x.reshape(1, -1)) * M)
    """),
    P("piecewise_abs", """
        def f(x):
            return np.sum(np.piecewise(x, [x < 0, x >= 0], [lambda v: -v, lambda v: v ** 2]))
    """),
    P("global_counter_side_effect", """
        calls = [0]
        def f(x):
            calls[0] += 1
            return np.sum(x ** 2) * 1.0
    """),
    P("while_shrinks_until_small", """
        def f(x):
            k = 0
            while np.sum(x * x) > 0.05 and k < 20:
                x = x * 0.5
                k += 1
            return np.sum(x * C)
    """),
    P("frozen_dataclass_replace", """
        @dataclasses.dataclass(frozen=True)
        class Params:
            a: np.ndarray
            b: np.ndarray
        def f(p):
            q = dataclasses.replace(p, a=p.a * 2.0)
            return np.sum(q.a * q.b)
    """, args="(Params(X.copy(), Y.copy()),)"),
    P("np_copy_and_method_copy", """
        def f(x):
            a = np.copy(x)
            b = x.copy()
            a[0] = 0.0
            return np.sum(a * b * C)
    """),
    P("reversed_builtin_over_array", """
        def f(x):
            return sum(v * c for v, c in zip(reversed(x), C))
    """),
    P("any_all_on_traced", """
        def f(x):
            s = np.sum(x ** 2)
            if np.all(x < 5.0) and any(x > 0):
                s = s * 2.0
            return s
    """),
    P("nested_function_recursion", """
        def f(x):
            def rec(v, n):
                return v if n == 0 else rec(np.sin(v), n - 1)
            return np.sum(rec(x, 3))
    """),
    P("iter_next_on_params", """
        def f(w):
            it = iter(w)
            a = next(it)
            b = next(it)
            return np.sum(a * b)
    """, args="([X.copy(), Y.copy()],)"),
    P("star_unpack_list_params", """
        def f(w):
            first, *rest = w
            return np.sum(first * rest[0]) + np.sum(rest[1])
    """, args="([X.copy(), Y.copy(), C.copy()],)"),
    P("swap_via_tuple", """
        def f(x):
            a, b = x[0], x[1]
            a, b = b, a * b
            return a * 2.0 + b
    """),
    P("chained_comparison_branch", """
        def f(x):
            if -1.0 < x[0] < 1.0:
                return np.sum(x ** 3)
            return np.sum(x)
    """),
    P("matrix_power_loop", """
        def f(x):
            A2 = np.outer(x, x) * 0.1 + np.eye(3)
            P2 = np.eye(3)
            for _ in range(3):
                P2 = P2 @ A2
            return np.trace(P2)
    """),
    P("statistics_mean_of_elements", """
        import statistics
        def f(x):
            return statistics.mean([x[0] * 2.0, x[1]]) * x[2]
    """),
    P("heapq_nlargest", """
        import heapq
        def f(x):
            top = heapq.nlargest(2, list(x * C))
            return top[0] + 2.0 * top[1]
    """),
    P("copy_copy_list", """
        def f(w):
            v = copy.copy(w)
            v[0] = v[0] * 3.0
            return np.sum(v[0] * w[1]) + np.sum(w[0])
    """, args="([X.copy(), Y.copy()],)"),
    P("deepcopy_dict_params", """
        def f(w):
            v = copy.deepcopy(w)
            return np.sum(np.tanh(v["a"]) * w["b"])
    """, args="({'a': X.copy(), 'b': Y.copy()},)"),
    P("deepcopy_then_write_copy", """
        def f(w):
            v = copy.deepcopy(w)
            v[0] = v[0] * 0.0
            return np.sum(v[0] * v[1]) + np.sum(w[0] * w[1])
    """, args="([X.copy(), Y.copy()],)"),
]
