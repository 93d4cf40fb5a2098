"""Derivative rules of tensor products: einsum, inner, kron, cross, vdot, multi_dot, matrix_power,
and NumPy 2's vecdot, matvec, vecmat and ``np.linalg`` array-API names (matmul, outer,
tensordot, cross, vecdot, trace, diagonal, matrix_transpose).

Every product here is multilinear, so the adjoint of one operand is the
product of the result's adjoint ``g`` with the other operands: an einsum
itself (contracted with ``optimize=True``), which the tape can differentiate
again for second derivatives. Complex operands follow the convention of
:mod:`knetc.runtime.rules_complex` (holomorphic: no conjugates, except where
the function conjugates, as ``vdot`` does); the adjoint of a real operand is
the real part.

``np.einsum`` is called with its operands as positional arguments, so its
rule has one VJP per position (up to ``_MAX_POSITIONS``); each finds out
whether its position holds an operand (the subscripts string and the
sublists of ``einsum(a, [0, 1], b, [1, 2])`` do not).
"""
import numbers
import string

import numpy as np

from . import numpy_rules as _nr
from .backend import value_module
from .rules import defnondiff, defvjp, unbroadcast
from .rules_complex import real_if_real

_LETTERS = string.ascii_uppercase + string.ascii_lowercase
_MAX_POSITIONS = 64


# --- einsum: parsing -------------------------------------------------------------
def _sublist_text(sublist):
    """``[0, 1, Ellipsis]`` -> ``"AB..."`` (NumPy maps 0-25 to A-Z, 26-51 to a-z)."""
    out = []
    for s in sublist:
        if s is Ellipsis:
            out.append("...")
        else:
            out.append(_LETTERS[int(s)])
    return "".join(out)


def _operands_of(args):
    """``(input specs, output spec or None, operands, call positions of the operands)``."""
    if isinstance(args[0], str):
        text = args[0].replace(" ", "")
        inputs, arrow, output = text.partition("->")
        return inputs.split(","), (output if arrow else None), list(args[1:]), list(range(1, len(args)))
    # the sublist form: op0, sub0, op1, sub1, ..., [output sublist]
    pairs = len(args) // 2
    specs = [_sublist_text(args[2 * i + 1]) for i in range(pairs)]
    output = _sublist_text(args[-1]) if len(args) % 2 else None
    return specs, output, [args[2 * i] for i in range(pairs)], [2 * i for i in range(pairs)]


class _Labels:
    """An einsum call with every axis labelled explicitly: ``ins[j]`` are the
    labels of operand j (one letter per axis), ``out`` those of the result.

    Ellipses become letters of their own; an axis of size 1 that NumPy
    broadcasts against a longer one gets a label used nowhere else (einsum
    then sums it alone, which is the same value).
    """

    def __init__(self, specs, output, operands):
        if len(specs) != len(operands):
            raise ValueError(f"einsum: {len(specs)} subscripts for {len(operands)} operands")
        used = set("".join(specs) + (output or "")) - {"."}
        self.free = [c for c in _LETTERS if c not in used]
        shapes = [np.shape(a) for a in operands]
        n_ell = [len(shape) - (len(s) - 3) if "..." in s else 0 for s, shape in zip(specs, shapes)]
        ell = self.fresh(max(n_ell, default=0))
        ins = []
        for s, e in zip(specs, n_ell):
            head, dots, tail = s.partition("...")
            ins.append(list(head) + (ell[len(ell) - e:] if dots and e else []) + list(tail))
        if output is None:       # implicit: the ellipsis, then the labels used once, sorted
            counts = {}
            for s in specs:
                for c in s.replace("...", ""):
                    counts[c] = counts.get(c, 0) + 1
            out = list(ell) + sorted(c for c, k in counts.items() if k == 1)
        else:
            head, dots, tail = output.partition("...")
            out = list(head) + (list(ell) if dots else []) + list(tail)
        size = {}
        for labels, shape in zip(ins, shapes):
            for c, n in zip(labels, shape):
                size[c] = max(size.get(c, 1), n)
        for labels, shape in zip(ins, shapes):
            for i, (c, n) in enumerate(zip(labels, shape)):
                if n == 1 and size[c] != 1:
                    labels[i] = self.fresh(1)[0]
                    size[labels[i]] = 1
        self.ins, self.out, self.size = ins, out, size

    def fresh(self, n):
        if n > len(self.free):
            raise ValueError("knetc: this einsum uses too many distinct labels to differentiate "
                             "(its adjoint needs spare letters)")
        taken, self.free = self.free[:n], self.free[n:]
        return taken


