"""The ``unique_keys`` table: identity claims and idempotency records, one item per unique key.

Both are "this key belongs to that" facts, read together in one strongly consistent batch:
- a claim says which lead owns a phone or e-mail (keyed by its blind index); it is written
  with a condition (must not exist), which keeps "one person, one lead" under concurrency;
- an idempotency record holds the first answer to a request, replayed for the same key and body.
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UnicodeSetAttribute, UTCDateTimeAttribute

from chalicelib.store.base import LeadVaultModel
from chalicelib.store.ttl import ExpiresAtAttribute

UNIQUE_KEYS = "unique_keys"


class ClaimRecord(LeadVaultModel):
    table_suffix = UNIQUE_KEYS

    class Meta(LeadVaultModel.Meta):
        pass

    # "<tenant_id>#<phone|email>#<blind index>"
    pk = UnicodeAttribute(hash_key=True)
    lead_id = UnicodeAttribute()
    # Wall-clock time of a conditional claim: a claim whose lead is missing is a crash leftover
    # only once the request that made it must have finished.
    claimed_at = UTCDateTimeAttribute(null=True)
    # Left unset on purpose: a claim must live exactly as long as its lead, whose expiry moves with
    # every activity. Claims are deleted with their lead (erasure, and the purge's cascade); a claim
    # whose lead is gone or expired is treated as free and taken over.
    expires_at = ExpiresAtAttribute(null=True)


class IdempotencyRecord(LeadVaultModel):
    table_suffix = UNIQUE_KEYS

    class Meta(LeadVaultModel.Meta):
        pass

    # "<tenant_id>#idem#<key_id>#<sha256 of the client's Idempotency-Key>"
    pk = UnicodeAttribute(hash_key=True)
    # HMAC of the canonical body under the tenant's secret (bodies hold personal data).
    body_digest = UnicodeAttribute()
    status = NumberAttribute()
    # The first answer, JSON. Only answers without personal data are recorded.
    response = UnicodeAttribute()
    lead_id = UnicodeAttribute(null=True)
    expires_at = ExpiresAtAttribute()


def claim_key(tenant_id: str, kind: str, blind_index: str) -> str:
    return f"{tenant_id}#{kind}#{blind_index}"


def take_claim(pk: str, lead_id: str, holder: str | None = None) -> bool:
    """Claim ``pk`` for ``lead_id`` if it is free, already the lead's, or (given) still ``holder``'s."""
    from pynamodb.exceptions import PutError

    condition = ClaimRecord.pk.does_not_exist() | (ClaimRecord.lead_id == lead_id)
    if holder is not None:
        condition = ClaimRecord.lead_id == holder
    try:
        ClaimRecord(pk, lead_id=lead_id).save(condition=condition)
    except PutError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def claim_holder(pk: str) -> str | None:
    """The lead a claim names, or None when there is no claim."""
    try:
        return ClaimRecord.get(pk, consistent_read=True).lead_id
    except ClaimRecord.DoesNotExist:
        return None


def release_claim(pk: str, lead_id: str) -> None:
    """Delete the claim if it still names ``lead_id`` (another lead's claim is left alone)."""
    from pynamodb.exceptions import DeleteError

    try:
        ClaimRecord(pk).delete(condition=ClaimRecord.lead_id == lead_id)
    except DeleteError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise


class SuppressionRecord(LeadVaultModel):
    """A keyed hash of an erased person's phone or e-mail: marketing to it never resumes.

    It outlives the person on purpose (no ``expires_at``): it holds no data that identifies
    anyone without the tenant's secret, and forgetting it would let marketing start again.
    """

    table_suffix = UNIQUE_KEYS

    class Meta(LeadVaultModel.Meta):
        pass

    # "<tenant_id>#suppressed#<phone|email>#<blind index>"
    pk = UnicodeAttribute(hash_key=True)
    added_at = UTCDateTimeAttribute()


def suppression_key(tenant_id: str, kind: str, blind_index: str) -> str:
    return f"{tenant_id}#suppressed#{kind}#{blind_index}"


class RateCounterRecord(LeadVaultModel):
    """A counter for one key and one time window (one-time codes sent to one identifier per hour)."""

    table_suffix = UNIQUE_KEYS

    class Meta(LeadVaultModel.Meta):
        pass

    # "<tenant_id>#rate#<what>#<blind index>#<window>"
    pk = UnicodeAttribute(hash_key=True)
    count = NumberAttribute(default=0)
    expires_at = ExpiresAtAttribute()


class NoticeClaimRecord(LeadVaultModel):
    """One notice to one user by e-mail for one policy version: written before sending, never twice."""

    table_suffix = UNIQUE_KEYS

    class Meta(LeadVaultModel.Meta):
        pass

    # "notice#<policy_id>#<key_id>#email"
    pk = UnicodeAttribute(hash_key=True)
    status = UnicodeAttribute(default="sending")
    expires_at = ExpiresAtAttribute(null=True)


class CorsOriginRecord(LeadVaultModel):
    """Which live widget keys allow one web origin: what a CORS preflight, which carries no key, can ask.

    An origin is a business's web site, not personal data. The set changes by atomic ADD and
    DELETE, so issuing and revoking keys of one origin at once cannot lose an entry.
    """

    table_suffix = UNIQUE_KEYS

    class Meta(LeadVaultModel.Meta):
        pass

    # "cors#<scheme://host[:port]>"
    pk = UnicodeAttribute(hash_key=True)
    key_ids = UnicodeSetAttribute(null=True)


def cors_key(origin: str) -> str:
    return f"cors#{origin}"


class OneTimeTokenRecord(LeadVaultModel):
    """A single-use token sent to a person (a confirmation link, a download link); only its hash is kept.

    What it may do is in ``purpose`` and ``target`` (ids we minted, no personal data). It is spent
    by one conditional update that records who spent it, so a retried spend is told apart from a
    second one.
    """

    table_suffix = UNIQUE_KEYS

    class Meta(LeadVaultModel.Meta):
        pass

    # "otk#<sha256 of the token, base64url>"
    pk = UnicodeAttribute(hash_key=True)
    tenant_id = UnicodeAttribute()
    purpose = UnicodeAttribute()
    target = UnicodeAttribute()  # JSON
    spent_by = UnicodeAttribute(null=True)
    expires_at = ExpiresAtAttribute()


def one_time_key(token_hash: str) -> str:
    return f"otk#{token_hash}"


def spend_token(pk: str, nonce: str, purpose: str, now: object, target: str | None = None) -> OneTimeTokenRecord | None:
    """Mark a live, unspent token of ``purpose`` (and ``target``, when given) spent by ``nonce``.

    Returns the record, or None when refused. A refusal caused by the SDK retrying our own applied
    update (the stored nonce is ours) counts as spent by us.
    """
    from pynamodb.exceptions import UpdateError

    record = OneTimeTokenRecord(pk)
    condition = (OneTimeTokenRecord.pk.exists() & OneTimeTokenRecord.spent_by.does_not_exist()
                 & (OneTimeTokenRecord.purpose == purpose) & (OneTimeTokenRecord.expires_at > now))
    if target is not None:
        condition &= OneTimeTokenRecord.target == target
    try:
        record.update(actions=[OneTimeTokenRecord.spent_by.set(nonce)], condition=condition)
    except UpdateError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
        try:
            record = OneTimeTokenRecord.get(pk, consistent_read=True)
        except OneTimeTokenRecord.DoesNotExist:
            return None
        return record if record.spent_by == nonce else None
    return record
