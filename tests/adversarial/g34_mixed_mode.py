"""Group 34: compiled code calling helpers that run on the tape (mixed mode, session 7).

Each helper calls ``taped``, whose ``global`` statement makes the compiler refuse the
helper (a differentiated argument reaches a function writing outside itself), so the
loss is compiled and the helper runs on the tape. The helper returns its argument, a view of
it, a container of traced values, a tuple with a constant, a closure; it is called in a
loop, twice with the same value, with a list it reads, with keyword arguments.
"""
from .program import P

TAPED = '''
        _SEEN = 0
        def taped(v, k=0):
            global _SEEN
            return _SEEN
'''

PROGRAMS = [
    P("mixed_returns_argument_then_written", TAPED + """
        def ident(v):
            taped(v)
            return v
        def f(x):
            y = x * 1.0
            z = ident(y)
            z[0] = 0.0
            return np.sum(y * x)
    """),
    P("mixed_returns_view_then_written", TAPED + """
        def tail(v):
            taped(v)
            return v[1:]
        def f(x):
            y = x * 1.0
            t = tail(y)
            t[0] = 0.0
            return np.sum(y * x)
    """),
    P("mixed_returns_list", TAPED + """
        def pair(v):
            taped(v)
            return [v * 2, np.sin(v)]
        def f(x):
            a, b = pair(x)
            return np.sum(a * b)
    """),
    P("mixed_returns_tuple_with_constant", TAPED + """
        def split(v):
            taped(v)
            return v * 3, 7
        def f(x):
            a, n = split(x)
            return np.sum(a) * n
    """),
    P("mixed_returns_dict", TAPED + """
        def feats(v):
            taped(v)
            return {"sq": v * v, "lin": v}
        def f(x):
            d = feats(x)
            return np.sum(d["sq"] * C) + np.sum(d["lin"])
    """),
    P("mixed_called_in_loop", TAPED + """
        def step(h, v):
            taped(v)
            return np.tanh(h + v)
        def f(x):
            h = np.zeros(3)
            for i in range(3):
                h = step(h, x * (i + 1))
            return np.sum(h * C)
    """),
    P("mixed_same_value_twice", TAPED + """
        def mul(a, b):
            taped(a)
            return a * b
        def f(x):
            return np.sum(mul(x, x) * C)
    """),
    P("mixed_reads_list_argument", TAPED + """
        def total(vs):
            taped(vs[0])
            return sum(np.sum(v * v) for v in vs)
        def f(x):
            return total([x, x * 2, C])
    """),
    P("mixed_keyword_arguments", TAPED + """
        def scale(v, s=1.0, *, b=0.0):
            taped(v)
            return v * s + b
        def f(x):
            return np.sum(scale(x, s=2.0, b=x) * C)
    """),
    P("mixed_returns_closure", TAPED + """
        def make(v):
            taped(v)
            return lambda u: u * v
        def f(x):
            g = make(x)
            return np.sum(g(C))
    """),
    P("mixed_helper_reads_global_array", TAPED + """
        W = C.copy()
        def lin(v):
            taped(v)
            return v * W
        def f(x):
            return np.sum(lin(x) ** 2)
        def change():
            W[:] = [3.0, -1.0, 0.5]
    """, mutate="change"),
    P("mixed_nested_helpers", TAPED + """
        def inner(v):
            taped(v)
            return np.sin(v)
        def outer(v):
            return inner(v) * 2 + v
        def f(x):
            return np.sum(outer(x) * C)
    """),
    P("mixed_helper_mutates_local_list_arg", TAPED + """
        def push(hs, v):
            taped(v)
            hs.append(v * 2)
            return len(hs)
        def f(x):
            hs = [x]
            push(hs, x)
            return np.sum(hs[0] * hs[1])
    """),
    P("mixed_helper_on_param_list", TAPED + """
        def layer(w, v):
            taped(v)
            return np.tanh(w[0] * v + w[1])
        def f(w):
            return np.sum(layer(w, C) ** 2)
    """, args="([X.copy(), Y.copy()],)"),
    P("mixed_helper_returns_param_element", TAPED + """
        def first(w):
            taped(w[0])
            return w[0]
        def f(w):
            a = first(w)
            return np.sum(a * w[1]) + np.sum(a * a)
    """, args="([X.copy(), Y.copy()],)"),
    P("mixed_helper_value_and_second_order", TAPED + """
        def sq(v):
            taped(v)
            return v * v
        inner = knet.grad(lambda v: np.sum(sq(v) * C))
        def f(x):
            return np.sum(inner(x) * x)
    """),
    P("mixed_helper_int_result_used_as_index", TAPED + """
        def pick(v):
            taped(v)
            return int(np.argmax(v))
        def f(x):
            return x[pick(x)] * 3 + np.sum(x)
    """),
    P("mixed_helper_float_result", TAPED + """
        def norm(v):
            taped(v)
            return float(np.sqrt(np.sum(v * v)))
        def f(x):
            return np.sum(x) * norm(x)
    """),
    P("mixed_helper_scalar_box_result", TAPED + """
        def norm(v):
            taped(v)
            return np.sqrt(np.sum(v * v))
        def f(x):
            return np.sum(x) * norm(x)
    """),
    P("mixed_helper_called_with_element", TAPED + """
        def cube(s):
            taped(s)
            return s ** 3
        def f(x):
            return cube(x[0]) + cube(x[2]) * 2
    """),
]
