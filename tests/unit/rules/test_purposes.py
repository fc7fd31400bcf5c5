"""What a person's consent choices mean now: marketing stays off for a suppressed (erased) person."""

from __future__ import annotations

from chalicelib.services.rights.purposes import CHANNEL_OF, CONFIRMED_BY, MARKETING, PURPOSES, consent_summary


def test_a_new_leads_consents_are_its_grants():
    assert consent_summary({}, {"contact": True, "marketing_email": True}, suppressed=False) == \
        {"contact": True, "marketing_email": True}


def test_grants_change_only_the_purposes_they_name():
    current = {"contact": True, "marketing_sms": True, "performance": False}
    assert consent_summary(current, {"marketing_sms": False}, suppressed=False) == \
        {"contact": True, "marketing_sms": False, "performance": False}


def test_marketing_to_a_suppressed_person_stays_off():
    summary = consent_summary({}, {"contact": True, "marketing_email": True, "marketing_sms": True,
                                   "marketing_calls": True, "functional": True}, suppressed=True)
    assert summary == {"contact": True, "marketing_email": False, "marketing_sms": False, "marketing_calls": False,
                       "functional": True}


def test_marketing_purposes_and_who_confirms_them():
    assert {"marketing_email", "marketing_sms", "marketing_calls"} == MARKETING
    assert set(PURPOSES) >= MARKETING
    assert CONFIRMED_BY == {"marketing_email": "email", "marketing_sms": "phone", "marketing_calls": "phone"}
    assert CHANNEL_OF == {"email": "email", "phone": "sms"}
