"""A module whose globals shadow the builtins knetc's generated code uses (tests/test_deny.py)."""
import numpy as np


def len(v):
    return 7


def range(*args):
    return [0]


def reversed(v):
    return v


def list(v):
    return (v,)


def min(*args):
    return 0


def bool(v):
    return True


def slice(*args):
    return 0


def loops(x):
    hs = [x[0], x[1] * 2.0, x[2]]
    total = 0.0
    for v in hs:
        total = total * 1.5 + v * v
    for r in np.outer(x, x):
        total = total + np.sum(r[1:] * x[:2])
    return total


def zipped(x):
    total = 0.0
    for a, b in zip([x[0], x[1]], [x[2], x[0]]):
        total = total + a * b
    hs = [x * 2.0]
    hs.extend([x * x])
    if total > 100:
        total = total * 2.0
    return total + np.sum(hs[1])


def reversed_rows(x):
    m = np.outer(x, x)
    total = 0.0
    n = 0
    while n < 2:
        total = total + np.sum(m[n] * x)
        n += 1
    return total


def repeated(x):
    t = [x[0] * x[1]] * 2
    u = t + [x[2]]
    return u[0] * u[2] + u[1]
