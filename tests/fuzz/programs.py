"""Random small loss programs for fuzzing knetc, and the three-way gradient check.

``generate(seed)`` returns a :class:`Case`: the Python source of a module that
defines ``loss(w, x)`` (plus helper functions it calls), the parameters ``w``
(a list or tuple of 1-3 float64 arrays of shapes (3,), (3, 3), (3, 1) and/or Python
floats; sometimes one bare array or a dict ``{"p0": ...}``) and the data ``x``.
The program is drawn from a small typed grammar driven by ``random.Random(seed)``,
so a seed always gives the same program. (tests/fuzz/themes.py draws the programs
of issue 11's themes: aliasing, rebinding, closures, containers, effects.)

Every expression has a static type: ``S`` (a scalar: Python float, NumPy
scalar or 0-d array), ``v`` (3,), ``c`` (3, 1), ``r`` (1, 3), ``m`` (3, 3),
or a *polymorphic* type ``P<k>`` for loop variables running over ``w``
itself, whose shape varies from one iteration to the next (only elementwise
operations with scalars and full reductions are applied to those). The
grammar covers straight-line NumPy code with broadcasting, ``for`` loops
over ``range`` (trip counts 0..4), over ``w``, over ``enumerate``/``zip``,
over local lists and over stacks of same-shaped parameters (``w[i]``),
``while`` loops with data-independent and data-dependent exits,
``break``/``continue``, ``if``/``elif``/``else`` on data and on Python
values, conditional expressions, ``and``/``or``/``not``, early ``return``,
indexing (ints, negative ints, loop variables, slices with steps, integer
arrays with repeats, boolean masks, ``None``), helper functions with keyword
and default arguments and several results, list parameters, a helper that
appends to a list passed in, nested ``def`` closures and lambdas, local
lists with ``append`` and item assignment, ``sum``/``np.stack`` of lists,
item assignment into local arrays, augmented assignment, ``math`` functions
and module-level constants.

Well-conditioning: values that a loop feeds back into itself are squashed
(``tanh``, ``sin``, ...), divisions are by ``b*b + 1`` and the like, ``log``
and ``sqrt`` only see positive arguments, and kinks (``abs``, ``maximum``,
``clip``, ``where``, data-dependent branches) sit at ties that random inputs
hit with probability ~0. Aliasing is kept out of the way of in-place updates:
only *accumulators* (fresh arrays the program owns) are updated with ``+=``
or item assignment, and a view of an accumulator is copied (``* 1.0``)
before it is stored anywhere, so the program's value does not depend on
knetc's documented ``a += b`` -> ``a = a + b`` difference.

``check_case(case, directory)`` writes the program to a real ``.py`` file
(the compiler reads the source with ``inspect``), imports it and compares
``knet.grad(loss, mode="source")``, ``knet.grad(loss, mode="tape")`` and
``knetc.testing.numeric_grad``; see :class:`Result`.
"""
import ast
import copy
import dataclasses
import importlib.util
import itertools
import os
import random
import re
import signal
import sys
import threading
import traceback
import warnings

import numpy as np

from knetc.testing import _leaves

# Constructs the default grammar leaves out because knetc gets them wrong. Every entry
# needs a minimal reproducer in tests/test_fuzz.py (KNOWN_BUG_REPRODUCERS), and
# test_known_bugs_still_reproduce fails once one no longer fails: then the entry goes
# (a stale entry silently stops the fuzzer from checking what it names).
# KNETC_FUZZ_KNOWN_BUGS=1 (or a comma-separated list of these names) puts them back.
KNOWN_BUGS = {
    # issue 11's themes (tests/fuzz/themes.py), template variants wrong on the code of
    # the adversarial branch; the fixes are expected to remove them all
    # (session 4: "theme:effects:8", a helper appending to a list inside a list, fixed: the
    # tape fallback's refusal names the helper's line)
}
# Forward mode (knet.jvp in every mode) shares the lowering and the tape: run with these
# put back (KNETC_FUZZ_KNOWN_BUGS=1 run.py --themes --forward-only) it is wrong on the same
# alias:*, effects:{0,1,3,5,6,7,9}, factory:4, lambda:{0,1}, loop_else:{1,3} and rebind:{0,2}
# variants; fixing them in reverse mode must fix them in forward mode too.
# Fixed since they were found, back in the grammar: `h = h`, `(-0.5) ** 2`, np.stack of a
# list appended to later (also by a helper), `for i, (p, d) in enumerate(zip(...))`,
# `for k in d`, keyword-only parameters, a helper parameter rebound to another shape,
# and in-place updates of untraced arrays on the tape ('tape-inplace-constant': refused
# loudly with a GradientInputError since; its entry had kept the tape's result of every
# program with an in-place update, about 19%, from being compared).

# Finite differences: two steps that must agree before a disagreement counts (else the
# program sits next to a kink and is counted as 'kink', not compared), and the tolerance
# they support in float64: rtol 1e-6, atol 1e-8 relative to the size of the loss and of
# the gradient (rounding of a central difference is about 1e-16 * |f| / eps = 1e-10 |f|).
FD_STEPS = (1e-6, 1e-5)
FD_RTOL = 1e-6
FD_ATOL = 1e-8


def _included_bugs():
    value = os.environ.get("KNETC_FUZZ_KNOWN_BUGS", "")
    if value in ("1", "all"):
        return set(KNOWN_BUGS)
    return {v.strip() for v in value.split(",") if v.strip()}


# Constructs the tape rejects by design (knetc/runtime/tape.py: item assignment
# into an array, np.array of traced values, in-place ufuncs such as `a += b` on
# an array). A program drawn as "tape-compatible" (most of them) avoids them so
# all three gradients are compared; in the others the tape's refusal is allowed
# and only compiled vs numeric is checked.
TAPE_LIMITED = ("array +=", "array item assignment", "np.array of traced values")

ARRAYS = ("v", "c", "r", "m")
SHAPE = {"v": (3,), "c": (3, 1), "r": (1, 3), "m": (3, 3)}
ZEROS = {"v": "np.zeros(3)", "c": "np.zeros((3, 1))", "r": "np.zeros((1, 3))", "m": "np.zeros((3, 3))"}
CONST_ARRAY = {
    "v": ["np.linspace(-0.5, 0.7, 3)", "CV", "(np.ones(3) * 0.3)", "(np.arange(3) * 0.2)"],
    "c": ["(np.ones((3, 1)) * 0.4)", "CV.reshape(3, 1)", "np.linspace(0.2, -0.6, 3)[:, None]"],
    "r": ["np.linspace(0.1, 0.9, 3).reshape(1, 3)", "CV[None, :]"],
    "m": ["np.eye(3)", "CM", "(np.eye(3) * 0.5 + 0.1)"],
}
PRELUDE = '''"""Generated by tests/fuzz/programs.py (seed {seed})."""
import math

import numpy as np

CV = np.array([0.3, -0.2, 0.5])
CM = np.array([[0.5, -0.1, 0.2], [0.0, 0.4, -0.3], [0.1, 0.2, 0.3]])
IDX = np.array({idx})
MASK = np.array({mask})
DEPTH = {depth}
'''

# Elementwise functions; ``{a}`` may appear twice (it is then evaluated twice).
UNARY = [
    "-{a}", "np.tanh({a})", "np.sin({a})", "np.cos({a})", "np.exp(np.tanh({a}))",
    "np.exp(-np.square({a}))", "np.log(np.abs({a}) + 1.0)", "np.log({a} * {a} + 1.0)",
    "np.sqrt({a} * {a} + 1.0)", "np.square({a})", "{a} ** 2", "np.abs({a})",
    "np.tanh({a}) ** 3", "(np.abs({a}) + 1.0) ** 1.5", "np.arctan({a})",
    "np.log1p(np.square({a}))", "1.0 / (1.0 + np.exp(-{a}))", "np.sinh(np.tanh({a}))",
    "({a} * {a} + 1.0) ** -0.5", "np.log2({a} * {a} + 1.0)", "np.log10(np.abs({a}) + 1.0)",
    "np.reciprocal({a} * {a} + 1.0)", "np.expm1(np.tanh({a}))", "np.cosh(np.tanh({a}))",
    "np.logaddexp({a}, 0.5 * {a})",
]
MATH_UNARY = ["math.tanh({a})", "math.sin({a})", "math.cos({a})", "math.exp(math.tanh({a}))",
              "math.sqrt({a} * {a} + 1.0)", "math.log({a} * {a} + 1.0)", "math.atan({a})",
              "math.pow({a} * {a} + 1.0, 0.5)", "math.fabs({a})", "math.log1p({a} * {a})"]
# Bounded wrappers for values a loop feeds back into itself.
SQUASH = ["np.tanh({a})", "np.sin({a})", "np.cos({a})", "np.tanh({a}) * 0.9",
          "{a} / np.sqrt({a} * {a} + 1.0)", "np.clip({a}, -2.0, 2.0)", "np.arctan({a})"]


def _squash(form, a):
    """A SQUASH form around ``a``, parenthesised unless it is one name or one subscript: the
    forms repeat it (``{a} * {a} + 1.0`` must be a square, so ``q @ s`` needs parentheses)."""
    node = ast.parse(a.strip(), mode="eval").body
    atomic = isinstance(node, (ast.Name, ast.Attribute, ast.Subscript, ast.Call)) or (
        isinstance(node, ast.Constant) and not str(a).strip().startswith("-"))
    return form.format(a=a if atomic else f"({a})")


def _matching_paren(code):
    depth = 0
    for k, ch in enumerate(code):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
            if depth == 0:
                return k
    return -1


def _lit(value):
    """A float literal, parenthesised when negative."""
    text = repr(round(value, 2))
    return f"({text})" if text.startswith("-") else text


class Env:
    """What a point of a generated function can see."""

    def __init__(self):
        self.vars = {}       # readable code -> type
        self.locals = set()  # plain local names that may be reassigned with '='
        self.accs = set()    # accumulators: '+=' and item assignment allowed
        self.lists = {}      # local list -> [elem type, min length, appendable]
        self.frozen = set()  # local lists never appended to
        self.pushable = set()  # local lists that helpers may append to
        self.floats = set()    # local lists/dicts holding only Python floats
        self.dicts = {}      # local dict -> (value type, keys)
        self.captured = set()  # names read by nested functions (their types must not change)
        self.params = set()    # parameters of the function being generated
        self.ints = {}       # int-valued names -> (lo, hi)
        self.funcs = {}      # callable name -> Sig
        self.stacks = []     # (lo, hi, type): w[lo:hi] all of one array type
        self.weights = {}    # code -> leaf weight
        self.active = set()  # codes whose value depends on the parameters
        self.in_loop = False
        self.ret = ("S",)    # result types of the enclosing function
        self.data = False    # can read x
        self.wname = "w"
        self.counter = None  # while-loop counter name, if any
        self.depth = 0       # nesting of compound statements
        self.ptypes = 0

    def child(self):
        e = copy.copy(self)
        e.vars = dict(self.vars)
        e.locals = set(self.locals)
        e.accs = set(self.accs)
        e.lists = {k: list(v) for k, v in self.lists.items()}
        e.frozen = set(self.frozen)
        e.pushable = set(self.pushable)
        e.floats = set(self.floats)
        e.dicts = dict(self.dicts)
        e.captured = set(self.captured)
        e.ints = dict(self.ints)
        e.funcs = dict(self.funcs)
        e.weights = dict(self.weights)
        e.active = set(self.active)
        return e

    def bind(self, name, typ, weight=3.0, local=True, code=None):
        """A new (or rebound) local; active when ``code`` reads an active value."""
        self.vars[name] = typ
        self.weights[name] = weight
        if local:
            self.locals.add(name)
        self.accs.discard(name)
        if code is not None:
            self.set_active(name, code)

    def reads_active(self, code):
        for a in self.active:
            if a in code and (not a.isidentifier() or re.search(rf"\b{re.escape(a)}\b", code)):
                return True
        return False

    def set_active(self, name, code, keep=False):
        if self.reads_active(code):
            self.active.add(name)
        elif not keep:
            self.active.discard(name)


@dataclasses.dataclass
class Sig:
    name: str
    params: list        # (name, type or ('L', type), default literal or None)
    returns: tuple      # result types; () for a statement-only (mutating) helper
    closure: bool = False
    kwonly: tuple = ()  # names after a bare '*' in the signature


@dataclasses.dataclass
class Case:
    seed: int
    source: str
    w: list
    x: object
    features: set = dataclasses.field(default_factory=set)


