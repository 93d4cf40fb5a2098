"""Test helpers: finite differences, structure comparison and VJP checks.

``numeric_grad`` differentiates any scalar-valued function numerically with
respect to arrays, floats or nested lists/tuples/dicts of them;
``assert_tree_allclose`` compares two such structures; ``assert_numeric_grad``
compares a gradient with finite differences at two step sizes (which must agree
with each other first, so a point next to a kink is reported as such instead of
being tolerated); ``check_vjp`` checks a registered derivative rule that way.

Central differences in float64 with steps 1e-6 and 1e-5 are good to about 1e-7
relative on well-conditioned functions (truncation about eps**2 / 6 times the third derivative,
rounding about 1e-16 * |f| / eps), so the default tolerances are rtol=1e-6, atol=1e-8.
"""
import numbers

import numpy as np

from .runtime.backend import is_array, is_cupy_array
from .runtime.rules import rule_for
from .runtime.structure import flatten_one_level, is_record, meta_equal, tree_leaves, tree_structure, tree_unflatten

__all__ = ["numeric_grad", "assert_tree_allclose", "assert_numeric_grad", "check_vjp", "KinkError",
           "STEPS"]

STEPS = (1e-6, 1e-5)     # the two finite-difference steps that must agree


class KinkError(AssertionError):
    """Finite differences at two step sizes disagree: the point sits next to a kink, a
    branch switch or a domain edge (or the function is ill-conditioned there), so the
    numerical gradient says nothing. Choose another point."""


# --- structures (the tree module's: lists, tuples, dicts, namedtuples, dataclasses, registered classes)
def _leaves(x):
    """The leaves of ``x``, in order."""
    return tree_leaves(x)


def _rebuild(like, leaves):
    """A structure with ``like``'s containers, leaves taken from an iterator."""
    return tree_unflatten(tree_structure(like), leaves)


def _to_numpy(x):
    if is_cupy_array(x):
        return x.get()
    return np.asarray(x)


def _is_float_scalar(x):
    return isinstance(x, (numbers.Real, np.floating)) and not isinstance(
        x, (bool, np.bool_, numbers.Integral))


def _scalar(value):
    value = _to_numpy(value)
    if value.size != 1:
        raise ValueError(f"numeric_grad: the function must return a scalar, got shape {value.shape}")
    return float(value.reshape(()))


# --- finite differences ---------------------------------------------------------
def numeric_grad(fun, args, wrt=0, eps=1e-6, kwargs=None):
    """Central finite-difference gradient of scalar ``fun(*args, **kwargs)``.

    ``wrt`` is an argument index or a tuple of them (then a tuple of gradients
    comes back). Each float entry ``v`` of the argument is set to ``v + eps``
    and ``v - eps`` in turn; ``(f(+) - f(-)) / (2 * eps)`` is its derivative.
    The argument may be an array, a float, or nested lists,
    tuples and dicts of those; the gradient has the same structure (floats for
    floats, float64 arrays for arrays, 0.0 for ints and other constants).
    Float arrays are copied to float64 before perturbing, so the caller's
    values are never modified (``fun`` sees float64 copies, also of float32
    arguments). Other arguments are passed as they are: a ``fun`` that mutates
    them must copy them itself.

    One step size cannot tell a wrong gradient from a point next to a kink;
    :func:`assert_numeric_grad` compares at two.
    """
    if isinstance(wrt, tuple):
        return tuple(numeric_grad(fun, args, i, eps, kwargs) for i in wrt)
    kwargs = {} if kwargs is None else kwargs
    args = list(args)
    template = args[wrt]
    work = []
    for leaf in _leaves(template):
        if is_array(leaf) and leaf.dtype.kind == "f":
            work.append(_to_numpy(leaf).astype(np.float64, order="C", copy=True))  # C: reshape(-1) a view
        elif _is_float_scalar(leaf):
            work.append(float(leaf))
        else:
            work.append(leaf)

    def evaluate():
        call = list(args)
        call[wrt] = _rebuild(template, iter(work))
        return _scalar(fun(*call, **kwargs))

    grads = []
    for k, leaf in enumerate(work):
        if isinstance(leaf, np.ndarray) and leaf.dtype == np.float64:
            grad = np.zeros(leaf.shape)
            flat = leaf.reshape(-1)          # a view: leaf is a fresh contiguous copy
            for j in range(flat.size):
                original = flat[j]
                flat[j] = original + eps
                plus = evaluate()
                flat[j] = original - eps
                minus = evaluate()
                flat[j] = original
                grad.flat[j] = (plus - minus) / (2 * eps)
        elif isinstance(leaf, float):
            work[k] = leaf + eps
            plus = evaluate()
            work[k] = leaf - eps
            minus = evaluate()
            work[k] = leaf
            grad = (plus - minus) / (2 * eps)
        elif is_array(leaf):
            grad = np.zeros(leaf.shape)
        else:
            grad = 0.0
        grads.append(grad)
    return _rebuild(template, iter(grads))


