"""Training helpers: optimizers, a progress bar, and saving/loading parameters.

Optimizers update a parameter structure IN PLACE: an array, or arrays nested
in lists, tuples, dicts, namedtuples, dataclasses and registered classes
(float leaves of lists, dicts and non-frozen dataclasses are written back
into their container), given a gradient of the same structure (what
``knetc.grad`` returns)::

    opt = Adam(lr=0.001, gclip=5.0)     # or optimizers(w, Adam, lr=0.001)
    for x, y in data:
        g = lossgradient(w, x, y)
        update(w, g, opt)               # or opt.update(w, g)

One optimizer object serves the whole structure and keeps per-array state
(momentum, moments...) in the order of the structure's leaves. ``gclip > 0``
first scales the whole gradient so that its global L2 norm (over all leaves)
is at most ``gclip``. Update rules and default hyper-parameters follow Knet.
"""
import dataclasses
import functools
import json
import math
import numbers
import time

import numpy as np

from .runtime.backend import array_module, is_array, is_cupy_array
from .runtime.structure import GetAttrKey, flatten_one_level, is_namedtuple, is_record, tree_leaves

__all__ = ["Optimizer", "SGD", "Momentum", "Nesterov", "Adagrad", "Rmsprop", "Adadelta", "Adam",
           "sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam",
           "optimizers", "update", "gnorm", "progress", "Progress", "save", "load"]


# --- structures ------------------------------------------------------------------------
def _is_float_leaf(x):
    return isinstance(x, (float, np.floating))


def _pairs(w, g, path="w", store=None):
    """Yield ``(path, w_leaf, g_leaf, store)`` for every trainable leaf of ``w`` in a fixed order.

    Array leaves are updated in place (``store`` is None). A float leaf (``"b": 0.0``) cannot
    be: ``store(value)`` writes its new value back into its list, dict or (non-frozen) dataclass.
    """
    level = flatten_one_level(w)
    if level is not None:
        children, keys, _ = level
        gs = _children_of(g, w, keys)
        for k, v, gk in zip(keys, children, gs):
            yield from _pairs(v, gk, f"{path}{k}", _store(w, k))
    elif is_array(w):
        yield path, w, g, None
    elif w is None or isinstance(w, (str, bool, numbers.Integral)):
        return  # not a trainable value
    elif _is_float_leaf(w) and store is not None:
        yield path, w, g, store
    elif _is_float_leaf(w):
        where = ("not inside a list or dict" if path == "w" else
                 "inside a tuple" if path.endswith("]") else "in a namedtuple or frozen record")
        raise TypeError(f"cannot update {path} in place: it is a float {where}; put it in a list or "
                        f"dict (e.g. w = {{'b': 0.0}}) or make it an array (np.array({w!r}))")
    else:
        raise TypeError(f"cannot update {path} in place: it is a {type(w).__name__}, "
                        f"not an array (keep parameters as arrays, e.g. np.zeros((1, 1)))")


def _children_of(g, w, keys):
    """The gradients of ``w``'s children inside ``g`` (None where ``g`` has none)."""
    if g is None:
        return [None] * len(keys)
    if type(g) is type(w) and is_record(w):
        return flatten_one_level(g)[0]
    out = []
    for k in keys:
        try:
            out.append(g[k.idx])
        except (KeyError, IndexError, TypeError):
            out.append(None)
    return out


def _store(w, key):
    """How to write a new float into ``w`` at ``key``, or None where it cannot be written."""
    if isinstance(w, (list, dict)):
        return functools.partial(w.__setitem__, key.idx)
    if isinstance(key, GetAttrKey) and not isinstance(w, tuple) and not _frozen(w):
        return functools.partial(setattr, w, key.idx)
    return None


def _frozen(w):
    params = getattr(type(w), "__dataclass_params__", None)
    return params is None or params.frozen


def _leaf_grads(g):
    return [leaf for leaf in tree_leaves(g) if leaf is not None]


