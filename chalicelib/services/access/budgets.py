"""Budgets on everything the public widget key can do, shared by every Lambda through DynamoDB.

The widget key is public, so what it may spend is capped three ways at once: per key, per tenant
and per client (the caller's truncated address, keyed by HMAC). Messages, which cost the tenant
money, have budgets of their own, SMS most tightly, and every message also counts against its
recipient, per requester, so nobody can flood a person or spend the budget that person's own
request needs. Staff keys are trusted and spend nothing.

A request spends all its budgets in one conditional transaction before it stores or sends
anything: over any budget it is refused (429 with ``Retry-After``) and nothing moves.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from chalicelib import clock
from chalicelib.errors import BudgetsContended, BudgetSpent, ValidationFailed
from chalicelib.services.tenants.tenancy import Tenant
from chalicelib.store import tenants
from chalicelib.store.tenants import Contended, Counter, Refused
from chalicelib.vault.blind_index import blind_index
from chalicelib.vault.minimise import truncate_ip

HOUR, DAY = "hour", "day"
# The request counters of a key and of a tenant (leads, consents: the busy ones) are spread over
# shards, each allowing its share, so a busy site never makes one counter item hot.
HOT_SHARDS = 8
HOT_ACTIONS = ("leads", "consents")

# name -> default; a tenant may override any of them (``admin_set_budgets``).
DEFAULT_BUDGETS: dict[str, int] = {
    "leads_per_key_hour": 600,
    "leads_per_tenant_hour": 5000,
    "leads_per_client_hour": 120,
    "consents_per_key_hour": 1200,
    "consents_per_tenant_hour": 10000,
    "consents_per_client_hour": 240,
    "privacy_requests_per_key_hour": 60,
    "privacy_requests_per_tenant_hour": 500,
    "privacy_requests_per_client_hour": 10,
    "messages_per_key_hour": 200,
    "messages_per_tenant_hour": 1000,
    "messages_per_client_hour": 20,
    "sms_per_key_hour": 60,
    "sms_per_tenant_day": 200,
    "codes_per_address_and_requester_hour": 3,
    "codes_per_address_and_requester_day": 6,
    "codes_per_address_day": 30,
    "confirmations_per_address_day": 3,
}


@dataclass(frozen=True)
class Outgoing:
    """A message a request will send: its channel, its recipient's blind index, and what it is."""

    channel: str  # email | sms
    recipient_ref: str
    kind: str  # code | confirmation


@dataclass(frozen=True)
class Spender:
    """Who spends: the tenant (with its settings), the key, and the client's address."""

    tenant: Tenant
    key_id: str
    role: str
    source_ip: str | None

    @property
    def tenant_id(self) -> str:
        return str(self.tenant.tenant_id)


def budgets_of(tenant: Tenant) -> dict[str, int]:
    """The tenant's public budgets: its overrides over the defaults."""
    return {**DEFAULT_BUDGETS, **tenants.budget_overrides_of(tenant)}


def _window(per: str, now: datetime) -> tuple[str, datetime]:
    if per == HOUR:
        start = now.replace(minute=0, second=0, microsecond=0)
        return start.strftime("%Y%m%d%H"), start + timedelta(hours=1)
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return start.strftime("%Y%m%d"), start + timedelta(days=1)


def _counter(
    tenant_id: str, limits: dict[str, int], name: str, scope: str, now: datetime, shards: int = 1
) -> Counter:
    """The counter of budget ``name`` for ``scope`` in the current window (hour or day, by the name)."""
    limit = limits[name]
    per = HOUR if name.endswith("_hour") else DAY
    stamp, ends = _window(per, now)
    shards = min(shards, max(limit, 1))  # a small budget is never multiplied by its shards
    if shards > 1:
        return tenants.budget_counter(tenant_id, name, scope, stamp, math.ceil(limit / shards), ends,
                                      shard=secrets.randbelow(shards))
    return tenants.budget_counter(tenant_id, name, scope, stamp, limit, ends)


def _client_scope(spender: Spender) -> str | None:
    """The caller's truncated address under the tenant's HMAC: no address in any key."""
    prefix = truncate_ip(spender.source_ip)
    if not prefix:
        return None
    return blind_index(spender.tenant, "client", prefix)


