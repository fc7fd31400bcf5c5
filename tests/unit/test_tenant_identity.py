"""Tenant identity: set by the operator, read by pages, and on every message people get."""

from __future__ import annotations

import email
import email.policy
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest

from chalicelib.config import get_settings
from chalicelib.jobs import invoke_job
from chalicelib.runtime import LocalContext
from tests.support.http import assert_error, bearer, body_of
from tests.support.leads import lead_body, post_lead
from tests.support.outbox import download_link, last_code, messages
from tests.support.people import EMAIL, EMAIL_NORMALISED, PHONE, PHONE_E164

IDENTITY = {"display_name": "Acme Homes", "sender_name": "Acme Privacy Team", "sender_address": "privacy@acme.example",
            "reply_to": "help@acme.example", "accent_colour": "#0B57D0", "logo_url": "https://cdn.acme.example/logo.png"}
OFFICER = {"name": "Meera Iyer", "email": "grievance@acme.example"}


def published(operator, tenant, version="2026-11"):
    """The policy version the test leads consent to, published by the tenant (once)."""
    answer = operator("admin_publish_policy", {
        "scope": "tenant", "tenant_id": tenant, "version": version, "url": "https://acme.example/privacy",
        "summary": "We now keep calls 90 days.", "effective_at": "2026-12-01T00:00:00Z"})
    assert "policy_id" in answer or answer["error"]["code"] == "version_exists", answer
    return answer


def set_identity(operator, tenant, **settings):
    return operator("admin_set_tenant_identity", {"tenant_id": tenant, **settings})


def work():
    return invoke_job("privacy_worker", LocalContext("privacy_worker", timeout_s=60))


def file(client, key, **body):
    response = client.http.post("/v1/privacy-requests", body=json.dumps({"type": "erasure", "email": EMAIL, **body}),
                                headers=bearer(key, **{"Content-Type": "application/json"}))
    assert response.status_code == 202, response.body
    return body_of(response)


def raw_mails() -> list[tuple[bytes, email.message.EmailMessage]]:
    """Each outbox e-mail as stored (bytes) and as a mail client parses it."""
    outbox = Path(get_settings().outbox_dir)
    return [(path.read_bytes(), email.message_from_bytes(path.read_bytes(), policy=email.policy.default))
            for path in sorted(outbox.glob("*.eml"))]


def brand(client, key):
    return client.http.get("/v1/brand", headers=bearer(key))


# --- admin_set_tenant_identity --------------------------------------------------------------

def test_identity_is_set_cleared_and_defaults_to_the_tenants_name(operator, tenant):
    answer = set_identity(operator, tenant, **IDENTITY)
    assert answer == {"tenant_id": tenant, **IDENTITY, "accent_colour": "#0b57d0"}
    # Left out: stays. Null: cleared, back to its default (the display name falls back to the tenant's name).
    answer = set_identity(operator, tenant, display_name=None, reply_to=None)
    assert answer["display_name"] == "Acme Leads" and answer["reply_to"] is None
    assert answer["sender_address"] == "privacy@acme.example" and answer["logo_url"] == IDENTITY["logo_url"]


def test_setting_the_identity_is_audited(operator, tenant):
    from tests.support.tables import scan_everything

    set_identity(operator, tenant, display_name="Acme Homes")
    actions = [item["action"]["S"] for name, items in scan_everything().items() if name.endswith("audit_log")
               for item in items]
    assert "tenant.set_identity" in actions


