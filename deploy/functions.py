"""The app's Lambda functions, as Chalice packages them: names, template ids, schedules and stream triggers."""

from __future__ import annotations

from dataclasses import dataclass

API_HANDLER = "api_handler"


@dataclass(frozen=True)
class Function:
    """One Lambda function. ``kind`` is ``api``, ``operator``, ``schedule`` or ``stream`` (a table's stream)."""

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
    for source in chalice_app.event_sources:
        if hasattr(source, "schedule_expression"):
            functions.append(Function(source.name, "schedule", source.schedule_expression.to_string()))
        elif hasattr(source, "stream_arn"):
            functions.append(Function(source.name, "stream"))
        else:
            raise ValueError(f"{source.name}: an event source deploy/ does not know")
    return functions