def _eye(n, like):
    xp = value_module(like)
    return xp.eye(n, dtype=np.result_type(getattr(like, "dtype", np.float64), np.float32))


def _adjoint_from(g, labels, k, others):
    """The adjoint of operand ``k`` of the einsum described by ``labels``.

    ``others`` are the other operands (in order, operand k left out). Labels
    of operand k that appear nowhere else were summed away, so the adjoint
    is broadcast along them; a label repeated in operand k (a diagonal,
    ``"ii->i"``) puts the adjoint on that diagonal (multiplying by identity
    matrices), zeros elsewhere.
    """
    own = labels.ins[k]
    unique = list(dict.fromkeys(own))
    rest = [labels.ins[j] for j in range(len(labels.ins)) if j != k]
    seen = set(labels.out).union(*rest) if rest else set(labels.out)
    kept = [c for c in unique if c in seen]
    spec = ",".join("".join(s) for s in [labels.out] + rest) + "->" + "".join(kept)
    h = np.einsum(spec, g, *others, optimize=True)
    if len(kept) < len(unique):
        missing = tuple(i for i, c in enumerate(unique) if c not in seen)
        h = np.broadcast_to(np.expand_dims(h, missing), tuple(labels.size[c] for c in unique))
    if len(unique) < len(own):
        placed, eyes, specs = [], [], []
        for c in own:
            if c in placed:
                new = labels.fresh(1)[0]
                specs.append(c + new)
                eyes.append(_eye(labels.size[c], g))
                placed.append(new)
            else:
                placed.append(c)
        h = np.einsum(",".join(["".join(unique)] + specs) + "->" + "".join(placed), h, *eyes,
                      optimize=True)
    return h


def einsum_adjoint(g, specs, output, operands, k):
    """The adjoint of operand ``k`` of ``np.einsum`` with subscripts ``specs``/``output``."""
    labels = _Labels(specs, output, operands)
    others = [a for j, a in enumerate(operands) if j != k]
    return real_if_real(_adjoint_from(g, labels, k, others), operands[k])


def _einsum_vjp_at(position):
    def vjp(g, ans, *operands, out=None, optimize=False):
        specs, output, arrays, positions = _operands_of(operands)
        if position not in positions:
            return None      # the subscripts or a sublist
        return einsum_adjoint(g, specs, output, arrays, positions.index(position))
    vjp.__name__ = vjp.__qualname__ = f"_einsum_vjp_{position}"
    return vjp


defvjp(np.einsum, *[_einsum_vjp_at(p) for p in range(_MAX_POSITIONS)], keywords=("optimize",))
defnondiff(np.einsum_path)        # a contraction order, not a value


# --- other products, written as einsums --------------------------------------------
def _letters(n, start=0):
    return _LETTERS[start:start + n]


def _inner_specs(a, b):
    na, nb = np.ndim(a), np.ndim(b)
    if na == 0 or nb == 0:       # inner with a scalar multiplies
        sa, sb = _letters(na), _letters(nb, 20)
        return [sa, sb], sa + sb
    sa, sb = _letters(na - 1) + "z", _letters(nb - 1, 20) + "z"
    return [sa, sb], sa[:-1] + sb[:-1]


def _inner_vjp_a(g, ans, a, b):
    specs, out = _inner_specs(a, b)
    return einsum_adjoint(g, specs, out, [a, b], 0)


def _inner_vjp_b(g, ans, a, b):
    specs, out = _inner_specs(a, b)
    return einsum_adjoint(g, specs, out, [a, b], 1)


defvjp(np.inner, _inner_vjp_a, _inner_vjp_b, keywords=())


def _vdot_vjp_a(g, ans, a, b):
    # vdot(a, b) = sum(conj(a) * b): the adjoint of conj(a) is g * b, so that of a is its conjugate
    return real_if_real(np.reshape(np.conj(g * np.ravel(b)), np.shape(a)), a)


def _vdot_vjp_b(g, ans, a, b):
    return real_if_real(np.reshape(g * np.conj(np.ravel(a)), np.shape(b)), b)


defvjp(np.vdot, _vdot_vjp_a, _vdot_vjp_b, keywords=())


def _kron_parts(g, a, b):
    """``g`` reshaped to interleaved axes (a0, b0, a1, b1...), and a, b with equal ranks."""
    nd = max(np.ndim(a), np.ndim(b))
    sa = (1,) * (nd - np.ndim(a)) + np.shape(a)
    sb = (1,) * (nd - np.ndim(b)) + np.shape(b)
    gs = np.reshape(g, tuple(n for pair in zip(sa, sb) for n in pair))
    la, lb = _letters(nd), _letters(nd, 26)
    lg = "".join(x + y for x, y in zip(la, lb))
    return gs, np.reshape(a, sa), np.reshape(b, sb), la, lb, lg


