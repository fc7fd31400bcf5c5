"""Reading a consent ledger: what its entries say holds now (shared by the report and the preferences page)."""

from __future__ import annotations

from chalicelib.services.rights.purposes import ledger_state
from chalicelib.store import timeline
from chalicelib.store.timeline import Event


def current_state(entries: list[Event], suppressed: bool) -> dict[str, bool]:
    """The latest choice per purpose; a marketing grant the person has not confirmed yet holds nothing."""
    held = (timeline.info_of(entry) for entry in entries)
    return ledger_state((info.get("grants", {}) for info in held if not info.get("pending")), suppressed)
