"""Normalising identifiers before they are indexed or sealed: E.164 phones, lower-case e-mails."""

from __future__ import annotations


def normalise_phone(raw: str, default_region: str) -> str:
    """E.164 form of ``raw``, read in ``default_region`` when it has no country code."""
    import phonenumbers

    try:
        number = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException:
        raise ValueError("not a valid phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(raw: str) -> str:
    """The validated address, lower-cased whole (the form the blind index hashes)."""
    from email_validator import EmailNotValidError, validate_email

    try:
        result = validate_email(raw, check_deliverability=False)
    except EmailNotValidError:
        raise ValueError("not a valid e-mail address") from None
    return result.normalized.lower()


def is_region(code: str) -> bool:
    import phonenumbers

    return code in phonenumbers.SUPPORTED_REGIONS
