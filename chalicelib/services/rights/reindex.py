"""Backfill of the tenants' request lists: requests filed before ``tenant_requests`` existed carry no list
position, so no admin list shows them until this gives them one (``cli reindex``; idempotent, resumable)."""

from __future__ import annotations

from chalicelib.services.rights.lifecycle import FINAL
from chalicelib.store import privacy


def reindex_requests() -> int:
    """Place every unlisted request in its tenant's list: an open one by due date, a final one in its status's
    part by completion; how many were placed."""
    placed = 0
    for request in privacy.unlisted_requests():
        if request.status in FINAL:
            group, moment = request.status, request.completed_at or request.due_at
        else:
            group, moment = privacy.OPEN, request.due_at
        placed += privacy.fill_list_position(request, group, moment)
    return placed
