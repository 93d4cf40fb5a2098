"""Normalisation: lower a gast function body to the one-operation IR.

Every compound expression gets named temporaries (``_t1``, ``_t2``...), calls
are classified by what they resolve to (a rule, a constant-valued function,
the user's own helper), loops become loops over index sequences, and
tuple unpacking becomes indexing.
"""
import ast
import inspect
import types
import warnings

import gast
import numpy as np

from ..runtime import binding, numpy_rules
from ..runtime.creation import CREATION
from ..runtime.rules import Primitive, is_nondiff, rule_for
from . import ir
from .containers import extend_stmts
from .effects import (MUTATING_FUNCTIONS, MUTATING_METHODS, array_written_params, mutated_in_node, mutated_params,
                      node_writes_outside, outer_writes, writes_outside)
from .returns import node_returns_new_object
from .resolve import MISSING, dotted_name, resolve_dotted

BINOPS = {
    gast.Add: ("+", np.add), gast.Sub: ("-", np.subtract), gast.Mult: ("*", np.multiply),
    gast.Div: ("/", np.divide), gast.Pow: ("**", np.power), gast.MatMult: ("@", np.matmul),
    gast.FloorDiv: ("//", np.floor_divide), gast.Mod: ("%", np.mod),
    gast.BitAnd: ("&", np.bitwise_and), gast.BitOr: ("|", np.bitwise_or),
    gast.BitXor: ("^", np.bitwise_xor), gast.LShift: ("<<", np.left_shift),
    gast.RShift: (">>", np.right_shift),
}
UNARY = {gast.USub: ("-", np.negative), gast.UAdd: ("+", np.positive)}

# Calls kept as statements for their effect that only read their arguments.
VETTED_EFFECTS = (print, warnings.warn, np.random.seed)

METHODS = getattr(numpy_rules, "METHODS", {})
ATTRIBUTES = getattr(numpy_rules, "ATTRIBUTES", {"T": np.transpose})
CONSTANT_ATTRIBUTES = getattr(numpy_rules, "CONSTANT_ATTRIBUTES",
                              frozenset({"shape", "ndim", "dtype", "size"}))
BUILTINS = getattr(numpy_rules, "BUILTINS", {})

_UNSUPPORTED_STMTS = {
    gast.Try: "try/except", gast.With: "a with statement", gast.AsyncWith: "async with",
    gast.Global: "a global statement", gast.Nonlocal: "a nonlocal statement",
    gast.Delete: "del", gast.ClassDef: "a class definition", gast.Import: "import",
    gast.ImportFrom: "import", gast.AsyncFor: "async for", gast.AsyncFunctionDef: "async def",
}
_UNSUPPORTED_EXPRS = {
    gast.ListComp: "a list comprehension", gast.SetComp: "a set comprehension",
    gast.DictComp: "a dict comprehension", gast.GeneratorExp: "a generator expression",
    gast.Yield: "yield", gast.YieldFrom: "yield from", gast.Await: "await",
    gast.Set: "a set literal", gast.JoinedStr: None, gast.NamedExpr: "an assignment expression (:=)",
    gast.Starred: "a starred argument",
}


def unparse(node):
    """Python source of a gast expression."""
    import ast
    return ast.unparse(gast.gast_to_ast(node)).strip()


def is_user_function(obj):
    """A plain Python function of the user's (compiled as a helper)."""
    if isinstance(obj, Primitive) or rule_for(obj) is not None or is_nondiff(obj):
        return False
    if not isinstance(obj, types.FunctionType):
        return False
    module = getattr(obj, "__module__", "") or ""
    # library functions are primitives: their source is never compiled (SciPy's without a rule
    # are an error at the differentiated call)
    return not (module.startswith(("numpy", "knetc.runtime", "cupy")) or module.split(".")[0] == "scipy")