class Gen:
    def __init__(self, seed):
        self.seed = seed
        self.rng = random.Random(seed)
        self.lines = []
        self.n = 0
        self.features = set()
        self.bugs = _included_bugs()
        self.tape_ok = self.rng.random() < 0.7
        self.wstruct = "list"        # the structure of the parameters w (see program)

    def allow(self, bug):
        """A construct is generated unless it is an open bug left out of the grammar."""
        return bug not in KNOWN_BUGS or bug in self.bugs

    # ---- small utilities -------------------------------------------------------
    def fresh(self, prefix):
        self.n += 1
        return f"{prefix}{self.n}"

    def emit(self, ind, text):
        self.lines.append("    " * ind + text)

    def chance(self, p):
        return self.rng.random() < p

    def pick(self, options):
        """``options``: list of (weight, value); weights <= 0 are skipped."""
        options = [(w, v) for w, v in options if w > 0]
        total = sum(w for w, _ in options)
        r = self.rng.random() * total
        for w, v in options:
            r -= w
            if r <= 0:
                return v
        return options[-1][1]

    def const(self, lo=-1.0, hi=1.0):
        return _lit(self.rng.uniform(lo, hi))

    def feat(self, name):
        self.features.add(name)

    @staticmethod
    def atom(code):
        """``code`` made safe to subscript or call a method on."""
        if code.startswith("(") and _matching_paren(code) == len(code) - 1:
            return code
        node = ast.parse(code, mode="eval").body
        if isinstance(node, (ast.Name, ast.Attribute, ast.Subscript, ast.Call, ast.Constant)):
            return code
        return f"({code})"

    # ---- expressions ---------------------------------------------------------------
    # Each returns (code, view): view is True when the value may be (a view of)
    # an accumulator, which must then be copied before it is stored.
    def leaf(self, env, T):
        cands = [(env.weights.get(c, 1.0), c) for c, t in env.vars.items() if t == T]
        act = [(wt, c) for wt, c in cands if c in env.active]
        if act and self.chance(0.7):
            c = self.pick(act)
            return c, c in env.accs
        if not act and env.active and not T.startswith("P") and self.chance(0.6):
            return self.bridge(env, T)
        if T == "S":
            if not cands or self.chance(0.15):
                return self.const(), False
        elif T in ARRAYS and (not cands or self.chance(0.05)):
            return self.rng.choice(CONST_ARRAY[T]), False
        c = self.pick(cands)
        return c, c in env.accs

    def bridge(self, env, T):
        """A value of type T computed simply from an active value of another type."""
        srcs = [(env.weights.get(c, 1.0), c) for c in sorted(env.active) if c in env.vars]
        if not srcs:
            return self.const() if T == "S" else self.rng.choice(CONST_ARRAY[T]), False
        a = self.pick(srcs)
        U = env.vars[a]
        view = a in env.accs
        if U.startswith("P") or U == "S":
            red = a if U == "S" else f"np.{self.rng.choice(['sum', 'mean'])}({a})"
            return {"S": red, "v": f"({red} * CV)", "c": f"({red} * CV[:, None])",
                    "r": f"({red} * CV[None, :])", "m": f"({red} * CM)"}[T], False
        if T == "S":
            return self.rng.choice([f"np.sum({a})", f"np.mean({a})", f"np.max({a})"]), False
        table = {
            ("v", "v"): ["{a}"], ("v", "c"): ["{a}[:, 0]", "{a}.reshape(3)"], ("v", "r"): ["{a}[0]"],
            ("v", "m"): ["{a}[1]", "({a} @ CV)", "np.sum({a}, axis=0)"],
            ("c", "v"): ["{a}[:, None]", "{a}.reshape(3, 1)"], ("c", "r"): ["{a}.T"], ("c", "c"): ["{a}"],
            ("c", "m"): ["{a}[:, :1]", "({a} @ CV[:, None])"],
            ("r", "v"): ["{a}[None, :]"], ("r", "c"): ["{a}.T"], ("r", "r"): ["{a}"],
            ("r", "m"): ["{a}[:1]", "np.mean({a}, axis=0, keepdims=True)"],
            ("m", "v"): ["np.outer({a}, CV)", "({a} * CM)"], ("m", "c"): ["({a} * CM)", "({a} @ CV[None, :])"],
            ("m", "r"): ["({a} * CM)"], ("m", "m"): ["{a}"],
        }
        form = self.rng.choice(table[(T, U)])
        return form.format(a=a), view and not form.startswith("(") and "np." not in form

    def expr(self, env, T, d):
        """(code, view) of an expression of type T, at most about d levels deep.

        The code is always an atom (a name, call, subscript or parenthesised
        expression), so it can be combined without precedence surprises.
        """
        if T.startswith("P"):
            code, view = self.expr_p(env, T, d)
        elif d <= 0 or self.chance(0.2):
            code, view = self.leaf(env, T)
        elif T == "S":
            code, view = self.expr_s(env, d)
        else:
            code, view = self.expr_array(env, T, d)
        return self.atom(code), view

    def int_index(self, env, n=3, allow_neg=True):
        """An int expression valid as an index into an axis of length n."""
        cands = [k for k, (lo, hi) in env.ints.items() if lo >= -n and hi < n]
        if cands and self.chance(0.5):
            return self.rng.choice(cands)
        k = self.rng.randrange(-n if allow_neg else 0, n)
        return str(k)

    def int_array(self, env):
        opts = [(2, "IDX"), (2, repr(self.rng.choice([[2, 0, 0], [1, 1, 2], [0, 2, 2], [2, 2, 2]])))]
        opts.append((2, f"np.array({[self.rng.randrange(3) for _ in range(3)]})"))
        if env.data:
            opts.append((3, env.xcode["idx"]))
        return self.pick(opts)

    def mask(self, env, d):
        opts = [(2, "MASK"), (1, "np.array([True, False, True])")]
        if env.data:
            opts.append((3, env.xcode["mask"]))
        a, _ = self.expr(env, "v", d - 1)
        opts.append((2, f"({a} > {self.const(-0.5, 0.5)})"))
        return self.pick(opts)

    def cond(self, env, d=1, python_ok=True):
        """A boolean condition: on data (a scalar against a threshold) or on Python values."""
        kinds = [(4, "data")]
        if python_ok and (env.ints or env.lists):
            kinds.append((3, "py"))
        kind = self.pick(kinds)
        if kind == "data":
            self.feat("cond:data")
            T = self.rng.choice(("S", "S") + ARRAYS)
            a, _ = self.expr(env, T, d)
            if T != "S":
                a = f"{self.rng.choice(['np.sum', 'np.mean', 'np.max'])}({a})"
            if self.chance(0.15):
                self.feat("cond:chained")
                text = f"{self.const(-2.0, -0.1)} < {a} < {self.const(0.1, 2.0)}"
            else:
                text = f"{a} {self.rng.choice(['>', '<'])} {self.const()}"
        else:
            self.feat("cond:python")
            opts = []
            for k, (lo, hi) in env.ints.items():
                opts.append(f"{k} % 2 == 0")
                opts.append(f"{k} == {self.rng.randint(lo, max(lo, hi))}")
                opts.append(f"{k} > {self.rng.randint(lo, max(lo, hi))}")
            for h in env.lists:
                opts.append(f"len({h}) > {self.rng.randint(0, 3)}")
            opts.append(f"DEPTH > {self.rng.randint(0, 3)}")
            text = self.rng.choice(opts)
        r = self.rng.random()
        if r < 0.1:
            self.feat("cond:not")
            text = f"not ({text})"
        elif r < 0.2:
            self.feat("cond:andor")
            text = f"({text}) {self.rng.choice(['and', 'or'])} ({self.cond(env, 0, python_ok)})"
        return text

    def binop(self, env, T, d, ops=("+", "-", "*")):
        other = self.rng.choice([T, T, "S"])
        a, _ = self.expr(env, T, d - 1)
        b, _ = self.expr(env, other, d - 1)
        if self.chance(0.5):
            a, b = b, a
        return f"({a} {self.rng.choice(ops)} {b})", False

    def division(self, env, T, d):
        self.feat("op:div")
        a, _ = self.expr(env, T, d - 1)
        numerator = self.chance(0.15)
        b, _ = self.expr(env, T if numerator else self.rng.choice([T, "S"]), d - 2)
        den = self.rng.choice([f"({b} * {b} + 1.0)", f"(np.abs({b}) + 1.0)",
                               f"np.sqrt({b} * {b} + 0.5)", f"(2.0 + np.cos({b}))"])
        if numerator:
            return f"({self.const(0.5, 2.0)} / {den})", False
        return f"({a} / {den})", False

    def unary(self, env, T, d):
        a, _ = self.expr(env, T, d - 1)
        form = self.rng.choice(UNARY)
        if form == "{a} ** 2" and re.fullmatch(r"\(-[0-9.]+\)", a):
            self.feat("neg-const-pow")
        if form == "-{a}":
            return f"(-{a})", False
        return form.format(a=a), False

    def call(self, env, T, d):
        """A call of a helper/closure with a result of type T (or None)."""
        options = []
        for sig in env.funcs.values():
            if any(isinstance(t, tuple) and not self.can_list_arg(env, t[1]) for _, t, _ in sig.params):
                continue
            for k, t in enumerate(sig.returns):
                if t == T:
                    options.append((sig, k))
        if not options:
            return None
        sig, k = self.rng.choice(options)
        args, view = self.call_args(env, sig, d)
        text = f"{sig.name}({args})"
        if len(sig.returns) > 1:
            self.feat("call:multi")
            text = f"{text}[{k}]"
        self.feat("call:closure" if sig.closure else "call:helper")
        return text, view

    def call_args(self, env, sig, d):
        pos, kw, view = [], [], False
        keyword = False
        for name, typ, default in sig.params:
            if default is not None and self.chance(0.4):
                keyword = True          # skip it: the default is used
                self.feat("call:default")
                continue
            if isinstance(typ, tuple):
                arg = self.list_arg(env, typ[1])
            else:
                arg, v = self.expr(env, typ, max(d - 1, 0))
                view = view or v
            if name in sig.kwonly or keyword or (default is not None and self.chance(0.5)) or self.chance(0.15):
                keyword = True
                self.feat("call:keyword")
                kw.append(f"{name}={arg}")
            else:
                pos.append(arg)
        if len(kw) > 1 and self.chance(0.5):
            self.rng.shuffle(kw)
        return ", ".join(pos + kw), view

    def list_arg(self, env, T):
        opts = [(2, h) for h, (t, n, _) in env.lists.items() if t == T and n >= 1]
        for lo, hi, t in env.stacks:
            if t == T:
                opts.append((3, f"{env.wname}[{lo}:{hi}]"))
        return self.pick(opts)

    def can_list_arg(self, env, T):
        return any(t == T and n >= 1 for t, n, _ in env.lists.values()) or any(
            t == T for _, _, t in env.stacks)

    def list_elem(self, env, T, d):
        lists = [(h, n) for h, (t, n, _) in env.lists.items() if t == T]
        if not lists:
            return None
        h, n = self.rng.choice(lists)
        forms = []
        if n >= 1:
            forms += [f"{h}[-1]", f"{h}[0]", f"{h}[{self.rng.randrange(-n, n)}]"]
        forms.append(f"sum({h})" if T == "S" else f"sum({h}, {ZEROS[T]})")
        if T != "S" and n >= 1 and (h not in env.pushable or self.allow("stack-then-helper-append")):
            forms.append(f"np.sum(np.stack({h}), axis=0)")
            forms.append(f"np.mean(np.stack({h}), axis=0)")
        self.feat("list:read")
        return self.rng.choice(forms), False

    def expr_s(self, env, d):
        k = self.pick([(2, "leaf"), (3, "bin"), (1, "div"), (2, "un"), (1, "math"), (4, "red"),
                       (2, "idx"), (1, "dot"), (1, "mask"), (1, "cond"), (2, "call"), (1, "list"),
                       (1, "int"), (1, "pred"), (0.7, "builtin")])
        if k == "builtin":
            self.feat("builtin")
            a, _ = self.expr(env, "S", d - 1)
            forms = ["abs({a})", "float({a})", "pow({a}, 2)", "abs({a}) + 0.5"]
            if not self.tape_ok and self.chance(0.3):
                self.feat("tape-limited")
                forms = ["np.float64({a})", "np.sum(np.asarray([{a}, {a}]))"]
            return self.rng.choice(forms).format(a=a), False
        if k == "leaf":
            return self.leaf(env, "S")
        if k == "bin":
            return self.binop(env, "S", d, ops=("+", "-", "*", "+"))
        if k == "div":
            return self.division(env, "S", d)
        if k == "un":
            return self.unary(env, "S", d)
        if k == "math":
            self.feat("math")
            a, _ = self.expr(env, "S", d - 1)
            return self.rng.choice(MATH_UNARY).format(a=a), False
        if k == "red":
            T = self.rng.choice(ARRAYS + ("m",))
            ptypes = sorted({t for t in env.vars.values() if t.startswith("P")})
            if ptypes and self.chance(0.6):
                T = self.rng.choice(ptypes)
            a, _ = self.expr(env, T, d - 1)
            a = self.atom(a)
            if T in ARRAYS and self.chance(0.3):
                self.feat("method")
                return f"{a}.{self.rng.choice(['sum', 'mean', 'max'])}()", False
            fn = self.pick([(4, "np.sum"), (2, "np.mean"), (1, "np.max"), (1, "np.min"),
                            (0.5 if T in ARRAYS else 0, "np.var"), (0.5 if T in ARRAYS else 0, "np.std"),
                            (0.4 if T in ARRAYS else 0, "np.prod"), (0.3, "np.amax"),
                            (0.6 if T == "m" else 0, "axes"), (0.5 if T == "m" else 0, "np.trace"),
                            (0.5 if T == "m" else 0, "split"), (0.4 if T == "v" else 0, "repeat")])
            self.feat(f"reduce:{fn}")
            if fn == "axes":
                return f"np.{self.rng.choice(['sum', 'mean'])}({a}, axis=(0, 1))", False
            if fn == "split":
                if self.chance(0.5):
                    return f"np.sum(np.split({a}, 3)[{self.rng.randrange(3)}])", False
                return f"np.sum(np.array_split({a}, 2, axis=1)[{self.rng.randrange(2)}])", False
            if fn == "repeat":
                return f"np.sum(np.repeat({a}, 2) * np.arange(6.0))", False
            if fn == "np.std":        # not differentiable where all entries are equal
                return f"np.std({a} + CV{'' if T == 'v' else '[:, None]' if T == 'c' else '[None, :]' if T == 'r' else ''})", False
            if fn == "np.prod":
                return f"np.prod(np.tanh({a}) + 1.5)", False
            return f"{fn}({a})", False
        if k == "idx":
            T = self.rng.choice(ARRAYS)
            a = self.atom(self.expr(env, T, d - 1)[0])
            self.feat("index:int")
            if T == "v":
                return f"{a}[{self.int_index(env)}]", False
            if T == "c":
                return f"{a}[{self.int_index(env)}, 0]", False
            if T == "r":
                return f"{a}[0, {self.int_index(env)}]", False
            if self.chance(0.3):
                return f"{a}[{self.int_index(env)}][{self.int_index(env)}]", False
            return f"{a}[{self.int_index(env)}, {self.int_index(env)}]", False
        if k == "dot":
            self.feat("op:matmul")
            a, _ = self.expr(env, "v", d - 1)
            b, _ = self.expr(env, "v", d - 1)
            form = self.rng.choice([f"({a} @ {b})", f"np.dot({a}, {b})", "np.sum({r} @ {c})"])
            if "{r}" in form:
                r, _ = self.expr(env, "r", d - 1)
                c, _ = self.expr(env, "c", d - 1)
                form = form.format(r=r, c=c)
            return form, False
        if k == "mask":
            T = self.rng.choice(["v", "m", "v"])
            a = self.atom(self.expr(env, T, d - 1)[0])
            form = self.rng.choice(["step", "mask", "slice2"])
            if form == "step":
                self.feat("index:step")
                sl = self.rng.choice(["[::2]", "[1::2]", "[::-2]", "[:2]", "[-2:]"])
                if T == "m":
                    sl = self.rng.choice(["[::2, 1:]", "[1:, ::-1]", "[:-1, ::2]", "[::-1, ::2]"])
                return f"np.sum({a}{sl})", False
            if form == "mask":
                return f"np.sum({a}[{self.mask(env, d)}])", False
            ivars = [k for k, (lo, hi) in env.ints.items() if lo >= 0 and hi <= 2]
            if ivars and self.chance(0.6):
                self.feat("index:slice-loopvar")
                i = self.rng.choice(ivars)
                if T == "m":
                    return f"np.sum({a}[:{i} + 1, {i}:])", False
                return f"np.sum({a}[{self.rng.choice([f'{i}:', f':{i} + 1', f'{i}::2'])}])", False
            self.feat("index:slice")
            return f"np.sum({a}[{self.rng.choice(['1:', ':-1', '0:2'])}])", False
        if k == "cond":
            return self.cond_expr(env, "S", d)
        if k == "call":
            r = self.call(env, "S", d)
            return r if r else self.leaf(env, "S")
        if k == "list":
            r = self.list_elem(env, "S", d)
            return r if r else self.leaf(env, "S")
        if k == "int":
            if env.ints:
                i = self.rng.choice(sorted(env.ints))
                a, _ = self.expr(env, "S", d - 1)
                self.feat("int:float")
                return f"({a} * ({i} + 1.0) * 0.3)", False
            return self.leaf(env, "S")
        if k == "pred":
            # a scalar from a constant-pattern construction of v
            a, _ = self.expr(env, "S", d - 1)
            b, _ = self.expr(env, "S", d - 1)
            self.feat("np.array")
            fn = "np.stack" if self.tape_ok or self.chance(0.5) else "np.array"
            if fn == "np.array":
                self.feat("tape-limited")
            return f"np.sum({fn}([{a}, {b}]) * CV[:2])", False
        raise AssertionError(k)

    def cond_expr(self, env, T, d):
        self.feat("ifexp")
        a, va = self.expr(env, T, d - 1)
        b, vb = self.expr(env, T, d - 1)
        return f"({a} if {self.cond(env, 0)} else {b})", va or vb

    def expr_p(self, env, T, d):
        """Expressions on a value of varying shape (loop over w): elementwise only."""
        if d <= 0 or self.chance(0.25):
            return self.leaf(env, T)
        k = self.pick([(3, "bin"), (3, "un"), (1, "div"), (1, "max")])
        if k == "bin":
            a, _ = self.expr(env, T, d - 1)
            b, _ = self.expr(env, self.rng.choice([T, "S"]), d - 1)
            if self.chance(0.5):
                a, b = b, a
            return f"({a} {self.rng.choice('+-*')} {b})", False
        if k == "un":
            return self.unary(env, T, d)
        if k == "div":
            return self.division(env, T, d)
        a, _ = self.expr(env, T, d - 1)
        b, _ = self.expr(env, "S", d - 1)
        self.feat("op:maxmin")
        return f"np.{self.rng.choice(['maximum', 'minimum'])}({a}, {b})", False

    def expr_array(self, env, T, d):
        k = self.pick([(2, "leaf"), (4, "bin"), (1, "div"), (3, "un"), (1, "maxmin"), (1, "where"),
                       (1, "clip"), (3, "conv"), (1, "cond"), (2, "call"), (1, "list"), (1, "build")])
        if k == "leaf":
            return self.leaf(env, T)
        if k == "bin":
            if T == "m" and self.chance(0.5):
                self.feat("broadcast")
                x, y = self.rng.choice([("c", "r"), ("c", "m"), ("v", "m"), ("r", "m"), ("m", "c"),
                                        ("m", "v"), ("r", "c"), ("m", "r")])
                a, _ = self.expr(env, x, d - 1)
                b, _ = self.expr(env, y, d - 1)
                return f"({a} {self.rng.choice('+-*')} {b})", False
            return self.binop(env, T, d)
        if k == "div":
            return self.division(env, T, d)
        if k == "un":
            return self.unary(env, T, d)
        if k == "maxmin":
            self.feat("op:maxmin")
            a, _ = self.expr(env, T, d - 1)
            b, _ = self.expr(env, self.rng.choice([T, "S"]), d - 1)
            return f"np.{self.rng.choice(['maximum', 'minimum'])}({a}, {b})", False
        if k == "where":
            self.feat("op:where")
            c1, _ = self.expr(env, T, d - 1)
            a, _ = self.expr(env, T, d - 1)
            b, _ = self.expr(env, self.rng.choice([T, "S"]), d - 1)
            if self.chance(0.2) and T == "v":
                return f"np.where({self.mask(env, d)}, {a}, {b})", False
            return f"np.where({c1} > {self.const(-0.5, 0.5)}, {a}, {b})", False
        if k == "clip":
            self.feat("op:clip")
            a = self.atom(self.expr(env, T, d - 1)[0])
            lo, hi = self.const(-1.5, -0.3), self.const(0.3, 1.5)
            if self.chance(0.3):
                self.feat("method")
                return f"{a}.clip({lo}, {hi})", False
            return f"np.clip({a}, {lo}, {hi})", False
        if k == "conv":
            return self.convert(env, T, d)
        if k == "cond":
            return self.cond_expr(env, T, d)
        if k == "call":
            r = self.call(env, T, d)
            return r if r else self.convert(env, T, d)
        if k == "list":
            r = self.list_elem(env, T, d)
            return r if r else self.convert(env, T, d)
        return self.build(env, T, d)

    def aexpr(self, env, T, d):
        return self.atom(self.expr(env, T, d)[0]), False

    def build(self, env, T, d):
        """Arrays built from pieces: stack, array, concatenate, outer."""
        self.feat("build")
        if T == "v":
            form = self.rng.choice(["stack", "array", "concat", "concat2"])
            if form in ("stack", "array"):
                parts = [self.aexpr(env, "S", d - 2)[0] for _ in range(3)]
                fn = "np.stack" if form == "stack" or self.tape_ok else "np.array"
                if fn == "np.array":
                    self.feat("tape-limited")
                return f"{fn}([{', '.join(parts)}])", False
            a, _ = self.aexpr(env, "v", d - 1)
            if form == "concat":
                return f"np.concatenate([{a}[:1], {a}[1:]])", False
            b, _ = self.aexpr(env, "v", d - 1)
            return f"np.concatenate([{a}[:2], {b}[-1:]])", False
        if T == "c":
            a, _ = self.aexpr(env, "c", d - 1)
            b, _ = self.aexpr(env, "c", d - 1)
            return f"np.concatenate([{a}[:1], {b}[1:]], axis=0)", False
        if T == "r":
            a, _ = self.aexpr(env, "r", d - 1)
            b, _ = self.aexpr(env, "r", d - 1)
            return f"np.concatenate([{a}[:, :2], {b}[:, 2:]], axis=1)", False
        form = self.rng.choice(["stack", "stack1", "vstack", "outer", "concat"])
        if form in ("stack", "stack1"):
            parts = [self.aexpr(env, "v", d - 2)[0] for _ in range(3)]
            axis = ", axis=1" if form == "stack1" else ""
            return f"np.stack([{', '.join(parts)}]{axis})", False
        if form == "vstack":
            parts = [self.aexpr(env, "r", d - 2)[0] for _ in range(3)]
            return f"np.vstack([{', '.join(parts)}])", False
        if form == "outer":
            a, _ = self.aexpr(env, "v", d - 1)
            b, _ = self.aexpr(env, "v", d - 1)
            return f"np.outer({a}, {b})", False
        a, _ = self.aexpr(env, "m", d - 1)
        b, _ = self.aexpr(env, "m", d - 1)
        return f"np.concatenate([{a}[:1], {b}[1:]], axis=0)", False

    def convert(self, env, T, d):
        """Shape changes, matrix products, reductions and indexing that produce T."""
        i = lambda: self.int_index(env)  # noqa: E731
        if T == "v":
            forms = [
                ("m", "{a}[%s]" % i(), True), ("m", "{a}[:, %s]" % i(), True),
                ("m", "{a}[%s, :]" % i(), True), ("c", "{a}[:, 0]", True), ("r", "{a}[0]", True),
                ("c", "{a}.reshape(3)", True), ("c", "{a}.reshape(-1)", True),
                ("r", "np.reshape({a}, (3,))", True), ("v", "{a}[::-1]", True), ("v", "{a}[2::-1]", True),
                ("v", "{a}[%s]" % self.int_array(env), False),
                ("m", "{a}[%s, %s]" % (self.int_array(env), i()), False),
                ("m", "{a}[[0, 1, 2], %s]" % self.int_array(env), False),
                ("m", "np.sum({a}, axis=%d)" % self.rng.randint(0, 1), False),
                ("m", "np.mean({a}, axis=%d)" % self.rng.randint(0, 1), False),
                ("m", "np.max({a}, axis=%d)" % self.rng.randint(0, 1), False),
                ("m", "{a}.sum(axis=%d)" % self.rng.randint(0, 1), False),
                ("m", "np.sum({a}, axis=-1)", False),
                ("m", "{a}.reshape(9)[::4]", True), ("m", "{a}.flatten()[2::3]", False),
                ("m", "np.diagonal({a})", True), ("c", "np.squeeze({a})", True), ("r", "np.ravel({a})", True),
                ("v", "np.cumsum({a}) * 0.5", False), ("v", "np.flip({a})", True),
                ("mv", "({a} @ {b})", False), ("vm", "({a} @ {b})", False), ("mv", "np.dot({a}, {b})", False), ("mv", "{a}.dot({b})", False),  # see below
                ("rm", "({a} @ {b})[0]", False), ("v", "np.take({a}, %s)" % self.int_array(env), False),
                ("m", "{a}.ravel()[::4]", True), ("c", "{a}.squeeze()", True), ("v", "np.copy({a})", False),
                ("v", "{a}.copy()", False), ("m", "np.amin({a}, axis=1)", False),
            ]
        elif T == "c":
            forms = [
                ("v", "{a}.reshape(3, 1)", True), ("v", "{a}[:, None]", True),
                ("v", "np.reshape({a}, (3, 1))", True), ("v", "np.expand_dims({a}, 1)", True),
                ("r", "{a}.T", True), ("r", "np.transpose({a})", True),
                ("m", "{a}[:, %d:%d]" % ((lambda k: (k, k + 1))(self.rng.randrange(3))), True),
                ("m", "{a}[:, -1:]", True), ("m", "np.sum({a}, axis=1, keepdims=True)", False),
                ("m", "np.mean({a}, axis=1, keepdims=True)", False),
                ("m", "np.max({a}, axis=1, keepdims=True)", False),
                ("mc", "({a} @ {b})", False), ("c", "{a}[::-1]", True),
                ("c", "{a}[%s]" % self.int_array(env), False),
            ]
        elif T == "r":
            forms = [
                ("v", "{a}.reshape(1, 3)", True), ("v", "{a}[None, :]", True), ("c", "{a}.T", True),
                ("v", "np.atleast_2d({a})", True),
                ("m", "{a}[%d:%d]" % ((lambda k: (k, k + 1))(self.rng.randrange(3))), True),
                ("m", "{a}[-1:, :]", True), ("m", "np.sum({a}, axis=0, keepdims=True)", False),
                ("m", "np.max({a}, axis=0, keepdims=True)", False),
                ("rm", "({a} @ {b})", False), ("r", "{a}[:, ::-1]", True),
            ]
        else:
            forms = [
                ("m", "{a}.T", True), ("m", "np.transpose({a})", True), ("mm", "({a} @ {b})", False),
                ("cr", "({a} @ {b})", False), ("m", "{a}[::-1]", True), ("m", "{a}[:, ::-1]", True),
                ("m", "{a}[%s]" % self.int_array(env), False), ("m", "{a}[:, %s]" % self.int_array(env), False),
                ("m", "{a}[%s][:, %s]" % (self.int_array(env), self.int_array(env)), False),
                ("mm", "np.matmul({a}, {b})", False), ("m", "{a}.transpose()", True),
                ("m", "np.swapaxes({a}, 0, 1)", True), ("m", "np.moveaxis({a}, 0, 1)", True),
                ("v", "np.broadcast_to({a}, (3, 3))", True), ("c", "np.hstack([{a}, {a}, {a}])", False),
                ("mm", "np.tensordot({a}, {b}, axes=1)", False), ("m", "np.cumsum({a}, axis=%d) * 0.5" % self.rng.randint(0, 1), False),
                ("r", "np.repeat({a}, 3, axis=0)", False),
            ]
        src, form, is_view = self.rng.choice(forms)
        if "{a}.dot(" in form and self.tape_ok:
            form = "np.dot({a}, {b})"      # the tape cannot see through ndarray.dot of an untraced array
        if "{a}.dot(" in form:
            self.feat("tape-limited")
            # ``CONST.dot(traced)`` is unsupported by both modes (no rule for a method of a
            # constant; the tape cannot see through ndarray.dot): keep the receiver active
            a = self.atom(self.expr(env, "m", d - 1)[0])
            if not env.reads_active(a):
                form = "np.dot({a}, {b})"
            b = self.expr(env, "v", d - 1)[0]
            self.feat("op:matmul")
            return form.format(a=a, b=b), False
        if "[" in form and "{a}[" in form:
            self.feat("index")
        if "@" in form or "dot" in form or "matmul" in form:
            self.feat("op:matmul")
        a, va = self.expr(env, src[0], d - 1)
        a = self.atom(a)
        if len(src) == 2:
            b, _ = self.expr(env, src[1], d - 1)
            return form.format(a=a, b=b), False
        return form.format(a=a), is_view and va

    # ---- statements ------------------------------------------------------------------
    def store(self, code, view):
        """The code of a value about to be stored: copied when it may view an accumulator."""
        return f"({code}) * 1.0" if view else code

    def loop_value(self, env, T, d):
        """A bounded expression, for values fed back around a loop."""
        a, _ = self.expr(env, T, d)
        if T.startswith("P"):
            return f"np.tanh({a})"
        return _squash(self.rng.choice(SQUASH), a)

    def pick_type(self, env):
        return self.pick([(3, "S"), (3, "v"), (2, "c"), (1, "r"), (2, "m")])

    def block(self, env, ind, n, terminal=False):
        """Emit n statements; returns True if the block always returns (ends the function)."""
        emitted = 0
        for _ in range(n):
            if self.statement(env, ind):
                return True
            emitted += 1
        if emitted == 0:
            self.emit(ind, "pass")
        return False

    def statement(self, env, ind):
        """Emit one statement; True if it is an unconditional return."""
        deep = env.depth >= 2
        k = self.pick([
            (4, "assign"), (3, "reassign"), (1.5, "acc_new"), (2, "aug"), (1, "item"),
            (1, "list_new"), (1.5, "append"), (0.7, "list_set"), (1, "unpack"),
            (0.5, "dict_new"), (0.5 if env.dicts else 0, "dict_set"),
            (0 if deep else 0.6, "poly_acc"), (0.5 if env.depth == 0 and not env.in_loop else 0, "retype"),
            (0 if deep or not env.dicts else 0.5, "for_dict"),
            (0 if deep else 2, "for_range"), (0 if deep or not env.wname else 1.5, "for_w"),
            (0 if deep or not env.stacks else 2, "for_stack"),
            (0 if deep or not env.lists else 1, "for_list"),
            (0 if deep else 1.2, "while"), (0 if deep else 2, "if"), (0 if deep else 0.7, "if_def"),
            (1 if env.in_loop else 0, "jump"), (0.6, "if_return"),
            (0.5 if env.data and env.depth <= 1 else 0, "closure"),
            (0.4, "tuple_new"), (0.4 if env.lists or env.dicts else 0, "aug_item"),
            (0.7 if any(not s.returns for s in env.funcs.values()) else 0, "push"),
        ])
        getattr(self, "st_" + k)(env, ind)
        return False

    def st_assign(self, env, ind):
        T = self.pick_type(env)
        name = self.fresh("h")
        code, view = self.expr(env, T, self.rng.randint(1, 3))
        if env.in_loop and self.chance(0.5):
            code, view = self.loop_value(env, T, 2), False
        self.emit(ind, f"{name} = {self.store(code, view)}")
        env.bind(name, T, code=code)

    def st_reassign(self, env, ind):
        names = [n for n in env.locals if n in env.vars and not env.vars[n].startswith("P")
                 and n not in env.accs]
        if not names:
            return self.st_assign(env, ind)
        name = self.rng.choice(sorted(names))
        T = env.vars[name]
        if env.in_loop:
            code, view = self.loop_value(env, T, 2), False
        else:
            code, view = self.expr(env, T, self.rng.randint(1, 3))
        if code == name:
            self.feat("self-assign")
        self.emit(ind, f"{name} = {self.store(code, view)}")
        env.set_active(name, code)

    def st_acc_new(self, env, ind):
        T = self.pick_type(env)
        name = self.fresh("acc")
        if T == "S":
            init = self.rng.choice(["0.0", self.const(), f"np.sum({self.expr(env, 'v', 1)[0]})"])
        else:
            init = self.rng.choice([ZEROS[T], f"1.0 * {self.expr(env, T, 1)[0]}",
                                    f"np.zeros_like({self.expr(env, T, 0)[0]})"])
        self.emit(ind, f"{name} = {init}")
        env.bind(name, T, code=init)
        env.accs.add(name)

    def st_aug(self, env, ind):
        accs = sorted(a for a in env.accs if a in env.vars)
        if not accs:
            return self.st_acc_new(env, ind)
        name = self.rng.choice(accs)
        T = env.vars[name]
        self.feat("augassign")
        op = self.pick([(4, "+="), (2, "-="), (1, "*=")])
        other = T if T == "S" or self.chance(0.7) else "S"
        if T == "m" and self.chance(0.2):
            other = self.rng.choice(["c", "r", "v"])
            self.feat("broadcast")
        if op == "*=":
            a, _ = self.expr(env, other, 2)
            code = self.rng.choice(["np.cos({a})", "np.tanh({a})", "(0.5 + 0.4 * np.sin({a}))"]).format(a=a)
        elif env.in_loop:
            code = self.loop_value(env, other, 2)
        else:
            code = self.expr(env, other, self.rng.randint(1, 3))[0]
        if T != "S" and self.tape_ok:
            self.emit(ind, f"{name} = {name} {op[0]} {self.atom(code)}")
        else:
            self.emit(ind, f"{name} {op} {code}")
            if T != "S":
                self.feat("tape-limited")
        env.set_active(name, code, keep=True)

    def st_item(self, env, ind):
        accs = sorted(a for a in env.accs if a in env.vars and env.vars[a] in ARRAYS)
        if not accs or self.tape_ok:
            return self.st_aug(env, ind)
        name = self.rng.choice(accs)
        T = env.vars[name]
        self.feat("setitem:array")
        i = self.int_index(env)
        targets = {"v": [(f"[{i}]", "S"), ("[1:]", "c2")],
                   "c": [(f"[{i}]", "S"), (f"[{i}, 0]", "S")],
                   "r": [(f"[0, {i}]", "S"), ("[:, 1:]", "c2")],
                   "m": [(f"[{i}]", "v"), (f"[:, {i}]", "v"), (f"[{i}, {self.int_index(env)}]", "S")]}[T]
        sub, vt = self.rng.choice(targets)
        if vt == "c2":
            code = f"{self.expr(env, 'S', 2)[0]} * CV[:2]"
        else:
            code = self.loop_value(env, vt, 2) if env.in_loop else self.expr(env, vt, 2)[0]
        op = "+=" if self.chance(0.3) else "="
        self.emit(ind, f"{name}{sub} {op} {code}")
        self.feat("tape-limited")
        env.set_active(name, code, keep=True)

    def st_list_new(self, env, ind):
        T = self.pick_type(env)
        name = self.fresh("hs")
        if self.chance(0.3):
            self.emit(ind, f"{name} = []")
            n = 0
        else:
            n = self.rng.randint(1, 2)
            items = [self.store(*self.expr(env, T, 2)) for _ in range(n)]
            self.emit(ind, f"{name} = [{', '.join(items)}]")
            env.set_active(name, " ".join(items))
        env.lists[name] = [T, n, True]
        if n >= 1 and self.chance(0.35):
            env.lists[name][2] = False          # frozen: never appended to
            env.frozen.add(name)
        self.feat("list:new")

    def st_append(self, env, ind):
        lists = sorted(h for h, (_, _, ok) in env.lists.items() if ok)
        if not lists:
            return self.st_list_new(env, ind)
        h = self.rng.choice(lists)
        T = env.lists[h][0]
        if env.in_loop:
            code, view = self.loop_value(env, T, 2), False
        else:
            code, view = self.expr(env, T, 2)
        self.emit(ind, f"{h}.append({self.store(code, view)})")
        env.set_active(h, code, keep=True)
        self.feat("list:append")
        if env.depth == 0:
            env.lists[h][1] += 1

    def st_list_set(self, env, ind):
        lists = sorted(h for h, (_, n, _) in env.lists.items() if n >= 1 and h not in env.params)
        if not lists:
            return self.st_append(env, ind)
        h = self.rng.choice(lists)
        T, n, _ = env.lists[h]
        k = self.rng.randrange(-n, n)
        if env.in_loop:
            code, view = self.loop_value(env, T, 2), False
        else:
            code, view = self.expr(env, T, 2)
        self.emit(ind, f"{h}[{k}] = {self.store(code, view)}")
        env.set_active(h, code, keep=True)
        self.feat("list:setitem")

    def st_poly_acc(self, env, ind):
        """`acc = 0.0` then `acc = acc + array` in a loop: a float or an array afterwards."""
        name = self.fresh("tot")
        T = self.rng.choice(["v", "c", "m", "S"])
        self.emit(ind, f"{name} = {self.rng.choice(['0.0', '0', '0.0'])}")
        i = self.fresh("i")
        k = self.rng.choice([0, 1, 2, 3])
        self.emit(ind, f"for {i} in range({k}):")
        e = self.loop_env(env)
        e.ints[i] = (0, max(k - 1, 0))
        e.depth += 1
        if self.chance(0.4):
            self.block(e, ind + 1, 1)
        code = self.loop_value(e, T, 2)
        self.emit(ind + 1, f"{name} = {name} + {self.atom(code)}")
        P = f"P{env.ptypes}"
        env.ptypes += 1
        env.vars[name] = P               # polymorphic: only elementwise ops and full reductions
        env.weights[name] = 3.0
        env.set_active(name, code)
        self.feat("poly-accumulator")

    def st_retype(self, env, ind):
        """Rebind a local to a value of another type (e.g. a vector to its sum)."""
        names = sorted(n for n in env.locals if n in env.vars and n not in env.accs
                       and not env.vars[n].startswith("P") and n not in env.captured
                       and (n not in env.params or self.allow("param-rebind-other-shape")))
        if not names:
            return self.st_assign(env, ind)
        name = self.rng.choice(names)
        T = self.rng.choice([t for t in ("S",) + ARRAYS if t != env.vars[name]])
        code, view = self.expr(env, T, 2)
        if not env.reads_active(code) and env.vars[name] in ARRAYS and T == "S":
            code, view = f"np.sum({name})", False
        self.emit(ind, f"{name} = {self.store(code, view)}")
        env.vars[name] = T
        env.set_active(name, code)
        self.feat("retype")

    def st_tuple_new(self, env, ind):
        T = self.pick_type(env)
        name = self.fresh("tp")
        n = self.rng.randint(2, 3)
        codes = [self.store(*self.expr(env, T, 2)) for _ in range(n)]
        self.emit(ind, f"{name} = ({', '.join(codes)})")
        for k, code in enumerate(codes):
            for ref in (f"{name}[{k}]", f"{name}[{k - n}]"):
                env.vars[ref] = T
                env.weights[ref] = 2.0
                env.set_active(ref, code)
        if self.chance(0.4):
            names = [self.fresh("e") for _ in codes]
            self.emit(ind, f"{', '.join(names)} = {name}")
            for nm, code in zip(names, codes):
                env.bind(nm, T, code=code)
            self.feat("tuple:unpack")
        self.feat("tuple:new")

    def st_aug_item(self, env, ind):
        """`hs[k] += e` / `d["a"] += e` on containers of Python floats (no aliasing issue)."""
        opts = []
        for h, (T, n, _) in env.lists.items():
            if T == "S" and n >= 1 and h not in env.params and h in env.floats:
                opts.append((h, f"{h}[{self.rng.randrange(-n, n)}]"))
        for dd, (T, keys) in env.dicts.items():
            if T == "S" and dd in env.floats:
                opts.append((dd, f'{dd}["{self.rng.choice(keys)}"]'))
        if not opts:
            # a container of floats to update
            if self.chance(0.5):
                name = self.fresh("fl")
                items = [f"float({self.expr(env, 'S', 2)[0]})" for _ in range(self.rng.randint(1, 3))]
                self.emit(ind, f"{name} = [{', '.join(items)}]")
                env.lists[name] = ["S", len(items), False]
                env.frozen.add(name)
            else:
                name = self.fresh("dd")
                keys = self.rng.sample(["a", "b", "c"], self.rng.randint(1, 3))
                items = [f'"{k}": float({self.expr(env, "S", 2)[0]})' for k in keys]
                self.emit(ind, f"{name} = {{{', '.join(items)}}}")
                env.dicts[name] = ("S", tuple(keys))
                for k in keys:
                    env.vars[f'{name}["{k}"]'] = "S"
                    env.weights[f'{name}["{k}"]'] = 3.0
            env.floats.add(name)
            env.set_active(name, " ".join(items))
            return
        h, target = self.rng.choice(opts)
        code = self.loop_value(env, "S", 2) if env.in_loop else self.expr(env, "S", 2)[0]
        self.emit(ind, f"{target} {self.rng.choice(['+=', '-=', '+='])} float({code})")
        env.set_active(h, code, keep=True)
        self.feat("augassign:item")

    def st_dict_new(self, env, ind):
        T = self.pick_type(env)
        name = self.fresh("dd")
        keys = self.rng.sample(["a", "b", "c"], self.rng.randint(1, 3))
        items, codes = [], []
        for k in keys:
            code, view = self.expr(env, T, 2)
            items.append(f'"{k}": {self.store(code, view)}')
            codes.append(code)
        for k, code in zip(keys, codes):
            env.vars[f'{name}["{k}"]'] = T
            env.weights[f'{name}["{k}"]'] = 3.0
            env.set_active(f'{name}["{k}"]', code)
        self.emit(ind, f"{name} = {{{', '.join(items)}}}")
        env.dicts[name] = (T, tuple(keys))
        self.feat("dict:new")

    def st_dict_set(self, env, ind):
        name = self.rng.choice(sorted(env.dicts))
        T, keys = env.dicts[name]
        k = self.rng.choice(keys)
        code, view = (self.loop_value(env, T, 2), False) if env.in_loop else self.expr(env, T, 2)
        self.emit(ind, f'{name}["{k}"] = {self.store(code, view)}')
        env.set_active(f'{name}["{k}"]', code, keep=True)
        self.feat("dict:setitem")

    def st_for_dict(self, env, ind):
        name = self.rng.choice(sorted(env.dicts))
        T, keys = env.dicts[name]
        e = self.loop_env(env)
        kk, vv = self.fresh("k"), self.fresh("q")
        if self.chance(0.6) or not self.allow("for-dict-keys"):
            self.emit(ind, f"for {kk}, {vv} in {name}.items():")
            self.feat("for:dict:items")
        else:
            self.emit(ind, f"for {kk} in {name}:")
            self.emit(ind + 1, f"{vv} = {name}[{kk}]")
            self.feat("for:dict:keys")
        e.vars[vv] = T
        e.weights[vv] = 6.0
        e.set_active(vv, " ".join(f'{name}["{k}"]' for k in keys))
        self.body(e, ind + 1)

    def st_unpack(self, env, ind):
        multi = [s for s in env.funcs.values() if len(s.returns) > 1 and not any(
            isinstance(t, tuple) and not self.can_list_arg(env, t[1]) for _, t, _ in s.params)]
        if multi and self.chance(0.7):
            sig = self.rng.choice(multi)
            args, view = self.call_args(env, sig, 2)
            if view:        # a helper may hand an argument back: copy accumulators first
                return self.st_assign(env, ind)
            names = [self.fresh("u") for _ in sig.returns]
            self.emit(ind, f"{', '.join(names)} = {sig.name}({args})")
            for nm, t in zip(names, sig.returns):
                env.bind(nm, t, code=args)
            self.feat("call:unpack")
            return
        names = sorted(n for n in env.locals if n in env.vars and not env.vars[n].startswith("P"))
        if len(names) >= 2 and self.chance(0.4):
            a, b = self.rng.sample(names, 2)
            if env.vars[a] == env.vars[b] and a not in env.accs and b not in env.accs:
                self.emit(ind, f"{a}, {b} = {b}, {a}")
                self.feat("swap")
                return
        T1, T2 = self.pick_type(env), self.pick_type(env)
        n1, n2 = self.fresh("t"), self.fresh("t")
        e1 = self.store(*self.expr(env, T1, 2))
        e2 = self.store(*self.expr(env, T2, 2))
        self.emit(ind, f"{n1}, {n2} = {e1}, {e2}")
        env.bind(n1, T1, code=e1)
        env.bind(n2, T2, code=e2)
        self.feat("tuple-assign")

    def body(self, env, ind, lo=1, hi=3):
        env.depth += 1
        n = self.rng.randint(lo, hi)
        self.block(env, ind, n)

    def loop_env(self, env):
        e = env.child()
        e.in_loop = True
        for c in e.weights:
            e.weights[c] = min(e.weights[c], 2.0)
        return e

    def st_for_range(self, env, ind):
        i = self.fresh("i")
        k = self.rng.choice([0, 1, 1, 2, 3, 3, 4])
        self.feat(f"for:range{min(k, 2)}")
        form = self.rng.randrange(6)
        lists = [h for h, (_, n, _) in env.lists.items()]
        if form == 0:
            rng_txt, lo, hi = f"range({k})", 0, k - 1
        elif form == 1:
            rng_txt, lo, hi = f"range(1, {k + 1})", 1, k
        elif form == 2:
            rng_txt, lo, hi = f"range({k} - 1, -1, -1)", 0, k - 1
        elif form == 3:
            rng_txt, lo, hi = f"range(0, {k}, 2)", 0, k - 1
        elif form == 4 and lists:
            h = self.rng.choice(lists)
            rng_txt, lo, hi = f"range(len({h}))", 0, None
        else:
            rng_txt, lo, hi = "range(DEPTH)", 0, self.depth_const - 1
        self.emit(ind, f"for {i} in {rng_txt}:")
        e = self.loop_env(env)
        if hi is None:                     # range(len(h)): i indexes h, not arrays
            e.ints[i] = (0, 99)
            T = e.lists[h][0]
            e.vars[f"{h}[{i}]"] = T
            e.weights[f"{h}[{i}]"] = 6.0
            e.set_active(f"{h}[{i}]", h)
            e.lists[h][2] = False if self.chance(0.5) else e.lists[h][2]
            self.feat("list:index-loopvar")
        else:
            e.ints[i] = (lo, max(hi, lo))
        self.body(e, ind + 1)

    def st_for_w(self, env, ind):
        T = f"P{env.ptypes}"
        env.ptypes += 1
        e = self.loop_env(env)
        e.ptypes = env.ptypes
        W = env.wname
        forms = ["plain", "enumerate", "range"]
        if env.data:
            forms += ["zip", "zipenum"]
        form = self.rng.choice(forms)
        p = self.fresh("p")
        if form == "plain":
            self.emit(ind, f"for {p} in {W}:")
            e.vars[p] = T
        elif form == "enumerate":
            i = self.fresh("i")
            self.emit(ind, f"for {i}, {p} in enumerate({W}):")
            e.vars[p] = T
            e.ints[i] = (0, self.nw - 1)
        elif form == "zip":
            dd = self.fresh("d")
            self.emit(ind, f"for {p}, {dd} in zip({W}, {env.xcode['xs']}):")
            e.vars[p] = T
            e.vars[dd] = T
            e.weights[dd] = 4.0
        elif form == "zipenum":
            i, dd = self.fresh("i"), self.fresh("d")
            self.emit(ind, f"for {i}, ({p}, {dd}) in enumerate(zip({W}, {env.xcode['xs']})):")
            e.vars[p] = T
            e.vars[dd] = T
            e.ints[i] = (0, self.nw - 1)
            e.weights[dd] = 4.0
        else:
            i = self.fresh("i")
            self.emit(ind, f"for {i} in range(len({W})):")
            e.ints[i] = (0, self.nw - 1)
            p = f"{W}[{i}]"
            e.vars[p] = T
            if env.data:
                e.vars[f"{env.xcode['xs']}[{i}]"] = T
        e.weights[p] = 6.0
        e.active.add(p)
        self.feat(f"for:w:{form}")
        if p.isidentifier() and self.chance(0.2):
            self.emit(ind + 1, f"{p} = {_squash(self.rng.choice(SQUASH), p)}")
            self.feat("loopvar:reassign")
        # first statement uses the element: accumulate a reduction of it
        accs = sorted(a for a in e.accs if e.vars.get(a) == "S")
        a, _ = self.expr(e, T, 2)
        red = f"{self.rng.choice(['np.sum', 'np.mean', 'np.max'])}({a})"
        if accs and self.chance(0.7):
            self.emit(ind + 1, f"{self.rng.choice(accs)} += np.tanh({red})")
        else:
            name = self.fresh("h")
            self.emit(ind + 1, f"{name} = {red}")
            e.bind(name, "S")
        self.body(e, ind + 1, 0, 2)

    def st_for_stack(self, env, ind):
        lo, hi, T = self.rng.choice(env.stacks)
        W = env.wname
        e = self.loop_env(env)
        form = self.rng.choice(["range", "slice", "enumerate"])
        self.feat(f"for:stack:{form}")
        if form == "range":
            i = self.fresh("i")
            self.emit(ind, f"for {i} in range({lo}, {hi}):")
            p = f"{W}[{i}]"
            e.ints[i] = (lo, hi - 1)
        elif form == "slice":
            p = self.fresh("p")
            self.emit(ind, f"for {p} in {W}[{lo}:{hi}]:")
        else:
            p, i = self.fresh("p"), self.fresh("i")
            self.emit(ind, f"for {i}, {p} in enumerate({W}[{lo}:{hi}]):")
            e.ints[i] = (0, hi - lo - 1)
        e.vars[p] = T
        e.weights[p] = 8.0
        e.active.add(p)
        # a layer: state = squash(p @ state + ...) when shapes allow
        states = sorted(n for n in e.locals if e.vars.get(n) in (("v", "c", "m") if T == "m" else (T,))
                        and n not in e.accs)
        if states and T == "m":
            s = self.rng.choice(states)
            ST = e.vars[s]
            prod = f"{p} @ {s}" if ST != "v" or self.chance(0.5) else f"{s} @ {p}"
            extra = self.expr(e, ST, 1)[0]
            self.emit(ind + 1, f"{s} = {_squash(self.rng.choice(SQUASH), f'({prod} + {extra})')}")
            e.active.add(s)
            self.feat("layer")
        self.body(e, ind + 1, 0, 2)

    def st_for_list(self, env, ind):
        h = self.rng.choice(sorted(env.lists))
        T = env.lists[h][0]
        e = self.loop_env(env)
        e.lists[h][2] = False                   # no appends while iterating
        p = self.fresh("q")
        if self.chance(0.5):
            self.emit(ind, f"for {p} in {h}:")
        else:
            i = self.fresh("i")
            self.emit(ind, f"for {i}, {p} in enumerate({h}):")
            e.ints[i] = (0, 99)
        e.vars[p] = T
        e.weights[p] = 6.0
        e.set_active(p, h)
        self.feat("for:list")
        self.body(e, ind + 1)

    def st_while(self, env, ind):
        j = self.fresh("j")
        K = self.rng.choice([0, 1, 2, 3, 4])
        e = self.loop_env(env)
        e.ints[j] = (1, max(K, 1))
        form = self.rng.choice(["count", "data", "data2", "true"])
        self.feat(f"while:{form}")
        self.emit(ind, f"{j} = 0")
        if form == "count":
            self.emit(ind, f"while {j} < {K}:")
        elif form == "data":
            self.emit(ind, f"while {j} < {K} and ({self.cond(env, 1, python_ok=False)}):")
        elif form == "data2":
            self.emit(ind, f"while ({self.cond(env, 1, python_ok=False)}) and {j} < {K}:")
        else:
            self.emit(ind, "while True:")
        self.emit(ind + 1, f"{j} += 1")
        if form == "true":
            # the exit test comes first, so that a 'continue' cannot skip it
            extra = f" or ({self.cond(env, 1, python_ok=False)})" if self.chance(0.6) else ""
            self.emit(ind + 1, f"if {j} > {K}{extra}:")
            self.emit(ind + 2, "break")
        self.body(e, ind + 1, 1, 3)

    def st_if(self, env, ind):
        self.emit(ind, f"if {self.cond(env)}:")
        self.feat("if")
        self.body(env.child(), ind + 1)
        if self.chance(0.25):
            self.feat("elif")
            self.emit(ind, f"elif {self.cond(env)}:")
            self.body(env.child(), ind + 1)
        if self.chance(0.5):
            self.emit(ind, "else:")
            self.body(env.child(), ind + 1)

    def st_if_def(self, env, ind):
        """A variable defined on both branches, used afterwards."""
        T = self.pick_type(env)
        name = self.fresh("b")
        self.feat("if:define")
        self.emit(ind, f"if {self.cond(env)}:")
        e1 = env.child()
        e1.depth += 1
        if self.chance(0.5):
            self.block(e1, ind + 1, 1)
        c1 = self.store(*self.expr(e1, T, 2))
        self.emit(ind + 1, f"{name} = {c1}")
        self.emit(ind, "else:")
        e2 = env.child()
        e2.depth += 1
        c2 = self.store(*self.expr(e2, T, 2))
        self.emit(ind + 1, f"{name} = {c2}")
        env.bind(name, T, code=c1 + " " + c2)

    def st_jump(self, env, ind):
        word = self.rng.choice(["break", "continue"])
        self.feat(word)
        self.emit(ind, f"if {self.cond(env)}:")
        self.emit(ind + 1, word)

    def st_if_return(self, env, ind):
        self.feat("return:early" + (":loop" if env.in_loop else ""))
        self.emit(ind, f"if {self.cond(env)}:")
        self.emit_return(env, ind + 1)

    def emit_return(self, env, ind):
        parts = [self.expr(env, t, 2)[0] for t in env.ret]
        if env.data and re.search(r"\bsum\(|\btot\d", parts[0]):
            parts[0] = f"1.0 * {parts[0]}"     # sum([]) or a total that stayed 0 is an int
        self.emit(ind, f"return {', '.join(parts)}")

    def st_push(self, env, ind):
        sigs = [s for s in env.funcs.values() if not s.returns]
        sig = self.rng.choice(sigs)
        T = sig.params[1][1]
        lists = sorted(h for h, (t, n, ok) in env.lists.items() if t == T and ok and n >= 1
                       and (h in env.pushable or self.allow("stack-then-helper-append")))
        if lists:
            h = self.rng.choice(lists)
        else:
            h = self.fresh("hs")
            code, view = self.expr(env, T, 2)
            self.emit(ind, f"{h} = [{self.store(code, view)}]")
            env.lists[h] = [T, 1, True]
            env.pushable.add(h)
            env.set_active(h, code)
        a, view = self.expr(env, T, 2)
        self.emit(ind, f"{sig.name}({h}, {self.store(a, view)})")
        env.set_active(h, a, keep=True)
        self.feat("call:mutating")
        if env.depth == 0:
            env.lists[h][1] += 1

    def st_closure(self, env, ind):
        """A nested def or lambda reading the enclosing function's variables."""
        Tin, Tout = self.pick_type(env), self.pick_type(env)
        name = self.fresh("f")
        inner = env.child()
        for a in list(inner.accs):     # closures do not read accumulators (they might return views)
            inner.vars.pop(a, None)
        if env.in_loop:
            self.feat("closure:in-loop")     # reads the loop variable (late binding)
        else:
            inner.ints = {}
        inner.lists = {}
        inner.funcs = {k: s for k, s in inner.funcs.items() if not s.closure}
        inner.in_loop = False
        inner.depth = 0
        inner.data = False
        inner.stacks = []
        inner.vars = {k: t for k, t in inner.vars.items() if not t.startswith("P")}
        t = self.fresh("t")
        inner.vars[t] = Tin
        inner.weights[t] = 8.0
        inner.active.add(t)
        if self.chance(0.4):
            self.feat("lambda")
            body, _ = self.expr(inner, Tout, 2)
            env.captured |= set(re.findall(r"[A-Za-z_]\w*", body))
            self.emit(ind, f"{name} = lambda {t}: {body}")
            env.set_active(name, body.replace(t, ""))
            params = [(t, Tin, None)]
        else:
            self.feat("closure")
            k = self.fresh("k")
            inner.vars[k] = "S"
            self.emit(ind, f"def {name}({t}, {k}={self.const(0.2, 1.0)}):")
            inner.ret = (Tout,)
            body = self.expr(inner, Tout, 2)[0]
            env.captured |= set(re.findall(r"[A-Za-z_]\w*", body))
            self.emit(ind + 1, f"return {body}")
            env.set_active(name, body.replace(t, ""))
            params = [(t, Tin, None), (k, "S", self.const())]
        env.funcs[name] = Sig(name, params, (Tout,), closure=True)

    # ---- functions ----------------------------------------------------------------------
    def helper(self, funcs):
        """A module-level helper; may call earlier helpers."""
        name = self.fresh("helper")
        if self.chance(0.12):
            T = self.rng.choice(["v", "c", "S"])
            hs, a = "hs", "a"
            self.emit(0, f"def {name}({hs}, {a}):")
            self.emit(1, f"{hs}.append({_squash(self.rng.choice(SQUASH), a)})")
            if self.chance(0.5):
                self.emit(1, f"{hs}[0] = {hs}[0] * 0.9")
            self.feat("helper:mutating")
            self.emit(0, "")
            self.emit(0, "")
            return Sig(name, [(hs, ("L", T), None), (a, T, None)], ())
        env = Env()
        env.funcs = dict(funcs)
        params = []
        for k in range(self.rng.randint(1, 3)):
            T = self.pick_type(env)
            params.append((f"a{k}", T, None))
        if self.chance(0.3):
            T = self.rng.choice(["m", "v", "S"])
            params.append(("ws", ("L", T), None))
        if self.chance(0.5):
            params.append(("s", "S", self.const(0.2, 1.5)))
        if self.chance(0.3):
            params.append(("scale", "S", self.const(0.2, 1.5)))
        if self.chance(0.15):
            T = self.rng.choice(["v", "m"])
            params.append(("base", T, "CV" if T == "v" else "CM"))
            self.feat("default:array")
        kwonly = ()
        first_default = next((k for k, (_, _, dft) in enumerate(params) if dft is not None), None)
        if first_default is not None and self.chance(0.3) and self.allow("kwonly-param"):
            kwonly = tuple(p for p, _, _ in params[first_default:])
            self.feat("param:kwonly")
        for pname, T, default in params:
            if isinstance(T, tuple):
                env.lists[pname] = [T[1], 1, False]
            else:
                env.vars[pname] = T
                env.weights[pname] = 4.0
                env.locals.add(pname)
            env.active.add(pname)
            env.params.add(pname)
        nret = 2 if self.chance(0.3) else 1
        env.ret = tuple(self.pick_type(env) for _ in range(nret))
        env.wname = None
        texts = [p if d is None else f"{p}={d}" for p, _, d in params]
        if kwonly:
            texts.insert(first_default, "*")
        sig_text = ", ".join(texts)
        self.emit(0, f"def {name}({sig_text}):")
        lst = [p for p, T, _ in params if isinstance(T, tuple)]
        if lst and self.chance(0.7):
            # fold over the list parameter
            T = env.lists[lst[0]][0]
            e = self.loop_env(env)
            e.lists[lst[0]][2] = False
            q = self.fresh("q")
            self.emit(1, f"for {q} in {lst[0]}:")
            e.vars[q] = T
            e.weights[q] = 8.0
            e.active.add(q)
            e.depth = 1
            states = sorted(n for n in env.locals if env.vars.get(n) in (("v", "c", "m") if T == "m" else (T,)))
            if states and T == "m":
                s = self.rng.choice(states)
                prod = f"{q} @ {s}"
                self.emit(2, f"{s} = {_squash(self.rng.choice(SQUASH), prod)}")
                e.active.add(s)
                self.feat("layer")
            self.block(e, 2, self.rng.randint(1, 2))
        self.block(env, 1, self.rng.randint(1, 4))
        self.emit_return(env, 1)
        self.emit(0, "")
        self.emit(0, "")
        self.feat("helper" + (":multi" if nret > 1 else ""))
        return Sig(name, params, env.ret, kwonly=kwonly)

    def params(self):
        rng = self.rng
        n = rng.randint(1, 3)
        if rng.random() < 0.35 and n >= 2:
            T = rng.choice(["m", "m", "v", "c"])
            k = rng.randint(2, n)
            types = [T] * k + [rng.choice(["v", "m", "c", "S"]) for _ in range(n - k)]
            if rng.random() < 0.5:
                types = types[::-1]
        else:
            types = [rng.choice(["v", "m", "c", "S", "v", "m"]) for _ in range(n)]
        return types

    def program(self):
        rng = self.rng
        self.depth_const = rng.randint(0, 3)
        idx = [rng.randrange(3) for _ in range(3)]
        mask = [rng.random() < 0.6 for _ in range(3)]
        self.lines.append(PRELUDE.format(seed=self.seed, idx=idx, mask=mask, depth=self.depth_const))
        self.emit(0, "")
        funcs = {}
        for _ in range(rng.choice([0, 1, 1, 2, 2, 3])):
            sig = self.helper(funcs)
            funcs[sig.name] = sig
        wtypes = self.params()
        self.nw = len(wtypes)
        env = Env()
        env.funcs = funcs
        env.data = True
        env.wname = "w"
        dict_x = rng.random() < 0.3
        keys = ["v", "m", "c", "xs", "idx", "mask"]
        env.xcode = {k: (f'x["{k}"]' if dict_x else f"x[{i}]") for i, k in enumerate(keys)}
        self.emit(0, "def loss(w, x):")
        # parameters: inline w[k], unpacked names, or both
        style = rng.choice(["inline", "unpack", "names"])
        # the structure of w: a list (or tuple), a bare array, or a dict; drawn from a stream
        # of its own so that the list programs of every seed stay what they were
        pick = random.Random(self.seed * 7919 + 17).random()
        if pick < 0.15 and len(wtypes) == 1 and wtypes[0] in ARRAYS:
            self.wstruct = "bare"
        elif pick > 0.85:
            self.wstruct = "dict"
        if self.wstruct != "list":
            self.feat(f"w:{self.wstruct}")
            env.wname = None                      # no loops over w, no stacks w[lo:hi]
            for k, T in enumerate(wtypes):
                code = "w" if self.wstruct == "bare" else f'w["p{k}"]'
                env.vars[code] = T
                env.weights[code] = 4.0
                env.active.add(code)
            wtypes_for_codes = []
        else:
            wtypes_for_codes = wtypes
        if self.wstruct != "list":
            style = "inline"
        if style == "unpack" and len(wtypes_for_codes) > 0:
            names = [f"w{k}" for k in range(len(wtypes))]
            self.emit(1, f"{', '.join(names)}{',' if len(names) == 1 else ''} = w")
            self.feat("unpack:w")
            for nm, T in zip(names, wtypes):
                env.vars[nm] = T
                env.weights[nm] = 4.0
                env.active.add(nm)
        for k, T in enumerate(wtypes_for_codes):
            code = f"w[{k}]" if style != "names" or rng.random() < 0.5 else f"w[{k - len(wtypes)}]"
            env.vars[code] = T
            env.weights[code] = 3.0 if style != "unpack" else 1.0
            env.active.add(code)
        # stacks of same-typed parameters
        for lo in range(len(wtypes_for_codes)):
            for hi in range(lo + 2, len(wtypes_for_codes) + 1):
                if wtypes[lo] in ARRAYS and all(t == wtypes[lo] for t in wtypes[lo:hi]):
                    env.stacks.append((lo, hi, wtypes[lo]))
        if rng.random() < 0.4:
            self.emit(1, f"xv, xm = {env.xcode['v']}, {env.xcode['m']}")
            env.vars["xv"], env.vars["xm"] = "v", "m"
            env.weights["xv"] = env.weights["xm"] = 1.0
        else:
            env.vars[env.xcode["v"]], env.vars[env.xcode["m"]] = "v", "m"
        env.vars[env.xcode["c"]] = "c"
        for k in list(env.vars):
            env.weights.setdefault(k, 1.0)
        n = rng.randint(3, 9)
        self.block(env, 1, n)
        # final: every local array/scalar has a chance to contribute
        terms = []
        locs = [n for n in sorted(env.locals) if n in env.vars and not env.vars[n].startswith("P")]
        rng.shuffle(locs)
        locs.sort(key=lambda n: n not in env.active)
        for nm in locs[:3]:
            terms.append(nm if env.vars[nm] == "S" else f"np.sum({nm})")
        for h, (T, cnt, _) in sorted(env.lists.items()):
            if cnt >= 1 and rng.random() < 0.7:
                terms.append(f"np.sum({h}[-1])")
        terms.append(self.expr(env, "S", 2)[0])
        coeffs = [self.const(0.3, 1.0) for _ in terms]
        final = " + ".join(f"{c} * {t}" for c, t in zip(coeffs, terms))
        self.emit(1, f"return {final}")
        source = "\n".join(self.lines) + "\n"
        return source, wtypes, dict_x, idx, mask


