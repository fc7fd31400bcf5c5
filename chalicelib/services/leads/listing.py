"""Staff lists of leads: filters, exact search through the blind index, newest activity first.

Every list is served from a Query: a tenant's leads from the ``by_activity`` index (its shards read
side by side and merged in order), an agent's from ``by_agent_activity``. Filters are a
FilterExpression inside those Queries, so a page reads more items than it returns when a filter is
selective; each partition reads at most ``MAX_CALLS`` pages per answer, and a page may come back short
(with a cursor) rather than read on without bound. A search (``q``, in a POST body: never in a URL)
lists nothing: it turns the phone or e-mail into its blind index, reads the claim that names the lead,
and reads that lead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, StringConstraints

from chalicelib.errors import Forbidden, UsePostLookup, ValidationFailed
from chalicelib.services.access.auth import Caller
from chalicelib.services.leads.identifiers import normalise_email, normalise_phone
from chalicelib.services.leads.inputs import STAGES
from chalicelib.services.pagination import decode_cursor, encode_cursor
from chalicelib.services.tenants.tenancy import require_tenant
from chalicelib.services.validation import StrictInput
from chalicelib.store import leads
from chalicelib.store.leads import LIST_SHARDS, Lead, ListFilter, ListPage
from chalicelib.vault.blind_index import blind_index

Stage = Literal["new", "contacted", "qualified", "won", "lost"]
FILTERS = ("stage", "agent_id", "source", "created_from", "created_to", "q")
LIST_POSITION = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z#led_[0-9a-f]{20}$")
AGENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
SOURCE = re.compile(r"^[a-z0-9_\-]{1,40}$")
PHONE_TEXT = re.compile(r"^\+?[0-9 ().\-]{4,40}$")
DAY = re.compile(r"^\d{4}-\d\d-\d\d$")
DONE = "done"
ONE = "agent"  # the only partition of a list keyed by agent
# Query calls per partition per answer, and items each reads when a filter may drop some.
MAX_CALLS = 2
FILTERED_READ = 200
NOT_A_CURSOR = {"field": "cursor", "problem": "not a cursor this list gave out"}


@dataclass(frozen=True)
class LeadSearch:
    """A parsed list request: the filter, whose leads (an agent's or the tenant's), and a search."""

    keep: ListFilter
    agent_id: str | None  # read the agent's own index (agents always; admins who filter by agent)
    identifier: tuple[str, str] | None  # (kind, normalised value) of ``q``


class LeadSearchInput(StrictInput):
    """``POST /v1/leads/search``: a phone or e-mail travels in the body, never in a URL (gateway, CDN and
    access logs keep URLs); the list's filters may narrow it."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"q": "+91 98450 12345"}]})

    q: Annotated[str, StringConstraints(min_length=1, max_length=254)]
    stage: Stage | None = None
    agent_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")] | None = None
    source: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_\-]{1,40}$")] | None = None
    created_from: Annotated[str, StringConstraints(max_length=40)] | None = None
    created_to: Annotated[str, StringConstraints(max_length=40)] | None = None


def parse_search(caller: Caller, query: dict[str, str], *, body: bool = False) -> LeadSearch:
    """The filters of ``GET /v1/leads`` (and its export), or a search's body (``body``, which alone may hold
    ``q``); every problem names its field, never its value."""
    if "q" in query and not body:
        raise UsePostLookup("Send the phone or e-mail in the body of POST /v1/leads/search; it must not appear "
                            "in URLs.")
    unknown = sorted(set(query) - {*FILTERS, "limit", "cursor"})
    problems = [{"field": name, "problem": "not a filter of this list"} for name in unknown]
    stage, agent_id, source = query.get("stage"), query.get("agent_id"), query.get("source")
    if stage is not None and stage not in STAGES:
        problems.append({"field": "stage", "problem": "one of " + ", ".join(STAGES)})
    if agent_id is not None and not AGENT_ID.match(agent_id):
        problems.append({"field": "agent_id", "problem": "an agent id (letters, digits, _ and -, up to 64)"})
    if source is not None and not SOURCE.match(source):
        problems.append({"field": "source", "problem": "a source (a-z, 0-9, _ and -, up to 40)"})
    created_from = _moment(query, "created_from", problems, end_of_day=False)
    created_to = _moment(query, "created_to", problems, end_of_day=True)
    if created_from and created_to and created_from > created_to:
        problems.append({"field": "created_to", "problem": "is before created_from"})
    identifier = _identifier(caller, query.get("q"), problems)
    if problems:
        raise ValidationFailed(details=problems)
    if caller.role == "agent":
        if agent_id is not None and agent_id != caller.agent_id:
            raise Forbidden("Agents list only their own leads.")
        agent_id = caller.agent_id
    keep = ListFilter(stage=stage, agent_id=agent_id, source=source, created_from=created_from,
                      created_to=created_to)
    return LeadSearch(keep=keep, agent_id=agent_id, identifier=identifier)


