"""Policy notices: recipients per second and DynamoDB work per recipient, on moto (SES) and the outbox.

Per recipient the ledger makes two write calls: the claim (a conditional PutItem, 1 WCU) and the
settlement (a TransactWriteItems of the ledger record and the version's counter: 2 items, 4 WCU);
then a page write per 25 recipients and a few per pass. Reads: the ledger in batches, the lead, and a
second pass over the audience that finds everyone settled.
"""

from __future__ import annotations

import os
import tempfile
import time

from bench.ddb_meter import install, metered
from bench.report import figure

RECIPIENTS = 10_000


def run(recipients: int = RECIPIENTS) -> None:
    for backend in ("outbox", "ses"):
        _measure(recipients, backend)


def _measure(recipients: int, backend: str) -> None:
    from moto import mock_aws

    workdir = tempfile.mkdtemp(prefix="leadvault-bench-")
    os.environ.update({
        "LEADVAULT_STAGE": "test", "LEADVAULT_TABLE_PREFIX": f"notice-{backend}-", "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
        "LEADVAULT_MASTER_KEY_FILE": os.path.join(workdir, "master.key"), "LEADVAULT_OUTBOX_DIR": workdir + "/outbox",
        "LEADVAULT_EMAIL_BACKEND": backend, "LEADVAULT_EMAIL_FROM": "privacy@bench.example", "LEADVAULT_SEND_RATE": "0",
    })
    os.environ.pop("DYNAMODB_ENDPOINT_URL", None)
    with mock_aws():
        import boto3

        from chalicelib import invocation
        from chalicelib.admin import invoke_operator
        from chalicelib.jobs import invoke_job
        from chalicelib.runtime import LocalContext
        from chalicelib.services.access.auth import Caller
        from chalicelib.services.leads.intake import Submission, submit_lead
        from chalicelib.store.schema import create_tables

        boto3.client("ses", region_name="us-east-1").verify_email_identity(EmailAddress="privacy@bench.example")
        install()
        create_tables()
        tenant = invoke_operator("admin_create_tenant", {"name": "Notice", "default_region": "IN"}, LocalContext("b"))
        caller = Caller(tenant_id=tenant["tenant_id"], key_id="key_" + "0" * 20, role="admin")
        for n in range(recipients):
            with invocation.invocation():
                submit_lead(Submission(caller=caller), {"name": "P", "email": f"p{n}@example.org"})
        policy = invoke_operator("admin_publish_policy", {
            "scope": "tenant", "tenant_id": tenant["tenant_id"], "version": "v2", "url": "https://x.example/p",
            "summary": "Changes.", "effective_at": "2027-01-01T00:00:00Z"}, LocalContext("b"))
        with metered() as meter:
            started = time.perf_counter()
            summary = invoke_job("dispatch_notifications", LocalContext("dispatch", timeout_s=3600))
            seconds = time.perf_counter() - started
        # What admin_policy_status says after the run: pending 0, every recipient settled once.
        settled = invoke_operator("admin_policy_status", {"policy_id": policy["policy_id"]}, LocalContext("b"))
    writes = sum(meter.operations.get(op, 0)
                 for op in ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"))
    # DynamoDB's price of those writes (items under 1 KB): 1 WCU each, 2 per item of a transaction.
    wcu = sum(meter.operations.get(op, 0) for op in ("PutItem", "UpdateItem", "DeleteItem")) \
        + 4 * meter.operations.get("TransactWriteItems", 0)
    figure("notice_recipients_per_s", round(recipients / seconds, 1), backend=backend, recipients=recipients,
           sent=summary.get("sent", 0), seconds=round(seconds, 1))
    figure("notice_ddb_calls_per_recipient", round(meter.calls / recipients, 3), backend=backend,
           writes_per_recipient=round(writes / recipients, 3), target_writes_max=2.1,
           wcu_per_recipient=round(wcu / recipients, 2), by_operation=dict(meter.operations),
           planned=policy.get("recipients"), settled=settled)
