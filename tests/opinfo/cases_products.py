"""OpInfos of tensor products: einsum in every subscript form, inner, kron, cross, vdot,
multi_dot, matrix_power, and the older dot/tensordot/outer on non-square and batched shapes."""
import numpy as np

from . import OpInfo, Sample


def _r(rng, dtype, *shape):
    return rng.standard_normal(shape).astype(dtype)


def _einsum(rng, dtype):
    r = lambda *s: _r(rng, dtype, *s)  # noqa: E731
    return [
        Sample(("ij,jk->ik", r(2, 3), r(3, 4)), wrt=(1, 2), name="matmul"),
        Sample(("ij,jk", r(2, 3), r(3, 4)), wrt=(1, 2), name="implicit"),
        Sample(("ij,kj->", r(2, 3), r(4, 3)), wrt=(1, 2), name="full_contraction"),
        Sample(("ii", r(3, 3)), wrt=(1,), name="trace"),
        Sample(("ii->i", r(3, 3)), wrt=(1,), name="diagonal"),
        Sample(("iij->ij", r(3, 3, 2)), wrt=(1,), name="partial_diagonal"),
        Sample(("ij->", r(2, 5)), wrt=(1,), name="sum"),
        Sample(("ij->ji", r(2, 5)), wrt=(1,), name="transpose"),
        Sample(("ij,k->ijk", r(2, 3), r(4)), wrt=(1, 2), name="outer"),
        Sample(("...ij,...jk->...ik", r(5, 2, 3), r(5, 3, 4)), wrt=(1, 2), name="batched_ellipsis"),
        Sample(("...ij,jk", r(5, 2, 3), r(3, 4)), wrt=(1, 2), name="ellipsis_implicit"),
        Sample(("...i,...i->...", r(4, 1, 3), r(2, 3)), wrt=(1, 2), name="ellipsis_broadcast"),
        Sample(("i...->...", r(4, 2, 3)), wrt=(1,), name="ellipsis_summed"),
        Sample(("ij,ij->ij", r(1, 3), r(2, 3)), wrt=(1, 2), name="size_one_broadcast"),
        Sample(("bi,bj,bk->ijk", r(4, 2), r(4, 3), r(4, 2)), wrt=(1, 2, 3), name="three_operands"),
        Sample(("ij,jk,kl,lm->im", r(2, 3), r(3, 4), r(4, 2), r(2, 3)), {"optimize": True},
               wrt=(1, 2, 3, 4), name="four_operands_optimize"),
        Sample(("ij,jk->ik", r(2, 3), r(3, 4)), {"optimize": "greedy"}, wrt=(1, 2), name="optimize_greedy"),
        Sample(("i,i", r(4), r(4)), wrt=(1, 2), name="dot"),
        Sample((",ij->ij", r(), r(2, 3)), wrt=(1, 2), name="scalar_operand"),
        Sample(("ij, jk -> ik", r(2, 3), r(3, 4)), wrt=(1, 2), name="spaces"),
        Sample(("Ab,bC->AC", r(2, 3), r(3, 4)), wrt=(1, 2), name="uppercase"),
        Sample((r(2, 3), [0, 1], r(3, 4), [1, 2], [0, 2]), wrt=(0, 2), name="sublist"),
        Sample((r(2, 3), [0, 1], r(3,), [1]), wrt=(0, 2), name="sublist_implicit"),
        Sample((r(5, 2, 3), [Ellipsis, 0, 1], r(3,), [1], [Ellipsis, 0]), wrt=(0, 2),
               name="sublist_ellipsis"),
    ]


def _inner(rng, dtype):
    r = lambda *s: _r(rng, dtype, *s)  # noqa: E731
    return [Sample((r(4), r(4))), Sample((r(2, 4), r(3, 4))), Sample((r(2, 3, 4), r(4))),
            Sample((r(), r(2, 3)), name="scalar")]


def _kron(rng, dtype):
    r = lambda *s: _r(rng, dtype, *s)  # noqa: E731
    return [Sample((r(2, 3), r(4, 2))), Sample((r(3), r(2))), Sample((r(2, 3), r(4)), name="ranks_differ"),
            Sample((r(2, 1, 3), r(2, 2)), name="rank3")]


def _cross(rng, dtype):
    r = lambda *s: _r(rng, dtype, *s)  # noqa: E731
    return [Sample((r(3), r(3))), Sample((r(4, 3), r(4, 3))), Sample((r(4, 3), r(3)), name="broadcast"),
            Sample((r(3, 4), r(4, 3)), {"axisa": 0}, name="axisa"),
            Sample((r(4, 3), r(3, 4)), {"axisb": 0, "axisc": 0}, name="axisb_axisc"),
            Sample((r(3, 2), r(3, 2)), {"axis": 0}, name="axis")]


def _cross_2d(rng, dtype):
    """2-vectors (deprecated in NumPy 2 but accepted): z = 0, and two of them give a scalar."""
    r = lambda *s: _r(rng, dtype, *s)  # noqa: E731
    return [Sample((r(2), r(2)), name="scalar"), Sample((r(4, 2), r(4, 2)), name="batched_scalar"),
            Sample((r(4, 2), r(2)), name="broadcast_scalar"), Sample((r(2), r(3)), name="two_three"),
            Sample((r(4, 3), r(4, 2)), name="three_two"),
            Sample((r(2, 4), r(3, 4)), {"axisa": 0, "axisb": 0}, name="axes")]


def _vdot(rng, dtype):
    r = lambda *s: _r(rng, dtype, *s)  # noqa: E731
    return [Sample((r(5), r(5))), Sample((r(2, 3), r(3, 2)), name="flattened")]


