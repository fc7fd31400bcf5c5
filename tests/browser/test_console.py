"""The staff console in a real browser, on a desktop and a phone: signing in, leads, a lead, the reports.

Seeded through the API as staff would: three leads (one moved on and assigned), an open privacy request,
a policy version published after the leads (so it has notices), a shift with a call. Every request the
page makes is recorded, to prove the admin key never travels in an address.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import accessibility_violations, admin_headers, tenant_of

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SECTIONS = {  # fragment -> (link, heading, the table that shows once its data is in)
    "leads": ("Leads", "Leads", "Leads, most recent activity first"),
    "privacy": ("Privacy requests", "Privacy requests", "Open requests, most urgent first"),
    "policies": ("Policies", "Policies", "Notices of version console-2 by channel"),
    "retention": ("Retention", "Retention", "Days with leads expiring"),
    "field-work": ("Field work", "Field work", "Calls and shifts per agent per day"),
    "audit": ("Audit", "Audit log", "Audit records, newest first"),
}
ASHA = {"name": "Asha Console", "email": "asha.console@example.com", "phone": "+91 98450 51001", "source": "web",
        "consent": {"purposes": ["contact"], "policy_version": "demo-1"}}
BALA = {"name": "Bala Console", "email": "bala.console@example.com", "source": "expo"}
CHITRA = {"name": "Chitra Console", "phone": "+91 98450 51003", "source": "expo"}


@dataclass
class Opened:
    """A console tab in a fresh browser profile, with every URL it asked for and every script error."""

    page: Any
    urls: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def seeded(service) -> dict[str, str]:
    """The demo tenant with leads, a privacy request, a published policy version and a shift with a call."""
    admin = admin_headers(service)
    service.operator("admin_set_retention", {"tenant_id": tenant_of(service), "days": {"leads": 20}})
    ids = {}
    for person in (ASHA, BALA, CHITRA):
        status, made = service.request("POST", "/v1/leads", person, headers=admin)
        assert status == 201, made
        ids[person["name"]] = made["lead_id"]
    status, moved = service.request("PATCH", f"/v1/leads/{ids['Chitra Console']}",
                                    {"stage": "qualified", "assigned_agent": "demo-agent"}, headers=admin)
    assert status == 200, moved
    status, filed = service.request("POST", "/v1/privacy-requests", {"type": "erasure", "email": BALA["email"]},
                                    headers=admin)
    assert status == 202, filed
    service.operator("admin_publish_policy", {
        "scope": "tenant", "tenant_id": tenant_of(service), "version": "console-2", "url": "https://example.com/p2",
        "summary": "We now keep call notes for a year.", "effective_at": (datetime.now(UTC) + timedelta(days=30))
        .strftime("%Y-%m-%dT%H:%M:%SZ")})
    return ids


@pytest.fixture(scope="module")
def field_day(service, seeded) -> None:
    """The demo agent's shift with one answered call to Chitra."""
    agent = {"Authorization": f"Bearer {service.keys()['agent']}"}
    status, shift = service.request("POST", "/v1/shifts/start", {}, headers=agent)
    assert status in (200, 201), shift
    time.sleep(1.1)  # the call starts within the shift, to the second
    started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    status, calls = service.request("POST", "/v1/calls", {"events": [
        {"client_event_id": "console-call-1", "number": CHITRA["phone"], "direction": "outgoing",
         "status": "answered", "started_at": started, "duration_s": 95}]}, headers=agent)
    assert status in (200, 207), calls


@pytest.fixture
def opened(browser, request) -> Iterator[Opened]:
    """A fresh profile (no storage, no cookies) at the viewport the test is parametrised with (desktop by default)."""
    viewport = getattr(request, "param", DESKTOP)
    phone = viewport is PHONE
    context = browser.new_context(viewport=viewport, accept_downloads=True, is_mobile=phone, has_touch=phone)
    tab = Opened(context.new_page())
    tab.page.on("pageerror", lambda error: tab.errors.append(str(error)))
    tab.page.on("request", lambda sent: tab.urls.append(sent.url.split("#")[0]))  # what reaches a server
    yield tab
    context.close()
    assert not tab.errors, tab.errors


def sign_in(tab: Opened, service, role: str = "admin", fragment: str = "") -> None:
    tab.page.goto(f"{service.base_url}/v1/pages/console{fragment}")
    tab.page.get_by_label("Admin API key").fill(service.keys()[role])
    tab.page.get_by_role("button", name="Sign in").click()


