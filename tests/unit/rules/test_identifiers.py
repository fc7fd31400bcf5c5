"""Identifiers are normalised before they are indexed or sealed: E.164 phones, lower-cased e-mails."""

from __future__ import annotations

import pytest

from chalicelib.services.leads.identifiers import is_region, normalise_email, normalise_phone


@pytest.mark.parametrize(("raw", "region", "e164"), [
    ("+91 98765 43210", "IN", "+919876543210"),
    ("98765 43210", "IN", "+919876543210"),  # no country code: read in the default region
    ("098765-43210", "IN", "+919876543210"),  # national trunk prefix and punctuation dropped
    ("080 4000 0000", "IN", "+918040000000"),
    ("(201) 555-0123", "US", "+12015550123"),
    ("+44 7400 123456", "IN", "+447400123456"),  # a country code wins over the default region
])
def test_phones_become_e164(raw, region, e164):
    assert normalise_phone(raw, region) == e164


@pytest.mark.parametrize("raw", ["12", "not a number", "+91 12345", "", "+999 1234567890"])
def test_what_is_not_a_phone_number_is_refused(raw):
    with pytest.raises(ValueError, match="not a valid phone number"):
        normalise_phone(raw, "IN")


def test_emails_are_lower_cased_whole():
    assert normalise_email("Priya.Sharma+leads@Example.ORG") == "priya.sharma+leads@example.org"


@pytest.mark.parametrize("raw", ["no-at-sign", "a@", "@example.org", "a@@example.org", "a b@example.org", ""])
def test_what_is_not_an_email_address_is_refused(raw):
    with pytest.raises(ValueError, match="not a valid e-mail address"):
        normalise_email(raw)


def test_regions_are_upper_case_two_letter_codes_of_the_phone_plan():
    assert is_region("IN") and is_region("GB") and is_region("US")
    assert not is_region("ZZ") and not is_region("in") and not is_region("")
