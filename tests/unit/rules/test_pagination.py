"""List paging: ?limit= from 1 to 200 (50 by default) and opaque cursors only their own list takes back."""

from __future__ import annotations

import pytest

from chalicelib.errors import ValidationFailed
from chalicelib.services.pagination import decode_cursor, encode_cursor, parse_limit


@pytest.mark.parametrize(("raw", "limit"), [(None, 50), ("1", 1), ("4", 4), ("200", 200)])
def test_limits_from_1_to_200(raw, limit):
    assert parse_limit(raw) == limit


@pytest.mark.parametrize("raw", ["0", "201", "1000", "-1", "1.5", "abc", "", " 5", "²", "١٢"])
def test_other_limits_are_validation_errors(raw):
    with pytest.raises(ValidationFailed) as refused:
        parse_limit(raw)
    assert refused.value.details[0]["field"] == "limit"


def test_a_cursor_gives_back_its_position():
    position = {"sk": "2026-11-20T09:30:00.000000Z#led_1", "shard": 3}
    cursor = encode_cursor("leads", position)
    assert decode_cursor(cursor, "leads") == position
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")  # URL-safe


def test_no_cursor_is_the_first_page():
    assert decode_cursor(None, "leads") is None


@pytest.mark.parametrize("cursor", [encode_cursor("calls", {"sk": "x"}),  # another list's cursor
                                    "garbage", "!!!", "", "e30",  # "{}": no kind, no position
                                    encode_cursor("leads", "x" * 3000)])  # too long to be ours
def test_cursors_this_list_did_not_give_out_are_refused(cursor):
    with pytest.raises(ValidationFailed) as refused:
        decode_cursor(cursor, "leads")
    assert refused.value.details[0]["field"] == "cursor"