def go(tab: Opened, section: str) -> None:
    """Open a section from the navigation and wait for its data."""
    link, heading, ready = SECTIONS[section]
    tab.page.get_by_role("navigation", name="Sections").get_by_role("link", name=link, exact=True).click()
    expect(tab.page.get_by_role("heading", level=1, name=heading)).to_be_focused()
    expect(tab.page.get_by_role("table", name=ready)).to_be_visible()


def lead_rows(tab: Opened):
    return tab.page.get_by_role("table", name="Leads, most recent activity first").locator("tbody tr")


def assert_key_kept_in_the_tab_only(tab: Opened, service) -> None:
    key = service.keys()["admin"]
    secret = key.split(".")[-1]
    assert tab.urls, "the page made no requests"
    leaked = [url for url in tab.urls if secret in url or key in url]
    assert leaked == []
    assert tab.page.evaluate("() => Object.values(sessionStorage)") == [key]
    assert tab.page.evaluate("() => localStorage.length") == 0
    assert tab.page.context.cookies() == []


def test_the_page_is_served_under_the_strict_policy(service, opened):
    answer = opened.page.goto(f"{service.base_url}/v1/pages/console")
    policy = answer.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert answer.headers["cache-control"] == "no-cache"
    assert "http://" not in answer.text().replace("http://www.w3.org/2000/svg", "")
    expect(opened.page.get_by_label("Admin API key")).to_be_focused()
    assert accessibility_violations(opened.page) == []


def test_an_admin_filters_searches_opens_a_lead_and_moves_its_stage(service, seeded, opened, screenshots):
    page = opened.page
    sign_in(opened, service)
    expect(page.get_by_role("heading", level=1, name="Leads")).to_be_focused()
    status, brand = service.request("GET", "/v1/brand", headers=admin_headers(service))
    assert status == 200 and brand["display_name"]
    expect(page.get_by_role("banner")).to_contain_text(brand["display_name"])  # the tenant's own name
    expect(lead_rows(opened)).to_have_count(3)
    expect(lead_rows(opened).first).to_contain_text("Chitra Console")  # the newest activity first
    page.screenshot(path=str(screenshots / "console-leads.png"), full_page=True)

    filters = page.get_by_role("search", name="Filter leads")
    filters.get_by_label("Stage").select_option("qualified")
    filters.get_by_role("button", name="Show leads").click()
    expect(lead_rows(opened)).to_have_count(1)
    expect(lead_rows(opened).first).to_contain_text("demo-agent")
    filters.get_by_label("Stage").select_option("")
    filters.get_by_label("Source").fill("expo")
    filters.get_by_role("button", name="Show leads").click()
    expect(lead_rows(opened)).to_have_count(2)
    with page.expect_download() as saved:
        filters.get_by_role("button", name="Export CSV").click()
    assert saved.value.suggested_filename.endswith(".csv")
    exported = saved.value.path().read_text(encoding="utf-8")
    assert exported.splitlines()[0].startswith("lead_id,name,phone,email,source,stage,assigned_agent,")
    assert "Bala Console" in exported and "Chitra Console" in exported and "Asha Console" not in exported
    filters.get_by_label("Source").fill("")
    filters.get_by_label("Assigned agent").fill("demo-agent")
    filters.get_by_role("button", name="Show leads").click()
    expect(lead_rows(opened)).to_have_count(1)
    filters.get_by_role("button", name="Clear").click()
    expect(lead_rows(opened)).to_have_count(3)
    filters.get_by_label("Created from").fill((date.today() + timedelta(days=2)).isoformat())
    filters.get_by_role("button", name="Show leads").click()
    expect(page.get_by_text("No leads match.")).to_be_visible()
    filters.get_by_role("button", name="Clear").click()
    filters.get_by_label("Phone or e-mail").fill("098450 51001")  # Asha's phone, written another way
    filters.get_by_role("button", name="Show leads").click()
    expect(lead_rows(opened)).to_have_count(1)
    filters.get_by_label("Phone or e-mail").fill(ASHA["email"])
    filters.get_by_role("button", name="Show leads").click()
    expect(lead_rows(opened)).to_have_count(1)
    assert accessibility_violations(page) == []

    lead_rows(opened).first.get_by_role("link", name="Asha Console").click()
    expect(page.get_by_role("heading", level=1, name="Asha Console")).to_be_visible()
    expect(page).to_have_url(re.compile(f"#lead/{seeded['Asha Console']}$"))
    expect(page.get_by_text(ASHA["email"])).to_be_visible()
    expect(page.get_by_role("table", name=re.compile("^Consent proof"))).to_contain_text("demo-1")  # its version
    timeline = page.get_by_role("table", name="Events, newest first")
    expect(timeline).to_contain_text("Submitted")
    page.get_by_role("form", name="Stage").get_by_label("Stage").select_option("contacted")
    page.get_by_role("button", name="Change stage").click()
    expect(page.get_by_role("status").filter(has_text="Stage changed")).to_have_text("Stage changed to Contacted.")
    change = timeline.locator("tbody tr").filter(has_text="Stage changed")
    expect(change).to_contain_text("New → Contacted")
    expect(change).to_contain_text(re.compile(r"Admin \(key \w+"))  # who acted
    assert accessibility_violations(page) == []
    page.screenshot(path=str(screenshots / "console-lead.png"), full_page=True)
    status, lead = service.request("GET", f"/v1/leads/{seeded['Asha Console']}", headers=admin_headers(service))
    assert status == 200 and lead["stage"] == "contacted"
    assert_key_kept_in_the_tab_only(opened, service)
    assert [url for url in opened.urls if "asha.console" in url or "98450" in url] == []  # searches go in bodies


