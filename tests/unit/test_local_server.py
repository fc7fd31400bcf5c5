"""The local server answers every method and every malformed request in the contract's shape, never 5xx HTML."""

from __future__ import annotations

import http.client
import json
import socket
import threading

import pytest
from chalice import local
from chalice.config import Config

from chalicelib.api.application import LeadVaultChalice
from devtools.dynamodb_local import free_port
from devtools.local_server import ContractRequestHandler


@pytest.fixture
def server():
    """The local server's handler in front of a one-route app (the real app is loaded once per process)."""
    app = LeadVaultChalice(app_name="probe", configure_logs=False)
    app.route("/v1/health")(lambda: {"status": "ok"})
    port = free_port()
    local_server = local.LocalDevServer(app, Config.create(chalice_stage="test", app_name="probe"), "127.0.0.1", port,
                                        handler_cls=ContractRequestHandler)
    thread = threading.Thread(target=local_server.serve_forever, daemon=True)
    thread.start()
    yield port
    local_server.server.shutdown()
    local_server.server.server_close()


def send(port: int, method: str, path: str) -> tuple[int, str, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type") or "", json.loads(response.read())
    finally:
        connection.close()


@pytest.mark.parametrize("method", ["TRACE", "QUERY", "BREW"])
def test_unknown_methods_are_405_in_the_contract_shape(server, method):
    # Found by the fuzzer: TRACE was answered with http.server's 501 HTML page.
    status, content_type, body = send(server, method, "/v1/health")
    assert status == 405
    assert content_type == "application/json"
    assert body["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize("path", ["/v1/no-such-route", "/", "/v1/health/extra?email=a%40example.org"])
def test_unknown_routes_are_404_not_found_as_the_deployed_gateway_answers(server, path):
    # Chalice's local gateway says 403 "Missing Authentication Token" like API Gateway; both become this.
    status, content_type, body = send(server, "GET", path)
    assert (status, content_type) == (404, "application/json")
    assert body == {"error": {"code": "not_found", "message": "No such resource."}}


def test_known_methods_still_reach_the_app(server):
    assert send(server, "GET", "/v1/health") == (200, "application/json", {"status": "ok"})
    assert send(server, "DELETE", "/v1/health")[0] == 405


def test_an_oversized_header_is_refused_in_the_contract_shape(server):
    with socket.create_connection(("127.0.0.1", server), timeout=10) as sock:
        sock.sendall(b"GET /v1/health HTTP/1.1\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n")
        chunks = []
        while chunk := sock.recv(65536):  # the server closes the connection after refusing
            chunks.append(chunk)
        raw = b"".join(chunks).decode()
    head, _, body = raw.partition("\r\n\r\n")
    assert head.split()[1] == "431"
    assert "application/json" in head
    assert set(json.loads(body)["error"]) == {"code", "message"}


def test_a_request_is_not_logged_again_by_the_server_with_its_query_string(server, capfd):
    # Each request was logged twice locally: the app's JSON line and http.server's access line, which also
    # carries the raw path and query string (personal data may ride there).
    assert send(server, "GET", "/v1/health?email=asha%40example.org")[0] in (200, 400, 404)
    assert send(server, "GET", "/v1/no-such-route?phone=%2B919845012345")[0] == 404
    written = "".join(capfd.readouterr())
    assert "GET /v1/" not in written
    assert "example.org" not in written and "9845012345" not in written
