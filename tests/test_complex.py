"""Complex intermediates of real losses (the convention of knetc.runtime.rules_complex).

Each program takes real inputs, computes with complex values in between and
returns a real loss; its gradient in compiled and taped mode must match central
finite differences and be real. Rules without a complex model must raise.
"""
import importlib.util
import pathlib
import tempfile

import numpy as np
import pytest

import knetc as knet
from knetc.testing import assert_tree_allclose, numeric_grad

R = np.random.default_rng(7)
A = R.standard_normal((3, 4))
W = R.standard_normal(4)


def abs_of_scaled(x):
    return np.sum(np.abs(x * (1 + 2j)))


def abs_and_real(x, y):
    z = x + 1j * y
    return np.sum(np.real(z * z) + np.abs(z) * 3)


def angle_of(x, y):
    return np.sum(np.angle(x * (1 + 2j) + y * 1j) * W)


def angle_degrees(x, y):
    return np.sum(np.angle(x + 1j * y, deg=True) * W)


def imag_of_exp(x):
    return np.sum(np.imag(np.exp(1j * x)) * W)


def conj_product(x, y):
    z = x + 1j * y
    return np.sum(np.real(np.conj(z) * z * (0.5 - 1j)))


def variance(x, y):
    z = x + 1j * y
    return np.var(z) + 2 * np.std(z, axis=0)[0]


def complex_power(x, y):
    return np.sum(np.real((x + 1j) ** y) + np.imag((x - 2j) ** 2.5))


def matmul_modulus(x, y):
    z = A @ (x + 1j * y)
    return np.sum(np.abs(z) ** 2)


def sums_and_means(x, y):
    z = np.outer(x, y) * (1 - 1j)
    return np.abs(np.sum(z)) + np.sum(np.abs(np.mean(z, axis=0)))


def real_then_complex_again(x):
    w = np.real(x * (2 - 1j))        # real, but its adjoint meets a complex factor below
    u = w * (1 + 2j)
    return np.sum(np.abs(u)) + np.sum(np.angle(u + 1j))


def elementwise(x, y):
    z = x + 1j * y
    return np.sum(np.abs(np.sin(z) / (z + 3) + np.sqrt(z + 4) * np.log(z + 5) - np.tanh(z) ** 2))


def einsum_and_dot(x, y):
    z = np.einsum("ij,j->i", A * (1 + 1j), x + 1j * y)
    return np.sum(np.abs(z)) + np.abs(np.dot(x * 1j, y)) + np.real(np.vdot(x + 1j, y - 2j))


def conjugating_products(x, y):
    z = x + 1j * y
    m = A * (1 - 2j)
    return (np.real(np.vecdot(z, z * 2j + 1)) + np.sum(np.abs(np.vecmat(z[:3], m)))
            + np.sum(np.imag(np.matvec(m, z))) + np.imag(np.linalg.vecdot(z, y + 0.5j)))


def linalg(x):
    m = np.reshape(x, (3, 3)) + np.eye(3) * (2 + 1j)
    return (np.abs(np.linalg.det(m)) + np.sum(np.abs(np.linalg.inv(m)))
            + np.linalg.slogdet(m)[1] + np.sum(np.abs(np.linalg.solve(m, np.ones(3)))))


def sign_of_complex(x, y):
    z = x + 1j * y
    return np.sum(np.real(np.sign(z) * (2 - 1j)) * W) + np.sum(np.sign(x) * x)


def hermitian_eigenvalues(x, y):
    a = x + 1j * y
    h = a @ np.conj(a.T) + np.eye(3)
    w, v = np.linalg.eigh(h, UPLO="U")
    raw = np.linalg.eigvalsh(a + 3 * np.eye(3))        # reads the lower triangle of a
    return np.sum(np.linalg.eigvalsh(h) ** 2) + np.sum(w * np.arange(3.0)) + np.sum(raw ** 3)