def gnorm(g):
    """Global L2 norm of a gradient structure (all leaves together)."""
    total = 0.0
    for leaf in _leaf_grads(g):
        if is_array(leaf):
            total += float(array_module(leaf).sum(leaf * leaf))
        else:
            total += float(leaf) ** 2
    return math.sqrt(total)


# --- optimizers ------------------------------------------------------------------------
class Optimizer:
    """Base class: ``update(w, g)`` applies one step to every array leaf of ``w``.

    Subclasses implement ``step(w, g, state)`` for one array, mutating ``w``
    (and the arrays in ``state``) in place; ``init(w)`` returns a new state.
    """

    def __init__(self, lr, gclip=0.0):
        self.lr = lr
        self.gclip = gclip
        self.states = []
        self.t = 0

    def init(self, w):
        return None

    def step(self, w, g, state):
        raise NotImplementedError

    def update(self, w, g):
        """Update the parameters ``w`` in place with the gradient ``g``; returns ``w``.

        Array leaves are updated in place; float leaves of lists and dicts
        (``{"b": 0.0}``) get their new value written back into the container.
        """
        pairs = list(_pairs(w, g))
        scale = 1.0
        if self.gclip and self.gclip > 0:
            norm = gnorm([pg for _, _, pg, _ in pairs])
            if norm > self.gclip:
                scale = self.gclip / norm
        if len(self.states) != len(pairs) or any(
                s is not None and tuple(s[0]) != np.shape(pw) for s, (_, pw, _, _) in zip(self.states, pairs)):
            self.states = [None] * len(pairs)
        self.t += 1
        for i, (path, pw, pg, store) in enumerate(pairs):
            if pg is None:
                continue
            if not is_array(pg):
                pg = float(pg)
                if pg == 0.0:
                    continue
            if scale != 1.0:
                pg = pg * scale
            target = pw if store is None else np.array(pw, dtype=np.float64)
            if self.states[i] is None:
                self.states[i] = (np.shape(pw), self.init(target))
            self.step(target, pg, self.states[i][1])
            if store is not None:
                store(type(pw)(target))
        return w

    def state_dict(self):
        """The optimizer as plain data (class, hyper-parameters, step count, per-leaf state), for :func:`save`."""
        hyper = {k: v for k, v in vars(self).items() if k not in ("states", "t")}
        return {"class": type(self).__name__, "hyper": hyper, "t": self.t,
                "states": [None if s is None else [list(s[0]), list(s[1]) if s[1] is not None else None]
                           for s in self.states]}

    @staticmethod
    def from_state_dict(d):
        """The optimizer :meth:`state_dict` described, its state included (training resumes exactly)."""
        classes = {c.__name__: c for c in _optimizer_classes()}
        cls = classes.get(d["class"])
        if cls is None:
            raise TypeError(f"load: unknown optimizer class {d['class']!r} (known: {', '.join(sorted(classes))})")
        opt = cls(**d["hyper"])
        opt.t = d["t"]
        opt.states = [None if s is None else (tuple(s[0]), s[1]) for s in d["states"]]
        return opt

    def __call__(self, w, g):
        return self.update(w, g)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if k not in ("states", "t"))
        return f"{type(self).__name__}({args})"


def _zeros(w):
    return array_module(w).zeros_like(w)


class SGD(Optimizer):
    """Stochastic gradient descent: ``w -= lr * g``."""

    def __init__(self, lr=0.001, gclip=0.0):
        super().__init__(lr, gclip)

    def step(self, w, g, state):
        w -= self.lr * g


class Momentum(Optimizer):
    """Momentum: ``v = gamma*v + lr*g; w -= v``."""

    def __init__(self, lr=0.001, gamma=0.9, gclip=0.0):
        super().__init__(lr, gclip)
        self.gamma = gamma

    def init(self, w):
        return [_zeros(w)]

    def step(self, w, g, state):
        v = state[0]
        v *= self.gamma
        v += self.lr * g
        w -= v


class Nesterov(Momentum):
    """Nesterov momentum: ``v = gamma*v - lr*g; w += gamma*v - lr*g``."""

    def step(self, w, g, state):
        v = state[0]
        v *= self.gamma
        v -= self.lr * g
        w += self.gamma * v - self.lr * g


