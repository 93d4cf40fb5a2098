"""One adversarial program: a small module source, how to call it, what to differentiate.

A program is data. ``source`` is the body of a module (after :data:`PRELUDE`, which
imports NumPy and knetc and defines the constants ``X``, ``Y``, ``C``, ``A``, ``B``,
``M`` and the notebook helper ``cell``); it defines the function ``fun`` (default
``f``) whose gradient is taken. ``args`` is a Python expression evaluated in the
module's namespace each time fresh arguments are needed (so a call that mutates its
arguments never leaks into the next); ``kwargs`` likewise for keyword arguments of
the gradient call. ``after`` names module functions that check the state a gradient call left behind
(an exception there is a WRONG outcome). ``mutate`` names module functions the runner calls one by one
between gradient calls (rebinding a global, redefining a helper in a later
"notebook cell", re-registering a rule ...): after each, the gradient is checked
again with the same gradient object and with a fresh one.
"""
import dataclasses
import textwrap

PRELUDE = '''\
"""An adversarial knetc program (tests/adversarial), written out by the runner."""
import collections
import copy
import dataclasses
import functools
import itertools
import linecache
import math
import operator

import numpy as np

import knetc as knet

X = np.array([0.3, -0.7, 1.2])
Y = np.array([0.5, 0.1, -0.4])
C = np.array([1.0, 2.0, 3.0])
A = np.array([[0.2, -0.5], [0.7, 0.1], [-0.3, 0.4]])          # 3 x 2
B = np.array([[0.3, 0.1, -0.2, 0.5], [-0.4, 0.6, 0.2, 0.1]])  # 2 x 4
M = np.array([[0.5, -0.1, 0.2], [0.0, 0.4, -0.3], [0.1, 0.2, 0.3]])
_CELLS = itertools.count(1)


def cell(src, globals_=None):
    """Run ``src`` as a notebook cell does: compiled under a fresh ``<cell-N>`` name
    registered in linecache (as IPython does), in this module's namespace."""
    name = f"<cell-{next(_CELLS)}>"
    src = textwrap_dedent(src)
    linecache.cache[name] = (len(src), None, src.splitlines(True), name)
    exec(compile(src, name, "exec"), globals() if globals_ is None else globals_)


def textwrap_dedent(src):
    import textwrap
    return textwrap.dedent(src).lstrip("\\n")

'''

DEFAULT_WHERE = r"(?:{file}|<cell-\d+>):\d+"


@dataclasses.dataclass
class Program:
    """See the module docstring."""
    name: str
    source: str
    args: str = "(X.copy(),)"
    wrt: object = 0
    fun: str = "f"
    kwargs: str = None
    mutate: tuple = ()
    after: tuple = ()                # module functions called after each gradient call: an
                                     # exception there is a WRONG outcome (state left behind)
    where: str = DEFAULT_WHERE       # regex a loud error's message must match ({file}: the module's name)
    rtol: float = 1e-6
    api: str = "grad"                # grad, value_and_grad, gradloss (the value must equal a plain
                                     # call's), out (buffers from knet.zeros_like), accumulate
    group: str = ""
    note: str = ""

    @property
    def full_source(self):
        return PRELUDE + textwrap.dedent(self.source).strip("\n") + "\n"


def P(name, source, **options):
    """Shorthand for :class:`Program`; ``mutate`` may be one name or a tuple."""
    mutate = options.pop("mutate", ())
    if isinstance(mutate, str):
        mutate = (mutate,)
    after = options.pop("after", ())
    if isinstance(after, str):
        after = (after,)
    return Program(name, source, mutate=tuple(mutate), after=tuple(after), **options)
