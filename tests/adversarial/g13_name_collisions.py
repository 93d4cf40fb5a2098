"""Group 13: generated names collide with the user's.

User functions or locals named like knetc's runtime helpers and generated temporaries
(``zeros_like``, ``add_at``, ``unbroadcast``, ``_stack``, ``_t1``, ``_dt1``, ``xp``, ``np``
shadowed, ``dx`` for the adjoint of ``x``, ``pullback``, ``ans``, ``g``).
"""
from .program import P

PROGRAMS = [
    P("user_function_zeros_like", """
        def zeros_like(z):
            return z * 2.0
        def f(x):
            return np.sum(zeros_like(x) * C)
    """),
    P("user_function_add_at", """
        def add_at(a, b):
            return a * b
        def f(x):
            return np.sum(add_at(x, C) ** 2)
    """),
    P("user_function_unbroadcast", """
        def unbroadcast(a, b):
            return a * 3.0
        def f(x):
            y = x[:, None] + C[None, :]
            return np.sum(unbroadcast(y, x))
    """),
    P("user_function_creation_module", """
        def creation_module(*a):
            return None
        def f(x):
            z = np.zeros(3)
            return np.sum((z + x) ** 2 * C)
    """),
    P("user_local_stack", """
        def f(x):
            _stack = [1.0, 2.0]
            y = x
            for i in range(2):
                y = np.sin(y) * _stack[i]
            return np.sum(y * C)
    """),
    P("user_local_t1", """
        def f(x):
            _t1 = x * 2.0
            _t2 = np.sin(_t1)
            return np.sum(_t2 * C + _t1)
    """),
    P("user_local_dt1", """
        def f(x):
            _dt1 = np.sin(x)
            _dt2 = _dt1 * _dt1
            return np.sum(_dt2 * C)
    """),
    P("user_local_dx", """
        def f(x):
            dx = x * 3.0
            return np.sum(np.sin(dx) * x)
    """),
    P("user_parameters_x_and_dx", """
        def f(x, dx):
            return np.sum(x * dx + x ** 2)
    """, args="(X.copy(), Y.copy())", wrt=(0, 1)),
    P("user_local_ans_and_g", """
        def f(x):
            ans = np.sin(x)
            g = ans * C
            return np.sum(g * ans)
    """),
    P("user_local_pullback", """
        def f(x):
            pullback = np.tanh(x)
            return np.sum(pullback * C)
    """),
    P("user_local_xp", """
        def f(x):
            xp = x * 2.0
            z = np.zeros(3)
            return np.sum((z + xp) ** 2)
    """),
    P("user_local_np_shadow_inside", """
        import numpy
        def f(x):
            np = numpy
            return np.sum(np.sin(x) * C)
    """),
    P("user_global_knet_names", """
        def relu(z):
            return z * 5.0
        def f(x):
            return np.sum(relu(x))
    """),
    P("user_function_named_like_rule_vjp", """
        def sum_vjp(a):
            return a * 2.0
        def f(x):
            return np.sum(sum_vjp(x) * C)
    """),
    P("user_helper_named_f_vjp", """
        def f_vjp(z):
            return z ** 2
        def f(x):
            return np.sum(f_vjp(x) * C)
    """),
    P("user_local_seq1", """
        def f(x):
            _seq1 = [2.0, 3.0]
            y = x
            for k in _seq1:
                y = y * k
            return np.sum(y * C)
    """),
    P("user_local_names_with_underscore_d", """
        def f(x):
            d_x = x * 2.0
            dd = np.sin(d_x)
            return np.sum(dd * x)
    """),
    P("user_arg_named_g_and_ans", """
        def f(g, ans):
            return np.sum(g * ans + g ** 2)
    """, args="(X.copy(), Y.copy())", wrt=(0, 1)),
    P("user_helper_shadowing_builtin_len", """
        def len(z):
            return 2
        def f(x):
            return np.sum(x * len(x) * C)
    """),
    P("user_helper_named_reversed", """
        def reversed(z):
            return z
        def f(x):
            t = 0.0
            hs = [x[0], x[1]]
            for v in hs:
                t = t * 2.0 + v
            return t
    """),
    P("user_helper_named_range", """
        def range(n):
            return [0, 2]
        def f(x):
            t = 0.0
            for i in range(3):
                t = t + x[i]
            return t
    """),
    P("user_helper_named_enumerate", """
        def enumerate(xs):
            return [(5, v) for v in xs]
        def f(x):
            t = 0.0
            for i, v in enumerate([x[0], x[1]]):
                t = t + i * v
            return t
    """),
    P("user_helper_named_zip", """
        def zip(a, b):
            return [(a[0], b[1])]
        def f(x):
            t = 0.0
            for p, q in zip([x[0], x[1]], [x[2], x[0]]):
                t = t + p * q
            return t
    """),
    P("user_helper_named_sum", """
        def sum(xs):
            return xs[0] * 10.0
        def f(x):
            return sum([x[0], x[1]])
    """),
    P("user_helper_named_isinstance", """
        def isinstance(a, b):
            return False
        def f(x):
            return np.sum(x * C) * (2.0 if isinstance(x, np.ndarray) else 3.0)
    """),
    P("user_module_named_knet_shadow", """
        class knet:
            pass
        def f(x):
            return np.sum(np.tanh(x) * C)
    """),
    P("user_local_named_like_helper_fun", """
        def helper(z):
            return z * 2.0
        def f(x):
            helper_vjp = 3.0
            return np.sum(helper(x) * helper_vjp)
    """),
    P("user_global_numpy_alias_different_module", """
        import math as np2
        def f(x):
            return np2.sin(x[0]) + np.sum(x)
    """),
    P("user_local_dw_for_parameter_w", """
        def f(w):
            dw = w * 2.0
            return np.sum(np.sin(dw) * C) + np.sum(w * dw)
    """),
    P("user_local_dh_for_local_h", """
        def f(x):
            h = np.tanh(x)
            dh = h * 3.0
            return np.sum(h * dh * C)
    """),
    P("user_local_dx_reassigned_in_loop", """
        def f(x):
            dx = x * 1.0
            for i in range(2):
                dx = np.sin(dx) + x
            return np.sum(dx * C)
    """),
    P("user_function_named_loss_pullback", """
        def f_pullback(z):
            return z * 2.0
        def f(x):
            return np.sum(f_pullback(x) * C)
    """),
    P("user_local_named_f_pullback", """
        def f(x):
            f_pullback = np.sin(x)
            return np.sum(f_pullback * C)
    """),
    P("user_global_knet_factory", """
        def _knet_factory(z):
            return z * 5.0
        def f(x):
            return np.sum(_knet_factory(x) * C)
    """),
    P("user_function_named_zeros_view", """
        def zeros_view(z):
            return z * 3.0
        def f(x):
            return np.sum(zeros_view(x) ** 2)
    """),
    P("user_function_named_add_grad", """
        def add_grad(a, b):
            return a * b
        def f(x):
            return np.sum(add_grad(x, x) * C)
    """),
    P("user_function_named_matmul_vjp_x", """
        def matmul_vjp_x(a):
            return a * 0.5
        def f(w):
            return np.sum(np.tanh(w @ B) ** 2) + np.sum(matmul_vjp_x(w))
    """, args="(A.copy(),)"),
    P("user_global_named_ZERO", """
        ZERO = 1.0
        def f(x):
            return np.sum(x * C) * (ZERO + 1.0)
    """),
    P("user_helper_named_getitem", """
        def getitem(a, i):
            return a[i] * 10.0
        def f(x):
            return getitem(x, 0) + x[1]
    """),
    P("user_helper_named_scatter", """
        def scatter(a, i, v):
            return a * v
        def f(x):
            y = np.zeros(3)
            y[0] = x[1]
            return np.sum(scatter(y, 0, 2.0) * C) + np.sum(x)
    """),
    P("parameter_named_like_adjoint_of_other", """
        def f(x, dx):
            y = np.sin(x) * dx
            return np.sum(y * C)
    """, args="(X.copy(), Y.copy())", wrt=0),
    P("parameters_w_and_dw_wrt_both", """
        def f(w, dw):
            return np.sum(np.tanh(w) * dw) + np.sum(dw ** 2)
    """, args="(X.copy(), Y.copy())", wrt=(0, 1)),
]
