"""Saving and loading parameter structures and optimizers (``.npz``, no pickle)."""
import dataclasses
import importlib
import json
import numbers

import numpy as np

from ..runtime.backend import is_array, is_cupy_array
from ..runtime.structure import _REGISTERED, is_namedtuple, is_record
from .optimizers import Optimizer


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
    if cls in _REGISTERED:
        children, meta = _REGISTERED[cls][0](x)
        return {"t": "registered", "cls": name, "m": _encode(meta, arrays),
                "c": [_encode(v, arrays) for v in children]}
    fields = [f.name for f in dataclasses.fields(x)]
    return {"t": "dataclass", "cls": name, "f": fields, "c": [_encode(getattr(x, f), arrays) for f in fields]}


def _import_class(name):
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
        if cls not in _REGISTERED:
            raise TypeError(f"load: {spec['cls']} is not registered with knet.register_tree")
        return _REGISTERED[cls][1](_decode(spec["m"], data), children)
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
