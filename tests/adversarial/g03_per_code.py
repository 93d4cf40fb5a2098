"""Group 3: caches keyed by the code object alone (tape fallback, signature cache).

Two closures from one factory, defaults bound at definition time, bound methods of two
instances, functions made in a loop: one code object, different behaviour.
"""
from .program import P

PROGRAMS = [
    P("factory_two_closures_second", """
        def make(k):
            def loss(x):
                return np.sum(np.sin(x) * k)
            return loss
        first = make(1.0)
        f = make(5.0)
        def mutate():
            pass
    """, args="(X.copy(),)", mutate=()),
    P("factory_two_closures_interleaved", """
        def make(k):
            def loss(x):
                return np.sum(np.sin(x) * k)
            return loss
        a = make(1.0)
        b = make(-4.0)
        def f(x):
            return knet.grad(a)(x)[0] * 0.0 + np.sum(x)     # compile a's gradient inside f? no: plain
        def ga(x):
            return a(x)
        def gb(x):
            return b(x)
    """, fun="gb"),
    P("factory_closures_gradients_both", """
        def make(k):
            return lambda x: np.sum(np.tanh(x) * k)
        LOSSES = [make(1.0), make(3.0), make(-2.0)]
        _warm = [knet.grad(l)(X) for l in LOSSES[:2]]
        f = LOSSES[2]
    """),
    P("factory_closure_taped_first", """
        def make(k):
            def loss(x):
                try:
                    return np.sum(np.sin(x) * k)
                finally:
                    pass
            return loss
        _warm = knet.grad(make(1.0))(X)
        f = make(5.0)
    """),
    P("factory_closure_taped_first_tape_mode", """
        def make(k):
            def loss(x):
                return np.sum(np.sin(x) * k)
            return loss
        _warm = knet.grad(make(1.0), mode="tape")(X)
        f = make(5.0)
    """),
    P("factory_closure_over_array", """
        def make(w):
            def loss(x):
                return np.sum(np.tanh(x * w))
            return loss
        _warm = knet.grad(make(np.ones(3)))(X)
        f = make(np.array([2.0, -3.0, 0.5]))
    """),
    P("factory_closure_over_function", """
        def make(act):
            def loss(x):
                return np.sum(act(x) * C)
            return loss
        _warm = knet.grad(make(np.tanh))(X)
        f = make(np.sin)
    """),
    P("factory_closure_over_int_loop_count", """
        def make(n):
            def loss(x):
                y = x
                for i in range(n):
                    y = np.sin(y) * 1.5
                return np.sum(y)
            return loss
        _warm = knet.grad(make(1))(X)
        f = make(3)
    """),
    P("factory_closure_over_bool", """
        def make(flag):
            def loss(x):
                if flag:
                    return np.sum(np.sin(x))
                return np.sum(np.exp(x) * C)
            return loss
        _warm = knet.grad(make(True))(X)
        f = make(False)
    """),
    P("factory_helper_closure_called", """
        def make(k):
            def h(z):
                return z * k
            return h
        H1 = make(1.0)
        H2 = make(7.0)
        def g1(x):
            return np.sum(H1(x) ** 2)
        def f(x):
            return np.sum(H2(x) ** 2)
        _warm = knet.grad(g1)(X)
    """),
    P("default_bound_at_def_time_twice", """
        LAYERS = []
        for s in (1.0, 4.0):
            def layer(z, k=s):
                return np.tanh(z * k)
            LAYERS.append(layer)
        _warm = knet.grad(lambda x: np.sum(LAYERS[0](x)))(X)
        def f(x):
            return np.sum(LAYERS[1](x) * C)
    """),
    P("default_bound_at_def_time_direct", """
        FS = []
        for s in (1.0, 4.0):
            def loss(x, k=s):
                return np.sum(np.tanh(x * k))
            FS.append(loss)
        _warm = knet.grad(FS[0])(X)
        f = FS[1]
    """),
    P("default_bound_lambda_loop", """
        FS = [lambda x, k=k: np.sum(np.sin(x) * k) for k in (1.0, 2.0, -3.0)]
        _warm = [knet.grad(g)(X) for g in FS[:2]]
        f = FS[2]
    """),
    P("default_array_bound", """
        FS = []
        for w in (np.ones(3), C * 2.0):
            def loss(x, w=w):
                return np.sum(np.sin(x) * w)
            FS.append(loss)
        _warm = knet.grad(FS[0])(X)
        f = FS[1]
    """),
    P("kwdefaults_two_functions", """
        FS = []
        for s in (1.0, 3.0):
            def loss(x, *, k=s):
                return np.sum(x * x * k)
            FS.append(loss)
        _warm = knet.grad(FS[0])(X)
        f = FS[1]
    """),
    P("bound_methods_two_instances", """
        class Model:
            def __init__(self, w):
                self.w = w
            def loss(self, x):
                return np.sum(np.tanh(x * self.w))
        m1 = Model(np.ones(3))
        m2 = Model(np.array([2.0, -1.0, 3.0]))
        _warm = knet.grad(m1.loss)(X)
        f = m2.loss
    """),
    P("bound_methods_two_instances_helper", """
        class Model:
            def __init__(self, k):
                self.k = k
            def act(self, z):
                return np.sin(z) * self.k
        m1, m2 = Model(1.0), Model(-6.0)
        def g1(x):
            return np.sum(m1.act(x))
        def f(x):
            return np.sum(m2.act(x))
        _warm = knet.grad(g1)(X)
    """),
    P("bound_method_instance_attr_changes", """
        class Model:
            def __init__(self):
                self.w = np.ones(3)
            def loss(self, x):
                return np.sum(np.tanh(x * self.w))
        m = Model()
        f = m.loss
        def mutate():
            m.w = np.array([3.0, -2.0, 0.5])
    """, mutate="mutate"),
    P("bound_method_weights_argument", """
        class Model:
            def __init__(self, b):
                self.b = b
            def loss(self, w):
                return np.sum(np.tanh(w * X + self.b))
        m1, m2 = Model(0.0), Model(1.5)
        _warm = knet.grad(m1.loss)(X)
        f = m2.loss
    """),
    P("callable_object_instances", """
        class Loss:
            def __init__(self, k):
                self.k = k
            def __call__(self, x):
                return np.sum(np.sin(x) * self.k)
        _warm = knet.grad(Loss(1.0))(X)
        f = Loss(-3.0)
    """),
    P("same_code_different_globals", """
        SRC = "def loss(x):\\n    return np.sum(np.sin(x) * K)\\n"
        def build(k):
            ns = {"np": np, "K": k}
            name = f"<factory-{k}>"
            linecache.cache[name] = (len(SRC), None, SRC.splitlines(True), name)
            exec(compile(SRC, name, "exec"), ns)
            return ns["loss"]
        _warm = knet.grad(build(1.0))(X)
        f = build(4.0)
    """, where=r"(?:{file}|<factory-[^>]*>):\d+"),
    P("copied_function_new_globals", """
        import types
        def loss(x):
            return np.sum(np.sin(x) * K)
        K = 1.0
        _warm = knet.grad(loss)(X)
        f = types.FunctionType(loss.__code__, {"np": np, "K": 5.0}, "loss")
    """),
    P("copied_function_new_closure", """
        import types
        def make(k):
            def loss(x):
                return np.sum(np.sin(x) * k)
            return loss
        base = make(1.0)
        _warm = knet.grad(base)(X)
        cell_ = types.CellType(9.0)
        f = types.FunctionType(base.__code__, base.__globals__, "loss", None, (cell_,))
    """),
    P("copied_function_new_defaults", """
        import types
        def loss(x, k=1.0):
            return np.sum(np.sin(x) * k)
        _warm = knet.grad(loss)(X)
        f = types.FunctionType(loss.__code__, loss.__globals__, "loss", (6.0,))
    """),
    P("factory_wrt_list_param", """
        def make(k):
            def loss(w):
                return np.sum(np.tanh(w[0] * k) * w[1])
            return loss
        _warm = knet.grad(make(1.0))([X, Y])
        f = make(-2.5)
    """, args="([X.copy(), Y.copy()],)"),
    P("factory_closure_mutable_list_cell", """
        def make():
            state = [1.0]
            def loss(x):
                return np.sum(np.sin(x) * state[0])
            def bump():
                state[0] = 4.0
            return loss, bump
        f, _bump = make()
        def mutate():
            _bump()
    """, mutate="mutate"),
    P("factory_two_closures_auto_plan_cache", """
        def make(k):
            def loss(x):
                return np.sum(np.tanh(x) * k)
            return loss
        F1 = make(2.0)
        G1 = knet.grad(F1)
        _warm = G1(X)
        f = make(-7.0)
    """),
    P("equal_code_objects_two_modules_defaults", """
        SRC = "g = lambda x, k=K0: np.sum(np.sin(x) * k)\\n"
        def build(k, name):
            ns = {"np": np, "K0": k}
            linecache.cache[name] = (len(SRC), None, SRC.splitlines(True), name)
            exec(compile(SRC, name, "exec"), ns)
            return ns["g"]
        _warm = knet.grad(build(1.0, "<mod-a>"))(X)
        f = build(5.0, "<mod-b>")
    """, where=r"(?:{file}|<mod-.>):\d+"),
    P("equal_code_objects_two_modules_def_defaults", """
        SRC = "def g(x, k=K0):\\n    return np.sum(np.tanh(x) * k)\\n"
        def build(k, name):
            ns = {"np": np, "K0": k}
            linecache.cache[name] = (len(SRC), None, SRC.splitlines(True), name)
            exec(compile(SRC, name, "exec"), ns)
            return ns["g"]
        _warm = knet.grad(build(1.0, "<mod-a>"), mode="tape")(X)
        f = build(-3.0, "<mod-b>")
    """, where=r"(?:{file}|<mod-.>):\d+"),
    P("equal_code_objects_two_modules_closures", """
        SRC = "def make(k):\\n    def g(x):\\n        return np.sum(np.sin(x) * k)\\n    return g\\n"
        def build(k, name):
            ns = {"np": np}
            linecache.cache[name] = (len(SRC), None, SRC.splitlines(True), name)
            exec(compile(SRC, name, "exec"), ns)
            return ns["make"](k)
        _warm = knet.grad(build(1.0, "<mod-a>"))(X)
        f = build(4.0, "<mod-b>")
    """, where=r"(?:{file}|<mod-.>):\d+"),
    P("equal_code_objects_two_modules_helper_default", """
        SRC = "def f(x):\\n    g = lambda t, k=K0: t * k\\n    return np.sum(g(x) ** 2) + np.sum(g(x, 1.0))\\n"
        def build(k, name):
            ns = {"np": np, "K0": k}
            linecache.cache[name] = (len(SRC), None, SRC.splitlines(True), name)
            exec(compile(SRC, name, "exec"), ns)
            return ns["f"]
        _warm = knet.grad(build(0.5, "<mod-a>"))(X)
        f = build(1.5, "<mod-b>")
    """, where=r"(?:{file}|<mod-.>):\d+"),
    P("equal_code_objects_two_modules_helper_global", """
        SRC = "def h(t):\\n    return t * K0\\n\\ndef f(x):\\n    return np.sum(h(x) ** 2)\\n"
        def build(k, name):
            ns = {"np": np, "K0": k}
            linecache.cache[name] = (len(SRC), None, SRC.splitlines(True), name)
            exec(compile(SRC, name, "exec"), ns)
            return ns["f"]
        _warm = knet.grad(build(0.5, "<mod-a>"))(X)
        f = build(2.5, "<mod-b>")
    """, where=r"(?:{file}|<mod-.>):\d+"),
]
