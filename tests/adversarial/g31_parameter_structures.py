"""Group 31: parameter structures as people pass them (session 7).

The same array twice in a parameter list or dict, non-float leaves beside the weights
(a name, a layer count, None, a bool: refused, naming the leaf, as JAX and autograd do), empty containers, deep nesting, a list parameter the
loss appends to, pops from or rebinds, tuples of lists, a dict parameter whose keys the loss
adds or deletes, parameters read in a different order than stored.
"""
from .program import P

PROGRAMS = [
    P("same_array_twice_in_list", """
        def f(w):
            return np.sum(w[0] * C) + np.sum(w[1] ** 2)
    """, args="((lambda a: [a, a])(X.copy()),)"),
    P("same_array_twice_in_dict", """
        def f(w):
            return np.sum(w["a"] * C) + np.sum(np.sin(w["b"]))
    """, args='((lambda a: {"a": a, "b": a})(X.copy()),)'),
    P("non_float_leaves_beside_weights", """
        def f(w):
            y = w["W"] * w["n"]
            if w["use_bias"]:
                y = y + w["b"]
            return np.sum(y ** 2)
    """, args='({"W": X.copy(), "name": "layer", "n": 3, "use_bias": True, "b": Y.copy(), "extra": None},)',
       where=r"\(w\)\['name'\]|w\['name'\]", note="peers refuse a str leaf in what is differentiated too"),
    P("empty_containers_in_params", """
        def f(w):
            return np.sum(w[0] ** 2) + len(w[1]) + len(w[2])
    """, args="([X.copy(), [], {}],)"),
    P("deep_nesting", """
        def f(w):
            return np.sum(w["a"][0]["b"][1][0] * C) + np.sum(w["a"][1] ** 2)
    """, args='({"a": [{"b": [Y.copy(), [X.copy()]]}, Y.copy()]},)'),
    P("loss_appends_to_param_list", """
        def f(w):
            w.append(w[0] * 2)
            return np.sum(w[-1] * w[1])
    """, args="([X.copy(), Y.copy()],)"),
    P("loss_pops_param_list", """
        def f(w):
            last = w.pop()
            return np.sum(last * w[0])
    """, args="([X.copy(), Y.copy()],)"),
    P("loss_rebinds_param_element", """
        def f(w):
            w[0] = w[0] * 3
            return np.sum(w[0] * w[1])
    """, args="([X.copy(), Y.copy()],)"),
    P("loss_rebinds_whole_param", """
        def f(w):
            w = [w[1], w[0]]
            return np.sum(w[0] * C) + np.sum(w[1] ** 2)
    """, args="([X.copy(), Y.copy()],)"),
    P("tuple_of_lists_param", """
        def f(p):
            a, b = p
            return np.sum(a[0] * b[0]) + np.sum(a[1])
    """, args="(([X.copy(), Y.copy()], [C.copy()]),)"),
    P("dict_param_key_added", """
        def f(w):
            w["c"] = w["a"] * 2
            return np.sum(w["c"] * w["b"])
    """, args='({"a": X.copy(), "b": Y.copy()},)'),
    P("dict_param_key_deleted", """
        def f(w):
            b = w["b"]
            del w["b"]
            return np.sum(w["a"] * b)
    """, args='({"a": X.copy(), "b": Y.copy()},)'),
    P("dict_param_update_method", """
        def f(w):
            w.update({"a": w["b"] * 2})
            return np.sum(w["a"] * w["b"])
    """, args='({"a": X.copy(), "b": Y.copy()},)'),
    P("params_read_in_other_order", """
        def f(w):
            tot = 0.0
            for k in sorted(w, reverse=True):
                tot = tot * 0.5 + np.sum(w[k] ** 2)
            return tot
    """, args='({"a": X.copy(), "c": Y.copy(), "b": C.copy()},)'),
    P("list_param_sliced", """
        def f(w):
            h = w[1:]
            return np.sum(h[0] * h[1]) + np.sum(w[0])
    """, args="([X.copy(), Y.copy(), C.copy()],)"),
    P("list_param_negative_index_loop", """
        def f(w):
            tot = 0.0
            for i in range(-1, -len(w) - 1, -1):
                tot = tot + np.sum(w[i]) * i
            return tot
    """, args="([X.copy(), Y.copy(), C.copy()],)"),
    P("list_param_zip_self", """
        def f(w):
            return sum(np.sum(a * b) for a, b in zip(w, w[1:]))
    """, args="([X.copy(), Y.copy(), C.copy()],)"),
    P("scalar_leaves_list", """
        def f(w):
            return w[0] ** 2 * w[1] + np.sin(w[2])
    """, args="([0.5, -1.5, 2.0],)"),
    P("mixed_scalar_array_leaves", """
        def f(w):
            return np.sum(w["W"] * w["s"]) + w["s"] ** 3
    """, args='({"W": X.copy(), "s": 0.7},)'),
    P("numpy_scalar_leaf", """
        def f(w):
            return np.sum(w[0] * w[1])
    """, args="([X.copy(), np.float64(0.4)],)"),
    P("zero_d_array_leaf", """
        def f(w):
            return np.sum(w[0] * w[1]) + w[1] ** 2
    """, args="([X.copy(), np.array(0.4)],)"),
    P("int_array_leaf_constant", """
        def f(w):
            return np.sum(w[0][w[1]] ** 2)
    """, args="([X.copy(), np.array([2, 0])],)",
       where=r"w\)?\[1\]: it is an integer array", note="as JAX and autograd: differentiate float leaves only"),
    P("namedtuple_of_lists", """
        T = collections.namedtuple("T", "ws b")
        def f(p):
            return sum(np.sum(w ** 2) for w in p.ws) + np.sum(p.b)
    """, args="(T([X.copy(), Y.copy()], C.copy()),)"),
]
