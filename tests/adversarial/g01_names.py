"""Group 1: names resolved once at compile time and cached as if they never change.

Each program rebinds something the compiled code resolved (a global function, a loop
variable's function, a config attribute, a class attribute, a helper redefined in a later
notebook cell, a default, a rule re-registered with ``defvjp``) between two gradient calls.
"""
from .program import P

PROGRAMS = [
    P("global_activation_rebound", """
        def relu(z):
            return np.maximum(z, 0.0)
        act = np.tanh
        def f(x):
            return np.sum(act(x) * C)
        def mutate():
            global act
            act = relu
    """, mutate="mutate"),
    P("global_helper_rebound_to_other_def", """
        def square(z):
            return z * z
        def cube(z):
            return z * z * z
        h = square
        def f(x):
            return np.sum(h(x) * C)
        def mutate():
            global h
            h = cube
    """, mutate="mutate"),
    P("global_constant_array_rebound", """
        W = np.array([1.0, 2.0, 3.0])
        def f(x):
            return np.sum(np.sin(x) * W)
        def mutate():
            global W
            W = np.array([-4.0, 0.5, 2.0])
    """, mutate="mutate"),
    P("global_scalar_rebound", """
        scale = 2.0
        def f(x):
            return np.sum(x ** 2) * scale
        def mutate():
            global scale
            scale = -3.0
    """, mutate="mutate"),
    P("global_ufunc_rebound_sin_cos", """
        trig = np.sin
        def f(x):
            return np.sum(trig(x * C))
        def mutate():
            global trig
            trig = np.cos
    """, mutate="mutate"),
    P("global_reduction_rebound_sum_prod", """
        red = np.sum
        def f(x):
            return red(np.tanh(x) + 2.0)
        def mutate():
            global red
            red = np.prod
    """, mutate="mutate"),
    P("loop_over_reductions", """
        def f(x):
            t = 0.0
            for red in [np.sum, np.prod, np.max]:
                t = t + red(x * C + 3.0)
            return t
    """),
    P("loop_over_activations_list", """
        ACTS = [np.tanh, np.sin, np.exp]
        def f(x):
            t = 0.0
            for a in ACTS:
                t = t + np.sum(a(x))
            return t
        def mutate():
            ACTS[1] = np.cos
    """, mutate="mutate"),
    P("config_attribute_rebound", """
        class Cfg:
            pass
        cfg = Cfg()
        cfg.act = np.tanh
        def f(x):
            return np.sum(cfg.act(x) * C)
        def mutate():
            cfg.act = np.sin
    """, mutate="mutate"),
    P("config_scalar_attribute_rebound", """
        class Cfg:
            pass
        cfg = Cfg()
        cfg.lam = 0.5
        def f(x):
            return np.sum(x * x) * cfg.lam + np.sum(x)
        def mutate():
            cfg.lam = 7.0
    """, mutate="mutate"),
    P("simple_namespace_attribute", """
        import types
        cfg = types.SimpleNamespace(act=np.tanh, p=2.0)
        def f(x):
            return np.sum(cfg.act(x) ** cfg.p)
        def mutate():
            cfg.act = np.arctan
            cfg.p = 3.0
    """, mutate="mutate"),
    P("class_attribute_rebound", """
        class Layer:
            act = staticmethod(np.tanh)
            gain = 2.0
        def f(x):
            return np.sum(Layer.act(x) * Layer.gain)
        def mutate():
            Layer.act = staticmethod(np.sin)
            Layer.gain = -1.5
    """, mutate="mutate"),
    P("dict_of_functions_entry_rebound", """
        ACT = {"h": np.tanh}
        def f(x):
            return np.sum(ACT["h"](x) * C)
        def mutate():
            ACT["h"] = np.sin
    """, mutate="mutate"),
    P("module_attribute_rebound", """
        import types
        lib = types.ModuleType("lib")
        lib.act = np.tanh
        def f(x):
            return np.sum(lib.act(x) * C)
        def mutate():
            lib.act = np.exp
    """, mutate="mutate"),
    P("notebook_helper_redefined", """
        cell('''
            def h(z):
                return np.sin(z)
        ''')
        def f(x):
            return np.sum(h(x) * C)
        def mutate():
            cell('''
                def h(z):
                    return np.cos(z) * 3.0
            ''')
    """, mutate="mutate"),
    P("notebook_helper_redefined_write_analysis", """
        cell('''
            def push(hs, z):
                hs.append(z * 2.0)
        ''')
        def f(x):
            hs = [x]
            push(hs, x)
            return np.sum(hs[-1] * C)
        def mutate():
            cell('''
                def push(hs, z):
                    hs.append(np.sin(z))
                    hs.append(z * z)
            ''')
    """, mutate="mutate"),
    P("notebook_helper_starts_mutating_arg", """
        cell('''
            def norm(v):
                return v / 2.0
        ''')
        def f(x):
            a = x * 1.0
            b = norm(a)
            return np.sum(a * x) + np.sum(b)
        def mutate():
            cell('''
                def norm(v):
                    v *= 3.0
                    return v
            ''')
    """, mutate="mutate"),
    P("notebook_loss_redefined_same_name", """
        cell('''
            def f(x):
                return np.sum(np.sin(x))
        ''')
        def mutate():
            cell('''
                def f(x):
                    return np.sum(np.exp(x) * C)
            ''')
    """, mutate="mutate"),
    P("defvjp_registered_after_first_call", """
        @knet.primitive
        def mysq(z):
            return z * z * SCALE[0]
        SCALE = [1.0]
        knet.defvjp(mysq, lambda g, ans, z: g * 2.0 * z)
        def f(x):
            return np.sum(mysq(x) * C)
        def mutate():
            SCALE[0] = 3.0
            knet.defvjp(mysq, lambda g, ans, z: g * 6.0 * z)
    """, mutate="mutate"),
    P("defvjp_rule_changed_with_function", """
        def _impl2(z):
            return z * z * z
        @knet.primitive
        def op(z):
            return STATE[0](z)
        STATE = [lambda z: z * z]
        knet.defvjp(op, lambda g, ans, z: g * 2.0 * z)
        def f(x):
            return np.sum(op(x) * C)
        def mutate():
            STATE[0] = _impl2
            knet.defvjp(op, lambda g, ans, z: g * 3.0 * z * z)
    """, mutate="mutate"),
    P("default_argument_rebound_via_defaults", """
        def layer(z, k=2.0):
            return z * k
        def f(x):
            return np.sum(layer(x) ** 2)
        def mutate():
            layer.__defaults__ = (5.0,)
    """, mutate="mutate"),
    P("function_code_replaced", """
        def h(z):
            return np.sin(z)
        def _other(z):
            return np.exp(z)
        def f(x):
            return np.sum(h(x) * C)
        def mutate():
            h.__code__ = _other.__code__
    """, mutate="mutate"),
    P("loss_code_replaced", """
        def f(x):
            return np.sum(np.sin(x))
        def _other(x):
            return np.sum(np.exp(x) * C)
        def mutate():
            f.__code__ = _other.__code__
    """, mutate="mutate"),
    P("numpy_alias_name_rebound", """
        npx = np
        def f(x):
            return npx.sum(npx.tanh(x) * C)
        class _Fake:
            tanh = staticmethod(np.sin)
            sum = staticmethod(np.sum)
        def mutate():
            global npx
            npx = _Fake
    """, mutate="mutate"),
    P("global_list_of_weights_rebound", """
        WS = [1.0, 2.0]
        def f(x):
            t = 0.0
            for w in WS:
                t = t + np.sum(np.sin(x * w))
            return t
        def mutate():
            WS.append(-3.0)
    """, mutate="mutate"),
    P("global_int_exponent_rebound", """
        K = 2
        def f(x):
            return np.sum(x ** K * C)
        def mutate():
            global K
            K = 3
    """, mutate="mutate"),
    P("global_bool_branch_rebound", """
        USE_SIN = True
        def f(x):
            if USE_SIN:
                return np.sum(np.sin(x))
            return np.sum(np.exp(x) * C)
        def mutate():
            global USE_SIN
            USE_SIN = False
    """, mutate="mutate"),
    P("global_range_length_rebound", """
        N = 2
        def f(x):
            y = x
            for i in range(N):
                y = np.tanh(y) * C
            return np.sum(y)
        def mutate():
            global N
            N = 4
    """, mutate="mutate"),
    P("helper_default_is_a_global_function", """
        def apply(z, act=np.tanh):
            return act(z)
        def f(x):
            return np.sum(apply(x) * C)
        def mutate():
            apply.__defaults__ = (np.sin,)
    """, mutate="mutate"),
    P("closure_cell_rebound", """
        def make():
            act = np.tanh
            def f(x):
                return np.sum(act(x) * C)
            def rebind():
                nonlocal act
                act = np.sin
            return f, rebind
        f, _rebind = make()
        def mutate():
            _rebind()
    """, mutate="mutate"),
    P("closure_cell_scalar_rebound", """
        def make():
            k = 2.0
            def f(x):
                return np.sum(np.sin(x) * k)
            def rebind():
                nonlocal k
                k = -5.0
            return f, rebind
        f, _rebind = make()
        def mutate():
            _rebind()
    """, mutate="mutate"),
    P("builtin_shadowed_later", """
        def f(x):
            return sum([np.sin(x[0]), x[1] * 2.0, x[2]])
        def mutate():
            global sum
            sum = lambda xs: xs[0] * xs[1] + xs[2]
    """, mutate="mutate"),
    P("math_module_attribute_swapped", """
        import types
        m = types.SimpleNamespace(f=math.sin)
        def f(x):
            return m.f(x[0]) + 2.0 * x[1]
        def mutate():
            m.f = math.exp
    """, mutate="mutate"),
    P("instance_method_replaced_on_class", """
        class Net:
            def act(self, z):
                return np.tanh(z)
        net = Net()
        def f(x):
            return np.sum(net.act(x) * C)
        def mutate():
            Net.act = lambda self, z: np.sin(z) * 2.0
    """, mutate="mutate"),
    P("instance_attribute_weights_rebound", """
        class Net:
            def __init__(self):
                self.w = np.array([1.0, -1.0, 0.5])
        net = Net()
        def f(x):
            return np.sum(np.tanh(x * net.w))
        def mutate():
            net.w = np.array([3.0, 2.0, -2.0])
    """, mutate="mutate"),
]
