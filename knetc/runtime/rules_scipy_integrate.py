"""The derivative rule of ``scipy.integrate.odeint`` (registered once the program imports
``scipy.integrate``): the adjoint method.

``Y = odeint(func, y0, t, args)`` solves ``y' = func(y, t, *args)``, ``y(t[0]) = y0`` and
returns ``Y[i] = y(t[i])``. With ``g = dL/dY``, the adjoint ``a(s) = dL/dy(s)`` obeys
``a' = -a^T df/dy`` and the parameters' adjoint ``b' = -a^T df/dargs``. Integrating the
augmented state ``(y, a, b)`` backwards from each ``t[i]`` to ``t[i-1]`` (starting from
``(Y[-1], g[-1], 0)``, restarting ``y`` at the stored ``Y[i-1]`` and adding ``g[i-1]`` to
``a`` at each output time) gives ``dL/dy0 = a(t[0])`` and ``dL/dargs = b(t[0])``.

Times: ``Y[i]`` for ``i >= 1`` moves with ``t[i]`` at the rate ``func(Y[i], t[i])``, so
``dL/dt[i] = g[i] . func(Y[i], t[i])``. Moving the start ``t[0]`` changes every later
``Y[i]`` by ``dY[i]/dt[0] = -Phi(t[i], t[0]) func(y0, t[0])`` (``Phi``: the solution's
Jacobian in its initial value; from ``y(s; t0, y0) = y(s; t0 + h, y(t0 + h; t0, y0))``),
while ``Y[0] = y0`` does not move; hence ``dL/dt[0] = (g[0] - a(t[0])) . func(y0, t[0])``.
For an autonomous system that is minus the sum of the other times' adjoints (shifting
every time together changes nothing), but the formula holds for any ``func``.

The vector-Jacobian products of ``func`` come from knetc's tape, in float64, at every step
of the backward integration. Not modelled, and refused by name: ``func`` closing over
values (a differentiated one would get no gradient: pass them through ``args=``),
``tfirst=True``, ``full_output``, ``Dfun`` and the other solver options the rule does not
declare, and second derivatives (the adjoint is itself a numerical integration of the
user's function), and so is forward mode (``knet.jvp``: the tape would transpose this VJP).
"""
import functools
import threading

import numpy as np
from scipy import integrate

from ..errors import KnetError
from .box import has_box
from .rules import defvjp
from .tape import make_vjp

_LAST = threading.local()      # the adjoints of the last call, shared by its three VJPs


def _captures(func):
    """The names of the values ``func`` carries besides its arguments (closure cells,
    defaults, a partial's arguments) that hold traced values."""
    found = []
    while isinstance(func, functools.partial):
        found += [("a functools.partial argument", v) for v in (*func.args, *func.keywords.values())]
        func = func.func
    code = getattr(func, "__code__", None)
    for name, cell in zip(getattr(code, "co_freevars", ()), getattr(func, "__closure__", None) or ()):
        try:
            found.append((name, cell.cell_contents))
        except ValueError:          # an empty cell
            pass
    found += [("a default argument", v) for v in (getattr(func, "__defaults__", None) or ())]
    found += [("a keyword default", v) for v in (getattr(func, "__kwdefaults__", None) or {}).values()]
    return [name for name, value in found if has_box(value)]


def _check_func(func):
    # The compiler refuses a function closing over a differentiated value before it gets
    # here; on the tape such a value is a box, which odeint's own call meets first.
    names = _captures(func)
    if names:
        raise KnetError(
            f"knetc: scipy.integrate.odeint's func {getattr(func, '__name__', func)!r} carries "
            f"differentiated values besides its arguments ({', '.join(dict.fromkeys(names))}), "
            f"which knetc does not model (they would get no gradient): pass them through "
            f"odeint's args=(...), e.g. odeint(func, y0, t, args=(k,)) with def func(y, t, k)")