class Lowerer:
    """Lowers one function (see module docstring)."""

    def __init__(self, source, scope, names, local_names, rt=lambda name: name):
        self.src = source
        self.rt = rt                      # the generated code's name for a builtin (range, len...)
        self.scope = scope
        self.names = names                # the NameGenerator of this function
        self.locals = local_names         # every name bound inside the function
        self.int_names = set()            # loop counters known to hold ints
        self.local_defs = {}              # nested function name -> enclosing locals it reads
        self.local_writes = {}            # nested function name -> (params, params it writes into)
        self.plain_loops = []             # (seq, iterable, index) of 'for x in xs' loops
        self.reads = {}                   # (obj, index) -> (temp, index atoms): w[0] read once
        self.device_module = None         # name of the local holding numpy/cupy, once np.zeros & co appear
        self.rebound = _rebound_names(source.node)   # names that may hold something else than a range counter
        self.loop_iterables = []          # iterables of the loop being lowered
        self.out = []

    # ---- helpers -------------------------------------------------------------
    def fail(self, construct, node, detail=None):
        raise self.src.error(construct, node, detail)

    def emit(self, stmt, node):
        stmt.line = getattr(node, "lineno", 0) or 0
        self._invalidate_reads(stmt)
        self.out.append(stmt)
        return stmt

    def _invalidate_reads(self, stmt):
        """Forget remembered subscript reads that ``stmt`` may change (see ``atom``)."""
        if not self.reads:
            return
        pure = isinstance(stmt, ir.Assign) and (
            isinstance(stmt.expr, (ir.Copy, ir.Const, ir.Subscript, ir.Build))
            or (isinstance(stmt.expr, ir.Op) and stmt.expr.fun is not None
                and not stmt.expr.label.endswith("()")))
        if not pure:
            self.reads.clear()
            return
        t = stmt.target
        for key, (temp, atoms) in list(self.reads.items()):
            if t == temp or t == key[0] or t in atoms:
                del self.reads[key]

    def temp(self, expr, node, hint="t"):
        name = ir.Local(self.names.temp(hint))
        if self._is_int_expr(expr):
            self.int_names.add(name)
        self.emit(ir.Assign(target=name, expr=expr), node)
        return name

    def _is_int(self, atom):
        return atom in self.int_names or ir.is_int_literal(atom)

    def _is_int_expr(self, expr):
        if isinstance(expr, ir.Op) and expr.label in ("+", "-", "*", "//", "%") and len(expr.args) == 2:
            return all(self._is_int(a) for a in expr.args)
        if isinstance(expr, ir.Op) and expr.fun is len:
            return True
        return False

    def block(self, stmts):
        saved, self.out = self.out, []
        self.reads.clear()                 # a nested block starts afresh...
        for s in stmts:
            self.stmt(s)
        body, self.out = self.out, saved
        self.reads.clear()                 # ...and whatever it wrote is unknown after it
        return body

    # ---- expressions ---------------------------------------------------------
    def atom(self, node):
        """Lower ``node`` to an atom, emitting temporaries as needed."""
        if isinstance(node, gast.Name):
            return ir.Local(node.id) if node.id in self.locals else ir.Global(node.id)
        if isinstance(node, gast.Constant):
            return ir.Literal(node.value)
        if (isinstance(node, gast.UnaryOp) and isinstance(node.op, (gast.USub, gast.UAdd))
                and isinstance(node.operand, gast.Constant) and isinstance(node.operand.value, (int, float))
                and not isinstance(node.operand.value, bool)):
            value = node.operand.value
            return ir.Literal(-value if isinstance(node.op, gast.USub) else value)
        dotted = dotted_name(node)
        if dotted and dotted.split(".")[0] not in self.locals and isinstance(node, gast.Attribute):
            return ir.Global(dotted)
        expr = self.rhs(node)
        if isinstance(expr, ir.Copy):
            return expr.src
        if isinstance(expr, ir.Subscript) and expr.obj in self.locals:
            # The same element read again in straight-line code, with nothing
            # written in between, reuses the first read's temporary.
            key = (expr.obj, expr.index_src)
            if key in self.reads:
                return self.reads[key][0]
            temp = self.temp(expr, node)
            self.reads[key] = (temp, set(expr.atoms))
            return temp
        return self.temp(expr, node)

    def rhs(self, node):
        """Lower ``node`` to one IR expression whose operands are atoms."""
        for cls, what in _UNSUPPORTED_EXPRS.items():
            if isinstance(node, cls):
                if what is None:   # f-strings are constants as far as derivatives go
                    return ir.Const(unparse(node), self._names_in(node))
                self.fail(what, node)
        if isinstance(node, (gast.Name, gast.Constant)) or (
                isinstance(node, gast.Attribute) and dotted_name(node)
                and dotted_name(node).split(".")[0] not in self.locals):
            return ir.Copy(self.atom(node))
        if isinstance(node, gast.BinOp):
            sym, fun = BINOPS[type(node.op)]
            left, right = self.atom(node.left), self.atom(node.right)
            # -0.5 ** 2 is -(0.5 ** 2)
            form = ("(", 0, f") {sym} ", 1) if sym == "**" and left.startswith("-") else (0, f" {sym} ", 1)
            return ir.Op(form, fun, [left, right], label=sym)
        if isinstance(node, gast.UnaryOp):
            operand = self.atom(node.operand)
            if isinstance(node.op, gast.Not):
                return ir.Const(f"not {operand}", [operand])
            if isinstance(node.op, gast.Invert):
                return ir.Const(f"~{operand}", [operand])
            sym, fun = UNARY[type(node.op)]
            return ir.Op((sym, 0), fun, [operand], label=sym)
        if isinstance(node, gast.Compare):
            parts = [self.atom(node.left)] + [self.atom(c) for c in node.comparators]
            text = parts[0]
            for op, right in zip(node.ops, parts[1:]):
                text += f" {_CMP[type(op)]} {right}"
            return ir.Const(text, parts)
        if isinstance(node, gast.BoolOp):
            return ir.Copy(self.boolop(node))
        if isinstance(node, gast.IfExp):
            return ir.Copy(self.ifexp(node))
        if isinstance(node, gast.Call):
            return self.call(node)
        if isinstance(node, gast.Attribute):
            obj = self.atom(node.value)
            if node.attr in CONSTANT_ATTRIBUTES:
                return ir.Const(f"{obj}.{node.attr}", [obj])
            fun = ATTRIBUTES.get(node.attr)
            return ir.Op((0, f".{node.attr}"), fun, [obj], label=f".{node.attr}")
        if isinstance(node, gast.Subscript):
            if _is_axis_concatenator(node.value, self.scope, self.locals):
                return self.axis_concatenation(node)
            obj = self.atom(node.value)
            src, value, basic, atoms = self.index(node.slice)
            return ir.Subscript(obj, src, value, basic, atoms)
        if isinstance(node, (gast.Tuple, gast.List)):
            elts = [self.atom(e) for e in node.elts]
            kind = "tuple" if isinstance(node, gast.Tuple) else "list"
            return ir.Build(kind, elts)
        if isinstance(node, gast.Dict):
            if any(k is None for k in node.keys):
                self.fail("dict unpacking (**)", node)
            keys = [self.atom(k) for k in node.keys]
            return ir.Build("dict", [self.atom(v) for v in node.values], keys)
        if isinstance(node, gast.Lambda):
            self.fail("a lambda used inside an expression", node,
                      "bind it to a name first: f = lambda ...")
        self.fail(f"the expression {type(node).__name__}", node)

    def axis_concatenation(self, node):
        """``np.r_[a, b]`` / ``np.c_[a, b]``: a call of the rule ``axis_concatenate(np.r_, (a, b))``."""
        conc = dotted_name(node.value)
        parts = node.slice.elts if isinstance(node.slice, gast.Tuple) else [node.slice]
        if any(isinstance(p, gast.Slice) for p in parts):
            self.fail(f"a slice inside {conc}[...]", node,
                      "the tape differentiates it (mode='auto'); or use np.concatenate/np.arange")
        atoms = [self.atom(p) for p in parts]
        key = self.temp(ir.Build("tuple", atoms), node) if isinstance(node.slice, gast.Tuple) else atoms[0]
        return ir.Op((0, "[", 1, "]"), numpy_rules.axis_concatenate, [ir.Global(conc), key], [], label=f"{conc}[]")

    def _check_nested(self, fun_node, node):
        """A nested def or lambda the compiler can model: no decorators, no defaults read
        from local variables (both are evaluated once, where the function is defined)."""
        if getattr(fun_node, "decorator_list", None):
            self.fail("a decorated nested function", node, "define it at module level")
        args = fun_node.args
        for default in list(args.defaults) + [d for d in args.kw_defaults if d is not None]:
            if self._names_in(default):
                self.fail("a nested function whose default values read local variables", node,
                          "pass the value as an argument, or close over it")
        outside = node_writes_outside(fun_node, self.scope)
        if outside and "nonlocal" not in outside and "global" not in outside:
            self.fail(f"a nested function that makes {outside}", node)

    def _free_names(self, fun_node):
        """Locals of this function that a nested def or lambda reads (sorted)."""
        bound = {a.id for a in fun_node.args.args}
        if isinstance(fun_node, gast.FunctionDef):
            bound |= assigned_names(fun_node)
        loads = {n.id for n in gast.walk(fun_node) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}
        return sorted((loads - bound) & self.locals)

    def _names_in(self, node):
        return sorted({n.id for n in gast.walk(node) if isinstance(n, gast.Name) and n.id in self.locals})

    def boolop(self, node):
        """``a and b`` keeps short-circuit evaluation: lowered to ifs."""
        result = self.names.temp("c")
        first = self.atom(node.values[0])
        self.emit(ir.Assign(target=result, expr=ir.Copy(first)), node)
        for value in node.values[1:]:
            saved, self.out = self.out, []
            self.reads.clear()
            self.emit(ir.Assign(target=result, expr=ir.Copy(self.atom(value))), value)
            rest, self.out = self.out, saved
            self.reads.clear()
            test = self.names.temp("c")
            negate = "" if isinstance(node.op, gast.And) else "not "
            self.emit(ir.Assign(target=test, expr=ir.Const(f"{negate}{result}", [result])), node)
            self.emit(ir.If(test=test, body=rest, orelse=[]), node)
        return result

    def ifexp(self, node):
        result = self.names.temp("t")
        self.condition(node.test, node)
        test = self.out[-1].target
        saved, self.out = self.out, []
        self.reads.clear()
        self.emit(ir.Assign(target=result, expr=self.rhs(node.body)), node.body)
        body, self.out = self.out, []
        self.reads.clear()
        self.emit(ir.Assign(target=result, expr=self.rhs(node.orelse)), node.orelse)
        orelse, self.out = self.out, saved
        self.reads.clear()
        self.emit(ir.If(test=test, body=body, orelse=orelse), node)
        return result

    def condition(self, test_node, node):
        """Evaluate a test once into a fresh flag (the reverse sweep reads it)."""
        test = self.atom(test_node)
        cond = self.names.temp("c")
        atoms = [test] if test in self.locals else []
        self.emit(ir.Assign(target=cond, expr=ir.Const(f"{self.rt('bool')}({test})", atoms)), node)
        return cond

    def index(self, node):
        """(source, value, basic, atoms) of a subscript's index."""
        atoms = []

        def part(n):
            if isinstance(n, gast.Slice):
                bounds = [None if b is None else self.atom(b) for b in (n.lower, n.upper, n.step)]
                atoms.extend(b for b in bounds if b is not None and b in self.locals)
                text = ":".join("" if b is None else b for b in bounds[:2])
                if bounds[2] is not None:
                    text += ":" + bounds[2]
                value = f"{self.rt('slice')}(" + ", ".join("None" if b is None else b for b in bounds) + ")"
                return text, value, True
            if isinstance(n, gast.Constant):
                text = "..." if n.value is Ellipsis else repr(n.value)
                return text, text, n.value is None or n.value is Ellipsis or isinstance(n.value, int)
            a = self.atom(n)
            if a in self.locals:
                atoms.append(a)
            return a, a, self._is_int(a)

        if isinstance(node, gast.Tuple):
            parts = [part(e) for e in node.elts]
            src = ", ".join(p[0] for p in parts)
            value = "(" + ", ".join(p[1] for p in parts) + ("," if len(parts) == 1 else "") + ")"
            return src, value, all(p[2] for p in parts), atoms
        text, value, basic = part(node)
        return text, value, basic, atoms

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
        if isinstance(func, gast.Attribute) and not (
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
        obj = resolve_dotted(self.scope, dotted)
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
            kind = "array" if module.startswith(("numpy", "cupy")) else "unknown"
            return ir.Const(text, args + [a for _, a in kwargs], kind)
        return ir.Op(ir.call_form(callee, len(args), [k for k, _ in kwargs]), obj, args, kwargs, label=dotted)

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

    # ---- statements ----------------------------------------------------------
    def stmt(self, s):
        for cls, what in _UNSUPPORTED_STMTS.items():
            if isinstance(s, cls):
                self.fail(what, s)
        if isinstance(s, list):
            for x in s:
                self.stmt(x)
        elif isinstance(s, (gast.Assign, gast.AnnAssign)):
            targets = s.targets if isinstance(s, gast.Assign) else [s.target]
            if s.value is None:
                return
            if len(targets) == 1:
                self.assign(targets[0], s.value, s)
            else:
                value = self.atom(s.value)
                for t in targets:
                    self.assign(t, gast.Name(id=value, ctx=gast.Load(), annotation=None,
                                             type_comment=None), s)
        elif isinstance(s, gast.AugAssign):
            self.augmented_assign(s)
        elif isinstance(s, gast.Expr):
            self.expression_statement(s)
        elif isinstance(s, gast.Pass):
            pass
        elif isinstance(s, gast.If):
            cond = self.condition(s.test, s)
            self.emit(ir.If(test=cond, body=self.block(s.body), orelse=self.block(s.orelse)), s)
        elif isinstance(s, gast.For):
            self.for_loop(s)
        elif isinstance(s, gast.While):
            count = self.names.temp("n")
            self.emit(ir.Assign(target=count, expr=ir.Const("0")), s)
            self.emit(ir.While(body=self.block(s.body), brk=s.knet_brk, count=count,
                               guarded=getattr(s, "knet_guarded", False)), s)
        elif isinstance(s, gast.FunctionDef):
            self._check_nested(s, s)
            self.local_defs[s.name] = self._free_names(s)
            self.local_writes[s.name] = ([a.id for a in s.args.args], mutated_in_node(s, self.scope))
            scoped = next((("nonlocal" if isinstance(n, gast.Nonlocal) else "global")
                           for n in gast.walk(s) if isinstance(n, (gast.Nonlocal, gast.Global))), "")
            writes = [n for n in outer_writes(s, self.scope) if n in self.locals]
            self.emit(ir.LocalDef(name=s.name, text=_def_source(self.src, s), free=self.local_defs[s.name],
                                  writes=writes, scoped=scoped,
                                  fresh=node_returns_new_object(s, self.scope)), s)
        elif isinstance(s, (gast.Assert, gast.Raise)):
            self.emit(ir.Effect(text=unparse_stmt(s), atoms=self._names_in(s), vetted=True), s)
        elif isinstance(s, gast.Return):
            self.fail("return at this place", s)
        else:
            self.fail(f"the statement {type(s).__name__}", s)

    def expression_statement(self, s):
        value = s.value
        if isinstance(value, gast.Constant):
            return  # docstring
        if (isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute)
                and value.func.attr in ("append", "extend") and isinstance(value.func.value, gast.Name)
                and value.func.value.id in self.locals and len(value.args) == 1 and not value.keywords
                and not isinstance(value.args[0], gast.Starred)):
            obj, item = value.func.value.id, self.atom(value.args[0])
            if value.func.attr == "append":
                self.emit(ir.Append(obj=obj, value=item), s)
                return
            for st in extend_stmts(self.names, obj, item, getattr(s, "lineno", 0) or 0, self.rt):
                self.emit(st, s)
            return
        if isinstance(value, gast.Call):
            expr = self.call(value)
            if isinstance(expr, ir.HelperCall):
                self.temp(expr, s, "r")
                return
            if isinstance(expr, ir.Op) and expr.fun is not None and rule_for(expr.fun) is not None:
                self.temp(expr, s, "r")
                return
            if isinstance(expr, ir.Copy):       # modelled already (hs.pop())
                return
            if isinstance(expr, ir.Const):      # declared constant-valued: nothing to write
                self.emit(ir.Effect(text=expr.text, atoms=list(expr.atoms), vetted=True), s)
                return
            vetted = any(expr.fun is f for f in VETTED_EFFECTS)
            self.emit(ir.Effect(text=expr.text, atoms=list(expr.args) + [a for _, a in expr.kwargs],
                                call=expr.text, vetted=vetted), s)
            return
        self.rhs(value)

    def augmented_assign(self, s):
        """``a += b``: Python updates an array (or list) in place; the IR marks the
        rebinding as a write into ``a`` (the containers pass and the fence decide)."""
        if isinstance(s.target, gast.Name):
            self.assign(s.target, gast.BinOp(left=_as_load(s.target), op=s.op, right=s.value), s)
            last = self.out[-1] if self.out else None
            if isinstance(last, ir.Assign) and last.target == s.target.id:
                last.write = "augmented"
            return
        if isinstance(s.target, gast.Subscript):
            old = self.atom(_as_load(s.target))
            self.assign(s.target, gast.BinOp(left=_name(old), op=s.op, right=s.value), s)
            last = self.out[-1]
            if isinstance(last, ir.SetItem):
                last.old = old
            return
        self.fail("augmented assignment to an attribute" if isinstance(s.target, gast.Attribute)
                  else f"augmented assignment to {type(s.target).__name__}", s.target)

    def assign(self, target, value, node):
        if isinstance(target, gast.Name):
            if isinstance(value, gast.Lambda):
                self._check_nested(value, node)
                self.local_defs[target.id] = self._free_names(value)
                writes = [n for n in outer_writes(value, self.scope) if n in self.locals]
                self.emit(ir.LocalDef(name=target.id, text=f"{target.id} = {unparse(value)}",
                                      free=self.local_defs[target.id], writes=writes,
                                      fresh=node_returns_new_object(value, self.scope)), node)
                return
            expr = self.rhs(value)
            if isinstance(expr, ir.Copy) and expr.src == target.id:
                return    # x = x binds nothing new
            if target.id in ir.reads(expr) and not isinstance(expr, (ir.Copy, ir.Const)):
                # x = f(x): the adjoint needs the old x and the new one apart
                expr = ir.Copy(self.temp(expr, node))
            self.emit(ir.Assign(target=target.id, expr=expr), node)
            return
        if isinstance(target, (gast.Tuple, gast.List)):
            if self._parallel_assign(target, value, node):
                return
            whole = self.atom(value)
            for i, elt in enumerate(target.elts):
                if isinstance(elt, gast.Starred):
                    self.fail("starred assignment", elt)
                part = ir.Subscript(whole, str(i), str(i), True, [])
                if isinstance(elt, gast.Name):
                    self.emit(ir.Assign(target=elt.id, expr=part), node)
                else:
                    tmp = self.temp(part, node)
                    self.assign(elt, gast.Name(id=tmp, ctx=gast.Load(), annotation=None,
                                               type_comment=None), node)
            return
        if isinstance(target, gast.Subscript):
            if not (isinstance(target.value, gast.Name) and target.value.id in self.locals):
                self.fail("assignment into an element of a non-local value", target)
            v = self.atom(value)
            src, val, basic, atoms = self.index(target.slice)
            self.emit(ir.SetItem(obj=target.value.id, index_src=src, index_value=val,
                                 atoms=atoms, value=v), node)
            return
        self.fail("assignment to an attribute" if isinstance(target, gast.Attribute)
                  else f"assignment to {type(target).__name__}", target)

    def _parallel_assign(self, target, value, node):
        """``a, b = b, a`` / ``x, y = f(u), g(v)``: one assignment per element, no tuple.

        Each element then has its own adjoint, so a value that is only swapped
        out of the way gets none (with a tuple in between, the whole tuple
        would be differentiated). Names that the assignment rebinds are copied
        first, as Python evaluates the right side before binding.
        """
        if not (isinstance(value, (gast.Tuple, gast.List)) and len(value.elts) == len(target.elts)):
            return False
        if any(isinstance(e, gast.Starred) for e in list(value.elts) + list(target.elts)):
            return False
        rebound = {e.id for e in target.elts if isinstance(e, gast.Name)}
        atoms = []
        for elt in value.elts:
            a = self.atom(elt)
            if a in rebound:
                a = self.temp(ir.Copy(a), node)
            atoms.append(a)
        for elt, a in zip(target.elts, atoms):
            self.assign(elt, gast.Name(id=a, ctx=gast.Load(), annotation=None, type_comment=None), node)
        return True

    def iterable(self, node, loop):
        """The atom a loop iterates over, as Python does: the object bound at loop entry.

        When the loop body rebinds the name, a snapshot of the binding is taken.
        """
        xs = self.atom(node)
        if xs in self.locals and xs in _stored_in(loop.body):
            xs = self.temp(ir.Copy(xs), loop, "it")
        self.loop_iterables.append(xs)
        return xs

    def for_loop(self, s):
        if s.orelse:
            self.fail("for ... else", s)
        it = s.iter
        saved_iterables, self.loop_iterables = self.loop_iterables, []
        seq = self.names.temp("seq")
        fn = resolve_dotted(self.scope, dotted_name(it.func)) if isinstance(it, gast.Call) and dotted_name(it.func) and dotted_name(it.func).split(".")[0] not in self.locals else None
        prelude = []   # (target node, gast value) assigned at the top of each iteration
        if fn is range and isinstance(s.target, gast.Name):
            args = [self.atom(a) for a in it.args]
            self.emit(ir.Assign(target=seq, expr=ir.Const(f"{self.rt('range')}({', '.join(args)})", args)), s)
            loop_var = s.target.id
        else:
            loop_var = self.names.temp("k")
            k = gast.Name(id=loop_var, ctx=gast.Load(), annotation=None, type_comment=None)
            if fn is enumerate:
                inner = it.args[0]
                zipped = (isinstance(inner, gast.Call) and dotted_name(inner.func)
                          and resolve_dotted(self.scope, dotted_name(inner.func)) is zip)
                xs = [self.iterable(a, s) for a in inner.args] if zipped else [self.iterable(inner, s)]
                if any(k.arg != "start" for k in it.keywords) or (it.keywords and len(it.args) > 1):
                    self.fail("enumerate() with these arguments", s)
                start = (self.atom(it.args[1]) if len(it.args) > 1
                         else self.atom(it.keywords[0].value) if it.keywords else None)
                lens = ", ".join(f"{self.rt('len')}({x})" for x in xs)
                count = f"{self.rt('min')}({lens})" if zipped else lens
                self.emit(ir.Assign(target=seq, expr=ir.Const(f"{self.rt('range')}({count})", xs)), s)
                if not (isinstance(s.target, gast.Tuple) and len(s.target.elts) == 2):
                    self.fail("for over enumerate() without an (index, value) target", s)
                index_value = k if start is None else gast.BinOp(left=k, op=gast.Add(), right=_name(start))
                prelude = [(s.target.elts[0], index_value)]
                value = s.target.elts[1]
                if zipped:
                    if not (isinstance(value, gast.Tuple) and len(value.elts) == len(xs)):
                        self.fail("for over enumerate(zip()) without one target per sequence", s)
                    prelude += [(t, _sub(x, k)) for t, x in zip(value.elts, xs)]
                else:
                    prelude.append((value, _sub(xs[0], k)))
            elif fn is reversed and len(it.args) == 1 and not it.keywords:
                xs = self.iterable(it.args[0], s)
                n = f"{self.rt('len')}({xs})"
                self.emit(ir.Assign(target=seq, expr=ir.Const(f"{self.rt('range')}({n} - 1, -1, -1)", [xs])), s)
                prelude = [(s.target, _sub(xs, k))]
            elif fn is zip:
                if it.keywords:
                    self.fail("zip() with keyword arguments", s)
                xs = [self.iterable(a, s) for a in it.args]
                lens = ", ".join(f"{self.rt('len')}({x})" for x in xs)
                self.emit(ir.Assign(target=seq, expr=ir.Const(f"{self.rt('range')}({self.rt('min')}({lens}))", xs)), s)
                if not (isinstance(s.target, gast.Tuple) and len(s.target.elts) == len(xs)):
                    self.fail("for over zip() without one target per sequence", s)
                prelude = [(t, _sub(x, k)) for t, x in zip(s.target.elts, xs)]
            elif (isinstance(it, gast.Call) and isinstance(it.func, gast.Attribute)
                  and it.func.attr in ("items", "keys", "values") and not it.args):
                d = self.iterable(it.func.value, s)
                self.emit(ir.Assign(target=seq, expr=ir.Const(f"{self.rt('list')}({d}.keys())", [d])), s)
                if it.func.attr == "items":
                    if not (isinstance(s.target, gast.Tuple) and len(s.target.elts) == 2):
                        self.fail("for over .items() without a (key, value) target", s)
                    prelude = [(s.target.elts[0], k), (s.target.elts[1], _sub(d, k))]
                elif it.func.attr == "keys":
                    prelude = [(s.target, k)]
                else:
                    prelude = [(s.target, _sub(d, k))]
            else:
                if fn is not None and rule_for(fn) is None and not is_user_function(fn):
                    self.fail(f"for over {unparse(it)}", s,
                              "the compiler iterates over lists, tuples, dicts, arrays, range, "
                              "enumerate and zip")
                xs = self.iterable(it, s)
                self.emit(ir.Assign(target=seq, expr=ir.Const(f"{self.rt('range')}({self.rt('len')}({xs}))", [xs])), s)
                prelude = [(s.target, _sub(xs, k))]
                self.plain_loops.append((seq, xs, loop_var))
        if loop_var not in self.rebound:     # bound only here: it always holds an int
            self.int_names.add(loop_var)
        iterables, self.loop_iterables = self.loop_iterables, saved_iterables
        saved, self.out = self.out, []
        self.reads.clear()
        for target, value in prelude:
            self.assign(target, value, s)
        for b in s.body:
            self.stmt(b)
        body, self.out = self.out, saved
        self.reads.clear()
        brk = getattr(s, "knet_brk", None)
        count = None
        if brk:
            count = self.names.temp("n")
            self.emit(ir.Assign(target=count, expr=ir.Const("0")), s)
        self.emit(ir.For(target=loop_var, seq=seq, body=body, brk=brk, count=count, iterables=iterables), s)