class Adagrad(Optimizer):
    """Adagrad: ``G += g^2; w -= lr * g / (sqrt(G) + eps)``."""

    def __init__(self, lr=0.1, eps=1e-6, gclip=0.0):
        super().__init__(lr, gclip)
        self.eps = eps

    def init(self, w):
        return [_zeros(w)]

    def step(self, w, g, state):
        G = state[0]
        G += g * g
        w -= self.lr * g / (array_module(G).sqrt(G) + self.eps)


class Rmsprop(Optimizer):
    """RMSProp: ``G = rho*G + (1-rho)*g^2; w -= lr * g / sqrt(G + eps)``."""

    def __init__(self, lr=0.001, rho=0.9, eps=1e-6, gclip=0.0):
        super().__init__(lr, gclip)
        self.rho = rho
        self.eps = eps

    def init(self, w):
        return [_zeros(w)]

    def step(self, w, g, state):
        G = state[0]
        G *= self.rho
        G += (1 - self.rho) * g * g
        w -= self.lr * g / array_module(G).sqrt(G + self.eps)


class Adadelta(Optimizer):
    """Adadelta: ``G = rho*G + (1-rho)*g^2; d = sqrt(D+eps)/sqrt(G+eps)*g; D = rho*D + (1-rho)*d^2; w -= lr*d``."""

    def __init__(self, lr=1.0, rho=0.9, eps=1e-6, gclip=0.0):
        super().__init__(lr, gclip)
        self.rho = rho
        self.eps = eps

    def init(self, w):
        return [_zeros(w), _zeros(w)]

    def step(self, w, g, state):
        xp = array_module(w)
        G, D = state
        G *= self.rho
        G += (1 - self.rho) * g * g
        d = xp.sqrt(D + self.eps) / xp.sqrt(G + self.eps) * g
        D *= self.rho
        D += (1 - self.rho) * d * d
        w -= self.lr * d


class Adam(Optimizer):
    """Adam: bias-corrected moments ``m, v``; ``w -= lr * mhat / (sqrt(vhat) + eps)``."""

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, gclip=0.0):
        super().__init__(lr, gclip)
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps

    def init(self, w):
        return [_zeros(w), _zeros(w), 0]

    def step(self, w, g, state):
        m, v = state[0], state[1]
        state[2] += 1
        t = state[2]
        m *= self.beta1
        m += (1 - self.beta1) * g
        v *= self.beta2
        v += (1 - self.beta2) * g * g
        mhat = m / (1 - self.beta1 ** t)
        vhat = v / (1 - self.beta2 ** t)
        w -= self.lr * mhat / (array_module(v).sqrt(vhat) + self.eps)


# Lower-case names, Knet style: ``opt = adam(lr=1e-3)``.
sgd, momentum, nesterov, adagrad = SGD, Momentum, Nesterov, Adagrad
rmsprop, adadelta, adam = Rmsprop, Adadelta, Adam


def _optimizer_classes():
    """Optimizer and all its subclasses (user-defined ones included, if imported)."""
    out, todo = [], [Optimizer]
    while todo:
        c = todo.pop()
        out.append(c)
        todo.extend(c.__subclasses__())
    return out


def optimizers(w, otype=Adam, **options):
    """An optimizer of class ``otype`` (e.g. ``SGD``, ``Adam``) for parameters ``w``.

    As Knet's ``optimizers(w, Adam; lr=...)``: ``options`` go to the class
    (``lr``, ``gclip``, ...). The state for ``w``'s arrays is made on the
    first :func:`update`.
    """
    if isinstance(otype, str):
        otype = {c.__name__.lower(): c for c in
                 (SGD, Momentum, Nesterov, Adagrad, Rmsprop, Adadelta, Adam)}[otype.lower()]
    return otype(**options)