def make_inputs(wtypes, dict_x, seed, idx=None, mask=None, wstruct="list"):
    """Random parameters (scale 0.5) and data for a program's parameter types; ``wstruct``
    makes ``w`` a list (sometimes a tuple), one bare array, or a dict ``{"p0": ..}``."""
    r = np.random.default_rng(seed)
    w = []
    for T in wtypes:
        if T == "S":
            w.append(float(round(r.uniform(-1, 1), 6)) or 0.3)
        else:
            w.append(0.5 * r.standard_normal(SHAPE[T]))
    xs = [0.5 * r.standard_normal(np.shape(p)) if not isinstance(p, float) else float(r.uniform(-1, 1))
          for p in w]
    idx = r.integers(0, 3, size=3) if idx is None else np.array(idx)
    mask = r.random(3) < 0.6 if mask is None else np.array(mask)
    vals = [r.standard_normal(3), r.standard_normal((3, 3)), r.standard_normal((3, 1)), xs, idx, mask]
    if dict_x:
        x = dict(zip(["v", "m", "c", "xs", "idx", "mask"], vals))
    else:
        x = vals
    if r.random() < 0.15 and wstruct == "list":
        w = tuple(w)                      # parameters in a tuple: the gradient is a tuple
    if wstruct == "bare":
        w = w[0]
    elif wstruct == "dict":
        w = {f"p{k}": v for k, v in enumerate(w)}
    return w, x


