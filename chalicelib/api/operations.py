"""Every route of the API, one entry each: what the OpenAPI document says about it.

Adding a route to the document is adding one ``Operation`` here. Request bodies name the pydantic
model the service validates with; responses name a model in :mod:`chalicelib.api.responses`, or give
a JSON schema for other content types (``text/html``, ``application/javascript``: ``{"type": "string"}``,
with their ``content_type`` and ``cache_control``). Error statuses
that follow from the entry (a key, a body, a path or query parameter) are added by the builder;
``errors`` lists only the route's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ANY_KEY = ("widget", "agent", "admin")
STAFF = ("agent", "admin")
FORMS = ("widget", "admin")
PAGED = ("limit", "cursor")

IN = "chalicelib.services"
OUT = "chalicelib.api.responses"


@dataclass(frozen=True)
class Operation:
    """One documented route."""

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
    produces: tuple[str, ...] = ()  # ids in the body that operations with that path parameter take


OPERATIONS: dict[tuple[str, str], Operation] = {
    ("/v1/health", "get"): Operation("getHealth", "Liveness", None, f"{OUT}.common:Health"),
    ("/v1/openapi.json", "get"): Operation("getOpenApi", "This document", None,
                                           {"type": "object", "required": ["openapi", "info", "paths"]}),
    ("/v1/me", "get"): Operation("getMe", "The caller's key: tenant, role, agent", ANY_KEY, f"{OUT}.common:Me"),
    ("/v1/leads", "post"): Operation("createLead", "Submit a lead: 201 created, 200 merged into the person's lead",
                                     ANY_KEY, f"{OUT}.leads:LeadAnswer", status=201, also=(200,),
                                     request=f"{IN}.leads.inputs:LeadInput", produces=("lead_id",),
                                     errors=(429,)),
    ("/v1/leads", "get"): Operation("listLeads", "List leads, most recently active first (agents: their own)",
                                    STAFF, f"{OUT}.leads:LeadPage", query=PAGED),
    ("/v1/leads/{lead_id}", "get"): Operation("getLead", "Read a lead", STAFF, f"{OUT}.leads:LeadView"),
    ("/v1/leads/{lead_id}", "patch"): Operation("updateLead", "Change stage, assignee (admins), fields", STAFF,
                                                f"{OUT}.leads:LeadView", request=f"{IN}.leads.inputs:LeadPatch",
                                                errors=(409,)),
    ("/v1/leads/{lead_id}/timeline", "get"): Operation("getLeadTimeline", "A lead's events, newest first", STAFF,
                                                       f"{OUT}.leads:TimelinePage", query=PAGED),
    ("/v1/shifts/start", "post"): Operation("startShift", "Punch in", ("agent",), f"{OUT}.field_work:ShiftStarted",
                                            status=201, request=f"{IN}.field_work.shifts:StartShiftInput"),
    ("/v1/shifts/end", "post"): Operation("endShift", "Punch out", ("agent",), f"{OUT}.field_work:ShiftEnded"),
    ("/v1/calls", "post"): Operation("uploadCalls", "Upload call metadata (stored only on shift, each call once)",
                                     ("agent",), f"{OUT}.field_work:CallResults",
                                     request=f"{IN}.field_work.calls:CallBatchInput"),
    ("/v1/agents/{agent_id}/shifts", "get"): Operation("listAgentShifts", "An agent's shifts, newest first",
                                                       ("admin",), f"{OUT}.field_work:ShiftPage", query=("limit",)),
    ("/v1/agents/{agent_id}/calls", "get"): Operation("listAgentCalls", "An agent's calls, newest first",
                                                      ("admin",), f"{OUT}.field_work:CallPage", query=PAGED),
    ("/v1/consents", "post"): Operation("recordConsent", "Record consent choices (append-only)", FORMS,
                                        f"{OUT}.rights:ConsentRecorded", status=201,
                                        request=f"{IN}.rights.consents:ConsentInput", errors=(429,)),
    # Retired: identifiers do not go in URLs. It only answers 400 use_post_lookup, naming the route below.
    ("/v1/consents", "get"): Operation("getConsents", "Retired: always 400 use_post_lookup; use POST "
                                       "/v1/consents/lookup", ("admin",), None, status=400, errors=(400,),
                                       query=("email", "phone", "visitor_id")),
    ("/v1/consents/lookup", "post"): Operation("lookupConsents", "Consent state and history of one person",
                                               ("admin",), f"{OUT}.rights:ConsentReport",
                                               request=f"{IN}.rights.consents:ConsentLookup"),
    ("/v1/preferences", "get"): Operation("getPreferences", "Marketing choices behind a signed link, its token in a "
                                          "header (a query string is 400 use_post_lookup)", None,
                                          f"{OUT}.rights:Preferences", query=("X-Preferences-Token",),
                                          errors=(400, 401)),
    ("/v1/preferences/read", "post"): Operation("readPreferences", "Marketing choices behind a signed link", None,
                                                f"{OUT}.rights:Preferences",
                                                request=f"{IN}.rights.preferences:PreferencesReadInput", errors=(401,)),
    ("/v1/preferences", "post"): Operation("setPreferences", "Change marketing choices behind a signed link", None,
                                           f"{OUT}.rights:Preferences", request=f"{IN}.rights.preferences:PreferencesInput",
                                           errors=(401,)),
    ("/v1/privacy-requests", "post"): Operation("fileRequest", "File an access or erasure request", FORMS,
                                                f"{OUT}.rights:RequestFiled", status=202,
                                                request=f"{IN}.rights.requests:RequestInput",
                                                produces=("request_id",), errors=(429,)),
    ("/v1/privacy-requests/{request_id}", "get"): Operation("getRequest", "A request's status and receipt", FORMS,
                                                            f"{OUT}.rights:RequestView"),
    ("/v1/privacy-requests/{request_id}/verify", "post"): Operation(
        "verifyRequest", "Verify with the one-time code", FORMS, f"{OUT}.rights:RequestState",
        request=f"{IN}.rights.requests:VerifyInput", errors=(410, 429)),
    ("/v1/privacy-requests/{request_id}/export", "get"): Operation(
        "getExport", "A completed access request's export (seven days): admins, or the filing widget key with the "
        "X-Download-Token of the link sent to the person", FORMS, f"{OUT}.rights:Export", query=("X-Download-Token",),
        errors=(401, 410)),
    ("/v1/privacy-requests/{request_id}/download", "post"): Operation(
        "downloadExport", "The export behind the single-use download link sent to the person (no key)", None,
        f"{OUT}.rights:Export", request=f"{IN}.rights.requests:DownloadInput", errors=(401,)),
    ("/v1/confirmations", "post"): Operation(
        "confirm", "Follow a confirmation link: marketing grants (double opt-in) or new contact details (no key)",
        None, f"{OUT}.rights:Confirmed", request=f"{IN}.rights.confirmations:ConfirmInput", errors=(401, 409)),
    ("/v1/leads/{lead_id}/identifiers/accept", "post"): Operation(
        "acceptIdentifier", "Accept a lead's pending e-mail or phone as staff (audited)", STAFF,
        f"{OUT}.leads:LeadView", request=f"{IN}.rights.confirmations:AcceptInput", errors=(404, 409)),
    ("/v1/policies/current", "get"): Operation("getCurrentPolicy", "The policy version in force", ANY_KEY,
                                               f"{OUT}.policies:PolicyView", errors=(404,)),
    ("/v1/policies/{version}/accept", "post"): Operation("acceptPolicy", "Accept a policy version", STAFF,
                                                         f"{OUT}.policies:Acceptance", status=201),
    ("/v1/notifications", "get"): Operation("listNotifications", "The caller's in-app notices, newest first", STAFF,
                                            f"{OUT}.policies:NoticePage", query=PAGED),
    ("/v1/fields", "get"): Operation("listFields", "The tenant's declared lead fields, for forms", FORMS,
                                     f"{OUT}.leads:FieldList"),
    ("/v1/widget.js", "get"): Operation("getWidgetScript", "The embeddable widget script", None, {"type": "string"},
                                        content_type="application/javascript", cache_control="public, max-age=300"),
    ("/v1/pages/privacy", "get"): Operation("getPrivacyPage", "The hosted privacy portal page", None,
                                            {"type": "string"}, content_type="text/html", cache_control="no-cache"),
    ("/v1/pages/preferences", "get"): Operation("getPreferencesPage", "The hosted preferences page", None,
                                                {"type": "string"}, content_type="text/html", cache_control="no-cache"),
    ("/v1/pages/confirm", "get"): Operation("getConfirmPage", "The hosted confirmation page (links that confirm "
                                            "offers or new contact details)", None, {"type": "string"},
                                            content_type="text/html", cache_control="no-cache"),
}


def _preflights() -> dict[tuple[str, str], Operation]:
    """A CORS preflight per route the widget calls from a tenant's site (see chalicelib.api.web)."""
    from chalicelib.api.web import BROWSER_ROUTES

    names = {path: "".join(part.strip("{}").title().replace("-", "").replace("_", "") for part in path.split("/")[2:])
             for path in BROWSER_ROUTES}
    return {(path, "options"): Operation(f"preflight{names[path]}", "CORS preflight: only origins a live widget key "
                                         "allows (403 otherwise)", None, None, status=204, errors=(403,),
                                         cache_control=None)
            for path in BROWSER_ROUTES}


OPERATIONS.update(_preflights())
