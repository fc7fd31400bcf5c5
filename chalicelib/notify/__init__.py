"""Sending messages: e-mail (SES, SMTP, on-disk outbox), SMS (SNS, outbox), and the in-app inbox."""

from chalicelib.notify.messages import DeliveryFailed, Message, Sender, send

__all__ = ["DeliveryFailed", "Message", "Sender", "send"]