def _moment(query: dict[str, str], name: str, problems: list[dict[str, str]], *, end_of_day: bool) -> datetime | None:
    """A date (the whole day, inclusive) or an ISO 8601 time (naive means UTC)."""
    raw = query.get(name)
    if raw is None:
        return None
    try:
        if DAY.match(raw):
            day = date.fromisoformat(raw)
            return datetime.combine(day, time.max if end_of_day else time.min, tzinfo=UTC)
        if len(raw) <= 40 and "T" in raw:
            from chalicelib import clock

            return clock.parse_timestamp(raw)
    except ValueError:
        pass
    problems.append({"field": name, "problem": "a date YYYY-MM-DD or an ISO 8601 time"})
    return None


def _identifier(caller: Caller, raw: str | None, problems: list[dict[str, str]]) -> tuple[str, str] | None:
    """``q`` as (kind, normalised value): an e-mail when it has an @, else a phone in the tenant's region."""
    if raw is None:
        return None
    raw = raw.strip()
    try:
        if len(raw) > 254 or not raw:
            raise ValueError
        if "@" in raw:
            return "email", normalise_email(raw)
        if not PHONE_TEXT.match(raw):  # phonenumbers would dig a number out of any text
            raise ValueError
        return "phone", normalise_phone(raw, require_tenant(caller.tenant_id).default_region)
    except ValueError:
        problems.append({"field": "q", "problem": "an exact phone number or e-mail address"})
        return None


def find(caller: Caller, search: LeadSearch) -> list[Lead]:
    """The one lead an exact phone or e-mail names (through its claim), if this caller may see it and it
    passes the other filters; pending identifiers name no one (see the threat model)."""
    assert search.identifier is not None
    kind, value = search.identifier
    tenant = require_tenant(caller.tenant_id)
    holder = leads.holders(caller.tenant_id, {kind: blind_index(tenant, kind, value)}).get(kind)
    lead = leads.live(caller.tenant_id, holder)
    return [lead] if lead is not None and search.keep.keeps(lead) else []


def page(caller: Caller, search: LeadSearch, limit: int, cursor: str | None) -> tuple[list[Lead], str | None, int]:
    """One page of the list, newest activity first; the next cursor; and how many items were read."""
    kind = "agent-leads" if search.agent_id else "leads"
    names = [ONE] if search.agent_id else [str(shard) for shard in range(LIST_SHARDS)]
    positions = _positions(decode_cursor(cursor, kind), names)
    filtered = any(value is not None for value in (search.keep.stage, search.keep.source, search.keep.created_from,
                                                   search.keep.created_to)) or (
        search.keep.agent_id is not None and not search.agent_id)
    size = max(limit, FILTERED_READ) if filtered else limit

    def read(name: str, after: str | None) -> ListPage:
        if search.agent_id:
            return leads.newest_of_agent(caller.tenant_id, search.agent_id, size, after, search.keep)
        return leads.newest_of_shard(caller.tenant_id, name, size, after, search.keep)

    taken, positions, read_count = merge(positions, limit, read)
    done = all(position == DONE for position in positions.values())
    return taken, (None if done else encode_cursor(kind, positions)), read_count


def _positions(value: Any, names: list[str]) -> dict[str, str | None]:
    if value is None:
        return dict.fromkeys(names)
    if not isinstance(value, dict) or set(value) != set(names):
        raise ValidationFailed(details=[NOT_A_CURSOR])
    for position in value.values():
        if position not in (None, DONE) and not (isinstance(position, str) and LIST_POSITION.match(position)):
            raise ValidationFailed(details=[NOT_A_CURSOR])
    return dict(value)


def _read_partition(read: Any, name: str, after: str | None, limit: int) -> ListPage:
    """Up to ``MAX_CALLS`` Query pages of one partition, until ``limit`` leads are kept."""
    kept: list[Lead] = []
    scanned = 0
    for _ in range(MAX_CALLS):
        one = read(name, after)
        kept += one.leads
        scanned += one.read
        after = one.resume_at
        if after is None or len(kept) >= limit:
            break
    return ListPage(kept, after, scanned)


def merge(positions: dict[str, str | None], limit: int, read: Any) -> tuple[list[Lead], dict[str, str | None], int]:
    """Merge the partitions' newest leads in activity order; each partition resumes after what it gave.

    Only leads at or above the horizon (the highest point where a partition stopped reading) are
    given: below it a partition may hold leads not read yet, and giving older ones first would break
    the order across pages. The partition that set the horizon is always fully given, so each answer
    moves on.
    """
    pages = {name: _read_partition(read, name, after, limit) for name, after in positions.items() if after != DONE}
    candidates = sorted(((leads.activity_position(lead), name, lead) for name, one in pages.items()
                         for lead in one.leads), key=lambda entry: entry[0], reverse=True)
    horizon = max((one.resume_at for one in pages.values() if one.resume_at is not None), default=None)
    taken = [entry for entry in candidates if horizon is None or entry[0] >= horizon][:limit]
    given = {id(entry[2]) for entry in taken}
    new_positions = dict(positions)
    for name, one in pages.items():
        mine = [entry for entry in taken if entry[1] == name]
        left = any(entry[1] == name and id(entry[2]) not in given for entry in candidates)
        if left:
            if mine:
                new_positions[name] = mine[-1][0]
        else:
            new_positions[name] = one.resume_at if one.resume_at is not None else DONE
    return [entry[2] for entry in taken], new_positions, sum(one.read for one in pages.values())
