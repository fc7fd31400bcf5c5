"""What browsers load: the embeddable widget script, LeadVault's own hosted pages, CORS preflights.

The files live in ``chalicelib/web`` and ship with the function; they use no framework and no
external asset, so a strict Content-Security-Policy can pin everything to this origin.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from chalice import Blueprint, Response

from chalicelib.api.endpoint import Call, endpoint

web = Blueprint(__name__)

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
PAGE_POLICY = ("default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; "
               "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
PAGE_HEADERS = {"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": PAGE_POLICY,
                "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-cache"}
SCRIPT_HEADERS = {"Content-Type": "application/javascript; charset=utf-8", "X-Content-Type-Options": "nosniff",
                  "Cache-Control": "public, max-age=300"}
# Routes a widget calls from a tenant's site, with the methods it uses on each.
BROWSER_ROUTES: dict[str, tuple[str, ...]] = {
    "/v1/leads": ("POST",),
    "/v1/fields": ("GET",),
    "/v1/consents": ("POST",),
    "/v1/policies/current": ("GET",),
    "/v1/privacy-requests": ("POST",),
    "/v1/privacy-requests/{request_id}": ("GET",),
    "/v1/privacy-requests/{request_id}/verify": ("POST",),
    "/v1/privacy-requests/{request_id}/export": ("GET",),
}


@lru_cache(maxsize=8)
def _asset(name: str) -> str:
    return (WEB_DIR / name).read_text(encoding="utf-8")


@endpoint(web, "/v1/widget.js", roles=None)
def widget_script(call: Call) -> Response:
    return Response(body=_asset("widget.js"), status_code=200, headers=dict(SCRIPT_HEADERS))


@endpoint(web, "/v1/pages/privacy", roles=None)
def privacy_page(call: Call) -> Response:
    return Response(body=_asset("privacy.html"), status_code=200, headers=dict(PAGE_HEADERS))


@endpoint(web, "/v1/pages/preferences", roles=None)
def preferences_page(call: Call) -> Response:
    return Response(body=_asset("preferences.html"), status_code=200, headers=dict(PAGE_HEADERS))


@endpoint(web, "/v1/pages/confirm", roles=None)
def confirm_page(call: Call) -> Response:
    return Response(body=_asset("confirm.html"), status_code=200, headers=dict(PAGE_HEADERS))


@endpoint(web, "/v1/fields", roles=("widget", "admin"))
def get_fields(call: Call) -> Any:
    from chalicelib.services.leads.fields import list_fields

    return list_fields(call.caller.tenant_id)


def _preflight(path: str, methods: tuple[str, ...]) -> None:
    """Register the CORS preflight of one route the widget calls: only origins a live widget key allows."""

    def answer(call: Call, **_path_params: str) -> Response:
        from chalicelib.services.access import cors
        headers = cors.preflight(call.headers.get("origin"), call.headers.get("access-control-request-method"),
                                 methods)
        return Response(body="", status_code=204, headers=headers)

    answer.__name__ = "preflight_" + "".join(c if c.isalnum() else "_" for c in path).strip("_")
    endpoint(web, path, methods=("OPTIONS",), roles=None)(answer)


for _path, _methods in BROWSER_ROUTES.items():
    _preflight(_path, _methods)
