"""Custom field labels: what forms show people instead of a field's name, plain text only."""

from __future__ import annotations

import pytest

from tests.support.http import bearer, body_of


def test_a_label_is_stored_with_its_field_and_served_to_forms(operator, tenant, client, issue_key):
    fields = [{"name": "callback_ok", "type": "boolean", "category": "preference",
               "label": "  May we call you back?  "},
              {"name": "budget", "type": "number", "category": "commercial"}]
    answer = operator("admin_define_fields", {"tenant_id": tenant, "fields": fields})
    assert answer["fields"][0]["label"] == "May we call you back?"  # trimmed
    assert "label" not in answer["fields"][1]  # none given: none stored
    listed = body_of(client.http.get("/v1/fields", headers=bearer(issue_key("widget"))))
    labels = {item["name"]: item.get("label") for item in listed["items"]}
    assert labels == {"callback_ok": "May we call you back?", "budget": None}


@pytest.mark.parametrize("label", ["", "   ", "x" * 61, "<b>Call me</b>", "Call\nme", "a>b", 7])
def test_a_label_that_is_not_short_plain_text_is_refused(operator, tenant, label):
    field = {"name": "callback_ok", "type": "boolean", "category": "preference", "label": label}
    answer = operator("admin_define_fields", {"tenant_id": tenant, "fields": [field]})
    assert answer["error"]["code"] == "validation_error"
    assert any(detail["field"].startswith("fields.0.label") for detail in answer["error"]["details"])


def test_a_label_of_60_characters_is_accepted(operator, tenant):
    field = {"name": "callback_ok", "type": "boolean", "category": "preference", "label": "y" * 60}
    assert operator("admin_define_fields", {"tenant_id": tenant, "fields": [field]})["fields"][0]["label"] == "y" * 60


def test_a_label_naming_special_category_data_is_refused(operator, tenant):
    field = {"name": "notes", "type": "string", "category": "other", "label": "Your religion"}
    answer = operator("admin_define_fields", {"tenant_id": tenant, "fields": [field]})
    assert answer["error"]["code"] == "special_category"
