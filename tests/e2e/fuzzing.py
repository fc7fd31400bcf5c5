"""Schemathesis against the real local run: the key each operation gets, one engine run, what it sent and found.

Every operation is fuzzed with the least privileged key it takes (widget, else agent, else admin), and
the operations that also take an admin key once more with it, since admins see and may change more.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tests.e2e.fuzz_seed import Seeded

SEED = 20261124
# The checks: no 5xx, every status, content type, body and header as documented, auth enforced,
# undocumented methods refused. Not `positive_data_acceptance`: a schema cannot say which phone numbers
# are real, which cursors the API gave out, which custom fields a tenant declared, or "exactly one of"
# three body fields, so schema-valid requests are rightly refused with 400 (which is documented).
CHECKS_OFF = ("positive_data_acceptance",)
# Where drawn values go: a path, query, header or body parameter of this name takes them half the time.
BINDINGS = {"lead_id": ("path",), "request_id": ("path",), "agent_id": ("path",), "version": ("path",),
            "token": ("body",), "X-Preferences-Token": ("header",), "phone": ("query", "body"),
            "email": ("query", "body")}
# Inputs that broke parsers before (other scripts' digits, numbers int() refuses, cursors of the wrong
# list or shape), drawn now and then beside generated values.
NASTY = {
    "limit": ["²", "١٢", "9" * 5000, "-1", "0", "201", "1.0", " 5", "0x10", "1e2"],
    "cursor": ["", "e30", "eyJrIjoiaW5ib3giLCJwIjoieCJ9", "eyJrIjoidGVuYW50IiwicCI6W119", "bm90IGpzb24", "%%%"],
}


def role_for(roles: list[str] | None, admin_pass: bool) -> str | None:
    """The key an operation is fuzzed with in a pass; None leaves the operation out of the pass."""
    if admin_pass:
        return "admin" if roles and len(roles) > 1 and "admin" in roles else None
    return roles[0] if roles else ""


def config_for(document: dict[str, Any], base_url: str, keys: dict[str, str], seeded: Seeded, *,
               admin_pass: bool, max_examples: int) -> dict[str, Any]:
    """The schemathesis configuration of one pass (what ``schemathesis.toml`` would hold)."""
    operations = []
    for path_item in document["paths"].values():
        for operation in path_item.values():
            role = role_for(operation.get("x-roles"), admin_pass)
            entry: dict[str, Any] = {"include-operation-id": operation["operationId"]}
            if role is None:
                entry["enabled"] = False
            elif role:
                entry["headers"] = {"Authorization": f"Bearer {keys[role]}", **({"Origin": base_url} if role == "widget"
                                                                              else {})}
            else:
                entry["enabled"] = True
            operations.append(entry)
    return {
        "seed": SEED,
        "base-url": base_url,
        "request-timeout": 20,
        "generation": {"mode": "all", "max-examples": max_examples, "deterministic": True},
        "checks": {name: {"enabled": False} for name in CHECKS_OFF},
        "dictionaries": {**{name: {"values": values} for name, values in seeded.values.items()},
                         **{f"nasty_{name}": {"values": values} for name, values in NASTY.items()}},
        "parameters": {**{f"{where}.{name}": {"dictionary": name, "probability": 0.5}
                          for name, places in BINDINGS.items() for where in places},
                       **{f"query.{name}": {"dictionary": f"nasty_{name}", "probability": 0.3} for name in NASTY}},
        "operations": operations,
    }


@dataclass
class Tally:
    """What one or more passes sent and found."""

    requests: Counter[str] = field(default_factory=Counter)  # "METHOD /path [role]" -> requests
    statuses: Counter[str] = field(default_factory=Counter)  # "2xx", "4xx", ... -> requests
    successes: Counter[str] = field(default_factory=Counter)  # "METHOD /path [role]" -> 2xx answers
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.requests.values())


def run_pass(document: dict[str, Any], config: dict[str, Any], tally: Tally, pass_name: str) -> None:
    """One engine run (examples, coverage, fuzzing and stateful phases), added to ``tally``."""
    import schemathesis
    from schemathesis.config import SchemathesisConfig
    from schemathesis.engine import Status, events, from_schema

    schema = schemathesis.openapi.from_dict(document, config=SchemathesisConfig.from_dict(config))

    @schema.hook
    def after_call(context: Any, case: Any, response: Any) -> None:
        label = f"{case.operation.label} [{pass_name}]"
        tally.requests[label] += 1
        tally.statuses[f"{response.status_code // 100}xx"] += 1
        tally.successes[label] += 200 <= response.status_code < 300

    @schema.hook
    def after_network_error(context: Any, case: Any, request: Any) -> None:
        tally.problems.append(f"{case.operation.label}: no answer (network error)")

    started = time.monotonic()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished) and event.status == Status.FAILURE:
            tally.problems += _failures(event, pass_name)
        elif isinstance(event, events.NonFatalError):
            tally.problems.append(f"[{pass_name}] {event.label}: {event.info.title}: {event.info.message}")
        elif isinstance(event, events.FatalError):
            tally.problems.append(f"[{pass_name}] fatal: {event.exception!r}")
    tally.seconds += time.monotonic() - started


def _failures(event: Any, pass_name: str) -> list[str]:
    found = []
    for checks in event.recorder.checks.values():
        for check in checks:
            if check.failure_info is not None:
                failure = check.failure_info.failure
                found.append(f"[{pass_name}] {event.recorder.label}: {failure.title}\n{failure.message}\n"
                             f"{check.failure_info.code_sample}")
    return found