FEATURE_PATTERNS = {
    "index:negative-int": r"\[-\d\]|\[-\d,|, -\d\]",
    "index:loop-variable": r"\[i\d+\]|\[j\d+\]|, i\d+\]",
    "index:int-array": r"\[(IDX|np\.array\(\[\d|\[\d, \d, \d\]|x\[4\]|x\[\"idx\"\])",
    "index:bool-mask": r"\[(MASK|x\[5\]|x\[\"mask\"\]|\(.* > |np\.array\(\[True)",
    "index:step-slice": r"::",
    "index:None": r"None\]|\[None",
    "op:matmul": r" @ |np\.dot|np\.matmul",
    "op:pow": r"\*\* ",
    "loop:for-range": r"in range\(",
    "loop:while": r"^\s*while ",
    "loop:break": r"^\s*break$",
    "loop:continue": r"^\s*continue$",
    "return:inside-block": r"^\s{8,}return ",
    "if:else": r"^\s*else:$",
    "ifexp": r" if .* else ",
    "augassign": r" [+*-]= ",
    "list:append": r"\.append\(",
    "call:keyword": r"\w\((?:[^()]*, )?[a-z]\w*=",
}


def features_of(source):
    """Construct names found in a program's source (for coverage counts)."""
    import re
    return {name for name, pat in FEATURE_PATTERNS.items() if re.search(pat, source, re.M)}


