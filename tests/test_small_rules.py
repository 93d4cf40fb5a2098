"""np.i0, np.unique, np.spacing and the array conversions: what the OpInfos cannot say.

The OpInfos (tests/opinfo/cases_elementwise.py, cases_shape.py) check each rule
against finite differences in both modes; here: the I1 that np.i0's rule is
made of against SciPy on the whole real line, np.unique's refusals (repeated
values, sorted=False, lists) in every mode, its constant integer results in
forward mode, np.spacing in float32, and the conversions' aliasing and errors.
"""
import importlib.util
import sys
import textwrap
import warnings

import numpy as np
import pytest

import knetc as knet
from knetc.errors import KnetError
from knetc.runtime.bessel import i1
from knetc.testing import assert_tree_allclose, numeric_grad

MODES = ["auto", "source", "tape"]


def _module(tmp_path, name, source):
    """A user module written to a file (the compiler reads the source)."""
    path = tmp_path / f"{name}.py"
    path.write_text("import numpy as np\n\n" + textwrap.dedent(source))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _grad(f, mode, *args, wrt=0):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", knet.FallbackWarning)
        g = knet.grad(f, wrt=wrt, mode=mode)
        return g(*args), g.mode


# --- np.i0 -----------------------------------------------------------------------------
def test_i1_agrees_with_scipy_on_the_whole_line():
    special = pytest.importorskip("scipy.special")
    x = np.concatenate([np.linspace(-60, 60, 24001), [29.999999, 30.0, 30.000001, -30.0, 250.0, -700.0, 0.0]])
    want = special.i1(x)
    np.testing.assert_allclose(i1(x), want, rtol=1e-13, atol=1e-300)
    assert i1(np.float32(3.0)).dtype == np.float32


def test_i1_is_odd_and_its_derivative_is_i0_minus_i1_over_x():
    x = np.array([0.4, 3.0, 12.5, 29.5, 30.5, 55.0])
    np.testing.assert_allclose(i1(-x), -i1(x), rtol=1e-15)
    # I1' = I0 - I1 / x, from central differences of i1 itself (each point on its own scale)
    for v in x:
        h = 1e-6 * max(1.0, v)
        fd = (i1(v + h) - i1(v - h)) / (2 * h)
        np.testing.assert_allclose(fd, np.i0(v) - i1(v) / v, rtol=1e-7)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("x0", [0.0, -0.8, 5.5, -18.0, 29.7, 30.3, -44.0])
def test_i0_gradient_at_single_points(tmp_path, mode, x0):
    # one point at a time: a sum over values of very different sizes would be ill-conditioned
    m = _module(tmp_path, f"i0_point_{mode}_{abs(int(x0 * 10))}", """
        def loss(x):
            return np.sum(np.i0(x) * np.cos(x))
    """)
    x = np.array([x0])
    got, used = _grad(m.loss, mode, x)
    assert used == ("tape" if mode == "tape" else "source")
    estimates = [numeric_grad(m.loss, (x,), eps=eps * max(1.0, abs(x0))) for eps in (1e-6, 1e-5)]
    assert_tree_allclose(estimates[0], estimates[1], rtol=1e-5)
    assert_tree_allclose(got, estimates[0], rtol=1e-6, atol=1e-8)


# --- np.unique ---------------------------------------------------------------------------
UNIQUE = """
    W = np.arange(1.0, 7.0)

    def values(x):
        return np.sum(np.unique(x) * W[:np.size(x)])

    def squares(x):
        return np.sum(np.unique(x) ** 2)

    def rows(x):
        return np.sum(np.unique(x, axis=0) ** 2 * W[:np.shape(x)[1]])

    def indices_only(x):
        u, first, inverse, counts = np.unique(x, return_index=True, return_inverse=True, return_counts=True)
        return np.sum(first * 1.5) + np.sum(counts) * x[0, 0] + np.sum(inverse * x[1])

    def unsorted(x):
        return np.sum(np.unique(x, sorted=False) * W[:np.size(x)])

    def of_a_list(x):
        return np.sum(np.unique([x[0], x[1]]) ** 2)

    def repeats_inside(x):
        return np.sum(np.unique(np.concatenate([x, x[:1]])) ** 2)

    def constant_repeats(x):
        return np.sum(x ** 2) + np.sum(np.unique(np.array([1.0, 1.0, 2.0])))
"""


