"""Conditional writes as plain outcomes: a refused condition is ``False``, never an exception.

Every repository asks "write this only if..." somewhere (claim a key, close a shift, spend a
token); the answer a service needs is whether it happened. Any other failure still propagates.

A refusal may be our own write: the SDK retries a call whose answer was lost, and the retry
finds the condition already spent by the attempt that did apply. ``mine`` tells the two apart
(a consistent read-back comparing what we wrote: a write token, the version we set, the very
time we stamped), so a write that happened is never reported as a conflict.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

REFUSED = "ConditionalCheckFailedException"


def applied(write: Callable[..., Any], mine: Callable[[], bool] | None = None, **arguments: Any) -> bool:
    """Run ``item.save``, ``item.update`` or ``item.delete`` with its condition; False when refused.

    ``mine``, asked only after a refusal, says whether the stored item is this very write (then True).
    """
    from pynamodb.exceptions import PynamoDBException

    try:
        write(**arguments)
    except PynamoDBException as error:
        if getattr(error, "cause_response_code", None) == REFUSED:
            return mine is not None and mine()
        raise
    return True