def generate(seed):
    """The program and inputs of one seed."""
    g = Gen(seed)
    source, wtypes, dict_x, _, _ = g.program()
    w, x = make_inputs(wtypes, dict_x, seed, wstruct=g.wstruct)
    return Case(seed, source, w, x, g.features | features_of(source))


# ---- checking ---------------------------------------------------------------------------
@dataclasses.dataclass
class Result:
    """Outcome of one program.

    ``status``: 'ok'; 'ok-fd-retry' (agreed with the finite differences at the
    second step only); 'ok-tape-limit' (compiled and numeric agree; the tape refused a
    construct it rejects by design, see TAPE_LIMITED); 'skipped' (the forward value or its finite-difference gradient is not
    finite or too large: an ill-conditioned draw); 'kink' (the finite differences at
    the two steps of FD_STEPS disagree: the point is next to a kink, not compared); 'gen-error' (the program
    itself raised: a bug of the generator); 'unsupported' (mode='source'
    raised UnsupportedError); 'source-error' / 'tape-error' (another exception
    in gradient code); 'mismatch' (the gradients disagree); 'value' (the
    compiled value differs from the plain call); 'mutation' (a gradient call
    changed w or x); 'mode' (mode='source' or mode='auto' reported another mode);
    'auto-error' (mode='auto' raised where mode='source' did not).

    Forward mode (checked after the reverse checks pass, along a random tangent ``t`` of
    ``w``, data ``x`` held constant): 'fwd-mismatch' (``knet.jvp`` in mode='source',
    mode='tape', mode='auto', the central difference along ``t`` and ``<gradient, t>``
    disagree, or the jvp's value differs from the plain call); 'fwd-error' (an exception
    other than the compiler's UnsupportedError); 'fwd-mutation' (a jvp call changed w or x);
    'ok-fwd-tape' (a pass: the forward compiler refused the program with UnsupportedError
    and mode='auto''s tape result was right).
    """
    seed: int
    status: str
    message: str = ""
    source: str = ""
    compiled: object = None
    taped: object = None
    numeric: object = None
    compiled_ok: bool = False   # mode='source' compiled the program and returned a gradient
    forward: dict = None        # forward mode: the tangent and the four directional derivatives
    tangent_source: str = ""    # knet.jvp_source(loss) after the compiled jvp

    @property
    def failed(self):
        return self.status not in PASSING

    def report(self):
        with np.printoptions(precision=8, suppress=False, linewidth=120):
            text = (f"seed {self.seed}: {self.status}\n{self.message}\n"
                    f"---- program ----\n{self.source}"
                    f"---- compiled (mode='source') ----\n{self.compiled!r}\n"
                    f"---- taped (mode='tape') ----\n{self.taped!r}\n"
                    f"---- numeric ----\n{self.numeric!r}\n")
            if self.forward and self.status.startswith("fwd-"):
                text += "".join(f"---- forward: {k} ----\n{v!r}\n" for k, v in self.forward.items())
                text += f"---- tangent program (knet.jvp_source(loss)) ----\n{self.tangent_source}\n"
            return text


