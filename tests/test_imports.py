"""The package's imports: no cycles, and no function-local import that hides one.

Every module of ``knetc`` is read with ``ast``. Module-level imports of knetc
modules make a graph, which must have no cycle. An import inside a function
of a knetc module must say why it is lazy with a ``# lazy: <reason>``
comment on its line (optional libraries, code loaded only on demand), and it
must not close a cycle of the graph unless it is listed in ``KNOWN_CYCLES``.
"""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "knetc"

# function-local imports that close a cycle, with what breaking it needs
KNOWN_CYCLES = set()


def _modules():
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _targets(module, node, is_package):
    """The knetc modules an import statement reads."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == "knetc"]
    base = module.split(".") if is_package else module.split(".")[:-1]
    if node.level:
        base = base[:len(base) - node.level + 1]
        prefix = ".".join(base + ([node.module] if node.module else []))
    else:
        prefix = node.module or ""
    if prefix.split(".")[0] != "knetc":
        return []
    return [f"{prefix}.{a.name}" if f"{prefix}.{a.name}" in MODULES else prefix for a in node.names]


def _parents_run_by(module, target):
    """The packages whose ``__init__`` importing ``target`` runs first (not those of ``module`` itself)."""
    parts = target.split(".")
    own = {".".join(module.split(".")[:k]) for k in range(1, module.count(".") + 2)}
    return {p for p in (".".join(parts[:k]) for k in range(1, len(parts))) if p in MODULES and p not in own}


def _imports():
    """``(graph, local)``: module-level edges, and (module, line, target, text) of function-local imports."""
    graph, local = {m: set() for m in MODULES}, []
    for module, path in MODULES.items():
        text = path.read_text()
        lines = text.splitlines()
        is_package = path.name == "__init__.py"

        def visit(node, in_function):
            for child in ast.iter_child_nodes(node):
                inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
                if isinstance(child, (ast.Import, ast.ImportFrom)):
                    for target in _targets(module, child, is_package):
                        if in_function:
                            local.append((module, child.lineno, target, lines[child.lineno - 1]))
                        elif target in MODULES:
                            graph[module].add(target)
                            graph[module].update(_parents_run_by(module, target))
                visit(child, inside)
        visit(ast.parse(text), False)
    return graph, local


GRAPH, LOCAL = _imports()


def _path(graph, start, goal):
    """A list of modules from ``start`` to ``goal`` along the graph's edges, or None."""
    seen, todo = {start}, [[start]]
    while todo:
        path = todo.pop()
        for nxt in sorted(graph.get(path[-1], ())):
            if nxt == goal:
                return path + [nxt]
            if nxt not in seen:
                seen.add(nxt)
                todo.append(path + [nxt])
    return None


def test_the_walk_sees_the_package():
    assert "knetc.api" in MODULES and "knetc.transform.pipeline" in MODULES
    assert "knetc.transform.compiler" in GRAPH["knetc.transform.pipeline"]


def test_no_import_cycle():
    cycles = []
    for module in sorted(GRAPH):
        path = _path(GRAPH, module, module)
        if path is not None and min(path) == module:
            cycles.append(" -> ".join(path))
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


@pytest.mark.parametrize("entry", LOCAL, ids=lambda e: f"{e[0]}:{e[1]}")
def test_function_local_import_says_why(entry):
    module, line, target, text = entry
    assert "# lazy:" in text, (f"{module}:{line} imports {target} inside a function without a "
                               f"'# lazy: <reason>' comment: move it to the top of the module")
    closes = target in GRAPH and _path(GRAPH, target, module)
    if closes and (module, target) not in KNOWN_CYCLES:
        pytest.fail(f"{module}:{line} hides an import cycle: {' -> '.join(closes)} -> (lazily) {target}")


def test_known_cycles_are_still_cycles():
    """An entry of KNOWN_CYCLES goes when its cycle is broken."""
    for module, target in KNOWN_CYCLES:
        assert any(m == module and t == target for m, _, t, _ in LOCAL), (module, target)
        assert _path(GRAPH, target, module), f"{module} -> {target} no longer closes a cycle: delete it"


def test_the_cycle_check_can_fail():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}}
    assert _path(graph, "a", "a") == ["a", "b", "c", "a"]
    assert _path({"a": {"b"}, "b": set()}, "a", "a") is None
