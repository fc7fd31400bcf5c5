"""What a bench tenant needs before its leads: the policy version their consent names, published."""

from __future__ import annotations


def publish_policy(tenant_id: str, version: str) -> None:
    """Consent is accepted only to a version the tenant published (400 unknown_policy_version otherwise)."""
    from chalicelib.admin import invoke_operator
    from chalicelib.runtime import LocalContext

    answer = invoke_operator("admin_publish_policy", {
        "scope": "tenant", "tenant_id": tenant_id, "version": version, "url": "https://bench.example/privacy",
        "summary": "The bench tenant's policy.", "effective_at": "2026-01-01T00:00:00Z"}, LocalContext("bench"))
    assert "error" not in answer, answer
