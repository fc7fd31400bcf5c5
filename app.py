"""LeadVault's Chalice app: wiring only. Routes, operator, scheduled and stream functions live in chalicelib."""

from typing import Any

from chalicelib.admin import admin
from chalicelib.api.application import LeadVaultChalice
from chalicelib.api.openapi import API
from chalicelib.jobs import STREAM_ARN_PLACEHOLDER, invoke_stream, jobs

app = LeadVaultChalice(app_name="leadvault", configure_logs=False)

for blueprint in (*API, admin, jobs):
    app.register_blueprint(blueprint)


# The event log's stream (its ARN is set by the merge template): events delivered to webhooks. TRIM_HORIZON, so a
# new trigger starts with what the stream still holds; deliveries are idempotent per (webhook, event), so a
# record read twice is never sent twice after a success. Retries, record age and bisection on error are bounded in
# deploy/template.py (stream_event): Chalice's decorator does not take them.
@app.on_dynamodb_record(stream_arn=STREAM_ARN_PLACEHOLDER, name="deliver_webhooks", batch_size=100,
                        starting_position="TRIM_HORIZON", maximum_batching_window_in_seconds=1)
def deliver_webhooks(event: Any) -> dict[str, Any]:
    return invoke_stream("deliver_webhooks", event.to_dict()["Records"], event.context)