@pytest.fixture
def unique(tmp_path):
    return _module(tmp_path, "unique_cases", UNIQUE)


@pytest.mark.parametrize("mode", MODES)
def test_unique_of_distinct_values_is_a_sort(unique, mode):
    x = np.array([[0.3, -0.7, 1.2], [2.0, -1.5, 0.1]])
    for f in (unique.values, unique.rows, unique.indices_only):
        got, used = _grad(f, mode, x)
        assert used == ("tape" if mode == "tape" else "source"), (f.__name__, used)
        assert_tree_allclose(got, numeric_grad(f, (x,)), rtol=1e-6, atol=1e-8)
    # the values land on the positions they came from: W[rank of each element]
    got, _ = _grad(unique.values, mode, np.array([2.5, -1.0, 0.5]))
    assert_tree_allclose(got, np.array([3.0, 1.0, 2.0]), rtol=0, atol=0)


@pytest.mark.parametrize("mode", MODES)
def test_unique_with_repeated_values_raises(unique, mode):
    for f, x, what in [(unique.squares, np.array([0.3, -0.7, 0.3]), "1 of the 3 values"),
                       (unique.rows, np.array([[0.3, 1.0], [0.3, 1.0], [2.0, 0.5]]), "1 of the 3 slices along axis 0"),
                       (unique.repeats_inside, np.array([0.3, -0.7, 1.2]), "1 of the 4 values")]:
        with pytest.raises(KnetError, match="np.unique is not differentiable here") as error:
            _grad(f, mode, x)
        assert what in str(error.value) and "repeat" in str(error.value)


