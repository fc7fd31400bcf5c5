"""Data minimisation helpers: keep only as much as the purpose needs."""

from __future__ import annotations

import ipaddress


def truncate_ip(address: str | None) -> str | None:
    """IPv4 to its /24, IPv6 to its /48; anything unparsable is dropped, not kept."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return None
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def round_location(lat: float, lng: float) -> tuple[float, float]:
    """Two decimals: about a kilometre, enough for a field visit, not a doorstep."""
    return round(lat, 2), round(lng, 2)


def browser_and_os(user_agent: str | None) -> tuple[str | None, str | None]:
    """Only the browser family and OS of a user agent; versions and devices are dropped."""
    if not user_agent:
        return None, None
    from ua_parser import parse_os, parse_user_agent

    agent = user_agent[:512]
    browser, system = parse_user_agent(agent), parse_os(agent)
    return (browser.family[:40] if browser else "Other"), (system.family[:40] if system else "Other")