def test_a_lead_page_places_and_releases_a_legal_hold_and_shows_calls(service, seeded, field_day, opened):
    page = opened.page
    sign_in(opened, service, fragment=f"#lead/{seeded['Chitra Console']}")
    expect(page.get_by_role("heading", level=1, name="Chitra Console")).to_be_visible()
    expect(page.get_by_role("table", name=re.compile("^Calls, newest first"))).to_contain_text("1 min 35 s")
    hold = page.get_by_role("form", name="Legal hold")
    hold.get_by_role("button", name="Place on legal hold").click()
    expect(page.get_by_text("Give the reason for the legal hold.")).to_be_visible()
    hold.get_by_label("Legal hold reason").fill("Court order 12/2026")
    hold.get_by_role("button", name="Place on legal hold").click()
    expect(page.get_by_role("status").filter(has_text="legal hold")).to_have_text("Placed on legal hold.")
    status, lead = service.request("GET", f"/v1/leads/{seeded['Chitra Console']}", headers=admin_headers(service))
    assert status == 200 and lead["legal_hold"] is True
    page.get_by_role("button", name="Release the legal hold").click()
    expect(page.get_by_role("status").filter(has_text="legal hold")).to_have_text("Legal hold released.")
    status, lead = service.request("GET", f"/v1/leads/{seeded['Chitra Console']}", headers=admin_headers(service))
    assert lead["legal_hold"] is False


def test_a_privacy_requests_countdown_and_the_grievances_beside_it(service, seeded, opened):
    page = opened.page
    sign_in(opened, service, fragment="#privacy")
    queue = page.get_by_role("table", name="Open requests, most urgent first")
    row = queue.locator("tbody tr").filter(has_text="Erasure")
    expect(row).to_contain_text(re.compile(r"\d+ days? left|Due today"))
    expect(row).to_contain_text("Pending verification")
    expect(page.get_by_role("table", name=re.compile("^Grievances"))).to_be_visible()
    page.get_by_label("Requests", exact=True).select_option("rejected")
    page.get_by_role("button", name="Show requests").click()
    expect(page.get_by_role("table", name="Rejected requests")).to_be_visible()
    expect(page.get_by_role("columnheader", name="Reason")).to_be_visible()


def test_policy_notices_show_as_a_stacked_bar_per_channel(service, seeded, opened, screenshots):
    page = opened.page
    sign_in(opened, service, fragment="#policies")
    bar = page.get_by_role("img", name=re.compile("^Notice progress of version console-2"))
    expect(bar).to_be_visible()
    expect(bar).to_have_attribute("aria-label", re.compile(r"All channels: \d+ sent, \d+ failed, \d+ pending"))
    parts = bar.locator("rect[data-state] title")
    expect(parts.first).to_have_text(re.compile(r"^.+: \d+ (sent|failed|pending|skipped) of \d+$"))
    expect(page.get_by_role("table", name="Notices of version console-2 by channel")).to_contain_text("E-mail")
    assert accessibility_violations(page) == []
    page.screenshot(path=str(screenshots / "console-policies.png"), full_page=True)