PASSING = ("ok", "ok-fd-retry", "ok-tape-limit", "ok-fwd-tape", "skipped", "kink")


_loaded = itertools.count()


def load_module(source, directory, name):
    """Write source to directory/name.py and import it (the compiler needs a real file)."""
    path = os.path.join(directory, f"{name}.py")
    with open(path, "w") as f:
        f.write(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _finite_and_small(tree, bound):
    for leaf in _leaves(tree):
        a = np.asarray(leaf, dtype=float)
        if not np.all(np.isfinite(a)) or np.any(np.abs(a) > bound):
            return False
    return True


def _scale(tree):
    return max([1.0] + [float(np.max(np.abs(np.asarray(l, dtype=float)))) if np.size(l) else 0.0
                        for l in _leaves(tree)])


def _same_tree(a, b):
    la, lb = _leaves(a), _leaves(b)
    return len(la) == len(lb) and all(
        type(p) is type(q) and np.array_equal(np.asarray(p), np.asarray(q)) for p, q in zip(la, lb))


def _second_point(w):
    """``0.8 * w + 0.1`` leaf by leaf, in ``w``'s structure."""
    if isinstance(w, dict):
        return {k: v * 0.8 + 0.1 for k, v in w.items()}
    if isinstance(w, (list, tuple)):
        return type(w)(p * 0.8 + 0.1 for p in w)
    return w * 0.8 + 0.1


def _close(a, b, rtol, atol):
    from knetc.testing import assert_tree_allclose
    try:
        assert_tree_allclose(a, b, rtol=rtol, atol=atol)
        return None
    except AssertionError as e:
        return str(e)


class ProgramTimeout(BaseException):
    pass


def _on_alarm(signum, frame):
    raise ProgramTimeout()


def check_case(case, directory, rtol=FD_RTOL, atol=FD_ATOL, second_point=True, timeout=120):
    """Run one program's three gradients and compare them; returns a Result.

    ``timeout`` (seconds, main thread only) turns a hang into status 'timeout'.
    """
    use_alarm = timeout and hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if use_alarm:
        old = signal.signal(signal.SIGALRM, _on_alarm)
        signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        return _check_case(case, directory, rtol, atol, second_point)
    except ProgramTimeout:
        return Result(case.seed, "timeout", f"no result after {timeout} s", source=case.source)
    finally:
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)