def counters_for(spender: Spender, action: str | None, message: Outgoing | None = None) -> list[Counter]:
    """Every counter one public request moves; none for staff keys."""
    if spender.role != "widget":
        return []
    limits, now, tenant_id = budgets_of(spender.tenant), clock.now(), spender.tenant_id

    def count(name: str, scope: str, shards: int = 1) -> Counter:
        return _counter(tenant_id, limits, name, scope, now, shards)

    client = _client_scope(spender)
    counters: list[Counter] = []
    if action:
        shards = HOT_SHARDS if action in HOT_ACTIONS else 1
        counters.append(count(f"{action}_per_key_hour", spender.key_id, shards))
        counters.append(count(f"{action}_per_tenant_hour", "t", shards))
        if client:
            counters.append(count(f"{action}_per_client_hour", client))
    if message is not None:
        counters += _message_counters(count, spender.key_id, client, message)
    return counters


def _message_counters(
    count: Callable[[str, str], Counter], key_id: str, client: str | None, message: Outgoing
) -> list[Counter]:
    """A request sends at most one message; it counts for the key, the tenant, the client and its recipient."""
    counters = [count("messages_per_key_hour", key_id), count("messages_per_tenant_hour", "t")]
    if client:
        counters.append(count("messages_per_client_hour", client))
    if message.channel == "sms":
        counters += [count("sms_per_key_hour", key_id), count("sms_per_tenant_day", "t")]
    recipient = f"{message.channel}:{message.recipient_ref}"
    if message.kind == "code":
        requester = f"{recipient}:{client or key_id}"
        counters += [count("codes_per_address_and_requester_hour", requester),
                     count("codes_per_address_and_requester_day", requester),
                     # A ceiling for the address over every requester: flooding needs many networks, not one.
                     count("codes_per_address_day", recipient)]
    else:
        counters.append(count("confirmations_per_address_day", recipient))
    return counters


def charge(spender: Spender, action: str | None, message: Outgoing | None = None) -> None:
    """Spend the request's budgets, or raise 429 having spent none."""
    charge_with(spender, action, tenants.spend_budgets, message)


def charge_with(
    spender: Spender, action: str | None, write: Callable[[list[Counter]], None], message: Outgoing | None = None
) -> None:
    """Spend the request's budgets in the caller's own atomic write (``write`` gets the counters to add).

    Raises 429 having written nothing when a budget is spent; a refusal of the caller's own
    conditions propagates from ``write`` unchanged.
    """
    counters = counters_for(spender, action, message)
    closed = [counter for counter in counters if counter.limit <= 0]
    if closed:  # a budget set to 0: nothing of that kind is spent at all
        raise spent(closed)
    try:
        write(counters)
    except Refused as refused:
        if refused.counters:
            raise spent(refused.counters) from None
        raise
    except Contended:
        raise BudgetsContended() from None


def charge_message(spender: Spender, message: Outgoing) -> bool:
    """Spend a message's budgets if they allow it; False (nothing spent) when any is spent or stays contended.

    For messages that go with a request the tenant wants served anyway (a lead's confirmation
    link): over budget, the request is kept and only the message is left unsent.
    """
    counters = counters_for(spender, None, message)
    if any(counter.limit <= 0 for counter in counters):
        return False
    try:
        tenants.spend_budgets(counters)
    except (Refused, Contended):
        return False
    return True


def spent(counters: Sequence[Counter]) -> BudgetSpent:
    """The 429 for these spent budgets, saying when the soonest of them refills (``Retry-After``)."""
    ends = max(counter.window_ends for counter in counters)
    return BudgetSpent(max(1, math.ceil((ends - clock.now()).total_seconds())))


def set_budgets(payload: object) -> dict[str, Any]:
    """``admin_set_budgets``: override a tenant's public budgets by name (0 stops that spending)."""
    from pydantic import Field

    from chalicelib.services import audit
    from chalicelib.services.tenants.tenancy import require_tenant
    from chalicelib.services.validation import StrictInput, parse_input

    class SetBudgetsInput(StrictInput):
        tenant_id: str
        budgets: dict[str, Annotated[int, Field(ge=0, le=10_000_000)]] = Field(min_length=1)

    data = parse_input(SetBudgetsInput, payload)
    unknown = sorted(set(data.budgets) - set(DEFAULT_BUDGETS))
    if unknown:
        raise ValidationFailed(details=[{"field": f"budgets.{name[:60]}", "problem": "not a budget name"}
                                        for name in unknown])
    tenant = require_tenant(data.tenant_id)
    tenants.set_budgets(tenant, {**tenants.budget_overrides_of(tenant), **data.budgets})
    audit.record(tenant, audit.OPERATOR, "tenant.set_budgets", data.tenant_id)
    return {"tenant_id": data.tenant_id, "budgets": budgets_of(tenant)}
