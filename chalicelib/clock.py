"""The one clock of the service, so tests and local runs can move time (``LEADVAULT_NOW``)."""

from __future__ import annotations

from datetime import UTC, datetime

from chalicelib.config import CLOCK_OVERRIDE_STAGES, get_settings


def now() -> datetime:
    """Current UTC time; ``LEADVAULT_NOW`` replaces it only on the local and test stages."""
    settings = get_settings()
    if settings.now_override and settings.stage in CLOCK_OVERRIDE_STAGES:
        return parse_timestamp(settings.now_override)
    return datetime.now(UTC)


def parse_timestamp(value: str, naive_is_utc: bool = True) -> datetime:
    """Parse an ISO 8601 time; a naive value is taken as UTC (or refused). ValueError for what is not one,
    or not in UTC's range."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        if not naive_is_utc:
            raise ValueError("no time zone")
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+05:00 is before the first UTC moment Python has
        raise ValueError("out of range") from None


def iso(moment: datetime) -> str:
    """Format as the contract's ISO 8601 UTC with a ``Z`` and whole seconds."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def wall_now() -> datetime:
    """Real time, never overridden: for measuring races between live requests, not business time."""
    return datetime.now(UTC)


def sort_stamp(moment: datetime) -> str:
    """UTC time to the microsecond, in a form that sorts as text (the time part of sort keys)."""
    return f"{moment.astimezone(UTC):%Y-%m-%dT%H:%M:%S.%fZ}"
