"""Every backfill a release's new indexes need (``cli reindex``; ``make run`` runs it after adding indexes).

Each part writes only what is missing, conditionally: safe to run again, to interrupt, and beside live traffic.
"""

from __future__ import annotations


def reindex_all() -> dict[str, int]:
    """Run every backfill; how many items each one filled in."""
    from chalicelib.services.leads.reindex import reindex_activity
    from chalicelib.services.rights.reindex import reindex_requests

    return {"leads_indexed": reindex_activity(), "privacy_requests_indexed": reindex_requests()}
