"""Beyond the groups: the other entry points. ``value_and_grad`` and ``gradloss`` (whose
value must equal a plain call's: compiled code that computes another function shows here
even where the gradient is not checked), ``out=`` buffers and ``accumulate=True``, over
constructs whose forward semantics are easy to get wrong and over plain controls.
"""
from .program import P

# (the buffers of out= are arrays: a float leaf cannot receive a gradient in place, so the
# parameter structures here hold arrays only)

BODIES = [
    ("smooth_control", """
        def f(x):
            return np.sum(np.sin(x) * C) + np.sum(x ** 2)
    """, "(X.copy(),)", 0),
    ("alias_setitem", """
        def f(x):
            a = x * 1.0
            b = a
            b[0] = 0.0
            return np.sum(a * x)
    """, "(X.copy(),)", 0),
    ("alias_iadd", """
        def f(x):
            a = np.sin(x)
            b = a
            b += x
            return np.sum(a * C)
    """, "(X.copy(),)", 0),
    ("view_write", """
        def f(x):
            a = x * 2.0
            v = a[1:]
            v[:] = v ** 2
            return np.sum(a * C)
    """, "(X.copy(),)", 0),
    ("while_else", """
        def f(x):
            i = 0
            y = x
            while i < 2:
                y = np.sin(y)
                i += 1
            else:
                y = y * 5.0
            return np.sum(y * C)
    """, "(X.copy(),)", 0),
    ("list_concat", """
        def f(x):
            t = [x[0], x[1]] + [3.0 * x[2]]
            return t[0] + 10.0 * t[2]
    """, "(X.copy(),)", 0),
    ("list_param", """
        def f(w):
            return np.sum(np.tanh(w[0] * C) * w[1]) + np.sum(w[2] ** 2)
    """, "([X.copy(), Y.copy(), A.copy()],)", 0),
    ("dict_param", """
        def f(w):
            return np.sum(np.tanh(w["W"] @ C[:2] + w["b"]))
    """, "({'W': A.copy(), 'b': Y.copy()},)", 0),
    ("tuple_wrt", """
        def f(a, b):
            return np.sum(np.sin(a) * b ** 2)
    """, "(X.copy(), Y.copy())", (0, 1)),
    ("nested_param", """
        def f(w):
            (a, b), d = w[0], w[1]
            return np.sum(a * b) + np.sum(d["k"] ** 2)
    """, "([(X.copy(), Y.copy()), {'k': C.copy()}],)", 0),
    ("state_list_argument", """
        def f(w, s):
            s[0] = np.tanh(w * s[0])
            return np.sum(s[0] * C)
    """, "(X.copy(), [np.ones(3)])", 0),
    ("helper_mutates_argument", """
        def scale(v):
            v *= 3.0
        def f(x):
            a = x * 1.0
            scale(a)
            return np.sum(a * x)
    """, "(X.copy(),)", 0),
]

PROGRAMS = [P(f"{name}_{api}", source, args=args, wrt=wrt, api=api)
            for name, source, args, wrt in BODIES
            for api in ("value_and_grad", "gradloss", "out", "accumulate")]