_CMP = {gast.Eq: "==", gast.NotEq: "!=", gast.Lt: "<", gast.LtE: "<=", gast.Gt: ">",
        gast.GtE: ">=", gast.Is: "is", gast.IsNot: "is not", gast.In: "in", gast.NotIn: "not in"}


def _name(id_):
    return gast.Name(id=id_, ctx=gast.Load(), annotation=None, type_comment=None)


def _sub(obj, index):
    return gast.Subscript(value=_name(obj), slice=index, ctx=gast.Load())


def _as_load(target):
    import copy
    node = copy.deepcopy(target)
    for n in gast.walk(node):
        if hasattr(n, "ctx"):
            n.ctx = gast.Load()
    return node


def _arglist(args, kwargs):
    return ", ".join(list(args) + [f"{k}={v}" for k, v in kwargs])


import builtins as _builtins

# Calls that read or run code by name: what they compute is invisible to the compiler.
_INTROSPECTION = frozenset({_builtins.eval, _builtins.exec, _builtins.locals, _builtins.globals,
                            _builtins.vars, _builtins.compile, _builtins.__import__})


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


def _is_axis_concatenator(node, scope, local_names):
    """``np.r_`` / ``np.c_``: indexing them concatenates (no rule the compiler can use)."""
    dotted = dotted_name(node)
    if not dotted or dotted.split(".")[0] in local_names:
        return False
    obj = resolve_dotted(scope, dotted)
    return isinstance(obj, _AXIS_CONCATENATOR)


