"""Consent purposes of the contract. ``essential`` and ``security`` cookies need no consent."""

from __future__ import annotations

from typing import Literal

PURPOSES = ("contact", "marketing_email", "marketing_sms", "marketing_calls", "performance", "functional",
            "advertising")
MARKETING = frozenset({"marketing_email", "marketing_sms", "marketing_calls"})
# The identifier whose owner confirms a marketing grant: the one the marketing would reach.
CONFIRMED_BY = {"marketing_email": "email", "marketing_sms": "phone", "marketing_calls": "phone"}
# The channel a message to an identifier goes by.
CHANNEL_OF = {"email": "email", "phone": "sms"}

Purpose = Literal["contact", "marketing_email", "marketing_sms", "marketing_calls", "performance", "functional",
                  "advertising"]


def consent_summary(current: dict[str, bool], grants: dict[str, bool], suppressed: bool) -> dict[str, bool]:
    """A lead's current consents after ``grants``: marketing stays off for a suppressed person."""
    return {**current, **{p: bool(v) and not (suppressed and p in MARKETING) for p, v in grants.items()}}
