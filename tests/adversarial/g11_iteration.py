"""Group 11: Python iteration semantics.

``for v in xs`` re-reads ``xs`` each iteration (a growing worklist, an iterable rebound or
mutated inside its loop); ``for``/``while ... else``; a name used as a loop counter and
later as an index array; loops over dicts modified inside; nested loops reusing names.
"""
from .program import P

PROGRAMS = [
    P("growing_worklist", """
        def f(x):
            xs = [x]
            t = 0.0
            for v in xs:
                t = t + np.sum(v * C)
                if len(xs) < 3:
                    xs.append(v * 2.0)
            return t
    """),
    P("growing_worklist_scalar", """
        def f(x):
            work = [x[0]]
            t = 0.0
            for v in work:
                t = t + v
                if len(work) < 4:
                    work.append(v * 3.0)
            return t
    """),
    P("iterable_rebound_inside_loop", """
        def f(x):
            xs = [x, x * 2.0]
            t = 0.0
            for v in xs:
                xs = [v * 10.0]
                t = t + np.sum(v * C)
            return t + np.sum(xs[0])
    """),
    P("list_mutated_ahead_in_loop", """
        def f(x):
            xs = [x, x * 2.0, x * 3.0]
            t = 0.0
            for i, v in enumerate(xs):
                if i + 1 < len(xs):
                    xs[i + 1] = v ** 2
                t = t + np.sum(v * C)
            return t
    """),
    P("while_else_runs", """
        def f(x):
            i = 0
            y = x
            while i < 2:
                y = np.sin(y)
                i += 1
            else:
                y = y * 5.0
            return np.sum(y * C)
    """),
    P("while_else_skipped_by_break", """
        def f(x):
            i = 0
            y = x
            while i < 5:
                y = np.sin(y) * 1.5
                i += 1
                if i == 2:
                    break
            else:
                y = y * 0.0
            return np.sum(y * C)
    """),
    P("for_else_runs", """
        def f(x):
            y = x
            for i in range(2):
                y = y * x
            else:
                y = y + np.exp(x)
            return np.sum(y * C)
    """),
    P("for_else_skipped_by_break", """
        def f(x):
            y = x
            for i in range(3):
                y = np.sin(y) * 2.0
                if i == 1:
                    break
            else:
                y = y * 0.0
            return np.sum(y * C)
    """),
    P("for_else_data_dependent_break", """
        def f(x):
            y = x
            for i in range(3):
                y = y * 1.5
                if np.sum(y) > 100.0:
                    break
            else:
                y = y ** 2
            return np.sum(y * C)
    """),
    P("for_else_over_list", """
        def f(x):
            t = x * 0.0
            for v in [x, x * 2.0]:
                t = t + v
            else:
                t = t * np.sin(x)
            return np.sum(t * C)
    """),
    P("counter_then_index_array", """
        def f(x):
            i = 0
            for i in range(2):
                x = x * 1.0 + 0.0
            i = np.array([2, 0])
            return np.sum(x[i] * np.array([1.0, 10.0]))
    """),
    P("counter_reused_as_float_factor", """
        def f(x):
            y = x
            for k in range(3):
                y = y + x * k
            k = x[0] * 2.0
            return np.sum(y * C) * k
    """),
    P("loop_var_shadows_argument", """
        def f(x):
            t = 0.0
            for x in [x, x * 2.0]:
                t = t + np.sum(x * C)
            return t + np.sum(x)
    """),
    P("nested_loops_same_name", """
        def f(x):
            t = 0.0
            for i in range(2):
                for i in range(3):
                    t = t + x[i] * (i + 1)
            return t + i * x[0]
    """),
    P("loop_variable_after_loop", """
        def f(x):
            for v in [x * 1.0, x * 2.0, np.sin(x)]:
                pass
            return np.sum(v * C)
    """),
    P("loop_variable_after_empty_loop", """
        def f(x):
            v = x * 3.0
            for v in []:
                pass
            return np.sum(v * C)
    """),
    P("range_rebound_inside", """
        def f(x):
            n = 3
            t = 0.0
            for i in range(n):
                n = 1
                t = t + x[i]
            return t * n
    """),
    P("dict_iteration_modified_values", """
        def f(x):
            d = {"a": x * 1.0, "b": x * 2.0}
            for k in d:
                d[k] = d[k] ** 2
            return np.sum(d["a"] * C) + np.sum(d["b"])
    """),
    P("dict_keys_values_zip", """
        def f(x):
            d = {"a": x * 1.0, "b": np.sin(x)}
            t = 0.0
            for k, v in zip(d.keys(), d.values()):
                t = t + np.sum(v) * (2.0 if k == "b" else 1.0)
            return t
    """),
    P("iterate_array_rows_write_back", """
        def f(x):
            m = np.outer(x, C)
            for row in m:
                row *= 2.0
            return np.sum(m * M)
    """),
    P("iterate_array_then_modify_array", """
        def f(x):
            a = x * 1.0
            t = 0.0
            for v in a:
                a = a * 2.0
                t = t + v
            return t + np.sum(a)
    """),
    P("while_over_worklist_pop", """
        def f(x):
            work = [x[0], x[1]]
            t = 0.0
            while work:
                v = work.pop()
                t = t * 2.0 + v
            return t
    """),
    P("while_condition_on_list_len", """
        def f(x):
            hs = [x]
            while len(hs) < 3:
                hs.append(np.sin(hs[-1]))
            return np.sum(hs[-1] * C)
    """),
    P("zip_shortest", """
        def f(x):
            t = 0.0
            for a, b in zip([x[0], x[1], x[2]], [1.0, 2.0]):
                t = t + a * b
            return t
    """),
    P("iter_next_manual", """
        def f(x):
            it = iter([x[0], x[1] * 2.0])
            a = next(it)
            b = next(it)
            return a * b
    """),
    P("range_with_negative_step", """
        def f(x):
            t = 0.0
            k = 1.0
            for i in range(2, -1, -1):
                t = t + x[i] * k
                k = k * 10.0
            return t
    """),
    P("enumerate_with_continue_else", """
        def f(x):
            t = 0.0
            for i, v in enumerate([x[0], x[1], x[2]]):
                if i == 1:
                    continue
                t = t + v * (i + 1)
            else:
                t = t * 2.0
            return t
    """),
    P("itertools_product", """
        def f(x):
            t = 0.0
            for i, j in itertools.product(range(2), range(2)):
                t = t + x[i] * x[j + 1]
            return t
    """),
    P("map_over_list", """
        def f(x):
            return sum(map(np.sin, [x[0], x[1]])) + x[2]
    """),
    P("filter_over_list", """
        def f(x):
            vals = list(filter(lambda v: v is not None, [x[0], None, x[2]]))
            return vals[0] * vals[1]
    """),
    P("loop_breaks_at_data_dependent_point", """
        def f(x):
            y = x[0] * 1.0
            n = 0
            while y < 10.0:
                y = y * 2.0 + 1.0
                n += 1
            return y + n * x[1]
    """),
]
