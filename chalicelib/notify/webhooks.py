"""Outgoing webhooks: the signature, the guard against requests to private networks (SSRF), one attempt.

A tenant names the URL, so a URL is a request LeadVault makes on the tenant's behalf from inside AWS.
It may go only to the public internet: ``https`` only, every address the host resolves to public
(no private, loopback, link-local, reserved, multicast, unspecified, shared (CGNAT) or cloud-metadata
address, IPv4 or IPv6, IPv4 inside IPv6 included), checked when the subscription is made and again
before every attempt. The connection goes to the very address that was checked (no second lookup a
DNS rebinding could answer differently), with the host name kept for the ``Host`` header, TLS SNI and
the certificate check. A redirect is never followed (3xx is a failure). Timeouts are short (2 s to
connect, 5 s in all, enforced by a watchdog however slowly the receiver trickles), at most
:data:`BODY_CAP` bytes of the answer are read, and the answer is never kept or logged.

Only the ``local`` and ``test`` stages may use plain ``http`` to ``localhost`` or ``127.0.0.1``.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import ipaddress
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from chalicelib.config import CLOCK_OVERRIDE_STAGES, get_settings

EVENT_ID_HEADER = "LeadVault-Event-Id"
EVENT_TYPE_HEADER = "LeadVault-Event-Type"
SIGNATURE_HEADER = "LeadVault-Signature"
USER_AGENT = "LeadVault-Webhooks/1"

CONNECT_TIMEOUT_S = 2.0
TOTAL_TIMEOUT_S = 5.0
RESOLVE_TIMEOUT_S = 2.0
BODY_CAP = 1024  # bytes of a receiver's answer read at most, then dropped
MAX_URL_LENGTH = 2048

LOCAL_STAGES = CLOCK_OVERRIDE_STAGES  # local and test: the stages that never run in AWS
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1"})
METADATA_HOSTS = frozenset({"metadata", "metadata.google.internal", "metadata.goog", "instance-data",
                            "instance-data.ec2.internal"})
# Ranges that ``is_global`` lets through in some Python versions, or that are metadata services.
BLOCKED_NETWORKS = tuple(ipaddress.ip_network(net) for net in (
    "0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "198.18.0.0/15", "169.254.0.0/16", "fd00:ec2::/32",
    "64:ff9b:1::/48", "2001:db8::/32", "fc00::/7", "fe80::/10",
))
NAT64 = ipaddress.ip_network("64:ff9b::/96")

# Why a target was refused, as fixed codes (never the URL or an address).
REFUSALS = {
    "scheme": "must be an https URL",
    "credentials": "must not carry a user name or password",
    "host": "must name a host",
    "port": "has an invalid port",
    "too_long": f"must be at most {MAX_URL_LENGTH} characters",
    "unresolvable": "names a host that does not resolve",
    "private_address": "resolves to a private, loopback, link-local, reserved or metadata address",
}


class UnsafeTarget(ValueError):
    """A URL LeadVault will not send to; ``kind`` is a key of :data:`REFUSALS`."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind

    @property
    def problem(self) -> str:
        return REFUSALS[self.kind]


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (the checked addresses) and what to call the host there."""

    secure: bool
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.secure else 80
        return host if self.port == default else f"{host}:{self.port}"


@dataclass(frozen=True)
class Outcome:
    """One attempt: ``ok`` for a 2xx; otherwise the receiver's status, or a fixed ``error`` kind."""

    ok: bool
    status: int | None = None
    error: str | None = None  # scheme ... private_address (refused), timeout, connect_failed, tls, redirect, ...


# --- signing ---------------------------------------------------------------------------------