@pytest.mark.parametrize("mode", MODES)
def test_unique_with_repeats_is_fine_where_nothing_is_differentiated(unique, mode):
    # the error belongs to the derivative: the same call on constants runs as NumPy's
    x = np.array([0.3, -0.7, 1.2])
    got, _ = _grad(unique.constant_repeats, mode, x)
    assert_tree_allclose(got, 2 * x, rtol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_unique_refuses_sorted_false_and_lists(unique, mode):
    x = np.array([0.3, -0.7, 1.2])
    with pytest.raises(KnetError, match="sorted=False"):
        _grad(unique.unsorted, mode, x)
    # a list of traced values: the compiled rule refuses it; on the tape NumPy converts it,
    # which the box refuses
    error, message = ((knet.GradientInputError, "converted a traced") if mode == "tape"
                      else (KnetError, "np.unique of a list or tuple"))
    with pytest.raises(error, match=message):
        _grad(unique.of_a_list, mode, x)


def test_unique_integer_results_are_constants_in_forward_mode(tmp_path):
    m = _module(tmp_path, "unique_forward", """
        def f(x):
            u, first = np.unique(x, return_index=True)
            return u ** 2 * (first + 1.0)
    """)
    x, t = np.array([0.3, -0.7, 1.2]), np.array([1.0, 2.0, -1.0])
    order = np.argsort(x)
    for mode in MODES:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", knet.FallbackWarning)
            value, tangent = knet.jvp(m.f, (x,), (t,), mode=mode)
        assert_tree_allclose(value, x[order] ** 2 * (order + 1.0), rtol=1e-12)
        assert_tree_allclose(tangent, 2 * x[order] * t[order] * (order + 1.0), rtol=1e-12)


# --- np.spacing ---------------------------------------------------------------------------
def test_spacing_is_a_constant_in_float32_too(tmp_path):
    x = np.array([1.5, -5.5, 0.75, 100.25], np.float32)
    for step in (np.float32(1e-3), np.float32(-1e-3)):
        assert np.array_equal(np.spacing(x + step), np.spacing(x))
    m = _module(tmp_path, "spacing_loss", """
        def loss(x):
            return np.sum(x * x + np.spacing(x) * 1e6)
    """)
    for mode in MODES:
        got, _ = _grad(m.loss, mode, x.astype(np.float64))
        assert_tree_allclose(got, 2 * x.astype(np.float64), rtol=1e-12)


# --- the conversions -----------------------------------------------------------------------
CONVERSIONS = """
    conv = np.asanyarray

    def each(x):
        y = np.asanyarray(x) * 1.0 + np.ascontiguousarray(x) * 2.0
        return np.sum(y * np.asfortranarray(x) + np.asarray_chkfinite(x) * 3.0)

    def write_through(x):
        a = x * 1.0
        b = np.asarray_chkfinite(a)
        b[0] = 0.0
        return np.sum(a * x)

    def captured(x):
        return np.sum(conv(x) ** 2)

    def not_finite(x):
        return np.sum(np.asarray_chkfinite(x / 0.0))
"""


@pytest.fixture
def conversions(tmp_path):
    return _module(tmp_path, "conversion_cases", CONVERSIONS)


@pytest.mark.parametrize("mode", MODES)
def test_conversions_are_the_identity(conversions, mode):
    x = np.array([[0.3, -0.7], [1.2, 0.4]])
    got, used = _grad(conversions.each, mode, x)
    assert used == ("tape" if mode == "tape" else "source")
    assert_tree_allclose(got, 6 * x + 3.0, rtol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_a_write_through_asarray_chkfinite_is_loud(conversions, mode):
    # b is a itself: the write changes a, which the compiler must not model as a copy
    with pytest.raises(KnetError):
        _grad(conversions.write_through, mode, np.array([0.3, -0.7, 1.2]))


def test_conversion_bound_to_another_name_is_loud_on_the_tape(conversions):
    x = np.array([0.3, -0.7, 1.2])
    got, _ = _grad(conversions.captured, "source", x)
    assert_tree_allclose(got, 2 * x, rtol=1e-12)
    with pytest.raises(knet.GradientInputError, match="converted a traced"):
        _grad(conversions.captured, "tape", x)


@pytest.mark.parametrize("mode", MODES)
def test_asarray_chkfinite_still_checks(conversions, mode):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(ValueError, match="infs or NaNs"):
            _grad(conversions.not_finite, mode, np.array([0.3, -0.7]))


# --- conversions by library code: SciPy is not traced into ------------------------------------
LIBRARY = """
    import scipy.linalg
    import scipy.optimize

    def polar(x):
        return np.sum(scipy.linalg.polar(np.outer(x, x) + np.eye(2))[0])

    def unchecked(x):
        # check_finite=False: SciPy converts with np.asarray, which the tape used to record,
        # tracing into SciPy's source until an ndarray attribute failed
        return np.sum(scipy.linalg.hessenberg(np.outer(x, x) + np.eye(2), check_finite=False))

    def loss(x):
        return np.sum(np.asarray_chkfinite(np.asanyarray(x)) ** 2)

    def minimized(x0):
        return scipy.optimize.minimize(lambda x: float(loss(x)), x0, method="BFGS",
                                       jac=lambda x: knet.grad(loss, mode="tape")(x)).x
"""


def test_a_library_converting_a_traced_value_is_named_on_the_tape(tmp_path):
    pytest.importorskip("scipy")
    m = _module(tmp_path, "library_conversions", "import knetc as knet\n" + textwrap.dedent(LIBRARY))
    x = np.array([0.2, 0.7])
    for f in (m.polar, m.unchecked):
        # (SciPy 1.17 reports scipy.linalg's batching wrapper by its own name; test_scipy.py)
        with pytest.raises(KnetError, match=r"knetc: scipy\.\S+ was called with a traced .*cannot record it"):
            _grad(f, "tape", x)


def test_the_users_conversion_under_a_library_is_recorded(tmp_path):
    pytest.importorskip("scipy")
    m = _module(tmp_path, "library_callers", "import knetc as knet\n" + textwrap.dedent(LIBRARY))
    # the gradient is taken inside scipy.optimize's frames; the conversion is the user's own
    assert_tree_allclose(m.minimized(np.array([0.5, -1.5])), np.zeros(2), atol=1e-6)
