"""Policy versions a test tenant has published, so the consents its tests give name real versions.

A lead's consent must name a version the tenant (or the platform) published (400 unknown_policy_version).
These are stored as a finished publication with no audience, taking effect only long after the tests'
clock: nothing is sent for them, and they are never the policy in force.
"""

from __future__ import annotations

from datetime import UTC, datetime

# The versions the tests' consents name (tests/support/leads.py and the tests' own bodies).
TEST_VERSIONS = ("2026-11", "1")
PUBLISHED_AT = datetime(2020, 1, 1, tzinfo=UTC)
EFFECTIVE_AT = datetime(2999, 1, 1, tzinfo=UTC)


def publish_versions(tenant_id: str, *versions: str) -> None:
    """Store these versions as the tenant's, already dispatched (idempotent)."""
    from chalicelib.store import policies

    for version in versions or TEST_VERSIONS:
        policy = policies.new_policy(policies.policy_id_of(tenant_id, version), scope="tenant", scope_key=tenant_id,
                                     version=version, url=f"https://example.com/privacy/{version}",
                                     summary="Test policy", effective_at=EFFECTIVE_AT, created_at=PUBLISHED_AT)
        policy.done = True
        policies.publish(policy, 0)