def _kron_vjp_a(g, ans, a, b):
    gs, a2, b2, la, lb, lg = _kron_parts(g, a, b)
    ga = np.einsum(f"{lg},{lb}->{la}", gs, b2, optimize=True)
    return real_if_real(np.reshape(ga, np.shape(a)), a)


def _kron_vjp_b(g, ans, a, b):
    gs, a2, b2, la, lb, lg = _kron_parts(g, a, b)
    gb = np.einsum(f"{lg},{la}->{lb}", gs, a2, optimize=True)
    return real_if_real(np.reshape(gb, np.shape(b)), b)


defvjp(np.kron, _kron_vjp_a, _kron_vjp_b, keywords=())


def _cross_axes(a, b, axisa, axisb, axisc, axis):
    if axis is not None:
        axisa = axisb = axisc = axis
    if np.shape(a)[axisa] not in (2, 3) or np.shape(b)[axisb] not in (2, 3):
        raise NotImplementedError("knetc: np.cross is differentiated for 2- and 3-vectors only")
    return axisa, axisb, axisc


def _as_3d(v):
    """A vector (last axis) of 2 components as one of 3 with z = 0, as np.cross reads it."""
    if np.shape(v)[-1] == 3:
        return v
    return np.pad(v, [(0, 0)] * (np.ndim(v) - 1) + [(0, 1)])


def _cross_adjoint(g, x, y, axisx, axisy, axisc, first):
    # g . (a x b) = a . (b x g) = b . (g x a). NumPy 2 still accepts 2-vectors (deprecated): they
    # are 3-vectors with z = 0, and the cross product of two of them is its z component, a scalar.
    xm, ym = np.moveaxis(x, axisx, -1), np.moveaxis(y, axisy, -1)
    scalar = np.shape(xm)[-1] == np.shape(ym)[-1] == 2
    ym = _as_3d(ym)
    if scalar:
        zero = 0.0 * np.expand_dims(g, -1)
        gm = np.concatenate([zero, zero, np.expand_dims(g, -1)], axis=-1)
    else:
        gm = np.moveaxis(g, axisc % np.ndim(g), -1)
    c = np.cross(ym, gm) if first else np.cross(gm, ym)
    c = c[..., :np.shape(xm)[-1]]
    c = unbroadcast(c, xm)
    return real_if_real(np.moveaxis(c, -1, axisx), x)