def _check_case(case, directory, rtol, atol, second_point):
    import knetc as knet
    from knetc.testing import numeric_grad

    res = Result(case.seed, "ok", source=case.source)
    name = f"knetc_fuzz_{case.seed}_{next(_loaded)}"
    try:
        try:
            module = load_module(case.source, directory, name)
            loss = module.loss
        except Exception:
            res.status, res.message = "gen-error", traceback.format_exc()
            return res
        w0, x0 = copy.deepcopy(case.w), copy.deepcopy(case.x)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                value = loss(case.w, case.x)
                numeric = numeric_grad(loss, (case.w, case.x), wrt=0, eps=FD_STEPS[0])
                numeric2 = numeric_grad(loss, (case.w, case.x), wrt=0, eps=FD_STEPS[1])
            except Exception:
                res.status, res.message = "gen-error", traceback.format_exc()
                return res
            if not isinstance(value, (float, np.floating, np.ndarray)) or np.size(value) != 1:
                res.status, res.message = "gen-error", f"loss returned {type(value).__name__} {value!r}"
                return res
            if not _finite_and_small(value, 1e6) or not _finite_and_small(numeric, 1e6):
                res.status = "skipped"
                return res
            res.numeric = numeric
            if not _same_tree(case.w, w0) or not _same_tree(case.x, x0):
                res.status, res.message = "gen-error", "the program modifies its arguments"
                return res
            fd_atol = atol * max(_scale(numeric), abs(float(np.asarray(value, dtype=float).reshape(()))))
            kink = _close(numeric, numeric2, rtol, fd_atol)
            if kink:
                res.status, res.message = "kink", f"finite differences at steps {FD_STEPS} disagree: {kink}"
                return res
        res = _compare_three(case, res, loss, value, (numeric, numeric2), w0, x0, rtol, atol,
                             second_point, knet)
        if not res.failed:
            _compare_forward(case, res, loss, value, numeric, w0, x0, rtol, atol, second_point, knet)
        return res
    finally:
        sys.modules.pop(name, None)


def _fd_close(got, numerics, rtol, atol):
    """None if ``got`` agrees with either finite-difference gradient, else the first's message."""
    err = _close(got, numerics[0], rtol, atol)
    if err and not _close(got, numerics[1], rtol, atol):
        return None
    return err


