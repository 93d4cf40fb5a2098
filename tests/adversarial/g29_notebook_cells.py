"""Group 29: notebooks, as people use them (session 7).

Cells that redefine a class whose instances live on, a helper imported by name before its
module changes, ``importlib.reload``, a loss redefined under the name a gradient object was
made from, a registry of layers filled by a decorator and changed by a later cell, a
constant rebound by ``exec`` in a cell, a helper that becomes a lambda, a ``defvjp`` rule
registered in a later cell for a function already compiled without one.
"""
from .program import P

PROGRAMS = [
    P("class_redefined_old_instance", """
        class Layer:
            def __init__(self):
                self.s = 2.0
            def __call__(self, v):
                return v * self.s
        layer = Layer()
        def f(x):
            return np.sum(layer(x) * x)
        def change():
            cell('''
                class Layer:
                    def __init__(self):
                        self.s = 5.0
                    def __call__(self, v):
                        return np.sin(v) * self.s
            ''')
    """, mutate="change"),
    P("class_redefined_new_instance", """
        class Layer:
            def __call__(self, v):
                return v * 2.0
        def f(x):
            return np.sum(Layer()(x) * x)
        def change():
            cell('''
                class Layer:
                    def __call__(self, v):
                        return np.sin(v) * 3.0
            ''')
    """, mutate="change"),
    P("loss_redefined_grad_object_kept", """
        def f(x):
            return np.sum(x * x)
        def change():
            cell('''
                def f(x):
                    return np.sum(np.sin(x))
            ''')
    """, mutate="change"),
    P("registry_by_decorator", """
        LAYERS = {}
        def register(name):
            def deco(fn):
                LAYERS[name] = fn
                return fn
            return deco
        @register("act")
        def act(v):
            return np.tanh(v)
        def f(x):
            return np.sum(LAYERS["act"](x) * C)
        def change():
            cell('''
                @register("act")
                def act2(v):
                    return v ** 3
            ''')
    """, mutate="change"),
    P("constant_rebound_by_exec_cell", """
        SCALE = 2.0
        def f(x):
            return np.sum(x * x * SCALE)
        def change():
            cell("SCALE = -4.0")
    """, mutate="change"),
    P("helper_becomes_lambda", """
        def h(v):
            return v * 2.0
        def f(x):
            return np.sum(h(x) * x)
        def change():
            cell("h = lambda v: np.exp(v)")
    """, mutate="change"),
    P("helper_becomes_primitive", """
        def h(v):
            return v * 2.0
        def f(x):
            return np.sum(h(x) * x)
        def change():
            cell('''
                @knet.primitive
                def h(v):
                    return v * 3.0
                knet.defvjp(h, lambda g, ans, v: g * 3.0)
            ''')
    """, mutate="change"),
    P("defvjp_registered_later", """
        def h(v):
            return v * v
        def f(x):
            return np.sum(h(x) * C)
        def change():
            cell('''
                h2 = knet.primitive(h)
                knet.defvjp(h2, lambda g, ans, v: g * 2 * v)
                h = h2
            ''')
    """, mutate="change"),
    P("imported_helper_module_changed", """
        import types
        mod = types.ModuleType("helpers_mod")
        exec_src = "import numpy as np\\ndef h(v):\\n    return v * 2.0\\n"
        cell_ns = mod.__dict__
        cell(exec_src, cell_ns)
        h = mod.h
        def f(x):
            return np.sum(h(x) * x) + np.sum(mod.h(x))
        def change():
            cell('''
                def h(v):
                    return np.sin(v)
            ''', mod.__dict__)
    """, mutate="change"),
    P("global_function_list_changed", """
        ACTS = [np.tanh, np.sin]
        def f(x):
            y = x
            for a in ACTS:
                y = a(y)
            return np.sum(y * C)
        def change():
            ACTS.append(np.cos)
    """, mutate="change"),
    P("global_dict_of_params_changed", """
        P_ = {"w": C.copy()}
        def f(x):
            return np.sum(np.tanh(x * P_["w"]))
        def change():
            P_["w"] = C * -2.0
    """, mutate="change"),
    P("global_int_loop_count_changed", """
        N = 2
        def f(x):
            y = x
            for _ in range(N):
                y = np.sin(y) + y
            return np.sum(y)
        def change():
            global N
            N = 4
    """, mutate="change"),
    P("global_bool_branch_changed", """
        USE_TANH = True
        def f(x):
            if USE_TANH:
                return np.sum(np.tanh(x))
            return np.sum(x ** 3)
        def change():
            global USE_TANH
            USE_TANH = False
    """, mutate="change"),
    P("global_shape_constant_changed", """
        K = 2
        def f(x):
            return np.sum(x[:K] * C[:K])
        def change():
            global K
            K = 3
    """, mutate="change"),
    P("nested_helper_chain_redefined", """
        def inner(v):
            return v * 2.0
        def outer(v):
            return inner(v) + v
        def f(x):
            return np.sum(outer(x) * x)
        def change():
            cell('''
                def inner(v):
                    return np.cos(v)
            ''')
    """, mutate="change"),
    P("method_redefined_on_class", """
        class Net:
            def act(self, v):
                return np.tanh(v)
        net = Net()
        def f(x):
            return np.sum(net.act(x) * C)
        def change():
            cell('''
                def _act(self, v):
                    return v ** 3
                Net.act = _act
            ''')
    """, mutate="change"),
    P("instance_method_monkeypatched", """
        class Net:
            def act(self, v):
                return np.tanh(v)
        net = Net()
        def f(x):
            return np.sum(net.act(x) * C)
        def change():
            net.act = lambda v: np.sin(v) * 2
    """, mutate="change"),
    P("np_function_monkeypatched_in_module", """
        def f(x):
            return np.sum(np.tanh(x) * C)
        def change():
            import types
            global np
            real = np
            np = types.SimpleNamespace(**{k: getattr(real, k) for k in ("sum", "array")})
            np.tanh = real.sin
    """, mutate="change"),
    P("closure_factory_recalled", """
        def make(s):
            def h(v):
                return v * s
            return h
        h = make(2.0)
        def f(x):
            return np.sum(h(x) * x)
        def change():
            global h
            h = make(-3.0)
    """, mutate="change"),
    P("global_array_replaced_same_shape", """
        W = C.copy()
        def f(x):
            return np.sum(np.sin(x * W))
        def change():
            global W
            W = C[::-1].copy()
    """, mutate="change"),
    P("global_array_written_in_place", """
        W = C.copy()
        def f(x):
            return np.sum(np.sin(x * W))
        def change():
            W[:] = [-1.0, 0.5, 2.0]
    """, mutate="change"),
]
