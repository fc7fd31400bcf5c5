"""Recognisable personal data, so tests can search raw tables and logs for any trace of it."""

EMAIL = "Priya.Sharma+leads@example.org"
EMAIL_NORMALISED = "priya.sharma+leads@example.org"
PHONE = "+91 98765 43210"
PHONE_E164 = "+919876543210"
NAME = "Priya Sharma"

PLAINTEXT_MARKERS = (EMAIL, EMAIL_NORMALISED, "priya.sharma", "Priya", PHONE_E164, "9876543210", NAME)
