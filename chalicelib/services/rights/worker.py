"""``privacy_worker`` (every minute): moves verified requests on, in chunks that fit the Lambda."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib import clock
from chalicelib.runtime import HasTime, time_left
from chalicelib.services.rights import lifecycle
from chalicelib.services.rights.access import run_access
from chalicelib.services.rights.erasure import run_erasure
from chalicelib.services.rights.lifecycle import FINAL, VERIFY_WITHIN
from chalicelib.services.tenants.tenancy import require_tenant
from chalicelib.store import privacy

SAFETY_MS = 3000


@dataclass(frozen=True)
class Step:
    """What one run did to one request: its state afterwards, and whether its own key was left behind."""

    outcome: str
    key_left: bool = False


def privacy_worker(context: Any) -> dict[str, int]:
    """Work through open requests, oldest due first, until the deadline is near."""
    has_time = time_left(context, SAFETY_MS)
    summary = {"completed": 0, "rejected": 0, "expired": 0, "unfinished": 0}
    for request_id in privacy.open_request_ids():
        if not has_time():
            summary["unfinished"] += 1
            return summary
        step = advance(request_id, has_time)
        summary[step.outcome] = summary.get(step.outcome, 0) + 1
        if step.key_left:  # closed, but its key could not be shredded (logged as an error)
            summary["keys_not_shredded"] = summary.get("keys_not_shredded", 0) + 1
    return summary


def advance(request_id: str, has_time: HasTime) -> Step:
    request = privacy.get(request_id)
    if request is None:
        return Step("unfinished")
    if request.status in FINAL:
        return Step(request.status)
    waiting = request.status == "pending_verification"
    if waiting and request.created_at + VERIFY_WITHIN > clock.now():
        return Step("waiting")
    tenant = require_tenant(request.tenant_id)
    if waiting:  # never verified in time
        return Step("expired", not lifecycle.close(tenant, request, "expired", notify=False))
    if request.status == "verified":
        privacy.start(request)
    if request.type == "access":
        run_access(tenant, request)
        return Step("completed", not lifecycle.finish(tenant, request, keep_request_key=True))
    progress = run_erasure(request, has_time)
    if progress == "unfinished":
        return Step("unfinished")
    if progress == "held":
        return Step("rejected", not lifecycle.reject(tenant, request, "legal_hold"))
    return Step("completed", not lifecycle.finish(tenant, request))
