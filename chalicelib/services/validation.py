"""Turn payloads into typed inputs, and pydantic's complaints into the contract's error details."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import PydanticCustomError

from chalicelib.errors import ValidationFailed

M = TypeVar("M", bound=BaseModel)


def present(*names: str, exactly_one: bool) -> dict[str, Any]:
    """JSON Schema for a rule a model checks in code: at least one (or exactly one) of these keys is given as text.

    Only for the OpenAPI document, so that what it calls valid is what the service accepts.
    """
    branches = [{"required": [name], "properties": {name: {"type": "string"}}} for name in names]
    return {"oneOf" if exactly_one else "anyOf": branches}


class StrictInput(BaseModel):
    """Base of every input model: unknown keys are refused, strings trimmed, types strict."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True, frozen=True)


def parse_input(model: type[M], payload: Any) -> M:
    """Validate ``payload``; the error lists fields and problems, never the submitted values."""
    if not isinstance(payload, dict):
        raise ValidationFailed("The body must be a JSON object.")
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        details = [
            {"field": _field(error), "problem": _problem(error)}
            for error in exc.errors(include_input=False, include_url=False)
        ]
        raise ValidationFailed(details=details) from None


def _field(error: Any) -> str:
    """Where the problem is; a whole-model rule names its fields in ``ctx`` (see ``field_error``)."""
    located = ".".join(str(part) for part in error["loc"])
    return located or str((error.get("ctx") or {}).get("field") or "(body)")


def field_error(fields: str, problem: str) -> PydanticCustomError:
    """An error a model validator raises to point forms at fields (``"phone|email"``: either)."""
    return PydanticCustomError("rule", problem, {"field": fields})


def _problem(error: Any) -> str:
    message = str(error.get("msg", "invalid"))
    # Messages of our own validators arrive as "Value error, <text>": keep just the text.
    return message.removeprefix("Value error, ")
