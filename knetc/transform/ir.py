"""The compiler's intermediate representation: one operation per statement.

Operands are *atoms*, typed: a :class:`Local` name, a :class:`Literal`
(which keeps its value, so nothing needs to evaluate source text), or a
:class:`Global` reference (``np.pi``). Atoms are ``str`` subclasses whose text
is the source they stand for, so they can be compared with plain names.
Expressions name the callable they apply, so analyses and the reverse-mode
emitter can look their rules up; an :class:`Op` renders its source from its
``form`` and its current arguments, so a pass that replaces an argument never
patches text.
"""
from dataclasses import dataclass, field
from typing import Any, Optional


# ---- atoms ---------------------------------------------------------------
class Atom(str):
    """An operand, as the source text it stands for."""


class Local(Atom):
    """A local variable of the function (a temporary included)."""


class Global(Atom):
    """A reference to a global or a module attribute (``np``, ``np.pi``)."""


class Literal(Atom):
    """A constant: its text is ``repr(value)`` (``...`` for Ellipsis)."""

    def __new__(cls, value):
        self = super().__new__(cls, "..." if value is Ellipsis else repr(value))
        self.value = value
        return self

    def __reduce__(self):
        return Literal, (self.value,)


LITERAL_TYPES = (type(None), bool, int, float, complex, str, bytes, type(Ellipsis))


def literal_value(atom, default=None):
    """The value of a :class:`Literal` atom, else ``default``."""
    return atom.value if isinstance(atom, Literal) else default


def is_int_literal(atom):
    """True for a literal ``int`` (not a bool)."""
    return isinstance(atom, Literal) and type(atom.value) is int


# ---- operation forms --------------------------------------------------------
# An Op's primal source is a tuple of parts: text, an int (the argument at that
# position) or ("kw", name) (that keyword's atom).
def call_form(callee, nargs, kwnames=(), first=0):
    """``callee(a0, a1, k=v)`` with arguments ``first``.. ``first + nargs - 1`` and keywords."""
    parts = [f"{callee}("]
    items = [i for i in range(first, first + nargs)] + [("kw", k) for k in kwnames]
    for j, item in enumerate(items):
        if j:
            parts.append(", ")
        if isinstance(item, tuple):
            parts.append(f"{item[1]}=")
        parts.append(item)
    parts.append(")")
    return tuple(parts)


def method_form(method, nargs, kwnames=()):
    """``a0.method(a1, ..., k=v)``: the object is argument 0."""
    return (0, f".{method}") + call_form("", nargs, kwnames, first=1)


def render(form, args, kwargs=(), replace=None):
    """The source of ``form`` with its arguments' atoms; ``replace`` maps an argument
    position (or keyword name) to other text put in its place."""
    replace = replace or {}
    by_name = dict(kwargs)
    out = []
    for part in form:
        if isinstance(part, int):
            out.append(replace.get(part, args[part]))
        elif isinstance(part, tuple):
            out.append(replace.get(part[1], by_name[part[1]]))
        else:
            out.append(part)
    return "".join(out)


# ---- expressions (right-hand sides) ----------------------------------------
@dataclass
class Copy:
    """``target = src``."""
    src: str


@dataclass
class Op:
    """An operator or a call with a derivative rule (or none at all).

    ``form`` is the primal source with the places of the arguments (see
    ``call_form``); ``text`` renders it (``a + b``, ``np.tanh(a)``,
    ``x.sum(axis=0)``); ``fun`` the callable whose rule applies;
    ``args``/``kwargs`` the atoms the rule receives (for a method, the object
    comes first).
    """
    form: tuple
    fun: Any
    args: list
    kwargs: list = field(default_factory=list)   # [(name, atom)]
    label: str = ""                             # e.g. 'np.tanh', for messages

    @property
    def text(self):
        return render(self.form, self.args, self.kwargs)

    def text_with(self, replace):
        """The primal source with other text in some argument places (position or keyword)."""
        return render(self.form, self.args, self.kwargs, replace)


@dataclass
class Subscript:
    """``target = obj[index]``."""
    obj: str
    index_src: str      # as written, with atoms: 'i, 1:n'
    index_value: str    # as a value: '(i, slice(1, n, None))'
    basic: bool         # no arrays or masks in the index
    atoms: list         # atoms used inside the index


@dataclass
class Build:
    """``target = [a, b]`` / ``(a, b)`` / ``{k: v}``."""
    kind: str           # 'list', 'tuple' or 'dict'
    elts: list          # atoms (values)
    keys: list = None   # for dicts: key atoms


@dataclass
class HelperCall:
    """A call of a user function: it gets its own generated vjp."""
    func: str           # atom or global reference text naming the callable
    args: list
    kwargs: list = field(default_factory=list)
    fun: Any = None     # the object it resolved to at compile time (None for locals)
    free: list = field(default_factory=list)   # local names a nested def closes over
    mutated: list = field(default_factory=list)  # argument atoms the callee writes into
    array_writes: list = field(default_factory=list)  # argument atoms it may update in place as arrays
    outside: str = ""   # what the callee writes outside its locals (a global, an attribute), if known