def check_call(g, ans, func, y0, t, args, tfirst):
    """Refuse what the rule does not model before anything is integrated (the tape and
    the compiled VJP both come here)."""
    if tfirst:
        raise KnetError("knetc: scipy.integrate.odeint with tfirst=True is not modelled; "
                        "write func(y, t, ...)")
    if not isinstance(args, tuple):
        raise KnetError("knetc: scipy.integrate.odeint's args must be a tuple to be differentiated")
    if has_box((g, ans, y0, t, args)):      # the tape differentiating this VJP again
        raise KnetError("knetc: second derivatives and forward mode of scipy.integrate.odeint are "
                        "not supported (its derivative is itself a numerical integration of func)")
    for k, v in enumerate(args):
        if not isinstance(v, (str, bytes)) and isinstance(v, (list, tuple, dict)) and _holds_floats(v):
            raise KnetError(f"knetc: scipy.integrate.odeint's args[{k}] is a {type(v).__name__} "
                            f"holding numbers, whose adjoint the rule does not model: pass an "
                            f"array (np.array([...])) or separate arguments")
        if isinstance(v, complex) or (isinstance(v, (np.ndarray, np.generic)) and v.dtype.kind == "c"):
            raise KnetError(f"knetc: scipy.integrate.odeint's args[{k}] is complex: knetc models "
                            f"real arguments only")
    _check_func(func)


def _holds_floats(value):
    if isinstance(value, (list, tuple)):
        return any(_holds_floats(v) for v in value)
    if isinstance(value, dict):
        return any(_holds_floats(v) for v in value.values())
    if has_box(value) or isinstance(value, (float, complex)):
        return True
    return isinstance(value, (np.ndarray, np.generic)) and value.dtype.kind in "fc"


def _float_entries(args):
    """The positions of ``args`` that hold floats (the differentiable ones)."""
    return [k for k, v in enumerate(args)
            if isinstance(v, float) or (isinstance(v, (np.ndarray, np.generic)) and v.dtype.kind == "f")]


def _adjoints(g, ans, func, y0, t, args, options):
    """``(dL/dy0, dL/dt, dL/dargs)`` by the adjoint method (see the module's docstring)."""
    Y = np.asarray(ans, dtype=np.float64)
    g = np.reshape(np.asarray(g, dtype=np.float64), Y.shape)
    times = np.asarray(t, dtype=np.float64)
    n = Y.shape[1]
    active = _float_entries(args)
    vjp_call = make_vjp(func, (0,) + tuple(2 + k for k in active))
    plain = list(args)
    for k in active:
        plain[k] = np.asarray(args[k], dtype=np.float64) if np.ndim(args[k]) else float(args[k])
    sizes = [int(np.size(plain[k])) for k in active]

    def field(y, s):
        return np.reshape(np.asarray(func(y, s, *plain), dtype=np.float64), (n,))

    def augmented(state, s):
        y, a = state[:n], state[n:2 * n]
        value, pullback = vjp_call(y, s, *plain)
        cotangent = list(a) if isinstance(value, (list, tuple)) else np.reshape(a, np.shape(value))
        adj = pullback(cotangent)
        dy = np.zeros(n) if adj[0] is None else np.reshape(np.asarray(adj[0], dtype=np.float64), (n,))
        pieces = [np.reshape(np.asarray(value, dtype=np.float64), (n,)), -dy]
        pieces += [-np.ravel(np.asarray(adj[2 + k], dtype=np.float64)) for k in active]
        return np.concatenate(pieces)

    a = g[-1].copy()
    b = np.zeros(sum(sizes))
    dt = np.zeros(len(times))
    for i in range(len(times) - 1, 0, -1):
        dt[i] = g[i] @ field(Y[i], times[i])
        if times[i] != times[i - 1]:
            state = odeint_plain(augmented, np.concatenate([Y[i], a, b]), times[[i, i - 1]], options)
            a, b = state[-1, n:2 * n], state[-1, 2 * n:]
        a = a + g[i - 1]
    dt[0] = (g[0] - a) @ field(Y[0], times[0])
    db, start = [], 0
    for k, size in zip(active, sizes):
        db.append((k, b[start:start + size]))
        start += size
    return a, dt, dict(db)


