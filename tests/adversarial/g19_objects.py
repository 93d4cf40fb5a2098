"""Beyond the groups: objects. User classes with operators, properties, ``__getitem__``;
NumPy subclasses whose operators mean something else (``np.matrix``: ``*`` is a matrix
product; masked arrays); mutable default arguments that carry state from call to call;
class-level caches. (Differentiating with respect to an object knetc has no structure for
is an error naming the argument and its type: there is no line to name, so ``where`` asks
for those instead.)
"""
from .program import P

PROGRAMS = [
    P("user_vector_class_add_mul", """
        class Vec:
            def __init__(self, v):
                self.v = v
            def __add__(self, other):
                return Vec(self.v + other.v)
            def __mul__(self, k):
                return Vec(self.v * k)
            def total(self):
                return np.sum(self.v * C)
        def f(x):
            a = Vec(np.sin(x))
            b = Vec(x * x)
            return (a + b * 2.0).total()
    """),
    P("user_class_radd_with_array", """
        class Shift:
            def __init__(self, s):
                self.s = s
            def __radd__(self, other):
                return other + self.s * 3.0
        def f(x):
            return np.sum((x + Shift(np.tanh(x[0]))) * C)
    """),
    P("property_computes_from_traced", """
        class Layer:
            def __init__(self, w):
                self.w = w
            @property
            def w2(self):
                return self.w * self.w
        def f(x):
            return np.sum(Layer(x).w2 * C)
    """),
    P("getitem_object", """
        class Params:
            def __init__(self, v):
                self.v = v
            def __getitem__(self, i):
                return self.v[i] * (i + 1)
        def f(x):
            p = Params(x)
            return p[0] + p[2] * p[1]
    """),
    P("callable_layer_objects_chain", """
        class Dense:
            def __init__(self, k):
                self.k = k
            def __call__(self, z):
                return np.tanh(z * self.k)
        LAYERS = [Dense(0.5), Dense(-1.5)]
        def f(x):
            for layer in LAYERS:
                x = layer(x)
            return np.sum(x * C)
    """),
    P("np_matrix_star_is_matmul", """
        def f(x):
            m = np.asmatrix(np.outer(x, C))
            return float(np.sum(m * np.asmatrix(M)))
    """),
    P("np_matrix_power", """
        def f(x):
            m = np.asmatrix(np.outer(x, C) + np.eye(3))
            return float(np.sum(m ** 2))
    """),
    P("masked_array_sum", """
        def f(x):
            a = np.ma.array(x * C, mask=[False, True, False])
            return float(np.ma.sum(a ** 2))
    """),
    P("ndarray_subclass_view", """
        class Tagged(np.ndarray):
            pass
        def f(x):
            t = (x * 2.0).view(Tagged)
            return float(np.sum(np.sin(t) * C))
    """),
    P("mutable_default_accumulates_across_calls", """
        def remember(v, seen=[]):
            seen.append(v)
            return seen[-1]
        def f(x):
            return np.sum(remember(x * 2.0) * C)
    """),
    P("mutable_default_read_old_entry", """
        def remember(v, seen=[]):
            seen.append(v)
            return seen[0] * 0.0 + seen[-1]
        def f(x):
            return np.sum(remember(np.sin(x)) * C)
    """),
    P("class_level_cache_of_traced", """
        class Memo:
            cache = {}
        def f(x):
            Memo.cache["h"] = np.tanh(x)
            return np.sum(Memo.cache["h"] * C)
    """),
    P("dataclass_method_uses_fields", """
        @dataclasses.dataclass
        class Affine:
            w: object
            b: float = 0.1
            def __call__(self, z):
                return z * self.w + self.b
        def f(x):
            return np.sum(np.tanh(Affine(x)(C)))
    """),
    P("dataclass_param_wrt", """
        @dataclasses.dataclass
        class Params:
            w: object
        def f(p):
            return np.sum(np.sin(p.w) * C)
    """, args="(Params(X.copy()),)", where=r"with respect to (?:argument 0 \()?p\b.*type Params"),
    P("simple_namespace_param_wrt", """
        import types
        def f(p):
            return np.sum(np.sin(p.w) * C)
    """, args="(types.SimpleNamespace(w=X.copy()),)",
       where=r"with respect to (?:argument 0 \()?p\b.*type SimpleNamespace"),
    P("inheritance_method_override", """
        class Base:
            def act(self, z):
                return np.tanh(z)
            def loss(self, x):
                return np.sum(self.act(x) * C)
        class Child(Base):
            def act(self, z):
                return np.sin(z) * 2.0
        f = Child().loss
    """),
    P("super_call_in_method", """
        class Base:
            def act(self, z):
                return np.tanh(z)
        class Child(Base):
            def act(self, z):
                return super().act(z) * 3.0
        OBJ = Child()
        def f(x):
            return np.sum(OBJ.act(x) * C)
    """),
    P("staticmethod_called_via_instance", """
        class Ops:
            @staticmethod
            def sq(z):
                return z * z
        O = Ops()
        def f(x):
            return np.sum(O.sq(x) * C)
    """),
    P("functools_reduce_over_list", """
        def f(x):
            return functools.reduce(lambda a, b: a * b + 1.0, [x[0], x[1], x[2]])
    """),
    P("np_vectorize_python_function", """
        def f(x):
            g = np.vectorize(lambda t: t * t + 1.0)
            return np.sum(g(x) * C)
    """),
    P("operator_module_functions", """
        def f(x):
            return np.sum(operator.mul(x, C)) + operator.add(x[0], x[1]) * operator.neg(x[2])
    """),
    P("itertools_accumulate", """
        def f(x):
            parts = list(itertools.accumulate([x[0], x[1], x[2]]))
            return parts[0] + 2.0 * parts[1] + 3.0 * parts[2]
    """),
    P("enum_like_constants_class", """
        class K:
            A = 2.0
            B = -1.0
        def f(x):
            return np.sum(x * K.A + np.sin(x) * K.B)
    """),
    P("getattr_dynamic_function_name", """
        def f(x):
            return np.sum(getattr(np, "tanh")(x) * C)
    """),
    P("eval_inside_loss", """
        def f(x):
            return eval("np.sum(np.sin(x) * C)")
    """),
]
