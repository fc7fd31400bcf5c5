"""Tenant-declared custom lead fields: declaration by operators, validation of submitted values."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from chalicelib.errors import SpecialCategory, UndeclaredField, ValidationFailed
from chalicelib.services import audit
from chalicelib.services.leads.special_categories import SPECIAL_CATEGORIES, special_category_of
from chalicelib.services.tenants.tenancy import Tenant, require_tenant
from chalicelib.services.validation import StrictInput, parse_input
from chalicelib.store import tenants

FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
CATEGORIES = ("contact", "identity", "preference", "commercial", "location", "other")
BUILT_IN = frozenset({"name", "phone", "email", "source", "fields", "consent", "date_of_birth", "utm"})
MAX_STRING = 500
MAX_LABEL = 60
# A label is plain text: no markup, no control characters (forms set it as text, but other readers may not).
LABEL_REFUSED = re.compile(r"[<>\x00-\x1f\x7f]")


class FieldInput(StrictInput):
    name: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    type: Literal["string", "number", "boolean", "date"]
    category: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    # What forms show people instead of the name ("May we call you back?" for ``callback_ok``).
    label: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_LABEL)] | None = None


class DefineFieldsInput(StrictInput):
    tenant_id: str
    fields: list[FieldInput] = Field(max_length=50)


def define_fields(payload: object) -> dict[str, Any]:
    """Replace the tenant's declared fields. Special categories are refused, by category or name."""
    data = parse_input(DefineFieldsInput, payload)
    special = [
        {"field": f"fields.{index}", "problem": "special-category data is not collected"}
        for index, field in enumerate(data.fields)
        if field.category.lower() in SPECIAL_CATEGORIES or special_category_of(field.name)
        or (field.label is not None and special_category_of(field.label))
    ]
    if special:
        raise SpecialCategory(details=special)
    problems = []
    for index, field in enumerate(data.fields):
        if not FIELD_NAME.match(field.name) or field.name in BUILT_IN:
            problems.append({"field": f"fields.{index}.name",
                             "problem": "lower-case letters, digits and _, not a built-in field name"})
        if field.category not in CATEGORIES:
            problems.append({"field": f"fields.{index}.category", "problem": f"one of {', '.join(CATEGORIES)}"})
        if field.label is not None and LABEL_REFUSED.search(field.label):
            problems.append({"field": f"fields.{index}.label",
                             "problem": "plain text: no markup (< or >) and no control characters"})
    if len({field.name for field in data.fields}) != len(data.fields):
        problems.append({"field": "fields", "problem": "names must be unique"})
    if problems:
        raise ValidationFailed(details=problems)
    tenant = require_tenant(data.tenant_id)
    declared = [field.model_dump(exclude_none=True) for field in data.fields]
    tenants.set_fields(tenant, declared)
    audit.record(data.tenant_id, audit.OPERATOR, "tenant.define_fields", data.tenant_id)
    return {"tenant_id": data.tenant_id, "fields": declared}


def declared_fields(tenant: Tenant) -> dict[str, dict[str, str]]:
    return {str(field["name"]): {k: str(v) for k, v in field.items()} for field in tenants.fields_of(tenant)}


def check_custom_fields(tenant: Tenant, values: dict[str, Any]) -> dict[str, Any]:
    """Validate submitted custom fields; special categories first, then declaration, then types."""
    special = [name for name in values if special_category_of(name)]
    if special:
        raise SpecialCategory(details=[{"field": f"fields.{name}", "problem": "special-category data"}
                                       for name in special])
    declared = declared_fields(tenant)
    undeclared = [name for name in values if name not in declared]
    if undeclared:
        raise UndeclaredField(details=[{"field": f"fields.{name}", "problem": "not declared by the tenant"}
                                       for name in undeclared])
    checked: dict[str, Any] = {}
    problems = []
    for name, value in values.items():
        try:
            checked[name] = _typed(declared[name]["type"], value)
        except ValueError as error:
            problems.append({"field": f"fields.{name}", "problem": str(error)})
    if problems:
        raise ValidationFailed(details=problems)
    return checked


def _typed(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "string":
        if not isinstance(value, str) or len(value) > MAX_STRING:
            raise ValueError(f"must be text of at most {MAX_STRING} characters")
        return value.strip()
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError("must be a number")
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value
    if not isinstance(value, str):
        raise ValueError("must be a date YYYY-MM-DD")
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise ValueError("must be a date YYYY-MM-DD") from None


def list_fields(tenant_id: str) -> dict[str, Any]:
    """The tenant's declared fields, for forms to render (names, types, categories, labels: no personal data)."""
    tenant = require_tenant(tenant_id)
    return {"items": [dict(field) for field in declared_fields(tenant).values()]}
