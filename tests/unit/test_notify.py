"""Messages go out through the configured backend, each with the preferences link."""

from __future__ import annotations

import json

import boto3
from moto.backends import get_backend

from chalicelib.notify import Message, send
from tests.support.outbox import messages

PREFS = "http://127.0.0.1:8000/v1/pages/preferences#token=abc.def"


def test_outbox_writes_one_file_per_message(test_environment):
    send(Message(channel="email", to="a@example.org", subject="Hello", text="Body", kind="legal",
                 preferences_url=PREFS))
    send(Message(channel="sms", to="+919876543210", subject="Code", text="Your code is 123456"))
    sent = messages()
    assert [m["to"] for m in sent] == ["a@example.org", "+919876543210"]
    assert PREFS in sent[0]["text"] and sent[0]["kind"] == "legal"


def test_ses_backend_sends_through_ses(aws, monkeypatch):
    monkeypatch.setenv("LEADVAULT_EMAIL_BACKEND", "ses")
    monkeypatch.setenv("LEADVAULT_EMAIL_FROM", "privacy@leadvault.example")
    boto3.client("ses", region_name="us-east-1").verify_email_identity(EmailAddress="privacy@leadvault.example")
    send(Message(channel="email", to="a@example.org", subject="Notice", text="Policy changed",
                 preferences_url=PREFS))
    sent = get_backend("ses")["123456789012"]["us-east-1"].sent_messages
    assert len(sent) == 1 and "a@example.org" in sent[0].destinations
    assert PREFS in sent[0].raw_data and not messages()


def test_sns_backend_sends_sms_through_sns(aws, monkeypatch):
    monkeypatch.setenv("LEADVAULT_SMS_BACKEND", "sns")
    send(Message(channel="sms", to="+919876543210", subject="Code", text="Your code is 123456"))
    sent = get_backend("sns")["123456789012"]["us-east-1"].sms_messages
    assert [json.dumps(v) for v in sent.values()] and "+919876543210" in json.dumps(list(sent.values()))


def test_a_reference_is_the_message_id_and_the_sms_client_reference(test_environment):
    """A notice's reference is the same on every attempt, so a resend after a crash is recognisable downstream."""
    import email
    from pathlib import Path

    from chalicelib.config import get_settings

    send(Message(channel="email", to="a@example.org", subject="Notice", text="Body", reference="pol_1.led_2"))
    send(Message(channel="sms", to="+919876543210", subject="Notice", text="Body", reference="pol_1.led_3"))
    send(Message(channel="email", to="b@example.org", subject="Hello", text="Body"))
    outbox = Path(get_settings().outbox_dir)
    mails = [email.message_from_bytes(path.read_bytes()) for path in sorted(outbox.glob("*.eml"))]
    domain = get_settings().email_from.rpartition("@")[2].rstrip(">")
    assert mails[0]["Message-ID"] == f"<pol_1.led_2@{domain}>" and mails[0]["X-LeadVault-Reference"] == "pol_1.led_2"
    assert mails[1]["Message-ID"] is None and mails[1]["X-LeadVault-Reference"] is None
    assert [json.loads(path.read_text())["reference"] for path in outbox.glob("*.json")] == ["pol_1.led_3"]


def test_ses_keeps_the_reference_in_its_own_header(aws, monkeypatch):
    """SES replaces a Message-ID with its own: the reference also travels as X-LeadVault-Reference."""
    monkeypatch.setenv("LEADVAULT_EMAIL_BACKEND", "ses")
    monkeypatch.setenv("LEADVAULT_EMAIL_FROM", "privacy@leadvault.example")
    boto3.client("ses", region_name="us-east-1").verify_email_identity(EmailAddress="privacy@leadvault.example")
    send(Message(channel="email", to="a@example.org", subject="Notice", text="Body", reference="pol_1.led_2"))
    raw = get_backend("ses")["123456789012"]["us-east-1"].sent_messages[-1].raw_data
    assert "X-LeadVault-Reference: pol_1.led_2" in raw and "<pol_1.led_2@leadvault.example>" in raw


def test_sns_carries_the_reference_as_a_message_attribute(aws, monkeypatch):
    from unittest import mock

    monkeypatch.setenv("LEADVAULT_SMS_BACKEND", "sns")
    client = boto3.client("sns", region_name="us-east-1")
    with mock.patch("boto3.client", return_value=client), \
            mock.patch.object(client, "publish", wraps=client.publish) as publish:
        send(Message(channel="sms", to="+919876543210", subject="Notice", text="Body", reference="pol_1.led_3"))
    attributes = publish.call_args.kwargs["MessageAttributes"]
    assert attributes["LeadVault.Reference"] == {"DataType": "String", "StringValue": "pol_1.led_3"}
    assert attributes["AWS.SNS.SMS.SMSType"]["StringValue"] == "Transactional"
