"""The import contract: lower layers never import higher ones, and there is no cycle.

Every ``import`` and ``from ... import`` in the package is read from the source (the
abstract syntax tree, so imports inside functions count too). Each module belongs to
a layer of `LAYERS`; a module may import only modules of its own or a lower layer, and
the graph of imports between modules has no cycle. A package's ``__init__`` re-exports
its submodules; the implicit import of a package by its own submodules is not an edge.

Part of the test suite and of the lint step (``tox -e lint`` runs this module alone).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

#: The package's source, found from this file (the check never imports the package, so
#: it runs in the lint environment without installing it).
ROOT = Path(__file__).resolve().parents[1] / "src" / "verify_sublin"
PACKAGE = ROOT.name

#: Layers, lowest first. A module name (relative to the package) matches an entry
#: exactly, or an entry ending in "*" as a prefix.
LAYERS: list[tuple[str, ...]] = [
    # core/: the algorithms and data structures (no store, no files, no printing)
    ("core.errors", "core.kernels", "core.kernels.*", "core.adapters"),
    ("core", "core.memory", "core.backend"),
    ("core.data", "core.firesets"),
    ("core.model", "core.deep", "core.ntk", "core.realdata", "core.sketch", "core.solvers",
     "core.tree", "core.halfspace", "core.bitgram"),
    ("core.trainers", "core.trainers.*"),
    # bench/: experiments, timing, runner, store, provenance (measures, never decides)
    ("bench", "bench.*"),
    # ledger/: entries, rules, fits, the toolkit, evaluation (judges, never measures)
    ("ledger", "ledger.*"),
    # render/: the report, figures, export, compare (renders, never evaluates)
    ("render", "render.*"),
    # the public surface
    ("", "api", "plugins", "cli", "cli.*", "claims", "claims.*"),
]


def layer_of(module: str) -> int:
    for level, names in enumerate(LAYERS):
        for name in names:
            if module == name or (name.endswith("*") and module.startswith(name[:-1])):
                return level
    raise KeyError(module)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _exists(module: str) -> bool:
    base = ROOT.joinpath(*module.split(".")) if module else ROOT
    return base.with_suffix(".py").exists() or (base / "__init__.py").exists()


def import_graph() -> dict[str, set[str]]:
    """module -> the package modules it imports (names relative to the package)."""
    graph: dict[str, set[str]] = {}
    for path in sorted(ROOT.rglob("*.py")):
        mod = _module_name(path)
        pkg = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = pkg.split(".") if pkg else []
                    base = base[:len(base) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                elif node.module == PACKAGE or (node.module or "").startswith(PACKAGE + "."):
                    target = node.module[len(PACKAGE) + 1:]
                else:
                    continue
                for alias in node.names:         # `from pkg import submodule`
                    sub = f"{target}.{alias.name}" if target else alias.name
                    deps.add(sub if _exists(sub) else target)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name == PACKAGE or alias.name.startswith(PACKAGE + "."):
                        deps.add(alias.name[len(PACKAGE) + 1:])
        # a submodule's implicit import of its own parent packages is not an edge
        parents = {".".join(mod.split(".")[:k]) for k in range(len(mod.split(".")))}
        graph[mod] = {d for d in deps if d != mod and d not in parents}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle (a list of modules, first = last), or None. Depth-first search."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                return [*stack[stack.index(dep):], dep]
            if dep not in state:
                found = visit(dep)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_every_module_has_a_layer():
    missing = [m for m in import_graph() if not _has_layer(m)]
    assert not missing, f"assign these modules a layer in LAYERS: {missing}"


def _has_layer(module: str) -> bool:
    try:
        layer_of(module)
    except KeyError:
        return False
    return True


def test_lower_layers_never_import_higher_ones():
    bad = [(m, d) for m, deps in import_graph().items() for d in sorted(deps)
           if _has_layer(m) and _has_layer(d) and layer_of(d) > layer_of(m)]
    assert not bad, "imports of a higher layer: " + ", ".join(f"{m} -> {d}" for m, d in bad)


def test_no_import_cycle():
    assert find_cycle(import_graph()) is None, find_cycle(import_graph())


@pytest.mark.parametrize(("graph", "cycle"), [
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, ["a", "b", "c", "a"]),
    ({"a": {"b"}, "b": {"c"}, "c": set()}, None),
    ({"a": {"a2"}, "a2": {"b"}, "b": {"a2"}}, ["a2", "b", "a2"]),
])
def test_cycle_finder_on_known_graphs(graph, cycle):
    assert find_cycle(graph) == cycle


def test_graph_sees_imports_inside_functions(tmp_path, monkeypatch):
    """A lazy import (inside a function) is an edge like any other."""
    pkg = tmp_path / PACKAGE
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "low.py").write_text("def f():\n    from .high import g\n    return g\n")
    (pkg / "high.py").write_text("from . import low\n")
    monkeypatch.setattr(__import__(__name__), "ROOT", pkg)
    graph = import_graph()
    assert graph["low"] == {"high"} and graph["high"] == {"low"}
    assert find_cycle(graph) == ["high", "low", "high"]
