"""Which package a function comes from, by its ``__module__``.

``numpy.linalg`` is NumPy and ``knetc.nn`` is knetc, but ``numpy_utils`` or ``mathhelpers``
(a user's module whose name merely starts like a library's) is user code, whose source the
compiler reads and whose effects it analyses.
"""

LIBRARIES = ("numpy", "cupy", "scipy", "knetc", "math", "builtins")


def in_packages(module, roots=LIBRARIES):
    """Whether the dotted module name ``module`` is one of ``roots`` or a module inside one."""
    module = module or ""
    return any(module == r or module.startswith(r + ".") for r in roots)
