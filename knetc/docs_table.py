"""The table of differentiable functions, ``docs/functions.md``, generated from the rule table.

``python -m knetc.docs_table`` rewrites the file; ``python -m knetc.docs_table --check``
exits with status 1 if it is out of date (tests/test_docs_table.py runs it).
SciPy's rules are included, so SciPy must be installed to generate it.

Per rule: its name, the arguments it differentiates (the names of its VJPs'
parameters; arguments whose VJP refuses are listed as not differentiable),
the optional arguments it models (``Rule.keywords``; "-" where the rule does
not declare them) and whether it runs on the GPU: NumPy functions that CuPy
implements under the same name (:data:`CUPY_NAMES`, checked against CuPy by
the GPU tests) and knetc's own functions do; SciPy's run on NumPy arrays only, except
:data:`SCIPY_ON_CUPY`, with SciPy's array API support on.
"""
import inspect
import pathlib
import sys

# NumPy names (without "numpy.") that CuPy implements under the same name.
CUPY_NAMES = frozenset("""
absolute add amax amin arccos arccosh arcsin arcsinh arctan arctan2 arctanh around array array_split
asarray atleast_1d atleast_2d atleast_3d average broadcast_to cbrt ceil clip column_stack concatenate
conjugate copy copysign cos cosh cross cumprod cumsum deg2rad degrees diag diagflat diagonal diff divide
dot dsplit dstack einsum exp exp2 expand_dims expm1 fabs flip fliplr flipud float32 float64 float_power
floor fmax fmin fmod heaviside hsplit hstack hypot imag inner kron log log10 log1p log2 logaddexp
logaddexp2 matmul max maximum mean median min minimum mod moveaxis multiply nan_to_num nanmax nanmean
nanmin nansum negative outer pad partition percentile positive power prod ptp quantile rad2deg radians
ravel real reciprocal remainder repeat reshape roll rollaxis rot90 sign sin sinc sinh sort split sqrt
square squeeze stack std subtract sum swapaxes take take_along_axis tan tanh tensordot tile trace
transpose tril triu var vdot vsplit vstack where
append convolve corrcoef correlate cov ediff1d gradient interp ldexp meshgrid nancumprod nancumsum
nanprod nanstd nanvar piecewise polyval select vander
nanmedian modf frexp unwrap poly
asanyarray ascontiguousarray asfortranarray i0 unique
linalg.cholesky linalg.det linalg.eigh linalg.eigvalsh linalg.inv linalg.lstsq linalg.norm linalg.pinv
linalg.qr linalg.slogdet linalg.solve linalg.svd linalg.matrix_power
fft.fft fft.ifft fft.rfft fft.irfft fft.fft2 fft.ifft2 fft.rfft2 fft.irfft2 fft.fftn fft.ifftn fft.rfftn
fft.irfftn fft.fftshift fft.ifftshift fft.hfft fft.ihfft
""".split())

# SciPy functions that run on CuPy arrays: SciPy hands them to cupyx.scipy when its array API
# support is on (the environment variable SCIPY_ARRAY_API=1 before SciPy is imported), and
# their rules choose cupyx.scipy for CuPy arrays.
SCIPY_ON_CUPY = frozenset({"scipy.signal.convolve", "scipy.signal.correlate"})

PATH = pathlib.Path(__file__).resolve().parents[1] / "docs" / "functions.md"
_OWN = ("knetc.", "_operator.")          # knetc's functions and indexing: array operations
_SCALAR = ("math.", "builtins.")         # Python scalars and containers


def _load_all_rules():
    import knetc  # noqa: F401  # lazy: the table loads every rule module, SciPy's too, only when it is built
    import scipy.integrate  # noqa: F401  # lazy: SciPy loads only when the table is built
    import scipy.linalg  # noqa: F401  # lazy: SciPy loads only when the table is built
    import scipy.signal  # noqa: F401  # lazy: SciPy loads only when the table is built
    import scipy.special  # noqa: F401
    import scipy.stats  # noqa: F401
    from .runtime import rules  # lazy: see above
    rules.load_optional_rules()
    return rules.all_rules()


