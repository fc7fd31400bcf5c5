"""Reading the local outbox the way a person reads their inbox."""

from __future__ import annotations

import email
import json
import re
from pathlib import Path

from chalicelib.config import get_settings


def messages(outbox: Path | None = None) -> list[dict[str, str]]:
    """Every message sent, oldest first: ``to``, ``subject``, ``text``, ``kind``."""
    outbox = outbox or Path(get_settings().outbox_dir)
    found = []
    for path in sorted(outbox.glob("*")) if outbox.exists() else []:
        if path.suffix == ".eml":
            parsed = email.message_from_bytes(path.read_bytes())
            found.append({"to": parsed["To"], "subject": parsed["Subject"], "kind": parsed["X-LeadVault-Kind"],
                          "text": parsed.get_payload(decode=True).decode()})
        elif path.suffix == ".json":
            found.append(json.loads(path.read_text()))
    return found


def last_code(to: str, outbox: Path | None = None) -> str:
    return _last_match(to, r"code is (\d{6})", "code", outbox)


def preferences_token(to: str, outbox: Path | None = None) -> str:
    return _last_match(to, r"token=([A-Za-z0-9_\-.]+)", "preferences link", outbox)


def _last_match(to: str, pattern: str, what: str, outbox: Path | None) -> str:
    """The pattern's group in the newest message to ``to`` that has it."""
    for message in reversed(messages(outbox)):
        if message["to"] == to:
            match = re.search(pattern, message["text"])
            if match:
                return match.group(1)
    raise AssertionError(f"no {what} sent to {to}")
