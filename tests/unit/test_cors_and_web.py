"""CORS answers only a live widget key's origins; the widget script and hosted pages are served safely."""

from __future__ import annotations

import json

import pytest

from tests.support.http import assert_error, bearer, body_of

SHOP = "https://shop.example.com"
POLICY = {"policy_version": "2026-11", "source": "cookie_banner"}


def post(client, path: str, body: object, headers: dict[str, str]):
    return client.http.post(path, body=json.dumps(body), headers={"Content-Type": "application/json", **headers})


def preflight(client, path: str, origin: str, method: str = "POST"):
    return client.http.request("OPTIONS", path, headers={
        "Origin": origin, "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type"})


def test_preflight_answers_an_origin_only_while_a_widget_key_allows_it(client, issue_key, operator, tenant):
    key = issue_key("widget", allowed_origins=[SHOP])
    allowed = preflight(client, "/v1/leads", SHOP)
    assert allowed.status_code == 204
    assert allowed.headers["Access-Control-Allow-Origin"] == SHOP
    assert "authorization" in allowed.headers["Access-Control-Allow-Headers"].lower()
    assert "POST" in allowed.headers["Access-Control-Allow-Methods"]
    assert allowed.headers["Vary"] == "Origin"

    assert_error(preflight(client, "/v1/leads", SHOP, method="DELETE"), 403, "forbidden")
    assert_error(preflight(client, "/v1/fields", SHOP, method="POST"), 403, "forbidden")
    foreign = preflight(client, "/v1/leads", "https://evil.example")
    assert_error(foreign, 403, "forbidden")
    assert "Access-Control-Allow-Origin" not in foreign.headers

    operator("admin_revoke_api_key", {"tenant_id": tenant, "key_id": key["key_id"]})
    after = preflight(client, "/v1/leads", SHOP)
    assert_error(after, 403, "forbidden")
    assert "Access-Control-Allow-Origin" not in after.headers


def test_preflight_stays_open_while_another_key_still_allows_the_origin(client, issue_key, operator, tenant):
    first = issue_key("widget", allowed_origins=[SHOP])
    issue_key("widget", allowed_origins=[SHOP, "https://blog.example.com"])
    operator("admin_revoke_api_key", {"tenant_id": tenant, "key_id": first["key_id"]})
    assert preflight(client, "/v1/privacy-requests/req_x/verify", SHOP).status_code == 204
    assert preflight(client, "/v1/policies/current", "https://blog.example.com", method="GET").status_code == 204


@pytest.mark.parametrize("origin", ["null", "", "file://", "https://shop.example.com/path", "x" * 300])
def test_preflight_refuses_origins_that_are_not_web_origins(client, issue_key, origin):
    issue_key("widget", allowed_origins=[SHOP])
    assert_error(preflight(client, "/v1/consents", origin), 403, "forbidden")


def test_preflight_without_an_origin_is_refused(client, issue_key):
    issue_key("widget", allowed_origins=[SHOP])
    answer = client.http.request("OPTIONS", "/v1/leads", headers={"Access-Control-Request-Method": "POST"})
    assert_error(answer, 403, "forbidden")


def test_answers_carry_cors_only_for_the_keys_own_origins(client, issue_key):
    key = issue_key("widget", allowed_origins=[SHOP])
    body = {"visitor_id": "visitor-0001", "grants": {"performance": False}, **POLICY}
    ok = post(client, "/v1/consents", body, headers=bearer(key, Origin=SHOP))
    assert ok.status_code == 201
    assert ok.headers["Access-Control-Allow-Origin"] == SHOP and ok.headers["Vary"] == "Origin"

    # An error after authentication is readable by the widget too, so it can show it by the field.
    bad = post(client, "/v1/consents", {**body, "grants": {"cookies": True}}, headers=bearer(key, Origin=SHOP))
    assert_error(bad, 400, "validation_error")
    assert bad.headers["Access-Control-Allow-Origin"] == SHOP
    broken = client.http.post("/v1/consents", body=b"{nope",
                              headers=bearer(key, Origin=SHOP, **{"Content-Type": "application/json"}))
    assert_error(broken, 400, "invalid_json")
    assert broken.headers["Access-Control-Allow-Origin"] == SHOP

    foreign = post(client, "/v1/consents", body, headers=bearer(key, Origin="https://evil.example"))
    assert_error(foreign, 403, "forbidden")
    assert "Access-Control-Allow-Origin" not in foreign.headers


def test_keys_without_origins_and_staff_keys_get_no_cors(client, issue_key):
    body = {"visitor_id": "visitor-0002", "grants": {"advertising": False}, **POLICY}
    for key in (issue_key("widget"), issue_key("admin")):
        answer = post(client, "/v1/consents", body, headers=bearer(key, Origin=SHOP))
        assert answer.status_code == 201
        assert "Access-Control-Allow-Origin" not in answer.headers


