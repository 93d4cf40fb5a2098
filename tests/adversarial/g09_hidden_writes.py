"""Group 9: writes the caller never sees.

A helper appending to a list inside a structure (``state[0].append``), a nested def writing
to an enclosing list, ``nonlocal`` and ``global`` writes read back, Knet's
``predict(w, s, x)`` when ``predict`` is a closure or an argument.
"""
from .program import P

PROGRAMS = [
    P("helper_appends_to_nested_list", """
        def push(state, v):
            state[0].append(v * 2.0)
        def f(x):
            state = [[x]]
            push(state, np.sin(x))
            return np.sum(state[0][-1] * C)
    """),
    P("helper_setitem_nested_dict", """
        def put(state, v):
            state["h"]["last"] = v ** 2
        def f(x):
            state = {"h": {"last": x * 0.0}}
            put(state, x)
            return np.sum(state["h"]["last"] * C)
    """),
    P("nested_def_appends_enclosing_list", """
        def f(x):
            hs = []
            def push(v):
                hs.append(v * 3.0)
            push(x)
            push(x ** 2)
            return np.sum(hs[1] * C) + np.sum(hs[0])
    """),
    P("nested_def_setitem_enclosing_list", """
        def f(x):
            hs = [x * 0.0]
            def put(v):
                hs[0] = v ** 2
            put(x)
            return np.sum(hs[0] * C)
    """),
    P("nested_def_setitem_enclosing_dict", """
        def f(x):
            d = {}
            def put(v):
                d["k"] = np.sin(v)
            put(x)
            return np.sum(d["k"] * C)
    """),
    P("nonlocal_accumulator", """
        def f(x):
            total = 0.0
            def add(v):
                nonlocal total
                total = total + np.sum(v * C)
            add(x)
            add(x ** 2)
            return total
    """),
    P("nonlocal_array_rebind", """
        def f(x):
            h = x * 1.0
            def step():
                nonlocal h
                h = np.tanh(h) * C
            step()
            step()
            return np.sum(h)
    """),
    P("nonlocal_in_loop", """
        def f(x):
            acc = x * 0.0
            def step(v):
                nonlocal acc
                acc = acc + v * v
            for i in range(3):
                step(x * (i + 1))
            return np.sum(acc * C)
    """),
    P("global_accumulator_written_then_read", """
        TOTAL = 0.0
        def add(v):
            global TOTAL
            TOTAL = TOTAL + np.sum(v * C)
        def f(x):
            global TOTAL
            TOTAL = 0.0
            add(x)
            add(x ** 2)
            return TOTAL
    """),
    P("global_list_written_then_read", """
        LOG = []
        def f(x):
            LOG.clear()
            LOG.append(x ** 2)
            return np.sum(LOG[-1] * C)
    """),
    P("global_list_append_in_helper", """
        LOG = []
        def record(v):
            LOG.append(np.sin(v))
        def f(x):
            del LOG[:]
            record(x)
            return np.sum(LOG[0] * C)
    """),
    P("global_dict_written_then_read", """
        CACHE = {}
        def f(x):
            CACHE["h"] = np.tanh(x)
            return np.sum(CACHE["h"] * C)
    """),
    P("global_dict_written_by_helper", """
        CACHE = {}
        def remember(v):
            CACHE["v"] = v * 3.0
        def f(x):
            remember(x ** 2)
            return np.sum(CACHE["v"] * C)
    """),
    P("global_array_rebound_then_read", """
        H = np.zeros(3)
        def f(x):
            global H
            H = x ** 2
            return np.sum(H * C)
    """),
    P("global_array_rebound_by_helper", """
        H = np.zeros(3)
        def setter(v):
            global H
            H = np.sin(v)
        def f(x):
            setter(x)
            return np.sum(H * C)
    """),
    P("class_attribute_written_then_read", """
        class State:
            h = None
        def f(x):
            State.h = x ** 2
            return np.sum(State.h * C)
    """),
    P("object_attribute_written_by_helper", """
        class State:
            pass
        S = State()
        def update(v):
            S.h = v * 2.0
        def f(x):
            update(np.sin(x))
            return np.sum(S.h * C)
    """),
    P("predict_with_state_knet_style", """
        def predict(w, s, x):
            s[0] = np.tanh(w[0] * x + s[0])
            return s[0] * w[1]
        def f(w):
            s = [np.zeros(3)]
            t = 0.0
            for x in (C, C * 0.5):
                t = t + np.sum(predict(w, s, x))
            return t
    """, args="([X.copy(), Y.copy()],)"),
    P("predict_closure_with_state", """
        def make_predict():
            def predict(w, s, x):
                s[0] = np.tanh(w[0] * x + s[0])
                return s[0] * w[1]
            return predict
        PRED = make_predict()
        def f(w):
            s = [np.zeros(3)]
            t = 0.0
            for x in (C, C * 0.5):
                t = t + np.sum(PRED(w, s, x))
            return t
    """, args="([X.copy(), Y.copy()],)"),
    P("predict_passed_as_argument", """
        def predict(w, s, x):
            s[0] = np.tanh(w[0] * x + s[0])
            return s[0] * w[1]
        def loss(w, model):
            s = [np.zeros(3)]
            t = 0.0
            for x in (C, C * 0.5):
                t = t + np.sum(model(w, s, x))
            return t
        def f(w):
            return loss(w, predict)
    """, args="([X.copy(), Y.copy()],)"),
    P("predict_passed_to_grad_directly", """
        def predict(w, s, x):
            s[0] = np.tanh(w[0] * x + s[0])
            return s[0] * w[1]
        def f(w, model):
            s = [np.zeros(3)]
            t = 0.0
            for x in (C, C * 0.5):
                t = t + np.sum(model(w, s, x))
            return t
    """, args="([X.copy(), Y.copy()], predict)"),
    P("predict_nested_def_state", """
        def f(w):
            def predict(s, x):
                s[0] = np.tanh(w[0] * x + s[0])
                return s[0] * w[1]
            s = [np.zeros(3)]
            t = 0.0
            for x in (C, C * 0.5):
                t = t + np.sum(predict(s, x))
            return t
    """, args="([X.copy(), Y.copy()],)"),
    P("helper_writes_state_of_argument_list", """
        def step(s, v):
            s[0] = s[0] * 0.5 + v
        def f(x, s):
            step(s, x)
            step(s, x ** 2)
            return np.sum(s[0] * C)
    """, args="(X.copy(), [np.zeros(3)])"),
    P("helper_appends_to_argument_list", """
        def step(hs, v):
            hs.append(np.tanh(v + hs[-1]))
        def f(x, hs):
            step(hs, x)
            step(hs, x)
            return np.sum(hs[-1] * C)
    """, args="(X.copy(), [np.zeros(3)])"),
    P("lambda_capturing_list_mutates", """
        def f(x):
            hs = []
            push = lambda v: hs.append(v * 2.0)
            push(x ** 2)
            return np.sum(hs[0] * C)
    """),
    P("generator_mutation_consumed", """
        def f(x):
            hs = []
            def gen():
                for i in range(2):
                    hs.append(x * (i + 1))
                    yield i
            for _ in gen():
                pass
            return np.sum(hs[1] * C)
    """),
    P("closure_counter_affects_value", """
        def f(x):
            count = [0]
            def act(v):
                count[0] += 1
                return v * count[0]
            a = act(x)
            b = act(x)
            return np.sum(a * C) + np.sum(b * b)
    """),
    P("method_writes_self_state", """
        class RNN:
            def __init__(self):
                self.h = np.zeros(3)
            def step(self, w, x):
                self.h = np.tanh(w * x + self.h)
                return self.h
        def f(w):
            r = RNN()
            r.step(w, C)
            return np.sum(r.step(w, C * 0.5))
    """),
    P("method_appends_to_self_list", """
        class Tape:
            def __init__(self):
                self.items = []
            def add(self, v):
                self.items.append(v)
        def f(x):
            t = Tape()
            t.add(x * 2.0)
            t.add(np.sin(x))
            return np.sum(t.items[1] * C) + np.sum(t.items[0])
    """),
    P("dataclass_field_written", """
        @dataclasses.dataclass
        class Acc:
            total: object = 0.0
        def f(x):
            a = Acc()
            a.total = a.total + np.sum(x * C)
            a.total = a.total + np.sum(x ** 2)
            return a.total
    """),
    P("list_of_state_rebound_inside_helper", """
        def reset(s):
            s = [np.ones(3)]
            return None
        def f(x):
            s = [x * 2.0]
            reset(s)
            return np.sum(s[0] * C)
    """),
    P("global_counter_changes_value_each_call", """
        CALLS = [0]
        def f(x):
            CALLS[0] = 0
            CALLS[0] += 1
            return np.sum(x * C) * CALLS[0]
    """),
]