def _argument_name(vjp, i):
    """The name of the call's argument ``i`` in ``vjp``'s signature (``*arys`` for a variadic one)."""
    try:
        params = list(inspect.signature(vjp).parameters.values())[2:]
    except (TypeError, ValueError):
        params = []
    positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if i < len(positional):
        return positional[i]
    variadic = [p.name for p in params if p.kind == p.VAR_POSITIONAL]
    return f"*{variadic[0]}" if variadic else f"argument {i + 1}"


def _arguments(rule):
    """(differentiated argument names, refused argument names), in call order, each once."""
    yes, no = [], []
    for i, vjp in enumerate(rule.vjps):
        if vjp is not None:
            name = getattr(vjp, "parameter", None) or _argument_name(vjp, i)
            (no if getattr(vjp, "refuses", False) else yes).append(name)
    for name, vjp in rule.kwvjps.items():
        if vjp is not None:
            (no if getattr(vjp, "refuses", False) else yes).append(name)
    return list(dict.fromkeys(yes)), [n for n in dict.fromkeys(no) if n not in yes]


def _gpu(name):
    if name.startswith("numpy."):
        return "yes" if name[len("numpy."):] in CUPY_NAMES else "no"
    if name.startswith(_OWN):
        return "yes"
    if name.startswith(_SCALAR):
        return "n/a"
    if name in SCIPY_ON_CUPY:
        return "yes (SCIPY_ARRAY_API=1)"
    return "no"


def _is_knetc_rule(name):
    return name.startswith(("numpy.", "scipy.", "math.", "builtins.", "knetc.", "_operator."))


def rows(table):
    """One (name, differentiable, keywords, gpu) row per rule, sorted by name."""
    out = []
    for rule in table.values():
        if not _is_knetc_rule(rule.name):
            continue
        yes, no = _arguments(rule)
        diff = ", ".join(yes) or "-"
        if no:
            diff += f" (not: {', '.join(no)})"
        keywords = "-" if rule.keywords is None else ", ".join(rule.keywords) or "none"
        out.append((rule.name, diff, keywords, _gpu(rule.name)))
    return sorted(set(out))


def render(table):
    """The text of docs/functions.md for the rule table ``table``."""
    body = rows(table)
    lines = [
        "# Differentiable functions",
        "",
        "Generated from knetc's rule table by `python -m knetc.docs_table`; do not edit by hand",
        "(tests/test_docs_table.py fails when this file is out of date).",
        "",
        f"{len(body)} functions. *Differentiable in*: the arguments the gradient flows into (by the",
        "names of the rule's VJP parameters; \"not:\" lists arguments whose derivative knetc refuses with",
        "an error). *Keywords modelled*: the optional arguments the rule declares it handles (\"none\":",
        "none; \"-\": not declared). *GPU*: works on CuPy arrays. `scipy.special.psi` is `digamma`.",
        "SciPy's rules register when the program imports SciPy (`scipy.signal`'s and `scipy.integrate`'s",
        "when it imports those modules); knetc never imports it otherwise. \"yes (SCIPY_ARRAY_API=1)\": on",
        "CuPy arrays where SciPy's array API support hands the call to `cupyx.scipy`.",
        "",
        "| function | differentiable in | keywords modelled | GPU |",
        "|---|---|---|---|",
    ]
    lines += [f"| `{name}` | {diff} | {keywords} | {gpu} |" for name, diff, keywords, gpu in body]
    return "\n".join(lines) + "\n"


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    text = render(_load_all_rules())
    if "--check" in argv:
        current = PATH.read_text() if PATH.exists() else ""
        if current != text:
            print(f"{PATH} is out of date: run python -m knetc.docs_table", file=sys.stderr)
            return 1
        return 0
    PATH.parent.mkdir(exist_ok=True)
    PATH.write_text(text)
    print(f"wrote {PATH} ({text.count(chr(10)) - 13} functions)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
