"""What browsers load: the embeddable widget script, LeadVault's own hosted pages, the form's fields.

The files live in ``chalicelib/web`` and ship with the function; they use no framework and no
external asset, so a strict Content-Security-Policy can pin everything to this origin. The CORS
preflights of the routes the widget calls are derived from their operations (:mod:`chalicelib.api.preflight`).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from chalice import Response

from chalicelib.api.endpoint import ApiBlueprint, Call, endpoint
from chalicelib.api.operations import FORMS, Operation

web = ApiBlueprint(__name__)

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
PAGE_POLICY = ("default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; "
               "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
PAGE_HEADERS = {"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": PAGE_POLICY,
                "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-cache"}
# The pages people open also show the business's logo, from its own https address (``GET /v1/brand``):
# images only, never scripts, styles or connections, and sent no referrer. Staff pages keep PAGE_POLICY.
PEOPLE_PAGE_HEADERS = {**PAGE_HEADERS, "Content-Security-Policy": PAGE_POLICY.replace(
    "img-src 'self' data:;", "img-src 'self' data: https:;")}
SCRIPT_HEADERS = {"Content-Type": "application/javascript; charset=utf-8", "X-Content-Type-Options": "nosniff",
                  "Cache-Control": "public, max-age=300"}


@lru_cache(maxsize=8)
def _asset(name: str) -> str:
    return (WEB_DIR / name).read_text(encoding="utf-8")


@endpoint(web, Operation(
    "GET /v1/widget.js", "getWidgetScript", "The embeddable widget script", None, {"type": "string"},
    content_type="application/javascript", cache_control="public, max-age=300"))
def widget_script(call: Call) -> Response:
    return Response(body=_asset("widget.js"), status_code=200, headers=dict(SCRIPT_HEADERS))


@endpoint(web, Operation(
    "GET /v1/pages/privacy", "getPrivacyPage", "The hosted privacy portal page", None, {"type": "string"},
    content_type="text/html", cache_control="no-cache"))
def privacy_page(call: Call) -> Response:
    return Response(body=_asset("privacy.html"), status_code=200, headers=dict(PEOPLE_PAGE_HEADERS))


@endpoint(web, Operation(
    "GET /v1/pages/preferences", "getPreferencesPage", "The hosted preferences page", None, {"type": "string"},
    content_type="text/html", cache_control="no-cache"))
def preferences_page(call: Call) -> Response:
    return Response(body=_asset("preferences.html"), status_code=200, headers=dict(PEOPLE_PAGE_HEADERS))


@endpoint(web, Operation(
    "GET /v1/pages/confirm", "getConfirmPage",
    "The hosted confirmation page (links that confirm offers or new contact details)", None, {"type": "string"},
    content_type="text/html", cache_control="no-cache"))
def confirm_page(call: Call) -> Response:
    return Response(body=_asset("confirm.html"), status_code=200, headers=dict(PEOPLE_PAGE_HEADERS))


@endpoint(web, Operation(
    "GET /v1/console.js", "getConsoleScript", "The staff console's script", None, {"type": "string"},
    content_type="application/javascript", cache_control="public, max-age=300"))
def console_script(call: Call) -> Response:
    return Response(body=_asset("console.js"), status_code=200, headers=dict(SCRIPT_HEADERS))


@endpoint(web, Operation(
    "GET /v1/pages/console", "getConsolePage",
    "The staff console (admins sign in with their key, kept in the browser tab only)", None, {"type": "string"},
    content_type="text/html", cache_control="no-cache"))
def console_page(call: Call) -> Response:
    return Response(body=_asset("console.html"), status_code=200, headers=dict(PAGE_HEADERS))


@endpoint(web, Operation(
    "GET /v1/fields", "listFields", "The tenant's declared lead fields, for forms", FORMS,
    "chalicelib.api.responses.leads:FieldList", browser=True))
def get_fields(call: Call) -> Any:
    from chalicelib.services.leads.fields import list_fields

    return list_fields(call.caller.tenant_id)
