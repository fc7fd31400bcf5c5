"""List paging: ``?limit=`` (default 50, max 200) and opaque ``?cursor=`` tokens.

A cursor holds only sort positions of our own ids and times, never a key of another tenant:
the partition it resumes in is always rebuilt from the caller.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from chalicelib.errors import ValidationFailed

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
# ASCII digits only: str.isdigit() also takes "²" (which int() refuses) and other scripts' digits.
LIMIT = re.compile(r"[0-9]{1,3}")


def parse_limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    if not LIMIT.fullmatch(raw) or not 1 <= int(raw) <= MAX_LIMIT:
        raise ValidationFailed(details=[{"field": "limit", "problem": f"a whole number from 1 to {MAX_LIMIT}"}])
    return int(raw)


def encode_cursor(kind: str, position: Any) -> str:
    raw = json.dumps({"k": kind, "p": position}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str | None, kind: str) -> Any:
    """The position a cursor of ``kind`` holds; None for the first page."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict) or data.get("k") != kind or "p" not in data or len(cursor) > 2048:
        raise ValidationFailed(details=[{"field": "cursor", "problem": "not a cursor this list gave out"}])
    return data["p"]
