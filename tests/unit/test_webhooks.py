"""Webhooks: subscriptions (admins, per tenant), signed deliveries, the SSRF guard, the delivery log."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time

import pytest

from chalicelib.notify import webhooks
from tests.support.http import assert_error, bearer, body_of
from tests.support.tables import dump_text, scan_everything
from tests.support.webhook_receiver import readme_snippet, readme_verify, receiving, receiving_tls

PUBLIC = "93.184.216.34"


def post(client, key, path, body=None, **headers):
    raw = b"" if body is None else json.dumps(body).encode()
    return client.http.post(path, body=raw, headers=bearer(key, **{"Content-Type": "application/json", **headers}))


def create(client, admin, url, event_types=("lead.created", "lead.erased"), **headers):
    return post(client, admin, "/v1/webhooks", {"url": url, "event_types": list(event_types)}, **headers)


def created(client, admin, url, **kwargs):
    response = create(client, admin, url, **kwargs)
    assert response.status_code == 201, response.body
    return body_of(response)


@pytest.fixture
def resolving(monkeypatch):
    """Host names resolve as the test says (the lookup the guard makes), and every lookup is counted."""
    answers: dict[str, list[str]] = {}
    lookups: list[str] = []
    real = socket.getaddrinfo

    def fake(host, port, *args, **kwargs):
        lookups.append(host)
        if host in answers:
            family = {4: socket.AF_INET, 6: socket.AF_INET6}
            return [(family[6 if ":" in a else 4], socket.SOCK_STREAM, 6, "", (a, port)) for a in answers[host]]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    answers["lookups"] = lookups  # type: ignore[assignment]
    return answers


# --- subscriptions -------------------------------------------------------------------------

def test_create_answers_the_secret_once_and_lists_without_it(client, admin, resolving):
    resolving["hooks.example.com"] = [PUBLIC]
    answer = created(client, admin, "https://hooks.example.com/in?source=lv",
                     event_types=["lead.erased", "lead.erased"])
    assert answer["webhook_id"].startswith("whk_") and len(answer["webhook_id"]) == 36
    assert answer["secret"].startswith("whsec_") and len(answer["secret"]) == 6 + 64
    assert answer["event_types"] == ["lead.erased"] and answer["status"] == "active"
    listed = body_of(client.http.get("/v1/webhooks", headers=bearer(admin)))["items"]
    assert [item["webhook_id"] for item in listed] == [answer["webhook_id"]]
    assert "secret" not in listed[0] and listed[0]["url"] == "https://hooks.example.com/in?source=lv"
    # Stored sealed only: the secret appears nowhere in any table.
    assert answer["secret"] not in dump_text(scan_everything())


def test_only_admin_keys_reach_webhooks(client, issue_key, widget):
    agent = issue_key("agent", agent_id="asha")
    for key in (widget, agent):
        assert_error(create(client, key, "http://127.0.0.1:9/x"), 403, "forbidden")
        assert_error(client.http.get("/v1/webhooks", headers=bearer(key)), 403, "forbidden")
    assert_error(client.http.get("/v1/webhooks"), 401, "unauthorized")


def test_another_tenants_webhook_is_not_found(client, admin, operator, issue_key):
    mine = created(client, admin, "http://127.0.0.1:9/x")["webhook_id"]
    other_tenant = operator("admin_create_tenant", {"name": "Other", "default_region": "IN"})["tenant_id"]
    theirs = issue_key("admin", tenant_id=other_tenant)
    assert body_of(client.http.get("/v1/webhooks", headers=bearer(theirs)))["items"] == []
    assert_error(client.http.delete(f"/v1/webhooks/{mine}", headers=bearer(theirs)), 404, "not_found")
    assert_error(post(client, theirs, f"/v1/webhooks/{mine}/rotate"), 404, "not_found")
    assert_error(post(client, theirs, f"/v1/webhooks/{mine}/test"), 404, "not_found")
    assert_error(client.http.get(f"/v1/webhooks/{mine}/deliveries", headers=bearer(theirs)), 404, "not_found")
    assert_error(post(client, theirs, f"/v1/webhooks/{mine}/deliveries/evt_1/redeliver"), 404, "not_found")
    assert_error(post(client, admin, "/v1/webhooks/whk_nope/test"), 404, "not_found")
    assert len(body_of(client.http.get("/v1/webhooks", headers=bearer(admin)))["items"]) == 1


@pytest.mark.parametrize(("url", "problem"), [
    ("ftp://hooks.example.com/x", "https"),
    ("http://hooks.example.com/x", "https"),  # plain http only to localhost, only on local and test
    ("http://169.254.169.254/latest/meta-data/", "https"),
    ("https://169.254.169.254/latest/meta-data/", "private"),
    ("https://10.0.0.1/hook", "private"),
    ("https://192.168.1.20/hook", "private"),
    ("https://100.64.0.1/hook", "private"),  # shared (CGNAT)
    ("https://[::1]/hook", "private"),
    ("https://[::ffff:127.0.0.1]/hook", "private"),  # IPv4-mapped
    ("https://[::ffff:a9fe:a9fe]/hook", "private"),  # 169.254.169.254, mapped
    ("https://[fd00:ec2::254]/hook", "private"),  # AWS's IPv6 metadata address
    ("https://[64:ff9b::a00:1]/hook", "private"),  # NAT64 of 10.0.0.1
    ("https://0.0.0.0/hook", "private"),
    ("https://224.0.0.1/hook", "private"),
    ("https://metadata.google.internal/computeMetadata/v1/", "private"),
    ("https://rebind.example.com/hook", "private"),  # resolves to 127.0.0.1 (below)
    ("https://split.example.com/hook", "private"),  # one public and one private address
    ("https://user:pw@hooks.example.com/x", "user name"),
    ("https://nowhere.invalid/x", "does not resolve"),
    ("https:///x", "host"),
    ("https://hooks.example.com:99999/x", "port"),
    ("https://hooks.example.com:0/x", "port"),
    ("https://[::1/x", "host"),
    ("not a url", "https"),
])
def test_unsafe_urls_are_refused_and_nothing_is_stored(client, admin, resolving, url, problem):
    resolving.update({"hooks.example.com": [PUBLIC], "rebind.example.com": ["127.0.0.1"],
                      "split.example.com": [PUBLIC, "10.1.2.3"], "nowhere.invalid": []})
    error = assert_error(create(client, admin, url), 400, "validation_error")
    assert error["details"][0]["field"] == "url" and problem in error["details"][0]["problem"]
    assert url not in json.dumps(error)  # never echoed
    assert body_of(client.http.get("/v1/webhooks", headers=bearer(admin)))["items"] == []


@pytest.mark.parametrize("body", [
    {"url": "http://127.0.0.1:9/x", "event_types": ["lead.deleted"]},
    {"url": "http://127.0.0.1:9/x", "event_types": []},
    {"url": "http://127.0.0.1:9/x", "event_types": "lead.created"},
    {"url": "http://127.0.0.1:9/x"},
    {"event_types": ["lead.created"]},
    {"url": 7, "event_types": ["lead.created"]},
    {"url": "http://127.0.0.1:9/x", "event_types": ["lead.created"], "secret": "mine"},
])
def test_bad_bodies_are_400(client, admin, body):
    assert_error(post(client, admin, "/v1/webhooks", body), 400, "validation_error")
    assert body_of(client.http.get("/v1/webhooks", headers=bearer(admin)))["items"] == []


def test_names_that_cannot_be_looked_up_resolve_to_nothing():
    assert webhooks.resolve("hooks\x00.example.com", 443) == []
    assert webhooks.resolve("a" * 300 + ".example.com", 443) == []
    assert webhooks.resolve("::ffff:10.0.0.1", 443) == ["::ffff:a00:1"]


def test_http_to_localhost_only_on_local_stages():
    assert webhooks.check_url("http://127.0.0.1:8080/x", stage="test").addresses == ("127.0.0.1",)
    assert webhooks.check_url("http://localhost:8080/x", stage="local").host == "localhost"
    for stage in ("dev", "prod"):
        with pytest.raises(webhooks.UnsafeTarget) as refused:
            webhooks.check_url("http://127.0.0.1:8080/x", stage=stage)
        assert refused.value.kind == "scheme"
        with pytest.raises(webhooks.UnsafeTarget) as refused:
            webhooks.check_url("https://127.0.0.1/x", stage=stage)
        assert refused.value.kind == "private_address"


@pytest.mark.parametrize(("address", "public"), [
    ("93.184.216.34", True), ("2606:2800:220:1:248:1893:25c8:1946", True), ("8.8.8.8", True),
    ("10.0.0.1", False), ("172.16.5.4", False), ("192.168.0.1", False), ("127.0.0.1", False),
    ("169.254.169.254", False), ("100.100.100.200", False), ("0.0.0.0", False),  # noqa: S104
    ("255.255.255.255", False),
    ("::1", False), ("::", False), ("fe80::1", False), ("fc00::1", False), ("fd00:ec2::254", False),
    ("::ffff:10.0.0.1", False), ("::ffff:8.8.8.8", True), ("2002:0a00:0001::1", False), ("ff02::1", False),
    ("192.0.2.1", False), ("2001:db8::1", False), ("198.18.0.1", False),
])
def test_public_addresses(address, public):
    assert webhooks.is_public(address) is public


def test_a_url_that_turns_private_is_refused_at_delivery(client, admin, resolving):
    resolving["hooks.example.com"] = [PUBLIC]
    hook = created(client, admin, "https://hooks.example.com/x")["webhook_id"]
    resolving["hooks.example.com"] = ["10.0.0.7"]  # DNS now points inside
    delivery = body_of(post(client, admin, f"/v1/webhooks/{hook}/test"))
    assert (delivery["status"], delivery["last_error"], delivery["last_status"]) == ("failed", "private_address", None)


def test_the_connection_goes_to_the_checked_address(client, admin, resolving):
    """One lookup of the name per attempt (the guard's): the connection goes to the address, and Host keeps the name."""
    with receiving() as receiver:
        resolving["localhost"] = ["127.0.0.1"]
        hook = created(client, admin, f"http://localhost:{receiver.port}/x")["webhook_id"]
        resolving["lookups"].clear()
        delivery = body_of(post(client, admin, f"/v1/webhooks/{hook}/test"))
    assert delivery["status"] == "delivered"
    # the guard's lookup of the name, then only the checked address (a literal, which no DNS answer can change)
    assert resolving["lookups"][0] == "localhost" and set(resolving["lookups"][1:]) <= {"127.0.0.1"}
    assert receiver.requests[0].headers["host"] == f"localhost:{receiver.port}"


def test_https_goes_to_the_checked_address_with_the_hosts_name_for_sni_and_the_certificate(monkeypatch, tmp_path):
    """Pinned to 127.0.0.1 while the certificate is checked for the host's name (trusting only the test's CA)."""
    import ssl

    with receiving_tls("hooks.example.com", tmp_path) as (receiver, ca_file):
        monkeypatch.setattr(ssl.SSLContext, "load_default_certs",
                            lambda context, purpose=None: context.load_verify_locations(ca_file))
        target = webhooks.Target(True, "hooks.example.com", receiver.port, "/in", ("127.0.0.1",))
        outcome = webhooks._post(target, b"{}", {"Host": target.host_header})
        assert outcome == webhooks.Outcome(True, 200)
        assert receiver.requests[0].headers["host"] == f"hooks.example.com:{receiver.port}"
        other = webhooks.Target(True, "other.example.com", receiver.port, "/in", ("127.0.0.1",))
        assert webhooks._post(other, b"{}", {"Host": other.host_header}).error == "tls"
        monkeypatch.undo()  # the system's CAs only: a certificate of an unknown CA is refused
        assert webhooks._post(target, b"{}", {"Host": target.host_header}).error == "tls"
    assert len(receiver.requests) == 1


# --- signed deliveries ---------------------------------------------------------------------

def test_a_test_event_arrives_signed_and_verifies_with_the_readme_snippet(client, admin, tenant):
    verify = readme_verify()
    with receiving() as receiver:
        answer = created(client, admin, receiver.url())
        delivery = body_of(post(client, admin, f"/v1/webhooks/{answer['webhook_id']}/test"))
    assert delivery["status"] == "delivered" and delivery["attempts"] == 1 and delivery["last_status"] == 200
    [request] = receiver.requests
    assert request.path == "/hooks/leadvault"
    event = json.loads(request.body)
    assert set(event) == {"id", "type", "created_at", "tenant_id", "data"}
    assert (event["id"], event["type"], event["tenant_id"]) == (delivery["event_id"], "webhook.test", tenant)
    assert event["data"] == {"webhook_id": answer["webhook_id"]}
    headers = request.headers
    assert headers["leadvault-event-id"] == event["id"] and headers["leadvault-event-type"] == "webhook.test"
    signature = headers["leadvault-signature"]
    assert verify(answer["secret"], signature, request.body)
    assert not verify(answer["secret"], signature, request.body + b" ")
    assert not verify("whsec_" + "0" * 64, signature, request.body)
    stamp = int(signature.split(",")[0].removeprefix("t="))
    assert not verify(answer["secret"], signature, request.body, now=stamp + 301)  # a replay, too late
    assert verify(answer["secret"], signature, request.body, now=stamp + 299)
    assert not verify(answer["secret"], "v1=abc", request.body) and not verify(answer["secret"], "", request.body)


def test_signature_format():
    value = webhooks.signature("whsec_k", b'{"a":1}', 1700000000)
    assert value == "t=1700000000,v1=" + __import__("hmac").new(
        b"whsec_k", b'1700000000.{"a":1}', "sha256").hexdigest()


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_readme_javascript_snippet_verifies_the_same_signature():
    body = b'{"id":"evt_1","type":"webhook.test"}'
    now = int(time.time())
    good = webhooks.signature("whsec_js", body, now)
    script = readme_snippet("javascript") + (
        "\nconst [raw, header, now] = process.argv.slice(-3);\nconst body = Buffer.from(raw);\n"
        "process.stdout.write(JSON.stringify([verify('whsec_js', header, body, 300, Number(now)),"
        " verify('whsec_js', header, body, 300, Number(now) + 301),"
        " verify('whsec_other', header, body, 300, Number(now))]));\n")
    out = subprocess.run(["node", "-e", script, body.decode(), good, str(now)], capture_output=True, text=True,
                         check=True).stdout
    assert json.loads(out) == [True, False, False]


def test_rotation_stops_the_old_secret_at_once(client, admin):
    verify = readme_verify()
    with receiving() as receiver:
        answer = created(client, admin, receiver.url())
        hook = answer["webhook_id"]
        rotated = body_of(post(client, admin, f"/v1/webhooks/{hook}/rotate"))
        assert rotated["webhook_id"] == hook and rotated["secret"] != answer["secret"]
        post(client, admin, f"/v1/webhooks/{hook}/test")
    [request] = receiver.requests
    assert verify(rotated["secret"], request.headers["leadvault-signature"], request.body)
    assert not verify(answer["secret"], request.headers["leadvault-signature"], request.body)
    listed = body_of(client.http.get("/v1/webhooks", headers=bearer(admin)))["items"][0]
    assert listed["rotated_at"] == rotated["rotated_at"]


def test_delete_shreds_the_secret(client, admin):
    answer = created(client, admin, "http://127.0.0.1:9/x")
    hook = answer["webhook_id"]
    keys_before = [item for name, items in scan_everything().items() if name.endswith("person_keys")
                   for item in items if hook in item["key_ref"]["S"]]
    assert len(keys_before) == 1
    assert body_of(client.http.delete(f"/v1/webhooks/{hook}", headers=bearer(admin))) == {
        "webhook_id": hook, "deleted": True}
    dump = scan_everything()
    assert hook not in dump_text({name: items for name, items in dump.items() if name.endswith("person_keys")})
    assert body_of(client.http.get("/v1/webhooks", headers=bearer(admin)))["items"] == []
    assert_error(client.http.delete(f"/v1/webhooks/{hook}", headers=bearer(admin)), 404, "not_found")
    assert_error(post(client, admin, f"/v1/webhooks/{hook}/test"), 404, "not_found")


def test_changes_and_sends_are_audited(client, admin, tenant):
    from chalicelib import clock
    from chalicelib.services.audit import records_for_day

    with receiving() as receiver:
        hook = created(client, admin, receiver.url())["webhook_id"]
        event = body_of(post(client, admin, f"/v1/webhooks/{hook}/test"))["event_id"]
        post(client, admin, f"/v1/webhooks/{hook}/deliveries/{event}/redeliver")
        post(client, admin, f"/v1/webhooks/{hook}/rotate")
    client.http.delete(f"/v1/webhooks/{hook}", headers=bearer(admin))
    actions = [(entry.action, entry.object_id) for entry in records_for_day(tenant, clock.now().strftime("%Y-%m-%d"))
               if entry.action.startswith("webhook.")]
    assert sorted(actions) == sorted((action, hook) for action in (
        "webhook.create", "webhook.test", "webhook.redeliver", "webhook.rotate_secret", "webhook.delete"))


def test_redirects_are_not_followed(client, admin):
    with receiving("redirect") as receiver:
        hook = created(client, admin, receiver.url())["webhook_id"]
        delivery = body_of(post(client, admin, f"/v1/webhooks/{hook}/test"))
    assert (delivery["status"], delivery["last_status"], delivery["last_error"]) == ("failed", 302, "redirect")
    assert [request.path for request in receiver.requests] == ["/hooks/leadvault"]  # never /elsewhere


def test_a_receivers_answer_is_read_only_up_to_the_cap(client, admin):
    """An answer that never ends: read 1 KB and dropped (an uncapped read would run into the 5 s deadline)."""
    with receiving("endless") as receiver:
        hook = created(client, admin, receiver.url())["webhook_id"]
        delivery = body_of(post(client, admin, f"/v1/webhooks/{hook}/test"))
    assert (delivery["status"], delivery["last_status"], delivery["last_error"]) == ("delivered", 200, None)


def test_failures_are_recorded_by_kind(client, admin):
    with receiving("status:503") as receiver:
        hook = created(client, admin, receiver.url())["webhook_id"]
        delivery = body_of(post(client, admin, f"/v1/webhooks/{hook}/test"))
    assert (delivery["status"], delivery["last_status"], delivery["last_error"]) == ("failed", 503, "http_status")
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    refused = created(client, admin, f"http://127.0.0.1:{port}/x")["webhook_id"]
    delivery = body_of(post(client, admin, f"/v1/webhooks/{refused}/test"))
    assert (delivery["status"], delivery["last_error"]) == ("failed", "connect_failed")


def test_redelivery_sends_the_same_event_and_the_log_is_newest_first(client, admin):
    verify = readme_verify()
    with receiving() as receiver:
        answer = created(client, admin, receiver.url())
        hook = answer["webhook_id"]
        first = body_of(post(client, admin, f"/v1/webhooks/{hook}/test"))
        second = body_of(post(client, admin, f"/v1/webhooks/{hook}/test"))
        again = body_of(post(client, admin, f"/v1/webhooks/{hook}/deliveries/{first['event_id']}/redeliver"))
    assert again["event_id"] == first["event_id"] and again["attempts"] == 2 and again["status"] == "delivered"
    bodies = [request.body for request in receiver.requests]
    assert bodies[0] == bodies[2] and bodies[0] != bodies[1]
    assert receiver.requests[2].headers["leadvault-event-id"] == first["event_id"]
    assert verify(answer["secret"], receiver.requests[2].headers["leadvault-signature"], bodies[2])
    page = body_of(client.http.get(f"/v1/webhooks/{hook}/deliveries?limit=1", headers=bearer(admin)))
    assert [item["event_id"] for item in page["items"]] == [second["event_id"]] and page["next_cursor"]
    rest = body_of(client.http.get(f"/v1/webhooks/{hook}/deliveries?limit=1&cursor={page['next_cursor']}",
                                   headers=bearer(admin)))
    assert [item["event_id"] for item in rest["items"]] == [first["event_id"]]
    assert rest["items"][0]["attempts"] == 2
    everything = body_of(client.http.get(f"/v1/webhooks/{hook}/deliveries", headers=bearer(admin)))
    assert [item["event_id"] for item in everything["items"]] == [second["event_id"], first["event_id"]]
    assert everything["next_cursor"] is None
    assert_error(post(client, admin, f"/v1/webhooks/{hook}/deliveries/evt_{'0' * 32}/redeliver"), 404, "not_found")
    assert_error(client.http.get(f"/v1/webhooks/{hook}/deliveries?cursor=nope", headers=bearer(admin)), 400,
                 "validation_error")


def test_an_idempotent_create_replays_the_secret_without_keeping_it(client, admin):
    first = created(client, admin, "http://127.0.0.1:9/x", **{"Idempotency-Key": "hook-1"})
    again = created(client, admin, "http://127.0.0.1:9/x", **{"Idempotency-Key": "hook-1"})
    assert again == first
    assert len(body_of(client.http.get("/v1/webhooks", headers=bearer(admin)))["items"]) == 1
    assert first["secret"] not in dump_text(scan_everything())
    assert_error(create(client, admin, "http://127.0.0.1:9/y", **{"Idempotency-Key": "hook-1"}), 409,
                 "idempotency_conflict")


def test_a_tenant_has_at_most_ten_webhooks(client, admin):
    for n in range(10):
        created(client, admin, f"http://127.0.0.1:9/{n}")
    assert_error(create(client, admin, "http://127.0.0.1:9/11"), 409, "too_many_webhooks")
