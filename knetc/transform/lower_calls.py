"""Lowering of calls: what a call resolves to decides its IR.

Part of the lowering (see lower.py). Consumes a gast call; returns an
``ir.Op`` for a function with a derivative rule (its arguments bound the way
the rule models them, unmodelled options refused), an ``ir.Const`` for a
constant-valued function, an ``ir.HelperCall`` for the user's own function
(compiled as a helper) or a local function value. Calls that write into
their arguments, read code by name or write outside their locals are refused.
"""
import builtins as _builtins
import inspect
import types

import gast
import numpy as np

from ..runtime import binding, numpy_rules
from ..runtime.creation import CREATION
from ..runtime.rules import Primitive, is_nondiff, rule_for
from . import ir
from .effects import (MUTATING_FUNCTIONS, MUTATING_METHODS, array_written_params, mutated_params,
                      writes_outside)
from .lower_names import unparse
from .packages import in_packages
from .resolve import MISSING, dotted_name, resolve_dotted

METHODS = numpy_rules.METHODS
BUILTINS = numpy_rules.BUILTINS

# Calls that read or run code by name: what they compute is invisible to the compiler.
_INTROSPECTION = frozenset({_builtins.eval, _builtins.exec, _builtins.locals, _builtins.globals,
                            _builtins.vars, _builtins.compile, _builtins.__import__})


def is_user_function(obj):
    """A plain Python function of the user's (compiled as a helper)."""
    if isinstance(obj, Primitive) or rule_for(obj) is not None or is_nondiff(obj):
        return False
    if not isinstance(obj, types.FunctionType):
        return False
    module = getattr(obj, "__module__", "") or ""
    # library functions are primitives: their source is never compiled (those without a rule
    # are an error at the differentiated call, naming the user's line)
    return not (in_packages(module, ("numpy", "knetc.runtime", "cupy", "scipy"))
                or binding.is_library_file(obj.__code__.co_filename))


