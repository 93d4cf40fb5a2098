"""What the reverse emitter knows about each adjoint at the current point of the sweep.

An adjoint is *zero* (nothing has been accumulated into it: it needs not
exist, and the first contribution is an assignment) or *set*. A set adjoint
may be *owned*: its buffer belongs to the adjoint alone, so ``+=`` may update
it in place. *Deferred* zeros are the adjoints a block reset that must hold an
array at the block's end (materialised there only if still zero).
"""

ZERO, SET = "zero", "set"


class AdjointState:
    """Zero / set / owned / deferred state of every adjoint (see module docstring)."""

    def __init__(self, names, result):
        self.value = {n: ZERO for n in names}
        self.value[result] = SET          # the pullback's argument
        self.owned = set()
        self.deferred = {}                # block key -> names to materialise at its end

    # ---- queries --------------------------------------------------------------
    def is_zero(self, name):
        """True while nothing has been accumulated into ``name``'s adjoint (unknown names too)."""
        return self.value.get(name, ZERO) == ZERO

    def owns(self, name):
        """True when ``name``'s adjoint buffer may be updated in place."""
        return name in self.owned

    # ---- transitions ----------------------------------------------------------
    def zero(self, name):
        """``name``'s adjoint starts again from zero."""
        self.value[name] = ZERO
        self.owned.discard(name)

    def set(self, name, owned=False):
        """``name``'s adjoint now holds a value: a buffer of its own, or one maybe shared."""
        self.value[name] = SET
        if owned:
            self.owned.add(name)
        else:
            self.owned.discard(name)

    def own(self, name):
        self.owned.add(name)

    def disown(self, *names):
        self.owned.difference_update(names)

    def disown_all(self):
        self.owned = set()

    def defer_zero(self, block, name):
        """At the end of ``block``, ``name``'s adjoint must exist (see ``take_deferred``)."""
        self.deferred.setdefault(block, set()).add(name)

    def take_deferred(self, block):
        """The names deferred to the end of ``block``, forgotten from now on."""
        return self.deferred.pop(block, set())

    # ---- branches -------------------------------------------------------------
    def snapshot(self):
        """A copy of the whole state, for ``restore``."""
        return dict(self.value), set(self.owned), {k: set(v) for k, v in self.deferred.items()}

    def restore(self, snap):
        value, owned, deferred = snap
        self.value, self.owned, self.deferred = dict(value), set(owned), {k: set(v) for k, v in deferred.items()}

    def owned_snapshot(self):
        return set(self.owned)

    def restore_owned(self, owned):
        self.owned = set(owned)