# --- comparison -------------------------------------------------------------------
def _kind(x):
    if isinstance(x, dict):
        return "dict"
    if is_record(x):
        return type(x).__name__
    if isinstance(x, tuple):
        return "tuple"
    if isinstance(x, list):
        return "list"
    return "leaf"


def _compare(actual, expected, path, rtol, atol):
    where = path or "the top level"
    ka, ke = _kind(actual), _kind(expected)
    if ka != ke:
        raise AssertionError(f"assert_tree_allclose: at {where}: got a {ka}, expected a {ke}")
    if ke == "dict":
        if set(actual) != set(expected):
            raise AssertionError(
                f"assert_tree_allclose: at {where}: keys {sorted(map(repr, actual))} "
                f"!= expected {sorted(map(repr, expected))}")
        for key in expected:
            _compare(actual[key], expected[key], f"{path}[{key!r}]", rtol, atol)
        return
    if ke != "leaf" and not isinstance(expected, (list, tuple)):       # a dataclass or registered class
        spec_a, spec_e = tree_structure(actual), tree_structure(expected)
        if not meta_equal(spec_a.meta, spec_e.meta):
            raise AssertionError(f"assert_tree_allclose: at {where}: {ke} with {spec_a.meta!r}, "
                                 f"expected {spec_e.meta!r}")
        children_a, keys, _ = flatten_one_level(actual)
        for k, a, e in zip(keys, children_a, flatten_one_level(expected)[0]):
            _compare(a, e, f"{path}{k}", rtol, atol)
        return
    if ke != "leaf":
        if len(actual) != len(expected):
            raise AssertionError(
                f"assert_tree_allclose: at {where}: length {len(actual)} != expected {len(expected)}")
        for i, (a, e) in enumerate(zip(actual, expected)):
            _compare(a, e, f"{path}[{i}]", rtol, atol)
        return
    if actual is None or expected is None:
        if actual is not expected:
            raise AssertionError(f"assert_tree_allclose: at {where}: got {actual!r}, expected {expected!r}")
        return
    a, e = _to_numpy(actual), _to_numpy(expected)
    if a.shape != e.shape:
        raise AssertionError(
            f"assert_tree_allclose: at {where}: shape {a.shape} != expected shape {e.shape}")
    if a.dtype.kind not in "biufc" or e.dtype.kind not in "biufc":
        if not np.array_equal(a, e):
            raise AssertionError(f"assert_tree_allclose: at {where}: got {actual!r}, expected {expected!r}")
        return
    close = np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=True)
    if not np.all(close):
        bad = np.unravel_index(np.argmin(close), close.shape) if close.ndim else ()
        with np.errstate(all="ignore"):
            diff = np.abs(a.astype(np.result_type(a, e, np.float64)) - e)
        finite = diff[np.isfinite(diff)]
        worst = float(np.max(finite)) if finite.size else float("nan")
        raise AssertionError(
            f"assert_tree_allclose: values differ at {where}"
            f"{'' if not bad else f', first at index {tuple(int(i) for i in bad)}'}: "
            f"got {a[bad]!r}, expected {e[bad]!r} "
            f"(max abs diff {worst:.3g}, rtol={rtol}, atol={atol}, "
            f"{int(np.size(close) - np.count_nonzero(close))} of {np.size(close)} differ)")