@pytest.mark.parametrize(("settings", "field"), [
    ({}, "display_name|sender_name|sender_address|reply_to|accent_colour|logo_url"),
    ({"display_name": "   "}, "display_name"),
    ({"display_name": "Acme\r\nBcc: victim@example.org"}, "display_name"),  # header injection
    ({"sender_name": "Acme\u202egnp.exe"}, "sender_name"),  # text that reads backwards
    ({"display_name": "x" * 101}, "display_name"),
    ({"sender_address": "not an address"}, "sender_address"),
    ({"sender_address": "prívacy@acme.example"}, "sender_address"),  # not ASCII: mail systems may refuse it
    ({"reply_to": "help@"}, "reply_to"),
    ({"accent_colour": "blue"}, "accent_colour"),
    ({"accent_colour": "#12345g"}, "accent_colour"),
    ({"logo_url": "http://cdn.acme.example/logo.png"}, "logo_url"),
    ({"logo_url": "https://user:secret@cdn.acme.example/logo.png"}, "logo_url"),
    ({"logo_url": "https://10.0.0.1/logo.png"}, "logo_url"),
    ({"logo_url": "https://cdn.acme.example/a logo.png"}, "logo_url"),
    ({"logo_url": "javascript:alert(1)"}, "logo_url"),
    ({"logo_url": "https://cdn.acme.example:99999/logo.png"}, "logo_url"),
    ({"brand_colour": "#000000"}, "brand_colour"),
])
def test_bad_identity_settings_are_refused_with_the_field_named(operator, tenant, settings, field):
    answer = set_identity(operator, tenant, **settings)
    assert answer["error"]["code"] == "validation_error", answer
    assert [detail["field"] for detail in answer["error"]["details"]] == [field]
    for value in settings.values():
        assert value not in json.dumps(answer)  # never echoed
    assert set_identity(operator, tenant, accent_colour=None)["display_name"] == "Acme Leads"  # nothing written


def test_an_unknown_tenant_is_not_found(operator, tables):
    answer = operator("admin_set_tenant_identity", {"tenant_id": "ten_0000000000000000", "display_name": "X"})
    assert answer["error"]["code"] == "not_found"


# --- GET /v1/brand --------------------------------------------------------------------------

def test_brand_defaults_to_the_tenants_name(client, widget):
    answer = brand(client, widget)
    assert answer.status_code == 200
    assert body_of(answer) == {"display_name": "Acme Leads", "accent_colour": None, "logo_url": None,
                               "grievance_officer": None}


def test_every_role_reads_its_own_tenants_brand(client, operator, tenant, issue_key):
    set_identity(operator, tenant, **IDENTITY)
    operator("admin_set_grievance_officer", {"tenant_id": tenant, "grievance_officer": OFFICER})
    other = operator("admin_create_tenant", {"name": "Other Co", "default_region": "IN"})["tenant_id"]
    set_identity(operator, other, display_name="Other Brand", accent_colour="#123456")
    expected = {"display_name": "Acme Homes", "accent_colour": "#0b57d0", "logo_url": IDENTITY["logo_url"],
                "grievance_officer": {"name": "Meera Iyer", "contact": "grievance@acme.example",
                                      "contact_kind": "email"}}
    for key in (issue_key("widget"), issue_key("agent", agent_id="field-7"), issue_key("admin")):
        assert body_of(brand(client, key)) == expected
    theirs = body_of(brand(client, issue_key("widget", tenant_id=other)))
    assert theirs == {"display_name": "Other Brand", "accent_colour": "#123456", "logo_url": None,
                      "grievance_officer": None}
    # Nothing of the sender's address or reply-to (only what pages show).
    assert "privacy@acme.example" not in brand(client, issue_key("widget")).body.decode()


def test_brand_needs_a_key(client):
    assert_error(client.http.get("/v1/brand"), 401, "unauthorized")


def test_brand_answers_a_widget_keys_own_origin(client, issue_key):
    site = issue_key("widget", allowed_origins=["https://acme.example"])
    answer = client.http.get("/v1/brand", headers=bearer(site, Origin="https://acme.example"))
    assert answer.status_code == 200 and answer.headers["Access-Control-Allow-Origin"] == "https://acme.example"


# --- messages -------------------------------------------------------------------------------

def test_without_identity_messages_come_from_the_tenant_by_name(client, admin):
    file(client, admin, verified_by_admin=True)
    work()
    [(_raw, mail)] = raw_mails()
    assert mail["Subject"] == "Acme Leads: your data was erased"
    assert mail["From"].addresses[0].display_name == "Acme Leads"
    assert mail["From"].addresses[0].addr_spec == "privacy@localhost"  # the configured sender's address
    assert mail["Reply-To"] is None
    text = mail.get_body(("plain",)).get_content()
    assert "\n\nAcme Leads\n" in text  # signed
    assert "Grievance officer" not in text  # none named