def test_the_apis_own_pages_may_use_a_widget_key(client, issue_key, monkeypatch):
    monkeypatch.setenv("LEADVAULT_PUBLIC_URL", "https://api.leadvault.example/api")
    key = issue_key("widget", allowed_origins=[SHOP])
    own = "https://api.leadvault.example"
    answer = post(client, "/v1/privacy-requests", {"type": "access", "email": "a@example.com"},
                              headers=bearer(key, Origin=own))
    assert answer.status_code == 202
    assert preflight(client, "/v1/privacy-requests", own).status_code == 204
    # Browsers send no Origin on a same-origin GET, but do send Sec-Fetch-Site, which pages cannot forge.
    request_id = body_of(answer)["request_id"]
    status_path = f"/v1/privacy-requests/{request_id}"
    same_site = client.http.get(status_path, headers=bearer(key, **{"Sec-Fetch-Site": "same-origin"}))
    assert same_site.status_code == 200
    cross_site = client.http.get(status_path, headers=bearer(key, **{"Sec-Fetch-Site": "cross-site"}))
    assert_error(cross_site, 403, "forbidden")


def test_fields_lists_the_declared_fields_for_forms(client, issue_key, operator, tenant):
    operator("admin_define_fields", {"tenant_id": tenant, "fields": [
        {"name": "budget", "type": "number", "category": "commercial"},
        {"name": "visit_date", "type": "date", "category": "preference"}]})
    listed = body_of(client.http.get("/v1/fields", headers=bearer(issue_key("widget"))))
    assert listed == {"items": [{"name": "budget", "type": "number", "category": "commercial"},
                                {"name": "visit_date", "type": "date", "category": "preference"}]}
    assert_error(client.http.get("/v1/fields", headers=bearer(issue_key("agent", agent_id="a1"))), 403, "forbidden")
    assert_error(client.http.get("/v1/fields"), 401, "unauthorized")


def test_widget_script_and_pages_are_served_with_strict_headers(client):
    script = client.http.get("/v1/widget.js")
    assert script.status_code == 200
    assert script.headers["Content-Type"].startswith("application/javascript")
    assert b"leadvault:consent" in script.body
    for page in ("/v1/pages/privacy", "/v1/pages/preferences"):
        answer = client.http.get(page)
        assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/html")
        policy = answer.headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
        html = answer.body.decode()
        assert "http://" not in html and "https://" not in html  # no external assets of any kind
        assert '<html lang="en">' in html and "widget.js" in html


def test_preferences_links_open_the_page_with_the_token_out_of_server_logs(tables, tenant):
    from chalicelib import invocation
    from chalicelib.services.rights.preferences import preferences_url
    from chalicelib.services.tenants.tenancy import require_tenant

    with invocation.invocation():
        url = preferences_url(require_tenant(tenant), "lead_x")
    assert "/v1/pages/preferences#token=" in url and "?" not in url


def test_a_refused_key_is_readable_by_the_widget_only_from_an_indexed_origin(client, issue_key, operator, tenant):
    key = issue_key("widget", allowed_origins=[SHOP])
    operator("admin_revoke_api_key", {"tenant_id": tenant, "key_id": key["key_id"]})
    issue_key("widget", allowed_origins=[SHOP])  # the site still has a live key
    body = {"visitor_id": "visitor-0003", "grants": {"functional": True}, **POLICY}
    revoked = post(client, "/v1/consents", body, bearer(key, Origin=SHOP))
    assert_error(revoked, 401, "unauthorized")
    assert revoked.headers["Access-Control-Allow-Origin"] == SHOP
    elsewhere = post(client, "/v1/consents", body, bearer(key, Origin="https://evil.example"))
    assert_error(elsewhere, 401, "unauthorized")
    assert "Access-Control-Allow-Origin" not in elsewhere.headers


def test_reindexing_restores_the_origins_of_live_widget_keys_only(client, issue_key, operator, tenant):
    from chalicelib import invocation
    from chalicelib.services.access.api_keys import reindex_origins
    from chalicelib.store.models.claims import CorsOriginRecord

    live = issue_key("widget", allowed_origins=[SHOP])
    revoked = issue_key("widget", allowed_origins=["https://old.example.com"])
    operator("admin_revoke_api_key", {"tenant_id": tenant, "key_id": revoked["key_id"]})
    with invocation.invocation():
        for origin in (SHOP, "https://old.example.com"):
            CorsOriginRecord(f"cors#{origin}").delete()  # as for keys issued before the index
    assert preflight(client, "/v1/leads", SHOP).status_code == 403
    with invocation.invocation():
        assert reindex_origins() == 1
    assert preflight(client, "/v1/leads", SHOP).status_code == 204
    assert preflight(client, "/v1/leads", "https://old.example.com").status_code == 403
    assert live["key_id"]
