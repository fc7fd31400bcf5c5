"""The widget on a tenant's site, in a real browser: lead form errors and submission, cookie choices."""

from __future__ import annotations

import json
import re

from playwright.sync_api import expect

from tests.browser.conftest import accessibility_violations, admin_headers, tenant_of
from tests.support import outbox


def test_a_lead_goes_through_the_widget_with_errors_shown_by_their_fields(service, site, page, screenshots):
    tenant_id = tenant_of(service)
    service.operator("admin_define_fields", {"tenant_id": tenant_id, "fields": [
        {"name": "roof_size_m2", "type": "number", "category": "commercial"},
        {"name": "notes", "type": "string", "category": "other"},
        {"name": "callback_ok", "type": "boolean", "category": "preference", "label": "May we call you back?"}]})
    cors_answers = []
    page.on("response", lambda r: cors_answers.append(r.headers.get("access-control-allow-origin"))
            if r.url.endswith("/v1/leads") and r.request.method == "POST" else None)
    page.goto(site.origin + "/")
    page.get_by_role("button", name="Reject all").click()

    form = page.get_by_role("form", name="Contact form")
    form.get_by_label("Name").fill("Meera Iyer")
    phone = form.get_by_label("Phone")
    phone.fill("12")
    form.get_by_label("Roof size m2").fill("42")  # no label given: the name, in words
    expect(form.get_by_text("Callback ok")).to_have_count(0)  # a label given: shown instead of the name
    notes = form.get_by_label("Notes")
    notes.fill("x" * 600)  # longer than a declared text field takes
    form.get_by_role("button", name="Send").click()
    expect(notes).to_have_attribute("aria-invalid", "true")  # a custom field's error sits by that field
    expect(notes).to_be_focused()
    notes.fill("South-facing roof")
    form.get_by_role("button", name="Send").click()
    expect(notes).not_to_have_attribute("aria-invalid", "true")
    expect(phone).to_have_attribute("aria-invalid", "true")
    expect(phone).to_have_accessible_description(re.compile("not a valid", re.I))
    expect(phone).to_be_focused()
    page.screenshot(path=str(screenshots / "widget-field-error.png"), full_page=True)

    phone.fill("+91 98450 12345")
    form.get_by_label("E-mail", exact=True).fill("meera.iyer@example.com")
    form.get_by_label("May we call you back?").check()
    form.get_by_role("button", name="Send").click()
    consent = form.get_by_role("group", name="How may Demo Co contact you?")  # the business, by its name
    expect(consent).to_have_accessible_description(
        "Please tick “Contact me about this enquiry”: we need your consent before we may answer you.")
    expect(consent).not_to_contain_text("`")  # no API terms such as (purpose `contact`)
    for box in ("Contact me about this enquiry", "Send me offers by e-mail", "Send me offers by text message",
                "Call me with offers"):
        expect(form.get_by_label(box)).not_to_be_checked()  # never pre-ticked
    expect(form.get_by_role("link", name="privacy policy")).to_have_attribute("href", "https://example.com/privacy")

    form.get_by_label("Contact me about this enquiry").check()
    form.get_by_label("Send me offers by e-mail").check()
    page.screenshot(path=str(screenshots / "widget-lead-form.png"), full_page=True)
    form.get_by_role("button", name="Send").click()
    thanks = form.get_by_role("status")
    expect(thanks).to_have_text(re.compile(
        "^Thank you, we received your details. We sent you a link to confirm that you want offers; nothing is sent "
        "until you confirm."))
    expect(thanks).to_be_focused()  # not left on the page body
    expect(thanks).to_be_in_viewport()
    assert thanks.evaluate("node => getComputedStyle(node).borderLeftWidth") == "8px"  # a box, not a small line
    assert accessibility_violations(page) == []

    assert site.origin in cors_answers  # real cross-origin calls, answered for this origin only
    status, listed = service.request("GET", "/v1/leads", headers=admin_headers(service))
    assert status == 200 and len(listed["items"]) == 1
    lead = listed["items"][0]
    status, full = service.request("GET", f"/v1/leads/{lead['lead_id']}", headers=admin_headers(service))
    assert full["phone"] == "+919845012345"
    assert full["fields"] == {"roof_size_m2": 42, "notes": "South-facing roof", "callback_ok": True}
    assert full["consents"].get("contact") is True
    assert full["consents"].get("marketing_email") is not True  # held until the person confirms
    assert "marketing_sms" not in full["consents"]

    link = outbox.wait_for(outbox.confirmation_link, "meera.iyer@example.com", "+919845012345",
                           outbox=service.data_dir / "outbox")
    page.goto(link)
    expect(page.get_by_role("status")).to_have_text(re.compile("^Please confirm with the button"))
    status, still = service.request("GET", f"/v1/leads/{lead['lead_id']}", headers=admin_headers(service))
    assert still["consents"].get("marketing_email") is not True  # opening the link (a mail scanner) is not a yes
    page.get_by_role("button", name="Yes, confirm").click()
    result = page.get_by_role("status")
    expect(result).to_have_text("Thank you: you will now receive offers by e-mail.")
    expect(result).to_be_focused()
    expect(page).to_have_url(re.compile(r"/v1/pages/confirm$"))  # the token is out of the address bar
    assert accessibility_violations(page) == []
    status, full = service.request("GET", f"/v1/leads/{lead['lead_id']}", headers=admin_headers(service))
    assert full["consents"].get("contact") is True and full["consents"].get("marketing_email") is True
    assert "marketing_sms" not in full["consents"]

    page.goto("about:blank")  # a new link: a fragment change alone would not load the page again
    page.goto(link)  # a confirmation link works once
    page.get_by_role("button", name="Yes, confirm").click()
    expect(page.get_by_role("status")).to_have_text(re.compile("^This link is no longer valid"))