@dataclass
class Const:
    """A value with no derivative: ``text`` is evaluated as written."""
    text: str
    atoms: list = field(default_factory=list)
    kind: str = "unknown"   # 'array' for NumPy constructors such as np.zeros


# ---- statements -------------------------------------------------------------
@dataclass
class Stmt:
    line: int = 0


@dataclass
class Assign(Stmt):
    """``target = expr``; ``write`` says when it models a write into the object
    ``target`` held ('augmented' for ``a += b``, 'item' for ``a[i] = v`` on an
    array, compiled as a functional update): the fence checks those."""
    target: str = ""
    expr: Any = None
    write: str = ""


@dataclass
class SetItem(Stmt):
    """``obj[index] = value`` on a list or dict (arrays become Assign)."""
    obj: str = ""
    index_src: str = ""
    index_value: str = ""
    atoms: list = field(default_factory=list)
    value: str = ""
    old: str = ""       # for ``obj[i] += v``: the atom holding the element read before
    previous: str = ""  # the atom holding the element it replaces (see sequences.keep_replaced)


@dataclass
class Append(Stmt):
    """``obj.append(value)``; with ``pop``, ``obj.pop()`` after ``value = obj[-1]``
    (its reverse appends a zero slot for ``value``'s adjoint to land in)."""
    obj: str = ""
    value: str = ""
    pop: bool = False


@dataclass
class Effect(Stmt):
    """A statement kept for its side effect only (``print(loss)``).

    ``call`` names the callable for messages; ``vetted`` is True for the
    effects known to read their arguments only (print, assert, raise).
    """
    text: str = ""
    atoms: list = field(default_factory=list)
    call: str = ""
    vetted: bool = False


@dataclass
class If(Stmt):
    test: str = ""
    body: list = field(default_factory=list)
    orelse: list = field(default_factory=list)


@dataclass
class For(Stmt):
    """``for target in seq`` over a sequence with no derivative (indices, ranges)."""
    target: str = ""
    seq: str = ""
    body: list = field(default_factory=list)
    brk: Optional[str] = None       # break flag checked at the top of each iteration
    count: Optional[str] = None     # iterations run, when brk is set
    iterables: list = field(default_factory=list)   # the containers iterated over (for x in xs)


@dataclass
class While(Stmt):
    """``while True`` whose exit is the ``brk`` flag; ``count`` iterations run.

    ``guarded``: the body is the test's statements, then ``if test: <body>
    else: brk = True`` (a ``while`` with no jump of its own, see jumps.py).
    """
    body: list = field(default_factory=list)
    brk: str = ""
    count: str = ""
    guarded: bool = False


@dataclass
class LocalDef(Stmt):
    """A nested ``def`` or a lambda bound to a name inside the function."""
    name: str = ""
    text: str = ""      # its source, emitted unchanged in the primal
    free: list = field(default_factory=list)     # enclosing locals it reads
    writes: list = field(default_factory=list)   # enclosing locals it writes into (s.append, s[i] =)
    scoped: str = ""    # 'nonlocal' or 'global' when its body rebinds an outer name
    fresh: bool = False  # every return builds a new value (never an argument or a view of one)


def walk(stmts):
    """Every statement in ``stmts``, nested ones included, in program order."""
    for s in stmts:
        yield s
        if isinstance(s, If):
            yield from walk(s.body)
            yield from walk(s.orelse)
        elif isinstance(s, (For, While)):
            yield from walk(s.body)


def blocks(stmts):
    """Every statement list in ``stmts``: itself, then the bodies of its ifs and loops (nested too)."""
    yield stmts
    for s in stmts:
        if isinstance(s, If):
            yield from blocks(s.body)
            yield from blocks(s.orelse)
        elif isinstance(s, (For, While)):
            yield from blocks(s.body)


def reads(expr):
    """The atoms an expression reads."""
    if isinstance(expr, Copy):
        return [expr.src]
    if isinstance(expr, Op):
        return list(expr.args) + [a for _, a in expr.kwargs]
    if isinstance(expr, Subscript):
        return [expr.obj] + list(expr.atoms)
    if isinstance(expr, Build):
        return list(expr.elts) + list(expr.keys or [])
    if isinstance(expr, HelperCall):
        return [expr.func] + list(expr.args) + [a for _, a in expr.kwargs] + list(expr.free)
    if isinstance(expr, Const):
        return list(expr.atoms)
    return []


def build_text(kind, elts, keys=None):
    """Source of a list, tuple or dict display of the atoms ``elts`` (``keys`` for a dict)."""
    if kind == "list":
        return f"[{', '.join(elts)}]"
    if kind == "tuple":
        return f"({', '.join(elts)}{',' if len(elts) == 1 else ''})"
    return "{" + ", ".join(f"{k}: {v}" for k, v in zip(keys, elts)) + "}"


def plain_assignment(s):
    """The primal line of an Assign whose expression is not a helper call, or None for one."""
    e, t = s.expr, s.target
    if isinstance(e, Copy):
        return f"{t} = {e.src}"
    if isinstance(e, (Op, Const)):
        return f"{t} = {e.text}"
    if isinstance(e, Subscript):
        return f"{t} = {e.obj}[{e.index_src}]"
    if isinstance(e, Build):
        return f"{t} = {build_text(e.kind, e.elts, e.keys)}"
    return None
