"""Every error, from our code or from Chalice itself, has the contract's shape."""

from __future__ import annotations

import json

import pytest
from chalice import Blueprint
from chalice.test import Client

from chalicelib.api.application import LeadVaultChalice
from chalicelib.api.endpoint import Call, endpoint
from chalicelib.api.jsonbody import MAX_BODY_BYTES
from tests.support.http import assert_error, bearer, body_of


def build_probe_app() -> LeadVaultChalice:
    """An app with test-only routes that exercise the shared endpoint wrapper."""
    probe = Blueprint(__name__)

    @endpoint(probe, "/probe/echo", methods=("POST",), roles=("admin",))
    def echo(call: Call) -> dict:
        return {"received": call.body, "tenant_id": call.caller.tenant_id}

    @endpoint(probe, "/probe/boom", roles=None)
    def boom(call: Call) -> dict:
        raise ValueError("secret detail +919876543210")

    app = LeadVaultChalice(app_name="probe", configure_logs=False)
    app.register_blueprint(probe)
    return app


@pytest.fixture
def probe(tables):
    with Client(build_probe_app(), stage_name="test") as test_client:
        yield test_client


@pytest.fixture
def admin_headers(issue_key) -> dict[str, str]:
    return bearer(issue_key("admin"), **{"Content-Type": "application/json"})


def test_health_needs_no_key(client):
    response = client.http.get("/v1/health")
    assert response.status_code == 200
    assert body_of(response) == {"status": "ok"}


def test_valid_json_reaches_the_handler(probe, admin_headers, tenant):
    response = probe.http.post("/probe/echo", headers=admin_headers, body=json.dumps({"a": [1, "ü"]}))
    assert response.status_code == 200
    assert body_of(response) == {"received": {"a": [1, "ü"]}, "tenant_id": tenant}


@pytest.mark.parametrize(
    "raw",
    [b"{", b'{"a": 1,}', b"\xff\xfe{}", b'{"a": NaN}', b'{"a": 1, "a": 2}', b"[" * 60000],
    ids=["truncated", "trailing-comma", "not-utf8", "nan", "duplicate-key", "deep-nesting"],
)
def test_malformed_json_is_invalid_json(probe, admin_headers, raw):
    assert_error(probe.http.post("/probe/echo", headers=admin_headers, body=raw), 400, "invalid_json")


@pytest.mark.parametrize(
    ("raw", "why"),
    [(b"[1, 2]", "array"), (b'"text"', "string"), (b'{"a": "\\ud800"}', "lone surrogate"),
     (b'{"a": "x\\u0000y"}', "nul"), (b'{"a":' * 20 + b"1" + b"}" * 20, "nesting")],
)
def test_bodies_no_store_could_keep_are_validation_errors(probe, admin_headers, raw, why):
    assert_error(probe.http.post("/probe/echo", headers=admin_headers, body=raw), 400, "validation_error")


def test_body_over_64_kib_is_413(probe, admin_headers):
    raw = json.dumps({"pad": "x" * MAX_BODY_BYTES}).encode()
    assert_error(probe.http.post("/probe/echo", headers=admin_headers, body=raw), 413, "payload_too_large")


def test_body_of_exactly_64_kib_is_accepted(probe, admin_headers):
    raw = json.dumps({"pad": ""}).encode()
    raw = json.dumps({"pad": "x" * (MAX_BODY_BYTES - len(raw))}).encode()
    assert len(raw) == MAX_BODY_BYTES
    assert probe.http.post("/probe/echo", headers=admin_headers, body=raw).status_code == 200


def test_unexpected_exception_is_a_contract_500_without_details(probe, capfd):
    response = probe.http.get("/probe/boom")
    error = assert_error(response, 500, "internal_error")
    assert "919876543210" not in json.dumps(error)
    logged = capfd.readouterr().out
    assert "ValueError" in logged
    assert "919876543210" not in logged


def test_wrong_method_is_contract_405(client):
    assert_error(client.http.post("/v1/health", body=b"{}"), 405, "method_not_allowed")


def test_wrong_content_type_is_contract_415(probe, admin_headers):
    headers = {**admin_headers, "Content-Type": "text/plain"}
    assert_error(probe.http.post("/probe/echo", headers=headers, body=b"{}"), 415, "unsupported_media_type")


def test_wrong_role_is_403(probe, issue_key):
    for role in ("widget", "agent"):
        headers = bearer(issue_key(role, **({"agent_id": "asha"} if role == "agent" else {})),
                         **{"Content-Type": "application/json"})
        assert_error(probe.http.post("/probe/echo", headers=headers, body=b"{}"), 403, "forbidden")


def test_auth_comes_before_body_parsing(probe):
    response = probe.http.post("/probe/echo", headers={"Content-Type": "application/json"}, body=b"{")
    assert_error(response, 401, "unauthorized")
