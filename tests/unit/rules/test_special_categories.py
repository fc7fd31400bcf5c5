"""Fields naming special-category data are refused by name, however the name is spelled."""

from __future__ import annotations

import pytest

from chalicelib.services.leads.special_categories import SPECIAL_CATEGORIES, special_category_of


@pytest.mark.parametrize(("name", "category"), [
    ("religion", "religion"),
    ("Religious_Affiliation", "religion"),  # the docstring's own examples
    ("bloodGroup", "health"),
    ("sexual-orientation", "sexual_orientation"),
    ("MEDICAL_HISTORY", "health"),
    ("caste", "caste"),
    ("Trade Union", "trade_union"),  # a run of words
    ("tradeUnion", "trade_union"),
    ("DNA sample", "genetics"),
    ("criminalRecord", "criminal_record"),
    ("skin colour", "race"),
    ("".join(chr(ord(c) + 0xFEE0) for c in "religion"), "religion"),  # full-width letters: the same word
])
def test_special_categories_are_recognised(name, category):
    assert special_category_of(name) == category
    assert category in SPECIAL_CATEGORIES


@pytest.mark.parametrize("name", ["city", "budget", "visit_date", "wantsCallback", "preferred_language",
                                  "company size", ""])
def test_ordinary_fields_are_not_special(name):
    assert special_category_of(name) is None
