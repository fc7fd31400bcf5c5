"""Who made a staff change, as the timeline records it: a role and ids, never a name."""

from __future__ import annotations

from typing import Any

from chalicelib.services.access.auth import Caller

CHANGES = ("stage_change", "assignment_change")


def actor_of(caller: Caller | None) -> dict[str, str]:
    """The actor of a change made with this key (None: an operator function). Only the ids that exist are
    stored (a map holds no nulls); :func:`shown` fills in the rest."""
    if caller is None:
        return {"role": "operator"}
    stored = {"role": caller.role, "key_id": caller.key_id}
    if caller.agent_id:
        stored["agent_id"] = caller.agent_id
    return stored


def assignment_info(before: str | None, after: str | None, caller: Caller | None) -> dict[str, Any]:
    """The facts of an ``assignment_change`` event (agent ids only)."""
    info: dict[str, Any] = {"actor": actor_of(caller)}
    if before:
        info["from"] = before
    if after:
        info["to"] = after
    return info


def shown(event_type: str, info: dict[str, Any]) -> dict[str, Any]:
    """A change's facts as the contract shows them: every actor key present, ``from``/``to`` of an
    assignment present (null when unassigned)."""
    if event_type not in CHANGES:
        return info
    shown_info = dict(info)
    if isinstance(info.get("actor"), dict):
        shown_info["actor"] = {"role": info["actor"].get("role"), "key_id": info["actor"].get("key_id"),
                               "agent_id": info["actor"].get("agent_id")}
    if event_type == "assignment_change":
        shown_info.setdefault("from", None)
        shown_info.setdefault("to", None)
    return shown_info
