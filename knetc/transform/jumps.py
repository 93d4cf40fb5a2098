"""Turn ``break``, ``continue``, early ``return`` and ``while`` tests into flags.

``for ... else`` and ``while ... else`` become the loop followed by
``if _els: <else body>``, where ``_els`` starts True and every ``break`` (or
``return``) out of that loop sets it False, so the else body runs exactly when
Python runs it: when the loop ends without a break.

After this pass a function body has a single exit and loops leave only
through a break flag tested at the top of each iteration, so the reverse
sweep can replay exactly the statements that ran.
"""
import gast


def _name(id_, ctx=None):
    return gast.Name(id=id_, ctx=ctx or gast.Load(), annotation=None, type_comment=None)


def _assign(target, value, like):
    node = gast.Assign(targets=[_name(target, gast.Store())], value=value, type_comment=None)
    return gast.copy_location(node, like)


def _const(v):
    return gast.Constant(value=v, kind=None)


class _Loop:
    def __init__(self, brk, skip, els=None):
        self.brk = brk
        self.skip = skip
        self.els = els      # flag of the loop's else clause, if it has one
        self.used = False


class JumpLowering:
    """Rewrite a function body so it has no jumps (see module docstring)."""

    def __init__(self, fresh, ret_name, done_name):
        self.fresh = fresh
        self.ret = ret_name
        self.done = done_name
        self.has_early_return = False

    def function_body(self, body):
        """The rewritten body; the result is left in ``self.ret``."""
        last = body[-1] if body else None
        if isinstance(last, gast.Return) and not any(_contains_return(s) for s in body[:-1]):
            out = self.block(body[:-1], [])
            out.append(_assign(self.ret, last.value or _const(None), last))
            return out
        self.has_early_return = any(_contains_return(s) for s in body)
        out = self.block(body, [])
        if self.has_early_return:
            out.insert(0, _assign(self.done, _const(False), body[0]))
            out.insert(0, _assign(self.ret, _const(None), body[0]))
        return out

    def block(self, stmts, loops):
        out = []
        for i, s in enumerate(stmts):
            if isinstance(s, (gast.For, gast.While)) and s.orelse:
                els = self.fresh("els")
                orelse, s.orelse = s.orelse, []
                s.knet_els = els
                run_else = gast.copy_location(gast.If(test=_name(els), body=orelse, orelse=[]), orelse[0])
                out.extend(self.block([_assign(els, _const(True), s), s, run_else] + stmts[i + 1:], loops))
                return out
            if isinstance(s, gast.Break):
                if loops[-1].els and not getattr(s, "knet_test_exit", False):
                    out.append(_assign(loops[-1].els, _const(False), s))
                out.append(_assign(loops[-1].brk, _const(True), s))
                out.append(_assign(loops[-1].skip, _const(True), s))
                loops[-1].used = True
                return out
            if isinstance(s, gast.Continue):
                out.append(_assign(loops[-1].skip, _const(True), s))
                loops[-1].used = True
                return out
            if isinstance(s, gast.Return):
                out.append(_assign(self.ret, s.value or _const(None), s))
                out.append(_assign(self.done, _const(True), s))
                for loop in loops:
                    if loop.els:
                        out.append(_assign(loop.els, _const(False), s))
                    out.append(_assign(loop.brk, _const(True), s))
                    out.append(_assign(loop.skip, _const(True), s))
                    loop.used = True
                return out
            jumps = self._jumps_out(s, bool(loops))
            out.append(self.statement(s, loops))
            rest = stmts[i + 1:]
            if jumps and rest:
                flag = loops[-1].skip if loops else self.done
                test = gast.UnaryOp(op=gast.Not(), operand=_name(flag))
                guard = gast.If(test=test, body=self.block(rest, loops), orelse=[])
                out.append(gast.copy_location(guard, rest[0]))
                return out
        return out

    def statement(self, s, loops):
        if isinstance(s, gast.If):
            s.body = self.block(s.body, loops) or [gast.Pass()]
            s.orelse = self.block(s.orelse, loops)
            return s
        if isinstance(s, gast.While) and not _contains_loop_jump(s) and not _contains_return(s):
            return self._plain_while(s, loops)
        if isinstance(s, gast.While):
            # 'while test: body' == 'while True: if not test: break; body'
            leave = gast.Break()
            leave.knet_test_exit = True     # leaving because the test is false: the else clause runs
            exit_ = gast.copy_location(
                gast.If(test=gast.UnaryOp(op=gast.Not(), operand=s.test), body=[leave], orelse=[]), s)
            s.body = [exit_] + s.body
            s.test = _const(True)
            return self._loop(s, loops)
        if isinstance(s, gast.For):
            return self._loop(s, loops)
        return s

    def _plain_while(self, s, loops):
        """``while test: body`` with no jump of its own: ``while True: if test: body else: brk = True``.

        No skip flag guards the body; the reverse sweep replays the iterations whose test held.
        """
        loop = _Loop(self.fresh("brk"), None, getattr(s, "knet_els", None))
        body = self.block(s.body, loops + [loop]) or [gast.Pass()]
        stop = _assign(loop.brk, _const(True), s)
        s.body = [gast.copy_location(gast.If(test=s.test, body=body, orelse=[stop]), s)]
        s.test = _const(True)
        s.knet_brk = loop.brk
        s.knet_guarded = True
        return [_assign(loop.brk, _const(False), s), s]

    def _loop(self, s, loops):
        loop = _Loop(self.fresh("brk"), self.fresh("skip"), getattr(s, "knet_els", None))
        body = self.block(s.body, loops + [loop])
        if loop.used:
            body.insert(0, _assign(loop.skip, _const(False), s))
            s.knet_brk = loop.brk
        else:
            s.knet_brk = None
        s.body = body or [gast.Pass()]
        if loop.used:
            return [_assign(loop.brk, _const(False), s), s]
        return s

    def _jumps_out(self, s, in_loop):
        """Whether ``s`` may leave the current block through a jump."""
        if _contains_return(s):
            return True
        if in_loop and isinstance(s, gast.If):
            return _contains_loop_jump(s)
        return False


def _contains_return(s):
    if isinstance(s, (gast.FunctionDef, gast.Lambda)):
        return False
    return any(isinstance(n, gast.Return) for n in _walk_no_defs(s))


def _contains_loop_jump(s):
    """Break/continue belonging to the loop around ``s`` (not to inner loops)."""
    stack = [s]
    while stack:
        n = stack.pop()
        if isinstance(n, (gast.Break, gast.Continue)):
            return True
        if isinstance(n, (gast.For, gast.While, gast.FunctionDef, gast.Lambda)) and n is not s:
            continue
        stack.extend(gast.iter_child_nodes(n))
    return False


def _walk_no_defs(s):
    stack = [s]
    while stack:
        n = stack.pop()
        yield n
        for c in gast.iter_child_nodes(n):
            if not isinstance(c, (gast.FunctionDef, gast.Lambda)):
                stack.append(c)


def flatten(stmts):
    """Splice lists produced by loop rewriting into the surrounding block."""
    out = []
    for s in stmts:
        if isinstance(s, list):
            out.extend(flatten(s))
        else:
            for field in ("body", "orelse"):
                if hasattr(s, field) and isinstance(getattr(s, field), list):
                    setattr(s, field, flatten(getattr(s, field)))
            out.append(s)
    return out
