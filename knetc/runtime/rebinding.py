"""Names rebound in module namespaces while the tape records, undone afterwards.

The tape replaces some globals while a trace runs (``math.exp`` by a shim that
records, ``np`` by a NumPy that creates arrays on the GPU...). Traces nest and
may run in several threads, so each :class:`Rebinding` counts how many times a
namespace is in use: the first use rebinds, the last one restores -- only the
names still bound to the replacement (a name the program rebound meanwhile is
left alone).
"""
import threading

MISSING = object()   # as an original: the name did not exist before


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
            changes = self.changes_for(namespace)
            for name, _, replacement in changes:
                namespace[name] = replacement
            self._active[id(namespace)] = [1, namespace, changes]

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
            for name, original, replacement in entry[2]:
                if namespace.get(name) is replacement:     # not rebound meanwhile
                    if original is MISSING:
                        del namespace[name]
                    else:
                        namespace[name] = original