class CallLowering:
    """Call lowering of :class:`~knetc.transform.lower.Lowerer`."""

    def call(self, node):
        for a in node.args:
            if isinstance(a, gast.Starred):
                self.fail("a starred argument (*args)", a)
        if any(k.arg is None for k in node.keywords):
            self.fail("keyword unpacking (**kwargs)", node)
        for k in node.keywords:
            if k.arg == "out" and not (isinstance(k.value, gast.Constant) and k.value.value is None):
                self.fail(f"out= in a call of {unparse(node.func)}", node,
                          "writing into an existing array is not modelled: use the returned value")
        func = node.func
        on_device = self._creation_call(func)
        if on_device is None and isinstance(func, gast.Attribute) and not (
                dotted_name(func) and dotted_name(func).split(".")[0] not in self.locals):
            return self.method_call(node, func)
        if isinstance(func, gast.Name) and func.id in self.locals:
            args, kwargs = self.arguments(node)
            params, written = self.local_writes.get(func.id, ([], ()))
            return ir.HelperCall(func.id, args, kwargs, free=list(self.local_defs.get(func.id, [])),
                                 mutated=self._mutated_atoms(params, written, args, kwargs))
        dotted = dotted_name(func)
        if dotted is None:
            self.fail("a call of a computed function", node,
                      "call a function by name, e.g. f = w[0]; f(x)")
        obj = on_device if on_device is not None else resolve_dotted(self.scope, dotted)
        if obj is MISSING:
            self.fail(f"the name {dotted!r}, which is not defined", node)
        obj = BUILTINS.get(obj, obj) if _hashable(obj) else obj
        self._refuse_in_place(obj, dotted, node)
        if _hashable(obj) and obj in _INTROSPECTION:
            self.fail(f"{dotted}()", node, "it reads or runs code by name, which the compiler cannot "
                                           "see (the tape differentiates it: mode='auto')")
        args, kwargs = self.arguments(node)
        args, kwargs = self.bound_to_rule(obj, args, kwargs, node)
        callee = dotted
        if is_user_function(obj):
            code = obj.__code__
            if code.co_flags & (inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR):
                self.fail(f"calling the generator or async function {dotted}", node)
            params = list(code.co_varnames[:code.co_argcount])
            written = mutated_params(obj)
            return ir.HelperCall(dotted, args, kwargs, fun=obj,
                                 mutated=self._mutated_atoms(params, written, args, kwargs),
                                 array_writes=self._mutated_atoms(params, array_written_params(obj),
                                                                  args, kwargs),
                                 outside=writes_outside(obj) or "")
        if _hashable(obj) and obj in CREATION:
            # np.zeros(...) has no array argument to dispatch on: build it with the
            # module of the function's arguments (NumPy or CuPy), see runtime/creation.py
            if self.device_module is None:
                self.device_module = self.names.fresh("xp")
                self.locals.add(self.device_module)
            callee = f"{self.device_module}.{CREATION[obj]}"
        text = f"{callee}({_arglist(args, kwargs)})"
        if is_nondiff(obj):
            module = getattr(obj, "__module__", None) or ("numpy" if type(obj).__name__ == "ufunc" else "")
            kind = "array" if in_packages(module, ("numpy", "cupy")) else "unknown"
            return ir.Const(text, args + [a for _, a in kwargs], kind)
        return ir.Op(ir.call_form(callee, len(args), [k for k, _ in kwargs]), obj, args, kwargs, label=dotted)

    def _creation_call(self, func):
        """The NumPy function of ``xp.name`` where ``xp = creation_module(...)`` (generated code,
        such as the tangent program a Hessian-vector product reverses: xp is NumPy or CuPy)."""
        if not (isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name)
                and func.value.id in self.creation_locals):
            return None
        obj = getattr(np, func.attr, None)
        return obj if callable(obj) else None

    def _refuse_in_place(self, obj, dotted, node):
        """A call that writes into one of its arguments or into a global object."""
        name = getattr(obj, "__name__", None)
        owner = getattr(obj, "__self__", None)
        if (name in MUTATING_FUNCTIONS and (isinstance(owner, np.ufunc) or name != "at")
                and rule_for(obj) is None and not is_user_function(obj)):
            self.fail(f"{dotted}(), which writes into its argument", node,
                      "in-place updates are not modelled: build a new array instead")
        if (name in MUTATING_METHODS and owner is not None and not isinstance(owner, types.ModuleType)
                and isinstance(obj, (types.BuiltinMethodType, types.MethodType))):
            self.fail(f"{dotted}(), which writes into {dotted.rsplit('.', 1)[0]}", node,
                      "the compiler models writes into the function's own local lists and dicts only")
        if isinstance(obj, np.ufunc) and len(node.args) > obj.nin:
            self.fail(f"{dotted}() with an output argument", node,
                      "writing into an existing array is not modelled: use the returned value")

    def _mutated_atoms(self, params, written, args, kwargs):
        """Call-site atoms bound to parameters the callee writes into (callee order)."""
        by_name = dict(kwargs)
        out = []
        for p in written:
            i = params.index(p)
            atom = args[i] if i < len(args) else by_name.get(p)
            if atom in self.locals and atom not in out:
                out.append(atom)
        return out

    def bound_to_rule(self, fun, args, kwargs, node):
        """The call's atoms, refused where ``fun``'s rule does not model an argument.

        A differentiated argument passed by keyword moves to its position
        (see :mod:`knetc.runtime.binding`); values the compiler cannot see
        are unknown, so an unmodelled option is refused unless it is a literal
        None or default.
        """
        rule = rule_for(fun) if _hashable(fun) else None
        if rule is None:
            return args, kwargs
        moved, kw = binding.canonical(rule, args, dict(kwargs), fill=_literal_atom)
        found = binding.unmodelled(rule, [self._value_of(a) for a in moved],
                                   {k: self._value_of(a) for k, a in kw.items()})
        if found is not None:
            what, why = found
            self.fail(f"{rule.name} with {what}", node, why)
        if binding.plan_of(rule).ufunc_nin is not None:
            # defaults (and order=) need not reach a ufunc's VJP; a declared option must (vecdot's axis=)
            kw = {k: a for k, a in kw.items() if k in (rule.keywords or ())}
        return list(moved), list(kw.items())

    def _value_of(self, atom):
        """The value of a literal or global atom; binding.UNKNOWN for a local."""
        if isinstance(atom, ir.Literal):
            return atom.value
        if atom in self.locals or atom.split(".")[0] in self.locals:
            return binding.UNKNOWN
        obj = resolve_dotted(self.scope, atom)
        return binding.UNKNOWN if obj is MISSING else obj

    def method_call(self, node, func):
        if (func.attr == "pop" and not node.args and not node.keywords and isinstance(func.value, gast.Name)
                and func.value.id in self.locals):
            # v = hs.pop(): v = hs[-1]; then the last element goes (modelled as the reverse of append)
            obj = func.value.id
            value = self.temp(ir.Subscript(obj, "-1", "-1", True, []), node)
            self.emit(ir.Append(obj=obj, value=value, pop=True), node)
            return ir.Copy(value)
        if func.attr in MUTATING_METHODS or func.attr in MUTATING_FUNCTIONS:
            self.fail(f"the in-place method .{func.attr}()", node,
                      "the compiler models list.append, list.extend (as statements) and list.pop() on "
                      "a local list, and item assignment; build a new value instead")
        obj = self.atom(func.value)
        args, kwargs = self.arguments(node)
        fun = METHODS.get(func.attr)
        if fun is not None:
            full, kwargs = self.bound_to_rule(fun, [obj] + args, kwargs, node)
            args = full[1:]
        text = f"{obj}.{func.attr}({_arglist(args, kwargs)})"
        if fun is not None and is_nondiff(fun):
            return ir.Const(text, [obj] + args + [a for _, a in kwargs])
        return ir.Op(ir.method_form(func.attr, len(args), [k for k, _ in kwargs]), fun, [obj] + args, kwargs,
                     label=f".{func.attr}()")

    def arguments(self, node):
        args = [self.atom(a) for a in node.args]
        kwargs = [(k.arg, self.atom(k.value)) for k in node.keywords]
        return args, kwargs


def _arglist(args, kwargs):
    return ", ".join(list(args) + [f"{k}={v}" for k, v in kwargs])


def _literal_atom(value):
    """The atom of a default value moved into a call (binding.canonical): a literal."""
    if not _is_literal_value(value):
        raise ValueError(f"{value!r} is not a literal")
    return ir.Literal(value)


def _is_literal_value(value):
    if isinstance(value, (tuple, list)):
        return all(_is_literal_value(v) for v in value)
    if isinstance(value, dict):
        return all(_is_literal_value(k) and _is_literal_value(v) for k, v in value.items())
    if type(value) is float or type(value) is complex:     # repr(nan) is not source
        return np.isfinite(value)
    return type(value) in ir.LITERAL_TYPES


def _hashable(obj):
    try:
        hash(obj)
        return True
    except TypeError:
        return False
