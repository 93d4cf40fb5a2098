"""Settling the pullback: which restores of saved values it keeps, and so what it reads.

The reverse sweep is emitted once, with a restore (``x = _stack.pop()``)
wherever a saved value may be needed back and a recomputation at the top of
each reverse loop iteration (lines with ``pending``). What the pullback reads
decides which of them stay, and the blocks that stay read their tests,
sequences and counts (``reads`` of their headers), which may keep more
restores: ``settle`` finds that fixed point over the lines.

Consumes the emitted lines and the names their adjoint code reads;
guarantees that every line left reads only names in the returned set, every
restore left is of a name in it, and no block is left that holds only
restores of values nothing reads, comments or recomputations.
"""
from dataclasses import replace

from .lines import COMMENT, CONTROL, Line, Lines


def settle(lines, reads, readable):
    """(the pullback's lines, the names it reads) from the candidate ``lines`` and the names
    ``reads`` their adjoint code reads; ``readable(name)`` says whether a read counts."""
    tree = _tree(lines.items)
    needed = set(reads)
    while True:
        items, _, more = _prune(tree, needed)
        more = {n for n in more if readable(n)} - needed
        if not more:
            out = Lines()
            out.items = items
            return out, needed
        needed |= more


def _is_header(ln):
    return ln.kind == CONTROL and ln.text.endswith(":")


def _tree(items):
    """Each line with the lines indented under it: [(line, children)]."""
    root = []
    stack = [(-1, root)]
    for ln in items:
        while stack[-1][0] >= ln.indent:
            stack.pop()
        node = (ln, [])
        stack[-1][1].append(node)
        if _is_header(ln):
            stack.append((ln.indent, node[1]))
    return root


def _prune(nodes, needed):
    """(the lines that stay, whether any of them does work, the names the kept lines read)."""
    out, content, reads = [], False, set()
    i = 0
    while i < len(nodes):
        ln, kids = nodes[i]
        if not _is_header(ln):
            i += 1
            if ln.pending is not None and ln.pending not in needed:
                continue
            out.append(ln)
            content |= ln.content and ln.kind != COMMENT and not (ln.kind == CONTROL and ln.text == "pass")
            reads.update(ln.reads)
            continue
        els = None
        if (ln.text.startswith("if ") and i + 1 < len(nodes) and nodes[i + 1][0].text == "else:"
                and nodes[i + 1][0].indent == ln.indent):
            els = nodes[i + 1]
        i += 2 if els else 1
        body, body_work, body_reads = _prune(kids, needed)
        orelse, else_work, else_reads = _prune(els[1], needed) if els else ([], False, set())
        if not body_work and not else_work:
            continue
        content = True
        reads.update(ln.reads)
        if body_work:
            out += [ln] + body
            reads |= body_reads
            if else_work:
                out += [els[0]] + orelse
                reads |= else_reads
        elif ln.negated is not None:          # only the else branch stays: if not test
            out += [replace(ln, text=ln.negated)] + orelse
            reads |= else_reads
        else:
            out += [ln] + [b for b in body if b.kind == COMMENT] + [Line(ln.indent + 1, "pass", 0, CONTROL)]
            out += [els[0]] + orelse
            reads |= else_reads
    return out, content, reads
