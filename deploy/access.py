"""What each Lambda function may do in AWS: the hand-written source of its IAM policy.

Least privilege, function by function, from the code paths each one runs (services -> store):
only the DynamoDB actions it calls, on the tables and indexes it touches; the master key only
through the encryption contexts the vault uses; SES and SNS only where messages go out.
The unit and integration tests record every AWS call each function makes and fail when this
table does not allow it (tests/support/aws_access.py), so it cannot fall behind the code.

Table entries are ``"<table suffix>"`` or ``"<table suffix>/<index>"``; actions are DynamoDB's IAM
action names (``PartiQLUpdate`` for ``store.batch.execute_statements``' UPDATE statements).
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Encryption-context ``purpose`` values of the vault (vault/envelope.py, vault/blind_index.py).
PERSON_KEY = "person-data-key"
BLIND_INDEX = "blind-index-secret"


@dataclass(frozen=True)
class Access:
    """One function's permissions beyond its own log group."""

    tables: dict[str, tuple[str, ...]]
    # KMS action -> encryption-context purposes it may be called with.
    kms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    email: bool = False
    sms: bool = False


_AUDIT = {"audit_log": ("PutItem",)}
_TENANT = {"tenants": ("GetItem",)}
# The event log: an event rides in its change's transaction (PutItem) or batch (BatchWriteItem).
_EVENTS = {"events": ("PutItem", "BatchWriteItem")}

