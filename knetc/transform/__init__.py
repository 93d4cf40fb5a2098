"""The source-to-source compiler (docstring completed below)."""
from . import dispatch, forward_calls  # noqa: F401  (they put call_vjp, call_jvp in support.RUNTIME)
