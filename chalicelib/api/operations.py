"""The one declaration of a route: what the router registers and what the OpenAPI document says about it.

Each handler is bound to its ``Operation`` by ``@endpoint(blueprint, Operation(...))`` beside its code; the
operations table (:data:`chalicelib.api.routes.OPERATIONS`) and the document are read off the registered
blueprints, so a route's path, method and roles are written once. Request bodies name the pydantic model the
service validates with; responses name a model in :mod:`chalicelib.api.responses`, or give a JSON schema for
other content types (``text/html``, ``application/javascript``: ``{"type": "string"}``, with their
``content_type`` and ``cache_control``). Both are ``"module:Model"`` strings, imported only when the document
is built, so the app imports fast. Error statuses that follow from the entry (a key, a body, a path or query
parameter) are added by the builder; ``errors`` lists only the route's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ANY_KEY = ("widget", "agent", "admin")
STAFF = ("agent", "admin")
FORMS = ("widget", "admin")
AGENTS = ("agent",)
ADMINS = ("admin",)
PAGED = ("limit", "cursor")

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
REPLAY_MODES = ("endpoint", "service")


@dataclass(frozen=True)
class Operation:
    """One route: how it is reached, who may call it, and what it takes and answers."""

    route: str  # "METHOD /path", e.g. "GET /v1/leads/{lead_id}"
    operation_id: str
    summary: str
    roles: tuple[str, ...] | None  # None: no key (health, the document, signed-link routes)
    response: str | dict[str, Any] | None  # "module:Model", a JSON schema of a non-JSON body, None: no body
    status: int = 200
    also: tuple[int, ...] = ()  # other success statuses with the same body
    request: str | None = None  # "module:Model" the body is validated with
    query: tuple[str, ...] = ()  # names in openapi_parts.QUERY
    errors: tuple[int, ...] = ()  # the route's own error statuses
    content_type: str = "application/json"
    cache_control: str | None = "no-store"  # the success answers' Cache-Control; None leaves it undocumented
    # Other headers of the success answers: name -> OpenAPI header object (e.g. a next-page cursor of a CSV).
    headers: tuple[tuple[str, dict[str, Any]], ...] = ()
    produces: tuple[str, ...] = ()  # ids in the body that operations with that path parameter take
    # Who honours an Idempotency-Key on a keyed POST: the endpoint wrapper, or the service itself when it can
    # fold the record into its own writes.
    replay: str = "endpoint"
    browser: bool = False  # the widget calls it from tenants' sites, so its path gets a CORS preflight
    allows: tuple[str, ...] = ()  # a preflight's only: the methods browsers may go on to use

    def __post_init__(self) -> None:
        method, _, path = self.route.partition(" ")
        if method not in METHODS or not path.startswith("/") or " " in path:
            raise ValueError(f"route must be 'METHOD /path', not {self.route!r}")
        if self.replay not in REPLAY_MODES:
            raise ValueError(f"{self.operation_id}: replay must be one of {REPLAY_MODES}")

    @property
    def method(self) -> str:
        """Upper case, as Chalice and requests spell it."""
        return self.route.partition(" ")[0]

    @property
    def path(self) -> str:
        return self.route.partition(" ")[2]

    @property
    def key(self) -> tuple[str, str]:
        """``(path, method)`` with the method in lower case, as the OpenAPI document's paths spell it."""
        return self.path, self.method.lower()