def _cross_vjp_a(g, ans, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    axisa, axisb, axisc = _cross_axes(a, b, axisa, axisb, axisc, axis)
    return _cross_adjoint(g, a, b, axisa, axisb, axisc, True)


def _cross_vjp_b(g, ans, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    axisa, axisb, axisc = _cross_axes(a, b, axisa, axisb, axisc, axis)
    return _cross_adjoint(g, b, a, axisb, axisa, axisc, False)


defvjp(np.cross, _cross_vjp_a, _cross_vjp_b, keywords=("axisa", "axisb", "axisc", "axis"))


def _multi_dot_specs(arrays):
    """The einsum of a matrix chain; the first and last factor may be vectors."""
    n = len(arrays)
    chain = _letters(n + 1)
    specs = [chain[i:i + 2] for i in range(n)]
    out = chain[0] + chain[n]
    if np.ndim(arrays[0]) == 1:
        specs[0], out = specs[0][1], out[1:]
    if np.ndim(arrays[-1]) == 1:
        specs[-1], out = specs[-1][0], out[:-1]
    return specs, out


def _multi_dot_vjp(g, ans, arrays, *, out=None):
    specs, output = _multi_dot_specs(arrays)
    return [einsum_adjoint(g, specs, output, list(arrays), k) for k in range(len(arrays))]


defvjp(np.linalg.multi_dot, _multi_dot_vjp, keywords=())


def _matrix_power_vjp(g, ans, a, n):
    if not isinstance(n, numbers.Integral):
        raise TypeError("knetc: np.linalg.matrix_power needs an integer exponent")
    if n == 0:
        return np.zeros_like(a)
    base = a if n > 0 else np.linalg.inv(a)
    m = abs(n)
    powers = [np.linalg.matrix_power(base, 0)]       # B^T to the powers 0 .. m-1
    for _ in range(m - 1):
        powers.append(np.matmul(powers[-1], np.swapaxes(base, -1, -2)))
    gb = None
    for k in range(m):      # d(B^m) = sum_k B^k dB B^(m-1-k)
        term = np.matmul(np.matmul(powers[k], g), powers[m - 1 - k])
        gb = term if gb is None else gb + term
    if n < 0:               # B = inv(A): dB = -B dA B
        bt = np.swapaxes(base, -1, -2)
        gb = -np.matmul(np.matmul(bt, gb), bt)
    return real_if_real(gb, a)


defvjp(np.linalg.matrix_power, _matrix_power_vjp, keywords=())


# --- NumPy 2's array-API names and vector/matrix ufuncs ---------------------------------
def _vecdot_parts(g, x1, x2, axis):
    """``vecdot(x1, x2) = sum(conj(x1) * x2, axis)``: the adjoints of conj(x1) and x2, unreduced."""
    ge = np.expand_dims(g, axis)
    return ge * x2, ge * np.conj(x1)


def _vecdot_vjp_1(g, ans, x1, x2, /, *, axis=-1):
    return real_if_real(unbroadcast(np.conj(_vecdot_parts(g, x1, x2, axis)[0]), x1), x1)


def _vecdot_vjp_2(g, ans, x1, x2, /, *, axis=-1):
    return real_if_real(unbroadcast(_vecdot_parts(g, x1, x2, axis)[1], x2), x2)


defvjp(np.linalg.vecdot, _vecdot_vjp_1, _vecdot_vjp_2, keywords=("axis",))
defvjp(np.vecdot, _vecdot_vjp_1, _vecdot_vjp_2, keywords=("axis",))


def _matvec_vjp_1(g, ans, x1, x2, /):
    return real_if_real(unbroadcast(np.expand_dims(g, -1) * np.expand_dims(x2, -2), x1), x1)


def _matvec_vjp_2(g, ans, x1, x2, /):
    return real_if_real(unbroadcast(np.matmul(np.expand_dims(g, -2), x1)[..., 0, :], x2), x2)


def _vecmat_vjp_1(g, ans, x1, x2, /):
    # vecmat(x1, x2) = conj(x1) @ x2: the adjoint of conj(x1) is x2 @ g, that of x1 its conjugate
    return real_if_real(unbroadcast(np.conj(np.matmul(x2, np.expand_dims(g, -1))[..., 0]), x1), x1)


def _vecmat_vjp_2(g, ans, x1, x2, /):
    return real_if_real(unbroadcast(np.expand_dims(np.conj(x1), -1) * np.expand_dims(g, -2), x2), x2)


if hasattr(np, "matvec"):          # NumPy 2.2 and later
    defvjp(np.matvec, _matvec_vjp_1, _matvec_vjp_2, keywords=())
    defvjp(np.vecmat, _vecmat_vjp_1, _vecmat_vjp_2, keywords=())


def _linalg_outer_vjp(k):
    def vjp(g, ans, x1, x2, /):
        return einsum_adjoint(g, ["i", "j"], "ij", [x1, x2], k)
    return vjp


defvjp(np.linalg.outer, _linalg_outer_vjp(0), _linalg_outer_vjp(1), keywords=())
defvjp(np.linalg.matmul, lambda g, ans, x1, x2, /: _nr._matmul_vjp_x(g, ans, x1, x2),
                         lambda g, ans, x1, x2, /: _nr._matmul_vjp_y(g, ans, x1, x2), keywords=())
defvjp(np.linalg.tensordot, lambda g, ans, x1, x2, /, *, axes=2: _nr._tensordot_vjp_a(g, ans, x1, x2, axes),
                            lambda g, ans, x1, x2, /, *, axes=2: _nr._tensordot_vjp_b(g, ans, x1, x2, axes),
       keywords=("axes",))
defvjp(np.linalg.cross, lambda g, ans, x1, x2, /, *, axis=-1: _cross_vjp_a(g, ans, x1, x2, axis=axis),
                        lambda g, ans, x1, x2, /, *, axis=-1: _cross_vjp_b(g, ans, x1, x2, axis=axis),
       keywords=("axis",))
defvjp(np.linalg.trace,
       lambda g, ans, x, /, *, offset=0, dtype=None: _nr._trace_vjp(g, ans, x, offset, -2, -1),
       keywords=("offset",))
defvjp(np.linalg.diagonal, lambda g, ans, x, /, *, offset=0: _nr._diagonal_vjp(g, ans, x, offset, -2, -1),
       keywords=("offset",))
defvjp(np.linalg.matrix_transpose, lambda g, ans, x, /: np.swapaxes(g, -1, -2), keywords=())
