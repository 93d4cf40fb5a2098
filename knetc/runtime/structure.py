"""Trees: the one model of nested parameter structures (after JAX's ``tree_util``).

A tree is a leaf or a node. Nodes are lists, tuples, namedtuples, dicts (in
key order), dataclass instances and instances of classes registered with
:func:`register_tree`; everything else (arrays, floats, ints, None) is a leaf.
Namedtuples, dataclasses and registered classes are *records*: nodes whose
children are read as attributes.

A dataclass's children are its fields, in declaration order, except fields
holding an int, bool, str, bytes or None: those are *static* (part of the
structure, like JAX's meta fields). A static field is a constant: it is not
differentiated, and a gradient carries the argument's own value in it.

Every walk over parameters goes through :func:`flatten_one_level` (one node),
or the whole-tree functions built on it: :func:`tree_flatten`,
:func:`tree_unflatten`, :func:`tree_leaves`, :func:`tree_structure`,
:func:`tree_map` (over several trees), :func:`tree_flatten_with_path` and
:func:`tree_leaves_with_path`. Each takes ``is_leaf=`` to stop early.
"""
import dataclasses

import numpy as np

_REGISTERED = {}     # class -> (flatten, unflatten)
STATIC_TYPES = (int, bool, str, bytes, type(None))   # a dataclass field holding one is static


def register_tree(cls, flatten, unflatten):
    """Let values of ``cls`` be tree nodes: ``flatten(x) -> (children, meta)`` and
    ``unflatten(meta, children) -> x`` (``meta`` must compare with ==).

    Children that ``flatten`` leaves out are constants of the structure: they
    are not differentiated, and ``unflatten`` decides what a gradient holds there.
    """
    _REGISTERED[cls] = (flatten, unflatten)


# The checks look at type(x), never isinstance(x, ...): a traced value answers
# isinstance as the array it stands for, and asking it costs a call.
def is_namedtuple(x):
    """True for an instance of a ``collections.namedtuple`` / ``typing.NamedTuple`` class."""
    cls = type(x)
    return issubclass(cls, tuple) and hasattr(cls, "_fields")


def is_record(x):
    """True for a namedtuple, a dataclass instance or an instance of a registered class."""
    cls = type(x)
    if cls in _LEAF_TYPES:
        return False
    return (cls in _REGISTERED or (issubclass(cls, tuple) and hasattr(cls, "_fields"))
            or hasattr(cls, "__dataclass_fields__"))


def is_node(x):
    """True for any value :func:`flatten_one_level` opens (lists, tuples, dicts, records)."""
    return issubclass(type(x), (list, tuple, dict)) or is_record(x)


# --- path keys -------------------------------------------------------------------------------
class SequenceKey:
    """The position of a child in a list or tuple: prints as ``[i]``."""
    __slots__ = ("idx",)

    def __init__(self, idx):
        self.idx = idx

    def __str__(self):
        return f"[{self.idx}]"

    def __repr__(self):
        return f"SequenceKey({self.idx!r})"

    def __eq__(self, other):
        return type(other) is type(self) and other.idx == self.idx

    def __hash__(self):
        return hash((type(self), self.idx))


class DictKey(SequenceKey):
    """The key of a dict entry: prints as ``['k']``."""
    __slots__ = ()

    def __str__(self):
        return f"[{self.idx!r}]"

    def __repr__(self):
        return f"DictKey({self.idx!r})"


class GetAttrKey(SequenceKey):
    """A record's field: prints as ``.name``."""
    __slots__ = ()

    def __str__(self):
        return f".{self.idx}"

    def __repr__(self):
        return f"GetAttrKey({self.idx!r})"


def keystr(path):
    """A path (tuple of keys) as text: ``['layers'][0].w``."""
    return "".join(map(str, path))


# --- one level ------------------------------------------------------------------------------
_LEAF_TYPES = {np.ndarray, float, int, bool, complex, str, bytes, type(None), np.float64, np.float32, np.int64}


def declare_leaf_type(cls):
    """Values of exactly ``cls`` are always leaves (the walks then skip the node checks)."""
    _LEAF_TYPES.add(cls)


