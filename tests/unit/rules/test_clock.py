"""Times of the contract: ISO 8601 in, UTC out with a Z and whole seconds; sort stamps that sort as text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from chalicelib.clock import iso, parse_timestamp, sort_stamp

IST = timezone(timedelta(hours=5, minutes=30))
MOMENT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize("text", ["2026-11-20T09:30:00Z", "2026-11-20T09:30:00+00:00", "2026-11-20T15:00:00+05:30",
                                  "2026-11-20T04:30:00-05:00", "2026-11-20T09:30:00"])  # naive: taken as UTC
def test_timestamps_are_read_as_utc(text):
    parsed = parse_timestamp(text)
    assert parsed == MOMENT and parsed.utcoffset() == timedelta(0)


def test_a_naive_timestamp_can_be_refused():
    with pytest.raises(ValueError):
        parse_timestamp("2026-11-20T09:30:00", naive_is_utc=False)
    assert parse_timestamp("2026-11-20T09:30:00Z", naive_is_utc=False) == MOMENT


@pytest.mark.parametrize("text", ["not a time", "", "2026-13-01T00:00:00Z", "0001-01-01T00:00:00+05:00"])
def test_what_is_not_a_utc_time_is_a_value_error(text):
    with pytest.raises(ValueError):
        parse_timestamp(text)


def test_iso_is_utc_with_a_z_and_whole_seconds():
    assert iso(datetime(2026, 11, 20, 15, 0, 0, 999999, tzinfo=IST)) == "2026-11-20T09:30:00Z"


def test_sort_stamps_keep_microseconds_and_sort_as_text():
    assert sort_stamp(datetime(2026, 11, 20, 15, 0, 0, 123456, tzinfo=IST)) == "2026-11-20T09:30:00.123456Z"
    moments = [MOMENT + timedelta(microseconds=n) for n in (0, 1, 999_999, 1_000_000, 86_400_000_000)]
    stamps = [sort_stamp(moment) for moment in reversed(moments)]
    assert sorted(stamps) == [sort_stamp(moment) for moment in moments]
