"""Consent purposes of the contract, and the one rule of what a person's choices mean now.

``essential`` and ``security`` cookies need no consent. A person whose data was erased before
is *suppressed*: marketing never resumes, whatever they choose later. Every summary of consents
(a lead's, the ledger's report, the preferences page) goes through :func:`effective_consents`.
Pure functions: no database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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


def effective_consents(choices: Mapping[str, object], suppressed: bool) -> dict[str, bool]:
    """What each choice holds now: a grant, except marketing to a suppressed person, which stays off."""
    return {str(purpose): bool(granted) and not (suppressed and purpose in MARKETING)
            for purpose, granted in choices.items()}


def consent_summary(current: Mapping[str, bool], grants: Mapping[str, object], suppressed: bool) -> dict[str, bool]:
    """A lead's current consents after ``grants`` (a new lead's: ``current`` empty)."""
    return {**current, **effective_consents(grants, suppressed)}


def ledger_state(choices: Iterable[Mapping[str, object]], suppressed: bool) -> dict[str, bool]:
    """The latest choice per purpose of a ledger's held entries (oldest first); a suppressed person's
    state says every marketing purpose is off, chosen or not."""
    latest: dict[str, object] = {}
    for grants in choices:
        latest.update(grants)
    if suppressed:
        latest.update(dict.fromkeys(MARKETING, False))
    return effective_consents(latest, suppressed)
