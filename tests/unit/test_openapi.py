"""The OpenAPI document describes exactly the routes the app serves, with the models it validates."""

from __future__ import annotations

import app as app_module
from chalicelib.api.openapi import OPERATIONS
from tests.support.http import body_of


def test_document_and_routes_match_exactly(client):
    response = client.http.get("/v1/openapi.json")
    assert response.status_code == 200
    document = body_of(response)
    assert document["openapi"] == "3.1.0"
    served = {(path, method.lower()) for path, methods in app_module.app.routes.items() for method in methods}
    documented = {(path, method) for path, operations in document["paths"].items() for method in operations}
    assert documented == served == set(OPERATIONS)


def test_request_bodies_are_the_validation_models(client):
    document = body_of(client.http.get("/v1/openapi.json"))
    lead = document["components"]["schemas"]["LeadInput"]
    assert lead["additionalProperties"] is False
    assert {"name", "phone", "email", "consent", "fields", "date_of_birth", "utm", "source"} <= set(lead["properties"])
    calls = document["components"]["schemas"]["CallBatchInput"]
    assert calls["properties"]["events"]["maxItems"] == 100
    assert document["paths"]["/v1/calls"]["post"]["x-roles"] == ["agent"]


def test_every_keyed_route_declares_its_roles_and_key(client):
    document = body_of(client.http.get("/v1/openapi.json"))
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if operation["security"]:
                assert operation["x-roles"], (path, method)
            assert "4XX" in operation["responses"]


def test_document_is_valid_openapi_3_1():
    from openapi_spec_validator import validate

    from chalicelib.api.openapi import document

    validate(document())
