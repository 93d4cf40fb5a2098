"""Group 15: complex intermediates (the contract is real float leaves: complex values must
raise or be right).
"""
from .program import P

PROGRAMS = [
    P("abs_of_complex_scaled", """
        def f(x):
            return np.sum(np.abs(x * (1 + 2j)))
    """),
    P("real_of_complex_square", """
        def f(x):
            z = x * (1 + 1j)
            return np.sum(np.real(z * z)) + np.sum(x)
    """),
    P("imag_of_complex_product", """
        def f(x):
            z = x + 1j * C
            return np.sum(np.imag(z * z))
    """),
    P("abs_squared_complex_exp", """
        def f(x):
            z = np.exp(1j * x) * (2.0 + x)
            return np.sum(np.abs(z) ** 2)
    """),
    P("real_part_of_exp_i", """
        def f(x):
            return np.sum(np.real(np.exp(1j * x)) * C)
    """),
    P("conj_product", """
        def f(x):
            z = x * (0.5 - 2j) + C
            return np.sum(np.real(z * np.conj(z)))
    """),
    P("angle_of_complex", """
        def f(x):
            return np.sum(np.angle(x + 2j))
    """),
    P("fft_power", """
        def f(x):
            return np.sum(np.abs(np.fft.fft(x)) ** 2)
    """),
    P("complex_matmul_real_out", """
        def f(x):
            Z = M * (1 + 0.5j)
            return np.sum(np.real(Z @ x) ** 2)
    """),
    P("complex_division", """
        def f(x):
            z = (x + 1j) / (C + 2j)
            return np.sum(np.abs(z))
    """),
    P("complex_sqrt_of_negative", """
        def f(x):
            z = np.sqrt(x.astype(complex) - 2.0)
            return np.sum(np.imag(z))
    """),
    P("python_complex_scalar", """
        def f(x):
            z = complex(0.0, 1.0) * x[0] + x[1]
            return abs(z)
    """),
    P("complex_constant_times_real_then_real", """
        def f(x):
            return np.sum((x * 1j).imag * C)
    """),
    P("abs_of_complex_sum", """
        def f(x):
            return np.abs(np.sum(x * np.exp(1j * C)))
    """),
    P("log_of_complex_abs", """
        def f(x):
            return np.sum(np.log(np.abs(x + 1j)))
    """),
    P("complex_square_real_abs", """
        def f(x):
            z = x + 0.5j
            return np.sum(np.abs(z ** 2))
    """),
    P("complex_tanh_real", """
        def f(x):
            return np.sum(np.real(np.tanh(x + 0.3j)))
    """),
    P("ifft_of_fft_roundtrip_real", """
        def f(x):
            return np.sum(np.real(np.fft.ifft(np.fft.fft(x))) * C)
    """),
    P("astype_complex_then_abs", """
        def f(x):
            return np.sum(np.abs(x.astype(complex) * (2 - 1j)))
    """),
    P("complex_norm", """
        def f(x):
            return np.linalg.norm(x * (1 + 1j) + C)
    """),
    P("complex_exponent", """
        def f(x):
            return np.sum(np.real((x * x + 1.0) ** (1 + 0.5j)))
    """),
    P("complex_vdot", """
        def f(x):
            z = x + 1j * np.sin(x)
            return np.real(np.vdot(z, z))
    """),
    P("complex_outer_real_trace", """
        def f(x):
            z = x * np.exp(0.3j)
            return np.real(np.trace(np.outer(z, np.conj(z))))
    """),
]