def fft_roundtrip(x):
    f = np.fft.fft(x) * np.exp(1j * np.arange(x.size))
    return np.sum(np.abs(f)) + np.sum(np.real(np.fft.ifft(f)) ** 2)


def irfft_of_complex_spectrum(x):
    phase = np.exp(1j * (np.arange(x.size // 2 + 1) + 0.5))   # complex zero and Nyquist terms too
    y = np.fft.irfft(np.fft.rfft(x) * phase, n=x.size)
    odd = np.fft.irfft(np.fft.rfft(x, n=7) * (1 + 2j), n=7)
    return np.sum(y * W[0] + y ** 2) + np.sum(np.sin(odd))


def irfftn_of_complex_spectrum(x):
    spectrum = np.fft.rfft2(x) * np.exp(1j * np.arange(x.shape[1] // 2 + 1))
    shifted = np.fft.fftshift(np.fft.fft2(x) * (1 - 1j))
    return (np.sum(np.fft.irfft2(spectrum, s=x.shape) ** 2)
            + np.sum(np.abs(np.fft.ifftshift(shifted, axes=0))) + np.sum(np.abs(np.fft.irfftn(spectrum))))


def pos(*shape):
    return R.uniform(0.5, 1.5, shape) * R.choice([-1.0, 1.0], shape)


CASES = [
    (abs_of_scaled, (pos(3),), 0),
    (abs_and_real, (pos(3), pos(3)), (0, 1)),
    (angle_of, (pos(4), pos(4)), (0, 1)),
    (angle_degrees, (pos(4), pos(4)), (0, 1)),
    (imag_of_exp, (pos(4),), 0),
    (conj_product, (pos(3), pos(3)), (0, 1)),
    (variance, (pos(4, 2), pos(4, 2)), (0, 1)),
    (complex_power, (R.uniform(0.5, 2, 3), R.uniform(1, 2, 3)), (0, 1)),
    (matmul_modulus, (pos(4), pos(4)), (0, 1)),
    (sums_and_means, (pos(3), pos(4)), (0, 1)),
    (real_then_complex_again, (pos(5),), 0),
    (elementwise, (pos(4), pos(4)), (0, 1)),
    (einsum_and_dot, (pos(4), pos(4)), (0, 1)),
    (linalg, (0.3 * R.standard_normal(9),), 0),
    (conjugating_products, (pos(4), pos(4)), (0, 1)),
    (fft_roundtrip, (pos(6),), 0),
    (sign_of_complex, (pos(4), pos(4)), (0, 1)),
    (hermitian_eigenvalues, (pos(3, 3), pos(3, 3)), (0, 1)),
    (irfft_of_complex_spectrum, (pos(6),), 0),
    (irfftn_of_complex_spectrum, (pos(4, 6),), 0),
]


@pytest.mark.parametrize("mode", ["source", "tape"])
@pytest.mark.parametrize("fun, args, wrt", CASES, ids=[c[0].__name__ for c in CASES])
def test_complex_intermediate_gradient_is_right_and_real(fun, args, wrt, mode):
    got = knet.grad(fun, wrt=wrt, mode=mode)(*args)
    want = numeric_grad(fun, args, wrt=wrt)
    for leaf in (got if isinstance(got, tuple) else (got,)):
        assert np.asarray(leaf).dtype == np.float64, f"the gradient of a real input is {np.asarray(leaf).dtype}"
    assert_tree_allclose(got, want, rtol=1e-6, atol=1e-8)


def test_abs_of_complex_is_the_modulus_derivative():
    x = np.array([0.5, -1.5])
    got = knet.grad(abs_of_scaled, mode="tape")(x)
    assert np.allclose(got, np.sqrt(5.0) * np.sign(x))     # |x (1+2i)| = sqrt(5) |x|


def test_abs_of_complex_zero_has_zero_adjoint():
    def f(x):
        return np.sum(np.abs(x * 1j))
    x = np.array([0.0, 2.0])
    assert np.array_equal(knet.grad(f, mode="tape")(x), [0.0, 1.0])
    assert np.array_equal(knet.grad(f, mode="source")(x), [0.0, 1.0])


def test_second_derivative_through_complex_abs():
    def f(x):
        return np.sum(np.abs(x * (1 + 2j) + 1j) ** 3)
    x = pos(3)
    v = pos(3)
    gradient = knet.grad(f, mode="tape")
    got = knet.hvp(f)(x, v)
    want = numeric_grad(lambda y: np.sum(gradient(y) * v), (x,))
    assert np.allclose(got, want, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("mode", ["source", "tape"])
@pytest.mark.parametrize("call", [
    lambda m: np.linalg.eigh(m)[1], lambda m: np.linalg.cholesky(m), lambda m: np.linalg.svd(m)[0],
    lambda m: np.linalg.qr(m)[1], lambda m: np.linalg.pinv(m),
], ids=["eigh", "cholesky", "svd", "qr", "pinv"])
def test_rules_without_a_complex_model_refuse_complex_inputs(call, mode):
    def f(x):
        m = x * (1 + 1j) + np.eye(3) * 4
        return np.sum(np.abs(call(m)))
    with pytest.raises(NotImplementedError, match="complex"):
        knet.grad(f, mode=mode)(np.eye(3) + 0.1 * R.standard_normal((3, 3)))


# --- every rule that can see complex values, one expression each ---------------------------
# f(z) for z = x (0.7 + 0.4i) + y (0.2 - 0.5i) + 0.3i, reduced as sum(w Re f) + sum((w - 0.4) Im f)
EXPRESSIONS = [
    'np.exp(z)', 'np.expm1(z)', 'np.log(z)', 'np.log1p(z)', 'np.log2(z)', 'np.log10(z)', 'np.sqrt(z)',
    'np.square(z)', 'np.sin(z)', 'np.cos(z)', 'np.tan(z)', 'np.tanh(z)', 'np.sinh(z)', 'np.cosh(z)',
    'np.arctan(z)', 'np.arcsin(z)', 'np.arccos(z)', 'np.reciprocal(z)', 'np.negative(z)',
    'np.conjugate(z)', 'np.abs(z)', 'np.sign(z)', 'np.cumsum(z, axis=1)', 'np.transpose(z).T',
    'np.flip(z, 0)', 'np.take(z, [0, 2, 2, 1], axis=1)', 'np.repeat(z, 2, axis=0)[:3]', 'z ** 3',
    'z ** 2.5', '2.0 ** z', '1.0 / (z + 2)', 'np.sum(z, axis=0, keepdims=True) * z', 'np.mean(z) * z',
    'np.prod(z, axis=1, keepdims=True) * z', 'np.var(z, axis=1, keepdims=True) + 0 * z',
    'np.std(z) + 0 * z', 'z @ (z.T @ z)', 'np.dot(z, z.T) @ z', 'np.outer(z[0], z[1])[:3]',
    'np.tensordot(z, z, axes=([1], [1])) @ z', 'np.concatenate([z, X0 * 1.0])[:3] * z',
    'np.stack([z, z * 2])[1]', 'np.where(X0 > 0.5, z, z * z)', 'np.reshape(z, (4, 3)).T',
    'np.diagonal(z)[:, None] * z', 'np.trace(z) * z', 'z.real * z', 'z.imag * z', 'z.mT.mT', 'z.T.T',
    'abs(z) * z', 'np.max(z.real) * z', 'z[0, 0].item() * z', 'np.einsum("ij,kj->ik", z, z) @ z',
    'np.angle(z)', 'np.imag(z)', 'np.real(z)', 'np.sum(z) + z', 'np.squeeze(z[None])',
    'np.expand_dims(z, 0)[0]', 'np.broadcast_to(z[0], (3, 4))', 'np.copy(z)',
    'np.ravel(z).reshape(3, 4)', 'z.astype(np.complex128) * z', 'z.real.astype(np.float64) * z',
    'np.fft.fft(z)', 'np.fft.ifft2(z, s=(4, 3))', 'np.fft.fftn(z, norm="ortho")', 'np.fft.fftshift(z)',
    'np.fft.irfft(z, n=5)', 'np.fft.irfftn(z)', 'np.fft.irfft2(z, s=(2, 7), norm="forward")',
    'np.linalg.det(z[:, :3])', 'np.linalg.inv(z[:, :3])', 'np.linalg.solve(z[:, :3], z)',
    'np.linalg.slogdet(z[:, :3])[1]', 'np.linalg.eigvals(z[:, :3])', 'np.linalg.matrix_power(z[:, :3], 3)',
    'np.linalg.multi_dot([z, z.T, z])', 'np.vdot(z, z)', 'np.kron(z, z[:1])', 'np.inner(z, z)',
    'np.cross(z[:, :3], z[:, 1:])', 'np.vecdot(z, z)', 'np.matvec(z.T, z[:, 0])', 'np.vecmat(z[0], z.T)',
    'np.linalg.norm(z)', 'np.linalg.norm(z, ord=1, axis=1)', 'np.linalg.norm(z, ord=np.inf, axis=0)',
    'np.linalg.norm(z, ord=3, axis=1)', 'np.linalg.norm(z, ord="fro")', 'np.linalg.norm(z, ord=1)',
    'np.linalg.vector_norm(z, ord=0.5)', 'np.linalg.matrix_norm(z, ord=-np.inf)',
    'np.linalg.svd(z, compute_uv=False)', 'np.linalg.svd(z)[1]', 'np.linalg.svdvals(z.T)',
    'np.linalg.norm(z, ord="nuc")', 'np.linalg.norm(z, ord=2)', 'np.linalg.norm(z, ord=-2)',
    'np.linalg.cond(z[:, :3])', 'np.linalg.cond(z[:, 1:], -2)', 'np.linalg.cond(z[:, :3], "fro")',
    'np.linalg.cond(z[:, :3], 1)', 'np.linalg.cond(z[:, :3], "nuc")', 'np.linalg.eigvalsh(z[:, :3])',
]


def _expression_module():
    lines = ["import numpy as np", "", "X0 = np.ones((3, 4))", ""]
    for i, expr in enumerate(EXPRESSIONS):
        lines += [f"def case{i}(x, y):", "    z = x * (0.7 + 0.4j) + y * (0.2 - 0.5j) + 0.3j",
                  f"    out = {expr}",
                  "    w = np.reshape(np.cos(np.arange(np.size(out)) * 1.3), np.shape(out))",
                  "    return np.sum(np.real(out) * w) + np.sum(np.imag(out) * (w - 0.4))", ""]
    file = pathlib.Path(tempfile.mkdtemp(prefix="knetc_complex_")) / "knetc_complex_cases.py"
    file.write_text("\n".join(lines))
    spec = importlib.util.spec_from_file_location("knetc_complex_cases", file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rng = np.random.default_rng(5)
    module.X0 = rng.uniform(0.3, 0.9, (3, 4))
    return module


_EXPRESSIONS = _expression_module()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("mode", ["source", "tape"])
@pytest.mark.parametrize("index", range(len(EXPRESSIONS)), ids=EXPRESSIONS)
def test_rules_on_complex_values(index, mode):
    fun = getattr(_EXPRESSIONS, f"case{index}")
    args = (_EXPRESSIONS.X0, R.uniform(0.3, 0.9, (3, 4)))
    got = knet.grad(fun, wrt=(0, 1), mode=mode)(*args)
    assert all(g.dtype == np.float64 for g in got)
    assert_tree_allclose(got, numeric_grad(fun, args, wrt=(0, 1)), rtol=1e-6, atol=1e-8)
