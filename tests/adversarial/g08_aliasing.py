"""Group 8: arrays and containers modelled by value when Python shares them.

Aliases (``b = a; b[0] = ...``), views (slices, ``reshape``, ``.T``, ``ravel``), arrays in
lists then updated, ``y = x2; y += 1``, list and dict aliases, helpers updating the caller's
array in place (``v /= v.sum()``), in-place operators on arguments.
"""
from .program import P

PROGRAMS = [
    P("alias_setitem", """
        def f(x):
            a = x * 1.0
            b = a
            b[0] = 0.0
            return np.sum(a * x)
    """),
    P("alias_iadd", """
        def f(x):
            a = x * 1.0
            b = a
            b += x
            return np.sum(a * x)
    """),
    P("alias_imul_scalar", """
        def f(x):
            a = np.sin(x)
            b = a
            b *= 3.0
            return np.sum(a * C)
    """),
    P("alias_through_tuple_unpack", """
        def f(x):
            a = x * 2.0
            b, c = a, x
            b[1] = 5.0
            return np.sum(a * c)
    """),
    P("slice_view_write", """
        def f(x):
            a = x * 1.0
            v = a[1:]
            v[:] = v ** 2
            return np.sum(a * C)
    """),
    P("slice_view_iadd", """
        def f(x):
            a = x * 1.0
            v = a[:2]
            v += 1.0
            return np.sum(a * a)
    """),
    P("slice_view_setitem_scalar", """
        def f(x):
            a = x * 2.0
            v = a[1:]
            v[0] = x[0] ** 2
            return np.sum(a * C)
    """),
    P("reshape_view_write", """
        def f(x):
            a = np.concatenate([x, x]) * 1.0
            m = a.reshape(2, 3)
            m[0, 0] = 0.0
            return np.sum(a * np.arange(6.0))
    """),
    P("transpose_view_write", """
        def f(x):
            a = np.outer(x, C)
            t = a.T
            t[0, :] = 0.0
            return np.sum(a * M)
    """),
    P("ravel_view_write", """
        def f(x):
            a = np.outer(x, C)
            r = a.ravel()
            r[0] = 1.0
            return np.sum(a * M)
    """),
    P("newaxis_view_write", """
        def f(x):
            a = x * 1.0
            v = a[None, :]
            v[0, 1] = 2.0
            return np.sum(a * x)
    """),
    P("row_view_of_matrix", """
        def f(x):
            m = np.outer(x, C)
            row = m[1]
            row *= 2.0
            return np.sum(m * M)
    """),
    P("write_through_original_read_view", """
        def f(x):
            a = x * 1.0
            v = a[1:]
            a[1] = 0.0
            return np.sum(v * C[1:])
    """),
    P("array_in_list_updated", """
        def f(x):
            a = x * 1.0
            hs = [a]
            a[0] = 0.0
            return np.sum(hs[0] * x)
    """),
    P("array_in_list_then_list_item_updated", """
        def f(x):
            a = x * 1.0
            hs = [a]
            hs[0][1] = 3.0
            return np.sum(a * x)
    """),
    P("array_in_dict_updated", """
        def f(x):
            a = x * 2.0
            d = {"a": a}
            a += x
            return np.sum(d["a"] * C)
    """),
    P("argument_rebound_iadd", """
        def f(x):
            y = x
            y += 1.0
            return np.sum(y * x)
    """),
    P("argument_iadd_directly", """
        def f(x):
            x += 1.0
            return np.sum(x ** 2)
    """),
    P("argument_setitem_directly", """
        def f(x):
            x[0] = 0.0
            return np.sum(x ** 2 * C)
    """),
    P("argument_list_element_iadd", """
        def f(w):
            w[0] += w[1]
            return np.sum(w[0] * C)
    """, args="([X.copy(), Y.copy()],)"),
    P("argument_list_element_setitem", """
        def f(w):
            w[0][1] = 0.0
            return np.sum(w[0] * w[1])
    """, args="([X.copy(), Y.copy()],)"),
    P("list_alias_append", """
        def f(x):
            hs = [x * 1.0]
            gs = hs
            gs.append(x ** 2)
            return np.sum(hs[-1] * C)
    """),
    P("list_alias_setitem", """
        def f(x):
            hs = [x * 1.0, x * 2.0]
            gs = hs
            gs[0] = x ** 3
            return np.sum(hs[0] * C)
    """),
    P("dict_alias_setitem", """
        def f(x):
            d = {"a": x * 1.0}
            e = d
            e["a"] = x ** 2
            return np.sum(d["a"] * C)
    """),
    P("nested_list_alias", """
        def f(x):
            inner = [x * 1.0]
            outer = [inner, inner]
            outer[0][0] = x ** 2
            return np.sum(outer[1][0] * C)
    """),
    P("list_multiplied_shares_inner", """
        def f(x):
            grid = [[x * 0.0]] * 2
            grid[0][0] = x ** 2
            return np.sum(grid[1][0] * C)
    """),
    P("helper_normalises_in_place", """
        def normalise(v):
            v /= np.sum(v)
            return v
        def f(x):
            a = np.exp(x)
            normalise(a)
            return np.sum(a * C)
    """),
    P("helper_scales_caller_array", """
        def scale(v, k):
            v *= k
        def f(x):
            a = x * 1.0
            scale(a, 3.0)
            return np.sum(a * x)
    """),
    P("helper_setitem_on_caller_array", """
        def zero_first(v):
            v[0] = 0.0
        def f(x):
            a = x ** 2
            zero_first(a)
            return np.sum(a * C)
    """),
    P("helper_returns_view_then_written", """
        def tail(v):
            return v[1:]
        def f(x):
            a = x * 1.0
            t = tail(a)
            t[0] = 10.0
            return np.sum(a * x)
    """),
    P("helper_returns_its_argument", """
        def ident(v):
            return v
        def f(x):
            a = x * 1.0
            b = ident(a)
            b[2] = 0.0
            return np.sum(a * x)
    """),
    P("iadd_on_accumulator_then_read_old_alias", """
        def f(x):
            acc = np.zeros(3)
            old = acc
            for i in range(2):
                acc += x * (i + 1)
            return np.sum(old * C)
    """),
    P("aug_assign_matrix_row_alias", """
        def f(x):
            m = np.zeros((2, 3))
            r = m[0]
            m[0] += x
            return np.sum(r * C)
    """),
    P("numpy_asarray_is_alias", """
        def f(x):
            a = x * 1.0
            b = np.asarray(a)
            b[0] = 7.0
            return np.sum(a * x)
    """),
    P("copy_is_not_alias", """
        def f(x):
            a = x * 1.0
            b = a.copy()
            b[0] = 7.0
            return np.sum(a * x) + np.sum(b * C)
    """),
    P("fancy_index_is_copy", """
        def f(x):
            a = x * 1.0
            b = a[[0, 1]]
            b[0] = 9.0
            return np.sum(a * x) + np.sum(b)
    """),
    P("mask_index_is_copy", """
        def f(x):
            a = x * 1.0
            b = a[a > 0]
            b[0] = 9.0
            return np.sum(a * x) + np.sum(b * 2.0)
    """),
    P("swap_via_tuple_assignment_views", """
        def f(x):
            a = x * 1.0
            a[0], a[1] = a[1], a[0]
            return np.sum(a * C)
    """),
    P("swap_rows_fancy", """
        def f(x):
            m = np.outer(x, C)
            m[[0, 1]] = m[[1, 0]]
            return np.sum(m * M)
    """),
    P("overlapping_slice_assign", """
        def f(x):
            a = np.concatenate([x, x]) * 1.0
            a[1:] = a[:-1]
            return np.sum(a * np.arange(6.0))
    """),
    P("overlapping_slice_iadd", """
        def f(x):
            a = x * 1.0
            a[1:] += a[:-1]
            return np.sum(a * C)
    """),
    P("setitem_after_read_saved", """
        def f(x):
            a = x * 2.0
            h = a[0]
            a[0] = 5.0
            return h * h + np.sum(a * C)
    """),
    P("scalar_view_zero_dim", """
        def f(x):
            a = x * 1.0
            s = a[0, ...]
            s[...] = 4.0
            return np.sum(a * x)
    """),
    P("diagonal_view_readonly_copy", """
        def f(x):
            m = np.outer(x, C)
            d = np.diagonal(m).copy()
            d[0] = 3.0
            return np.sum(m) + np.sum(d * C)
    """),
    P("in_place_on_global_array", """
        BUF = np.zeros(3)
        def f(x):
            BUF[:] = x * 2.0
            return np.sum(BUF * C)
    """),
    P("in_place_global_then_read_next_call", """
        BUF = np.zeros(3)
        def f(x):
            BUF[...] = 0.0
            BUF[:] += x ** 2
            return np.sum(BUF * C)
    """),
    P("ravel_of_argument_written", """
        def f(w):
            v = w.ravel()
            v[0] = 0.0
            return np.sum(w * w)
    """, args="(A.copy(),)"),
    P("view_of_param_in_loop", """
        def f(x):
            a = x * 1.0
            for i in range(2):
                v = a[i:]
                v *= 2.0
            return np.sum(a * C)
    """),
    P("ravel_of_transpose_is_a_copy", """
        def f(x):
            a = np.outer(x, C)
            r = a.T.ravel()
            r[0] = 5.0
            return np.sum(a * M) + np.sum(r)
    """),
    P("ravel_of_contiguous_is_a_view", """
        def f(x):
            a = np.outer(x, C)
            r = a.ravel()
            r[0] = 5.0
            return np.sum(a * M) + np.sum(r)
    """),
    P("transpose_view_iadd", """
        def f(x):
            a = np.outer(x, C)
            a.T[0] += x
            return np.sum(a * M)
    """),
    P("squeeze_view_write", """
        def f(x):
            a = x[:, None] * 1.0
            s = np.squeeze(a)
            s[1] = 0.0
            return np.sum(a[:, 0] * x)
    """),
    P("ellipsis_view_write", """
        def f(x):
            a = x * 1.0
            v = a[...]
            v *= 2.0
            return np.sum(a * C)
    """),
    P("reshape_of_argument_written", """
        def f(x):
            y = x * 1.0
            y.reshape(3, 1)[0, 0] = 2.0
            return np.sum(y * x)
    """),
    P("chained_views_write", """
        def f(x):
            a = np.concatenate([x, x]) * 1.0
            v = a[1:][::2]
            v[1] = 0.0
            return np.sum(a * np.arange(6.0))
    """),
    P("data_argument_is_the_differentiated_one", """
        def f(w, x):
            x = w
            return np.sum(x * x)
    """, args="(lambda a: (a, a))(X.copy())"),
    P("helper_data_argument_is_the_differentiated_global", """
        W0 = np.array([0.3, -0.7, 1.2])

        def g(w, h):
            for i in range(2):
                if i == 0:
                    h = w
                else:
                    h = np.tanh(h) * w
            return h

        def f(w):
            return np.sum(g(w, W0))
    """, args="(W0,)"),
    P("caller_replaces_list_element_after_helper_loops_over_it", """
        def helper(a, ws):
            for q in ws:
                a = np.arctan(q @ a)
            return a ** 2

        def f(x):
            hs = [np.outer(x, C)]
            t = helper(x * 0.5, hs)
            hs[-1] = np.mean(t) * M
            return np.sum(hs[-1])
    """),
    P("caller_appends_to_list_after_helper_indexes_it_in_a_loop", """
        def helper(a, ws):
            for i in range(len(ws)):
                a = np.tanh(ws[i] * a)
            return a

        def f(x):
            hs = [x * 2.0, np.sin(x)]
            t = helper(x, hs)
            hs[0] = t * 3.0
            hs.append(t)
            return np.sum(hs[0] * C) + np.sum(hs[-1])
    """),
    # a slot replaced by a value of another shape: its adjoint before the write is shaped
    # like the old element (zeros shaped like the new one broadcast into the old reads)
    P("list_slot_replaced_by_other_shape_after_read", """
        def f(x):
            hs = [x, 2 * x]
            z = hs[1] * 3.0
            hs[1] = x[:, None] * 1.0
            return np.sum(z * C) + np.sum(hs[1])
    """),
    P("list_slot_replaced_by_other_shape_after_concatenate", """
        def f(x):
            hs = [x, 2 * x]
            y = np.concatenate(hs)
            hs[1] = x[:, None] * 1.0
            return np.sum(y * np.arange(6.0)) + np.sum(hs[1])
    """),
    P("dict_value_replaced_by_other_shape", """
        def f(x):
            d = {"a": x, "b": 2 * x}
            z = d["b"] * 3.0
            d["b"] = x[:, None] * 1.0
            return np.sum(z * C) + np.sum(d["b"])
    """),
    P("dict_new_key_then_replaced_by_other_shape", """
        def f(x):
            d = {"a": x}
            d["c"] = x ** 2
            z = d["c"] * 3.0
            d["c"] = x[:, None] * 1.0
            return np.sum(z * C) + np.sum(d["c"]) + np.sum(d["a"])
    """),
    P("list_slot_reshaped_in_each_iteration", """
        def f(x):
            hs = [x, 2 * x]
            s = 0.0
            for i in range(3):
                s = s + np.sum(hs[1] * C)
                hs[1] = np.sum(hs[1]) * x[:, None]
            return s + np.sum(hs[1])
    """),
    P("list_last_slot_replaced_by_a_scalar", """
        def f(x):
            hs = [x, 2 * x]
            z = hs[-1] * 3.0
            hs[-1] = np.sum(x)
            return np.sum(z * C) + hs[-1] * 2.0
    """),
    P("list_slice_assignment_changes_its_length", """
        def f(x):
            hs = [x, 2 * x]
            z = hs[1] * 3.0
            hs[0:1] = [x ** 2, x[:, None]]
            return np.sum(z * C) + np.sum(hs[0]) + np.sum(hs[1])
    """),
    P("caller_replaces_element_by_other_shape_after_helper_reads_another", """
        def helper(ws):
            return np.sum(ws[0] ** 2)

        def f(x):
            hs = [x, 2 * x]
            z = hs[1] * 3.0
            t = helper(hs)
            hs[1] = x[:, None] * 1.0
            return t + np.sum(z * C) + np.sum(hs[1])
    """),
    P("helper_replaces_callers_element_by_other_shape", """
        def widen(ws):
            ws[1] = ws[1][:, None] * ws[0]

        def f(x):
            hs = [x, x * 2.0]
            z = hs[1] * 3.0
            widen(hs)
            return np.sum(z * C) + np.sum(hs[1] ** 2)
    """),
    P("differentiated_list_argument_element_widened", """
        def f(w):
            w[0] = w[0][:, None] * 2.0
            return np.sum(w[0] ** 2) + np.sum(w[1] * C)
    """, args="([X.copy(), Y.copy()],)"),
    P("array_column_from_an_overlapping_row_of_itself", """
        def f(x):
            a = np.outer(x, C)
            a[:, 2] = a[1]
            return np.sum(a * M)
    """),
]
