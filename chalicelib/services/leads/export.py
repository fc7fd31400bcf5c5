"""``GET /v1/leads/export``: the filtered leads as CSV, for spreadsheets, a bounded page at a time.

Each answer holds at most ``MAX_ROWS`` leads, read with the same Queries as the list (never a Scan),
and names where the next answer starts. Cells that a spreadsheet would run as a formula are
neutralised with a leading apostrophe (OWASP's advice), so a name like ``=HYPERLINK(...)`` stays text.
The export is audited once per answer, with its row count and never a value.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from chalicelib import clock
from chalicelib.services import audit
from chalicelib.services.access.auth import Caller
from chalicelib.services.leads import listing
from chalicelib.services.leads.fields import declared_fields
from chalicelib.services.tenants.tenancy import require_tenant
from chalicelib.store import leads
from chalicelib.store.leads import Lead

MAX_ROWS = 5000
# Answers of the list engine merged into one export answer, at most (each reads every shard at most twice).
MAX_ROUNDS = 8
COLUMNS = ("lead_id", "name", "phone", "email", "source", "stage", "assigned_agent", "created_at",
           "last_activity_at", "expires_at", "legal_hold")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Export:
    """One answer: the CSV text, the cursor of the next answer (None: that was all) and its row count."""

    text: str
    next_cursor: str | None
    rows: int


def safe_cell(value: Any) -> str:
    """A cell as text, with anything a spreadsheet would evaluate made inert."""
    if value is None:
        return ""
    text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def export_leads(caller: Caller, query: dict[str, str]) -> Export:
    """Up to ``MAX_ROWS`` leads that pass the list's filters, newest activity first, as CSV."""
    search = listing.parse_search(caller, query)
    cursor = query.get("cursor")
    tenant = require_tenant(caller.tenant_id)
    field_names = list(declared_fields(tenant))
    found: list[Lead] = []
    for _ in range(MAX_ROUNDS):
        page, cursor, _read = listing.page(caller, search, MAX_ROWS - len(found), cursor)
        found += page
        if cursor is None or len(found) >= MAX_ROWS:
            break
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*COLUMNS, *(f"field.{name}" for name in field_names)])
    for lead in found:
        writer.writerow([safe_cell(value) for value in _row(lead, field_names)])
    audit.record(tenant, caller.key_id, "lead.export", f"{len(found)} rows")
    return Export(out.getvalue(), cursor, len(found))


def _row(lead: Lead, field_names: list[str]) -> list[Any]:
    profile = leads.open_profile(lead)
    fields = profile.get("fields", {})
    return [lead.lead_id, profile.get("name"), profile.get("phone"), profile.get("email"), lead.source, lead.stage,
            lead.assigned_agent, clock.iso(lead.created_at), clock.iso(lead.last_activity_at),
            clock.iso(lead.expires_at) if lead.expires_at else None, bool(lead.legal_hold),
            *(fields.get(name) for name in field_names)]