def signature(secret: str, body: bytes, timestamp: int) -> str:
    """``t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``: the value of :data:`SIGNATURE_HEADER`."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def headers_for(secret: str, event_id: str, event_type: str, body: bytes, timestamp: int) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        EVENT_ID_HEADER: event_id,
        EVENT_TYPE_HEADER: event_type,
        SIGNATURE_HEADER: signature(secret, body, timestamp),
    }


# --- the guard -------------------------------------------------------------------------------

def is_public(address: str) -> bool:
    """Whether an address is on the public internet (IPv4 embedded in IPv6 is judged as IPv4)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public(str(embedded))
    if (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast
            or ip.is_unspecified or not ip.is_global):
        return False
    return not any(ip.version == network.version and ip in network for network in BLOCKED_NETWORKS)


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (an address literal is itself); empty when it does not resolve.

    The lookup runs in a thread given :data:`RESOLVE_TIMEOUT_S`, since the resolver's own timeouts are long.
    """
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    found: list[str] = []

    def lookup() -> None:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError, ValueError):  # ValueError: a NUL in the name
            return
        found.extend(dict.fromkeys(str(info[4][0]) for info in infos))

    worker = threading.Thread(target=lookup, daemon=True)
    worker.start()
    worker.join(RESOLVE_TIMEOUT_S)
    return list(found) if not worker.is_alive() else []


def check_url(url: str, stage: str | None = None) -> Target:
    """The URL as a :class:`Target` whose addresses are all allowed, or :class:`UnsafeTarget`."""
    if not isinstance(url, str) or len(url) > MAX_URL_LENGTH:
        raise UnsafeTarget("too_long")
    stage = stage or get_settings().stage
    try:
        parts = urlsplit(url)
    except ValueError:  # an unclosed IPv6 bracket, say
        raise UnsafeTarget("host") from None
    try:
        port = parts.port
    except ValueError:
        raise UnsafeTarget("port") from None
    host = (parts.hostname or "").rstrip(".")
    local = stage in LOCAL_STAGES and host in LOCAL_HOSTS
    if parts.scheme != "https" and not (parts.scheme == "http" and local):
        raise UnsafeTarget("scheme")
    if parts.username is not None or parts.password is not None:
        raise UnsafeTarget("credentials")
    if not host or any(ch.isspace() for ch in url) or not host.isascii():
        raise UnsafeTarget("host")
    if host in METADATA_HOSTS:
        raise UnsafeTarget("private_address")
    secure = parts.scheme == "https"
    if port is None:
        port = 443 if secure else 80
    elif port < 1:
        raise UnsafeTarget("port")
    addresses = resolve(host, port)
    if not addresses:
        raise UnsafeTarget("unresolvable")
    for address in addresses:
        allowed = ipaddress.ip_address(address.split("%", 1)[0]).is_loopback if local else is_public(address)
        if not allowed:
            raise UnsafeTarget("private_address")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(secure, host, port, path, tuple(addresses))


# --- one attempt -----------------------------------------------------------------------------

def deliver(url: str, secret: str, event_id: str, event_type: str, body: str, *,
            timestamp: int | None = None, stage: str | None = None) -> Outcome:
    """POST one signed event to a subscription's URL, checked again now; never raises for the receiver's faults.

    ``timestamp`` is the signature's time, the real clock by default (receivers compare it with theirs).
    """
    try:
        target = check_url(url, stage)
    except UnsafeTarget as refused:
        return Outcome(False, error=refused.kind)
    payload = body.encode("utf-8")
    headers = headers_for(secret, event_id, event_type, payload, int(time.time()) if timestamp is None else timestamp)
    headers["Host"] = target.host_header
    return _post(target, payload, headers)


def _post(target: Target, payload: bytes, headers: dict[str, str]) -> Outcome:
    """Connect to a checked address (the next on a refused connection), post, read a capped answer."""
    deadline = time.monotonic() + TOTAL_TIMEOUT_S
    outcome = Outcome(False, error="connect_failed")
    for address in target.addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return Outcome(False, error="timeout")
        outcome = _post_to(target, address, payload, headers, deadline)
        if outcome.error != "connect_failed":
            return outcome
    return outcome


def _post_to(target: Target, address: str, payload: bytes, headers: dict[str, str], deadline: float) -> Outcome:
    import ssl

    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.exceptions import ConnectTimeoutError, HTTPError, NewConnectionError, SSLError
    from urllib3.util.ssl_match_hostname import CertificateError

    connect_s = min(CONNECT_TIMEOUT_S, max(deadline - time.monotonic(), 0.01))
    if target.secure:
        # The checked address, with the host's name for SNI and the certificate (system CAs, verified).
        connection: HTTPConnection = HTTPSConnection(address, target.port, timeout=connect_s,
                                                     server_hostname=target.host, assert_hostname=target.host,
                                                     cert_reqs="CERT_REQUIRED")
    else:
        connection = HTTPConnection(address, target.port, timeout=connect_s)
    cut = threading.Event()
    watchdog: threading.Timer | None = None
    try:
        try:
            connection.connect()
        except NewConnectionError:  # refused or unreachable (a subclass of ConnectTimeoutError in urllib3 2)
            return Outcome(False, error="connect_failed")
        except (TimeoutError, ConnectTimeoutError):
            return Outcome(False, error="timeout")
        except (SSLError, ssl.SSLError, ssl.CertificateError, CertificateError):  # handshake, chain or name
            return Outcome(False, error="tls")
        except (OSError, HTTPError):
            return Outcome(False, error="connect_failed")
        remaining = deadline - time.monotonic()
        if remaining <= 0 or connection.sock is None:
            return Outcome(False, error="timeout")
        connection.sock.settimeout(remaining)
        watchdog = threading.Timer(remaining, _cut, (connection, cut))
        watchdog.daemon = True
        watchdog.start()
        outcome = _exchange(connection, target.path, payload, headers)
        return Outcome(False, error="timeout") if cut.is_set() and not outcome.ok else outcome
    finally:
        if watchdog is not None:
            watchdog.cancel()
        connection.close()


def _exchange(connection: Any, path: str, payload: bytes, headers: dict[str, str]) -> Outcome:
    import http.client
    import ssl

    from urllib3.exceptions import HTTPError, ReadTimeoutError

    try:
        connection.request("POST", path, body=payload, headers=headers, preload_content=False,
                           decode_content=False)
        response = connection.getresponse()
        status = int(response.status)
        # A little of the answer is read (and dropped) so small answers complete; nothing more.
        response.read(BODY_CAP, decode_content=False)
    except (TimeoutError, ReadTimeoutError):
        return Outcome(False, error="timeout")
    except ssl.SSLError:
        return Outcome(False, error="tls")
    except (OSError, HTTPError, http.client.HTTPException, ValueError):
        return Outcome(False, error="bad_response")
    if 200 <= status < 300:
        return Outcome(True, status)
    if 300 <= status < 400:
        return Outcome(False, status, "redirect")
    return Outcome(False, status, "http_status")


def _cut(connection: Any, cut: threading.Event) -> None:
    """The total deadline passed: shut the socket, so a receiver trickling bytes cannot hold the caller."""
    cut.set()
    sock = getattr(connection, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
