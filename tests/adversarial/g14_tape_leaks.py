"""Group 14: traced values leak into the caller's containers; writes into differentiated
list arguments; ``isinstance`` and type checks on traced values.

The runner compares the caller's arguments after a gradient call with their state after a
plain call (types and values), so a traced box left in a list is a WRONG outcome.
"""
from .program import P

PROGRAMS = [
    P("state_list_updated_lm_idiom", """
        def f(w, s):
            s[0] = np.tanh(w[0] * s[0] + w[1])
            return np.sum(s[0] * C)
    """, args="([X.copy(), Y.copy()], [np.ones(3)])"),
    P("state_list_updated_twice", """
        def f(w, s):
            for k in range(2):
                s[0] = np.tanh(w[0] * s[0] + w[1] * k)
            return np.sum(s[0] * C)
    """, args="([X.copy(), Y.copy()], [np.ones(3)])"),
    P("state_list_appended", """
        def f(w, hs):
            hs.append(np.sin(w[0]) * hs[-1])
            return np.sum(hs[-1] * C) + np.sum(w[1])
    """, args="([X.copy(), Y.copy()], [np.ones(3)])"),
    P("state_dict_updated", """
        def f(w, s):
            s["h"] = np.tanh(w[0] + s["h"])
            return np.sum(s["h"] * C) + np.sum(w[1] ** 2)
    """, args="([X.copy(), Y.copy()], {'h': np.ones(3)})"),
    P("state_list_updated_with_float", """
        def f(x, s):
            s[0] = x[0] * 2.0 + s[0]
            return s[0] * x[1]
    """, args="(X.copy(), [1.5])"),
    P("state_object_attribute_updated", """
        class State:
            def __init__(self):
                self.h = np.ones(3)
        def f(w, st):
            st.h = np.tanh(w * st.h)
            return np.sum(st.h * C)
    """, args="(X.copy(), State())"),
    P("write_into_differentiated_list", """
        def f(w):
            w[0] = w[0] * 2.0
            return np.sum(w[0] * C) + np.sum(w[1])
    """, args="([X.copy(), Y.copy()],)"),
    P("append_to_differentiated_list", """
        def f(w):
            w.append(w[0] * w[1])
            return np.sum(w[-1] * C)
    """, args="([X.copy(), Y.copy()],)"),
    P("write_into_differentiated_dict", """
        def f(w):
            w["a"] = np.sin(w["a"])
            return np.sum(w["a"] * C) + np.sum(w["b"])
    """, args="({'a': X.copy(), 'b': Y.copy()},)"),
    P("write_into_nested_differentiated_list", """
        def f(w):
            w[0][1] = w[0][0] * 3.0
            return np.sum(w[0][1] * C)
    """, args="([[X.copy(), Y.copy()]],)"),
    P("isinstance_ndarray_branch", """
        def f(x):
            if isinstance(x, np.ndarray):
                return np.sum(x * C)
            return np.sum(x ** 3)
    """),
    P("isinstance_float_branch", """
        def f(x):
            if isinstance(x, float):
                return x * 3.0
            return x ** 2
    """, args="(0.7,)"),
    P("type_is_ndarray_branch", """
        def f(x):
            if type(x) is np.ndarray:
                return np.sum(x * C)
            return np.sum(x ** 3)
    """),
    P("isinstance_of_intermediate", """
        def f(x):
            y = np.sin(x)
            scale = 2.0 if isinstance(y, np.ndarray) else 5.0
            return np.sum(y * scale)
    """),
    P("dtype_check_branch", """
        def f(x):
            if x.dtype == np.float64:
                return np.sum(x * C)
            return np.sum(x)
    """),
    P("shape_branch", """
        def f(x):
            if x.shape[0] == 3:
                return np.sum(x ** 2 * C)
            return np.sum(x)
    """),
    P("hasattr_branch", """
        def f(x):
            if hasattr(x, "shape"):
                return np.sum(x * C)
            return np.sum(x ** 2)
    """),
    P("np_ndim_and_size", """
        def f(x):
            return np.sum(x * C) * np.ndim(x) + np.size(x) * x[0]
    """),
    P("global_list_receives_traced", """
        SEEN = []
        def f(x):
            SEEN.clear()
            SEEN.append(x * 2.0)
            return np.sum(SEEN[0] * C)
        def after_check():
            assert type(SEEN[0]) is np.ndarray, type(SEEN[0])
    """, after="after_check"),
    P("global_dict_receives_traced", """
        LAST = {}
        def f(x):
            LAST["v"] = np.sin(x)
            return np.sum(LAST["v"] * C)
        def after_check():
            assert type(LAST["v"]) is np.ndarray, type(LAST["v"])
    """, after="after_check"),
    P("closure_cell_receives_traced", """
        def make():
            box = [None]
            def f(x):
                box[0] = x ** 2
                return np.sum(box[0] * C)
            def check():
                assert type(box[0]) is np.ndarray, type(box[0])
            return f, check
        f, after_check = make()
    """, after="after_check"),
    P("caller_array_not_modified", """
        def f(x, buf):
            buf[:] = x * 2.0
            return np.sum(buf * C)
    """, args="(X.copy(), np.zeros(3))"),
    P("np_asarray_of_argument_state_after", """
        def f(w, s):
            s[0] = w * 2.0
            return np.sum(np.asarray(s[0]) * C)
    """, args="(X.copy(), [np.zeros(3)])"),
    P("lm_state_lstm_idiom", """
        def f(w, s):
            gates = w[0] @ np.array([[0.5, -0.2], [0.1, 0.3]]) + w[1] @ s[0]
            s[0], s[1] = knet.lstm(gates, s[1])
            return np.sum(s[0] * np.array([[1.0, 2.0], [-1.0, 0.5]])) + np.sum(s[1])
    """, args="([np.arange(16.0).reshape(8, 2) / 10.0 - 0.7, np.arange(16.0).reshape(8, 2) / 20.0 - 0.3],"
              " [np.array([[0.1, -0.2], [0.3, 0.05]]), np.array([[0.2, 0.1], [-0.1, 0.4]])])"),
    P("lm_state_lstm_then_asarray_by_caller", """
        def f(w, s):
            gates = w @ np.array([[0.5, -0.2], [0.1, 0.3]])
            s[0], s[1] = knet.lstm(gates, s[1])
            return np.sum(s[0]) + np.sum(s[1] * 0.5)
        STATE = []
        def fresh_state():
            STATE[:] = [np.zeros((2, 2)), np.array([[0.2, 0.1], [-0.1, 0.4]])]
            return STATE                     # the list of the latest call, checked after it
        def after_check():
            np.asarray(STATE[0]) + 1.0
            assert all(type(v) is np.ndarray for v in STATE), [type(v) for v in STATE]
    """, args="(np.arange(16.0).reshape(8, 2) / 10.0 - 0.7, fresh_state())", after="after_check"),
    P("state_tuple_in_list_replaced", """
        def f(w, s):
            h, c = s[0]
            s[0] = (np.tanh(w * h + c), c * 0.5)
            return np.sum(s[0][0] * C)
    """, args="(X.copy(), [(np.ones(3), Y.copy())])"),
    P("caller_dict_receives_new_key", """
        def f(w, cache):
            cache["h"] = np.sin(w)
            return np.sum(cache["h"] * C)
    """, args="(X.copy(), {})"),
    P("caller_list_extended", """
        def f(w, hs):
            hs.extend([w * 2.0, np.sin(w)])
            return np.sum(hs[-1] * C)
    """, args="(X.copy(), [])"),
    # the gradient of a list or dict argument has the structure the caller passed (its
    # length and keys on entry), whatever the function did to it
    P("pop_then_append_on_differentiated_list", """
        def f(w):
            v = w.pop()
            w.append(v * 2.0)
            return np.sum(w[-1] * C) + np.sum(w[0] * w[1])
    """, args="([X.copy(), Y.copy()],)"),
    P("append_into_nested_differentiated_list", """
        def f(w):
            w[0].append(w[0][0] * 3.0)
            return np.sum(w[0][-1] * C) + np.sum(w[1])
    """, args="([[X.copy()], Y.copy()],)"),
    P("grow_differentiated_list_in_a_loop", """
        def f(w):
            for k in range(3):
                w.append(np.sin(w[-1]))
            return np.sum(w[-1] * C)
    """, args="([X.copy()],)"),
    P("extend_differentiated_list_with_itself", """
        def f(w):
            w.extend(w)
            return np.sum(w[2] * w[3] * C)
    """, args="([X.copy(), Y.copy()],)"),
    P("pop_twice_from_differentiated_list", """
        def f(w):
            last = w.pop()
            first = w.pop()
            return np.sum(last * C - first)
    """, args="([X.copy(), Y.copy()],)"),
    P("new_key_in_differentiated_dict", """
        def f(d):
            d["h"] = np.tanh(d["a"])
            d["a"] = d["h"] * 2.0
            return np.sum(d["a"] * C + d["b"])
    """, args="({'a': X.copy(), 'b': Y.copy()},)"),
    P("setdefault_new_key_in_differentiated_dict", """
        def f(d):
            d.setdefault("z", d["a"] * 3.0)
            return np.sum(d["z"] * C)
    """, args="({'a': X.copy()},)"),
    P("insert_at_front_of_differentiated_list", """
        def f(w):
            w.insert(0, w[0] * 2.0)
            return np.sum(w[0] * C) + np.sum(w[-1])
    """, args="([X.copy(), Y.copy()],)"),
    P("del_from_differentiated_list", """
        def f(w):
            del w[0]
            return np.sum(w[0] * C)
    """, args="([X.copy(), Y.copy()],)"),
    P("helper_appends_to_differentiated_list", """
        def push(w, v):
            w.append(v)
        def f(w):
            push(w, w[0] * w[1])
            return np.sum(w[-1] * C)
    """, args="([X.copy(), Y.copy()],)"),
    P("clear_differentiated_list_after_use", """
        def f(w):
            s = np.sum(w[0] * w[1] * C)
            w.clear()
            return s
    """, args="([X.copy(), Y.copy()],)"),
    P("differentiated_list_and_dict_wrt_tuple_grow", """
        def f(w, d):
            w.append(d["a"] * 2.0)
            d["b"] = w[0] * 3.0
            return np.sum(w[-1] * d["b"] * C)
    """, args="([X.copy()], {'a': Y.copy()})", wrt=(0, 1)),
    P("nonlocal_cell_receives_traced", """
        def make():
            last = 0.0
            def f(x):
                nonlocal last
                last = np.sum(x)
                return np.sum(x * x)
            def check():
                assert type(last) is np.float64, type(last)
            return f, check
        f, after_check = make()
    """, after="after_check"),
    P("global_name_receives_traced", """
        LATEST = None
        def f(x):
            global LATEST
            LATEST = x * 2
            return np.sum(x * LATEST)
        def after_check():
            assert type(LATEST) is np.ndarray, type(LATEST)
    """, after="after_check"),
    P("global_object_attribute_receives_traced", """
        import types
        STATE = types.SimpleNamespace(h=None)
        def f(x):
            STATE.h = np.tanh(x)
            return np.sum(STATE.h * C)
        def after_check():
            assert type(STATE.h) is np.ndarray, type(STATE.h)
    """, after="after_check"),
    P("method_caches_activation_on_self", """
        class Model:
            def __init__(self):
                self.h = None
                self.w = C.copy()
            def loss(self, x):
                self.h = np.tanh(x * self.w)
                return np.sum(self.h ** 2)
        model = Model()
        f = model.loss
        def after_check():
            assert type(model.h) is np.ndarray, type(model.h)
            np.asarray(model.h) + 1.0
    """, after="after_check"),
    P("argument_object_attribute_receives_traced", """
        import types
        CACHE = types.SimpleNamespace(last=None)
        def f(x, cache):
            cache.last = x * 3
            return np.sum(cache.last * x)
        def after_check():
            assert type(CACHE.last) is np.ndarray, type(CACHE.last)
    """, args="(X.copy(), CACHE)", after="after_check"),
    P("nested_object_attribute_receives_traced", """
        class Cell:
            def __init__(self):
                self.state = None
        class Net:
            def __init__(self):
                self.cell = Cell()
        net = Net()
        def f(x):
            net.cell.state = np.sin(x)
            return np.sum(net.cell.state * C)
        def after_check():
            assert type(net.cell.state) is np.ndarray, type(net.cell.state)
    """, after="after_check"),
]
