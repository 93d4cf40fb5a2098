"""Group 23: rebinding through the back doors of Python's function objects.

Closure cells rebound by ``nonlocal`` from a sibling function, ``__defaults__`` and
``__kwdefaults__`` replaced, ``__code__`` swapped, one code object run under two globals
(``types.FunctionType(f.__code__, other)``), functions held in dicts and namespaces,
mutable defaults and closure lists updated in place. Each mutation happens between two
gradient calls; the second must see it.
"""
from .program import P

PROGRAMS = [
    P("closure_cell_rebound_by_sibling", """
        def make():
            k = 1.0
            def f(x):
                return np.sum(np.sin(x) * k)
            def set_k(v):
                nonlocal k
                k = v
            return f, set_k
        f, set_k = make()
        def mutate():
            set_k(-3.0)
    """, mutate="mutate"),
    P("closure_function_cell_rebound", """
        def make():
            act = np.tanh
            def f(x):
                return np.sum(act(x) * C)
            def set_act(a):
                nonlocal act
                act = a
            return f, set_act
        f, set_act = make()
        def mutate():
            set_act(np.sin)
    """, mutate="mutate"),
    P("closure_list_updated_in_place", """
        ks = [1.0]
        def f(x):
            return np.sum(x ** 2 * ks[0])
        def mutate():
            ks[0] = 4.0
    """, mutate="mutate"),
    P("dict_of_functions_entry_replaced", """
        ACTS = {"a": np.tanh}
        def f(x):
            act = ACTS["a"]
            return np.sum(act(x) * C)
        def mutate():
            ACTS["a"] = np.sin
    """, mutate="mutate"),
    P("namespace_function_replaced", """
        import types
        NS = types.SimpleNamespace(act=np.tanh)
        def f(x):
            return np.sum(NS.act(x) * C)
        def mutate():
            NS.act = np.cos
    """, mutate="mutate"),
    P("defaults_tuple_replaced", """
        def f(x, scale=2.0):
            return np.sum(np.sin(x) * scale)
        def mutate():
            f.__defaults__ = (-5.0,)
    """, mutate="mutate"),
    P("kwdefaults_replaced", """
        def f(x, *, power=2):
            return np.sum(x ** power)
        def mutate():
            f.__kwdefaults__ = {"power": 3}
    """, mutate="mutate"),
    P("mutable_default_updated", """
        def f(x, cfg={"k": 2.0}):
            return np.sum(np.tanh(x) * cfg["k"])
        def mutate():
            f.__defaults__[0]["k"] = 7.0
    """, mutate="mutate"),
    P("code_object_swapped", """
        def f(x):
            return np.sum(x ** 2)
        def _other(x):
            return np.sum(np.sin(x) * C)
        def mutate():
            f.__code__ = _other.__code__
    """, mutate="mutate"),
    P("helper_code_object_swapped", """
        def h(z):
            return z ** 2
        def _other(z):
            return np.sin(z) * C
        def f(x):
            return np.sum(h(x))
        def mutate():
            h.__code__ = _other.__code__
    """, mutate="mutate"),
    P("same_code_other_globals", """
        import types
        K = 2.0
        def base(x):
            return np.sum(np.sin(x) * K)
        f = base
        def mutate():
            global f
            f = types.FunctionType(base.__code__, {"np": np, "K": -4.0}, "base")
    """, mutate="mutate"),
    P("helper_same_code_other_globals", """
        import types
        K = 2.0
        def h(z):
            return z * K
        hh = h
        def f(x):
            return np.sum(np.sin(hh(x)))
        def mutate():
            global hh
            hh = types.FunctionType(h.__code__, {"np": np, "K": -4.0}, "h")
    """, mutate="mutate"),
    P("helper_closure_from_factory_changes", """
        def scale_by(a):
            def s(z):
                return z * a
            return s
        sc = scale_by(2.0)
        def f(x):
            return np.sum(np.tanh(sc(x)))
        def mutate():
            global sc
            sc = scale_by(-3.0)
    """, mutate="mutate"),
    P("method_rebound_on_class", """
        class Model:
            def act(self, z):
                return np.tanh(z)
        m = Model()
        def f(x):
            return np.sum(m.act(x) * C)
        def mutate():
            Model.act = lambda self, z: np.sin(z)
    """, mutate="mutate"),
    P("instance_method_shadowed_by_attribute", """
        class Model:
            def act(self, z):
                return np.tanh(z)
        m = Model()
        def f(x):
            return np.sum(m.act(x) * C)
        def mutate():
            m.act = lambda z: z ** 3
    """, mutate="mutate"),
    P("property_value_changes", """
        class Cfg:
            def __init__(self):
                self.k = 2.0
            @property
            def scale(self):
                return self.k * 2.0
        cfg = Cfg()
        def f(x):
            return np.sum(x ** 2) * cfg.scale
        def mutate():
            cfg.k = -1.5
    """, mutate="mutate"),
    P("module_constant_reassigned_via_globals_dict", """
        SCALE = 2.0
        def f(x):
            return np.sum(np.sin(x)) * SCALE
        def mutate():
            globals()["SCALE"] = 9.0
    """, mutate="mutate"),
    P("global_array_mutated_in_place", """
        W = np.array([1.0, 2.0, 3.0])
        def f(x):
            return np.sum(np.sin(x) * W)
        def mutate():
            W[:] = [-1.0, 0.5, 4.0]
    """, mutate="mutate"),
    P("global_int_drives_loop_count", """
        N = 2
        def f(x):
            for _ in range(N):
                x = np.sin(x)
            return np.sum(x)
        def mutate():
            global N
            N = 4
    """, mutate="mutate"),
    P("global_bool_switches_branch", """
        USE_TANH = True
        def f(x):
            if USE_TANH:
                return np.sum(np.tanh(x))
            return np.sum(x ** 3)
        def mutate():
            global USE_TANH
            USE_TANH = False
    """, mutate="mutate"),
    P("global_list_of_layers_appended", """
        LAYERS = [np.tanh]
        def f(x):
            for act in LAYERS:
                x = act(x) * 1.5
            return np.sum(x)
        def mutate():
            LAYERS.append(np.sin)
    """, mutate="mutate"),
    P("builtin_shadowed_later", """
        def f(x):
            return np.sum(x * C) + abs(x[0])
        def mutate():
            globals()["abs"] = lambda v: v ** 2
    """, mutate="mutate"),
    P("np_alias_rebound", """
        import numpy as onp
        xp = onp
        def f(x):
            return xp.sum(xp.tanh(x))
        def mutate():
            global xp
            import types
            xp = types.SimpleNamespace(sum=np.sum, tanh=np.sin)
    """, mutate="mutate"),
    P("rule_registered_for_user_primitive_changes", """
        @knet.primitive
        def sq(z):
            return z * z
        knet.defvjp(sq, lambda g, ans, z: 2.0 * g * z)
        def f(x):
            return np.sum(sq(x) * C)
        def mutate():
            knet.defvjp(sq, lambda g, ans, z: 2.0 * g * z)   # the same rule, registered again
    """, mutate="mutate"),
]
