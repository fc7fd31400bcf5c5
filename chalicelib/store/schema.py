"""Creating the tables (idempotent): on-demand billing, TTL on ``expires_at``, and the event log's stream.

PynamoDB creates a table with the stream its model's ``Meta.stream_view_type`` names (DynamoDB Local
serves streams too); a table made before it had one gets it here, as the deployed template gives it.
"""

from __future__ import annotations

from chalicelib.store.base import LeadVaultModel
from chalicelib.store.binding import all_models, bind_tables


def create_tables() -> dict[str, str]:
    """Create every missing table and enable its TTL; report what each table's state was."""
    bind_tables()
    report: dict[str, str] = {}
    for model in all_models():
        name = model.Meta.table_name
        if model.exists():
            report[name] = "stream enabled" if _enable_stream(model) else "exists"
            continue
        model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
        report[name] = "created"
    return report


def _enable_stream(model: type[LeadVaultModel]) -> bool:
    """Give an existing table the stream its model asks for; False when it has it (or asks for none)."""
    wanted = getattr(model.Meta, "stream_view_type", None)
    if not wanted:
        return False
    connection = model._get_connection()
    if (connection.describe_table().get("StreamSpecification") or {}).get("StreamEnabled"):
        return False
    connection.connection.client.update_table(
        TableName=model.Meta.table_name, StreamSpecification={"StreamEnabled": True, "StreamViewType": wanted})
    return True
