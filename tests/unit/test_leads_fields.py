"""Custom fields: declared with a type and a category, never special-category data."""

from __future__ import annotations

import pytest

from tests.support.http import assert_error, bearer, body_of
from tests.support.leads import lead_body, post_lead

FIELDS = [{"name": "budget", "type": "number", "category": "commercial"},
          {"name": "city", "type": "string", "category": "location"},
          {"name": "wants_callback", "type": "boolean", "category": "preference"},
          {"name": "visit_date", "type": "date", "category": "preference"}]


@pytest.fixture
def declared(operator, tenant):
    answer = operator("admin_define_fields", {"tenant_id": tenant, "fields": FIELDS})
    assert answer["fields"] == FIELDS
    return tenant


@pytest.mark.parametrize(
    "field",
    [{"name": "blood_group", "type": "string", "category": "other"},
     {"name": "religion", "type": "string", "category": "preference"},
     {"name": "Caste", "type": "string", "category": "other"},
     {"name": "sexualOrientation", "type": "string", "category": "other"},
     {"name": "notes", "type": "string", "category": "health"},
     {"name": "community", "type": "string", "category": "ethnicity"},
     {"name": "party_affiliation", "type": "string", "category": "other"},
     {"name": "fingerprint_hash", "type": "string", "category": "identity"}],
)
def test_special_categories_are_refused_by_category_or_name(operator, tenant, field):
    answer = operator("admin_define_fields", {"tenant_id": tenant, "fields": [field]})
    assert answer["error"]["code"] == "special_category"


def test_ordinary_fields_near_special_words_are_accepted(operator, tenant):
    fields = [{"name": n, "type": "string", "category": "location"} for n in ("union_territory", "trace_id", "embrace")]
    assert "error" not in operator("admin_define_fields", {"tenant_id": tenant, "fields": fields})


@pytest.mark.parametrize(
    "fields",
    [[{"name": "Bad Name", "type": "string", "category": "other"}],
     [{"name": "phone", "type": "string", "category": "contact"}],
     [{"name": "x", "type": "blob", "category": "other"}],
     [{"name": "x", "type": "string", "category": "made_up"}],
     [{"name": "x", "type": "string", "category": "other"}, {"name": "x", "type": "number", "category": "other"}]],
)
def test_malformed_declarations_are_validation_errors(operator, tenant, fields):
    answer = operator("admin_define_fields", {"tenant_id": tenant, "fields": fields})
    assert answer["error"]["code"] == "validation_error"


def test_declared_fields_are_stored_typed(client, issue_key, declared):
    widget, admin = issue_key("widget"), issue_key("admin")
    values = {"budget": 250000, "city": "Pune", "wants_callback": True, "visit_date": "2026-12-01"}
    answer = body_of(post_lead(client, widget, lead_body(fields=values)))
    lead = body_of(client.http.get(f"/v1/leads/{answer['lead_id']}", headers=bearer(admin)))
    assert lead["fields"] == values


def test_undeclared_field_is_refused(client, issue_key, declared):
    error = assert_error(post_lead(client, issue_key("widget"), lead_body(fields={"shoe_size": 9})),
                         400, "undeclared_field")
    assert error["details"] == [{"field": "fields.shoe_size", "problem": "not declared by the tenant"}]


def test_special_category_field_is_refused_even_undeclared(client, issue_key, declared):
    response = post_lead(client, issue_key("widget"), lead_body(fields={"religion": "x", "city": "Pune"}))
    assert_error(response, 400, "special_category")


@pytest.mark.parametrize("values", [{"budget": "lots"}, {"budget": True}, {"wants_callback": "yes"},
                                    {"visit_date": "tomorrow"}, {"city": "x" * 501}])
def test_wrongly_typed_fields_are_validation_errors(client, issue_key, declared, values):
    assert_error(post_lead(client, issue_key("widget"), lead_body(fields=values)), 400, "validation_error")