def assert_tree_allclose(actual, expected, rtol=1e-6, atol=1e-8):
    """Assert two structures have the same containers, keys, shapes and close values.

    Lists, tuples, dicts and records (namedtuples, dataclasses, registered
    classes; static fields equal) must match in type; leaves (arrays,
    floats, CuPy arrays) must match in shape and agree within ``rtol``/``atol``
    in every entry (``|a - e| <= atol + rtol * |e|``, NaN equals NaN; ``None``
    only equals ``None``; non-numeric leaves must be equal).
    The message names the path (e.g. ``[1]['w']``) of the first mismatch.
    """
    _compare(actual, expected, "", rtol, atol)


def _two_step_check(actual, numeric, rtol, atol, steps, prepare=lambda t: t):
    """Compare ``actual`` with ``numeric(step)`` at two steps (see assert_numeric_grad).

    The two estimates must agree with each other first, within ten times the
    tolerance (room for the rounding noise of the small step, far below what a
    kink does), else :class:`KinkError`; then ``actual`` must agree with either.
    """
    first, second = numeric(steps[0]), numeric(steps[1])
    try:
        assert_tree_allclose(prepare(first), prepare(second), rtol=10 * rtol, atol=10 * atol)
    except AssertionError as error:
        raise KinkError(f"finite differences at steps {steps[0]:g} and {steps[1]:g} disagree, so the "
                        f"point is next to a kink or a domain edge (choose another): {error}") from None
    try:
        assert_tree_allclose(prepare(actual), prepare(first), rtol=rtol, atol=atol)
    except AssertionError as error:
        try:
            assert_tree_allclose(prepare(actual), prepare(second), rtol=rtol, atol=atol)
        except AssertionError:
            raise error from None
    return first


def assert_numeric_grad(actual, fun, args, wrt=0, kwargs=None, rtol=1e-6, atol=1e-8, steps=STEPS):
    """Assert ``actual`` is the gradient of scalar ``fun(*args, **kwargs)`` wrt ``wrt``.

    The finite-difference gradient (:func:`numeric_grad`) is computed at both
    ``steps``; the two must agree with each other within ``rtol``/``atol``
    (else :class:`KinkError`: the point is next to a kink, a branch switch or a
    domain edge and tells nothing), then ``actual`` must agree with them (with
    either one, so one step's truncation or rounding error does not count
    against it), compared by :func:`assert_tree_allclose`. Returns the
    numerical gradient at the first step.
    """
    return _two_step_check(actual, lambda eps: numeric_grad(fun, args, wrt, eps=eps, kwargs=kwargs),
                           rtol, atol, steps)


# --- VJP checks -----------------------------------------------------------------------
def _random_like(x, rng):
    """Random values with ``x``'s structure (lists for lists and tuples, as adjoints are)."""
    level = flatten_one_level(x)
    if level is not None:
        children, _, rebuild = level
        items = [_random_like(v, rng) for v in children]
        return items if isinstance(x, (list, tuple)) else rebuild(items)
    if is_array(x) and np.ndim(x) > 0:
        return rng.standard_normal(x.shape)
    return float(rng.standard_normal())


def _inner(g, y):
    """Sum of the products of matching leaves of two structures."""
    total = 0.0
    for gl, yl in zip(_leaves(g), _leaves(y)):
        yl = _to_numpy(yl)
        if yl.dtype.kind in "fc":
            total = total + np.sum(gl * yl)
    return total


def _as_lists(x):
    """``x`` with its tuples (namedtuples too) as lists."""
    level = flatten_one_level(x)
    if level is None:
        return x
    children, _, rebuild = level
    items = [_as_lists(v) for v in children]
    return items if isinstance(x, (list, tuple)) else rebuild(items)


def _snapshot(x):
    return [np.array(_to_numpy(leaf), copy=True) if is_array(leaf) else leaf for leaf in _leaves(x)]


