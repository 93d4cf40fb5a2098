"""Python idioms around differentiated values (session 4): views and in-place updates,
closures and keyword options, generators, ``functools.reduce``, ``map``/``filter``/``zip``/
``enumerate``/``sorted(key=)`` over parameters, recursion, exceptions as control flow,
``try``/``finally``, context managers, ``global``, class attributes changed between calls,
``np.vectorize``/``np.frompyfunc``/``np.apply_along_axis``, object and integer arrays, 0-d
arrays, float32, Python floats against ``np.float64``, and variants of the causes fixed in
this session (a user class's reflected operators, ``fill``, masked arrays, tuples left in
the caller's lists).
"""
from .program import P

PROGRAMS = [
    # --- views and in-place updates ---------------------------------------------------------
    P("view_of_local_scaled_in_place", """
        def f(x):
            a = x * 1.0
            v = a[:2]
            v *= 3.0
            return np.sum(a * C)
    """),
    P("reshape_view_written", """
        def f(x):
            a = np.tile(x, 2) * 1.0
            m = a.reshape(2, 3)
            m[1] = np.sin(m[0])
            return np.sum(a * np.arange(6.0))
    """),
    P("transpose_view_added_in_place", """
        def f(x):
            a = np.outer(x, C)
            t = a.T
            t += 1.0
            return np.sum(a ** 2)
    """),
    P("diagonal_write_through_fill_diagonal", """
        def f(x):
            m = np.outer(x, x)
            np.fill_diagonal(m, 0.0)
            return np.sum(m * M)
    """),
    P("ravel_view_updated", """
        def f(x):
            a = np.stack([x, x * 2.0])
            r = a.ravel()
            r[0] = 5.0
            return np.sum(a * a)
    """),
    # --- closures and keyword options ---------------------------------------------------------
    P("closure_over_loop_variable_late_binding", """
        def f(x):
            fs = [lambda v: v * k for k in range(1, 4)]
            return np.sum(sum(g(x) for g in fs) * C)
    """),
    P("closure_default_captures_value", """
        def f(x):
            fs = [lambda v, k=k: v * k for k in range(1, 4)]
            return np.sum(sum(g(x) for g in fs) * C)
    """),
    P("keyword_only_option_changes_between_calls", """
        OPT = [1.0]
        def loss(x, *, scale):
            return np.sum(np.sin(x) * scale * C)
        def f(x):
            return loss(x, scale=OPT[0])
        def mutate():
            OPT[0] = -2.0
    """, mutate="mutate"),
    P("kwargs_forwarding_helper", """
        def act(v, **opts):
            return np.tanh(v * opts.get("gain", 1.0)) + opts.get("bias", 0.0)
        def f(x):
            return np.sum(act(x, gain=2.0, bias=0.5) * C)
    """),
    P("partial_with_keyword", """
        def scaled(v, s=1.0):
            return v * s
        def f(x):
            g = functools.partial(scaled, s=3.0)
            return np.sum(g(np.sin(x)) * C)
    """),
    # --- generators, reduce, map/filter/zip/enumerate, sorted --------------------------------
    P("generator_expression_sum_of_powers", """
        def f(x):
            return np.sum(sum(x ** k / (k + 1) for k in range(3)) * C)
    """),
    P("generator_function_yields_traced", """
        def layers(v):
            for k in range(3):
                v = np.sin(v) + k
                yield v
        def f(x):
            return np.sum(list(layers(x))[-1] * C)
    """),
    P("functools_reduce_products", """
        def f(x):
            return functools.reduce(lambda a, b: a * b, [x[0], x[1], x[2], 2.0])
    """),
    P("map_over_parameter_list", """
        def f(w):
            return sum(map(lambda v: np.sum(np.sin(v) * C), w))
    """, args="([X.copy(), Y.copy()],)"),
    P("filter_by_value_sign", """
        def f(x):
            kept = list(filter(lambda v: v > 0, [x[0], x[1], x[2]]))
            return sum(k * k for k in kept)
    """),
    P("zip_params_with_weights", """
        def f(w):
            return sum(np.sum(a * b) for a, b in zip(w, [C, C * 2.0]))
    """, args="([X.copy(), Y.copy()],)"),
    P("enumerate_params_weighted_by_index", """
        def f(w):
            return sum((i + 1) * np.sum(v ** 2) for i, v in enumerate(w))
    """, args="([X.copy(), Y.copy()],)"),
    P("sorted_by_traced_key", """
        def f(x):
            items = sorted([x[0], x[1], x[2]], key=lambda v: float(v))
            return items[0] * 1.0 + items[2] * 3.0
    """),
    P("max_with_key_over_list", """
        def f(w):
            best = max(w, key=lambda v: np.sum(v))
            return np.sum(best * C)
    """, args="([X.copy(), Y.copy()],)"),
    # --- recursion, exceptions, try/finally, context managers, global -------------------------
    P("recursive_power_tower", """
        def tower(v, n):
            return v if n == 0 else np.sin(tower(v, n - 1)) * v
        def f(x):
            return np.sum(tower(x, 3) * C)
    """),
    P("exception_as_control_flow", """
        def safe_log(v):
            try:
                if np.any(v <= 0):
                    raise ValueError("non-positive")
                return np.log(v)
            except ValueError:
                return v - 1.0
        def f(x):
            return np.sum(safe_log(x) * C) + np.sum(safe_log(x * x + 1.0))
    """),
    P("try_finally_records_last_value", """
        SEEN = []
        def f(x):
            y = np.sin(x)
            try:
                return np.sum(y * C)
            finally:
                SEEN.append(1)
    """),
    P("context_manager_scales_in_exit", """
        class Scaler:
            def __init__(self, box):
                self.box = box
            def __enter__(self):
                return self
            def __exit__(self, *exc):
                self.box[0] = self.box[0] * 2.0
                return False
        def f(x):
            box = [np.sin(x)]
            with Scaler(box):
                pass
            return np.sum(box[0] * C)
    """),
    P("global_accumulator_read_back", """
        TOTAL = 0.0
        def f(x):
            global TOTAL
            TOTAL = np.sum(x * C)
            return TOTAL * 2.0 + np.sum(x)
    """),
    P("class_attribute_changed_between_calls", """
        class Cfg:
            power = 2
        def f(x):
            return np.sum(x ** Cfg.power * C)
        def mutate():
            Cfg.power = 3
    """, mutate="mutate"),
    P("instance_attribute_rebound_between_calls", """
        class Model:
            def __init__(self):
                self.act = np.tanh
            def __call__(self, v):
                return self.act(v)
        MODEL = Model()
        def f(x):
            return np.sum(MODEL(x) * C)
        def mutate():
            MODEL.act = np.sin
    """, mutate="mutate"),
    # --- NumPy's function wrappers, object and integer arrays --------------------------------
    P("np_vectorize_of_python_function", """
        vsq = np.vectorize(lambda v: v * v + 1.0)
        def f(x):
            return np.sum(vsq(x) * C)
    """),
    P("np_frompyfunc_object_result", """
        sq = np.frompyfunc(lambda v: v * v, 1, 1)
        def f(x):
            return float(np.sum(sq(x).astype(float) * C))
    """),
    P("apply_along_axis_rows", """
        def f(x):
            m = np.outer(x, C)
            return np.sum(np.apply_along_axis(lambda r: np.sum(np.sin(r)), 1, m))
    """),
    P("object_array_of_traced", """
        def f(x):
            o = np.empty(3, dtype=object)
            o[0], o[1], o[2] = x[0], x[1] * 2.0, x[2] ** 2
            return float(np.sum(o))
    """),
    P("integer_index_array_param", """
        def f(x, idx):
            return np.sum(x[idx] * C)
    """, args="(X.copy(), np.array([2, 0, 0]))"),
    P("bool_mask_param", """
        def f(x, mask):
            return np.sum(np.where(mask, np.sin(x), x * 2.0))
    """, args="(X.copy(), np.array([True, False, True]))"),
    P("integer_array_differentiated", """
        def f(n):
            return np.sum(n * C)
    """, args="(np.array([1, 2, 3]),)", where=r".*"),
    P("complex_parameter_differentiated", """
        def f(z):
            return np.sum(np.abs(z) ** 2)
    """, args="(np.array([1 + 2j, 0.5 - 1j]),)", where=r".*"),
    # --- 0-d arrays, float32, Python floats against np.float64 -------------------------------
    P("zero_d_array_param", """
        def f(a):
            return float(np.sin(a) * 3.0) + float(a * a)
    """, args="(np.array(0.7),)"),
    P("zero_d_array_times_vector", """
        def f(a):
            return np.sum(a * C + np.exp(a))
    """, args="(np.array(0.3),)"),
    P("float32_param_with_float64_constant", """
        def f(x):
            return np.sum(np.tanh(x) * C)
    """, args="(X.astype(np.float32),)", rtol=1e-3),
    P("python_float_param", """
        def f(a):
            return math.sin(a) * a + np.exp(a)
    """, args="(0.4,)"),
    P("numpy_float64_scalar_param", """
        def f(a):
            return math.sin(a) * a + np.exp(a)
    """, args="(np.float64(0.4),)"),
    P("float_and_array_mixed_wrt_tuple", """
        def f(a, x):
            return np.sum(np.sin(x * a) * C)
    """, args="(0.5, X.copy())", wrt=(0, 1)),
    # --- variants of the causes fixed in this session ----------------------------------------
    P("user_class_rmul_with_array", """
        class Gain:
            def __init__(self, g):
                self.g = g
            def __rmul__(self, other):
                return other * self.g * 2.0
        def f(x):
            return np.sum((np.sin(x) * Gain(x[1])) * C)
    """),
    P("user_class_rsub_and_rtruediv", """
        class Ref:
            def __init__(self, r):
                self.r = r
            def __rsub__(self, other):
                return other - self.r
            def __rtruediv__(self, other):
                return other / (self.r * self.r + 1.0)
        def f(x):
            return np.sum(((x - Ref(x[0])) / Ref(x[2])) * C)
    """),
    P("user_class_add_and_radd_both", """
        class V:
            __array_ufunc__ = None          # ndarray + V calls V.__radd__
            def __init__(self, v):
                self.v = v
            def __add__(self, other):
                return V(self.v + other)
            def __radd__(self, other):
                return V(other + self.v * 2.0)
        def f(x):
            return np.sum((x + V(x * x)).v * C)
    """),
    P("fill_on_a_local_from_traced_sum", """
        def f(x):
            m = np.zeros(4)
            m.fill(np.sum(x))
            return np.sum(m * 2.0)
    """),
    P("setitem_traced_into_float_buffer", """
        def f(x):
            buf = np.zeros(3)
            buf[1] = x[0] * x[2]
            return np.sum(buf * C)
    """),
    P("masked_array_mean", """
        def f(x):
            a = np.ma.masked_array(x, mask=[True, False, False])
            return float(a.mean())
    """),
    P("state_dict_of_tuples_replaced", """
        def f(w, state):
            h, c = state["lstm"]
            state["lstm"] = (np.tanh(w + h), c + w)
            return np.sum(state["lstm"][0] * C) + np.sum(state["lstm"][1])
    """, args="(X.copy(), {'lstm': (np.ones(3), Y.copy())})"),
    P("namedtuple_state_in_list_replaced", """
        St = collections.namedtuple("St", "h c")
        def f(w, states):
            s = states[0]
            states[0] = St(np.tanh(w * s.h), s.c * w)
            return np.sum(states[0].h * C + states[0].c)
    """, args="(X.copy(), [St(np.ones(3), Y.copy())])"),
    P("meshgrid_of_slices_indexing_ij", """
        def f(x):
            a, b = np.meshgrid(x[1:], x[:2], indexing="ij")
            return np.sum(a * b * np.array([[1.0, 2.0], [3.0, 4.0]]))
    """),
    P("broadcast_arrays_of_views", """
        def f(x):
            a, b = np.broadcast_arrays(x[:, None], x[None, 1:])
            return np.sum(a * b)
    """),
]
