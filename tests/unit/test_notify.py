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
