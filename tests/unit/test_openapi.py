"""The OpenAPI document describes exactly the routes the app serves, with the models it validates and answers with."""

from __future__ import annotations

import pytest

import app as app_module
from chalicelib.api.openapi import API, OPERATIONS
from chalicelib.api.operations import Operation
from tests.support.http import body_of

LEAD_FILTERS = ("stage", "agent_id", "source", "created_from", "created_to")  # no identifiers: not personal data


def test_document_and_routes_match_exactly(client):
    response = client.http.get("/v1/openapi.json")
    assert response.status_code == 200
    document = body_of(response)
    assert document["openapi"] == "3.1.0"
    served = {(path, method.lower()) for path, methods in app_module.app.routes.items() for method in methods}
    documented = {(path, method) for path, operations in document["paths"].items() for method in operations}
    assert documented == served == set(OPERATIONS)


def test_each_route_is_served_from_its_one_declaration():
    """The table is read off the blueprints the app registers: one declaration per served route, none left over."""
    declared = [operation for blueprint in API for operation in blueprint.operations]
    assert [OPERATIONS[operation.key] for operation in declared] == declared
    assert sum(len(methods) for methods in app_module.app.routes.values()) == len(declared)
    for operation in declared:
        assert operation.method in app_module.app.routes[operation.path]
    assert OPERATIONS[("/v1/calls", "post")].roles == ("agent",) and OPERATIONS[("/v1/health", "get")].roles is None


def test_preflights_are_derived_from_the_routes_browsers_call():
    browser = {operation.path: operation.method for operation in OPERATIONS.values() if operation.browser}
    preflights = {operation.path: operation for operation in OPERATIONS.values() if operation.method == "OPTIONS"}
    assert set(preflights) == set(browser) and "/v1/me" not in browser
    assert all(preflights[path].allows == (method,) and preflights[path].roles is None
               for path, method in browser.items())
    assert preflights["/v1/privacy-requests/{request_id}"].operation_id == "preflightPrivacyRequestsRequestId"


def test_a_declaration_is_checked():
    from chalice import Blueprint

    from chalicelib.api.endpoint import ApiBlueprint, endpoint
    from chalicelib.api.routes import operations_table

    with pytest.raises(ValueError, match="METHOD /path"):
        Operation("/v1/x", "getX", "X", None, None)
    with pytest.raises(ValueError, match="replay"):
        Operation("POST /v1/x", "postX", "X", None, None, replay="never")
    with pytest.raises(TypeError, match="come from the Operation"):
        endpoint(Blueprint(__name__), Operation("GET /v1/x", "getX", "X", None, None), roles=None)
    first, second = ApiBlueprint("first"), ApiBlueprint("second")
    endpoint(first, Operation("GET /v1/x", "getX", "X", None, None))(lambda call: {})
    endpoint(second, Operation("POST /v1/x", "getX", "X again", None, None))(lambda call: {})
    with pytest.raises(ValueError, match="declared twice"):
        operations_table([first, second])


def test_request_bodies_are_the_validation_models(client):
    document = body_of(client.http.get("/v1/openapi.json"))
    schemas = document["components"]["schemas"]
    lead = schemas["LeadInput"]
    assert lead["additionalProperties"] is False
    assert {"name", "phone", "email", "consent", "fields", "date_of_birth", "utm", "source"} <= set(lead["properties"])
    # The lead's consent and the consent ledger's input are different models with different names.
    assert set(schemas["LeadConsentInput"]["properties"]) == {"purposes", "policy_version"}
    assert "grants" in schemas["ConsentInput"]["properties"]
    calls = schemas["CallBatchInput"]
    assert calls["properties"]["events"]["maxItems"] == 100
    assert document["paths"]["/v1/calls"]["post"]["x-roles"] == ["agent"]


