"""The retry schedule of a webhook delivery: when a failed attempt is tried again, and for how long.

Apart from :mod:`chalicelib.services.webhooks.retries` (which sends through
:mod:`chalicelib.services.webhooks.deliveries`) so that a redelivery, too, can hand a failure to the schedule.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from chalicelib.store.webhooks import Delivery

FIRST_DELAY = timedelta(minutes=1)
MAX_DELAY = timedelta(hours=1)
JITTER = (0.75, 1.0)
RETRY_FOR = timedelta(hours=72)
# A delivery taken for an attempt is due again after this, should its taker die: far above one attempt
# (2 s to resolve, 5 s to deliver, a few writes).
LEASE = timedelta(minutes=2)


def backoff(failures: int, rng: Any = random) -> timedelta:
    """The wait after the ``failures``-th failed attempt in a row: 1 min doubling, capped at 1 h, jittered."""
    base = min(FIRST_DELAY * 2 ** min(max(failures, 1) - 1, 16), MAX_DELAY)
    return base * rng.uniform(*JITTER)


def retry_at(delivery: Delivery, now: datetime) -> datetime | None:
    """When a delivery whose attempt just failed is tried again; None once it has been tried for 72 hours."""
    if now - delivery.created_at >= RETRY_FOR:
        return None
    return now + backoff(int(delivery.attempts or 0) + 1)
