"""Names rebound in module namespaces while the tape records, undone afterwards.

The tape replaces some globals while a trace runs (``math.exp`` by a shim that
records, ``np`` by a NumPy that creates arrays on the GPU...). Traces nest and
may run in several threads, so each :class:`Rebinding` counts how many times a
namespace is in use: the first use rebinds, the last one restores -- only the
names still bound to the replacement (a name the program rebound meanwhile is
left alone).
"""
import operator
import threading

MISSING = object()   # as an original: the name did not exist before


class _Plan:
    """One list of changes, ready to apply and undo with a few dict calls (the math
    module has 55 names, rebound on every tape call)."""

    __slots__ = ("changes", "replacements", "originals", "missing", "current", "expected")

    def __init__(self, changes):
        self.changes = changes
        self.replacements = {name: r for name, _, r in changes}
        self.originals = {name: o for name, o, _ in changes if o is not MISSING}
        self.missing = tuple(name for name, o, _ in changes if o is MISSING)
        names = [name for name, _, _ in changes]
        self.current = (lambda ns: ()) if not names else \
            (lambda ns, g=operator.itemgetter(*names): (g(ns),)) if len(names) == 1 else operator.itemgetter(*names)
        self.expected = tuple(r for _, _, r in changes)

    def untouched(self, namespace):
        """Whether every name is still bound to its replacement."""
        try:
            return all(map(operator.is_, self.current(namespace), self.expected))
        except KeyError:
            return False


_PLANS = {}   # id(changes) -> _Plan (for change lists its changes_for returns again and again)


def _plan_of(changes):
    plan = _PLANS.get(id(changes))
    if plan is None or plan.changes is not changes:
        plan = _Plan(changes)
        if len(_PLANS) > 256:
            _PLANS.clear()
        _PLANS[id(changes)] = plan
    return plan


class Rebinding:
    """Counted rebinding of the names ``changes_for(namespace)`` lists.

    ``changes_for(namespace)`` returns ``[(name, original, replacement)]``
    (``original`` may be :data:`MISSING`); it is asked once, on first use.
    """

    def __init__(self, changes_for):
        self.changes_for = changes_for
        self._lock = threading.Lock()
        self._active = {}   # id(namespace) -> [count, namespace, changes]

    def apply(self, namespace):
        """Rebind the names in ``namespace`` (or count one more use)."""
        with self._lock:
            entry = self._active.get(id(namespace))
            if entry is not None:
                entry[0] += 1
                return
            plan = _plan_of(self.changes_for(namespace))
            namespace.update(plan.replacements)
            self._active[id(namespace)] = [1, namespace, plan]

    def undo(self, namespace):
        """Count one use less; the last one restores the originals."""
        with self._lock:
            entry = self._active.get(id(namespace))
            if entry is None:
                return
            entry[0] -= 1
            if entry[0]:
                return
            del self._active[id(namespace)]
            plan = entry[2]
            if plan.untouched(namespace):          # the common case: restore all at once
                namespace.update(plan.originals)
                for name in plan.missing:
                    del namespace[name]
                return
            for name, original, replacement in plan.changes:
                if namespace.get(name) is replacement:     # not rebound meanwhile
                    if original is MISSING:
                        del namespace[name]
                    else:
                        namespace[name] = original