def test_responses_are_the_response_models(client):
    document = body_of(client.http.get("/v1/openapi.json"))
    schemas = document["components"]["schemas"]
    created = document["paths"]["/v1/leads"]["post"]["responses"]
    assert created["201"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/LeadAnswer"}
    assert created["200"] == created["201"]
    assert created["201"]["links"]["getLead"]["parameters"] == {"lead_id": "$response.body#/lead_id"}
    view = schemas["LeadView"]
    assert view["additionalProperties"] is False and "consents" in view["required"]
    assert schemas["CallResult"]["required"] == ["client_event_id", "status"]
    assert "null" not in str(schemas["CallResult"]["properties"]["reason"])  # left out, never null
    assert document["paths"]["/v1/health"]["get"]["responses"]["200"]["headers"]["Cache-Control"]


def test_every_operation_documents_the_errors_it_can_answer(client):
    document = body_of(client.http.get("/v1/openapi.json"))
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            statuses = set(operation["responses"])
            assert "415" in statuses, (path, method)
            assert "4XX" not in statuses and not any(status.startswith("5") for status in statuses)
            if operation["security"]:
                assert operation["x-roles"] and {"401", "403"} <= statuses, (path, method)
                if method == "post":
                    assert "409" in statuses
                    assert any(p["name"] == "Idempotency-Key" for p in operation["parameters"]), (path, method)
            if method in ("post", "patch"):
                assert {"400", "413"} <= statuses, (path, method)
            if "{" in path:
                assert "404" in statuses, (path, method)
    error = document["components"]["responses"]["Error404"]["content"]["application/json"]["schema"]
    assert error == {"$ref": "#/components/schemas/Error"}
    # Tokens and identifiers never go in URLs: a header or a body instead.
    assert document["paths"]["/v1/preferences"]["get"]["parameters"] == [
        {"name": "X-Preferences-Token", "in": "header", "required": True,
         "description": "The signed, expiring token of a preferences link", "schema": {"type": "string"}}]
    in_urls = {(path, method, parameter["name"]) for path, item in document["paths"].items()
               for method, operation in item.items() for parameter in operation.get("parameters", [])
               if parameter["in"] == "query" and parameter["name"] not in ("limit", "cursor", "status")
               and not (path.startswith("/v1/leads") and parameter["name"] in LEAD_FILTERS)
               # the reports' day ranges and the audit log's filters: days, key ids and action names, no identifiers
               and not (path in ("/v1/reports/calls", "/v1/audit")
                        and parameter["name"] in ("from", "to", "actor", "action"))}
    assert in_urls == {("/v1/consents", "get", name) for name in ("email", "phone", "visitor_id")} | {
        ("/v1/leads", "get", "q")}
    search = next(p for p in document["paths"]["/v1/leads"]["get"]["parameters"] if p["name"] == "q")
    assert search["deprecated"] and "POST /v1/leads/search" in search["description"]
    retired = document["paths"]["/v1/consents"]["get"]
    assert all(parameter["deprecated"] and "POST /v1/consents/lookup" in parameter["description"]
               for parameter in retired["parameters"])
    assert set(retired["responses"]) == {"400", "401", "403", "415"}  # it never succeeds
    assert {p["name"] for p in document["paths"]["/v1/leads"]["get"]["parameters"]} == {
        "limit", "cursor", "q", *LEAD_FILTERS}


def test_two_models_of_one_name_are_refused():
    from chalicelib.api.openapi import _Schemas

    schemas = _Schemas()
    schemas.ref("chalicelib.services.rights.consents:ConsentInput", "validation")
    schemas.ref("chalicelib.services.rights.consents:ConsentInput", "validation")  # the same model again is fine
    schemas.schemas["LeadConsentInput"] = {"type": "object"}
    with pytest.raises(ValueError, match="LeadConsentInput"):
        schemas.ref("chalicelib.services.leads.inputs:LeadInput", "validation")


def test_document_is_valid_openapi_3_1():
    from openapi_spec_validator import validate

    from chalicelib.api.openapi import document

    validate(document())


def test_answers_are_held_against_the_document():
    from tests.support.documented import check_answer

    check_answer("GET", "/v1/health", 200, {"Content-Type": "application/json", "Cache-Control": "no-store"},
                 b'{"status": "ok"}')
    with pytest.raises(AssertionError, match="not documented"):
        check_answer("GET", "/v1/health", 404, {"Content-Type": "application/json"}, b"{}")
    with pytest.raises(AssertionError, match="extra"):
        check_answer("GET", "/v1/health", 200, {"Content-Type": "application/json", "Cache-Control": "no-store"},
                     b'{"status": "ok", "extra": 1}')
    with pytest.raises(AssertionError, match="Cache-Control"):
        check_answer("GET", "/v1/health", 200, {"Content-Type": "application/json"}, b'{"status": "ok"}')
    with pytest.raises(AssertionError, match="Content-Type"):
        check_answer("GET", "/v1/me", 401, {"Content-Type": "text/html"}, b"<p>no</p>")


def test_an_operation_may_answer_other_content_than_json():
    from chalicelib.api.openapi import _operation, _Schemas

    page = Operation("GET /v1/pages/x", "getPage", "A page", None, {"type": "string"}, content_type="text/html",
                     cache_control="public, max-age=300")
    documented = _operation(page, _Schemas())
    success = documented["responses"]["200"]
    assert success["content"] == {"text/html": {"schema": {"type": "string"}}}
    assert success["headers"]["Cache-Control"]["schema"]["const"] == "public, max-age=300"
    assert documented["responses"]["415"] == {"$ref": "#/components/responses/Error415"}
    assert documented["security"] == [] and "x-roles" not in documented
