"""Data minimisation: keep only as much of an address, place or user agent as the purpose needs."""

from __future__ import annotations

import pytest

from chalicelib.vault.minimise import browser_and_os, round_location, truncate_ip

CHROME_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/120.0.0.0 Safari/537.36")
FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"


@pytest.mark.parametrize(("address", "kept"), [
    ("203.0.113.77", "203.0.113.0/24"),  # IPv4 to its /24
    (" 198.51.100.9 ", "198.51.100.0/24"),
    ("2001:db8:abcd:12:1:2:3:4", "2001:db8:abcd::/48"),  # IPv6 to its /48
    ("not an address", None),  # unparsable: dropped, not kept
    ("203.0.113.256", None),
    ("", None),
    (None, None),
])
def test_ip_addresses_keep_only_their_network(address, kept):
    assert truncate_ip(address) == kept


def test_locations_keep_two_decimals():
    assert round_location(18.520431, 73.856744) == (18.52, 73.86)
    assert round_location(-33.867851, 151.207321) == (-33.87, 151.21)


def test_user_agents_keep_only_browser_and_os_family():
    assert browser_and_os(CHROME_WINDOWS) == ("Chrome", "Windows")
    assert browser_and_os(FIREFOX_LINUX) == ("Firefox", "Linux")


def test_no_user_agent_is_no_browser():
    assert browser_and_os(None) == (None, None)
    assert browser_and_os("") == (None, None)
