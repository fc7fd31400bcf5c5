"""Domain errors and their one mapping to the contract's error shape.

Services raise these; the HTTP layer and the operator functions turn them into
``{"error": {"code", "message", "details"?}}``. Messages are fixed text: they never echo input.
"""

from __future__ import annotations

from typing import Any


class LeadVaultError(Exception):
    """Base of every error a caller may see."""

    status: int = 400
    code: str = "bad_request"
    default_message: str = "The request could not be processed."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        self.message = message or self.default_message
        if code:
            self.code = code
        self.details = details or []
        super().__init__(self.message)

    def to_body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            error["details"] = self.details
        return {"error": error}


class InvalidJson(LeadVaultError):
    code = "invalid_json"
    default_message = "The body is not valid JSON."


class ValidationFailed(LeadVaultError):
    code = "validation_error"
    default_message = "The request has invalid fields."


class SpecialCategory(LeadVaultError):
    code = "special_category"
    default_message = "Special-category data (health, religion, caste, ...) is not collected."


class UndeclaredField(LeadVaultError):
    code = "undeclared_field"
    default_message = "A custom field was not declared by the tenant."


class Minor(LeadVaultError):
    code = "minor"
    default_message = "We do not collect data of people under 18."


class ConsentRequired(LeadVaultError):
    code = "consent_required"
    default_message = "Consent to be contacted (purpose `contact`) is required."


class Unauthorized(LeadVaultError):
    status = 401
    code = "unauthorized"
    default_message = "A valid API key is required."


class Forbidden(LeadVaultError):
    status = 403
    code = "forbidden"
    default_message = "This key may not do that."


class NotFound(LeadVaultError):
    status = 404
    code = "not_found"
    default_message = "No such resource."


class MethodNotAllowed(LeadVaultError):
    status = 405
    code = "method_not_allowed"
    default_message = "This method is not allowed on this resource."


class Conflict(LeadVaultError):
    status = 409
    code = "conflict"
    default_message = "The request conflicts with the current state."


class IdempotencyConflict(Conflict):
    code = "idempotency_conflict"
    default_message = "This Idempotency-Key was used with a different body."


class RequestInProgress(Conflict):
    """A retry while the first attempt of the same keyed request still works; ``Retry-After`` says when to ask."""

    code = "request_in_progress"
    default_message = "This request is still being processed; retry shortly with the same Idempotency-Key."

    def __init__(self, message: str | None = None, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Gone(LeadVaultError):
    status = 410
    code = "gone"
    default_message = "This is no longer available."


class PayloadTooLarge(LeadVaultError):
    status = 413
    code = "payload_too_large"
    default_message = "The body is larger than 64 KiB."


class UnsupportedMediaType(LeadVaultError):
    status = 415
    code = "unsupported_media_type"
    default_message = "Send the body as application/json."


class RateLimited(LeadVaultError):
    status = 429
    code = "rate_limited"
    default_message = "Too many requests; try again later."


class InternalError(LeadVaultError):
    status = 500
    code = "internal_error"
    default_message = "Something went wrong on our side. It has been logged without your data."


_BY_STATUS: dict[int, type[LeadVaultError]] = {
    cls.status: cls
    for cls in (InvalidJson, Unauthorized, Forbidden, NotFound, MethodNotAllowed, Conflict, Gone,
                PayloadTooLarge, UnsupportedMediaType, RateLimited, InternalError)
}


def error_for_status(status: int) -> LeadVaultError:
    """The contract error for a bare HTTP status produced outside our code (framework, gateway)."""
    if status == 400:
        return ValidationFailed("The request is malformed.")
    return _BY_STATUS.get(status, InternalError if status >= 500 else LeadVaultError)()


# --- access (budgets), policies, retention --------------------------------------------------

class BudgetSpent(RateLimited):
    """429 ``rate_limited`` for a spent public budget; ``retry_after``: seconds until the soonest one refills."""

    default_message = "Too many requests from here just now; try again later."

    def __init__(self, retry_after: int) -> None:
        super().__init__()
        self.retry_after = retry_after


class BudgetsContended(RateLimited):
    """429 when concurrent requests kept colliding on the same budget counters: nothing spent, retry shortly."""

    default_message = "Too many requests at once just now; try again in a moment."
    retry_after = 1


class VersionExists(Conflict):
    code = "version_exists"
    default_message = "This version was published already."


class AlreadyExpired(Conflict):
    code = "expired"
    default_message = "The lead has already expired."


class UnknownPolicyVersion(LeadVaultError):
    """Consent is given to a policy the person could read: a version the tenant (or the platform) published."""

    code = "unknown_policy_version"
    default_message = "The consent names a policy version that was never published."


# --- rights (privacy requests, exports, confirmations) -------------------------------------

class InvalidCode(LeadVaultError):
    code = "invalid_code"
    default_message = "That code is not right."


class VerificationLocked(RateLimited):
    code = "verification_locked"
    default_message = "Too many wrong codes; file a new request."


class CodeExpired(Gone):
    code = "code_expired"
    default_message = "The code has expired; file a new request."


class DownloadTokenRequired(Forbidden):
    code = "download_token_required"
    default_message = "Use the download link we sent to you."


class ExportExpired(Gone):
    code = "export_expired"
    default_message = "The export has expired."


class ExportNotReady(NotFound):
    """409: an access request's export asked for before the request is done; ``Retry-After`` says when to ask
    again. A "not found yet": a path that must not tell whether an export exists (the keyless download
    link) catches it as the ``NotFound`` it is there."""

    status = 409
    code = "export_not_ready"
    default_message = "The export is not ready yet; try again in a minute."

    def __init__(self, message: str | None = None, retry_after: int = 60) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class IdentifierTaken(Conflict):
    code = "identifier_taken"
    default_message = "That e-mail address or phone number now belongs to another record; ask us to link them."


class NoGrievanceOfficer(Conflict):
    code = "no_grievance_officer"
    default_message = "This business has not named a grievance officer yet; write to it directly."


class GrievanceNotOpen(Conflict):
    code = "grievance_not_open"
    default_message = "Only an open grievance can be answered (this one is not verified, or was answered already)."


# --- codes other areas raised as ad-hoc strings (leads, field work, the API) -----------------

class LeadChanged(Conflict):
    code = "lead_changed"
    default_message = "The lead changed meanwhile; read it again and retry."


class ShiftOpen(Conflict):
    code = "shift_open"
    default_message = "A shift is already open; end it first."


class NoOpenShift(Conflict):
    code = "no_open_shift"
    default_message = "There is no open shift to end."


class UsePostLookup(ValidationFailed):
    """Identifiers or a token in a query string: the message says where to send them instead, never their value."""

    code = "use_post_lookup"
