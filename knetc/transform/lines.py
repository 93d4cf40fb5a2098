"""Emitted lines, typed: each says what kind of statement it is and what it binds.

The emitters build :class:`Lines`; the assembly (compiler.py) reads the kinds
and targets instead of parsing the text back.
"""
from dataclasses import dataclass

# kinds of lines
ASSIGN = "assign"        # name = value (targets: the name)
RESTORE = "restore"      # name = _stack.pop(): a saved value comes back
AUGMENTED = "augmented"  # name += value
ITEM = "item"            # obj[i] = value, obj[i] += value
CALL = "call"            # an expression statement (add_at(...), xs.append(...))
CONTROL = "control"      # if ...:, else:, for ... in ...:, while ...:, break, pass
COMMENT = "comment"
DEF = "def"              # source of a nested def, as written


@dataclass(frozen=True)
class Line:
    indent: int
    text: str
    line: int = 0            # the user's line it came from (0: none)
    kind: str = CALL
    targets: tuple = ()      # names it binds
    # what settle.py needs to decide which lines stay:
    pending: str = None      # the line stays only if the pullback reads this name (a restore)
    reads: tuple = ()        # names it reads that count only if it stays (a block header)
    negated: str = None      # an ``if`` header to use instead when only its else branch stays
    content: bool = True     # False: the line alone does not keep its block (a recomputation)


class Lines:
    """Generated source lines, each with the user's line it came from."""

    def __init__(self):
        self.items = []
        self.last_comment = None

    def add(self, indent, text, line=0, kind=CALL, targets=(), **settle):
        self.items.append(Line(indent, text, line, kind, tuple(targets), **settle))

    def assign(self, indent, target, value, line=0):
        """``target = value``."""
        self.add(indent, f"{target} = {value}", line, ASSIGN, (target,))

    def augment(self, indent, target, value, line=0):
        """``target += value``."""
        self.add(indent, f"{target} += {value}", line, AUGMENTED, (target,))

    def restore(self, indent, target, stack, line=0):
        """``target = stack.pop()``, kept only if the pullback reads ``target`` (see settle.py)."""
        self.add(indent, f"{target} = {stack}.pop()", line, RESTORE, (target,), pending=target)

    def item(self, indent, text, line=0):
        """An assignment into an element (``d[i] = ...``): binds no name."""
        self.add(indent, text, line, ITEM)

    def control(self, indent, head, line=0, targets=(), **settle):
        """A block header (``if c:``, ``for i in seq:``) or ``break``/``pass``."""
        self.add(indent, head, line, CONTROL, targets, **settle)

    def comment(self, indent, text, line=0):
        self.add(indent, f"# {text}", line, COMMENT)

    def extend(self, other):
        self.items.extend(other.items)

    def __len__(self):
        return len(self.items)


def bound_names(lines):
    """The names the lines bind (assignments, restores, loop targets)."""
    return {t for ln in lines.items for t in ln.targets}
