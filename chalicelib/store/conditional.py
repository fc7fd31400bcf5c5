"""Conditional writes as plain outcomes: a refused condition is ``False``, never an exception.

Every repository asks "write this only if..." somewhere (claim a key, close a shift, spend a
token); the answer a service needs is whether it happened. Any other failure still propagates.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

REFUSED = "ConditionalCheckFailedException"


def applied(write: Callable[..., Any], **arguments: Any) -> bool:
    """Run ``item.save``, ``item.update`` or ``item.delete`` with its condition; False when refused."""
    from pynamodb.exceptions import PynamoDBException

    try:
        write(**arguments)
    except PynamoDBException as error:
        if getattr(error, "cause_response_code", None) == REFUSED:
            return False
        raise
    return True
