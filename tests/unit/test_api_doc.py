"""docs/API.md is held to the OpenAPI document the API serves: the same operations, roles and status codes."""

from __future__ import annotations

import re
from pathlib import Path

from chalicelib.api.openapi import document

DOC = Path(__file__).resolve().parents[2] / "docs" / "API.md"
METHODS = ("get", "post", "put", "patch", "delete")
HEADING = re.compile(r"^### `(GET|POST|PUT|PATCH|DELETE) (/\S*)`\s*$")


def served() -> dict[str, dict]:
    """Every operation of the OpenAPI document (preflights are the gateway's, not operations a client calls)."""
    return {f"{method.upper()} {path}": operation for path, item in document()["paths"].items()
            for method, operation in item.items() if method in METHODS}


def documented(text: str) -> dict[str, dict[str, list[str]]]:
    """Each ``### `METHOD /path` `` heading with the ``Roles:`` and ``Answers:`` lines of its section."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for line in text.splitlines():
        match = HEADING.match(line)
        if match:
            key = f"{match.group(1)} {match.group(2)}"
            assert key not in sections, f"{key} is documented twice"
            current = sections[key] = {}
        elif line.startswith("#"):
            current = None
        elif current is not None and line.startswith(("Roles:", "Answers:")):
            name, _, values = line.partition(":")
            assert name not in current, f"two {name} lines under one heading"
            current[name] = [value.strip() for value in values.split(",") if value.strip()]
    return sections


def test_parser_reads_headings_roles_and_answers():
    sample = "## Leads\n\n### `GET /v1/x/{id}`\n\nRoles: agent, admin\nAnswers: 200, 404\n\n### `POST /v1/y`\n" \
             "Roles: none (no key)\nAnswers: 201\n## Other\nRoles: ignored\n"
    assert documented(sample) == {"GET /v1/x/{id}": {"Roles": ["agent", "admin"], "Answers": ["200", "404"]},
                                  "POST /v1/y": {"Roles": ["none (no key)"], "Answers": ["201"]}}


def test_every_served_operation_is_documented_and_every_documented_one_is_served():
    doc, api = documented(DOC.read_text()), served()
    assert sorted(set(api) - set(doc)) == [], "served but not in docs/API.md"
    assert sorted(set(doc) - set(api)) == [], "in docs/API.md but not served"


def test_each_operation_lists_its_roles_and_every_status_code_it_declares():
    doc = documented(DOC.read_text())
    wrong = []
    for key, operation in served().items():
        section = doc.get(key)
        if section is None:
            continue  # reported by the test above
        roles = operation.get("x-roles") or []
        expected_roles = sorted(roles) if roles else ["none (no key)"]
        if sorted(section.get("Roles", [])) != expected_roles:
            wrong.append((key, "Roles", section.get("Roles"), expected_roles))
        if sorted(section.get("Answers", [])) != sorted(operation["responses"]):
            wrong.append((key, "Answers", section.get("Answers"), sorted(operation["responses"])))
    assert wrong == []


def test_the_readme_points_to_this_page_instead_of_repeating_it():
    readme = (DOC.parents[1] / "README.md").read_text()
    assert "docs/API.md" in readme
    assert "kept beside the project" not in readme
