"""Reading the local outbox the way a person reads their inbox."""

from __future__ import annotations

import email
import email.policy
import json
import re
import time
from collections.abc import Callable
from pathlib import Path

from chalicelib.config import get_settings


def messages(outbox: Path | None = None) -> list[dict[str, str]]:
    """Every message sent, oldest first: ``to``, ``subject``, ``text``, ``kind`` (e-mail: also ``html`` and
    ``from``, headers decoded; ``text`` is the plain-text part)."""
    outbox = outbox or Path(get_settings().outbox_dir)
    found = []
    for path in sorted(outbox.glob("*")) if outbox.exists() else []:
        if path.suffix == ".eml":
            parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            html = parsed.get_body(("html",))
            found.append({"to": str(parsed["To"]), "subject": str(parsed["Subject"]),
                          "kind": str(parsed["X-LeadVault-Kind"]), "from": str(parsed["From"]),
                          "reply_to": str(parsed["Reply-To"]) if parsed["Reply-To"] else None,
                          "text": parsed.get_body(("plain",)).get_content(),
                          "html": html.get_content() if html is not None else None})
        elif path.suffix == ".json":
            found.append(json.loads(path.read_text()))
    return found


def last_code(to: str, outbox: Path | None = None) -> str:
    return _last_match(to, r"code is (\d{6})", "code", outbox)


def preferences_token(to: str, outbox: Path | None = None) -> str:
    return _last_match(to, r"/v1/pages/preferences#token=([A-Za-z0-9_\-.]+)", "preferences link", outbox)


def download_link(to: str, outbox: Path | None = None) -> str:
    """The link in the message that an access request is done: ``<public url>/v1/pages/privacy#request=&download=``."""
    return _link(to, r"/v1/pages/privacy#request=[^\s&]+&download=", "download link", outbox)


def confirmation_link(to: str, outbox: Path | None = None) -> str:
    """The double opt-in (or new contact detail) link: ``<public url>/v1/pages/confirm#token=..``."""
    return _link(to, r"/v1/pages/confirm#token=", "confirmation link", outbox)


def wait_for(read: Callable[[str, Path | None], str], *to: str, outbox: Path | None = None,
             timeout_s: float = 30) -> str:
    """``read`` (``last_code``, ``download_link``...) on the messages to any of ``to``, once one has arrived."""
    deadline = time.monotonic() + timeout_s
    while True:
        for address in to:
            try:
                return read(address, outbox)
            except AssertionError:
                pass
        if time.monotonic() > deadline:
            raise AssertionError(f"nothing from {read.__name__} sent to {', '.join(to)} within {timeout_s} s")
        time.sleep(0.2)


def _link(to: str, path_pattern: str, what: str, outbox: Path | None) -> str:
    """A whole link (the path pattern, then the rest of its token) in the newest message to ``to`` that has one."""
    link = _last_match(to, rf"(https?://[^\s<>\"']+?{path_pattern}[^\s<>\"']+)", what, outbox)
    return link.rstrip(".,;)")


def _last_match(to: str, pattern: str, what: str, outbox: Path | None) -> str:
    """The pattern's group in the newest message to ``to`` that has it."""
    for message in reversed(messages(outbox)):
        if message["to"] == to:
            match = re.search(pattern, message["text"])
            if match:
                return match.group(1)
    raise AssertionError(f"no {what} sent to {to}")
