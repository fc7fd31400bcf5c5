"""The ``expires_at`` attribute every table carries as its DynamoDB TTL."""

from __future__ import annotations

from pynamodb.attributes import TTLAttribute


class ExpiresAtAttribute(TTLAttribute):
    """Epoch seconds, the form DynamoDB's TTL reads; PynamoDB enables TTL on table creation."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(attr_name="expires_at", **kwargs)
