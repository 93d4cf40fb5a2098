"""Random programs on issue 11's themes, checked like the adversarial suite.

The main grammar (programs.py) generates what the compiler models; these programs are
drawn from templates of what users write and compilers get wrong: aliasing and in-place
writes, rebinding between calls, factories and closures, lambdas, container arithmetic,
``for``/``while ... else``, side-effecting calls. Each template's holes are filled at
random (smooth elementwise functions, constants, indices, loop counts), and the
differentiated value is one of several parameter structures: a bare vector, a non-square
matrix, a rank-3 array, a dict, a nested list/tuple, a tuple ``wrt`` of two arguments,
float32. ``generate_theme(seed)`` gives a :class:`tests.adversarial.program.Program`;
``check_theme(program, directory)`` runs it in auto, source and tape mode against central
differences at two steps (tests/adversarial/runner.py) and returns the outcomes: each
must be right or a knetc error naming the user's file:line.

Themes listed in ``programs.KNOWN_BUGS`` as ``theme:<name>`` are left out of the default
draw (``KNETC_FUZZ_KNOWN_BUGS`` puts them back), like the main grammar's open bugs.
"""
import os
import random
import sys

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.adversarial.program import Program  # noqa: E402
from tests.adversarial import runner  # noqa: E402

THEMES = ("alias", "rebind", "factory", "lambda", "containers", "loop_else", "effects", "replace")
STRUCTURES = ("vector", "matrix", "rank3", "dict", "nested", "tuple_wrt", "float32")

# smooth, bounded-derivative elementwise functions of one array (``{a}``), numbered holes
UNARY = ["np.tanh({a})", "np.sin({a})", "np.cos({a}) * 0.5", "np.arctan({a})", "{a} * {a}",
         "np.exp(-{a} * {a})", "{a} / (1.0 + {a} * {a})", "np.log(1.0 + {a} * {a})",
         "np.sqrt({a} * {a} + 1.0)", "({a} * 0.5 + 0.1) ** 3", "np.tanh({a}) * {a}"]
FUNCS = ["np.tanh", "np.sin", "np.arctan", "np.cos", "np.exp", "_sq", "_soft"]
HELPERS = '''
def _sq(t):
    return t * t


def _soft(t):
    return t / (1.0 + t * t)
'''