def train_epoch(gradient, w, data, opt, desc="train"):
    """One pass over ``data``: ``g = gradient(w, x, y)`` then ``update(w, g, opt)`` per minibatch."""
    for x, y in progress(data, desc=desc, leave=False):
        update(w, gradient(w, x, y), opt)
    return w


def mean_over(fn, w, data):
    """The mean of ``fn(w, x, y)`` over minibatches, weighted by their sizes (loss, accuracy)."""
    total = count = 0.0
    for x, y in data:
        k = y.shape[-1]
        total += float(fn(w, x, y)) * k
        count += k
    return total / count


def update(w, g, opt):
    """Apply one step of optimizer ``opt`` to parameters ``w`` in place (Knet's ``update!``)."""
    return opt.update(w, g)


# --- progress bar ----------------------------------------------------------------------------
class Progress:
    """A tqdm bar over an iterable that can also show the running loss.

    ``bar = progress(data); for x, y in bar: ...; bar.set_loss(l)``. The bar
    shows the iteration speed (tqdm's it/s) and an exponentially smoothed
    loss; ``bar.loss`` is the mean of all losses reported so far.
    """

    def __init__(self, iterable, desc=None, smoothing=0.1, **tqdm_kwargs):
        from tqdm.auto import tqdm
        tqdm_kwargs.setdefault("disable", None)  # no bar when the output is not a terminal
        self.bar = tqdm(iterable, desc=desc, **tqdm_kwargs)
        self.smoothing = smoothing
        self.smoothed = None
        self.total = 0.0
        self.count = 0
        self.start = time.perf_counter()

    def __iter__(self):
        return iter(self.bar)

    def __len__(self):
        return len(self.bar)

    @property
    def loss(self):
        """Mean of the losses reported with :meth:`set_loss` (nan before any)."""
        return self.total / self.count if self.count else float("nan")

    @property
    def elapsed(self):
        """Seconds since the bar was made."""
        return time.perf_counter() - self.start

    def set_loss(self, value):
        """Report one loss value (a float or a 0-d array) to show on the bar."""
        v = float(value)
        self.total += v
        self.count += 1
        a = self.smoothing
        self.smoothed = v if self.smoothed is None else (1 - a) * self.smoothed + a * v
        self.bar.set_postfix_str(f"loss={self.smoothed:.4g}", refresh=False)

    def close(self):
        """Close the bar."""
        self.bar.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def progress(iterable, desc=None, **tqdm_kwargs):
    """Wrap ``iterable`` in a :class:`Progress` bar (tqdm) with ``set_loss``.

    Keyword arguments go to ``tqdm`` (e.g. ``leave=False``); the bar is off
    when the output is not a terminal unless ``disable=False`` is given.
    """
    return Progress(iterable, desc=desc, **tqdm_kwargs)


# --- save / load ---------------------------------------------------------------------------
_SPEC_KEY = "__knetc_structure__"


def _encode(x, arrays):
    if isinstance(x, Optimizer):
        return {"t": "optimizer", "c": _encode(x.state_dict(), arrays)}
    if isinstance(x, dict):
        keys = []
        for k in x:
            if isinstance(k, bool) or not isinstance(k, (str, int)):
                raise TypeError(f"save: dict keys must be str or int, got {k!r}")
            keys.append(["i" if isinstance(k, int) else "s", k])
        return {"t": "dict", "k": keys, "c": [_encode(v, arrays) for v in x.values()]}
    if is_record(x):
        return _encode_record(x, arrays)
    if isinstance(x, (list, tuple)):
        return {"t": "list" if isinstance(x, list) else "tuple", "c": [_encode(v, arrays) for v in x]}
    if is_array(x) or isinstance(x, np.generic):
        a = x.get() if is_cupy_array(x) else np.asarray(x)
        name = f"a{len(arrays)}"
        arrays[name] = a
        return {"t": "array" if is_array(x) else "scalar", "n": name}
    if x is None:
        return {"t": "none"}
    if isinstance(x, bool):
        return {"t": "bool", "v": x}
    if isinstance(x, numbers.Integral):
        return {"t": "int", "v": int(x)}
    if isinstance(x, numbers.Real):
        return {"t": "float", "v": repr(float(x))}
    if isinstance(x, str):
        return {"t": "str", "v": x}
    raise TypeError(f"save: cannot store a value of type {type(x).__name__}")


