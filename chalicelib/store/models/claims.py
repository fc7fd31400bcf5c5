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

    # "<tenant_id>#idem#<key_id>#<sha256 of the client's Idempotency-Key>", or "publish#<scope>#<version>"
    pk = UnicodeAttribute(hash_key=True)
    # HMAC of the canonical body under the tenant's secret (bodies hold personal data).
    body_digest = UnicodeAttribute(null=True)
    # "in_progress" while the first request works (held by ``owner`` until ``lease_until``), then "done";
    # records from before claims were taken first have no state and are done.
    state = UnicodeAttribute(null=True)
    owner = UnicodeAttribute(null=True)
    lease_until = UTCDateTimeAttribute(null=True)
    status = NumberAttribute(null=True)
    # The first answer, JSON. Only answers without personal data are recorded.
    response = UnicodeAttribute(null=True)
    lead_id = UnicodeAttribute(null=True)
    expires_at = ExpiresAtAttribute()


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
    """One notice to one user by e-mail for one policy version: its place in the notice ledger."""

    table_suffix = UNIQUE_KEYS

    class Meta(LeadVaultModel.Meta):
        pass

    # "notice#<policy_id>#<key_id>#email"
    pk = UnicodeAttribute(hash_key=True)
    # claimed, then sent, failed or skipped ("sending": a claim from before the ledger, settled).
    status = UnicodeAttribute(default="sending")
    # The writer's token (its own retried write reads as its own) and how long a claim is held.
    write_token = UnicodeAttribute(null=True)
    lease_until = UTCDateTimeAttribute(null=True)
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