def check_vjp(fun, args, argnum, kwargs=None, rtol=1e-6, atol=1e-8, seed=0, steps=STEPS):
    """Check the registered VJP of ``fun`` for argument ``argnum`` numerically.

    With a random adjoint ``g`` of the result's structure (list results get a
    list; standard normal entries drawn from ``seed``), the VJP (called with
    ``kwargs`` too) must equal the finite-difference gradient of
    ``<g, fun(*args, **kwargs)>`` with respect to ``args[argnum]`` in every
    entry within ``rtol``/``atol``, with the argument's shape (lists and tuples
    of arguments compare as lists). The finite differences are taken at both
    ``steps``, which must agree first (:func:`assert_numeric_grad`; a point next
    to a kink raises :class:`KinkError`). The VJP must not modify ``g`` or the
    arguments. Returns the VJP's value.

    ``argnum`` may also be the name of a keyword argument in ``kwargs`` that has
    a keyword VJP (``defvjp(f, v0, weight=vw)``): then that VJP is checked
    against finite differences with respect to ``kwargs[argnum]``.
    """
    kwargs = {} if kwargs is None else kwargs
    rule = rule_for(fun)
    if rule is None:
        raise AssertionError(f"check_vjp: no rule registered for {fun!r}")
    vjp = rule.kwvjps.get(argnum) if isinstance(argnum, str) else rule.vjp(argnum)
    if vjp is None:
        raise AssertionError(f"check_vjp: {rule.name} has no VJP for argument {argnum!r}")
    if isinstance(argnum, str):
        if argnum not in kwargs:
            raise AssertionError(f"check_vjp: keyword argument {argnum!r} is not in kwargs")
        rest = {k: v for k, v in kwargs.items() if k != argnum}

        def by_keyword(*a):
            *positional, value = a
            return fun(*positional, **rest, **{argnum: value})
        return _check_keyword_vjp(rule, vjp, by_keyword, fun, tuple(args), kwargs, kwargs[argnum],
                                  rtol, atol, seed, steps, argnum)
    args = tuple(args)
    ans = fun(*args, **kwargs)
    g = _random_like(ans, np.random.default_rng(seed))
    before = _snapshot((g, args))
    got = vjp(g, ans, *args, **kwargs)
    after = _snapshot((g, args))
    for b, a in zip(before, after):
        if is_array(b) and not np.array_equal(b, a, equal_nan=True):
            raise AssertionError(f"check_vjp: the VJP of {rule.name} modified its inputs")
    inner = lambda *a, **kw: _inner(g, fun(*a, **kw))          # noqa: E731
    try:
        _two_step_check(got, lambda eps: numeric_grad(inner, args, argnum, eps=eps, kwargs=kwargs),
                        rtol, atol, steps, prepare=_as_lists)
    except AssertionError as error:
        raise type(error)(f"check_vjp: {rule.name}, argument {argnum}: {error}") from None
    return got


def _check_keyword_vjp(rule, vjp, by_keyword, fun, args, kwargs, value, rtol, atol, seed, steps, name):
    """check_vjp for a keyword VJP: finite differences with respect to ``kwargs[name]``."""
    ans = fun(*args, **kwargs)
    g = _random_like(ans, np.random.default_rng(seed))
    before = _snapshot((g, args, value))
    got = vjp(g, ans, *args, **kwargs)
    if any(is_array(b) and not np.array_equal(b, a, equal_nan=True)
           for b, a in zip(before, _snapshot((g, args, value)))):
        raise AssertionError(f"check_vjp: the VJP of {rule.name} modified its inputs")
    inner = lambda *a: _inner(g, by_keyword(*a))               # noqa: E731
    extended = args + (value,)
    try:
        _two_step_check(got, lambda eps: numeric_grad(inner, extended, len(args), eps=eps),
                        rtol, atol, steps, prepare=_as_lists)
    except AssertionError as error:
        raise type(error)(f"check_vjp: {rule.name}, keyword argument {name!r}: {error}") from None
    return got

