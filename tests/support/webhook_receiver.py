"""A real HTTP receiver on 127.0.0.1 for webhook tests, and the README's verification snippet.

The receiver records each request (headers and raw body) and answers as the test tells it: a status,
a redirect, or an answer that never ends. ``readme_verify`` is the Python snippet of the README's
"Webhooks" section, executed as written, so the tests hold the documentation to the code.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parents[2] / "README.md"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    port: int = 0
    behaviour: str = "ok"  # ok | status:<n> | redirect | endless
    requests: list[Received] = field(default_factory=list)

    def url(self, path: str = "/hooks/leadvault") -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            receiver.requests.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            behaviour = receiver.behaviour
            if behaviour == "redirect":
                self.send_response(302)
                self.send_header("Location", receiver.url("/elsewhere"))
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif behaviour == "endless":
                self.send_response(200)
                self.send_header("Content-Length", str(1 << 40))
                self.end_headers()
                chunk = b"x" * 65536
                try:
                    for _ in range(1 << 14):  # a GiB at most, should a client read it all
                        self.wfile.write(chunk)
                except OSError:
                    return
            else:
                status = int(behaviour.partition(":")[2] or 200) if behaviour.startswith("status") else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

    return Handler


@contextmanager
def receiving(behaviour: str = "ok") -> Iterator[Receiver]:
    receiver = Receiver(behaviour=behaviour)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


def readme_snippet(language: str) -> str:
    """The code block of ``language`` in the README's Webhooks section."""
    text = README.read_text()
    section = text[text.index("\n## Webhooks\n"):]
    section = section[:section.index("\n## ", 1)]
    found = re.search(rf"```{language}\n(.*?)```", section, re.S)
    assert found, f"no {language} snippet in the README's Webhooks section"
    return found.group(1)


def readme_verify() -> Callable[..., bool]:
    namespace: dict[str, Any] = {}
    exec(compile(readme_snippet("python"), "README.md#webhooks", "exec"), namespace)  # noqa: S102 - our own README
    return namespace["verify"]


@contextmanager
def receiving_tls(host: str, tmp_path: Path) -> Iterator[tuple[Receiver, Path]]:
    """The receiver behind TLS, with a certificate for ``host`` from a CA of its own; yields the CA's file too."""
    import datetime
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "receiver.pem", tmp_path / "receiver.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    receiver = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver, cert_file
    finally:
        server.shutdown()
        server.server_close()
