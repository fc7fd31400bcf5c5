"""The base every LeadVault model shares: a table name bound late, not at import."""

from __future__ import annotations

from typing import Any, ClassVar

from pynamodb.models import Model


class LeadVaultModel(Model):
    """A model whose table name is ``<prefix><table_suffix>``, set by :func:`bind_tables`."""

    table_suffix: ClassVar[str] = ""

    class Meta:
        table_name = "unbound"
        billing_mode = "PAY_PER_REQUEST"


def plain(value: Any) -> dict[str, Any]:
    """A map attribute's value as a plain dict (PynamoDB gives a MapAttribute once read, a dict before)."""
    if hasattr(value, "as_dict"):
        return dict(value.as_dict())
    return dict(value or {})
