"""What ``GET /v1/brand`` answers: the tenant's published identity (no person's data)."""

from __future__ import annotations

from pydantic import Field

from chalicelib.api.responses.common import View
from chalicelib.api.responses.grievances import Officer


class Brand(View):
    """How pages and the widget show the tenant; the accent colour, logo and officer are null when unset."""

    display_name: str = Field(description="the tenant's display name, or its name when none is set")
    accent_colour: str | None = Field(pattern=r"^#[0-9a-f]{6}$")
    logo_url: str | None = Field(description="an https URL")
    grievance_officer: Officer | None
