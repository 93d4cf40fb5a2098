"""Group 30: lazy iterators and live views of containers (session 7).

A generator expression, ``map``, ``filter``, ``zip``, ``reversed``, ``iter`` and
``itertools.islice`` are evaluated when consumed, not when made; ``dict.values()``,
``.items()`` and ``.keys()`` are live views. Each program changes what the iterator reads
between making it and consuming it, which a compiler evaluating eagerly gets wrong; and
objects held by attributes of a local object, seen after a write.
"""
from .program import P

PROGRAMS = [
    P("generator_consumed_after_write", """
        def f(x):
            y = [x[0], x[1], x[2]]
            g = (v * 2 for v in y)
            y[0] = x[2] * 10
            return sum(g)
    """),
    P("generator_over_array_after_write", """
        def f(x):
            y = x * 1.0
            g = (y[i] * C[i] for i in range(3))
            y = y * 5
            return sum(g)
    """),
    P("generator_reads_rebound_name", """
        def f(x):
            s = 1.0
            g = (v * s for v in x)
            s = 3.0
            return sum(g)
    """),
    P("map_consumed_after_list_write", """
        def f(x):
            y = [x[0], x[1]]
            m = map(lambda v: v * v, y)
            y[1] = x[2] * 4
            return sum(m)
    """),
    P("filter_consumed_after_append", """
        def f(x):
            y = [x[0], x[1]]
            it = filter(lambda v: True, y)
            y.append(x[2] * 7)
            return sum(it)
    """),
    P("zip_consumed_after_write", """
        def f(x):
            a = [x[0], x[1]]
            b = [1.0, 2.0]
            z = zip(a, b)
            a[0] = x[2] * 3
            return sum(p * q for p, q in z)
    """),
    P("reversed_consumed_after_write", """
        def f(x):
            a = [x[0], x[1], x[2]]
            r = reversed(a)
            a[2] = x[0] * 9
            return next(r) * 2 + next(r)
    """),
    P("iter_consumed_after_append", """
        def f(x):
            a = [x[0]]
            it = iter(a)
            a.append(x[1] * 5)
            return sum(it)
    """),
    P("islice_consumed_after_write", """
        def f(x):
            a = [x[0], x[1], x[2]]
            s = itertools.islice(a, 1, None)
            a[1] = x[0] * 6
            return sum(s)
    """),
    P("dict_values_view_after_write", """
        def f(x):
            d = {"a": x[0], "b": x[1]}
            vals = d.values()
            d["a"] = x[2] * 8
            return sum(vals)
    """),
    P("dict_items_view_after_insert", """
        def f(x):
            d = {"a": x[0]}
            items = d.items()
            d["b"] = x[1] * 3
            return sum(v for _, v in items)
    """),
    P("dict_keys_view_after_insert", """
        def f(x):
            d = {"a": x[0]}
            ks = d.keys()
            d["b"] = x[1] * 3
            return sum(d[k] for k in ks)
    """),
    P("generator_next_partial", """
        def f(x):
            g = (v * v for v in x)
            first = next(g)
            return first * 10 + sum(g)
    """),
    P("generator_twice_consumed", """
        def f(x):
            g = (v * 2 for v in x)
            a = sum(g)
            b = sum(g)
            return a + b * 100
    """),
    P("map_twice_consumed", """
        def f(x):
            m = map(np.sin, x)
            a = sum(m)
            return a + sum(m) * 5
    """),
    P("enumerate_iterator_shared", """
        def f(x):
            it = iter([x[0], x[1] * 2, x[2] * 3])
            tot = 0.0
            for v in it:
                tot = tot + v * next(it, 0.0)
            return tot
    """),
    P("attribute_holder_after_write", """
        import types
        def f(x):
            y = x * 1.0
            o = types.SimpleNamespace(w=y)
            y[0] = 0.0
            return np.sum(o.w * x)
    """),
    P("dataclass_holder_after_write", """
        @dataclasses.dataclass
        class H:
            w: object
        def f(x):
            y = x * 1.0
            h = H(y)
            y[1] = 0.0
            return np.sum(h.w * x)
    """),
    P("object_attribute_rebound_after_read", """
        import types
        def f(x):
            o = types.SimpleNamespace(w=x * 2)
            a = o.w
            o.w = x * 5
            return np.sum(a * o.w)
    """),
    P("list_comprehension_is_eager", """
        def f(x):
            y = [x[0], x[1], x[2]]
            l = [v * 2 for v in y]
            y[0] = x[2] * 10
            return sum(l) + y[0]
    """),
    P("any_all_short_circuit_generator", """
        def f(x):
            calls = []
            def check(v):
                calls.append(1)
                return v > 0
            ok = any(check(v) for v in x)
            return np.sum(x * x) * (len(calls) + 1)
    """),
]
