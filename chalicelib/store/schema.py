"""Creating the tables (idempotent): on-demand billing and TTL on ``expires_at``."""

from __future__ import annotations

from chalicelib.store.binding import all_models, bind_tables


def create_tables() -> dict[str, str]:
    """Create every missing table and enable its TTL; report what each table's state was."""
    bind_tables()
    report: dict[str, str] = {}
    for model in all_models():
        name = model.Meta.table_name
        if model.exists():
            report[name] = "exists"
            continue
        model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
        report[name] = "created"
    return report
