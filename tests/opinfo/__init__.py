"""OpInfo-style descriptions of differentiable functions, run through generic tests.

One :class:`OpInfo` per function: how user code spells it and how to make its
sample inputs. ``tests/test_opinfo.py`` runs every sample of every OpInfo
through the same checks:

- the gradient against central finite differences at two step sizes, float64,
  in compiled mode (``mode="source"``) and on the tape (``mode="tape"``), each
  through a small generated user function ``def case(a0, a1): return
  np.sum(G * np.linalg.det(a0, ...))`` (keywords written as literals, so the
  compiler sees them as a user's code would);
- float32 inputs give float32 gradients close to the float64 ones;
- second derivatives (``second_order=True``): the tape's gradient of the
  gradient against finite differences of the gradient;
- GPU (marker ``gpu``, ``gpu=True``): the same samples on CuPy agree with NumPy.

Each area keeps its OpInfos in its own module of this package
(``cases_elementwise.py``, ``cases_linalg.py``, ``cases_scipy.py``...), as a
list named ``OPS``; ``all_ops()`` collects them.
"""
import dataclasses
import importlib
import pkgutil
from typing import Any, Callable


@dataclasses.dataclass
class Sample:
    """One call: positional arguments, keyword arguments, which to differentiate."""

    args: tuple
    kwargs: dict = dataclasses.field(default_factory=dict)
    wrt: Any = None          # tuple of argument positions; None: every float argument
    name: str = ""


@dataclasses.dataclass
class OpInfo:
    """A differentiable function and its sample inputs.

    ``path`` is how user code spells the call (``"np.linalg.det"``,
    ``"scipy.special.gammaln"``, ``"scipy.stats.norm.logpdf"``); the generated
    test functions import ``numpy as np`` and ``scipy`` and call it by that
    path. ``samples(rng, dtype)`` returns a list of :class:`Sample`; inputs
    must keep away from kinks, ties and domain edges by at least ~1e-3
    (the check detects a kink when its two finite-difference step sizes
    disagree, and fails saying so).
    """

    path: str
    samples: Callable
    name: str = ""
    second_order: bool = True     # the rule's VJP is smooth and differentiable itself
    float32: bool = True          # also checked with float32 inputs
    gpu: bool = False             # CuPy has the function: compare CuPy with NumPy
    tape: bool = True             # also checked on the tape
    rtol: float = 1e-6
    atol: float = 1e-8
    rtol32: float = 2e-3          # float32 gradient against the float64 one
    atol32: float = 1e-4
    requires: str = ""            # a module that must import ("scipy"), else skipped

    def __post_init__(self):
        if not self.name:
            self.name = self.path


def all_ops():
    """Every OpInfo of every ``cases_*`` module of this package."""
    ops = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("cases_"):
            ops.extend(importlib.import_module(f"{__name__}.{info.name}").OPS)
    return ops
