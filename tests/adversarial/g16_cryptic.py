"""The issue's cryptic-error paragraph: programs that used to fail with an error naming
neither what nor where (methods, keyword-only parameters on the tape, partials, callable and
gradient objects, closures on the tape, grad inside grad, ``*args`` helpers, ``pop``, read-only
gradients, a helper's pullback used twice, deep recursion).
"""
from .program import P

PROGRAMS = [
    P("method_ignores_self", """
        class Net:
            def loss(self, w):
                return np.sum(np.sin(w) * C)
        NET = Net()
        f = NET.loss
    """),
    P("unbound_method_wrt_1", """
        class Net:
            def loss(self, w):
                return np.sum(np.sin(w) * C)
        NET = Net()
        f = Net.loss
    """, args="(NET, X.copy())", wrt=1),
    P("staticmethod_loss", """
        class Net:
            @staticmethod
            def loss(w):
                return np.sum(np.sin(w) * C)
        f = Net.loss
    """),
    P("classmethod_loss", """
        class Net:
            k = 3.0
            @classmethod
            def loss(cls, w):
                return np.sum(np.sin(w) * cls.k)
        f = Net.loss
    """),
    P("method_calls_method", """
        class Net:
            def act(self, z):
                return np.tanh(z)
            def loss(self, w):
                return np.sum(self.act(w) * C)
        f = Net().loss
    """),
    P("primitive_method_ignores_self", """
        class Ops:
            def sq(self, z):
                return z * z
        OPS = Ops()
        def f(x):
            return np.sum(OPS.sq(x) * C)
    """),
    P("keyword_only_param_tape", """
        def f(x, *, k=2.0):
            return np.sum(np.sin(x) * k)
    """, kwargs="{'k': 3.0}"),
    P("keyword_only_param_no_default", """
        def f(x, *, k):
            return np.sum(np.sin(x) * k)
    """, kwargs="{'k': 3.0}"),
    P("keyword_argument_to_grad_call", """
        def f(x, scale=1.0):
            return np.sum(np.sin(x) * scale)
    """, kwargs="{'scale': -2.0}"),
    P("keyword_passes_the_wrt_argument", """
        def f(x, y):
            return np.sum(np.sin(x) * y)
    """, args="(X.copy(),)", kwargs="{'y': C}"),
    P("partial_source_mode", """
        def loss(x, k):
            return np.sum(np.sin(x) * k)
        f = functools.partial(loss, k=2.0)
    """),
    P("callable_object_loss", """
        class Loss:
            def __call__(self, x):
                return np.sum(np.sin(x) * C)
        f = Loss()
    """),
    P("grad_of_grad_object_sum", """
        def base(x):
            return np.sum(np.sin(x) ** 2)
        GB = knet.grad(base)
        def f(x):
            return np.sum(GB(x) * C)
    """),
    P("grad_object_differentiated", """
        def base(x):
            return np.sum(x ** 3) 
        _g = knet.grad(base)
        f = lambda x: np.sum(_g(x))
    """),
    P("closure_on_tape_extra_args", """
        def make(k):
            def loss(x):
                try:
                    return np.sum(np.sin(x) * k)
                finally:
                    pass
            return loss
        f = make(2.0)
    """),
    P("closure_helper_on_tape", """
        def make(k):
            def h(z):
                try:
                    return z * k
                finally:
                    pass
            return h
        H = make(3.0)
        def f(x):
            return np.sum(H(x) ** 2)
    """),
    P("grad_inside_grad", """
        def inner(z):
            return np.sum(np.sin(z) * z)
        def f(x):
            return np.sum(knet.grad(inner)(x) ** 2)
    """),
    P("varargs_helper", """
        def total(*parts):
            t = 0.0
            for p in parts:
                t = t + np.sum(p)
            return t
        def f(x):
            return total(x, x ** 2, np.sin(x))
    """),
    P("varargs_helper_star_call", """
        def total(*parts):
            return sum(np.sum(p * p) for p in parts)
        def f(x):
            ps = [x, x * 2.0]
            return total(*ps)
    """),
    P("kwargs_helper", """
        def combine(**parts):
            return parts["a"] * parts["b"]
        def f(x):
            return np.sum(combine(a=x, b=np.sin(x)))
    """),
    P("varargs_loss", """
        def f(*ws):
            return np.sum(ws[0] * ws[1])
    """, args="(X.copy(), Y.copy())", wrt=(0, 1)),
    P("pop_in_loss", """
        def f(x):
            hs = [x, x * 2.0, x ** 2]
            a = hs.pop()
            b = hs.pop()
            return np.sum(a * b * C)
    """),
    P("pop_from_argument_list", """
        def f(w):
            hs = list(w)
            last = hs.pop()
            return np.sum(last * hs[0])
    """, args="([X.copy(), Y.copy()],)"),
    P("sum_axis0_gradient_writeable", """
        def f(X2):
            return np.sum(np.sum(X2, axis=0) * np.array([1.0, 2.0]))
    """, args="(A.copy(),)"),
    P("broadcast_to_gradient_writeable", """
        def f(b):
            return np.sum(A + b)
    """, args="(np.zeros((1, 2)),)"),
    P("gradient_of_linear_term_not_input_alias", """
        def f(w, x):
            return np.sum(w * x)
    """, args="(X.copy(), Y.copy())"),
    P("gradient_of_dot_not_input_alias", """
        def f(w, x):
            return np.dot(w, x)
    """, args="(X.copy(), Y.copy())"),
    P("helper_called_with_two_shapes", """
        def colsum(z):
            return np.sum(z, axis=0)
        def f(x):
            return np.sum(colsum(np.outer(x, C))) + np.sum(colsum(np.outer(x[:2], C[:2])) ** 2)
    """),
    P("helper_called_with_matrix_then_vector", """
        def sq(z):
            return z * z
        def f(x):
            return np.sum(sq(np.outer(x, C))) + np.sum(sq(x) * C)
    """),
    P("helper_called_with_float_then_array", """
        def sq(z):
            return z * z + 1.0
        def f(x):
            return sq(x[0]) + np.sum(sq(x))
    """),
    P("recursion_500_deep", """
        def down(z, n):
            if n == 0:
                return z
            return down(z * 0.999 + 0.001, n - 1)
        def f(x):
            return np.sum(down(x, 500) * C)
    """),
    P("recursion_shallow", """
        def fact(z, n):
            if n <= 1:
                return z
            return z * fact(z, n - 1)
        def f(x):
            return np.sum(fact(x, 4))
    """),
    P("mutual_recursion", """
        def even(z, n):
            return z if n == 0 else odd(np.sin(z), n - 1)
        def odd(z, n):
            return z if n == 0 else even(z * 1.1, n - 1)
        def f(x):
            return np.sum(even(x, 5) * C)
    """),
    P("loss_returns_python_int_times_array", """
        def f(x):
            return np.sum(x * C).item() if False else np.sum(x * C) * 1
    """),
    P("loss_returns_0d_array", """
        def f(x):
            return np.array(np.sum(x * C))
    """),
    P("loss_returns_1_element_array", """
        def f(x):
            return np.sum(x * C, keepdims=True)
    """),
    P("wrt_negative_index", """
        def f(a, x):
            return np.sum(np.sin(x) * a)
    """, args="(C.copy(), X.copy())", wrt=-1),
    P("wrt_float_scalar_argument", """
        def f(x, t):
            return np.sum(np.sin(x * t))
    """, args="(X.copy(), 0.7)", wrt=1),
    P("wrt_numpy_float64_scalar", """
        def f(t):
            return np.sin(t) * t
    """, args="(np.float64(0.7),)"),
    P("wrt_zero_d_array", """
        def f(t):
            return np.sin(t) * t
    """, args="(np.array(0.7),)"),
    P("generator_function_in_loss", """
        def gen(z):
            for k in range(2):
                yield z * (k + 1)
        def f(x):
            t = 0.0
            for v in gen(x):
                t = t + np.sum(v * C)
            return t
    """),
    P("try_except_in_loss", """
        def f(x):
            try:
                y = np.sin(x)
            except ValueError:
                y = x
            return np.sum(y * C)
    """),
    P("with_statement_in_loss", """
        def f(x):
            with np.errstate(all="ignore"):
                y = np.log(x * x + 1.0)
            return np.sum(y * C)
    """),
    P("match_statement", """
        def f(x):
            mode = "sin"
            match mode:
                case "sin":
                    y = np.sin(x)
                case _:
                    y = x
            return np.sum(y * C)
    """),
    P("walrus_in_loss", """
        def f(x):
            if (s := np.sum(x * C)) > -100.0:
                return s * s
            return s
    """),
    P("lambda_assigned_in_loss", """
        def f(x):
            sq = lambda z: z * z
            return np.sum(sq(x) * C)
    """),
    P("global_statement_read_only", """
        K = 3.0
        def f(x):
            global K
            return np.sum(x * K)
    """),
    P("del_statement", """
        def f(x):
            y = x * 2.0
            z = y + 1.0
            del y
            return np.sum(z * z)
    """),
    P("assert_on_traced_value", """
        def f(x):
            assert np.all(np.isfinite(x))
            return np.sum(x ** 2 * C)
    """),
    P("fstring_of_traced_value", """
        def f(x):
            s = f"{np.sum(x):.3f}"
            return np.sum(x * C) + len(s) * 0.0
    """),
    P("chained_comparison_on_data", """
        def f(x):
            if -1.0 < x[0] < 1.0:
                return np.sum(x * C)
            return np.sum(x)
    """),
]
