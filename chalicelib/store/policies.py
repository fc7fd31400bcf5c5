"""The policies repository: policy versions, users' in-app inboxes, and the claims that make
publishing and e-mail notices happen once.

Two facts are written with a condition (must not exist) and come back as ``True``/``False``:
a version reserved for its scope (an operator's retry cannot publish it twice), and a notice
claimed for one user (two dispatchers cannot both send it). Key formats, sort keys, list
positions and the dispatcher's progress writes live here; services get items to read.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from chalicelib import clock
from chalicelib.store.base import plain
from chalicelib.store.conditional import applied
from chalicelib.store.models.claims import NoticeClaimRecord
from chalicelib.store.models.policies import InboxRecord, PolicyRecord

# What services hold: a version and an inbox entry as read (attributes to read, never to set).
Policy = PolicyRecord
InboxItem = InboxRecord


def _conditional_put(item: Any, condition: Any) -> bool:
    """Put the item if the condition holds; False when it does not."""
    return applied(item.save, condition=condition)


# --- versions -----------------------------------------------------------------------------

def _effective_sort(effective_at: datetime, policy_id: str) -> str:
    return f"{clock.sort_stamp(effective_at)}#{policy_id}"


def reserve_version(scope_key: str, version: str) -> bool:
    """Hold this version for the scope; False if it was published already (or is being published)."""
    claim = NoticeClaimRecord(f"policyver#{scope_key}#{version}", status="published")
    return _conditional_put(claim, NoticeClaimRecord.pk.does_not_exist())


def new_policy(policy_id: str, *, scope: str, scope_key: str, version: str, url: str, summary: str,
               effective_at: datetime, created_at: datetime) -> Policy:
    """An unsaved version (its audience is counted before it is stored, see :func:`publish`)."""
    return PolicyRecord(policy_id, scope=scope, scope_key=scope_key,
                        effective_sort=_effective_sort(effective_at, policy_id), version=version, url=url,
                        summary=summary, effective_at=effective_at, created_at=created_at)


def publish(policy: Policy, recipients: int) -> None:
    """Store the version with the size of the audience the dispatcher must reach."""
    policy.recipients = recipients
    policy.save()


def get(policy_id: str) -> Policy | None:
    try:
        return PolicyRecord.get(policy_id, consistent_read=True)
    except PolicyRecord.DoesNotExist:
        return None


def by_version(scope_key: str, version: str) -> Policy | None:
    query = PolicyRecord.by_scope.query(scope_key, filter_condition=PolicyRecord.version == version)
    return next(iter(query), None)


def in_force(scope_key: str, now: datetime) -> Policy | None:
    """The scope's latest version effective by ``now``."""
    query = PolicyRecord.by_scope.query(scope_key, PolicyRecord.effective_sort <= f"{clock.sort_stamp(now)}~",
                                        scan_index_forward=False, limit=1)
    return next(iter(query), None)


# --- dispatching --------------------------------------------------------------------------

def undispatched() -> Iterator[Policy]:
    """Versions whose audience has not all been reached yet."""
    return PolicyRecord.scan(filter_condition=PolicyRecord.done.does_not_exist())


def positions_of(policy: Policy) -> dict[str, str]:
    """Where the dispatcher got to in each audience shard (shard -> position or ``done``)."""
    return {str(shard): str(position) for shard, position in plain(policy.positions).items()}


def record_progress(policy: Policy, positions: dict[str, str], sent: int, failed: int) -> None:
    """One write per page of the audience: the positions reached and the counts added."""
    actions: list[Any] = [PolicyRecord.positions.set(positions)]
    if sent:
        actions.append(PolicyRecord.sent.add(sent))
    if failed:
        actions.append(PolicyRecord.failed.add(failed))
    policy.update(actions=actions)


def mark_dispatched(policy: Policy) -> None:
    policy.update(actions=[PolicyRecord.done.set(True)])


def _notice_key(policy_id: str, key_id: str, channel: str) -> str:
    return f"notice#{policy_id}#{key_id}#{channel}"


def claim_notice(policy_id: str, key_id: str, channel: str, expires_at: datetime) -> bool:
    """Claim the one notice of this version to this user on this channel; False if it was claimed before."""
    claim = NoticeClaimRecord(_notice_key(policy_id, key_id, channel), expires_at=expires_at)
    return _conditional_put(claim, NoticeClaimRecord.pk.does_not_exist())


def release_notice(policy_id: str, key_id: str, channel: str) -> None:
    """Give a claimed notice back (it was not sent), so a later run sends it."""
    NoticeClaimRecord(_notice_key(policy_id, key_id, channel)).delete()


# --- inboxes ------------------------------------------------------------------------------

def _inbox_item(key_id: str, tenant_id: str, policy: Policy) -> InboxItem:
    return InboxRecord(key_id, policy.effective_sort, tenant_id=tenant_id, policy_id=policy.policy_id,
                       version=policy.version, url=policy.url, summary=policy.summary, created_at=clock.now())


def deliver_to_inbox(key_id: str, tenant_id: str, policy: Policy) -> bool:
    """Put the version in the user's inbox unless it is there already (then False, and it is left as is)."""
    return _conditional_put(_inbox_item(key_id, tenant_id, policy), InboxRecord.sort_key.does_not_exist())


def accept(key_id: str, tenant_id: str, policy: Policy, at: datetime) -> None:
    """Record the user's acceptance on their inbox entry of the version (made if it is not there)."""
    _inbox_item(key_id, tenant_id, policy).update(actions=[
        InboxRecord.accepted_at.set(at), InboxRecord.tenant_id.set(tenant_id),
        InboxRecord.policy_id.set(policy.policy_id), InboxRecord.version.set(policy.version),
        InboxRecord.url.set(policy.url), InboxRecord.summary.set(policy.summary),
        InboxRecord.created_at.set(at), InboxRecord.kind.set("policy"),
    ])


def inbox_page(key_id: str, limit: int, after: str | None) -> tuple[list[InboxItem], str | None]:
    """One page of a user's inbox, newest first, and the position the next page starts after (None at the end)."""
    start = {"key_id": {"S": key_id}, "sort_key": {"S": after}} if after else None
    query = InboxRecord.query(key_id, scan_index_forward=False, limit=limit, last_evaluated_key=start)
    items = list(query)
    return items, (items[-1].sort_key if query.last_evaluated_key and items else None)
