"""What a requester is told, by the channel they used: their code, and the outcome."""

from __future__ import annotations

from chalicelib.notify import Message, send
from chalicelib.services.rights.exports import download_link
from chalicelib.services.rights.preferences import preferences_url
from chalicelib.services.tenants.tenancy import Tenant
from chalicelib.store import consents, privacy
from chalicelib.store.privacy import PrivacyRequest

OUTCOMES = {
    ("erasure", "completed"): "Your data has been erased, including from our backups' keys. "
                              "We keep only a receipt of the request, and we will not send you marketing again.",
    ("access", "completed"): "Your data export is ready. Download it within 7 days (the link works once): {link}",
}


def _message(tenant: Tenant, request: PrivacyRequest, to: str, subject: str, text: str) -> Message:
    """A legal message; its preferences link opens the ledger of the identifier the request was filed with."""
    owner = consents.subject_owner(request.tenant_id, *privacy.identifier_of(request))
    return Message(channel=request.channel, to=to, subject=subject, text=text, kind="legal",
                   preferences_url=preferences_url(tenant, owner))


def send_code(tenant: Tenant, request: PrivacyRequest, to: str, code: str) -> None:
    text = (f"Your verification code is {code}. It expires in 10 minutes. "
            f"Enter it to confirm your {request.type} request ({request.request_id}).")
    send(_message(tenant, request, to, "Confirm your privacy request", text))


def send_outcome(tenant: Tenant, request: PrivacyRequest, status: str, to: str) -> None:
    """Tell the person how their request ended (``status``: completed or rejected)."""
    if status == "rejected":
        text = ("We could not complete your request: " + (
            "the data is under a legal hold we must honour. We will erase it when the hold ends."
            if request.rejection_reason == "legal_hold" else "it could not be verified."))
    else:
        text = OUTCOMES[(request.type, status)]
        if "{link}" in text:
            text = text.format(link=download_link(request))
    send(_message(tenant, request, to, f"Your {request.type} request: {status}", text))
