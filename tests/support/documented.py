"""Holding an answer against the OpenAPI document: its status is documented, and its content type, body and
headers are the documented ones. Used on every unit-test request, so the document follows the code."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator


@lru_cache(maxsize=1)
def _document() -> dict[str, Any]:
    from chalicelib.api.openapi import document

    return document()


@lru_cache(maxsize=1)
def _templates() -> list[tuple[re.Pattern[str], str]]:
    return [(re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", path) + "$"), path) for path in _document()["paths"]]


def operation_of(method: str, path: str) -> tuple[str, dict[str, Any]] | None:
    """The documented template and operation a request reaches, or None for an undocumented one."""
    bare = path.split("?", 1)[0]
    for pattern, template in _templates():
        if pattern.match(bare):
            operation = _document()["paths"][template].get(method.lower())
            return (template, operation) if operation else None
    return None


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node and node["$ref"].startswith("#/components/responses/"):
        node = _document()["components"]["responses"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _validate(schema: dict[str, Any], value: Any, where: str) -> None:
    root = {**_document(), **schema}  # "#/components/..." references resolve against the document
    errors = sorted(Draft202012Validator(root).iter_errors(value), key=lambda error: list(error.path))
    assert not errors, f"{where}: " + "; ".join(f"{list(e.path)}: {e.message[:200]}" for e in errors[:5])


def _not_json(constant: str) -> None:
    raise AssertionError(f"the answer holds {constant}, which is not JSON")


def check_answer(method: str, path: str, status: int, headers: dict[str, str], body: bytes) -> None:
    """Raise AssertionError when an answer to a documented operation is not what the document says."""
    found = operation_of(method, path)
    if found is None or status >= 500:
        return  # unknown routes and methods are the gateway's; 5xx are never documented (tests assert them)
    template, operation = found
    where = f"{method.upper()} {template} -> {status}"
    documented = operation["responses"].get(str(status))
    assert documented is not None, f"{where} is not documented"
    documented = _resolve(documented)
    lower = {name.lower(): value for name, value in headers.items()}
    media_type = (lower.get("content-type") or "").split(";")[0].strip()
    if "content" not in documented:  # documented as bodiless (204)
        assert not body, f"{where}: a body where none is documented"
    else:
        assert media_type in documented["content"], f"{where}: undocumented Content-Type {media_type!r}"
        schema = documented["content"][media_type]["schema"]
        value = json.loads(body, parse_constant=_not_json) if media_type == "application/json" else body.decode()
        _validate(schema, value, where)
    for name, header in documented.get("headers", {}).items():
        header = _document()["components"]["headers"][header["$ref"].rsplit("/", 1)[1]] if "$ref" in header else header
        if name.lower() not in lower:
            assert not header.get("required"), f"{where}: header {name} missing"
            continue
        _validate(header["schema"], lower[name.lower()], f"{where} header {name}")
