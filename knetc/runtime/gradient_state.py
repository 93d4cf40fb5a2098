"""Whether a gradient is being taken right now (Knet's dropout is active only then).

``GradFunction.__call__`` counts itself in and out of ``DEPTH``; :func:`differentiating` is
True inside any gradient call, compiled or taped, nested ones included.
"""
DEPTH = [0]


def differentiating():
    """True while a knetc gradient call is running (its forward and backward pass)."""
    return DEPTH[0] > 0

