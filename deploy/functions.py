"""The app's Lambda functions, as Chalice packages them: names, template ids, and schedules."""

from __future__ import annotations

from dataclasses import dataclass

API_HANDLER = "api_handler"


@dataclass(frozen=True)
class Function:
    """One Lambda function. ``kind`` is ``api``, ``operator`` or ``schedule``."""

    name: str
    kind: str
    schedule: str | None = None

    @property
    def logical_id(self) -> str:
        """The resource id Chalice gives the function in its SAM template."""
        from chalice.utils import to_cfn_resource_name

        return "APIHandler" if self.name == API_HANDLER else to_cfn_resource_name(self.name)


def app_functions() -> list[Function]:
    """Every function the Chalice app registers: the API handler, operator and scheduled functions."""
    import app

    chalice_app = app.app
    functions = [Function(API_HANDLER, "api")] if chalice_app.routes else []
    functions += [Function(f.name, "operator") for f in chalice_app.pure_lambda_functions]
    functions += [Function(e.name, "schedule", e.schedule_expression.to_string())
                  for e in chalice_app.event_sources]
    return functions