class ThemeGen:
    def __init__(self, seed, form=None):
        self.seed = seed
        self.rng = random.Random(seed)
        self.forced = form
        self.form = None

    def pick_form(self, n):
        """The template variant: drawn, or the one asked for (reproducers name one)."""
        self.form = self.rng.randrange(n) if self.forced is None else self.forced % n
        return self.form

    # ---- holes ---------------------------------------------------------------------
    def k(self, lo=0.3, hi=1.5):
        v = round(self.rng.uniform(lo, hi), 2) * self.rng.choice([1, -1])
        return f"({v})" if v < 0 else repr(v)

    def u(self, a, depth=None):
        depth = self.rng.randint(1, 2) if depth is None else depth
        code = a
        for _ in range(depth):
            code = self.rng.choice(UNARY).format(a=code if code.isidentifier() else f"({code})")
        return code

    def i(self, n=3):
        return self.rng.randrange(n)

    def fn_pair(self):
        a, b = self.rng.sample(FUNCS, 2)
        return a, b

    # ---- the differentiated value ---------------------------------------------------------
    def structure(self):
        """(parameter list, args expression, wrt, base expression of shape (3,), rtol, prelude)."""
        r = self.rng
        s = r.choice(STRUCTURES)
        vals = lambda n: [round(r.uniform(-0.9, 0.9), 3) for _ in range(n)]          # noqa: E731
        if s == "vector":
            return s, "x", f"(np.array({vals(3)}),)", 0, "x", 1e-6
        if s == "float32":
            return s, "x", f"(np.array({vals(3)}, dtype=np.float32),)", 0, "x", 3e-4
        if s == "matrix":            # (3, 2) @ (2,): a non-square matrix parameter
            return (s, "x", f"(np.array({vals(6)}).reshape(3, 2),)", 0,
                    f"x @ np.array([{self.k()}, {self.k()}])", 1e-6)
        if s == "rank3":
            return (s, "x", f"(np.array({vals(12)}).reshape(2, 3, 2),)", 0,
                    "np.sum(x * np.array([1.0, -0.5]), axis=(0, 2))", 1e-6)
        if s == "dict":
            return (s, "x", f"({{'a': np.array({vals(3)}), 'b': np.array({vals(3)})}},)", 0,
                    "x['a'] * 1.5 + np.sin(x['b'])", 1e-6)
        if s == "nested":
            return (s, "x", f"([np.array({vals(3)}), (np.array({vals(3)}), {vals(1)[0]})],)", 0,
                    "x[0] + x[1][0] * x[1][1]", 1e-6)
        return (s, "x, y", f"(np.array({vals(3)}), np.array({vals(3)}))", (0, 1),
                "x * 0.7 + y * y", 1e-6)

    # ---- themes ------------------------------------------------------------------------
    def program(self, theme=None):
        theme = theme or self.rng.choice(THEMES)
        s, params, args, wrt, base, rtol = self.structure()
        self.args, self.wrt = args, wrt
        body, extra, mutate, fun = getattr(self, "t_" + theme)(params, base)
        source = HELPERS + "\n" + extra + "\n" + body
        name = f"theme-{theme}-{self.form}-{s}-seed{self.seed}"
        return Program(name, source, args=args, wrt=wrt, fun=fun, mutate=tuple(mutate), rtol=rtol,
                       group=f"theme:{theme}:{self.form}")

    def warm(self, fun):
        """A gradient call at import time, as a notebook's earlier cell makes."""
        return f"_warm = knet.grad({fun}, wrt={self.wrt!r})(*{self.args})"

    def t_alias(self, params, base):
        r, i, j = self.rng, self.i(), self.i()
        k = self.k()
        form = self.pick_form(9)
        lines = [f"def f({params}):", f"    v = {base}", f"    a = {self.u('v')}"]
        if form == 0:
            lines += ["    b = a", f"    b[{i}] = {self.u(f'v[{j}]', 1)}"]
        elif form == 1:
            lines += [f"    s = a[{i}:]", f"    s *= {k}"]
        elif form == 2:
            lines += ["    s = a[1:]", f"    s[:] = {self.u('s', 1)}"]
        elif form == 3:
            lines += ["    hs = [a]", f"    a[{i}] = {self.u(f'v[{j}]', 1)}", "    a = hs[0]"]
        elif form == 4:
            lines = [f"def scale(t):", f"    t *= {k}", ""] + lines + ["    scale(a)"]
        elif form == 5:
            lines += ["    b = a", f"    b += {self.u('v', 1)}"]
        elif form == 6:
            lines += ["    m = np.outer(a, C)", f"    row = m[{i}]", f"    row *= {k}", "    a = np.sum(m, axis=0)"]
        elif form == 7:
            lines += ["    t = a.reshape(3, 1)", f"    t[{i}, 0] = {self.u(f'v[{j}]', 1)}"]
        else:
            lines += [f"    a[[{i}, {i}]] = v[:2] * {k}"]
        lines += [f"    return np.sum(a * C) + {self.k()} * np.sum(v * v)"]
        return "\n".join(lines), "C = np.array([1.0, -2.0, 0.5])", [], "f"

    def t_rebind(self, params, base):
        r = self.rng
        f1, f2 = self.fn_pair()
        form = self.pick_form(7)
        if form == 0:
            extra = f"act = {f1}"
            body = f"def f({params}):\n    return np.sum(act({base}) * C)\n\ndef mutate():\n    global act\n    act = {f2}"
        elif form == 1:
            extra = f"W = np.array([{self.k()}, {self.k()}, {self.k()}])"
            body = (f"def f({params}):\n    return np.sum({self.u(base)} * W)\n\ndef mutate():\n"
                    f"    global W\n    W = np.array([{self.k()}, {self.k()}, {self.k()}])")
        elif form == 2:
            extra = f"import types\ncfg = types.SimpleNamespace(act={f1}, k={self.k()})"
            body = (f"def f({params}):\n    return np.sum(cfg.act({base}) * cfg.k)\n\ndef mutate():\n"
                    f"    cfg.act = {f2}\n    cfg.k = {self.k()}")
        elif form == 3:
            extra = f"cell('''\ndef h(t):\n    return {self.u('t')}\n''')"
            body = (f"def f({params}):\n    return np.sum(h({base}) * C)\n\ndef mutate():\n"
                    f"    cell('''\ndef h(t):\n    return {self.u('t')} * {self.k()}\n''')")
        elif form == 4:
            extra = f"def layer(t, k={self.k()}):\n    return {self.u('t', 1)} * k"
            body = (f"def f({params}):\n    return np.sum(layer({base}) * C)\n\ndef mutate():\n"
                    f"    layer.__defaults__ = ({self.k()},)")
        elif form == 5:
            extra = ""
            body = (f"def make():\n    act = {f1}\n    def f({params}):\n        return np.sum(act({base}) * C)\n"
                    f"    def rebind():\n        nonlocal act\n        act = {f2}\n    return f, rebind\n\n"
                    f"f, _rebind = make()\n\ndef mutate():\n    _rebind()")
        else:
            n1, n2 = r.sample([1, 2, 3], 2)
            extra = f"N = {n1}"
            body = (f"def f({params}):\n    y = {base}\n    for _ in range(N):\n        y = {self.u('y', 1)}\n"
                    f"    return np.sum(y * C)\n\ndef mutate():\n    global N\n    N = {n2}")
        return body, extra + "\nC = np.array([1.0, -2.0, 0.5])", ["mutate"], "f"

    def t_factory(self, params, base):
        r = self.rng
        k1, k2 = self.k(), self.k()
        form = self.pick_form(5)
        extra = "C = np.array([1.0, -2.0, 0.5])"
        if form == 0:
            body = (f"def make(k):\n    def loss({params}):\n        return np.sum({self.u(base)} * k)\n"
                    f"    return loss\n\nfirst = make({k1})\n{self.warm('first')}\nf = make({k2})")
            return body, extra, [], "f"
        if form == 1:
            body = (f"def make(k):\n    return lambda {params}: np.sum({self.u(base)} * k * C)\n\n"
                    f"FS = [make({k1}), make({k2})]\n{self.warm('FS[0]')}\nf = FS[1]")
            return body, extra, [], "f"
        if form == 2:
            body = (f"FS = []\nfor s in ({k1}, {k2}):\n    def loss({params}, k=s):\n"
                    f"        return np.sum({self.u(base)} * k)\n    FS.append(loss)\n{self.warm('FS[0]')}\nf = FS[1]")
            return body, extra, [], "f"
        if form == 3:
            body = (f"class Model:\n    def __init__(self, k):\n        self.k = k\n"
                    f"    def loss(self, {params}):\n        return np.sum({self.u(base)} * self.k)\n\n"
                    f"m1, m2 = Model({k1}), Model({k2})\n{self.warm('m1.loss')}\nf = m2.loss")
            return body, extra, [], "f"
        body = (f"def scale_by(a):\n    return lambda t: t * a\n\ndef f({params}):\n    v = {base}\n"
                f"    g = scale_by(v[{self.i()}])\n    return np.sum(g(C)) + np.sum({self.u('v', 1)})")
        return body, extra, [], "f"

    def t_lambda(self, params, base):
        r = self.rng
        form = self.pick_form(4)
        extra = "C = np.array([1.0, -2.0, 0.5])"
        l1 = f"lambda {params}: np.sum({self.u(base)} * C)"
        l2 = f"lambda {params}: np.sum({self.u(base)})"
        if form == 0:
            return f"g1, g2 = ({l1}), ({l2})\nf = g{r.randint(1, 2)}", extra, [], "f"
        if form == 1:
            return f"FS = [{l1}, {l2}]\nf = FS[{r.randrange(2)}]", extra, [], "f"
        if form == 2:
            body = (f"def f({params}):\n    v = {base}\n    sq = lambda t: {self.u('t')}\n"
                    f"    return np.sum(sq(v) * C)")
            return body, extra, [], "f"
        body = (f"def f({params}):\n    v = {base}\n    g = lambda t, k={self.k()}: t * k\n"
                f"    return np.sum(g(v) ** 2) + np.sum(g(v, {self.k()}))")
        return body, extra, [], "f"

    def t_containers(self, params, base):
        r = self.rng
        i, j = self.i(), self.i()
        form = self.pick_form(7)
        head = [f"def f({params}):", f"    v = {base}"]
        e = lambda: self.u(f"v[{self.i()}]", 1)                         # noqa: E731
        if form == 0:
            head += [f"    t = [{e()}, {e()}] + [{e()}]", f"    return t[{i}] * {self.k()} + t[{j}]"]
        elif form == 1:
            head += [f"    hs = [{self.u('v', 1)}]", f"    hs += [{self.u('v', 1)}]",
                     "    return np.sum(hs[0] * C) + np.sum(hs[-1])"]
        elif form == 2:
            head += [f"    t = [{e()}] * 3", f"    return t[0] + t[{i}] * {self.k()} + v[{j}]"]
        elif form == 3:
            head += [f"    t = ({e()},) + ({e()}, {e()})", f"    return t[{i}] * t[{j}] + t[0]"]
        elif form == 4:
            head += [f"    hs = [{self.u('v', 1)} * q for q in (1.0, {self.k()})]",
                     "    return np.sum(hs[-1] * C) + np.sum(hs[0])"]
        elif form == 5:
            head += [f"    return np.sum(sum([v, {self.u('v', 1)}]) * C)"]
        else:
            head += [f"    d = {{'a': v}}", f"    d = {{**d, 'b': {self.u('v', 1)}}}",
                     "    return np.sum(d['a'] * C) + np.sum(d['b'])"]
        return "\n".join(head), "C = np.array([1.0, -2.0, 0.5])", [], "f"

    def t_loop_else(self, params, base):
        r = self.rng
        n = r.randint(0, 3)
        b = r.randint(0, 3)
        k = self.k()
        form = self.pick_form(4)
        lines = [f"def f({params}):", f"    y = {base}"]
        if form == 0:
            lines += [f"    for i in range({n}):", f"        y = {self.u('y', 1)}", f"        if i == {b}:",
                      "            break", "    else:", f"        y = y * {k}"]
        elif form == 1:
            lines += ["    i = 0", f"    while i < {n}:", f"        y = {self.u('y', 1)}", "        i += 1",
                      f"        if i == {b}:", "            break", "    else:", f"        y = y + {self.u('y', 1)}"]
        elif form == 2:
            lines += [f"    for q in [y, y * {k}]:", f"        y = y + {self.u('q', 1)}", "    else:",
                      f"        y = y * {self.k()}"]
        else:
            lines += ["    work = [y]", "    for q in work:", f"        if len(work) < {n + 1}:",
                      f"            work.append({self.u('q', 1)})", "    y = work[-1]"]
        lines += ["    return np.sum(y * C)"]
        return "\n".join(lines), "C = np.array([1.0, -2.0, 0.5])", [], "f"

    def t_effects(self, params, base):
        r = self.rng
        i = self.i()
        form = self.pick_form(10)
        lines = [f"def f({params}):", f"    v = {base}"]
        tail = "    return np.sum(a * C)"
        if form == 0:
            lines += [f"    hs = [v]", f"    hs.extend([{self.u('v', 1)}])", "    a = hs[-1]"]
        elif form == 1:
            lines += [f"    hs = [v]", f"    hs.insert(0, {self.u('v', 1)})", "    a = hs[0]"]
        elif form == 2:
            lines += [f"    hs = [v, {self.u('v', 1)}]", "    a = hs.pop()", "    a = a + hs[0]"]
        elif form == 3:
            lines += [f"    d = {{'a': v}}", f"    d.update(a={self.u('v', 1)})", "    a = d['a']"]
        elif form == 4:
            lines += ["    d = {}", f"    a = d.setdefault('k', {self.u('v', 1)})"]
        elif form == 5:
            lines += ["    a = np.zeros(3)", f"    np.add.at(a, np.array([{i}, {i}, {self.i()}]), {self.u('v', 1)})"]
        elif form == 6:
            lines += ["    a = np.zeros(3)", f"    np.copyto(a, {self.u('v', 1)})"]
        elif form == 7:
            lines += ["    a = np.zeros(3)", f"    np.tanh(v, out=a)"]
        elif form == 8:
            lines = ["def push(state, t):", f"    state[0].append({self.u('t', 1)})", ""] + lines + [
                "    state = [[v]]", "    push(state, v)", "    a = state[0][-1]"]
        else:
            lines += ["    hs = []", "    def add(t):", f"        hs.append({self.u('t', 1)})", "    add(v)",
                      "    a = hs[0]"]
        lines += [tail]
        return "\n".join(lines), "C = np.array([1.0, -2.0, 0.5])", [], "f"


    def t_replace(self, params, base):
        """An element of a list or dict replaced after reads, often by a value of another shape,
        before or after a helper or a rule got the container."""
        i = self.i(2)
        form = self.pick_form(7)
        new = self.rng.choice(["{u}[:, None] * {k}", "np.sum({u})", "{u}[:2]", "{u} * {k}"]).format(
            u=f"({self.u('v', 1)})", k=self.k())
        lines = [f"def f({params}):", f"    v = {base}", f"    hs = [{self.u('v', 1)}, {self.u('v', 1)}]"]
        extra = "C = np.array([1.0, -2.0, 0.5])"
        if form == 0:
            lines += [f"    z = hs[{i}] * {self.k()}", f"    hs[{i}] = {new}"]
        elif form == 1:
            lines = lines[:2] + [f"    d = {{'a': {self.u('v', 1)}, 'b': {self.u('v', 1)}}}",
                                 f"    z = d['b'] * {self.k()}", f"    d['b'] = {new}",
                                 f"    d['c'] = {self.u('z', 1)}", "    hs = [d['a'], d['b']]"]
            i = 1
        elif form == 2:
            column = self.rng.choice(["v", "v[:, None]"])
            lines += ["    z = v * 0.0", f"    for i in range({self.rng.randint(1, 3)}):",
                      f"        z = z + hs[{i}] * {self.k()}", f"        hs[{i}] = np.sum(hs[{i}]) * {column}"]
        elif form == 3:
            extra += "\n\n\ndef g(ws):\n    return ws[0] * ws[1]\n"
            lines += ["    z = g(hs)", f"    hs[{i}] = {new}"]
        elif form == 4:
            extra += "\n\n\ndef g(a, ws):\n    for q in ws:\n        a = np.arctan(q * a)\n    return np.tanh(a)\n"
            lines += [f"    z = g({self.u('v', 1)}, hs)", f"    hs[{i}] = {new}"]
        elif form == 5:
            lines += [f"    z = np.concatenate(hs)[{self.rng.choice(['1:4', ':3', '3:'])}]", f"    hs[{i}] = {new}"]
        else:
            lines += ["    z = np.sum(np.array([hs, hs]), axis=(0, 1))", f"    hs[{i}] = {self.u('v', 1)}"]
        lines += [f"    return np.sum(z * C) + np.sum(hs[{i}]) + np.sum(hs[{1 - i}] * C)"]
        return "\n".join(lines), extra, [], "f"