def test_with_identity_messages_come_from_its_sender_and_name_its_officer(client, admin, operator, tenant):
    set_identity(operator, tenant, **IDENTITY)
    operator("admin_set_grievance_officer", {"tenant_id": tenant, "grievance_officer": OFFICER})
    file(client, admin, verified_by_admin=True)
    work()
    [(_raw, mail)] = raw_mails()
    assert mail["Subject"] == "Acme Homes: your data was erased"
    assert str(mail["From"]) == "Acme Privacy Team <privacy@acme.example>"
    assert str(mail["Reply-To"]) == "help@acme.example"
    text = mail.get_body(("plain",)).get_content()
    assert "Grievance officer: Meera Iyer (grievance@acme.example)." in text and "\n\nAcme Homes\n" in text
    # Colour and logo belong to the HTML part only.
    assert "#0b57d0" not in text and "logo.png" not in text
    markup = mail.get_body(("html",)).get_content()
    assert "border-top:6px solid #0b57d0" in markup
    assert '<img src="https://cdn.acme.example/logo.png" alt="Acme Homes"' in markup


def test_an_email_is_multipart_plain_then_html_with_the_same_words_escaped(client, admin, operator, tenant):
    set_identity(operator, tenant, display_name="Tom & Jerry <Homes>")
    file(client, admin, verified_by_admin=True)
    work()
    [(_raw, mail)] = raw_mails()
    assert mail.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in mail.iter_parts()] == ["text/plain", "text/html"]
    assert all(part.get_content_charset() == "utf-8" for part in mail.iter_parts())
    markup = mail.get_body(("html",)).get_content()
    assert "Tom &amp; Jerry &lt;Homes&gt;" in markup and "<Homes>" not in markup
    assert "Tom & Jerry <Homes>" in mail.get_body(("plain",)).get_content()
    assert "Your data has been erased." in markup


def test_the_outbox_keeps_utf8_text_as_written_8bit_not_quoted_printable(client, admin, operator, tenant):
    set_identity(operator, tenant, display_name="Café Zürich Leads", sender_name="Zürich Datenschutz")
    file(client, admin, verified_by_admin=True)
    work()
    [(raw, mail)] = raw_mails()
    assert b"Content-Transfer-Encoding: 8bit" in raw and b"quoted-printable" not in raw and b"base64" not in raw
    assert "\n\nCafé Zürich Leads\n".encode() in raw  # readable with cat
    assert mail["Subject"] == "Café Zürich Leads: your data was erased"
    assert mail["From"].addresses[0].display_name == "Zürich Datenschutz"
    assert all(len(line) <= 998 for line in raw.split(b"\n"))


def test_the_download_link_is_whole_on_its_own_line_in_the_raw_outbox_file(client, widget, admin):
    request = file(client, widget, type="access")
    verify = client.http.post(f"/v1/privacy-requests/{request['request_id']}/verify",
                              body=json.dumps({"code": last_code(EMAIL_NORMALISED)}),
                              headers=bearer(widget, **{"Content-Type": "application/json"}))
    assert verify.status_code == 200, verify.body
    work()
    link = download_link(EMAIL_NORMALISED)
    raw, mail = raw_mails()[-1]
    assert mail["Subject"] == "Acme Leads: your data export is ready"
    assert f"\n{link}\n".encode() in raw  # copied from cat, it is the link
    assert "Download it within 7 days" in mail.get_body(("plain",)).get_content()
    assert f'href="{link.replace("&", "&amp;")}"' in mail.get_body(("html",)).get_content()
    token = link.split("&download=")[1]
    downloaded = client.http.post(f"/v1/privacy-requests/{request['request_id']}/download",
                                  body=json.dumps({"token": token}), headers={"Content-Type": "application/json"})
    assert downloaded.status_code == 200, downloaded.body


def test_the_erasure_message_says_what_backups_keep_and_until_when(client, admin, monkeypatch):
    monkeypatch.setenv("LEADVAULT_NOW", "2026-03-01T10:00:00Z")
    file(client, admin, verified_by_admin=True)
    work()
    text = messages()[-1]["text"]
    assert "backups' keys" not in text
    assert "Our backups still hold your data, encrypted, for up to 7 days" in text  # the test stage: as dev
    assert "by 08 March 2026" in text


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_the_backup_days_messages_promise_are_the_deployed_recovery_window(stage):
    from deploy.stages import stage as deployed

    settings = get_settings({"LEADVAULT_STAGE": stage, "LEADVAULT_KMS_KEY_ID": "alias/x"})
    assert settings.backup_days == deployed(stage).recovery_days


