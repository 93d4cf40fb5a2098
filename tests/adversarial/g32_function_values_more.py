"""Group 32: more function values (session 7, after g26's findings).

Function values held in containers, returned by helpers, chosen by a branch, passed as
arguments, stored as attributes and defaults; each either pure or writing somewhere the
caller reads afterwards (its closure, ``self``, a global, an argument, a cell of a sibling).
"""
from .program import P

PROGRAMS = [
    P("fn_from_list_pure", """
        def f(x):
            fs = [np.sin, np.tanh]
            return np.sum(fs[1](x) * C)
    """),
    P("fn_from_dict_pure", """
        ACTS = {"a": np.tanh, "b": lambda v: v ** 2}
        def f(x):
            g = ACTS["b"]
            return np.sum(g(x) * C)
    """),
    P("fn_from_dict_writes_global", """
        SEEN = []
        def rec(v):
            SEEN.append(v)
            return v * 2
        TABLE = {"r": rec}
        def f(x):
            SEEN.clear()
            g = TABLE["r"]
            g(x)
            return np.sum(SEEN[0] * x)
    """),
    P("fn_chosen_by_branch_writes", """
        def make():
            box = [0.0]
            def put(v):
                box[0] = v * 3
                return 0.0
            def get():
                return box[0]
            return put, get
        def f(x):
            put, get = make()
            h = put if x[0] > 0 else (lambda v: 0.0)
            h(x[1])
            return get() + x[2]
    """),
    P("fn_argument_writes_its_argument_array", """
        def scale_in_place(v):
            v *= 2.0
            return None
        def f(x, op=scale_in_place):
            y = x * 1.0
            op(y)
            return np.sum(y * C)
    """),
    P("fn_argument_writes_its_argument_list", """
        def push(l, v):
            l.append(v * 3)
        def f(x, op=push):
            l = []
            op(l, x)
            return np.sum(l[0] * C)
    """),
    P("fn_attribute_writes_self", """
        class Net:
            def __init__(self):
                self.h = None
            def step(self, v):
                self.h = np.tanh(v)
                return self.h
        net = Net()
        def f(x):
            run = net.step
            run(x)
            return np.sum(net.h * C)
    """),
    P("fn_default_argument_value", """
        def f(x, act=np.tanh):
            return np.sum(act(x) * C)
    """),
    P("fn_lambda_in_default_captures_global_list", """
        LOG = []
        def f(x, hook=lambda v: LOG.append(v)):
            LOG.clear()
            hook(x * 2)
            return np.sum(LOG[0] * x)
    """),
    P("sibling_closures_share_cell", """
        def make():
            state = {"v": 1.0}
            def setv(v):
                state["v"] = v
            def scaled(v):
                return v * state["v"]
            return setv, scaled
        def f(x):
            setv, scaled = make()
            setv(x[0] * 2)
            return np.sum(scaled(x))
    """),
    P("generator_function_value", """
        def gen(v):
            for i in range(3):
                yield v[i] * (i + 1)
        def f(x, g=gen):
            return sum(g(x))
    """),
    P("fn_returns_fn_applies", """
        def compose(a, b):
            return lambda v: a(b(v))
        def f(x):
            h = compose(np.sin, np.tanh)
            return np.sum(h(x) * C)
    """),
    P("fn_closure_over_differentiated_called", """
        def f(x):
            g = lambda v: v * x
            return np.sum(g(C))
    """),
    P("fn_partial_over_differentiated", """
        def mul(a, b):
            return a * b
        def f(x):
            g = functools.partial(mul, x)
            return np.sum(g(C) ** 2)
    """),
    P("fn_stored_in_list_then_called_in_loop", """
        def f(x):
            hs = []
            fs = [lambda v: v * 2, lambda v: np.sin(v)]
            for g in fs:
                hs.append(g(x))
            return np.sum(hs[0] * hs[1])
    """),
    P("fn_method_of_local_list", """
        def f(x):
            l = []
            add = l.append
            add(x * 2)
            add(x * 3)
            return np.sum(l[0] * l[1])
    """),
    P("fn_method_of_local_dict", """
        def f(x):
            d = {}
            put = d.__setitem__
            put("a", x * 2)
            return np.sum(d["a"] * x)
    """),
    P("fn_setdefault_bound", """
        def f(x):
            d = {}
            sd = d.setdefault
            sd("a", x * 4)
            return np.sum(d["a"] * C)
    """),
    P("fn_bound_numpy_method_of_local", """
        def f(x):
            y = x * 2.0
            s = y.sum
            return s() * 3 + np.sum(y)
    """),
    P("fn_bound_numpy_inplace_method", """
        def f(x):
            y = x * 2.0
            fill = y.fill
            fill(1.0)
            return np.sum(y * x)
    """),
    P("fn_operator_module_inplace", """
        def f(x):
            y = x * 2.0
            z = operator.iadd(y, x)
            return np.sum(y * C) + np.sum(z)
    """),
    P("fn_operator_setitem", """
        def f(x):
            y = x * 2.0
            operator.setitem(y, 0, x[2] * 5)
            return np.sum(y * C)
    """),
    P("fn_setattr_builtin_on_local", """
        import types
        def f(x):
            o = types.SimpleNamespace(w=x)
            setattr(o, "w", x * 3)
            return np.sum(o.w * C)
    """),
    P("fn_getattr_builtin_method", """
        def f(x):
            l = [x * 2]
            getattr(l, "append")(x * 5)
            return np.sum(l[1] * C)
    """),
    P("fn_vars_dict_write", """
        import types
        def f(x):
            o = types.SimpleNamespace(w=x)
            vars(o)["w"] = x * 7
            return np.sum(o.w * C)
    """),
]