# the number of template variants of each theme
FORMS = {"alias": 9, "rebind": 7, "factory": 5, "lambda": 4, "containers": 7, "loop_else": 4, "effects": 10,
         "replace": 7}


def _excluded():
    programs = sys.modules.get("knetc_fuzz_programs") or sys.modules.get("programs")
    if programs is None:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import programs
    included = programs._included_bugs()
    return {b for b in programs.KNOWN_BUGS if b.startswith("theme:") and b not in included}


def generate_theme(seed, theme=None, form=None):
    """The theme program of one seed; ``theme`` and ``form`` (the template variant) may be
    given, else drawn, leaving out the variants that ``programs.KNOWN_BUGS`` names
    (``theme:<theme>:<form>``) unless they are included. None when all are left out."""
    rng = random.Random(seed)
    excluded = _excluded()
    choices = [(t, k) for t in THEMES for k in range(FORMS[t])
               if (theme is None or t == theme) and (form is None or k == form)
               and (theme is not None and form is not None or f"theme:{t}:{k}" not in excluded)]
    if not choices:
        return None
    t, k = rng.choice(choices)
    return ThemeGen(seed, form=k).program(t)


def check_theme(program, directory):
    """The outcomes of ``program`` in auto, source and tape mode (see tests/adversarial/runner.py)."""
    return [runner.run(program, mode, directory) for mode in runner.MODES]