def test_an_sms_starts_with_the_tenants_name(client, widget, operator, tenant):
    set_identity(operator, tenant, display_name="Acme Homes")
    response = client.http.post("/v1/privacy-requests", body=json.dumps({"type": "erasure", "phone": PHONE}),
                                headers=bearer(widget, **{"Content-Type": "application/json"}))
    assert response.status_code == 202, response.body
    [sms] = [m for m in messages() if m["to"] == PHONE_E164]
    assert sms["text"].startswith("Acme Homes: Your verification code is ")
    assert "Grievance officer" not in sms["text"]  # kept short


def test_policy_and_retention_notices_name_the_tenant(client, widget, admin, operator, tenant, monkeypatch):
    from chalicelib import clock

    monkeypatch.setenv("LEADVAULT_SEND_RATE", "0")
    set_identity(operator, tenant, display_name="Acme Homes", sender_address="privacy@acme.example")
    published(operator, tenant)
    lead = post_lead(client, widget, lead_body())
    assert lead.status_code == 201, lead.body
    assert "policy_id" in published(operator, tenant, "2026-12")
    invoke_job("dispatch_notifications", LocalContext("dispatch_notifications", timeout_s=60))
    expires = clock.parse_timestamp(body_of(client.http.get(f"/v1/leads/{body_of(lead)['lead_id']}",
                                                            headers=bearer(admin)))["expires_at"])
    monkeypatch.setenv("LEADVAULT_NOW", clock.iso(expires - timedelta(hours=30)))
    invoke_job("retention_notices", LocalContext("retention_notices", timeout_s=60))
    mine = [m for m in messages() if m["to"] == EMAIL_NORMALISED]
    subjects = [m["subject"] for m in mine]
    assert "Acme Homes: our privacy policy is changing" in subjects
    assert "Acme Homes: your details will be erased soon" in subjects
    assert all(m["from"] == "Acme Homes <privacy@acme.example>" for m in mine)


def test_a_confirmation_link_names_the_tenant_and_stays_whole(client, widget, operator, tenant):
    set_identity(operator, tenant, display_name="Acme Homes")
    published(operator, tenant)
    response = client.http.post("/v1/consents", body=json.dumps({"email": EMAIL, "grants": {"marketing_email": True},
                                                                 "policy_version": "2026-11"}),
                                headers=bearer(widget, **{"Content-Type": "application/json"}))
    assert response.status_code == 201, response.body
    raw, mail = raw_mails()[-1]
    assert mail["Subject"] == "Acme Homes: please confirm"
    text = mail.get_body(("plain",)).get_content()
    assert text.startswith("Acme Homes: please confirm that you want")
    link = re.search(r"https?://\S+/v1/pages/confirm#token=\S+", text).group(0)
    assert link.encode() in raw


# --- transports: what goes over the wire ----------------------------------------------------

LINK = "http://127.0.0.1:8000/v1/pages/privacy#request=prq_0123&download=tok.en-with_every=char"


def branded(text: str = f"Grüße. Download it within 7 days; the link works once:\n\n{LINK}", name="Zürich Leads"):
    from chalicelib.notify import Message, Sender

    return Message(channel="email", to="a@example.org", subject=f"{name}: your data export is ready", text=text,
                   kind="legal", sender=Sender(name, address="privacy@acme.example", reply_to="help@acme.example",
                                               accent_colour="#0b57d0"))