def _compare_three(case, res, loss, value, numerics, w0, x0, rtol, atol, second_point, knet):
    from knetc.testing import numeric_grad
    import knetc.errors
    numeric = numerics[0]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g_src = knet.grad(loss, wrt=0, mode="source")
        try:
            res.compiled = g_src(case.w, case.x)
            res.compiled_ok = True
        except knetc.errors.UnsupportedError as e:
            res.status, res.message = "unsupported", str(e)
            return res
        except Exception:
            res.status, res.message = "source-error", traceback.format_exc()
            return res
        tape_refused = None
        try:
            res.taped = knet.grad(loss, wrt=0, mode="tape")(case.w, case.x)
        except Exception as e:
            limited = "tape-limited" in case.features and (
                isinstance(e, knetc.errors.GradientInputError)
                or "setting an array element with a sequence" in str(e))
            if not limited:
                res.status, res.message = "tape-error", traceback.format_exc()
                return res
            tape_refused = f"{type(e).__name__}: {e}"
            res.taped = f"(the tape refused a construct it does not support: {tape_refused})"
        if not _same_tree(case.w, w0) or not _same_tree(case.x, x0):
            res.status, res.message = "mutation", "a gradient call modified w or x"
            return res
        if g_src.mode != "source":
            res.status, res.message = "mode", f"mode='source' gave .mode == {g_src.mode!r}"
            return res
        # mode='auto' (the default users get) must compile this program too, to the same gradient
        try:
            g_auto = knet.grad(loss, wrt=0)
            auto = g_auto(case.w, case.x)
        except Exception:
            res.status, res.message = "auto-error", traceback.format_exc()
            return res
        if g_auto.mode != "source":
            res.status, res.message = "mode", f"mode='auto' gave .mode == {g_auto.mode!r} (it compiles in source mode)"
            return res
        err_auto = _close(auto, res.compiled, 1e-12, 1e-15)
        if err_auto:
            res.status, res.message = "mismatch", f"auto vs compiled: {err_auto}"
            return res
        scale = max(_scale(numeric), abs(float(np.asarray(value, dtype=float).reshape(()))))
        # compiled vs tape: both exact, so a tight tolerance
        taped = res.compiled if tape_refused else res.taped
        err_ct = _close(res.compiled, taped, 1e-6, 1e-9 * scale)
        err_cn = _fd_close(res.compiled, numerics, rtol, atol * scale)
        err_tn = _fd_close(taped, numerics, rtol, atol * scale)
        if not (err_cn or err_tn) and _close(res.compiled, numeric, rtol, atol * scale):
            res.status = "ok-fd-retry"
        if err_ct or err_cn or err_tn:
            res.status = "mismatch"
            res.message = "\n".join(f"{label}: {err}" for label, err in
                                    [("compiled vs taped", err_ct), ("compiled vs numeric", err_cn),
                                     ("taped vs numeric", err_tn)] if err)
            return res
        # the value from the same compiled code
        v2, _ = knet.value_and_grad(loss, wrt=0, mode="source")(case.w, case.x)
        if not np.allclose(np.asarray(v2, dtype=float), np.asarray(value, dtype=float), rtol=1e-9, atol=1e-12):
            res.status, res.message = "value", f"value_and_grad value {v2!r} != loss(w, x) {value!r}"
            return res
        if second_point:
            # the cached compiled code at another point with the same kinds
            w2 = _second_point(case.w)
            try:
                val2 = loss(w2, case.x)
                num2 = numeric_grad(loss, (w2, case.x), wrt=0, eps=FD_STEPS[0])
                num2b = numeric_grad(loss, (w2, case.x), wrt=0, eps=FD_STEPS[1])
            except Exception:
                return res
            if not _finite_and_small(val2, 1e6) or not _finite_and_small(num2, 1e6):
                return res
            scale2 = max(_scale(num2), abs(float(np.asarray(val2, dtype=float).reshape(()))))
            if _close(num2, num2b, rtol, atol * scale2):
                return res                       # the second point sits next to a kink
            try:
                got2 = g_src(w2, case.x)
            except knetc.errors.UnsupportedError as e:
                # a runtime check of the compiled code refused (e.g. ``a += b`` on an array
                # that turned out to be shared on this path): loud, like a refusal at compile time
                res.status, res.message = "unsupported", "second point: " + str(e)
                return res
            except Exception:
                res.status, res.message = "source-error", "second point:\n" + traceback.format_exc()
                return res
            err = _fd_close(got2, (num2, num2b), rtol, atol * scale2)
            if err:
                res.status = "mismatch"
                res.compiled, res.numeric = got2, num2
                res.taped = "(not computed at the second point)"
                res.message = f"second point w2 = 0.8 * w + 0.1 (cached compiled code): {err}"
        if tape_refused and res.status == "ok":
            res.status = "ok-tape-limit"
        return res


# ---- forward mode --------------------------------------------------------------------------
def random_tangent(w, seed):
    """A standard normal tangent with the structure of ``w`` (floats for float leaves)."""
    from knetc.runtime.tree import tree_flatten, tree_unflatten
    r = np.random.default_rng([seed, 7919])
    leaves, spec = tree_flatten(w)
    return tree_unflatten(spec, [float(r.standard_normal()) if isinstance(l, float)
                                 else r.standard_normal(np.shape(l)) for l in leaves])


def _along(w, t, h):
    """``w + h * t`` leaf by leaf, in ``w``'s structure."""
    from knetc.runtime.tree import tree_flatten, tree_unflatten
    leaves, spec = tree_flatten(w)
    return tree_unflatten(spec, [a + h * b for a, b in zip(leaves, tree_flatten(t)[0])])


def directional_fd(loss, w, x, t, h):
    """The central difference of ``loss(., x)`` at ``w`` along ``t``."""
    up = float(np.asarray(loss(_along(w, t, h), x), dtype=float).reshape(()))
    down = float(np.asarray(loss(_along(w, t, -h), x), dtype=float).reshape(()))
    return (up - down) / (2 * h)


def _dot(a, b):
    from knetc.runtime.tree import tree_flatten
    return float(sum(np.sum(np.asarray(p, dtype=float) * np.asarray(q, dtype=float))
                     for p, q in zip(tree_flatten(a)[0], tree_flatten(b)[0])))


def _abs_dot(a, b):
    from knetc.runtime.tree import tree_flatten
    return float(sum(np.sum(np.abs(np.asarray(p, dtype=float)) * np.abs(np.asarray(q, dtype=float)))
                     for p, q in zip(tree_flatten(a)[0], tree_flatten(b)[0])))


def _scalar_of(v):
    a = np.asarray(v)
    if a.size != 1 or a.dtype.kind not in "fiu":
        raise TypeError(f"the tangent of a scalar loss is {type(v).__name__} {v!r}")
    return float(a.reshape(()))


def _differs(a, b, rtol, atol):
    return not abs(a - b) <= atol + rtol * max(abs(a), abs(b))


def _compare_forward(case, res, loss, value, numeric, w0, x0, rtol, atol, second_point, knet):
    """Forward mode along a random tangent of ``w`` (None for ``x``); updates ``res``."""
    import knetc.errors
    t = random_tangent(case.w, case.seed)
    fwd = res.forward = {"tangent t": t}
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fds = [directional_fd(loss, case.w, case.x, t, h) for h in FD_STEPS]
        except Exception:
            return                                # the program fails at w +- h t: not compared
        fwd["central difference along t (two steps)"] = fds
        value_f = abs(float(np.asarray(value, dtype=float).reshape(())))
        scale = max(1.0, value_f, _abs_dot(numeric, t))
        if not all(np.isfinite(fds)) or _differs(fds[0], fds[1], rtol, atol * scale):
            return                                # next to a kink along t: not compared

        def jvp(mode, w=None):
            v, tan = knet.jvp(loss, (case.w if w is None else w, case.x), (t, None), mode=mode)
            return v, _scalar_of(tan)

        refused = None
        try:
            v_src, compiled = jvp("source")
            fwd["jvp mode='source'"] = compiled
        except knetc.errors.UnsupportedError as e:
            refused = f"{type(e).__name__}: {e}"
            fwd["jvp mode='source'"] = f"(refused: {refused})"
        except Exception:
            res.status, res.message = "fwd-error", "knet.jvp(mode='source'):\n" + traceback.format_exc()
            return
        finally:
            res.tangent_source = knet.jvp_source(loss)
        tape_refused = None
        try:
            v_tape, taped = jvp("tape")
            fwd["jvp mode='tape'"] = taped
        except Exception as e:
            limited = "tape-limited" in case.features and (
                isinstance(e, knetc.errors.GradientInputError)
                or "setting an array element with a sequence" in str(e))
            if not limited:
                res.status, res.message = "fwd-error", "knet.jvp(mode='tape'):\n" + traceback.format_exc()
                return
            tape_refused = f"{type(e).__name__}: {e}"
            fwd["jvp mode='tape'"] = f"(the tape refused a construct it does not support: {tape_refused})"
        try:
            v_auto, auto = jvp("auto")
            fwd["jvp mode='auto'"] = auto
        except Exception:
            res.status, res.message = "fwd-error", "knet.jvp(mode='auto'):\n" + traceback.format_exc()
            return
        if not _same_tree(case.w, w0) or not _same_tree(case.x, x0):
            res.status, res.message = "fwd-mutation", "a jvp call modified w or x"
            return
        checks = []
        if res.compiled_ok:
            reverse = _dot(res.compiled, t)
            fwd["<reverse gradient, t>"] = reverse
        exact = 1e-9 * scale                      # two exact derivatives: a tight tolerance

        def vs_fd(x):
            return _differs(x, fds[0], rtol, atol * scale) and _differs(x, fds[1], rtol, atol * scale)

        if refused is None:
            checks += [("compiled jvp vs numeric", vs_fd(compiled)),
                       ("auto jvp vs compiled jvp", _differs(auto, compiled, 1e-12, 1e-15 * scale)),
                       ("compiled jvp value vs loss(w, x)",
                        _differs(_scalar_of(v_src), float(np.asarray(value, dtype=float).reshape(())),
                                 1e-9, 1e-12))]
            if tape_refused is None:
                checks.append(("compiled jvp vs taped jvp", _differs(compiled, taped, 1e-6, exact)))
            if res.compiled_ok:
                checks.append(("compiled jvp vs <reverse gradient, t>", _differs(compiled, reverse, 1e-6, exact)))
        else:
            checks.append(("auto jvp (tape fallback) vs numeric", vs_fd(auto)))
        if tape_refused is None:
            checks += [("taped jvp vs numeric", vs_fd(taped)),
                       ("taped jvp value vs loss(w, x)",
                        _differs(_scalar_of(v_tape), float(np.asarray(value, dtype=float).reshape(())),
                                 1e-9, 1e-12))]
        bad = [label for label, failed in checks if failed]
        if bad:
            res.status = "fwd-mismatch"
            res.message = "\n".join(f"{label}: disagree" for label in bad) + "\n" + ", ".join(
                f"{k} = {v!r}" for k, v in fwd.items() if k != "tangent t")
            return
        if refused is not None:
            res.status, res.message = "ok-fwd-tape", f"the forward compiler refused: {refused}"
            return
        if second_point:
            # the cached compiled tangent program at another point
            w2 = _second_point(case.w)
            try:
                fds2 = [directional_fd(loss, w2, case.x, t, h) for h in FD_STEPS]
                val2 = abs(float(np.asarray(loss(w2, case.x), dtype=float).reshape(())))
            except Exception:
                return
            scale2 = max(1.0, val2, _abs_dot(numeric, t))
            if not all(np.isfinite(fds2)) or _differs(fds2[0], fds2[1], rtol, atol * scale2) or val2 > 1e6:
                return
            try:
                _, got2 = jvp("source", w2)
            except Exception:
                res.status, res.message = "fwd-error", "second point:\n" + traceback.format_exc()
                return
            if _differs(got2, fds2[0], rtol, atol * scale2) and _differs(got2, fds2[1], rtol, atol * scale2):
                res.status = "fwd-mismatch"
                fwd["second point: jvp mode='source'"] = got2
                fwd["second point: central differences"] = fds2
                res.message = "second point w2 = 0.8 * w + 0.1 (cached compiled jvp) vs numeric: disagree"


def run_seeds(seeds, directory, on_result=None):
    """Check many seeds; returns (failed Results, counts by status, number compiled)."""
    counts = {}
    failed = []
    compiled = 0
    for seed in seeds:
        res = check_case(generate(seed), directory)
        counts[res.status] = counts.get(res.status, 0) + 1
        compiled += res.compiled_ok
        if res.failed:
            failed.append(res)
        if on_result is not None:
            on_result(res)
    return failed, counts, compiled
