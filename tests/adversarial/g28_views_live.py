"""Group 28: views that stay live across a write, aliased arguments, array subclasses (session 7).

A view taken before a write into its base and read after it (``t = y[0:1]``, ``y.T``,
``np.diag``, ``reshape``, ``np.split``, ``ravel``), conversions that return the argument itself
(``np.asarray``, ``astype(copy=False)``, ``reshape``) written into, the same array or list passed
as two differentiated arguments, ``np.matrix`` (``*`` is a matrix product), object arrays,
user classes with operators.
"""
from .program import P

PROGRAMS = [
    P("slice_view_live_across_write", """
        def f(x):
            y = x * 2.0
            t = y[0:1]
            y[0] = 5.0
            return np.sum(t * x[0]) + np.sum(y * x)
    """),
    P("transpose_view_live_across_write", """
        def f(x):
            y = np.outer(x, C)
            t = y.T
            y[0, 1] = x[2]
            return np.sum(t * M)
    """),
    P("diag_view_live_across_write", """
        def f(x):
            y = np.outer(x, C)
            d = np.diagonal(y)
            y[0, 0] = 0.0
            return np.sum(d * C)
    """),
    P("np_diag_live_across_write", """
        def f(x):
            y = np.outer(x, C)
            d = np.diag(y)
            y[1, 1] = x[0]
            return np.sum(d * C)
    """),
    P("reshape_view_live_across_write", """
        def f(x):
            y = np.outer(x, C)
            r = y.reshape(9)
            y[2, 2] = 0.0
            return np.sum(r * np.arange(9))
    """),
    P("split_view_live_across_write", """
        def f(x):
            y = np.concatenate([x, x * 2])
            a, b = np.split(y, 2)
            y[4] = 0.0
            return np.sum(b * C)
    """),
    P("ravel_view_live_across_write", """
        def f(x):
            y = np.outer(x, C)
            r = np.ravel(y)
            y[0, 0] = x[1]
            return np.sum(r * np.arange(9))
    """),
    P("strided_view_live_across_inplace", """
        def f(x):
            y = x * 1.0
            v = y[::2]
            y *= 3.0
            return np.sum(v * C[:2])
    """),
    P("view_live_across_ellipsis_write", """
        def f(x):
            y = x * 1.0
            v = y[1:]
            y[...] = x ** 2
            return np.sum(v * C[1:])
    """),
    P("fancy_copy_not_a_view", """
        def f(x):
            y = x * 1.0
            z = y[[0, 1]]
            y[0] = 9.0
            return np.sum(z * C[:2]) + np.sum(y * x)
    """),
    P("mask_copy_not_a_view", """
        def f(x):
            y = x * 1.0
            z = y[y > -5]
            y[1] = 9.0
            return np.sum(z * C) + np.sum(y * x)
    """),
    P("element_scalar_copy", """
        def f(x):
            y = x * 2.0
            t = y[0]
            y[0] = 5.0
            return t * y[1]
    """),
    P("asarray_of_argument_written", """
        def f(x):
            y = np.asarray(x)
            y[0] = 0.0
            return np.sum(y * C)
    """),
    P("astype_nocopy_of_argument_written", """
        def f(x):
            y = x.astype(np.float64, copy=False)
            y[1] = 0.0
            return np.sum(y * C)
    """),
    P("reshape_of_argument_written", """
        def f(x):
            y = x.reshape(3)
            y[2] = 0.0
            return np.sum(y * C)
    """),
    P("full_slice_of_argument_written", """
        def f(x):
            y = x[:]
            y[0] = 1.0
            return np.sum(y * C)
    """),
    P("array_copy_of_argument_written", """
        def f(x):
            y = np.array(x)
            y[0] = 1.0
            return np.sum(y * C * x)
    """),
    P("same_array_two_arguments", """
        def f(x, y):
            return np.sum(x * y * C)
    """, args="(lambda a: (a, a))(X.copy())", wrt=(0, 1)),
    P("same_array_two_arguments_one_written", """
        def f(x, y):
            z = y * 1.0
            z[0] = 0.0
            return np.sum(x * z)
    """, args="(lambda a: (a, a))(X.copy())", wrt=(0, 1)),
    P("same_list_two_arguments", """
        def f(w, v):
            return np.sum(w[0] * v[0]) + np.sum(w[1])
    """, args="(lambda l: (l, l))([X.copy(), Y.copy()])", wrt=(0, 1)),
    P("argument_is_view_of_other", """
        def f(x, t):
            return np.sum(x * x) + np.sum(t * C[1:])
    """, args="(lambda a: (a, a[1:]))(X.copy())", wrt=(0, 1)),
    P("argument_is_global_object", """
        W = X.copy()
        def f(x):
            return np.sum(x * W)
    """, args="(W,)"),
    P("np_matrix_star_is_matmul", """
        def f(x):
            m = np.asmatrix(np.outer(x, C))
            return np.sum(np.asarray(m * m))
    """),
    P("np_matrix_power", """
        def f(x):
            m = np.matrix(np.outer(x, C) + M)
            return float(np.sum(m ** 2))
    """),
    P("object_array_of_scalars", """
        def f(x):
            a = np.array([x[0] * 2, x[1]], dtype=object)
            return float(np.sum(a * a))
    """),
    P("user_class_operators", """
        class V:
            def __init__(self, a):
                self.a = a
            def __add__(self, o):
                return V(self.a + o.a)
            def __mul__(self, o):
                return V(self.a * o.a)
        def f(x):
            v = V(x) * V(x) + V(C)
            return np.sum(v.a)
    """),
    P("user_class_array_ufunc", """
        class Scaled:
            def __init__(self, a, s):
                self.a, self.s = a, s
            def __array__(self, dtype=None, copy=None):
                return self.a * self.s
        def f(x):
            return np.sum(np.asarray(Scaled(x, 3.0)) * C)
    """),
    P("ndarray_subclass_view", """
        class Tagged(np.ndarray):
            pass
        def f(x):
            t = (x * 2.0).view(Tagged)
            return np.sum(t * C)
    """),
    P("sum_start_array", """
        def f(x):
            return np.sum(sum([x, x * 2], np.zeros(3)) * C)
    """),
    P("list_iadd_element_list", """
        def f(x):
            r = [x[0]]
            rows = [r, r]
            rows[0] += [x[1] * 2]
            return rows[1][-1] * 3 + rows[0][0]
    """),
    P("list_element_list_extend_alias", """
        def f(x):
            r = [x[0]]
            rows = [r]
            other = r
            rows[0] += [x[1] * 2]
            return other[-1] * 3
    """),
    P("dict_of_same_list", """
        def f(x):
            r = [x[0]]
            d = {"a": r, "b": r}
            d["a"] += [x[2]]
            return d["b"][-1] * 5
    """),
    P("tuple_holding_list_iadd", """
        def f(x):
            r = [x[0]]
            t = (r, 1)
            l = [r]
            l[0] += [x[1]]
            return t[0][-1] * 4
    """),
    P("nested_list_same_array", """
        def f(x):
            a = x * 1.0
            l = [[a], a]
            l[1] += 1.0
            return np.sum(l[0][0] * x)
    """),
    P("helper_tuple_of_views_live_across_write", """
        def halves(v):
            return v[:2], v[2:]
        def f(x):
            y = np.concatenate([x, x * 2])
            a, b = halves(y)
            y[0] = 0.0
            return np.sum(a * C[:2]) + np.sum(y * y)
    """, args="(X.copy(),)"),
    P("array_split_views_live", """
        def f(x):
            y = np.outer(x, C)
            rows = np.array_split(y, 3)
            y[2] = 0.0
            return np.sum(rows[2] * C)
    """),
    P("unstack_rows_live", """
        def f(x):
            y = np.outer(x, C)
            r0, r1, r2 = y
            y[1, 1] = 0.0
            return np.sum(r1 * C)
    """),
    P("split_then_copy_is_fine", """
        def f(x):
            y = np.concatenate([x, x * 2])
            a, b = np.split(y, 2)
            b = b.copy()
            y[4] = 0.0
            return np.sum(b * C) + np.sum(y * y)
    """),
]