def _multi_dot(rng, dtype):
    r = lambda *s: _r(rng, dtype, *s)  # noqa: E731
    return [Sample(([r(2, 3), r(3, 4), r(4, 5)],)), Sample(([r(3), r(3, 4), r(4, 2), r(2)],), name="vector_ends"),
            Sample(([r(2, 3), r(3, 4)],), name="two")]


def _well_conditioned(rng, dtype, *shape):
    n = shape[-1]
    return (rng.standard_normal(shape) * 0.3 + np.eye(n)).astype(dtype)


def _matrix_power(rng, dtype):
    a = _well_conditioned(rng, dtype, 3, 3)
    b = _well_conditioned(rng, dtype, 2, 3, 3)
    return [Sample((a, 3)), Sample((a, 1)), Sample((a, 0)), Sample((a, -2), name="negative"),
            Sample((b, 2), name="batched")]


def _dot(rng, dtype):
    r = lambda *s: _r(rng, dtype, *s)  # noqa: E731
    return [Sample((r(2, 3), r(3, 4))), Sample((r(2, 3, 4), r(5, 4, 2)), name="nd"), Sample((r(3), r(3, 2))),
            Sample((r(2, 3), r(3))), Sample((r(), r(2, 3)), name="scalar")]


def _tensordot(rng, dtype):
    r = lambda *s: _r(rng, dtype, *s)  # noqa: E731
    return [Sample((r(2, 3, 4), r(3, 4, 5))), Sample((r(2, 3, 4), r(4, 3, 5)), {"axes": ([1, 2], [1, 0])}),
            Sample((r(2, 3), r(3, 4)), {"axes": 1}), Sample((r(2, 3), r(4, 5)), {"axes": 0}, name="outer")]


def _outer(rng, dtype):
    r = lambda *s: _r(rng, dtype, *s)  # noqa: E731
    return [Sample((r(3), r(4))), Sample((r(2, 3), r(4)), name="flattened")]


def _matmul(rng, dtype):
    r = lambda *s: _r(rng, dtype, *s)  # noqa: E731
    return [Sample((r(2, 3), r(3, 5))), Sample((r(4, 2, 3), r(3, 5)), name="batched"),
            Sample((r(4, 1, 2, 3), r(5, 3, 2)), name="batch_broadcast"), Sample((r(3), r(4, 3, 2))),
            Sample((r(3), r(3)))]


def _vecdot(rng, dtype):
    r = lambda *s: _r(rng, dtype, *s)  # noqa: E731
    return [Sample((r(4), r(4))), Sample((r(3, 4), r(4)), name="broadcast"),
            Sample((r(4, 3), r(2, 4, 3)), {"axis": -2}, name="axis"), Sample((r(4, 3), r(4, 3)), {"axis": -1})]


def _matvec(rng, dtype):
    r = lambda *s: _r(rng, dtype, *s)  # noqa: E731
    return [Sample((r(3, 4), r(4))), Sample((r(2, 3, 4), r(4)), name="batched"),
            Sample((r(3, 4), r(2, 4)), name="batched_vector")]


def _vecmat(rng, dtype):
    r = lambda *s: _r(rng, dtype, *s)  # noqa: E731
    return [Sample((r(3), r(3, 4))), Sample((r(3), r(2, 3, 4)), name="batched"),
            Sample((r(2, 3), r(3, 4)), name="batched_vector")]


def _pair(*shapes):
    def samples(rng, dtype):
        return [Sample(tuple(_r(rng, dtype, *s) for s in pair)) for pair in shapes]
    return samples


def _stack(rng, dtype):
    r = lambda *s: _r(rng, dtype, *s)  # noqa: E731
    return [Sample((r(3, 4),)), Sample((r(2, 4, 3),), name="batched"), Sample((r(2, 4, 3),), {"offset": 1}),
            Sample((r(3, 4),), {"offset": -1})]


OPS = [
    OpInfo("np.einsum", _einsum, gpu=True),
    OpInfo("np.inner", _inner, gpu=True),
    OpInfo("np.kron", _kron, gpu=True),
    OpInfo("np.cross", _cross, gpu=True),
    OpInfo("np.cross", _cross_2d, name="np.cross_2_vectors"),
    OpInfo("np.vdot", _vdot, gpu=True),
    OpInfo("np.linalg.multi_dot", _multi_dot, gpu=False),
    OpInfo("np.linalg.matrix_power", _matrix_power, gpu=True),
    OpInfo("np.dot", _dot, name="np.dot:shapes", gpu=True),
    OpInfo("np.tensordot", _tensordot, name="np.tensordot:shapes", gpu=True),
    OpInfo("np.outer", _outer, name="np.outer:shapes", gpu=True),
    OpInfo("np.matmul", _matmul, name="np.matmul:shapes", gpu=True),
    OpInfo("np.linalg.matmul", _matmul),
    OpInfo("np.vecdot", _vecdot),
    OpInfo("np.linalg.vecdot", _vecdot),
    OpInfo("np.matvec", _matvec),
    OpInfo("np.vecmat", _vecmat),
    OpInfo("np.linalg.outer", _pair(((3,), (4,)), ((1,), (2,)))),
    OpInfo("np.linalg.tensordot", _tensordot),
    OpInfo("np.linalg.cross", lambda rng, dtype: [Sample((_r(rng, dtype, 4, 3), _r(rng, dtype, 3))),
                                                  Sample((_r(rng, dtype, 3, 2), _r(rng, dtype, 3, 2)),
                                                         {"axis": 0})]),
    OpInfo("np.linalg.trace", _stack),
    OpInfo("np.linalg.diagonal", _stack),
    OpInfo("np.linalg.matrix_transpose", _pair(((3, 4),), ((2, 3, 4),))),
]
