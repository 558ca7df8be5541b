"""Layers only look down, and nothing imports in a circle (DESIGN.md, "Layout").

cli/server → estate → review/match/enforce/report → store, sources, identify, lists, policy →
model. Every import counts: at module level, inside a function, under ``TYPE_CHECKING``. A
package may import a package of its own layer, as long as no circle of packages forms.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "kitvet"

#: package (or top-level module) -> layer; higher layers may import lower ones
LAYERS: dict[str, int] = {
    "__main__": 5, "cli": 5, "server": 5,
    "estate": 4,
    "review": 3, "alerts": 3, "match": 3, "enforce": 3, "report": 3, "bench": 3,
    "store": 2, "sources": 2, "identify": 2, "lists": 2, "policy": 2, "data": 2, "ransom": 2,
    "model": 1, "errors": 1, "util": 1, "duck": 1, "plugins": 1, "__init__": 1,
}

#: (importer, imported) package pairs that break the rule today, with the issue that ends them
KNOWN: dict[tuple[str, str], str] = {}

#: module circles that stand today, with the issue that opens them
KNOWN_CIRCLES: dict[frozenset[str], str] = {}

#: packages that, besides the layer rule, must never import these (issue 16)
NEVER: dict[str, set[str]] = {
    "store": {"review", "match", "policy", "lists", "sources", "estate"},
    "cli": {"store", "review"},
    "server": {"store", "review"},
}


def _package(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _module(path: Path) -> str:
    rel = path.relative_to(SRC).with_suffix("")
    parts = ("kitvet", *rel.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every kitvet module this file imports, wherever the import statement stands."""
    out: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = _module(path) if path.name == "__init__.py" else _module(path).rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("kitvet."))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                mod = ".".join([*base, node.module] if node.module else base)
            else:
                mod = node.module or ""
            if mod.startswith("kitvet."):
                out.add(mod)
                out.update(f"{mod}.{a.name}" for a in node.names)
    return out


@pytest.fixture(scope="module")
def graph() -> dict[str, dict[str, set[str]]]:
    """module -> {imported module: set()}, over every module of kitvet (sources only)."""
    files = {_module(p): p for p in SRC.rglob("*.py") if "migrations" not in p.parts}
    out: dict[str, dict[str, set[str]]] = {}
    for mod, path in files.items():
        deps = {m for m in _imports(path) if m in files and m != mod}
        out[mod] = {d: set() for d in deps}
    return out


def _pkg_of(module: str) -> str:
    return module.split(".")[1] if module.count(".") else "__init__"


def _package_edges(graph: dict[str, dict[str, set[str]]]) -> dict[tuple[str, str], list[str]]:
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for mod, deps in graph.items():
        for d in deps:
            a, b = _pkg_of(mod), _pkg_of(d)
            if a != b:
                edges[(a, b)].append(f"{mod} -> {d}")
    return edges


def test_every_package_has_a_layer() -> None:
    found = {_package(p) for p in SRC.rglob("*.py")}
    assert found <= set(LAYERS), f"give these a layer in LAYERS: {sorted(found - set(LAYERS))}"


def test_no_package_imports_a_layer_above_it(graph: dict[str, dict[str, set[str]]]) -> None:
    upward = {pair: where for pair, where in _package_edges(graph).items()
              if LAYERS[pair[1]] > LAYERS[pair[0]] and pair not in KNOWN}
    assert not upward, "\n".join(f"{a} (layer {LAYERS[a]}) imports {b} (layer {LAYERS[b]}): "
                                 f"{', '.join(w[:3])}" for (a, b), w in sorted(upward.items()))


def test_forbidden_imports(graph: dict[str, dict[str, set[str]]]) -> None:
    bad = {pair: where for pair, where in _package_edges(graph).items()
           if pair[1] in NEVER.get(pair[0], set()) and pair not in KNOWN}
    assert not bad, "\n".join(f"{a} imports {b}: {', '.join(w[:3])}"
                              for (a, b), w in sorted(bad.items()))


def test_known_exceptions_still_exist(graph: dict[str, dict[str, set[str]]]) -> None:
    """An exception that the code no longer needs is struck from KNOWN."""
    edges = _package_edges(graph)
    assert not [pair for pair in KNOWN if pair not in edges], "remove from KNOWN"


def _cycle(nodes: set[str], edges: dict[str, set[str]]) -> list[str] | None:
    """One circle among ``nodes`` (depth-first search), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        stack.append(n)
        for m in sorted(edges.get(n, ())):
            if state.get(m) == 1:
                return [*stack[stack.index(m):], m]
            if m not in state and (found := visit(m)):
                return found
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(nodes):
        if n not in state and (found := visit(n)):
            return found
    return None


def test_no_circle_of_packages(graph: dict[str, dict[str, set[str]]]) -> None:
    edges: dict[str, set[str]] = defaultdict(set)
    for a, b in _package_edges(graph):
        if (a, b) not in KNOWN:
            edges[a].add(b)
    assert _cycle(set(LAYERS), edges) is None


def test_no_circle_of_modules(graph: dict[str, dict[str, set[str]]]) -> None:
    edges = {m: {d for d in deps if not _is_package_face(d, m)} for m, deps in graph.items()}
    for circle in KNOWN_CIRCLES:
        a, b = sorted(circle)
        assert b in edges[a] and a in edges[b], f"{a} and {b} no longer import each other: " \
                                                "strike them from KNOWN_CIRCLES"
        edges[a].discard(b)
    assert _cycle(set(graph), edges) is None


def _is_package_face(dep: str, mod: str) -> bool:
    """A module importing its own package's ``__init__`` (a face that re-exports) is no circle
    of code; the face is followed only from outside the package."""
    return mod.startswith(dep + ".")


def test_the_test_sees_imports_of_every_kind(graph: dict[str, dict[str, set[str]]]) -> None:
    """Lazy imports inside functions and ``TYPE_CHECKING`` imports are counted too."""
    assert "kitvet.store.lake" in graph["kitvet.match.interface"]  # under TYPE_CHECKING
    assert "kitvet.match.engine" in graph["kitvet.estate.estate"]  # inside a method


#: parameter names that carry an estate, risk lists, a policy or a matcher across a boundary
BOUNDARY_NAMES = {"est", "estate", "lists", "policy", "matcher", "graph", "bans"}


def test_the_boundaries_are_typed() -> None:
    """In estate/, cli/ and server/ an estate, lists or a policy is never ``Any`` (mypy checks
    the rest: every def typed, no bare generics there, see pyproject.toml)."""
    loose = []
    for pkg in ("estate", "cli", "server"):
        for path in (SRC / pkg).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                args = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
                for a in args:
                    text = ast.unparse(a.annotation) if a.annotation else "Any"
                    if a.arg in BOUNDARY_NAMES and ("Any" in text or text == "object"):
                        loose.append(f"{path.relative_to(SRC)}:{node.lineno} {node.name}"
                                     f"({a.arg}: {text})")
    assert not loose, "\n".join(loose)
