"""Every import of chalicelib, read from the source with ``ast`` (nothing is imported or run).

Imports are found anywhere in a module: at the top, inside functions (lazy imports) and under
``if TYPE_CHECKING:``, since each is a dependency of the code that holds it. The import graph also
counts ``"chalicelib.x.y:function"`` strings, the targets ``chalicelib.runtime.resolve`` imports
when an operator function, job or route is called.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
PACKAGE = "chalicelib"
ROOT = PROJECT / PACKAGE


@dataclass(frozen=True)
class Import:
    """One name an import statement brings in: ``import a.b`` or ``from a.b import c`` (``c`` here)."""

    importer: str  # the module holding the statement
    line: int
    module: str  # the module named after ``import`` or ``from`` (made absolute)
    name: str | None  # the name after ``from ... import``; None for ``import a.b``
    alias: str | None  # the ``as`` name, if any

    @property
    def where(self) -> str:
        return f"{module_path(self.importer)}:{self.line}"

    @property
    def statement(self) -> str:
        text = f"from {self.module} import {self.name}" if self.name else f"import {self.module}"
        return f"{text} as {self.alias}" if self.alias else text


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PROJECT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def module_path(name: str) -> str:
    return str(modules()[name].relative_to(PROJECT))


@cache
def modules() -> dict[str, Path]:
    """Every module of chalicelib by dotted name (a package by its own name, for its ``__init__``)."""
    return {module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def is_package(name: str) -> bool:
    return modules()[name].name == "__init__.py"


def _absolute(importer: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = importer.split(".")
    if not is_package(importer):
        base.pop()
    base = base[:len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


@cache
def imports_of(importer: str) -> tuple[Import, ...]:
    found: list[Import] = []
    for node in ast.walk(ast.parse(modules()[importer].read_text(), filename=str(modules()[importer]))):
        if isinstance(node, ast.Import):
            found += [Import(importer, node.lineno, alias.name, None, alias.asname) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(importer, node)
            found += [Import(importer, node.lineno, module, alias.name, alias.asname) for alias in node.names]
    return tuple(sorted(found, key=lambda found_import: found_import.line))


_DEFERRED = re.compile(r"(chalicelib(?:\.\w+)+):\w+")


@cache
def deferred_imports(importer: str) -> frozenset[str]:
    """The modules a module names in ``"module:attribute"`` strings (imported when first called)."""
    return frozenset(match.group(1)
                     for node in ast.walk(ast.parse(modules()[importer].read_text()))
                     if isinstance(node, ast.Constant) and isinstance(node.value, str)
                     and (match := _DEFERRED.fullmatch(node.value)) and match.group(1) in modules())


def all_imports() -> Iterator[Import]:
    for name in modules():
        yield from imports_of(name)


def targets(imported: Import) -> set[str]:
    """The dotted modules an import reaches: ``from a import b`` reaches ``a.b`` when that is a module.

    A name taken from a chalicelib package that only re-exports it (``from chalicelib.store import
    bind_tables``) reaches the module the package took it from too.
    """
    if imported.name is None:
        return {imported.module}
    submodule = f"{imported.module}.{imported.name}"
    if submodule in modules():
        return {submodule}
    reached = {imported.module}
    if imported.module in modules() and is_package(imported.module):
        for inner in imports_of(imported.module):
            if (inner.alias or inner.name) == imported.name and inner.name is not None:
                reached |= targets(inner)
    return reached


def within(name: str, prefix: str) -> bool:
    """``name`` is the module or package ``prefix``, or inside it."""
    return name == prefix or name.startswith(prefix + ".")


def import_graph() -> dict[str, set[str]]:
    """Module -> the chalicelib modules it imports (edges from a package to its own modules left out).

    ``import a.b.c`` counts as an edge to ``a.b.c`` only, not to the packages ``a`` and ``a.b`` Python
    also runs: otherwise every module of a package that re-exports would sit in a cycle with it.
    """
    graph: dict[str, set[str]] = {name: set() for name in modules()}
    found = [(imported.importer, target) for imported in all_imports() for target in _literal_targets(imported)]
    found += [(name, target) for name in modules() for target in deferred_imports(name)]
    for importer, target in found:
        if target not in modules() or target == importer:
            continue
        if is_package(importer) and within(target, importer):
            continue
        graph[importer].add(target)
    return graph


def _literal_targets(imported: Import) -> set[str]:
    """Where an import goes at import time: ``from a import b`` to ``a.b`` if a module, else to ``a``."""
    if imported.name is None:
        return {imported.module}
    submodule = f"{imported.module}.{imported.name}"
    return {submodule if submodule in modules() else imported.module}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each group of modules that import one another, directly or not (Tarjan's strongly connected
    components of more than one module, or a module importing itself), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(start: str) -> None:
        # Iterative, so a long chain of imports cannot hit the recursion limit.
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            advanced = False
            for target in edges:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                    advanced = True
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph[node]:
                    found.append(sorted(component))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return sorted(found)


def cycle_path(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """One closed path through a cycle's modules (a -> b -> a), to show how they import each other."""
    members = set(component)
    start = component[0]
    # Breadth-first from start back to start, inside the component.
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for target in sorted(graph[node] & members):
                if target == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [*reversed(path), start]
                if target not in previous:
                    previous[target] = node
                    following.append(target)
        frontier = following
    return component
