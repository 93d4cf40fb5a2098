"""Optimizers: one object updates a whole parameter structure in place (see :mod:`knetc.train`)."""
import functools
import math
import numbers

import numpy as np

from ..runtime.backend import module_of, is_array
from ..runtime.structure import GetAttrKey, flatten_one_level, is_record, tree_leaves


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
            total += float(module_of(leaf).sum(leaf * leaf))
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
    return module_of(w).zeros_like(w)


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
        w -= self.lr * g / (module_of(G).sqrt(G) + self.eps)


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
        w -= self.lr * g / module_of(G).sqrt(G + self.eps)


class Adadelta(Optimizer):
    """Adadelta: ``G = rho*G + (1-rho)*g^2; d = sqrt(D+eps)/sqrt(G+eps)*g; D = rho*D + (1-rho)*d^2; w -= lr*d``."""

    def __init__(self, lr=1.0, rho=0.9, eps=1e-6, gclip=0.0):
        super().__init__(lr, gclip)
        self.rho = rho
        self.eps = eps

    def init(self, w):
        return [_zeros(w), _zeros(w)]

    def step(self, w, g, state):
        xp = module_of(w)
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
        w -= self.lr * mhat / (module_of(v).sqrt(vhat) + self.eps)


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


def update(w, g, opt):
    """Apply one step of optimizer ``opt`` to parameters ``w`` in place (Knet's ``update!``)."""
    return opt.update(w, g)
