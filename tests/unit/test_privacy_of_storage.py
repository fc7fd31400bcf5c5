"""No personal data in any table, key, index or log line after storing a person."""

from __future__ import annotations

from chalicelib.store.tenants import get_key
from chalicelib.vault import envelope
from tests.support.http import bearer
from tests.support.people import EMAIL, PLAINTEXT_MARKERS
from tests.support.tables import dump_text, scan_everything


def test_a_key_holders_email_is_stored_sealed_and_opens_with_their_key(issue_key, tenant):
    answer = issue_key("agent", agent_id="asha", email=EMAIL)
    record = get_key(answer["key_id"])
    assert record.email_sealed and record.subject_id
    assert envelope.stored_key(tenant, record.subject_id).unseal("email", record.email_sealed) == EMAIL.lower()


def test_raw_scan_of_every_table_shows_no_plaintext_identifier(issue_key, client):
    answer = issue_key("admin", email=EMAIL)
    client.http.get("/v1/me", headers=bearer(answer))
    text = dump_text(scan_everything()).lower()
    for marker in PLAINTEXT_MARKERS:
        assert marker.lower() not in text, marker


def test_no_personal_data_in_captured_logs(capfd, issue_key, client, operator, tenant):
    answer = issue_key("admin", email=EMAIL)
    client.http.get("/v1/me", headers=bearer(answer))
    operator("admin_issue_api_key", {"tenant_id": tenant, "role": "agent", "agent_id": "asha",
                                        "email": "broken@@" + EMAIL})
    client.http.get("/v1/me?email=" + EMAIL, headers={"Authorization": "Bearer " + EMAIL})
    logged = capfd.readouterr()
    text = (logged.out + logged.err).lower()
    assert '"message":"request"' in text and "operator_function" in text  # logs were written and captured
    for marker in PLAINTEXT_MARKERS:
        assert marker.lower() not in text, marker
    assert answer["api_key"].split(".")[3].lower() not in text


def test_revoking_a_key_shreds_its_holders_email(issue_key, operator, tenant):
    answer = issue_key("agent", agent_id="asha", email=EMAIL)
    subject_id = get_key(answer["key_id"]).subject_id
    operator("admin_revoke_api_key", {"tenant_id": tenant, "key_id": answer["key_id"]})
    record = get_key(answer["key_id"])
    assert record.email_sealed is None and record.revoked_at is not None and record.expires_at is not None
    dump = scan_everything()
    assert not [i for name, items in dump.items() if name.endswith("person_keys") for i in items
                if subject_id in i["key_ref"]["S"]]


def test_audit_records_hold_ids_and_no_personal_data(issue_key, tenant, operator):
    from chalicelib import clock
    from chalicelib.services.audit import records_for_day

    answer = issue_key("agent", agent_id="asha", email=EMAIL)
    operator("admin_revoke_api_key", {"tenant_id": tenant, "key_id": answer["key_id"]})
    records = records_for_day(tenant, f"{clock.now():%Y-%m-%d}")
    assert [r.action for r in records] == ["tenant.create", "api_key.issue", "api_key.revoke"]
    assert {r.object_id for r in records[1:]} == {answer["key_id"]}
    assert all(r.expires_at is not None and r.actor_key_id == "operator" for r in records)
    text = " ".join(str(r.attribute_values) for r in records).lower()
    assert EMAIL.lower() not in text
