"""Complex intermediates: the convention every rule follows, and the non-holomorphic rules.

knetc differentiates real losses of real inputs; complex values may appear in
between (``np.fft.fft``, ``x * (1 + 2j)``). The adjoint of a complex value
``z = a + ib`` is the complex number

    zbar = dL/da - i dL/db

(the convention of HIPS autograd). Under it the VJP of a holomorphic function
is ``g * f'(z)``, exactly as for real values, with transposes, never
conjugate transposes: the rules of ``+ - * / **``, ``exp``, ``log``,
``sin``..., ``sum``, ``matmul``, ``einsum``, ``inv``, ``solve``, ``det``
are right for complex values unchanged. Functions that are not holomorphic
have rules of their own, here and where they are defined:

- ``np.real(z)``: ``g``;  ``np.imag(z)``: ``-1j * g``;  ``np.conj(z)``: ``conj(g)``;
- ``np.abs(z)``: ``g * conj(z) / |z|`` (0 at ``z == 0``, as ``g * sign(x)`` is 0
  at 0 for real ``x``);
- ``np.angle(z)``: ``-1j * g * conj(z) / |z|**2`` (0 at ``z == 0``);
- ``np.sign(z) = z / |z|``: ``g / |z| - Re(g z) conj(z) / |z|**3`` (0 for real values);
- ``np.var``/``np.std`` of complex values: ``conj`` of the centred values;
- ``np.vdot`` conjugates its first argument.

The adjoint of a real value is always real: where a real operand meets a
complex one (``x * (1 + 2j)``, ``np.fft.fft(x)``), its adjoint is the real
part of the holomorphic formula (``unbroadcast`` and :func:`real_if_real`
take it), since for real ``x`` only ``dL/dx`` exists. So the gradient of a
real input is real. Rules that have no complex model (``eigh``, ``svd``,
``cholesky``, ``qr``, ``norm``...) refuse complex inputs with
:func:`refuse_complex` rather than give a wrong value.
"""
import numpy as np

from .rules import defvjp


def is_complex(x):
    """True for a complex array, NumPy complex scalar, or Python complex (traced values too)."""
    dtype = getattr(x, "dtype", None)
    if dtype is not None:
        return dtype.kind == "c"
    return isinstance(x, complex)


def real_if_real(c, x):
    """The adjoint ``c`` of ``x`` in ``x``'s domain: its real part when ``x`` is real."""
    if is_complex(c) and not is_complex(x):
        return np.real(c)
    return c


def refuse_complex(name, *xs):
    """Raise for complex arguments of a rule that models real values only."""
    for x in xs:
        if is_complex(x):
            raise NotImplementedError(
                f"knetc: the derivative of {name} is only modelled for real inputs, "
                f"and this call has a complex one")


def abs_vjp(g, ans, x):
    """``np.abs``: ``g * sign(x)`` for real ``x``, ``g * conj(z) / |z|`` for complex (0 at 0)."""
    if not is_complex(x):
        return g * np.sign(x)
    return np.real(g) * np.conj(x) / np.where(ans == 0, 1.0, ans)


def sign_vjp(g, ans, x):
    """``np.sign``: 0 for real ``x`` (piecewise constant); ``z / |z|`` for complex (0 at 0)."""
    if not is_complex(x):
        return np.zeros_like(x) * np.real(g)
    r = np.abs(x)
    safe = np.where(r == 0, 1.0, r)
    # s = z * (1/r): the holomorphic part g/r, and through r = |z| the part -Re(g z)/r^2 * conj(z)/r
    return np.where(r == 0, 0.0, g / safe - np.real(g * x) * np.conj(x) / safe ** 3)


def _imag_vjp(g, ans, x):
    return real_if_real(-1j * np.real(g), x)


def _angle_vjp(g, ans, z, deg=False):
    scale = 180.0 / np.pi if deg else 1.0
    if not is_complex(z):                 # 0 or pi: piecewise constant
        return np.real(g) * 0.0
    mag2 = np.real(z * np.conj(z))
    return -1j * scale * np.real(g) * np.conj(z) / np.where(mag2 == 0, 1.0, mag2)


defvjp(np.imag, _imag_vjp, keywords=())
defvjp(np.sign, sign_vjp, keywords=())
defvjp(np.angle, _angle_vjp, keywords=("deg",))
