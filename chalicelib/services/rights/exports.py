"""Access exports: stored sealed for seven days, read by admins or through a single-use download link.

The link is sent only to the address the request was verified with; its token is spent only
after every other check passed, so a failure never uses it up: the export is read whole and
opened before.

An export of any size is stored in parts (see :func:`chalicelib.store.privacy.save_export`), in
DynamoDB like everything else, on AWS and locally alike: one code path, no bucket. Its parts are
decompressed as they are read; the answer still carries it whole, and an API answer is bounded by
Lambda's 6 MB response payload.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from chalicelib import clock
from chalicelib.config import get_settings
from chalicelib.errors import ExportExpired, ExportNotReady, NotFound, Unauthorized
from chalicelib.services import audit
from chalicelib.services.rights import one_time
from chalicelib.store import privacy, tokens
from chalicelib.store.privacy import PrivacyRequest

EXPORT_DAYS = 7
BAD_LINK = "This download link is not valid, was already used, or has expired; file a new access request."


@dataclass(frozen=True)
class ReadyExport:
    """An export read whole and opened, not yet handed out."""

    content: dict[str, Any]


def store_export(request: PrivacyRequest, export: dict[str, Any]) -> int:
    """Keep the export (compressed, sealed under the request's own key) for seven days; returns its parts."""
    compressed = zlib.compress(json.dumps(export, ensure_ascii=False).encode(), 9)
    return privacy.save_export(request, compressed, clock.now() + timedelta(days=EXPORT_DAYS))


# Statuses of an access request whose export is still to come: the privacy worker makes it within minutes
# of verification (it runs every minute), so a client asks again after a minute.
NOT_READY_YET = {
    "pending_verification": "The export is not ready yet: the request waits for the code sent to the person.",
    "verified": "The export is not ready yet: it is being prepared; try again in a minute.",
    "in_progress": "The export is not ready yet: it is being prepared; try again in a minute.",
}
RETRY_AFTER_S = 60


def ready_export(request: PrivacyRequest) -> ReadyExport:
    """The completed access request's export, read and opened: ``export_not_ready`` (409, Retry-After) while
    the request is still on its way, ``not_found`` for an erasure or a request that ended without one,
    ``export_expired`` after its seven days."""
    if request.type != "access":
        raise NotFound("An erasure request has no export; only an access request has one.")
    if request.status in NOT_READY_YET:
        raise ExportNotReady(NOT_READY_YET[request.status], retry_after=RETRY_AFTER_S)
    if request.status != "completed":
        raise NotFound(f"This access request ended without an export (it was {request.status}).")
    export = privacy.live_export(request)
    if export is None:
        raise ExportExpired()
    inflate = zlib.decompressobj()
    text = b"".join(inflate.decompress(chunk) for chunk in privacy.export_chunks(request, export))
    return ReadyExport(json.loads(text + inflate.flush()))


def open_export(request: PrivacyRequest, export: ReadyExport, actor: str) -> dict[str, Any]:
    """The export as the requester reads it; every read is audited."""
    audit.record(request.tenant_id, actor, "privacy_request.export_read", request.request_id)
    return export.content


def spend_download(token: str, request: PrivacyRequest) -> None:
    """Spend the link's token, which must be this request's (of this tenant): a wrong one stays unspent."""
    target = one_time.spend(token, one_time.DOWNLOAD, BAD_LINK, expect={"request_id": request.request_id})
    if target["tenant_id"] != request.tenant_id:
        raise Unauthorized(BAD_LINK)


def download_link(request: PrivacyRequest) -> str:
    """Issue and store the single-use link of a completed access request's export."""
    token, record = one_time.issue(request.tenant_id, one_time.DOWNLOAD, {"request_id": request.request_id},
                                   timedelta(days=EXPORT_DAYS))
    tokens.save(record)
    return f"{get_settings().public_url}/v1/pages/privacy#request={request.request_id}&download={token}"