_AXIS_CONCATENATOR = type(np.r_).__mro__[1]     # numpy's AxisConcatenator (np.r_, np.c_)


def _hashable(obj):
    try:
        hash(obj)
        return True
    except TypeError:
        return False


def unparse_stmt(node):
    import ast
    return ast.unparse(gast.gast_to_ast(node)).strip()


def _def_source(src, node):
    import ast
    return ast.unparse(gast.gast_to_ast(node))


def _stored_in(stmts):
    """Names bound by ``stmts`` (nested definitions excluded)."""
    out = set()
    stack = list(stmts)
    while stack:
        n = stack.pop()
        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
            out.add(n.id)
        if isinstance(n, (gast.FunctionDef, gast.Lambda, gast.ClassDef)):
            if not isinstance(n, gast.Lambda):
                out.add(n.name)
            continue
        stack.extend(gast.iter_child_nodes(n))
    return out


def _rebound_names(fun_node):
    """Parameters and the names a function binds other than as ``for i in range(...)`` counters."""
    out = set()
    counters = set()
    stack = list(fun_node.body) if isinstance(fun_node.body, list) else []
    while stack:
        n = stack.pop()
        if (isinstance(n, gast.For) and isinstance(n.target, gast.Name) and isinstance(n.iter, gast.Call)
                and isinstance(n.iter.func, gast.Name) and n.iter.func.id == "range"):
            counters.add(id(n.target))
        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store) and id(n) not in counters:
            out.add(n.id)
        if isinstance(n, (gast.FunctionDef, gast.Lambda, gast.ClassDef)):
            continue
        stack.extend(gast.iter_child_nodes(n))
    args = fun_node.args
    return out | {a.id for a in list(args.args) + list(getattr(args, "kwonlyargs", []))}


def assigned_names(fun_node):
    """Every name bound in a function body (not inside nested definitions)."""
    names = set()
    stack = list(fun_node.body) if isinstance(fun_node.body, list) else []
    while stack:
        n = stack.pop()
        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
            names.add(n.id)
        if isinstance(n, (gast.FunctionDef, gast.ClassDef)):
            names.add(n.name)
            continue
        if isinstance(n, gast.Lambda):
            continue
        stack.extend(gast.iter_child_nodes(n))
    return names
