"""Data flows one way: handlers -> services -> repositories (store) / vault / notify. Services never see Chalice.

Imports are read from the source with ``ast``, wherever they are (inside functions too).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support.imports import Import, all_imports, cycle_path, cycles, import_graph, imports_of, targets, within

ROOT = Path(__file__).resolve().parents[2] / "chalicelib"


def imported_modules(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
        found[str(path.relative_to(ROOT))] = names
    return found


@pytest.mark.parametrize("package", ["services", "store", "vault", "notify"])
def test_no_use_case_or_data_module_imports_chalice(package):
    offenders = {path: sorted(n for n in names if n == "chalice" or n.startswith("chalice."))
                 for path, names in imported_modules(package).items()}
    assert {path: names for path, names in offenders.items() if names} == {}


# What a service may not import: the database and AWS libraries, and the store's own machinery.
# Services talk to repositories, the chalicelib.store.<aggregate> modules (store.leads, store.tenants...).
BELOW_REPOSITORIES = ("pynamodb", "botocore", "boto3", "chalicelib.store.models", "chalicelib.store.base",
                      "chalicelib.store.batch", "chalicelib.store.counters", "chalicelib.store.binding")

# Modules that services and handlers build on: none of them may import either.
LOWER_LAYERS = ("chalicelib.store", "chalicelib.vault", "chalicelib.notify", "chalicelib.clock", "chalicelib.config",
                "chalicelib.errors", "chalicelib.invocation", "chalicelib.logs")
UPPER_LAYERS = ("chalicelib.services", "chalicelib.api")

# ``import x as y`` / ``from x import a as b`` allowed anyway, each with its reason. None today:
# a renamed import hides its calls from a grep for the real name.
ALIASES_ALLOWED: dict[str, str] = {}


def listing(found: list[str]) -> str:
    return "\n".join(f"  {line}" for line in found)


def statements(found: list[Import]) -> list[str]:
    """Offending imports, one line per statement: ``path:line: from module import a, b``."""
    names: dict[tuple[str, str, bool], list[str]] = {}
    for imp in found:
        names.setdefault((imp.where, imp.module, imp.name is None), []).append(
            imp.statement.split(" import ", 1)[1] if imp.name else imp.statement)
    return [f"{where}: " + (", ".join(listed) if plain else f"from {module} import {', '.join(listed)}")
            for (where, module, plain), listed in names.items()]


def test_services_reach_data_only_through_repositories():
    offenders = statements([imp for imp in all_imports() if within(imp.importer, "chalicelib.services")
                            and any(within(target, below) for target in targets(imp) for below in BELOW_REPOSITORIES)])
    assert offenders == [], ("services must call repositories (chalicelib.store.<aggregate>), never PynamoDB, "
                             f"boto or the store's models and machinery:\n{listing(offenders)}")


@pytest.mark.parametrize("lower", LOWER_LAYERS)
def test_lower_layers_do_not_reach_up(lower):
    offenders = statements([imp for imp in all_imports() if within(imp.importer, lower)
                            and any(within(target, upper) for target in targets(imp) for upper in UPPER_LAYERS)])
    assert offenders == [], f"{lower} may not import services or api:\n{listing(offenders)}"


def test_chalicelib_modules_import_one_another_without_cycles():
    graph = import_graph()
    found = [" -> ".join(cycle_path(graph, component)) + f"   (modules: {', '.join(component)})"
             for component in cycles(graph)]
    assert found == [], f"import cycles (lazy imports count; break each by moving code down a layer):\n{listing(found)}"


def test_the_cycle_finder_finds_cycles():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e"}, "f": {"a"}}
    assert cycles(graph) == [["a", "b", "c"], ["e"]]
    assert cycle_path(graph, ["a", "b", "c"]) == ["a", "b", "c", "a"]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_import_reader_sees_lazy_imports_and_re_exports():
    lazy = [imp for imp in imports_of("chalicelib.invocation") if imp.module == "chalicelib.store"]
    assert lazy and lazy[0].name == "bind_tables"  # imported inside invocation()
    assert "chalicelib.store.binding" in targets(lazy[0])  # through the package's re-export


def test_no_import_is_renamed():
    offenders = [f"{imp.where}: {imp.statement}" for imp in all_imports()
                 if imp.alias and imp.alias != imp.name and f"{imp.importer}: {imp.statement}" not in ALIASES_ALLOWED]
    assert offenders == [], f"import under the real name, so a grep finds every call:\n{listing(offenders)}"
