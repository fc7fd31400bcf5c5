"""What people read and see: plain words without a key or on refusal, a compact banner, the business's brand."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import accessibility_violations, admin_headers, tenant_of
from tests.browser.test_portal import code_for, file_request, new_lead

PHONE = {"width": 390, "height": 844}
# A 1x1 transparent PNG: the business's logo, served to the browser by the test in place of its host.
LOGO = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJ"
                        "RU5ErkJggg==")
SAME_LOOK = ["background-color", "color", "font-family", "font-size", "font-weight", "font-style", "padding-top",
             "padding-right", "padding-bottom", "padding-left", "border-top-width", "border-top-style",
             "border-top-color", "border-radius", "text-decoration-line", "text-transform", "opacity"]


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    """A fresh phone-sized browser profile (390 x 844 CSS pixels, touch)."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=3, is_mobile=True, has_touch=True)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert not errors, errors


def look(button: Any) -> dict[str, str]:
    return button.evaluate("(node, names) => Object.fromEntries(names.map(n => "
                           "[n, getComputedStyle(node).getPropertyValue(n)]))", SAME_LOOK)


def test_the_portal_opened_without_a_key_says_where_to_go(service, page, phone):
    for opened in (page, phone):
        opened.goto(f"{service.base_url}/v1/pages/privacy")
        note = opened.get_by_role("note")
        expect(note).to_contain_text("We cannot tell which business this page is for.")
        expect(note).to_contain_text("opened from the website of the business that holds your data")
        expect(note).to_contain_text("write to the business directly")
        expect(opened.get_by_text(re.compile("API key", re.I))).to_have_count(0)
        expect(opened.get_by_role("form")).to_have_count(0)  # nothing to fill in that could only fail
        expect(opened.get_by_role("heading", name="Raise a complaint")).to_be_hidden()
        assert accessibility_violations(opened) == []


def test_the_link_pages_read_well_on_a_phone(service, phone):
    phone.goto(f"{service.base_url}/v1/pages/preferences#token=forged.token")
    expect(phone.get_by_role("alert")).to_have_text(re.compile("not valid or has expired"))
    assert accessibility_violations(phone) == []
    phone.goto(f"{service.base_url}/v1/pages/confirm")
    expect(phone.get_by_role("status")).to_have_text(re.compile("^This link is not complete"))
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    assert accessibility_violations(phone) == []


def test_a_refusal_under_legal_hold_says_why(service, page):
    email = "kiran.held@example.com"
    lead_id = new_lead(service, email, "+91 98450 40011")
    held = service.operator("admin_legal_hold", {"tenant_id": tenant_of(service), "lead_id": lead_id, "on": True,
                                                 "reason": "case 2026-114"})
    assert held["on"] is True, held
    file_request(page, service, "erasure", email)
    page.get_by_label("The 6-digit code we sent you").fill(code_for(service, email))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("status")).to_have_text("We could not carry out your request.", timeout=30_000)
    status, shown = service.request("GET", f"/v1/leads/{lead_id}", headers=admin_headers(service))
    assert status == 200, shown  # held: not erased
    reason = page.get_by_text(re.compile("^Some of your data is under a legal hold"))
    expect(reason).to_be_visible()
    expect(reason).to_contain_text("We will erase it when the hold ends.")
    expect(page.get_by_text("Your request was rejected.")).to_have_count(0)
    expect(page.get_by_text("legal_hold")).to_have_count(0)
    assert accessibility_violations(page) == []


