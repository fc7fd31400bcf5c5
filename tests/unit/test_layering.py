"""Data flows one way: handlers -> services -> store/vault/notify. Services never see Chalice."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

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


@pytest.mark.parametrize("package", ["store", "vault", "notify"])
def test_lower_layers_do_not_reach_up_into_the_api(package):
    offenders = {path: sorted(n for n in names if n.startswith("chalicelib.api"))
                 for path, names in imported_modules(package).items()}
    assert {path: names for path, names in offenders.items() if names} == {}
