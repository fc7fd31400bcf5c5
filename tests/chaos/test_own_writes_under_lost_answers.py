"""Issue 14, points 3 and 6: a write that applied but whose answer was lost is the caller's own write.

Each test loses the answer of one targeted write (applied by DynamoDB Local, answered 500, so botocore
retries it) and checks that the operation still answers as it would have, with all its effects:
- ``admin_publish_policy`` whose version reservation is lost publishes (never ``version_exists``), and an
  operator's retry of the same publication answers the same policy;
- ``PATCH /v1/leads/{id}`` answers 200, with one stage_change event and one audit record;
- ``POST /v1/shifts/start`` and ``/v1/shifts/end`` answer 201 and 200 for the shift they just wrote.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from tests.support.fault_proxy import SERVER_ERROR, WRITE_OPERATIONS, Fault
from tests.support.field import post
from tests.support.http import bearer, body_of
from tests.support.leads import lead_body, post_lead

pytestmark = [pytest.mark.integration, pytest.mark.chaos, pytest.mark.usefixtures("short_sdk_sleeps")]

CONTACT_ONLY = {"purposes": ["contact"], "policy_version": "2026-11"}


def scan(raw: Any, suffix: str) -> list[dict]:
    name = os.environ["LEADVAULT_TABLE_PREFIX"] + suffix
    return [item for page in raw.get_paginator("scan").paginate(TableName=name, ConsistentRead=True)
            for item in page["Items"]]


def policies_of_version(raw: Any, tenant: str, version: str) -> list[str]:
    return [item["policy_id"]["S"] for item in scan(raw, "policies")
            if item.get("version", {}).get("S") == version and item.get("scope_key", {}).get("S") == tenant]


def publication(tenant: str, version: str) -> dict:
    return {"scope": "tenant", "tenant_id": tenant, "version": version, "url": "https://acme.example/p",
            "summary": "New terms.", "effective_at": "2027-01-01T00:00:00Z"}


def publish_with_retries(operator: Any, payload: dict, tries: int = 3) -> list[dict]:
    """An operator's retries: publish again with the same payload while the answer is an error."""
    answers = [operator("admin_publish_policy", payload)]
    while "error" in answers[-1] and len(answers) < tries:
        answers.append(operator("admin_publish_policy", payload))
    return answers


def test_a_publish_whose_reservation_answer_is_lost_publishes_once(operator, tenant, raw, proxy, report):
    payload = publication(tenant, "v-lost")
    # The first write naming the scope and version: the version's reservation (its claim).
    fault = proxy.lose_next(operations=WRITE_OPERATIONS, tables=("unique_keys",), body_contains=f"{tenant}#v-lost")
    proxy.enable()
    answers = publish_with_retries(operator, payload)
    proxy.disable()
    again = operator("admin_publish_policy", payload)  # the operator's retry after an answer it never got
    stored = policies_of_version(raw, tenant, "v-lost")
    report(answers=answers, again=again, stored=len(stored), lost_answers=fault.fired)
    assert fault.fired == 1, "the reservation's answer was never lost: the scenario did not happen"
    assert [("policy_id" in answer) for answer in answers] == [True], answers
    assert again.get("policy_id") == answers[0]["policy_id"], again
    assert stored == [answers[0]["policy_id"]]


def test_a_publish_that_failed_after_its_reservation_succeeds_when_retried(operator, tenant, raw, proxy, report):
    """The policy's own write refused on every try: the first call fails; its retry must publish, not refuse."""
    payload = publication(tenant, "v-failed")
    failing = Fault(SERVER_ERROR, operations=WRITE_OPERATIONS, tables=("policies",))
    with proxy.faults(failing):
        first = operator("admin_publish_policy", payload)
    answers = publish_with_retries(operator, payload)
    stored = policies_of_version(raw, tenant, "v-failed")
    report(first=first, answers=answers, stored=len(stored), refused_writes=failing.fired)
    assert failing.fired >= 1
    assert "policy_id" in answers[-1] and all(
        (answer.get("error") or {}).get("code") != "version_exists" for answer in answers), answers
    assert stored == [answers[-1]["policy_id"]]


def test_a_patch_whose_update_answer_is_lost_answers_200_and_is_audited(
    client, widget, issue_key, tenant, raw, proxy, report,
):
    admin = issue_key("admin")
    lead_id = body_of(post_lead(client, widget, lead_body(consent=CONTACT_ONLY)))["lead_id"]
    fault = proxy.lose_next(operations=WRITE_OPERATIONS, tables=("leads",))
    proxy.enable()
    response = client.http.patch(f"/v1/leads/{lead_id}", headers=bearer(admin, **{"Content-Type": "application/json"}),
                                 body=json.dumps({"stage": "contacted"}))
    proxy.disable()
    timeline = body_of(client.http.get(f"/v1/leads/{lead_id}/timeline?limit=100", headers=bearer(admin)))["items"]
    stage = body_of(client.http.get(f"/v1/leads/{lead_id}", headers=bearer(admin)))["stage"]
    audits = [item for item in scan(raw, "audit_log")
              if item["action"]["S"] == "lead.update" and item.get("object_id", {}).get("S") == lead_id]
    seen = {"status": response.status_code, "stage": stage,
            "stage_change_events": sum(1 for item in timeline if item.get("type") == "stage_change"),
            "audit_records": len(audits)}
    report(**seen, lost_answers=fault.fired, answer=body_of(response).get("error"))
    assert fault.fired == 1, "the update's answer was never lost: the scenario did not happen"
    assert seen == {"status": 200, "stage": "contacted", "stage_change_events": 1, "audit_records": 1}


def test_shift_start_and_end_whose_answers_are_lost_answer_for_the_shift_they_wrote(
    client, issue_key, proxy, report,
):
    agent, admin = issue_key("agent", agent_id="ravi"), issue_key("admin")
    proxy.enable()
    started_fault = proxy.lose_next(operations=WRITE_OPERATIONS, tables=("shifts",))
    started = post(client, agent, "/v1/shifts/start")
    ended_fault = proxy.lose_next(operations=WRITE_OPERATIONS, tables=("shifts",))
    ended = post(client, agent, "/v1/shifts/end")
    proxy.disable()
    shifts = body_of(client.http.get("/v1/agents/ravi/shifts", headers=bearer(admin)))["items"]
    seen = {"start": started.status_code, "end": ended.status_code, "shifts": len(shifts),
            "closed_by": [shift["closed_by"] for shift in shifts]}
    report(**seen, lost_answers=started_fault.fired + ended_fault.fired,
           answers=[body_of(started).get("error"), body_of(ended).get("error")])
    assert (started_fault.fired, ended_fault.fired) == (1, 1), "an answer was never lost: the scenario did not happen"
    assert seen == {"start": 201, "end": 200, "shifts": 1, "closed_by": ["agent"]}