def test_the_cookie_banner_is_compact_on_a_phone_and_both_choices_look_alike(service, site, page, phone):
    for opened, viewport in ((phone, PHONE), (page, page.viewport_size)):
        opened.goto(site.origin + "/")
        banner = opened.get_by_role("region", name="Cookie choices")
        expect(banner).to_be_visible()
        reject = banner.get_by_role("button", name="Reject all")
        accept = banner.get_by_role("button", name="Accept all")
        assert reject.get_attribute("class") == accept.get_attribute("class")
        assert look(reject) == look(accept)
        reject_box, accept_box = reject.bounding_box(), accept.bounding_box()
        assert reject_box["width"] == pytest.approx(accept_box["width"], abs=0.5)  # sub-pixel layout aside
        assert reject_box["height"] == pytest.approx(accept_box["height"], abs=0.5)
        assert accessibility_violations(opened) == []
        box = banner.bounding_box()
        if viewport == PHONE:
            share = box["height"] * box["width"] / (PHONE["width"] * PHONE["height"])
            print(f"cookie banner on a 390x844 phone: {box['height']:.0f}px high, {share:.0%} of the screen")
            assert box["height"] <= 0.35 * PHONE["height"], box  # at most about a third of the screen
            assert share <= 0.35, share
            assert box["y"] + box["height"] <= PHONE["height"]  # wholly on screen

        # The categories are one tap away, and every one is still off until turned on.
        choose = banner.get_by_role("button", name="Choose")
        expect(choose).to_have_attribute("aria-expanded", "false")
        expect(banner.get_by_label(re.compile("^Performance:"))).to_be_hidden()
        choose.click()
        expect(choose).to_have_attribute("aria-expanded", "true")
        performance = banner.get_by_label(re.compile("^Performance:"))
        expect(performance).to_be_visible()
        expect(performance).not_to_be_checked()
        assert accessibility_violations(opened) == []
        performance.check()
        banner.get_by_role("button", name="Save choices").click()
        expect(banner).to_have_count(0)
        assert opened.evaluate("LeadVault.consent.allowed('performance')") is True
        assert opened.evaluate("LeadVault.consent.allowed('advertising')") is False


def test_the_business_brand_on_its_pages_and_the_widget(service, site, page, phone, screenshots):
    """Last in the module: it names the demo tenant "Sunrise Solar" for good."""
    tenant_id = tenant_of(service)
    answer = service.operator("admin_set_tenant_identity", {
        "tenant_id": tenant_id, "display_name": "Sunrise Solar", "accent_colour": "#ffd600",
        "logo_url": "https://brand.example/logo.png"})
    assert "error" not in answer, answer
    logo_requests: list[dict[str, str]] = []

    def logo(route: Any) -> None:
        logo_requests.append(route.request.headers)
        route.fulfill(status=200, content_type="image/png", body=LOGO)

    widget_key = service.keys()["widget"]
    for opened in (page, phone):
        opened.route("https://brand.example/**", logo)
        opened.goto(f"{service.base_url}/v1/pages/privacy#key={widget_key}")
        expect(opened.get_by_role("heading", level=1)).to_have_text("Sunrise Solar: your privacy rights")
        expect(opened).to_have_title("Sunrise Solar: your privacy rights")
        image = opened.get_by_role("img", name="Sunrise Solar")
        expect(image).to_be_visible()
        assert image.evaluate("node => node.naturalWidth") == 1  # loaded: the page's policy lets https images in
        send = opened.get_by_role("form", name="Privacy request").get_by_role("button", name="Send me a code")
        # A light accent: the control takes it, with black text (white on yellow would not be readable).
        assert look(send)["background-color"] == "rgb(255, 214, 0)" and look(send)["color"] == "rgb(0, 0, 0)"
        assert accessibility_violations(opened) == []
    assert logo_requests and all("referer" not in headers for headers in logo_requests)
    page.screenshot(path=str(screenshots / "privacy-portal-branded.png"), full_page=True)

    page.goto(site.origin + "/")
    banner = page.get_by_role("region", name="Cookie choices")
    expect(banner).to_contain_text("Sunrise Solar uses only essential and security storage")
    for name in ("Reject all", "Accept all"):
        assert look(banner.get_by_role("button", name=name))["background-color"] == "rgb(255, 214, 0)"
    banner.get_by_role("button", name="Reject all").click()
    form = page.get_by_role("form", name="Contact form")
    expect(form.get_by_role("group", name="How may Sunrise Solar contact you?")).to_be_visible()
    assert accessibility_violations(page) == []

    # A dark accent: white text on it; links and outlines on white take it too.
    service.operator("admin_set_tenant_identity", {"tenant_id": tenant_id, "accent_colour": "#0f766e"})
    page.reload()
    send = page.get_by_role("form", name="Contact form").get_by_role("button", name="Send")
    expect(send).to_be_visible()
    assert look(send)["background-color"] == "rgb(15, 118, 110)" and look(send)["color"] == "rgb(255, 255, 255)"
    assert look(page.get_by_role("link", name="privacy policy"))["color"] == "rgb(15, 118, 110)"
    assert accessibility_violations(page) == []
