"""Data for the fuzzer to find: a lead an agent works, a call, requests (one with an export), a policy, a link.

Without it most generated ids would only ever meet 404s. The ids go to schemathesis as dictionaries
it draws from beside the values it generates.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tests.e2e.local_run import LocalRun

# Made-up people: valid numbers and addresses the fuzzer may use in bodies and queries.
PHONES = ["+91 98450 11111", "+91 98450 22222", "+91 98450 33333"]
EMAILS = ["ravi.fuzz@example.com", "meena.fuzz@example.org", "arjun.fuzz@example.net"]


@dataclass
class Seeded:
    """Ids and values that exist in the run, by the parameter they fill."""

    values: dict[str, list[str]] = field(default_factory=dict)


def _call(run: LocalRun, key: str, method: str, path: str, body: object = None, origin: bool = False) -> dict:
    # The run's own address is one of the demo widget key's allowed origins.
    headers = {"Authorization": f"Bearer {key}", **({"Origin": run.base_url} if origin else {})}
    status, answer = run.request(method, path, body, headers=headers)
    assert 200 <= status < 300, (method, path, status, answer)
    return answer


def _wait_until(check: object, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.3)
    raise AssertionError("the run did not get there in time")


def seed(run: LocalRun, keys: dict[str, str], tenant_id: str) -> Seeded:
    """Create the data through the API (and one operator function), as its users would."""
    widget, agent, admin = keys["widget"], keys["agent"], keys["admin"]
    lead = _call(run, admin, "POST", "/v1/leads", {"name": "Kiran Fuzz", "phone": "+91 98450 44444",
                                                   "email": "kiran.fuzz@example.com",
                                                   "consent": {"purposes": ["contact"], "policy_version": "demo-1"}})
    _call(run, admin, "PATCH", f"/v1/leads/{lead['lead_id']}", {"assigned_agent": "demo-agent", "stage": "contacted"})
    _call(run, agent, "POST", "/v1/shifts/start", {"location": {"lat": 12.97, "lng": 77.59}})
    now = datetime.now(UTC)
    _call(run, agent, "POST", "/v1/calls", {"events": [{
        "client_event_id": "seed-1", "number": "+91 98450 44444", "direction": "outgoing", "status": "answered",
        "started_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "duration_s": 30}]})
    # The widget's own access request, verified with the code the person got, so its export exists.
    filed = _call(run, widget, "POST", "/v1/privacy-requests", {"type": "access", "email": "kiran.fuzz@example.com"},
                  origin=True)
    code = re.findall(r"code is (\d{6})", run.outbox())[-1]
    _call(run, widget, "POST", f"/v1/privacy-requests/{filed['request_id']}/verify", {"code": code}, origin=True)
    erasure = _call(run, admin, "POST", "/v1/privacy-requests", {"type": "erasure", "email": EMAILS[0]})
    version = "fuzz-1"
    published = run.invoke("admin_publish_policy", {
        "scope": "tenant", "tenant_id": tenant_id, "version": version, "url": "https://example.com/privacy",
        "summary": "What changed", "effective_at": (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")})
    assert "policy_id" in published, published
    token = re.findall(r"token=([A-Za-z0-9_\-.]+)", run.outbox())[-1]

    def exported() -> bool:
        status, state = run.request("GET", f"/v1/privacy-requests/{filed['request_id']}",
                                    headers={"Authorization": f"Bearer {admin}"})
        return status == 200 and state["status"] == "completed"

    _wait_until(exported)
    return Seeded(values={
        "lead_id": [lead["lead_id"]], "request_id": [filed["request_id"], erasure["request_id"]],
        "agent_id": ["demo-agent"], "version": [version], "token": [token], "X-Preferences-Token": [token],
        "phone": PHONES, "email": EMAILS,
    })
