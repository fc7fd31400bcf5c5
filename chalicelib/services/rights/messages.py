"""What a requester is told, by the channel they used: their code, and the outcome."""

from __future__ import annotations

from chalicelib.notify import Message, send
from chalicelib.services.rights.preferences import preferences_url
from chalicelib.store.models.privacy import PrivacyRequestRecord

OUTCOMES = {
    ("erasure", "completed"): "Your data has been erased, including from our backups' keys. "
                              "We keep only a receipt of the request, and we will not send you marketing again.",
    ("access", "completed"): "Your data export is ready. Download it within 7 days (the link works once): {link}",
}


def _message(record: PrivacyRequestRecord, to: str, subject: str, text: str) -> Message:
    kind, ref = record.identifier_ref.split(":", 1)
    owner = f"subject#{record.tenant_id}#{kind}#{ref}"
    return Message(channel=record.channel, to=to, subject=subject, text=text, kind="legal",
                   preferences_url=preferences_url(record.tenant_id, owner))


def send_code(record: PrivacyRequestRecord, to: str, code: str) -> None:
    text = (f"Your verification code is {code}. It expires in 10 minutes. "
            f"Enter it to confirm your {record.type} request ({record.request_id}).")
    send(_message(record, to, "Confirm your privacy request", text))


def send_outcome(record: PrivacyRequestRecord, to: str) -> None:
    if record.status == "rejected":
        text = ("We could not complete your request: " + (
            "the data is under a legal hold we must honour. We will erase it when the hold ends."
            if record.rejection_reason == "legal_hold" else "it could not be verified."))
    else:
        text = OUTCOMES[(record.type, record.status)]
        if "{link}" in text:
            from chalicelib.services.rights.requests import download_link

            text = text.format(link=download_link(record))
    send(_message(record, to, f"Your {record.type} request: {record.status}", text))
