"""Lowering of ``for`` loops: every loop becomes a loop over an index sequence.

Part of the lowering (see lower.py). Consumes a gast ``for`` (after
jumps.py: its break flag in ``knet_brk``); emits the sequence (``range(...)``,
``list(d.keys())``), then an ``ir.For`` whose body first binds the user's
targets from the index (``x = xs[k]``, ``i, (a, b) = k, (xs[k], ys[k])``).
The object iterated over is the one bound at loop entry, as in Python.
"""
import gast

from ..runtime.rules import rule_for
from . import ir
from .lower_calls import is_user_function
from .lower_names import stored_in, unparse
from .resolve import dotted_name, resolve_dotted


class LoopLowering:
    """Loop lowering of :class:`~knetc.transform.lower.Lowerer`."""

    def iterable(self, node, loop):
        """The atom a loop iterates over, as Python does: the object bound at loop entry.

        When the loop body rebinds the name, a snapshot of the binding is taken.
        """
        xs = self.atom(node)
        if xs in self.locals and xs in stored_in(loop.body):
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
            k = _name(loop_var)
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


def _name(atom):
    """A gast node standing for an atom already lowered: ``atom()`` gives it back, typed."""
    node = gast.Name(id=str(atom), ctx=gast.Load(), annotation=None, type_comment=None)
    node.knet_atom = atom if isinstance(atom, ir.Atom) else ir.Local(atom)
    return node


def _sub(obj, index):
    return gast.Subscript(value=_name(obj), slice=index, ctx=gast.Load())