ACCESS: dict[str, Access] = {
    "api_handler": Access(
        tables={
            # auth reads key and tenant in one batch; tenancy reads the tenant alone
            "tenants": ("GetItem", "BatchGetItem"),
            "api_keys": ("BatchGetItem",),
            # privacy requests mint, open and (when locked) shred their own key
            "person_keys": ("GetItem", "PutItem", "DeleteItem"),
            "audit_log": ("PutItem", "BatchWriteItem", "Query"),  # Query: GET /v1/audit, a day's shards
            # intake (a new lead or a merge is one transaction: PutItem/UpdateItem per item), reads,
            # patches, calls (new leads, clocks moved by PartiQL)
            "leads": ("GetItem", "BatchGetItem", "PutItem", "UpdateItem", "BatchWriteItem", "PartiQLUpdate"),
            "leads/by_tenant": ("Query",),
            "leads/by_activity": ("Query",),  # staff lists and the CSV export, newest activity first
            "leads/by_agent_activity": ("Query",),
            # claims (a proven identifier releases the one it replaces), idempotency records, budget
            # counters, one-time links, suppression look-ups
            "unique_keys": ("GetItem", "BatchGetItem", "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"),
            "timeline": ("Query", "PutItem", "BatchWriteItem"),
            "shifts": ("Query", "PutItem", "UpdateItem", "GetItem"),  # GetItem: a close read back
            "calls": ("BatchGetItem", "BatchWriteItem"),
            "calls/by_time": ("Query",),
            "calls/by_lead": ("Query",),  # a lead's timeline shows its calls
            "privacy_requests": ("GetItem", "PutItem", "UpdateItem", "BatchGetItem"),  # BatchGetItem: export parts
            "privacy_requests/tenant_requests": ("Query",),  # the admins' list
            # field work counted by day: added to by uploads and shifts (conditional ADD), read by the calls report
            "field_work_days": ("UpdateItem", "Query"),
            # grievances: raised (PutItem), verified, answered (conditional UpdateItem, read back on a refusal)
            "grievances": ("GetItem", "PutItem", "UpdateItem"),
            "grievances/queue": ("Query",),
            # BatchGetItem: intake reads a consent's policy version with the identity claims (published or not)
            "policies": ("BatchGetItem",),
            "policies/by_scope": ("Query",),
            "inbox": ("Query", "UpdateItem"),
            # webhooks: a tenant's subscriptions (Query), made, rotated and deleted in transactions with their
            # key and audit record; a delivery stored (PutItem, read back on a refusal) and its attempts counted
            # BatchGetItem: an erasure's deliveries, for its proof of propagation
            "webhooks": ("GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem", "BatchGetItem"),
            "webhooks/delivery_log": ("Query",),
            # leads created, merged, updated; calls stored; consents changed. GetItem: a call upload sent again
            # checks that its call.stored event landed before writing it again
            "events": ("PutItem", "BatchWriteItem", "GetItem"),
        },
        kms={"GenerateDataKey": (PERSON_KEY,), "Decrypt": (PERSON_KEY, BLIND_INDEX)},
        email=True,  # one-time codes
        sms=True,
    ),
    "admin_create_tenant": Access(
        tables={"tenants": ("GetItem", "PutItem", "UpdateItem"), **_AUDIT},  # UpdateItem: the grievance officer
        kms={"GenerateDataKey": (BLIND_INDEX,)},
    ),
    "admin_issue_api_key": Access(
        tables={**_TENANT, "api_keys": ("PutItem",), "person_keys": ("PutItem",),
                "unique_keys": ("UpdateItem",), **_AUDIT},  # a widget key's origins join the CORS index
        kms={"GenerateDataKey": (PERSON_KEY,)},  # the holder's e-mail is sealed under a key of its own
    ),
    "admin_revoke_api_key": Access(
        tables={**_TENANT, "api_keys": ("GetItem", "UpdateItem"), "person_keys": ("DeleteItem",),
                "unique_keys": ("UpdateItem",), **_AUDIT},  # and leave it on revocation
    ),
    "admin_define_fields": Access(tables={"tenants": ("GetItem", "UpdateItem"), **_AUDIT}),
    "admin_set_retention": Access(tables={"tenants": ("GetItem", "UpdateItem"), **_AUDIT}),
    "admin_set_budgets": Access(tables={"tenants": ("GetItem", "UpdateItem"), **_AUDIT}),
    "admin_set_grievance_officer": Access(tables={"tenants": ("GetItem", "UpdateItem"), **_AUDIT}),
    "admin_set_tenant_identity": Access(tables={"tenants": ("GetItem", "UpdateItem"), **_AUDIT}),
    "admin_legal_hold": Access(tables={**_TENANT, "leads": ("GetItem", "UpdateItem"), **_AUDIT}),
    "admin_publish_policy": Access(
        tables={
            **_TENANT,
            # one publication per version, claimed first (PutItem, read back on a refusal), given back
            # on a failure (DeleteItem), completed with its answer (BatchWriteItem)
            "unique_keys": ("PutItem", "GetItem", "DeleteItem", "BatchWriteItem"),
            # stored once (a rerun reads what a dead run stored); by_scope finds versions published before
            "policies": ("PutItem", "GetItem"),
            "policies/by_scope": ("Query",),
            # the audience is counted at publication: a tenant's leads, or every user key
            "leads/by_tenant": ("Query",),
            "api_keys": ("Scan",),
            **_AUDIT,
            "events": ("PutItem",),  # a tenant's version and its event: one transaction
        },
    ),
    "admin_policy_status": Access(tables={"policies": ("GetItem",)}),
    "privacy_worker": Access(
        tables={
            # access exports: their parts in batches (BatchWriteItem), then their manifest (PutItem)
            "privacy_requests": ("GetItem", "PutItem", "UpdateItem", "BatchWriteItem"),
            "privacy_requests/open_requests": ("Query",),
            **_TENANT,
            "leads": ("BatchGetItem", "UpdateItem", "BatchWriteItem"),
            "unique_keys": ("BatchGetItem", "BatchWriteItem", "PutItem"),  # claims, suppression, download links
            "timeline": ("Query", "BatchWriteItem"),
            "calls": ("BatchGetItem", "BatchWriteItem"),
            "calls/by_lead": ("Query",),  # a lead's calls, exported and erased
            "person_keys": ("GetItem", "DeleteItem"),  # the request's own key, shredded at the end
            **_EVENTS,  # a request completed (with its final status), leads erased (with their deletion)
        },
        kms={"Decrypt": (PERSON_KEY, BLIND_INDEX)},
        email=True,
        sms=True,
    ),
    "purge_expired": Access(
        tables={
            "tenants": ("Scan", "GetItem", "UpdateItem"),
            "leads": ("BatchGetItem", "UpdateItem", "BatchWriteItem", "PartiQLUpdate"),
            "leads/by_tenant": ("Query",),
            "timeline": ("Query", "BatchWriteItem"),
            "calls": ("BatchWriteItem",),
            "calls/by_lead": ("Query",),  # a purged lead's calls
            "unique_keys": ("BatchGetItem", "BatchWriteItem"),
            "audit_log": ("Query", "BatchWriteItem"),
            "events": ("BatchWriteItem",),  # each purged lead's lead.erased, in the batch that deletes it
        },
    ),
    "retention_notices": Access(
        tables={
            "tenants": ("Scan", "GetItem"),
            "leads": ("UpdateItem",),
            "leads/by_tenant": ("Query",),
            "timeline": ("BatchWriteItem",),
        },
        kms={"Decrypt": (PERSON_KEY, BLIND_INDEX)},
        email=True,
        sms=True,
    ),
    # The event log's stream trigger: each event's deliveries stored (PutItem, read back on a refusal) and
    # attempted (UpdateItem), the tenant's subscriptions (Query) and their sealed secrets (person_keys);
    # a subscription failing for 72 h disabled with its admins' notices and audit record, and e-mailed.
    "deliver_webhooks": Access(
        tables={
            "events/stream": ("DescribeStream", "GetRecords", "GetShardIterator"),
            **_TENANT,
            "webhooks": ("GetItem", "Query", "PutItem", "UpdateItem"),
            "person_keys": ("GetItem",),
            "api_keys": ("Scan",),
            "inbox": ("PutItem",),
            **_AUDIT,
        },
        kms={"Decrypt": (PERSON_KEY,)},
        email=True,
    ),
    "retry_webhooks": Access(
        tables={
            "webhooks": ("GetItem", "UpdateItem"),
            "webhooks/due": ("Query",),
            **_TENANT,  # a disabling's audit record is kept as long as the tenant keeps its audit trail
            "person_keys": ("GetItem",),
            "api_keys": ("Scan",),
            "inbox": ("PutItem",),
            **_AUDIT,
        },
        kms={"Decrypt": (PERSON_KEY,)},
        email=True,
    ),
    "dispatch_notifications": Access(
        tables={
            # the walk's pass and positions, the counters (UpdateItem in a settling transaction)
            "policies": ("Scan", "GetItem", "UpdateItem"),
            "leads": ("GetItem",),
            "leads/by_tenant": ("Query",),
            "api_keys": ("Scan",),
            "person_keys": ("GetItem",),
            **_TENANT,
            # the notice ledger: a lead's notice event, a user's notice claim; read in batches and back
            # after a refusal, claimed (PutItem), settled (UpdateItem; PutItem when skipped), released
            "timeline": ("GetItem", "BatchGetItem", "PutItem", "UpdateItem", "DeleteItem"),
            "inbox": ("PutItem",),
            "unique_keys": ("GetItem", "BatchGetItem", "PutItem", "UpdateItem", "DeleteItem"),
        },
        kms={"Decrypt": (PERSON_KEY, BLIND_INDEX)},
        email=True,
        sms=True,
    ),
}
