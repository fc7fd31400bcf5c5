"""``chalice local``'s own server, with gateway errors (unknown route) in the contract's shape.

API Gateway answers an unknown route itself; the deploy template maps that answer to a 404
``not_found`` body, and this handler does the same locally so clients meet one error shape.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from chalice import local
from chalice.cli.factory import CLIFactory

from chalicelib.errors import LeadVaultError, NotFound, error_for_status


class ContractRequestHandler(local.ChaliceRequestHandler):
    """Rewrites the local gateway's own errors into ``{"error": {...}}``."""

    def __getattr__(self, name: str) -> Any:
        """Any other method (TRACE, QUERY, ...) goes to the app too, which answers 405 like API Gateway.

        ``http.server`` would answer a method it has no ``do_`` handler for with a 501 HTML page.
        """
        if name.startswith("do_"):
            return self._generic_handle
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        """No access line of ``http.server``'s own: the app logs each request once, as JSON, by its route
        template; the raw request line would log it twice, with its query string (which may hold personal data)."""
        return

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """``http.server``'s own refusals (malformed request line, header too long) as contract JSON."""
        body = json.dumps(error_for_status(code).to_body()).encode()
        self.send_response(code, message)
        self.send_header("Connection", "close")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.close_connection = True
        if self.command != "HEAD" and code >= 200 and code not in (204, 304):
            self.wfile.write(body)

    def _send_error_response(self, error: local.LocalGatewayException) -> None:
        contract: LeadVaultError = NotFound() if error.CODE == 403 else error_for_status(error.CODE)
        status = 404 if isinstance(contract, NotFound) else error.CODE
        headers = {"Content-Type": "application/json"}
        self._send_http_response(status, headers, json.dumps(contract.to_body()).encode())


def create_server(project_dir: Path, host: str, port: int, stage: str = "local") -> tuple[local.LocalDevServer, Any]:
    """Load the app with the stage's config (as ``chalice local`` does) and bind the server."""
    import os

    factory = CLIFactory(project_dir=str(project_dir), environ=os.environ)
    config = factory.create_config_obj(chalice_stage_name=stage)
    app_obj = config.chalice_app
    local.CustomLocalChalice.__bases__ = (local.LocalChalice, app_obj.__class__)
    app_obj.__class__ = local.CustomLocalChalice
    server = local.LocalDevServer(app_obj, config, host, port, handler_cls=ContractRequestHandler)
    return server, app_obj