# ---- forward mode ---------------------------------------------------------------------------
FORWARD_MODES = ("auto", "source", "tape")


def _tangents_for(args, wrt, seed):
    """A random tangent per differentiated argument (its structure and dtype), None for the others."""
    import numpy as np
    from knetc.runtime.tree import tree_flatten, tree_unflatten
    r = np.random.default_rng([seed, 104729])
    wrt = wrt if isinstance(wrt, tuple) else (wrt,)
    out = []
    for k, a in enumerate(args):
        if k not in wrt:
            out.append(None)
            continue
        leaves, spec = tree_flatten(a)
        out.append(tree_unflatten(spec, [
            float(r.standard_normal()) if isinstance(l, float)
            else r.standard_normal(np.shape(l)).astype(getattr(l, "dtype", np.float64)) for l in leaves]))
    return tuple(out)


def _shifted(args, tangents, h):
    """Float64 copies of ``args`` moved by ``h * tangents`` (None: unchanged)."""
    import numpy as np
    from knetc.runtime.tree import tree_flatten, tree_unflatten
    out = []
    for a, t in zip(args, tangents):
        if t is None:
            out.append(a)
            continue
        leaves, spec = tree_flatten(a)
        out.append(tree_unflatten(spec, [np.asarray(p, dtype=np.float64) + h * np.asarray(q, dtype=np.float64)
                                         if not isinstance(p, float) else p + h * q
                                         for p, q in zip(leaves, tree_flatten(t)[0])]))
    return out


