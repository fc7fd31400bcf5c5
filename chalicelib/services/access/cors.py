"""Cross-origin access for the web widget: only the origins a live widget key allows.

A preflight carries no key, so it asks the origin index (kept by issuing and revoking keys, see
:mod:`chalicelib.store.tenants`). The real request then proves its key, and its answer carries
``Access-Control-Allow-Origin`` only when that very key allows the caller's origin. LeadVault's
own hosted pages (privacy portal, preferences) are same-origin with the API and always allowed.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from chalicelib.config import get_settings
from chalicelib.errors import Forbidden
from chalicelib.store import tenants

ALLOWED_HEADERS = "Authorization, Content-Type, Idempotency-Key"
PREFLIGHT_MAX_AGE_S = 600


def normalise(origin: str | None) -> str | None:
    """``scheme://host[:port]`` in lower case, or None for anything that is not one."""
    if not origin or len(origin) > 255:
        return None
    parts = urlsplit(origin.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        return None
    return f"{parts.scheme}://{parts.netloc.lower()}"


def own_origin() -> str:
    """The API's public origin: where LeadVault serves its own pages."""
    parts = urlsplit(get_settings().public_url)
    return f"{parts.scheme}://{parts.netloc.lower()}"


def request_origin(headers: dict[str, str]) -> str | None:
    """The page's origin. Browsers leave ``Origin`` off same-origin GETs, but then say so in
    ``Sec-Fetch-Site`` (a header page scripts cannot set): that page is one of our own."""
    origin = headers.get("origin")
    if origin is None and headers.get("sec-fetch-site") == "same-origin":
        return own_origin()
    return origin


def key_allows(allowed_origins: tuple[str, ...], origin: str | None) -> bool:
    """Whether a widget key with these origins may be used from a browser at ``origin``."""
    origin = normalise(origin)
    return origin is not None and (origin in allowed_origins or origin == own_origin())


def preflight_allows(origin: str | None) -> str | None:
    """The origin to answer a preflight with, if some live widget key allows it (one read)."""
    origin = normalise(origin)
    if origin is None:
        return None
    if origin == own_origin():
        return origin
    return origin if tenants.origin_has_live_key(origin) else None


def preflight(origin: str | None, requested_method: str | None, methods: tuple[str, ...]) -> dict[str, str]:
    """The headers that let a browser go ahead, or Forbidden for a method or origin we do not serve."""
    if requested_method not in methods:
        raise Forbidden("Browsers may not use this method here.")
    allowed = preflight_allows(origin)
    if allowed is None:
        raise Forbidden("This origin may not call the API from a browser.")
    return preflight_headers(allowed, methods)


def preflight_headers(origin: str, methods: tuple[str, ...]) -> dict[str, str]:
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": ", ".join((*methods, "OPTIONS")),
        "Access-Control-Allow-Headers": ALLOWED_HEADERS,
        "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE_S),
        "Vary": "Origin",
    }


def response_headers(origin: str) -> dict[str, str]:
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin", "Access-Control-Expose-Headers": "Retry-After"}


def register_key(key_id: str, origins: list[str]) -> None:
    """Add a widget key to the index of each origin it allows (reindexing; a new key is indexed with its write)."""
    tenants.index_origins(key_id, origins)


def unregister_key(key_id: str, origins: list[str]) -> None:
    """Take a revoked key out of the index; an origin no live key allows answers no preflight."""
    tenants.unindex_origins(key_id, origins)
