"""Group 12: a helper returns a closure over a differentiated value.

``scale_by(a)`` returning ``lambda x: x * a``, curried helpers, returned nested defs,
``functools.partial`` over a traced value, closures stored in lists or dicts, methods bound
to objects that hold traced values.
"""
from .program import P

PROGRAMS = [
    P("scale_by_lambda", """
        def scale_by(a):
            return lambda x: x * a
        def f(a):
            return scale_by(a)(3.0)
    """, args="(2.0,)"),
    P("scale_by_lambda_array", """
        def scale_by(a):
            return lambda z: z * a
        def f(x):
            return np.sum(scale_by(x)(C) ** 2)
    """),
    P("returned_nested_def", """
        def make_layer(w):
            def layer(z):
                return np.tanh(z * w)
            return layer
        def f(w):
            layer = make_layer(w)
            return np.sum(layer(C))
    """),
    P("returned_closure_applied_twice", """
        def make(w):
            def step(z):
                return np.sin(z) * w
            return step
        def f(w):
            s = make(w)
            return np.sum(s(s(C)))
    """),
    P("curried_helper", """
        def add(a):
            def inner(b):
                return a * b + b
            return inner
        def f(x):
            return np.sum(add(x)(C) * x)
    """),
    P("closure_over_two_traced", """
        def make(a, b):
            return lambda z: a * z + b
        def f(x):
            g = make(x[0], x[1])
            return g(2.0) * g(x[2])
    """),
    P("partial_over_traced", """
        def affine(a, z):
            return a * z + 1.0
        def f(x):
            g = functools.partial(affine, x)
            return np.sum(g(C) ** 2)
    """),
    P("closures_in_list", """
        def make(a):
            return lambda z: z * a
        def f(x):
            fs = [make(x[0]), make(x[1])]
            return fs[0](2.0) + fs[1](3.0)
    """),
    P("closures_in_dict", """
        def make(a):
            return lambda z: z ** 2 * a
        def f(x):
            fs = {"p": make(x[0]), "q": make(x[2])}
            return fs["p"](2.0) + fs["q"](C[1])
    """),
    P("closure_returned_from_loop", """
        def f(x):
            fs = []
            for k in range(3):
                fs.append(lambda z, k=k: z * x[k])
            return fs[0](1.0) + fs[2](5.0)
    """),
    P("closure_late_binding_loop", """
        def f(x):
            fs = []
            for k in range(3):
                fs.append(lambda z: z * x[k])
            return fs[0](1.0) + fs[1](5.0)
    """),
    P("nested_def_closes_over_traced_local", """
        def f(x):
            h = np.sin(x)
            def g(z):
                return z * h
            return np.sum(g(C))
    """),
    P("nested_def_returns_closure_over_arg", """
        def f(x):
            def make(a):
                def g(z):
                    return z * a
                return g
            return np.sum(make(x ** 2)(C))
    """),
    P("object_holding_traced_value", """
        class Affine:
            def __init__(self, w):
                self.w = w
            def __call__(self, z):
                return z * self.w
        def f(x):
            layer = Affine(x)
            return np.sum(layer(C) ** 2)
    """),
    P("object_method_over_traced", """
        class Affine:
            def __init__(self, w):
                self.w = w
            def apply(self, z):
                return np.tanh(z * self.w)
        def f(x):
            return np.sum(Affine(x).apply(C))
    """),
    P("dataclass_holding_traced", """
        @dataclasses.dataclass
        class Layer:
            w: object
            b: float = 0.5
        def f(x):
            l = Layer(x)
            return np.sum(np.tanh(l.w * C + l.b))
    """),
    P("grad_inside_loss", """
        def inner(z):
            return np.sum(np.sin(z) * C)
        def f(x):
            g = knet.grad(inner)(x)
            return np.sum(g * x)
    """),
    P("grad_of_closure_inside_loss", """
        def f(x):
            def inner(z):
                return np.sum(z * z * x)
            g = knet.grad(inner)(C)
            return np.sum(g)
    """),
    P("lambda_default_traced", """
        def f(x):
            g = lambda z, a=x: z * a
            return np.sum(g(C) ** 2)
    """),
    P("decorator_factory_over_traced", """
        def scaled_by(a):
            def deco(fn):
                def w(z):
                    return fn(z) * a
                return w
            return deco
        def f(x):
            @scaled_by(x[0])
            def g(z):
                return z ** 2
            return g(3.0) + x[1]
    """),
    P("closure_over_list_of_traced", """
        def f(x):
            ws = [x[0], x[1]]
            g = lambda z: ws[0] * z + ws[1]
            ws[1] = x[2] * 5.0
            return g(2.0)
    """),
    P("compose_two_returned_closures", """
        def mul(a):
            return lambda z: z * a
        def add(b):
            return lambda z: z + b
        def f(x):
            g1, g2 = mul(x[0]), add(x[1])
            return g2(g1(3.0)) * g1(x[2])
    """),
    P("partial_with_traced_keyword", """
        def affine(z, a=1.0, b=0.0):
            return z * a + b
        def f(x):
            g = functools.partial(affine, a=x[0], b=x[1])
            return np.sum(g(C) ** 2)
    """),
    P("closure_returned_and_stored_in_object", """
        class Holder:
            pass
        def make(a):
            return lambda z: np.tanh(z * a)
        def f(x):
            h = Holder()
            h.fn = make(x)
            return np.sum(h.fn(C))
    """),
    P("closure_over_loop_accumulator", """
        def f(x):
            total = x * 0.0
            fs = []
            for k in range(3):
                total = total + x * (k + 1)
                fs.append(lambda z, t=total: np.sum(z * t))
            return fs[0](C) + fs[2](C)
    """),
    P("generator_expression_over_closure", """
        def f(x):
            scale = lambda z: z * x[0]
            return sum(scale(c) for c in (1.0, 2.0, 3.0)) + x[1]
    """),
    P("recursive_closure", """
        def f(x):
            def power(z, n):
                return z if n == 1 else z * power(z, n - 1)
            return np.sum(power(x, 3) * C)
    """),
]
