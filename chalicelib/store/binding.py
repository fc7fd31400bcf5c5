"""Resolve table names, endpoint and region from the settings of the current call."""

from __future__ import annotations

import os
import threading
from typing import Any

from chalicelib.config import get_settings
from chalicelib.store.base import LeadVaultModel


def all_models() -> list[type[LeadVaultModel]]:
    """One model per table of the service, in creation order."""
    from chalicelib.store.models.api_keys import ApiKeyRecord
    from chalicelib.store.models.audit import AuditRecord
    from chalicelib.store.models.calls import CallRecord
    from chalicelib.store.models.claims import ClaimRecord
    from chalicelib.store.models.events import EventRecord
    from chalicelib.store.models.field_work_days import FieldWorkDayRecord
    from chalicelib.store.models.grievances import GrievanceRecord
    from chalicelib.store.models.leads import LeadRecord
    from chalicelib.store.models.person_keys import PersonKeyRecord
    from chalicelib.store.models.policies import InboxRecord, PolicyRecord
    from chalicelib.store.models.privacy import PrivacyRequestRecord
    from chalicelib.store.models.shifts import ShiftRecord
    from chalicelib.store.models.tenants import TenantRecord
    from chalicelib.store.models.timeline import TimelineRecord
    from chalicelib.store.models.webhooks import DeliveryRecord

    return [TenantRecord, ApiKeyRecord, PersonKeyRecord, AuditRecord, LeadRecord, ClaimRecord, TimelineRecord,
            ShiftRecord, CallRecord, PrivacyRequestRecord, PolicyRecord, InboxRecord,
            DeliveryRecord, GrievanceRecord, EventRecord, FieldWorkDayRecord]


def _bound_models() -> list[type[LeadVaultModel]]:
    """Every model, including those that share a table with another (idempotency records)."""
    from chalicelib.store.models.claims import (
        CorsOriginRecord,
        IdempotencyRecord,
        NoticeClaimRecord,
        OneTimeTokenRecord,
        RateCounterRecord,
        SuppressionRecord,
    )
    from chalicelib.store.models.privacy import ExportRecord
    from chalicelib.store.models.webhooks import SubscriptionRecord

    return [*all_models(), IdempotencyRecord, SuppressionRecord, RateCounterRecord, NoticeClaimRecord, ExportRecord,
            CorsOriginRecord, OneTimeTokenRecord, SubscriptionRecord]


_THREAD_SESSIONS = threading.local()


def _thread_session() -> Any:
    """One botocore session per thread, shared by every table's client.

    PynamoDB builds a new session per table connection, and each new session parses the
    DynamoDB service model again (~0.1 s a table on a cold Lambda). Sessions are not safe to
    share across threads, so we share them only within one.
    """
    import botocore.session

    session = getattr(_THREAD_SESSIONS, "session", None)
    if session is None:
        session = _THREAD_SESSIONS.session = botocore.session.get_session()
    return session


def _share_sessions() -> None:
    from pynamodb.connection import base

    if base.get_session is not _thread_session:
        base.get_session = _thread_session


def local_credential(settings: Any) -> str | None:
    """DynamoDB Local takes any credentials: without real ones, both key and secret are ``local``."""
    return "local" if settings.dynamodb_endpoint_url and not os.environ.get("AWS_ACCESS_KEY_ID") else None


# DynamoDB answers in milliseconds, so its calls retry fast and often and give up on a silent
# connection in seconds: botocore's DynamoDB retry policy ("legacy" mode: 50 ms doubling, throttling,
# 5xx, lost connections and TransactionInProgress retried, no client-wide retry quota that a burst of
# faults can drain) instead of the generic standard mode (1 s base, 4 attempts, a quota), and timeouts
# far below the SDK's 15 s / 30 s. A retried write may have applied: every write is safe to retry.
SDK_SETTINGS: dict[str, Any] = {
    "retry_configuration": {"mode": "legacy", "total_max_attempts": 7},
    "connect_timeout_seconds": 2,
    "read_timeout_seconds": 5,
}


def _tune_sdk() -> None:
    from pynamodb import settings

    settings.default_settings_dict.update(SDK_SETTINGS)


def bind_tables() -> None:
    """Point every model at this call's tables; drop cached connections only when that changes."""
    _share_sessions()
    _tune_sdk()
    settings = get_settings()
    local_credentials = local_credential(settings) is not None
    for model in _bound_models():
        meta = model.Meta
        wanted = (
            f"{settings.table_prefix}{model.table_suffix}",
            settings.dynamodb_endpoint_url,
            settings.region,
            "local" if local_credentials else None,
        )
        current = (
            meta.table_name,
            getattr(meta, "host", None),
            getattr(meta, "region", None),
            getattr(meta, "aws_access_key_id", None),
        )
        if wanted == current:
            continue
        meta.table_name, meta.host, meta.region, meta.aws_access_key_id = wanted
        meta.connect_timeout_seconds = SDK_SETTINGS["connect_timeout_seconds"]
        meta.read_timeout_seconds = SDK_SETTINGS["read_timeout_seconds"]
        meta.aws_secret_access_key = "local" if local_credentials else None
        model._connection = None