def odeint_plain(fun, y0, t, options):
    """``scipy.integrate.odeint`` of the backward pass, with the call's tolerances."""
    return integrate.odeint(fun, y0, t, **options)


def _cached(g, ans, func, y0, t, args, options):
    """The adjoints, computed once for the three VJPs of one call (the same objects, and ``g``
    unchanged since)."""
    key = (g, ans, func, y0, t, args)
    last = getattr(_LAST, "value", None)
    if last is not None and len(last[0]) == len(key) and all(a is b for a, b in zip(last[0], key)) \
            and last[1] == options and np.array_equal(last[2], g):
        return last[3]
    result = _adjoints(g, ans, func, y0, t, args, options)
    _LAST.value = (key, dict(options), np.array(g, copy=True), result)
    return result


def _as(grad, x):
    """``grad`` shaped and typed as the argument ``x`` (a new array: the cached one stays intact)."""
    if isinstance(x, (float, int)) and not isinstance(x, bool):
        return float(np.sum(grad))
    if isinstance(x, (list, tuple)):
        return list(np.array(np.reshape(grad, np.shape(x))))
    dtype = getattr(x, "dtype", None)
    keep = dtype is not None and dtype.kind == "f"
    return np.array(np.reshape(grad, np.shape(x)), dtype=dtype if keep else None)


def _run(g, ans, func, y0, t, args, rtol, atol, hmax, mxstep, tfirst):
    check_call(g, ans, func, y0, t, args, tfirst)
    options = {"rtol": rtol, "atol": atol, "hmax": hmax, "mxstep": mxstep}
    return _cached(g, ans, func, y0, t, args, options)


# The VJPs take odeint's whole signature, so that the binding refuses any option they do not
# declare (Dfun, full_output, tcrit, ...) unless it is at its default.
def _odeint_y0(g, ans, func, y0, t, args=(), Dfun=None, col_deriv=0, full_output=0, ml=None, mu=None,
               rtol=None, atol=None, tcrit=None, h0=0.0, hmax=0.0, hmin=0.0, ixpr=0, mxstep=0, mxhnil=0,
               mxordn=12, mxords=5, printmessg=0, tfirst=False):
    return _as(_run(g, ans, func, y0, t, args, rtol, atol, hmax, mxstep, tfirst)[0], y0)


def _odeint_t(g, ans, func, y0, t, args=(), Dfun=None, col_deriv=0, full_output=0, ml=None, mu=None,
              rtol=None, atol=None, tcrit=None, h0=0.0, hmax=0.0, hmin=0.0, ixpr=0, mxstep=0, mxhnil=0,
              mxordn=12, mxords=5, printmessg=0, tfirst=False):
    return _as(_run(g, ans, func, y0, t, args, rtol, atol, hmax, mxstep, tfirst)[1], t)


def _odeint_args(g, ans, func, y0, t, args=(), Dfun=None, col_deriv=0, full_output=0, ml=None, mu=None,
                 rtol=None, atol=None, tcrit=None, h0=0.0, hmax=0.0, hmin=0.0, ixpr=0, mxstep=0, mxhnil=0,
                 mxordn=12, mxords=5, printmessg=0, tfirst=False):
    adjoints = _run(g, ans, func, y0, t, args, rtol, atol, hmax, mxstep, tfirst)[2]
    return tuple(_as(adjoints[k], v) if k in adjoints else None for k, v in enumerate(args))


defvjp(integrate.odeint, None, _odeint_y0, _odeint_t, _odeint_args, name="scipy.integrate.odeint",
       keywords=("rtol", "atol", "hmax", "mxstep", "tfirst"), y0=_odeint_y0, t=_odeint_t,
       args=_odeint_args)
