"""What a requester is told, by the channel they used: their code, and the outcome.

Every message comes from the tenant (:mod:`chalicelib.services.tenants.brand`) and, by e-mail, names
its grievance officer. What the erasure message says of backups is what the deployment does: the
tables' point-in-time recovery keeps a deleted wrapped key restorable for ``backup_days``, so the
encrypted copies in backups can be read until then and not after.
"""

from __future__ import annotations

from datetime import timedelta

from chalicelib import clock
from chalicelib.config import get_settings
from chalicelib.notify import Message, send
from chalicelib.services.rights.exports import EXPORT_DAYS, download_link
from chalicelib.services.rights.preferences import preferences_url
from chalicelib.services.tenants import brand
from chalicelib.services.tenants.tenancy import Tenant
from chalicelib.store import consents, privacy
from chalicelib.store.privacy import PrivacyRequest

SUBJECTS = {
    ("erasure", "completed"): "your data was erased",
    ("access", "completed"): "your data export is ready",
    ("erasure", "rejected"): "we could not complete your erasure request",
    ("access", "rejected"): "we could not complete your access request",
}


def erasure_text(backup_days: int) -> str:
    """What an erasure's end tells the person, true of backups as deployed (see the module's docstring)."""
    until = clock.now() + timedelta(days=backup_days)
    return ("Your data has been erased. We keep only a receipt of the request, and we will not send you "
            "marketing again. Our backups still hold your data, encrypted, for up to "
            f"{backup_days} days; once they age out (by {until:%d %B %Y}), nothing of it can be read from them either.")


def access_text(link: str) -> str:
    """The export's single-use link, on a line of its own so it can be copied whole."""
    return (f"Your data export is ready. Download it within {EXPORT_DAYS} days; the link works once:\n\n{link}")


def _message(tenant: Tenant, request: PrivacyRequest, to: str, words: str, text: str) -> Message:
    """A legal message; its preferences link opens the ledger of the identifier the request was filed with."""
    owner = consents.subject_owner(request.tenant_id, *privacy.identifier_of(request))
    return brand.message(tenant, channel=request.channel, to=to, words=words, text=text, kind="legal",
                         preferences_url=preferences_url(tenant, owner), rights=True)


def send_code(tenant: Tenant, request: PrivacyRequest, to: str, code: str) -> None:
    text = (f"Your verification code is {code}. It expires in 10 minutes. "
            f"Enter it to confirm your {request.type} request ({request.request_id}).")
    send(_message(tenant, request, to, "confirm your privacy request", text))


def send_outcome(tenant: Tenant, request: PrivacyRequest, status: str, to: str) -> None:
    """Tell the person how their request ended (``status``: completed or rejected)."""
    if status == "rejected":
        text = ("We could not complete your request: " + (
            "the data is under a legal hold we must honour. We will erase it when the hold ends."
            if request.rejection_reason == "legal_hold" else "it could not be verified."))
    elif request.type == "access":
        text = access_text(download_link(request))
    else:
        text = erasure_text(get_settings().backup_days)
    send(_message(tenant, request, to, SUBJECTS[(request.type, status)], text))