def test_ses_gets_non_ascii_parts_encoded_and_sends_from_the_tenants_address(aws, monkeypatch):
    import boto3
    from moto.backends import get_backend

    from chalicelib.notify import send

    monkeypatch.setenv("LEADVAULT_EMAIL_BACKEND", "ses")
    boto3.client("ses", region_name="us-east-1").verify_email_identity(EmailAddress="privacy@acme.example")
    send(branded())
    send(branded(text=f"All ASCII here:\n\n{LINK}", name="Zurich Leads"))
    unicode_mail, ascii_mail = get_backend("ses")["123456789012"]["us-east-1"].sent_messages[-2:]
    assert unicode_mail.source == "privacy@acme.example"
    raw = unicode_mail.raw_data.encode() if isinstance(unicode_mail.raw_data, str) else unicode_mail.raw_data
    assert raw.isascii() and all(len(line) <= 998 for line in raw.split(b"\n"))  # what SES asks for
    assert b"Content-Transfer-Encoding: quoted-printable" in raw and b"8bit" not in raw
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert LINK in parsed.get_body(("plain",)).get_content() and str(parsed["Reply-To"]) == "help@acme.example"
    # ASCII text travels as written (7bit) on every transport, so its links are never cut.
    assert f"\n{LINK}\n" in ascii_mail.raw_data and "quoted-printable" not in ascii_mail.raw_data


class Keeping:
    """An aiosmtpd handler that keeps what it was given, with the MAIL FROM options."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.received.append((list(envelope.mail_options), envelope.original_content or envelope.content))
        return "250 Message accepted"


@pytest.mark.parametrize("eight_bit_mime", [True, False])
def test_smtp_sends_8bit_only_to_a_server_that_takes_it(monkeypatch, eight_bit_mime):
    from aiosmtpd.controller import Controller

    from chalicelib.notify import send
    from devtools.dynamodb_local import free_port

    handler, port = Keeping(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, decode_data=False)
    if not eight_bit_mime:
        controller.factory = lambda: _without_8bitmime(handler)
    controller.start()
    try:
        monkeypatch.setenv("LEADVAULT_EMAIL_BACKEND", "smtp")
        monkeypatch.setenv("LEADVAULT_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("LEADVAULT_SMTP_PORT", str(port))
        send(branded())
    finally:
        controller.stop()
    [(options, content)] = handler.received
    parsed = email.message_from_bytes(content, policy=email.policy.default)
    assert LINK in parsed.get_body(("plain",)).get_content()
    assert str(parsed["From"]) == "Zürich Leads <privacy@acme.example>"
    if eight_bit_mime:
        assert "BODY=8BITMIME" in options and "Grüße".encode() in content
    else:
        assert content.isascii() and b"quoted-printable" in content


def _without_8bitmime(handler):
    """An SMTP server that does not announce 8BITMIME (aiosmtpd announces it unless told not to)."""
    from aiosmtpd.smtp import SMTP

    class Plain(SMTP):
        async def smtp_EHLO(self, hostname):
            await self.push("250-127.0.0.1")
            await self.push("250 HELP")
            self.session.host_name = hostname
            self.session.extended_smtp = True

    return Plain(handler, decode_data=False)


def test_a_line_too_long_for_mail_is_folded_at_spaces_and_links_stay_whole():
    from chalicelib.notify.messages import _email

    words = ("Mallikarjun kept calling after I said no " * 60).strip()
    mail = _email(branded(text=f"{words} {LINK} {words}"))
    raw = mail.as_bytes()
    assert all(len(line) <= 998 for line in raw.split(b"\n"))
    text = email.message_from_bytes(raw, policy=email.policy.default).get_body(("plain",)).get_content()
    assert LINK in text.split() and " ".join(text.split()).startswith(words)


def test_a_sender_address_ses_refuses_falls_back_to_the_configured_sender(aws, monkeypatch):
    import boto3
    from moto.backends import get_backend

    from chalicelib.notify import Message, Sender, send

    monkeypatch.setenv("LEADVAULT_EMAIL_BACKEND", "ses")
    monkeypatch.setenv("LEADVAULT_EMAIL_FROM", "LeadVault <privacy@leadvault.example>")
    boto3.client("ses", region_name="us-east-1").verify_email_identity(EmailAddress="privacy@leadvault.example")
    send(Message(channel="email", to="a@example.org", subject="Acme Homes: notice", text="Body", kind="legal",
                 sender=Sender("Acme Homes", address="privacy@unverified.example")))  # not verified in SES
    [sent] = get_backend("ses")["123456789012"]["us-east-1"].sent_messages
    parsed = email.message_from_string(sent.raw_data, policy=email.policy.default)
    assert sent.source == "privacy@leadvault.example"
    assert str(parsed["From"]) == "Acme Homes <privacy@leadvault.example>"
    assert str(parsed["Reply-To"]) == "privacy@unverified.example"  # replies still reach the tenant
