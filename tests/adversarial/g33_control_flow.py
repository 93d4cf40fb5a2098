"""Group 33: control flow as people write it (session 7).

``while True`` with ``break``, nested loops with ``continue`` and ``else``, a worklist that
grows while it is iterated, ``range(len(l))`` fixed while ``l`` grows, a dict's values
replaced during iteration over its keys, early returns from nested loops, ``match``,
``del`` then reuse of a name, rows of a 2-D parameter updated in place through the loop
variable, the walrus in a condition, a loop whose trip count depends on a value.
"""
from .program import P

PROGRAMS = [
    P("while_true_break", """
        def f(x):
            y, n = x, 0
            while True:
                y = np.sin(y) + 0.5 * y
                n += 1
                if n == 3:
                    break
            return np.sum(y * C)
    """),
    P("nested_continue_else", """
        def f(x):
            tot = 0.0
            for i in range(3):
                for j in range(3):
                    if j == i:
                        continue
                    tot = tot + x[i] * x[j] * (i + 1)
                else:
                    tot = tot + x[i]
            return tot
    """),
    P("growing_worklist", """
        def f(x):
            work = [x[0]]
            tot = 0.0
            for v in work:
                tot = tot + v
                if len(work) < 4:
                    work.append(v * 2)
            return tot
    """),
    P("range_len_fixed_while_growing", """
        def f(x):
            l = [x[0], x[1]]
            for i in range(len(l)):
                l.append(l[i] * 3)
            return sum(l)
    """),
    P("dict_values_replaced_in_key_loop", """
        def f(x):
            d = {"a": x[0], "b": x[1]}
            for k in d:
                d[k] = d[k] * 2 + x[2]
            return d["a"] * d["b"]
    """),
    P("early_return_nested_loops", """
        def f(x):
            for i in range(3):
                for j in range(3):
                    if i + j == 3:
                        return x[i] * x[j] * 7
            return np.sum(x)
    """),
    P("match_statement_on_ndim", """
        def f(x):
            match x.ndim:
                case 1:
                    return np.sum(x ** 2)
                case _:
                    return np.sum(x)
    """),
    P("match_statement_on_value_kind", """
        def f(x):
            total = 0.0
            for item in [("sq", 0), ("lin", 1), ("sin", 2)]:
                match item:
                    case ("sq", i):
                        total = total + x[i] ** 2
                    case ("lin", i):
                        total = total + 3 * x[i]
                    case (_, i):
                        total = total + np.sin(x[i])
            return total
    """),
    P("del_then_reuse_name", """
        def f(x):
            y = x * 2
            s = np.sum(y)
            del y
            y = x ** 3
            return s + np.sum(y)
    """),
    P("rows_of_param_updated_in_place", """
        def f(w):
            for row in w:
                row *= 2.0
            return np.sum(w * w)
    """, args="(np.outer(X, C),)"),
    P("rows_of_local_copy_updated", """
        def f(w):
            v = w.copy()
            for row in v:
                row *= 2.0
            return np.sum(v * w)
    """, args="(np.outer(X, C),)"),
    P("walrus_condition", """
        def f(x):
            if (s := np.sum(x * x)) > 0.5:
                return s * 2
            return s
    """),
    P("trip_count_from_value", """
        def f(x):
            y = x
            k = 0
            while np.max(np.abs(y)) > 0.1 and k < 50:
                y = y * 0.5
                k += 1
            return np.sum(y * C)
    """),
    P("loop_variable_leaks_into_closure", """
        def f(x):
            fs = []
            for k in range(3):
                def g(v, k=k):
                    return v * x[k]
                fs.append(g)
            return sum(h(2.0) for h in fs)
    """),
    P("break_inside_try_finally", """
        def f(x):
            tot = 0.0
            for i in range(3):
                try:
                    tot = tot + x[i] ** 2
                    if i == 1:
                        break
                finally:
                    tot = tot + 0.5 * x[i]
            return tot
    """),
    P("return_inside_with", """
        def f(x):
            with np.errstate(invalid="ignore"):
                for i in range(3):
                    if x[i] > 1:
                        return x[i] * np.sum(x)
            return 0.0
    """),
    P("exception_as_control_flow", """
        def f(x):
            tot = 0.0
            i = 0
            while True:
                try:
                    tot = tot + x[i] * (i + 1)
                except IndexError:
                    break
                i += 1
            return tot
    """),
    P("loop_over_zip_star_rows", """
        def f(x):
            m = np.outer(x, C)
            return sum(np.sum(np.array(col) ** 2) * (i + 1) for i, col in enumerate(zip(*m)))
    """),
    P("conditional_import_in_loss", """
        def f(x):
            import math as mm
            return mm.sin(x[0]) + np.sum(x)
    """),
    P("loop_else_with_return_inside", """
        def f(x):
            for i in range(3):
                if x[i] > 5:
                    return x[i]
            else:
                return np.sum(np.tanh(x))
    """),
    P("while_else_not_run_on_break", """
        def f(x):
            y = x
            i = 0
            while i < 3:
                y = y * 1.5
                if i == 1:
                    break
                i += 1
            else:
                y = y * 100
            return np.sum(y)
    """),
]