def open_node(x):
    """``(kind, children, rebuild, meta, keys)`` for a node, None for a leaf.

    ``keys(x, children, meta)`` makes the children's path keys (only walks
    with paths ask for them); ``kind`` and ``meta`` make the node's TreeSpec.
    """
    cls = type(x)
    if cls is list:
        return list, x, list, len(x), _position_keys
    if cls is tuple:
        return tuple, x, tuple, len(x), _position_keys
    if cls is dict:
        names = tuple(x)
        return dict, [x[k] for k in names], lambda c: dict(zip(names, c)), names, _dict_keys
    if cls in _LEAF_TYPES:
        return None
    if cls in _REGISTERED:
        flatten, unflatten = _REGISTERED[cls]
        children, meta = flatten(x)
        return cls, list(children), lambda c: unflatten(meta, list(c)), meta, _position_keys
    if issubclass(cls, tuple) and hasattr(cls, "_fields"):
        return cls, x, lambda c: cls(*c), len(x), _namedtuple_keys
    if hasattr(cls, "__dataclass_fields__"):
        names = data_fields(x)
        statics = tuple((n, getattr(x, n)) for n in static_fields(x))
        return (cls, [getattr(x, n) for n in names], lambda c: _new_dataclass(cls, names, statics, c),
                (tuple(names), statics), _field_keys)
    if issubclass(cls, dict):        # dict subclasses: rebuilt as plain dicts
        names = tuple(x)
        return dict, [x[k] for k in names], lambda c: dict(zip(names, c)), names, _dict_keys
    if issubclass(cls, (list, tuple)):   # list and tuple subclasses: rebuilt as plain ones
        kind = list if issubclass(cls, list) else tuple
        return kind, list(x), kind, len(x), _position_keys
    return None


def _position_keys(x, children, meta):
    return [SequenceKey(i) for i in range(len(children))]


def _dict_keys(x, children, meta):
    return [DictKey(k) for k in meta]


def _namedtuple_keys(x, children, meta):
    return [GetAttrKey(f) for f in type(x)._fields]


def _field_keys(x, children, meta):
    return [GetAttrKey(n) for n in meta[0]]


def flatten_one_level(x):
    """``(children, keys, rebuild)`` for a node, or None for a leaf.

    ``rebuild(children)`` makes a node of ``x``'s type with new children (for
    a dataclass, its static fields keep ``x``'s values); ``keys`` are the
    children's path keys (``GetAttrKey`` for a record's named fields,
    ``SequenceKey`` for a registered class's children).
    """
    node = open_node(x)
    if node is None:
        return None
    _, children, rebuild, meta, keys = node
    return list(children), keys(x, children, meta), rebuild


def data_fields(x):
    """The names of a dataclass instance's fields that are children (not static)."""
    return [f.name for f in dataclasses.fields(x)
            if hasattr(x, f.name) and not isinstance(getattr(x, f.name), STATIC_TYPES)]


def static_fields(x):
    """The names of a dataclass instance's static fields (int, bool, str, bytes, None)."""
    return [f.name for f in dataclasses.fields(x)
            if hasattr(x, f.name) and isinstance(getattr(x, f.name), STATIC_TYPES)]


def _new_dataclass(cls, names, statics, children):
    """An instance of the dataclass ``cls`` with ``children`` in the fields ``names``
    and the ``(name, value)`` pairs ``statics``.

    Built without calling ``__init__``/``__post_init__`` (which may validate or
    derive values): a tree's structure is its fields. Frozen classes too.
    """
    out = object.__new__(cls)
    for n, v in statics:
        object.__setattr__(out, n, v)
    for n, c in zip(names, children):
        object.__setattr__(out, n, c)
    return out


# --- whole trees ----------------------------------------------------------------------------
class TreeSpec:
    """The shape of a structure without its leaves (compares with ==)."""

    __slots__ = ("kind", "meta", "children", "_rebuild")

    def __init__(self, kind, meta, children, rebuild=None):
        self.kind, self.meta, self.children, self._rebuild = kind, meta, tuple(children), rebuild

    def __eq__(self, other):
        return (isinstance(other, TreeSpec) and self.kind == other.kind and meta_equal(self.meta, other.meta)
                and self.children == other.children)

    def __hash__(self):
        return hash((self.kind, self.children))

    def __repr__(self):
        if self.kind == "leaf":
            return "*"
        return f"{getattr(self.kind, '__name__', self.kind)}({', '.join(map(repr, self.children))})"

    @property
    def num_leaves(self):
        """How many leaves a tree of this structure has."""
        return 1 if self.kind == "leaf" else sum(c.num_leaves for c in self.children)


_LEAF = TreeSpec("leaf", None, ())


def meta_equal(a, b):
    """Whether two nodes' metadata are equal (arrays in it compare by value)."""
    if a is b:
        return True
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(meta_equal(x, y) for x, y in zip(a, b))
    try:
        return bool(a == b)
    except (ValueError, TypeError):     # arrays: == is elementwise
        return type(a) is type(b) and np.shape(a) == np.shape(b) and bool(np.all(a == b))