def test_refusing_cookies_by_keyboard_tracks_nothing_and_is_remembered(service, site, page, browser, screenshots):
    asked_before = len(site.requested)
    page.goto(site.origin + "/")
    banner = page.get_by_role("region", name="Cookie choices")
    expect(banner).to_be_visible()
    for category in ("Performance", "Functional", "Advertising"):
        expect(banner.get_by_label(re.compile(f"^{category}:"))).not_to_be_checked()
    for category in ("Essential", "Security"):
        expect(banner.get_by_label(re.compile(f"^{category} \\(always on\\)"))).to_be_disabled()
    page.screenshot(path=str(screenshots / "cookie-banner.png"))

    for _ in range(15):  # keyboard only: tab to "Reject all" and press Enter
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Reject all":
            break
    with page.expect_response(lambda r: r.url.endswith("/v1/consents")) as recorded:
        page.keyboard.press("Enter")
    assert recorded.value.status == 201
    expect(banner).to_be_hidden()

    storage = page.evaluate("JSON.stringify(Object.assign({}, localStorage))")
    stored = {name: json.loads(value) for name, value in json.loads(storage).items()}
    assert list(stored) == [f"leadvault.consent.{tenant_of(service)}"]
    choice = next(iter(stored.values()))
    assert choice["grants"] == {"performance": False, "functional": False, "advertising": False}
    assert page.evaluate("document.cookie") == "" and page.context.cookies() == []
    assert page.evaluate("LeadVault.consent.allowed('performance')") is False
    assert page.evaluate("window.analyticsLoaded === undefined")

    page.reload()
    page.get_by_role("form", name="Contact form").wait_for()
    expect(page.get_by_role("region", name="Cookie choices")).to_have_count(0)  # remembered
    assert not any(path.startswith("/analytics.js") for path in site.requested[asked_before:])

    status, ledger = service.request("POST", "/v1/consents/lookup", {"visitor_id": choice["visitor_id"]},
                                     headers=admin_headers(service))
    assert status == 200
    assert ledger["current"] == {"performance": False, "functional": False, "advertising": False}

    # The control: the same page does load analytics once a visitor allows it.
    other = browser.new_context()
    try:
        visitor = other.new_page()
        visitor.goto(site.origin + "/")
        with visitor.expect_request(lambda r: r.url.endswith("/analytics.js")):
            visitor.get_by_role("button", name="Accept all").click()
        assert visitor.evaluate("LeadVault.consent.allowed('performance')") is True
    finally:
        other.close()
