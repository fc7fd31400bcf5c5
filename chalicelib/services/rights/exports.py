"""Access exports: stored sealed for seven days, read by admins or through a single-use download link.

The link is sent only to the address the request was verified with; its token is spent only
after every other check passed, so a failure never uses it up.
"""

from __future__ import annotations

import json
import zlib
from datetime import timedelta
from typing import Any

from chalicelib import clock
from chalicelib.config import get_settings
from chalicelib.errors import ExportExpired, NotFound, Unauthorized
from chalicelib.services import audit
from chalicelib.services.rights import one_time
from chalicelib.store import privacy, tokens
from chalicelib.store.privacy import Export, PrivacyRequest

EXPORT_DAYS = 7
BAD_LINK = "This download link is not valid, was already used, or has expired; file a new access request."


def store_export(request: PrivacyRequest, export: dict[str, Any]) -> None:
    """Keep the export (compressed, sealed under the request's own key) for seven days."""
    compressed = zlib.compress(json.dumps(export, ensure_ascii=False).encode(), 9)
    privacy.save_export(request, compressed, clock.now() + timedelta(days=EXPORT_DAYS))


def ready_export(request: PrivacyRequest) -> Export:
    """The completed access request's export; ``not_found`` before it is done, ``export_expired`` after."""
    if request.type != "access" or request.status != "completed":
        raise NotFound("No export for this request.")
    export = privacy.live_export(request)
    if export is None:
        raise ExportExpired()
    return export


def open_export(request: PrivacyRequest, export: Export, actor: str) -> dict[str, Any]:
    """The export as the requester reads it; every read is audited."""
    raw = privacy.open_export(request, export)
    audit.record(request.tenant_id, actor, "privacy_request.export_read", request.request_id)
    return json.loads(zlib.decompress(raw))


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
