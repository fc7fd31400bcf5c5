"""``GET /v1/policies``: the tenant's policy versions, newest first, with how their change notices stand.

Read off the version items (one query on the scope's index): the counters the dispatcher's settlements
move, in the same transaction as each recipient's ledger record, so they are exact whatever is retried.
Per channel, ``pending`` is the channel's audience at publication less what settled on it (0 once the
version is finished); ``totals`` are what ``admin_policy_status`` answers, and add up to the audience.
"""

from __future__ import annotations

from typing import Any

from chalicelib import clock
from chalicelib.errors import ValidationFailed
from chalicelib.services.access.auth import Caller
from chalicelib.services.pagination import decode_cursor, encode_cursor
from chalicelib.store import policies
from chalicelib.store.policies import OUTCOMES, Policy

KIND = "policies"


def totals(policy: Policy) -> dict[str, int]:
    """``recipients, sent, failed, skipped, pending``: they add up; pending is 0 once dispatch is done."""
    sent, failed, skipped = int(policy.sent or 0), int(policy.failed or 0), int(policy.skipped or 0)
    # The audience was counted once, at publication, from an index that moves: should the dispatcher have
    # met someone that count missed, those it settled are the audience.
    recipients = max(int(policy.recipients or 0), sent + failed + skipped)
    return {"recipients": recipients, "sent": sent, "failed": failed, "skipped": skipped,
            "pending": recipients - sent - failed - skipped}


def progress(policy: Policy) -> dict[str, dict[str, int]]:
    """Per channel: sent, failed, skipped, and pending (its audience less what settled on it)."""
    views = {}
    for channel, counts in policies.progress_of(policy).items():
        settled = sum(counts[name] for name in OUTCOMES)
        pending = 0 if policy.done else max(0, counts["recipients"] - settled)
        views[channel] = {**{name: counts[name] for name in OUTCOMES}, "pending": pending}
    return views


def version_view(policy: Policy) -> dict[str, Any]:
    counted = totals(policy)
    return {
        "policy_id": policy.policy_id,
        "version": policy.version,
        "scope": policy.scope,
        "url": policy.url,
        "summary": policy.summary,
        "effective_at": clock.iso(policy.effective_at),
        "published_at": clock.iso(policy.created_at),
        "recipients": counted.pop("recipients"),
        "progress": progress(policy),
        "totals": counted,
    }


def list_versions(caller: Caller, limit: int, cursor: str | None) -> dict[str, Any]:
    """A page of the tenant's own versions (a platform version's progress spans every tenant: not theirs)."""
    after = decode_cursor(cursor, KIND)
    if after is not None and not policies.is_scope_position(after):
        raise ValidationFailed(details=[{"field": "cursor", "problem": "not a cursor this list gave out"}])
    items, position = policies.scope_page(caller.tenant_id, limit, after)
    return {"items": [version_view(item) for item in items],
            "next_cursor": encode_cursor(KIND, position) if position else None}
