"""One message to one person, by e-mail or SMS, through the backend the settings name.

Every message carries the person's preferences link (a signed, expiring token), legal notices
and one-time codes included, so opting out is always one click away.

A message may carry a ``reference``: the same for every attempt at one notice (a policy notice's
id in the ledger), so a resend after a crash is recognisable downstream. It is the e-mail's
``Message-ID`` over SMTP and in the outbox, and its ``X-LeadVault-Reference`` header everywhere
(SES replaces any Message-ID with its own); an SMS carries it as a message attribute (SNS) or as
``reference`` (outbox). It names no person: it is built from ids we minted.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chalicelib.config import get_settings


@dataclass(frozen=True)
class Message:
    """``to`` is an e-mail address (channel ``email``) or an E.164 number (channel ``sms``)."""

    channel: str
    to: str
    subject: str
    text: str
    kind: str = "system"  # system | legal | marketing
    preferences_url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    reference: str | None = None  # the same for every attempt at one notice (see the module's docstring)

    def body(self) -> str:
        if self.preferences_url:
            return f"{self.text}\n\nYour privacy choices: {self.preferences_url}\n"
        return self.text


class DeliveryFailed(Exception):
    """A message did not go out. ``permanent`` failures (a refused address) are not retried."""

    def __init__(self, permanent: bool) -> None:
        super().__init__("permanent" if permanent else "transient")
        self.permanent = permanent


_PERMANENT_CODES = frozenset({"MessageRejected", "InvalidParameterValue", "InvalidParameter",
                              "MailFromDomainNotVerifiedException"})


def send(message: Message) -> str:
    """Send through the configured backend; failures become :class:`DeliveryFailed` (no address in it)."""
    import smtplib

    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return _send(message)
    except smtplib.SMTPRecipientsRefused:
        raise DeliveryFailed(permanent=True) from None
    except ClientError as error:
        raise DeliveryFailed(permanent=error.response.get("Error", {}).get("Code") in _PERMANENT_CODES) from None
    except (OSError, smtplib.SMTPException, BotoCoreError):
        raise DeliveryFailed(permanent=False) from None


def _send(message: Message) -> str:
    settings = get_settings()
    if message.channel == "email":
        backend = settings.email_backend
        if backend == "ses":
            return _send_ses(message)
        if backend == "smtp":
            return _send_smtp(message)
        return _write_outbox(message, "eml")
    if message.channel == "sms":
        if settings.sms_backend == "sns":
            return _send_sns(message)
        return _write_outbox(message, "json")
    raise ValueError(f"unknown channel {message.channel}")


def _email(message: Message) -> Any:
    from email.message import EmailMessage

    email = EmailMessage()
    email["From"] = get_settings().email_from
    email["To"] = message.to
    email["Subject"] = message.subject
    email["X-LeadVault-Kind"] = message.kind
    if message.preferences_url:
        email["List-Unsubscribe"] = f"<{message.preferences_url}>"
    for name, value in message.headers.items():
        email[name] = value
    if message.reference:
        email["Message-ID"] = f"<{message.reference}@{_mail_domain()}>"
        email["X-LeadVault-Reference"] = message.reference
    email.set_content(message.body())
    return email


def _mail_domain() -> str:
    """The sender's domain, the right-hand side of our Message-IDs."""
    from email.utils import parseaddr

    return parseaddr(get_settings().email_from)[1].rpartition("@")[2] or "leadvault.invalid"


def _write_outbox(message: Message, suffix: str) -> str:
    """Local mode: one file per message (``.eml`` for e-mail, ``.json`` for SMS), mode 0600."""
    outbox = Path(get_settings().outbox_dir)
    outbox.mkdir(parents=True, exist_ok=True)
    message_id = f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{secrets.token_hex(4)}"
    path = outbox / f"{message_id}.{suffix}"
    if suffix == "eml":
        content = bytes(_email(message))
    else:
        fields = {"to": message.to, "text": message.body(), "kind": message.kind, "subject": message.subject}
        if message.reference:
            fields["reference"] = message.reference
        content = json.dumps(fields, ensure_ascii=False).encode()
    path.touch(mode=0o600)
    path.write_bytes(content)
    return message_id


def _send_ses(message: Message) -> str:
    import boto3

    client = boto3.client("ses", region_name=get_settings().region)
    answer = client.send_raw_email(Source=get_settings().email_from, Destinations=[message.to],
                                   RawMessage={"Data": bytes(_email(message))})
    return str(answer["MessageId"])


def _send_smtp(message: Message) -> str:
    import smtplib

    settings = get_settings()
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
        email = _email(message)
        smtp.send_message(email)
    return str(email.get("Message-ID") or secrets.token_hex(8))


def _send_sns(message: Message) -> str:
    import boto3

    client = boto3.client("sns", region_name=get_settings().region)
    attributes = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}
    if message.reference:
        attributes["LeadVault.Reference"] = {"DataType": "String", "StringValue": message.reference}
    answer = client.publish(PhoneNumber=message.to, Message=message.body(), MessageAttributes=attributes)
    return str(answer["MessageId"])
