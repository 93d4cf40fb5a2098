"""Group 2: the wrong source is compiled.

Several lambdas on one line, decorators (``functools.wraps`` and not), functions whose
module file changed on disk after import, ``exec``'d definitions that reuse a name, source
that no longer matches the code object.
"""
from .program import P

PROGRAMS = [
    P("two_lambdas_one_line_second", """
        sq, wave = (lambda x: np.sum(x ** 2)), (lambda x: np.sum(np.sin(x)))
    """, fun="wave"),
    P("two_lambdas_one_line_first", """
        sq, wave = (lambda x: np.sum(x ** 2)), (lambda x: np.sum(np.sin(x)))
    """, fun="sq"),
    P("lambdas_in_a_list_one_line", """
        LOSSES = [lambda x: np.sum(x * C), lambda x: np.sum(np.exp(x)), lambda x: np.sum(x ** 3)]
        f = LOSSES[1]
    """),
    P("lambdas_in_a_dict_one_line", """
        LOSSES = {"a": lambda x: np.sum(np.cos(x)), "b": lambda x: np.sum(np.tanh(x) * C)}
        f = LOSSES["b"]
    """),
    P("nested_lambda_same_line", """
        f = (lambda k: (lambda x: np.sum(np.sin(x) * k)))(3.0)
    """),
    P("lambda_with_default_same_line", """
        g1, g2 = (lambda x, k=2.0: np.sum(x * k)), (lambda x, k=5.0: np.sum(x * x * k))
        f = g2
    """),
    P("lambda_as_argument_same_line_as_other", """
        def pick(a, b):
            return b
        f = pick(lambda x: np.sum(x), lambda x: np.sum(x * x * C))
    """),
    P("wraps_decorator_scales", """
        def scaled(fn):
            @functools.wraps(fn)
            def wrapper(x):
                return 3.0 * fn(x)
            return wrapper
        @scaled
        def f(x):
            return np.sum(np.sin(x))
    """),
    P("wraps_decorator_transforms_input", """
        def shifted(fn):
            @functools.wraps(fn)
            def wrapper(x):
                return fn(x * 2.0 + 1.0)
            return wrapper
        @shifted
        def f(x):
            return np.sum(np.tanh(x) * C)
    """),
    P("wraps_decorator_adds_penalty", """
        def penalised(fn):
            @functools.wraps(fn)
            def wrapper(x):
                return fn(x) + np.sum(x ** 4)
            return wrapper
        @penalised
        def f(x):
            return np.sum(x * C)
    """),
    P("wraps_decorator_on_helper", """
        def doubled(fn):
            @functools.wraps(fn)
            def wrapper(z):
                return 2.0 * fn(z)
            return wrapper
        @doubled
        def h(z):
            return np.sin(z)
        def f(x):
            return np.sum(h(x) * C)
    """),
    P("decorator_without_wraps", """
        def squared(fn):
            def wrapper(x):
                return fn(x) ** 2
            return wrapper
        @squared
        def f(x):
            return np.sum(np.sin(x))
    """),
    P("decorator_returning_other_function", """
        def replace(fn):
            return lambda x: np.sum(np.exp(x))
        @replace
        def f(x):
            return np.sum(x)
    """),
    P("decorator_setting_wrapped_by_hand", """
        def base(x):
            return np.sum(x * x)
        def f(x):
            return np.sum(np.sin(x) * C)
        f.__wrapped__ = base
    """),
    P("wraps_lru_cache_like", """
        def memo(fn):
            cache = {}
            @functools.wraps(fn)
            def wrapper(x):
                return fn(x) * 0.5
            wrapper.cache = cache
            return wrapper
        @memo
        def f(x):
            return np.sum(np.cos(x) * C)
    """),
    P("stacked_wraps_decorators", """
        def add1(fn):
            @functools.wraps(fn)
            def w(x):
                return fn(x) + np.sum(x)
            return w
        def times2(fn):
            @functools.wraps(fn)
            def w(x):
                return 2.0 * fn(x)
            return w
        @add1
        @times2
        def f(x):
            return np.sum(x ** 2)
    """),
    P("file_edited_on_disk_after_import", """
        import os
        def f(x):
            return np.sum(np.sin(x) * C)
        def mutate():
            path = __file__
            text = open(path).read()
            text = text.replace("np.sum(np.sin(x) * C)", "np.sum(np.exp(x) * C)", 1)
            with open(path, "w") as fh:
                fh.write(text)
            linecache.checkcache(path)
    """, mutate="mutate"),
    P("file_edited_helper_on_disk", """
        def h(z):
            return np.tanh(z)
        def f(x):
            return np.sum(h(x) * C)
        def mutate():
            path = __file__
            text = open(path).read()
            text = text.replace("return np.tanh(z)", "return np.cos(z) * 2.0", 1)
            with open(path, "w") as fh:
                fh.write(text)
            linecache.checkcache(path)
    """, mutate="mutate"),
    P("file_edited_lines_shifted", """
        def f(x):
            return np.sum(np.sin(x) * C)
        def mutate():
            path = __file__
            text = open(path).read()
            text = text.replace("def f(x):", "def g(x):\\n    return np.sum(np.exp(x))\\ndef f_old(x):", 1)
            with open(path, "w") as fh:
                fh.write(text)
            linecache.checkcache(path)
    """, mutate="mutate"),
    P("exec_defines_function_no_linecache", """
        _ns = {"np": np, "C": C}
        exec("def f(x):\\n    return np.sum(np.sin(x) * C)\\n", _ns)
        f = _ns["f"]
    """, where=r"(?:{file}|<string>):\d+"),
    P("file_edited_before_first_grad", """
        def f(x):
            return np.sum(np.sin(x) * C)
        _text = open(__file__).read()
        with open(__file__, "w") as _fh:
            _fh.write(_text.replace("np.sum(np.sin(x) * C)", "np.sum(np.exp(x) * C)", 1))
        linecache.checkcache(__file__)
    """),
    P("file_edited_helper_before_first_grad", """
        def h(z):
            return np.tanh(z)
        def f(x):
            return np.sum(h(x) * C)
        _text = open(__file__).read()
        with open(__file__, "w") as _fh:
            _fh.write(_text.replace("return np.tanh(z)", "return np.cos(z) * 2.0", 1))
        linecache.checkcache(__file__)
    """),
    P("file_edited_line_inserted_before_first_grad", """
        def f(x):
            return np.sum(np.sin(x) * C)
        _text = open(__file__).read()
        with open(__file__, "w") as _fh:
            _fh.write(_text.replace("def f(x):", "def f(x):\\n    x = x * 3.0", 1))
        linecache.checkcache(__file__)
    """),
    P("exec_same_cell_name_reused", """
        name = "<cell-same>"
        def run(src):
            linecache.cache[name] = (len(src), None, src.splitlines(True), name)
            exec(compile(src, name, "exec"), globals())
        run("def f(x):\\n    return np.sum(np.sin(x))\\n")
        _first = f
        run("def f(x):\\n    return np.sum(np.exp(x) * C)\\n")
        f = _first
    """, where=r"(?:{file}|<cell-same>):\d+"),
    P("linecache_overwritten_for_file", """
        def f(x):
            return np.sum(np.sin(x) * C)
        def mutate():
            lines = linecache.getlines(__file__)
            new = [l.replace("np.sum(np.sin(x) * C)", "np.sum(x)") for l in lines]
            linecache.cache[__file__] = (sum(map(len, new)), None, new, __file__)
    """, mutate="mutate"),
    P("two_defs_same_name_first_kept", """
        def f(x):
            return np.sum(np.sin(x) * C)
        _keep = f
        def f(x):
            return np.sum(x ** 3)
        f_first = _keep
    """, fun="f_first"),
    P("two_defs_same_name_in_class_bodies", """
        class One:
            @staticmethod
            def loss(x):
                return np.sum(np.sin(x))
        class Two:
            @staticmethod
            def loss(x):
                return np.sum(np.exp(x) * C)
        f = Two.loss
    """),
    P("conditional_def_same_name", """
        if True:
            def f(x):
                return np.sum(np.cos(x) * C)
        else:
            def f(x):
                return np.sum(x)
    """),
    P("def_in_loop_last_kept", """
        FS = []
        for k in range(3):
            def f(x, k=k):
                return np.sum(np.sin(x) * (k + 1))
            FS.append(f)
        f = FS[0]
    """),
    P("functools_partial_loss", """
        def loss(x, k):
            return np.sum(np.sin(x) * k)
        f = functools.partial(loss, k=C)
    """),
    P("functools_partial_positional", """
        def loss(k, x):
            return np.sum(np.sin(x) * k)
        f = functools.partial(loss, C)
    """),
    P("lambda_on_continuation_lines", """
        f = (lambda x:
             np.sum(np.sin(x) * C)
             + np.sum(x ** 2))
    """),
    P("two_lambdas_ternary_same_line", """
        FLAG = False
        f = (lambda x: np.sum(x)) if FLAG else (lambda x: np.sum(np.exp(x) * C))
    """),
    P("lambda_in_call_keyword_same_line", """
        def choose(a=None, b=None):
            return b
        f = choose(a=lambda x: np.sum(x * 0.0), b=lambda x: np.sum(np.sin(x) ** 2))
    """),
    P("method_via_decorator_classmethod_like", """
        def logged(fn):
            @functools.wraps(fn)
            def w(*a):
                return fn(*a) + 1.0
            return w
        @logged
        def f(x):
            return np.sum(np.sin(x) * C)
    """),
]