def _encode_record(x, arrays):
    """A namedtuple, dataclass or registered-class value, with its class's import path."""
    cls = type(x)
    name = f"{cls.__module__}:{cls.__qualname__}"
    if _import_class(name) is not cls:
        raise TypeError(f"save: cannot store a {cls.__qualname__}: load must import its class, so define "
                        f"it at the top level of a module (it is {name})")
    if is_namedtuple(x):
        return {"t": "namedtuple", "cls": name, "c": [_encode(v, arrays) for v in x]}
    if cls in _registered():
        children, meta = _registered()[cls][0](x)
        return {"t": "registered", "cls": name, "m": _encode(meta, arrays),
                "c": [_encode(v, arrays) for v in children]}
    fields = [f.name for f in dataclasses.fields(x)]
    return {"t": "dataclass", "cls": name, "f": fields, "c": [_encode(getattr(x, f), arrays) for f in fields]}


def _registered():
    from .runtime.structure import _REGISTERED
    return _REGISTERED


def _import_class(name):
    import importlib
    module, _, qualname = name.partition(":")
    try:
        obj = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError):
        return None
    return obj


def _decode_record(spec, data):
    cls = _import_class(spec["cls"])
    if cls is None:
        raise TypeError(f"load: cannot import the class {spec['cls']} the file was saved with")
    children = [_decode(c, data) for c in spec["c"]]
    if spec["t"] == "namedtuple":
        return cls(*children)
    if spec["t"] == "registered":
        if cls not in _registered():
            raise TypeError(f"load: {spec['cls']} is not registered with knet.register_tree")
        return _registered()[cls][1](_decode(spec["m"], data), children)
    out = object.__new__(cls)           # as the tree module rebuilds dataclasses: no __init__
    for f, v in zip(spec["f"], children):
        object.__setattr__(out, f, v)
    return out


def _decode(spec, data):
    t = spec["t"]
    if t in ("namedtuple", "dataclass", "registered"):
        return _decode_record(spec, data)
    if t == "optimizer":
        return Optimizer.from_state_dict(_decode(spec["c"], data))
    if t == "dict":
        return {(int(k) if kind == "i" else k): _decode(c, data)
                for (kind, k), c in zip(spec["k"], spec["c"])}
    if t == "list":
        return [_decode(c, data) for c in spec["c"]]
    if t == "tuple":
        return tuple(_decode(c, data) for c in spec["c"])
    if t == "array":
        return data[spec["n"]]
    if t == "scalar":
        return data[spec["n"]][()]
    if t == "none":
        return None
    if t == "float":
        return float(spec["v"])
    return spec["v"]


def save(path, w):
    """Save a parameter structure to ``path`` as a NumPy ``.npz`` file.

    Arrays (CuPy arrays are copied to the CPU), numbers, strings, None and
    optimizers (with their state: moments, step counts), nested in lists,
    tuples, dicts (str or int keys), namedtuples, dataclasses and registered
    classes (defined at a module's top level: load imports them), are stored
    with their nesting;
    :func:`load` gives the same structure back, so a training run resumes
    exactly where it stopped::

        save("checkpoint.npz", {"w": w, "opt": opt, "epoch": epoch})
        ck = load("checkpoint.npz"); w, opt = ck["w"], ck["opt"]

    The file is written at exactly ``path`` (no ``.npz`` is appended).
    """
    arrays = {}
    spec = _encode(w, arrays)
    arrays[_SPEC_KEY] = np.array(json.dumps(spec))
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def load(path):
    """Load a structure written by :func:`save` (arrays come back as NumPy arrays)."""
    with np.load(path, allow_pickle=False) as npz:
        data = {k: npz[k] for k in npz.files}
    spec = json.loads(str(data.pop(_SPEC_KEY)[()]))
    return _decode(spec, data)