def test_retention_chart_and_field_work_chart(service, seeded, field_day, opened, screenshots):
    page = opened.page
    sign_in(opened, service, fragment="#retention")
    chart = page.get_by_role("img", name=re.compile("^Leads expiring per day"))
    expect(chart).to_be_visible()
    expect(chart.locator("g > title")).to_have_count(30)  # a title for every day's bar
    status, report = service.request("GET", "/v1/reports/retention", headers=admin_headers(service))
    due = {day["date"]: str(day["expiring"]) for day in report["days"] if day["expiring"]}
    assert status == 200 and due  # the seeded leads expire within 20 days
    figures = page.get_by_role("table", name="Days with leads expiring").locator("tbody tr")
    expect(figures).to_have_count(len(due))
    assert {row.split("\t")[0]: row.split("\t")[1] for row in figures.all_inner_texts()} == due
    expect(page.get_by_role("table", name="Leads on legal hold")).to_be_visible()
    page.screenshot(path=str(screenshots / "console-retention.png"), full_page=True)

    go(opened, "field-work")
    expect(page.get_by_role("img", name=re.compile("^Calls of agent demo-agent per day"))).to_be_visible()
    rows = page.get_by_role("table", name="Calls and shifts per agent per day").locator("tbody tr")
    expect(rows.filter(has_text="demo-agent").first).to_be_visible()

    go(opened, "audit")
    audit = page.get_by_role("search", name="Filter the audit log")
    audit.get_by_label("Action").fill("lead.update")
    audit.get_by_role("button", name="Show").click()
    records = page.get_by_role("table", name="Audit records, newest first").locator("tbody tr")
    expect(records.first).to_contain_text("lead.update")
    for text in records.all_inner_texts():
        assert "lead.update" in text


@pytest.mark.parametrize("opened", [DESKTOP, PHONE], ids=["desktop", "phone"], indirect=True)
def test_every_section_is_accessible_and_fits_the_screen(service, seeded, field_day, opened, screenshots):
    page = opened.page
    sign_in(opened, service)
    found = {}
    for section in SECTIONS:
        go(opened, section)
        if section == "leads" and page.viewport_size == PHONE:
            page.screenshot(path=str(screenshots / "console-leads-phone.png"), full_page=True)
        found[section] = {
            "axe": accessibility_violations(page),
            "page wider than the screen": page.evaluate("document.documentElement.scrollWidth > window.innerWidth"),
        }
    assert found == {section: {"axe": [], "page wider than the screen": False} for section in SECTIONS}
    assert_key_kept_in_the_tab_only(opened, service)


@pytest.mark.parametrize(("role", "said"), [("widget", "This is a widget key"), ("agent", "This is an agent key")])
def test_widget_and_agent_keys_are_refused(service, opened, role, said):
    sign_in(opened, service, role=role)
    box = opened.page.get_by_label("Admin API key")
    expect(box).to_have_accessible_description(re.compile(f"^{said}.*for admins only", re.I))
    expect(box).to_have_attribute("aria-invalid", "true")
    expect(opened.page.get_by_role("navigation", name="Sections")).to_be_hidden()
    assert opened.page.evaluate("() => sessionStorage.length") == 0
    assert accessibility_violations(opened.page) == []


def test_a_wrong_key_is_refused_and_signing_out_forgets_the_key(service, opened):
    page = opened.page
    page.goto(f"{service.base_url}/v1/pages/console")
    page.get_by_label("Admin API key").fill("lv.nobody.nokey.notasecret")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_label("Admin API key")).to_have_accessible_description(re.compile("not accepted"))
    sign_in(opened, service)
    expect(page.get_by_role("heading", level=1, name="Leads")).to_be_visible()
    page.reload()  # the key lives on in this tab
    expect(page.get_by_role("heading", level=1, name="Leads")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status").filter(has_text="Signed out")).to_be_visible()
    assert page.evaluate("() => sessionStorage.length") == 0
    page.reload()
    expect(page.get_by_label("Admin API key")).to_be_visible()


def test_a_key_in_the_fragment_leaves_the_address_bar_at_once(service, opened):
    page = opened.page
    page.goto(f"{service.base_url}/v1/pages/console#key={service.keys()['admin']}")
    expect(page.get_by_role("heading", level=1, name="Leads")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/v1/pages/console$"))
    assert service.keys()["admin"] not in page.evaluate("() => history.state + location.href")
    assert_key_kept_in_the_tab_only(opened, service)