def _directional(fun, make_args, tangents, h):
    import copy
    import numpy as np
    up = fun(*copy.deepcopy(_shifted(make_args(), tangents, h)))
    down = fun(*copy.deepcopy(_shifted(make_args(), tangents, -h)))
    return (float(np.asarray(up, dtype=np.float64)) - float(np.asarray(down, dtype=np.float64))) / (2 * h)


def run_forward(program, mode, directory, seed=0):
    """The Outcome of ``knet.jvp(f, args, tangents, mode=mode)`` against central differences
    along the tangent (two steps), on the first call, again, and after each ``mutate``
    stage; a refusal must be loud (a KnetError naming the program's file:line)."""
    import copy
    import traceback
    import warnings
    import numpy as np
    import knetc as knet
    from knetc.errors import KnetError
    outcome = runner.Outcome(program.name, program.group, "fwd-" + mode, "right")
    try:
        module = runner.load(program, directory)
    except Exception:
        outcome.kind, outcome.detail = "broken", "the module does not import:\n" + traceback.format_exc(limit=3)
        return outcome
    ns = module.__dict__
    make_args = lambda: eval(program.args, ns)                          # noqa: E731
    tangents = _tangents_for(make_args(), program.wrt, seed)
    tol = max(program.rtol, 1e-6)
    louds = []
    try:
        for stage in [None] + list(program.mutate):
            tag = "first call" if stage is None else f"after {stage}()"
            if stage is not None:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    getattr(module, stage)()
            fun = getattr(module, program.fun)
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    fds = [_directional(fun, make_args, tangents, h) for h in runner.STEPS]
                    plain_args = make_args()
                    plain = fun(*plain_args)
                except Exception:
                    raise runner._Verdict("broken", "the program raised when called plainly:\n"
                                          + traceback.format_exc(limit=-2))
                scale = max(1.0, abs(fds[0]))
                if abs(fds[0] - fds[1]) > tol * scale:
                    raise runner._Verdict("broken", f"finite differences along t at {runner.STEPS} disagree: {fds}")
                for label in (tag, f"{tag}, called again"):
                    args = make_args()
                    try:
                        value, tan = knet.jvp(fun, tuple(args), tangents, mode=mode)
                    except KnetError as e:
                        if runner._location_ok(program, module, str(e)):
                            louds.append(f"{label}: {type(e).__name__}: {str(e).splitlines()[0][:300]}")
                            continue
                        raise runner._Verdict("cryptic", f"{label}: {type(e).__name__} naming no file:line "
                                                         f"of the program: {str(e)[:300]}")
                    except Exception as e:
                        tb = traceback.extract_tb(e.__traceback__)[-1]
                        raise runner._Verdict("cryptic", f"{label}: {type(e).__name__}: {str(e)[:300]} "
                                                         f"(at {os.path.basename(tb.filename)}:{tb.lineno})")
                    got = float(np.asarray(tan, dtype=np.float64))
                    if not min(abs(got - fd) for fd in fds) <= tol * scale:
                        raise runner._Verdict("WRONG", f"{label}: jvp tangent {got!r}, central differences {fds}")
                    if not np.allclose(np.asarray(value, dtype=float), np.asarray(plain, dtype=float),
                                       rtol=1e-6 if program.rtol > 1e-6 else 1e-9, atol=1e-12):
                        raise runner._Verdict("WRONG", f"{label}: the jvp value {value!r} differs from "
                                                       f"a plain call's {plain!r}")
                    differs = runner._same_state(runner._state(args), runner._state(plain_args))
                    if differs:
                        raise runner._Verdict("WRONG", f"{label}: the caller's arguments differ from a "
                                                       f"plain call's: {differs}")
        if louds:
            outcome.kind, outcome.detail = "loud", louds[0]
    except runner._Verdict as v:
        outcome.kind, outcome.detail = v.kind, v.detail
    except Exception:
        outcome.kind, outcome.detail = "cryptic", "outside the jvp call:\n" + traceback.format_exc(limit=4)
    finally:
        sys.modules.pop(module.__name__, None)
    if outcome.failed and outcome.kind != "broken":
        outcome.detail += "\n---- tangent program ----\n" + knet.jvp_source(getattr(module, program.fun))
    return outcome


def check_theme_forward(program, directory, seed=0):
    """The forward-mode outcomes of ``program`` in auto, source and tape mode (see run_forward)."""
    return [run_forward(program, mode, directory, seed) for mode in FORWARD_MODES]
