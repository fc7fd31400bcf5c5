"""One message to one person, by e-mail or SMS, through the backend the settings name.

Every message carries the person's preferences link (a signed, expiring token), legal notices
and one-time codes included, so opting out is always one click away.

A message may carry a ``reference``: the same for every attempt at one notice (a policy notice's
id in the ledger), so a resend after a crash is recognisable downstream. It is the e-mail's
``Message-ID`` over SMTP and in the outbox, and its ``X-LeadVault-Reference`` header everywhere
(SES replaces any Message-ID with its own); an SMS carries it as a message attribute (SNS) or as
``reference`` (outbox). It names no person: it is built from ids we minted.

A message may carry its ``sender``: the tenant it comes from, as people know it (display name, sender
name and address, reply-to, accent colour, logo). An e-mail is then from ``"<sender name or display
name>" <sender address or the configured sender's address>`` and signed with the display name; an
SMS starts with the display name. Without one, it is from the configured sender (LeadVault itself).

An e-mail is multipart/alternative: the plain text, then the same words in HTML. Each part is UTF-8 and
travels as written (``7bit`` when ASCII, else ``8bit``), so the outbox file reads as the person will
read it and a link copied from it works; a part with non-ASCII text becomes quoted-printable only for a
transport that does not take 8-bit data (SES asks for encoded content; an SMTP server without 8BITMIME).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chalicelib.config import get_settings
from chalicelib.notify.rendering import fold, html_body


@dataclass(frozen=True)
class Sender:
    """Who a message comes from as people see it: a tenant's published identity (no person's data)."""

    display_name: str
    name: str | None = None  # the From name; the display name when unset
    address: str | None = None  # the From address; the configured sender's when unset (verify it in SES)
    reply_to: str | None = None
    accent_colour: str | None = None  # "#rrggbb", HTML part only
    logo_url: str | None = None  # https, HTML part only


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
    sender: Sender | None = None  # the tenant it comes from; None: the configured sender

    def body(self) -> str:
        """The plain text as sent: an e-mail signed with the display name, an SMS starting with it."""
        text = self.text
        if self.sender is not None:
            name = self.sender.display_name
            if self.channel == "sms":
                text = text if text.startswith(f"{name}:") else f"{name}: {text}"
            else:
                text = f"{text}\n\n{name}"
        if self.preferences_url:
            return f"{text}\n\nYour privacy choices: {self.preferences_url}\n"
        return text

    def html(self) -> str:
        """The HTML alternative of an e-mail: the same words, escaped, with the sender's colour and logo."""
        paragraphs = [part for part in self.text.split("\n\n") if part.strip()]
        sender = self.sender
        if sender is not None:
            paragraphs.append(sender.display_name)
        return html_body(title=self.subject, paragraphs=paragraphs,
                         display_name=sender.display_name if sender else None,
                         accent_colour=sender.accent_colour if sender else None,
                         logo_url=sender.logo_url if sender else None, preferences_url=self.preferences_url)


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


def _email(message: Message, eight_bit: bool = True) -> Any:
    """The e-mail as multipart/alternative (plain text, then HTML). ``eight_bit``: whether the transport takes
    8-bit data; without it, only a part that is not ASCII is quoted-printable (an ASCII part is 7bit either way)."""
    from email.message import EmailMessage

    email = EmailMessage()
    email["From"] = from_header(message.sender)
    email["To"] = message.to
    email["Subject"] = message.subject
    if message.sender is not None and message.sender.reply_to:
        email["Reply-To"] = message.sender.reply_to
    email["X-LeadVault-Kind"] = message.kind
    if message.preferences_url:
        email["List-Unsubscribe"] = f"<{message.preferences_url}>"
    for name, value in message.headers.items():
        email[name] = value
    if message.reference:
        email["Message-ID"] = f"<{message.reference}@{_mail_domain()}>"
        email["X-LeadVault-Reference"] = message.reference
    text, markup = fold(message.body()), message.html()
    email.set_content(text, cte=_transfer_encoding(text, eight_bit))
    email.add_alternative(markup, subtype="html", cte=_transfer_encoding(markup, eight_bit))
    return email