def _flatten(x, leaves, is_leaf, path, paths):
    node = None if is_leaf is not None and is_leaf(x) else open_node(x)
    if node is None:
        leaves.append(x)
        if paths is not None:
            paths.append(path)
        return _LEAF
    kind, children, rebuild, meta, keys = node
    if paths is None:
        specs = [_flatten(c, leaves, is_leaf, path, None) for c in children]
    else:
        specs = [_flatten(c, leaves, is_leaf, path + (k,), paths)
                 for c, k in zip(children, keys(x, children, meta))]
    return TreeSpec(kind, meta, specs, rebuild)


def tree_flatten(x, is_leaf=None):
    """``(leaves, spec)``: the leaves of ``x`` in order and its structure.

    ``is_leaf(node)`` returning True makes that node a leaf.
    """
    leaves = []
    return leaves, _flatten(x, leaves, is_leaf, (), None)


def tree_flatten_with_path(x, is_leaf=None):
    """``([(path, leaf), ...], spec)``; a path is a tuple of keys (see :func:`keystr`)."""
    leaves, paths = [], []
    spec = _flatten(x, leaves, is_leaf, (), paths)
    return list(zip(paths, leaves)), spec


def tree_leaves_with_path(x, is_leaf=None):
    """``[(path, leaf), ...]`` in order."""
    return tree_flatten_with_path(x, is_leaf)[0]


def tree_leaves(x, is_leaf=None):
    """The leaves of ``x`` in order."""
    if is_leaf is not None:
        return tree_flatten(x, is_leaf)[0]
    out = []
    _collect(x, out)
    return out


def _collect(x, out):
    """The leaves of ``x`` appended to ``out``, without building a spec."""
    cls = type(x)
    if cls in _LEAF_TYPES:
        out.append(x)
        return
    if cls is list or cls is tuple:
        for v in x:
            _collect(v, out)
        return
    if cls is dict:
        for v in x.values():
            _collect(v, out)
        return
    node = open_node(x)
    if node is None:
        out.append(x)
        return
    for v in node[1]:
        _collect(v, out)


def tree_structure(x, is_leaf=None):
    """The :class:`TreeSpec` of ``x``."""
    return tree_flatten(x, is_leaf)[1]


def tree_unflatten(spec, leaves):
    """The structure ``spec`` with ``leaves`` (any iterable) filled in."""
    return _unflatten(spec, iter(leaves))


def _unflatten(spec, it):
    if spec.kind == "leaf":
        return next(it)
    children = [_unflatten(c, it) for c in spec.children]
    if spec._rebuild is not None:
        return spec._rebuild(children)
    return _rebuild_by_kind(spec, children)


def _rebuild_by_kind(spec, children):
    """A node from a spec made by hand (no rebuild function): by its kind and metadata."""
    kind, meta = spec.kind, spec.meta
    if kind is dict:
        return dict(zip(meta, children))
    if kind is list:
        return children
    if kind is tuple:
        return tuple(children)
    if kind in _REGISTERED:
        return _REGISTERED[kind][1](meta, children)
    if dataclasses.is_dataclass(kind):
        names, statics = meta
        return _new_dataclass(kind, list(names), statics, children)
    return kind(*children)          # a namedtuple


def tree_map(fun, tree, *rest, is_leaf=None):
    """``fun`` applied to each leaf of ``tree`` and the matching leaves of ``rest``.

    The trees in ``rest`` must have ``tree``'s structure (a ValueError says where not).
    """
    if not rest:
        return _map(fun, tree, is_leaf)
    leaves, spec = tree_flatten(tree, is_leaf)
    others = []
    for r in rest:
        r_leaves, r_spec = tree_flatten(r, is_leaf)
        if r_spec != spec:
            raise ValueError(f"knetc.tree_map: the trees differ in structure: {spec} and {r_spec}")
        others.append(r_leaves)
    return tree_unflatten(spec, [fun(*args) for args in zip(leaves, *others)])


def _map(fun, x, is_leaf):
    """tree_map over one tree, without building its spec."""
    if is_leaf is None:             # the common containers first: this walk is on the tape's path
        cls = type(x)
        if cls is list:
            return [_map(fun, v, None) for v in x]
        if cls is dict:
            return {k: _map(fun, v, None) for k, v in x.items()}
        if cls is tuple:
            return tuple([_map(fun, v, None) for v in x])
        if cls in _LEAF_TYPES:
            return fun(x)
    node = None if is_leaf is not None and is_leaf(x) else open_node(x)
    if node is None:
        return fun(x)
    return node[2]([_map(fun, c, is_leaf) for c in node[1]])
