"""Sending messages: e-mail (SES, SMTP, on-disk outbox), SMS (SNS, outbox), and the in-app inbox."""

from chalicelib.notify.messages import Message, send

__all__ = ["Message", "send"]