def _transfer_encoding(content: str, eight_bit: bool) -> str:
    if content.isascii():
        return "7bit"
    return "8bit" if eight_bit else "quoted-printable"


def from_header(sender: Sender | None) -> Any:
    """``"<sender name or display name>" <sender address or the configured sender's>``; the configured sender
    itself for a message of no tenant."""
    from email.headerregistry import Address
    from email.utils import parseaddr

    configured = get_settings().email_from
    if sender is None:
        return configured
    address = sender.address or parseaddr(configured)[1]
    local, _, domain = address.rpartition("@")
    return Address(display_name=sender.name or sender.display_name, username=local, domain=domain)


def _envelope_sender(message: Message) -> str:
    """The bare address SES sends from (the From header's), which must be verified there."""
    from email.utils import parseaddr

    if message.sender is not None and message.sender.address:
        return message.sender.address
    return parseaddr(get_settings().email_from)[1]


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
        content = _email(message).as_bytes()
    else:
        fields = {"to": message.to, "text": message.body(), "kind": message.kind, "subject": message.subject}
        if message.reference:
            fields["reference"] = message.reference
        content = json.dumps(fields, ensure_ascii=False).encode()
    path.touch(mode=0o600)
    path.write_bytes(content)
    return message_id


_SENDER_REFUSED = frozenset({"MessageRejected", "MailFromDomainNotVerifiedException"})


def _send_ses(message: Message) -> str:
    """Through SES; a tenant's sender address that SES refuses (not verified there) falls back once to the
    configured sender, keeping the tenant's name and taking replies to the tenant's address: a legal notice
    must not be lost to a setting. The fallback is logged (without any address)."""
    import boto3
    from botocore.exceptions import ClientError

    client = boto3.client("ses", region_name=get_settings().region)
    try:
        return _send_ses_once(client, message)
    except ClientError as error:
        fallback = _fallback(message) if error.response.get("Error", {}).get("Code") in _SENDER_REFUSED else None
        if fallback is None:
            raise
    from chalicelib.logs import get_logger

    get_logger().warning("sender_address_refused", extra={"fallback": "configured_sender"})
    return _send_ses_once(client, fallback)


def _fallback(message: Message) -> Message | None:
    """The message from the configured sender, replies going to the tenant; None when it was sent from it already."""
    sender = message.sender
    if sender is None or not sender.address:
        return None
    return replace(message, sender=replace(sender, address=None, reply_to=sender.reply_to or sender.address))


def _send_ses_once(client: Any, message: Message) -> str:
    # SES asks for content outside 7-bit ASCII to be encoded, and lines of at most 1,000 characters.
    answer = client.send_raw_email(Source=_envelope_sender(message), Destinations=[message.to],
                                   RawMessage={"Data": _email(message, eight_bit=False).as_bytes()})
    return str(answer["MessageId"])


def _send_smtp(message: Message) -> str:
    import smtplib

    settings = get_settings()
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
        smtp.ehlo_or_helo_if_needed()
        eight_bit = smtp.has_extn("8bitmime")
        email = _email(message, eight_bit=eight_bit)
        smtp.send_message(email, mail_options=["BODY=8BITMIME"] if eight_bit else [])
    return str(email.get("Message-ID") or secrets.token_hex(8))


def _send_sns(message: Message) -> str:
    import boto3

    client = boto3.client("sns", region_name=get_settings().region)
    attributes = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}
    if message.reference:
        attributes["LeadVault.Reference"] = {"DataType": "String", "StringValue": message.reference}
    answer = client.publish(PhoneNumber=message.to, Message=message.body(), MessageAttributes=attributes)
    return str(answer["MessageId"])
