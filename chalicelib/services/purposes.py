"""Consent purposes of the contract. ``essential`` and ``security`` cookies need no consent."""

from __future__ import annotations

from typing import Literal

PURPOSES = ("contact", "marketing_email", "marketing_sms", "marketing_calls", "performance", "functional",
            "advertising")
MARKETING = frozenset({"marketing_email", "marketing_sms", "marketing_calls"})

Purpose = Literal["contact", "marketing_email", "marketing_sms", "marketing_calls", "performance", "functional",
                  "advertising"]
