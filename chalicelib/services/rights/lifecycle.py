"""How a privacy request ends: completed, rejected or expired, the person told, their identifier shredded.

Shared by the worker and by verification (a request locked by wrong codes ends at once), so
neither needs the other.
"""

from __future__ import annotations

from datetime import timedelta

from chalicelib import clock
from chalicelib.services import event_log
from chalicelib.services.rights.messages import send_outcome
from chalicelib.services.tenants.tenancy import Tenant
from chalicelib.store import privacy
from chalicelib.store.privacy import PrivacyRequest

FINAL = frozenset({"completed", "rejected", "expired"})
VERIFY_WITHIN = timedelta(hours=24)


def finish(tenant: Tenant, request: PrivacyRequest, keep_request_key: bool = False) -> bool:
    """Completed; the person is told. An access request keeps its key: its export is sealed under it."""
    return close(tenant, request, "completed", notify=True, keep_request_key=keep_request_key)


def reject(tenant: Tenant, request: PrivacyRequest, reason: str, notify: bool = True) -> bool:
    privacy.set_rejection(request, reason)
    return close(tenant, request, "rejected", notify=notify)


def close(tenant: Tenant, request: PrivacyRequest, status: str, notify: bool, keep_request_key: bool = False) -> bool:
    """Final status; tell the person, then shred what identified them on the request itself.

    Returns False when the request's own key could not be shredded (logged as an error by the store):
    the request is closed and its copy of the identifier removed regardless, and the worker counts it,
    so one closed request never blocks the others. Anything else propagates.
    """
    to = privacy.open_identifier(request) if notify else None  # None: already shredded (key gone)
    if to:
        send_outcome(tenant, request, status, to)
    # A completed request's event is written in one transaction with its final status.
    completed = event_log.build(tenant, "privacy.request_completed", {
        "request_id": request.request_id, "request_type": request.type, "receipt": privacy.receipt_of(request),
    }) if status == "completed" else None
    privacy.close(request, status, clock.now(), completed)
    return keep_request_key or privacy.shred_key(request)
